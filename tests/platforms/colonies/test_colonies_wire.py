"""The wire module alone: the fact sheet's envelope vectors, reply and error shapes, Go-like values, type limits."""
from __future__ import annotations

import base64
import json

import pytest

from polynb.platforms.colonies import crypto, wire

EXECUTOR = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"


@pytest.mark.parametrize("message, payload, signature", [
    ({"msgtype": "assignprocessmsg", "timeout": 10, "colonyname": "dev"},
     "eyJtc2d0eXBlIjogImFzc2lnbnByb2Nlc3Ntc2ciLCAidGltZW91dCI6IDEwLCAiY29sb255bmFtZSI6ICJkZXYifQ==",
     "7c844a85504dc3c3f29b0de240aa6fe0c68a3e949cf611b4a2309e3a3fc7cb4743388ac8ec17967b1b678ae1f1e2be76e04f3e00b2682bdfd35ede3d4f45d1d000"),
    ({"msgtype": "getprocessmsg", "processid": "x"},
     "eyJtc2d0eXBlIjogImdldHByb2Nlc3Ntc2ciLCAicHJvY2Vzc2lkIjogIngifQ==",
     "542113a9f02dc739624016141726f8e5c1d21514213994ba212dd84cffdb81b85cd7e51792213998f450a1dba85b636bb7bb23bdc27fdd6792af792a882fd2ca01"),
])
def test_request_envelope_matches_the_pycolonies_vector(message, payload, signature):
    assert wire.encode_request(message, EXECUTOR) == {"payloadtype": message["msgtype"], "payload": payload,
                                                      "signature": signature}


def test_stand_in_reads_back_signer_and_message_of_an_envelope():
    envelope = wire.parse_envelope(json.dumps(wire.encode_request({"msgtype": "getprocessmsg", "processid": "x"},
                                                                  EXECUTOR)))
    assert wire.signer_of(envelope) == crypto.identity(EXECUTOR)
    assert wire.open_payload(envelope) == {"msgtype": "getprocessmsg", "processid": "x"}


def test_all_zero_signature_is_forbidden_with_the_go_message():
    envelope = {"payloadtype": "getprocessmsg", "payload": "e30=", "signature": "00" * 65}
    with pytest.raises(wire.Forbidden, match="Invalid signature") as caught:
        wire.signer_of(envelope)
    assert caught.value.status == 403


def test_msgtype_that_differs_from_payloadtype_is_a_bad_request():
    envelope = wire.encode_request({"msgtype": "getprocessmsg", "processid": "x"}, EXECUTOR)
    envelope["payloadtype"] = "closesuccessfulmsg"
    with pytest.raises(wire.BadRequest, match="does not match"):
        wire.open_payload(envelope)


@pytest.mark.parametrize("payload", ["not base64!", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b"{").decode()])
def test_payload_that_is_not_a_base64_json_object_is_a_bad_request(payload):
    with pytest.raises(wire.BadRequest):
        wire.open_payload({"payloadtype": "getprocessmsg", "payload": payload, "signature": ""})


@pytest.mark.parametrize("body", [b"", b"[]", b"{\"payloadtype\": 3}", b"\xff\xfe"])
def test_malformed_envelope_is_a_bad_request(body):
    with pytest.raises(wire.BadRequest):
        wire.parse_envelope(body)


def test_reply_round_trip_and_empty_result_is_e30():
    body = wire.encode_reply("approveexecutormsg", {})
    assert json.loads(body) == {"payloadtype": "approveexecutormsg", "payload": "e30=", "error": False}
    assert wire.decode_reply(body) == ("approveexecutormsg", {})


@pytest.mark.parametrize("status, message, kind", [
    (404, wire.NO_PROCESS, wire.NoProcessAvailable), (404, "Failed to get process, process not found", wire.NotFound),
    (403, "Invalid signature", wire.Forbidden), (400, "bad", wire.BadRequest), (500, "nil", wire.ColoniesError),
])
def test_error_replies_become_typed_exceptions_with_the_servers_message(status, message, kind):
    body = wire.encode_error(wire.error_for(status, message))
    assert json.loads(base64.b64decode(json.loads(body)["payload"])) == {"status": status, "message": message}
    with pytest.raises(kind) as caught:
        wire.decode_reply(body)
    assert type(caught.value) is kind and caught.value.message == message and caught.value.status == status


def test_a_body_that_is_no_colonies_reply_is_a_connection_failure():
    with pytest.raises(wire.ConnectionFailed, match="not a Colonies reply"):
        wire.decode_reply(b"<html>502 Bad Gateway</html>")


@pytest.mark.parametrize("ns, text", [
    (0, "0001-01-01T00:00:00Z"), (1_700_000_000_000_000_000, "2023-11-14T22:13:20Z"),
    (1_700_000_000_123_456_789, "2023-11-14T22:13:20.123456789Z"), (1_700_000_000_500_000_000, "2023-11-14T22:13:20.5Z"),
])
def test_times_are_rfc3339_like_go(ns, text):
    assert wire.go_time(ns) == text


def test_function_spec_always_carries_explicit_limits():
    spec = wire.function_spec("echo", colonyname="dev", executortype="polynb", args=["hello", 42])
    assert (spec["maxexectime"], spec["maxwaittime"], spec["maxretries"]) == (-1, -1, -1)
    assert spec["conditions"]["executortype"] == "polynb" and spec["conditions"]["dependencies"] == []
    assert spec["nodename"] == "echo" and spec["args"] == ["hello", 42]


@pytest.mark.parametrize("limit", ["maxexectime", "maxwaittime"])
def test_function_spec_refuses_a_zero_time_limit(limit):
    with pytest.raises(ValueError, match="overdue"):
        wire.function_spec("echo", colonyname="dev", executortype="t", **{limit: 0})


@pytest.mark.parametrize("value, out", [
    (None, []), ("hi", ["hi"]), (42, [42]), (1.5, [1.5]), (["a", 1, 2.5], ["a", 1, 2.5]), ((1, 2), [1, 2]),
    ({"a": 1}, ['{"a": 1}']), (True, ["true"]), ([[1, 2], None], ["[1, 2]", "null"]), (float("nan"), None),
])
def test_outputs_stay_within_pycolonies_types(value, out):
    if out is None:
        with pytest.raises(ValueError):
            wire.encode_output(value)
    else:
        assert wire.encode_output(value) == out


def test_unserialisable_output_raises():
    with pytest.raises(TypeError):
        wire.encode_output(object())


def test_arguments_stay_within_pycolonies_types():
    assert wire.encode_arguments([1, "a", 2.5, {"k": 1}], {"s": "x", "l": ["a"], "n": 3}) == (
        [1, "a", "2.5", '{"k": 1}'], {"s": "x", "l": ["a"], "n": "3"})


def test_function_arguments_are_spec_args_then_parent_outputs():
    process = {"spec": {"args": ["x"], "kwargs": {"k": "v"}}, "in": ["B", "C"]}
    assert wire.process_arguments(process) == (["x", "B", "C"], {"k": "v"})
