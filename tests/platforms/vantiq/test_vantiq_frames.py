"""Whatever the server sends over the websocket, polynb's connector answers with its error, journals it, and
keeps serving: random bytes, deep nesting, huge fields and wrong types, on the real local server."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import wait_until
from vantiq_harness import Rest, polynb_connector

from polynb.journal import FAILED

SOURCE = "frames"


@pytest.fixture(scope="module")
def service(server, tmp_path_factory):
    with polynb_connector(tmp_path_factory.mktemp("frames") / ".polynb", server["url"], server["token"],
                          SOURCE) as running:
        yield running


def errors_sent(rest: Rest) -> list[dict]:
    """The connector's error answers the server could route to no query (made-up or missing addresses)."""
    answers = [json.loads(text) for text in rest.client.get(f"/polynb/sources/{SOURCE}/unrouted").json()]
    return [answer for answer in answers if answer.get("status") == 400]


def send(rest: Rest, frame: str | bytes, binary: bool = False) -> None:
    params = {"binary": "1"} if binary else {}
    assert rest.client.post(f"/polynb/sources/{SOURCE}/send", content=frame, params=params).json() == {"sent": 1}


def deep(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + "1" + closing * depth


def query_frame(address: str, obj_text: str) -> str:
    return ('{"messageHeaders": {"REPLY_ADDR_HEADER": ' + json.dumps(address) + '}, "op": "query", '
            '"resourceName": "sources", "resourceId": "' + SOURCE + '", "object": ' + obj_text + "}")


def answered_and_alive(service, rest: Rest, frame: str | bytes, binary: bool = False) -> dict:
    """Send one frame; returns the connector's error answer once it came, after checking the next query works."""
    records_before, errors_before = len(service.journal.records(limit=None)), len(errors_sent(rest))
    send(rest, frame, binary)
    answers = wait_until(lambda: errors_sent(rest)[errors_before:], 30, "the connector's error answer")
    new = wait_until(lambda: [r for r in service.journal.records(limit=None)[:-records_before or None]
                              if r.status == FAILED], 30, "a failed record of the frame")
    assert len(answers) == 1 and len(new) == 1
    assert rest.query(SOURCE, {"code": "alive = 1\n"}) == (200, [{"pythonCallResults": {"alive": 1}}])
    assert len(service.journal.records(limit=None)) == records_before + 2  # nothing lost, nothing doubled
    return answers[0]


def test_a_query_nested_a_thousand_deep_gets_its_error_and_the_source_keeps_serving(service, rest):
    answer = answered_and_alive(service, rest, query_frame("deep-1", deep(1000)))
    assert answer["headers"] == {"X-Reply-Address": "deep-1"}
    assert answer["body"]["messageCode"] == "io.polynb.vantiq.frame.unusable"
    assert "too deep" in answer["body"]["parameters"][1]


def test_a_binary_frame_of_random_bytes_gets_an_unaddressed_error(service, rest):
    answer = answered_and_alive(service, rest, b"\xff\xfe\x00garbage", binary=True)
    assert answer["headers"] == {} and answer["body"]["messageCode"] == "io.polynb.vantiq.frame.unusable"


def test_a_status_that_is_no_number_is_refused(service, rest):
    answer = answered_and_alive(service, rest, '{"status": "fine"}')
    assert "is not a number" in answer["body"]["parameters"][1]


WRONG_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
                         st.lists(st.integers(), max_size=3))
FRAMES = st.one_of(
    st.binary(max_size=200).map(lambda data: (data, True)),
    st.text(max_size=200).filter(lambda text: not text.lstrip().startswith("{")).map(lambda text: (text, False)),
    st.builds(lambda depth, kind: (query_frame("deep", deep(depth, *kind)), False), st.integers(201, 3000),
              st.sampled_from([("[", "]"), ('{"a": ', "}")])),
    st.builds(lambda depth: (deep(depth), False), st.integers(201, 3000)),
    st.builds(lambda size: (query_frame("huge", json.dumps({"presetValues": "x" * size})), False),
              st.integers(100_000, 2_000_000)),
    st.builds(lambda size: (json.dumps({"op": "x" * size}), False), st.integers(1, 1_000_000)),
    st.builds(lambda value: (json.dumps({"op": value}), False),  # a string could name a real op (a reconnect)
              WRONG_VALUES.filter(lambda v: v is not None and not isinstance(v, str))),
    st.builds(lambda value: (json.dumps({"status": value}), False),
              WRONG_VALUES.filter(lambda v: not isinstance(v, int) or isinstance(v, bool))),
    st.builds(lambda value: (query_frame("typed", json.dumps(value)), False), WRONG_VALUES),
    st.builds(lambda value: (json.dumps({"op": "query", "messageHeaders": value, "object": {"code": "a = 1"}}), False),
              WRONG_VALUES),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(FRAMES)
def test_any_frame_is_answered_with_the_connectors_error_and_the_connection_keeps_serving(service, rest, drawn):
    frame, binary = drawn
    answer = answered_and_alive(service, rest, frame, binary)
    assert set(answer["body"]) == {"messageCode", "messageTemplate", "parameters"}
