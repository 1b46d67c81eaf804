"""polynb's connector on a real local Vantiq server: queries, the journal, cells, faults and bad input."""
from __future__ import annotations

import json
import re
import socket
import threading

import pytest
from support import free_port, wait_until
from vantiq_harness import Rest, local_server, polynb_connector

from polynb.journal import CANCELLED, FAILED, RUNNING, SUCCEEDED
from polynb.payload import Payload


@pytest.fixture
def source(request) -> str:
    """A source of the test's own, so tests sharing the server never see each other's frames."""
    return "src_" + request.node.name.replace("test_", "")[:40]


@pytest.fixture
def notebook():
    return {}


@pytest.fixture
def service(server, source, tmp_path, notebook):
    with polynb_connector(tmp_path / ".polynb", server["url"], server["token"], source, notebook,
                          VANTIQ_REPLY_TIMEOUT="1") as running:
        yield running


def records(service, **filters):
    return service.journal.records(platform="vantiq", **filters)


def test_a_query_runs_against_the_notebook_state_and_is_journaled(service, rest, source, notebook):
    notebook["factor"] = 10
    status, rows = rest.query(source, {"code": "y = x * factor\n", "presetValues": {"x": 4}})
    assert (status, rows) == (200, [{"pythonCallResults": {"x": 4, "y": 40}}])
    assert "y" not in notebook  # query globals are the query's own
    [record] = records(service)
    assert (record.status, record.payload, record.input["presetValues"]) == (SUCCEEDED, "(code)", {"x": 4})
    assert record.output == {"pythonCallResults": {"x": 4, "y": 40}}
    assert record.meta["source"] == source


def test_a_slow_query_does_not_stall_the_others(service, rest, source, notebook):
    notebook["gate"] = threading.Event()
    slow = threading.Thread(target=rest.query, args=(source, {"code": "gate.wait(30)\nslow = True\n"}))
    slow.start()
    wait_until(lambda: any(r.status == RUNNING for r in records(service)), 10, "the slow query never started")
    assert rest.query(source, {"code": "fast = True\n"}) == (200, [{"pythonCallResults": {"fast": True}}])
    assert [r.status for r in records(service)][1] == RUNNING
    notebook["gate"].set()
    slow.join(30)
    assert {r.status for r in records(service)} == {SUCCEEDED}


def test_code_handling_its_return_that_hangs_gets_an_error_after_the_reply_timeout(service, rest, source):
    code = "import asyncio\nasyncio.get_event_loop().create_task(asyncio.sleep(3600))\n"
    status, body = rest.query(source, {"code": code, "codeHandlesReturn": True})
    assert status == 400
    assert body[0]["code"] == "io.polynb.vantiq.query.noreply" and body[0]["params"] == [1.0]
    assert records(service)[0].status == FAILED


def test_a_task_that_raises_before_replying_answers_with_its_exception(service, rest, source):
    code = ("import asyncio\nasync def main():\n    raise KeyError('lost')\n"
            "asyncio.get_event_loop().create_task(main())\n")
    status, body = rest.query(source, {"code": code, "codeHandlesReturn": True})
    assert (status, body[0]["code"], body[0]["params"][0]) == (400, "io.vantiq.pyexecsource.execution.exception",
                                                               "KeyError")
    assert "raise KeyError('lost')" not in body[0]["params"][1] and "in main" in body[0]["params"][1]


def test_payload_exceptions_are_failed_records_with_the_users_traceback(service, rest, source):
    status, body = rest.query(source, {"code": "def f():\n    return 1 / 0\nf()\n"})
    assert status == 400 and body[0]["code"] == "io.vantiq.pyexecsource.execution.exception"
    [record] = records(service)
    assert (record.status, record.error) == (FAILED, "ZeroDivisionError: division by zero")
    assert "in f" in record.traceback and "polynb/" not in record.traceback


def test_nan_results_and_circular_values(service, rest, source):
    status, rows = rest.query(source, {"code": "n = float('nan')\n"})
    assert status == 200 and rows[0]["pythonCallResults"]["n"] != rows[0]["pythonCallResults"]["n"]
    status, body = rest.query(source, {"code": "l = []\nl.append(l)\n"})
    assert (status, body[0]["code"]) == (400, "io.vantiq.pyexecsource.runpython.exception")
    assert [r.status for r in records(service)] == [FAILED, SUCCEEDED]


def test_malformed_frames_and_unknown_ops_are_journaled_and_the_connection_keeps_serving(service, rest, source):
    for frame in ("not json", "[1, 2]", '{"op": "frobnicate"}', '{"neither": "op nor status"}'):
        rest.control(source, "send", frame)
    wait_until(lambda: len(records(service, payload="(frame)", status=FAILED)) == 4, 10, "bad frames were not journaled")
    errors = sorted(r.error for r in records(service, payload="(frame)"))
    assert any("frame is not JSON" in e for e in errors) and any("unknown op 'frobnicate'" in e for e in errors)
    assert rest.query(source, {"code": "alive = 1\n"}) == (200, [{"pythonCallResults": {"alive": 1}}])


def test_a_query_without_a_reply_address_is_answered_unaddressed_and_journaled(service, rest, source):
    rest.control(source, "send", json.dumps({"op": "query", "resourceName": "sources", "resourceId": source,
                                             "object": {"code": "a = 1\n"}}))
    wait_until(lambda: records(service) and records(service)[0].status == FAILED, 10, "no failed record")
    def answers() -> list[dict]:  # the source's unaddressed answers, earlier tests' bad frames' among them
        unrouted = [json.loads(text) for text in rest.client.get(f"/polynb/sources/{source}/unrouted").json()]
        return [a for a in unrouted if a.get("body", {}).get("messageCode") == "io.polynb.vantiq.query.noreplyaddress"]

    [answer] = wait_until(answers, 10, "the query was not answered unaddressed")
    assert {"status": 400, "headers": {}} == {k: v for k, v in answer.items() if k != "body"}


def test_a_ten_megabyte_preset_goes_through(service, rest, source):
    blob = "x" * (10 * 1024 * 1024)
    status, rows = rest.query(source, {"code": "n = len(blob)\n", "presetValues": {"blob": blob}, "limitReturnTo": "n"})
    assert (status, rows) == (200, [{"pythonCallResults": {"n": len(blob)}}])


def test_publish_is_ignored_and_the_next_query_still_answers(service, rest, source):
    rest.client.post(f"/api/v1/resources/sources/{source}/publish", json={"hello": "world"})
    assert rest.query(source, {"code": "a = 2\n"}) == (200, [{"pythonCallResults": {"a": 2}}])
    assert [r.payload for r in records(service)] == ["(code)"]


def test_a_dropped_connection_reconnects_and_serves_again(service, rest, source):
    rest.control(source, "close")
    rest.wait_for_sessions(source, 2)
    wait_until(lambda: service.statuses()["vantiq"].state == "ready", 10, "the binding never became ready again")
    assert rest.query(source, {"code": "back = True\n"}) == (200, [{"pythonCallResults": {"back": True}}])


def test_a_rejected_token_fails_start_with_the_servers_message(server, tmp_path):
    with pytest.raises(ConnectionError, match="Connect call failed: 401 :: io.vantiq.authentication.failed"):
        with polynb_connector(tmp_path, server["url"], "wrong-token", "rejected"):
            pass


def test_several_sources_get_one_connection_each(server, rest, tmp_path):
    with polynb_connector(tmp_path, server["url"], server["token"], "multi_a, multi_b"):
        for name in ("multi_a", "multi_b"):
            status, rows = rest.query(name, {"code": "s = connector_context['source_name']\n"})
            assert (status, rows[0]["pythonCallResults"]["s"]) == (200, name)
            assert rest.connectors(name) == 1


def test_a_registered_cell_answers_name_only_queries_on_its_source(service, rest, source, notebook):
    notebook["scale"] = 100
    service.register(Payload("vantiq", "sq", "r = v * v * scale\n", options={"source": source}))
    assert rest.query(source, {"name": "sq", "presetValues": {"v": 3}}) == (
        200, [{"pythonCallResults": {"v": 3, "r": 900}}])
    service.register(Payload("vantiq", "sq", "r = v + scale\n", options={"source": source, "limitReturnTo": "r"}))
    assert rest.query(source, {"name": "sq", "presetValues": {"v": 3}}) == (200, [{"pythonCallResults": {"r": 103}}])
    assert [r.version for r in records(service, payload="sq")] == [2, 1]


def test_a_cell_registered_for_another_source_is_not_found_here(service, rest, source):
    service.register(Payload("vantiq", "elsewhere", "r = 1\n", options={"source": "other_" + source}))
    status, body = rest.query(source, {"name": "elsewhere"})
    assert (status, body[0]["code"], body[0]["params"]) == (400, "io.vantiq.pyexecsource.runpython.nocache", ["elsewhere"])
    assert rest.query("other_" + source, {"name": "elsewhere"}) == (200, [{"pythonCallResults": {"r": 1}}])


def test_a_cell_that_handles_its_return_streams_partials(service, rest, source):
    code = ("import asyncio\nasync def main():\n"
            "    for i in range(n):\n"
            "        await connector_connection.send_query_response(connector_context, 100, {'i': i})\n"
            "    await connector_connection.send_query_response(connector_context, 204)\n"
            "asyncio.get_event_loop().create_task(main())\n")
    service.register(Payload("vantiq", "stream", code, options={"source": source, "codeHandlesReturn": True}))
    assert rest.query(source, {"name": "stream", "presetValues": {"n": 3}}) == (200, [{"i": 0}, {"i": 1}, {"i": 2}])


def test_a_cell_that_raises_answers_the_connectors_error(service, rest, source):
    service.register(Payload("vantiq", "broken", "raise RuntimeError('cell says no')\n", options={"source": source}))
    status, body = rest.query(source, {"name": "broken"})
    assert (status, body[0]["params"][0]) == (400, "RuntimeError")
    assert records(service, payload="broken")[0].error == "RuntimeError: cell says no"


def test_a_missing_server_is_retried_with_growing_pauses_and_joined_when_it_comes(server, tmp_path):
    port = free_port()
    with polynb_connector(tmp_path, f"http://127.0.0.1:{port}", "late-token", "late", VANTIQ_CONNECT_WAIT="0.1") as svc:
        pauses: list[float] = []

        def third_pause() -> bool:
            match = re.search(r"retry in ([0-9.]+) s", svc.statuses()["vantiq"].detail or "")
            if match and (not pauses or float(match[1]) != pauses[-1]):
                pauses.append(float(match[1]))
            return len(pauses) >= 3

        wait_until(third_pause, 30, "no third retry")
        assert 0.4 <= pauses[0] <= 0.5 and pauses[0] < pauses[1] < pauses[2] <= 2.0
        with local_server({"VANTIQ_LOCAL_PORT": str(port), "CONNECTOR_AUTH_TOKEN": "late-token"}) as late:
            wait_until(lambda: svc.statuses()["vantiq"].state == "ready", 30, "never joined the late server")
            assert Rest(late["url"], "late-token").query("late", {"code": "on = 1\n"}) == (
                200, [{"pythonCallResults": {"on": 1}}])


def test_fail_on_connection_error_makes_a_missing_server_an_error_at_start(tmp_path):
    with pytest.raises(ConnectionError, match="first connection failed"):
        with polynb_connector(tmp_path, f"http://127.0.0.1:{free_port()}", "t", "strict",
                              VANTIQ_FAIL_ON_CONNECTION_ERROR="false"):
            pass


def test_test_requests_client_close_ends_the_source_for_good(service, rest, source):
    rest.control(source, "testRequestsClientClose")
    wait_until(lambda: service.statuses()["vantiq"].state == "stopped", 10, "the source did not stop")
    assert "testRequestsClientClose" in service.statuses()["vantiq"].detail
    assert rest.sessions(source) == 1


def test_an_incomplete_document_is_refused_with_the_connectors_error(service, rest, source):
    rest.client.post("/api/v1/resources/documents", json={"name": "half.py", "content": "a = 1\n", "isIncomplete": True})
    assert rest.query(source, {"script": "half.py"}) == (400, [{
        "code": "io.vantiq.pyexecsource.docincomplete", "message": "Document {0} is incomplete and cannot be used.",
        "params": ["half.py"]}])


def test_under_kubernetes_the_health_probe_port_accepts_connections(server, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    port = free_port()
    with polynb_connector(tmp_path, server["url"], server["token"], "probed", VANTIQ_TCP_PROBE_PORT=str(port)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
            assert probe.recv(1) == b""  # accepted, then closed by the probe


def test_a_cancelled_query_answers_the_connectors_error_and_is_a_cancelled_record(service, rest, source):
    answer = {}
    query = threading.Thread(target=lambda: answer.update(reply=rest.query(source, {"code": "while True:\n    pass\n"})))
    query.start()
    record = wait_until(lambda: service.journal.last(platform="vantiq", status=RUNNING), 30, "the query running")
    service.cancel(record.id, "operator stop")
    query.join(60)
    status, body = answer["reply"]
    assert (status, body[0]["params"][0]) == (400, "ExecutionCancelled")
    assert service.journal.get(record.id).status == CANCELLED
