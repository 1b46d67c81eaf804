"""The local Vantiq server (``polynb up vantiq``) as a connector and a REST client see it."""
from __future__ import annotations

import json
import threading

import httpx
import pytest
from vantiq_harness import Rest, ScriptedConnector, local_server

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    documents = tmp_path_factory.mktemp("docs")
    (documents / "served.py").write_text("a = 1\n")
    with local_server({"VANTIQ_DOCUMENTS": str(documents), "VANTIQ_QUERY_TIMEOUT": "1"}) as info:
        yield info


def in_background(call, *args):
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=call(*args)))
    thread.start()
    return thread, result


def test_a_wrong_token_gets_the_401_list_shape_the_sdk_expects(server):
    connector = ScriptedConnector(server, "s", token="wrong")
    assert connector.validation == {"status": 401, "body": [{"code": "io.vantiq.authentication.failed",
                                                             "message": "Authentication failed", "params": []}]}


def test_any_source_name_is_accepted_and_configured_with_the_default_config(server):
    connector = ScriptedConnector(server, "anyName")
    assert connector.configuration == {"op": "configureExtension", "resourceName": "sources", "resourceId": "anyName",
                                       "object": {"config": {"pythonExecConfig": {"general": {
                                           "codeCacheSize": 128, "returnRuntimeInformation": False}}}}}
    connector.close()


def test_a_query_collects_partials_until_the_final_status(server, rest):
    connector = ScriptedConnector(server, "rows")
    thread, result = in_background(rest.query, "rows", {"code": "x"})
    query = connector.receive()
    assert (query["op"], query["object"], query["contentType"]) == ("query", {"code": "x"}, "application/json")
    connector.answer(query, 100, {"n": 1})
    connector.answer(query, 100, [{"n": 2}, {"n": 3}])
    connector.answer(query, 200, {"n": 4})
    thread.join(10)
    assert result["value"] == (200, [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}])
    connector.close()


def test_a_query_error_comes_back_in_vantiqs_rest_error_shape(server, rest):
    connector = ScriptedConnector(server, "errs")
    thread, result = in_background(rest.query, "errs", {})
    connector.answer(connector.receive(), 400, {"messageCode": "c.d", "messageTemplate": "no {0}", "parameters": ["x"]})
    thread.join(10)
    assert result["value"] == (400, [{"code": "c.d", "message": "no {0}", "params": ["x"]}])
    connector.close()


def test_a_query_goes_to_every_connector_of_the_source_and_merges_their_rows(server, rest):
    first, second = ScriptedConnector(server, "fan"), ScriptedConnector(server, "fan")
    thread, result = in_background(rest.query, "fan", {"code": "x"})
    first.answer(first.receive(), 200, {"from": 1})
    second.answer(second.receive(), 204)
    thread.join(10)
    assert result["value"] == (200, [{"from": 1}])
    first.close(), second.close()


def test_a_query_nobody_answers_times_out_with_an_error(server, rest):
    connector = ScriptedConnector(server, "silent")
    status, body = rest.query("silent", {"code": "x"})
    assert (status, body[0]["code"]) == (400, "io.polynb.vantiq.standin.query.timeout")
    connector.close()


def test_a_query_to_a_source_without_connector_is_refused(rest):
    assert rest.query("nobody", {"code": "x"}) == (400, [{
        "code": "io.polynb.vantiq.standin.noconnector", "message": "No connector is connected for source {0}.",
        "params": ["nobody"]}])


def test_notifications_are_kept_per_source_and_acknowledged(server, rest):
    connector = ScriptedConnector(server, "notes")
    connector.socket.send(json.dumps({"op": "notification", "resourceName": "sources", "resourceId": "notes",
                                      "object": {"n": 1}}))
    assert connector.receive() == {"status": 200}
    assert rest.client.get("/api/v1/resources/sources/notes/notifications").json() == [{"n": 1}]
    connector.close()


def test_a_new_source_config_asks_connectors_to_reconnect_and_is_sent_on_the_next_handshake(server, rest):
    connector = ScriptedConnector(server, "reconf")
    config = {"pythonExecConfig": {"general": {"codeCacheSize": 2}}}
    assert rest.configure("reconf", config) == {"reconnected": 1}
    assert connector.receive() == {"op": "reconnectRequired", "resourceName": "sources", "resourceId": "reconf"}
    connector.close()
    assert ScriptedConnector(server, "reconf").configuration["object"] == {"config": config}


def test_documents_are_served_from_the_folder_and_uploads(server, rest):
    meta = rest.client.get("/api/v1/resources/documents/served.py").json()
    assert (meta["contentSize"], meta["content"]) == (6, "/docs/served.py")
    assert rest.client.get(meta["content"]).text == "a = 1\n"
    rest.client.post("/api/v1/resources/documents", json={"name": "new.py", "content": "b = 2\n"})
    updated = rest.client.get("/api/v1/resources/documents/new.py").json()
    assert updated["contentSize"] == 6 and updated["ars_modifiedAt"]
    assert rest.client.get("/api/v1/resources/documents/none.py").status_code == 404


def test_rest_calls_without_the_token_are_refused(server):
    response = httpx.post(f"{server['url']}/api/v1/resources/sources/x/query", json={})
    assert (response.status_code, response.json()[0]["code"]) == (401, "io.vantiq.authentication.failed")


def test_rows_stream_as_ndjson_when_asked(server, rest):
    connector = ScriptedConnector(server, "stream")
    lines = []

    def read():
        with rest.client.stream("POST", "/api/v1/resources/sources/stream/query", json={"code": "x"},
                                headers={"Accept": "application/x-ndjson"}) as response:
            for line in response.iter_lines():
                lines.append(json.loads(line))
                if len(lines) == 1:
                    arrived.set()

    arrived = threading.Event()
    thread = threading.Thread(target=read)
    thread.start()
    query = connector.receive()
    connector.answer(query, 100, {"n": 1})
    assert arrived.wait(10)  # the first row is out before the query ends
    connector.answer(query, 200, {"n": 2})
    thread.join(10)
    assert lines == [{"row": {"n": 1}}, {"row": {"n": 2}}, {"done": True}]
    connector.close()


def test_a_query_may_set_its_own_timeout(server, rest):
    connector = ScriptedConnector(server, "patient")
    status, body = rest.query("patient", {"code": "x"}, timeout=0.2)
    assert (status, body[0]["params"]) == (400, ["patient", 0.2])
    connector.close()


def test_polynb_up_documents_serves_the_files_of_a_folder(tmp_path):
    (tmp_path / "from_flag.py").write_text("flagged = True\n")
    with local_server(options=("--documents", str(tmp_path))) as info:
        rest = Rest(info["url"], info["token"])
        assert rest.client.get("/docs/from_flag.py").text == "flagged = True\n"
