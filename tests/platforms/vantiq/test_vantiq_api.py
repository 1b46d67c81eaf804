"""``polynb.platforms.vantiq.api`` from a notebook's point of view: rows, live partials, notifications, documents,
errors, and a server restart in the middle of a streamed query."""
from __future__ import annotations

import json
import threading

import pytest
from support import free_port, wait_until
from vantiq_harness import Rest, ScriptedConnector, local_server

import polynb
from polynb.journal import SUCCEEDED
from polynb.platforms.vantiq import api

STREAMER = (
    "import asyncio\n"
    "async def main():\n"
    "    await connector_connection.send_query_response(connector_context, 100, {'part': 1})\n"
    "    while not gate.is_set():\n"
    "        await asyncio.sleep(0.05)\n"
    "    await connector_connection.send_query_response(connector_context, 200, {'part': 2})\n"
    "    await connector_connection.send_notification({'streamed': True})\n"
    "asyncio.get_event_loop().create_task(main())\n"
)


@pytest.fixture
def token():
    return "api-test-token"


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def configured(monkeypatch, journal_dir, port, token):
    """The environment a notebook would have: a server to connect to, the token, one source."""
    monkeypatch.setenv("VANTIQ_TARGET_SERVER", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("CONNECTOR_AUTH_TOKEN", token)
    monkeypatch.setenv("VANTIQ_SOURCES", "apiSource")
    monkeypatch.setenv("VANTIQ_LOCAL_PORT", str(port))
    polynb._state["shell"] = None
    yield
    polynb.shutdown(2)


@pytest.fixture
def server(configured):
    with local_server() as info:
        yield info


def test_query_returns_rows_and_hands_partials_over_as_they_come(server):
    seen = []
    code = ("import asyncio\nasync def main():\n"
            "    for i in range(3):\n"
            "        await connector_connection.send_query_response(connector_context, 100, {'i': i})\n"
            "    await connector_connection.send_query_response(connector_context, 204)\n"
            "asyncio.get_event_loop().create_task(main())\n")
    rows = api.query("apiSource", code, codeHandlesReturn=True, on_row=seen.append)
    assert rows == seen == [{"i": 0}, {"i": 1}, {"i": 2}]


def test_query_errors_raise_with_the_rendered_vantiq_message(server):
    with pytest.raises(api.VantiqQueryError, match="nocache: No cached code was found for name: missing."):
        api.query("apiSource", name="missing")


def test_notifications_are_read_back_per_source(server):
    api.query("apiSource", "import asyncio\nasyncio.get_event_loop().create_task("
                           "connector_connection.send_notification({'hello': 1}))\n")
    wait_until(lambda: api.notifications("apiSource") == [{"hello": 1}], 10, "the notification never arrived")


def test_a_notebook_reads_its_own_connectors_notifications_and_all_on_request(server):
    """Another notebook's connector on the same source (scripted here) notifies too; each sees its own."""
    other = ScriptedConnector(server, "apiSource")
    other.socket.send(json.dumps({"op": "notification", "resourceName": "sources", "resourceId": "apiSource",
                                  "object": {"from": "other"}}))
    assert other.receive() == {"status": 200}
    api.query("apiSource", "import asyncio\nasyncio.get_event_loop().create_task("
                           "connector_connection.send_notification({'from': 'me'}))\n")
    wait_until(lambda: api.notifications("apiSource") == [{"from": "me"}], 10, "the notification never arrived")
    assert api.notifications("apiSource", all_connectors=True) == [{"from": "other"}, {"from": "me"}]
    other.close()


def test_a_notebooks_query_goes_to_its_own_connector_and_an_apps_to_every_connector(server):
    other = ScriptedConnector(server, "apiSource")
    assert api.query("apiSource", "mine = 1\n") == [{"pythonCallResults": {"mine": 1}}]
    rest = Rest(server["url"], server["token"])
    answer = {}
    app = threading.Thread(target=lambda: answer.update(rows=rest.query("apiSource", {"code": "theirs = 2\n"})))
    app.start()
    first = other.receive()  # the notebook's query never reached it: the app's is the first it sees
    assert first["object"] == {"code": "theirs = 2\n"}
    other.answer(first, 204)
    app.join(30)
    assert answer["rows"] == (200, [{"pythonCallResults": {"theirs": 2}}])
    other.close()


def test_an_uploaded_document_runs_as_a_script(server):
    api.upload_document("doubler.py", "doubled = base * 2\n")
    assert api.query("apiSource", script="doubler.py", presetValues={"base": 21}) == [
        {"pythonCallResults": {"base": 21, "doubled": 42}}]


@pytest.mark.slow
def test_a_server_restart_mid_stream_fails_the_query_clearly_and_the_service_keeps_serving(configured, token):
    gate, first, outcome = threading.Event(), threading.Event(), {}
    polynb.get_service().notebook_ns = {"gate": gate}

    def stream():
        try:
            api.query("apiSource", STREAMER, codeHandlesReturn=True, on_row=lambda row: first.set())
        except ConnectionError as exc:
            outcome["error"] = str(exc)

    with local_server() as info:
        reader = threading.Thread(target=stream)
        reader.start()
        assert first.wait(30), "the first partial never arrived"
    reader.join(30)
    assert "dropped after 1 rows" in outcome["error"]
    with local_server() as info:
        rest = Rest(info["url"], token)
        wait_until(lambda: rest.connectors("apiSource") == 1, 30, "the connector never came back")
        gate.set()
        journal = polynb.get_journal()
        wait_until(lambda: journal.records(platform="vantiq")[0].status == SUCCEEDED, 30, "the streamed query never closed")
        assert api.query("apiSource", "after = 'restart'\n") == [{"pythonCallResults": {"after": "restart"}}]
        assert [r.status for r in journal.records(platform="vantiq")] == [SUCCEEDED, SUCCEEDED]


def test_the_api_is_polynb_vantiq():
    assert polynb.vantiq.query is api.query and polynb.vantiq.notifications is api.notifications
