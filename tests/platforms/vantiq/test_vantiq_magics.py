"""The Vantiq magics in an IPython shell, on the local server the binding starts by itself."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from notebook_shell import run
from vantiq_harness import local_server

import polynb
from polynb.calls import CallTimeout
from polynb.journal import SUCCEEDED
from polynb.platforms.vantiq import api


def test_a_vantiq_exec_cell_is_registered_without_running_and_answers_name_queries(ip):
    run(ip, "%%vantiq_exec cube\nresult = side ** 3 + offset")  # `side` comes with each query
    run(ip, "offset = 1")
    assert "result" not in ip.user_ns
    rows = run(ip, '%vantiq_query polynb {"name": "cube", "presetValues": {"side": 2}}')
    assert rows == [{"pythonCallResults": {"side": 2, "result": 9}}]
    status = polynb.get_service().statuses()["vantiq"]
    assert status.state == "ready" and status.address.startswith("ws://127.0.0.1:")


def test_re_running_the_cell_replaces_the_code(ip):
    run(ip, "%%vantiq_exec twice --limit-return-to doubled\ndoubled = n * 2")
    run(ip, "%%vantiq_exec twice --limit-return-to doubled\ndoubled = n * 20")
    assert run(ip, '%vantiq_query polynb {"name": "twice", "presetValues": {"n": 2}}') == [
        {"pythonCallResults": {"doubled": 40}}]
    [record] = polynb.records(platform="vantiq", payload="twice")
    assert (record.status, record.version) == (SUCCEEDED, 2)


def test_the_cell_body_of_vantiq_query_is_the_code(ip):
    assert run(ip, "%%vantiq_query polynb\nanswer = 6 * 7") == [{"pythonCallResults": {"answer": 42}}]


def test_a_cell_with_a_syntax_error_is_refused_in_one_line(ip):
    with pytest.raises(UsageError, match="the cell 'bad' is not valid Python"):
        run(ip, "%%vantiq_exec bad\nx = = 1")


def test_an_error_answer_is_the_platforms_error_shown_in_one_line(ip):
    with pytest.raises(api.VantiqQueryError) as raised:
        run(ip, '%vantiq_query polynb {"name": "nothing"}')
    assert raised.value.body == {"messageCode": "io.vantiq.pyexecsource.runpython.nocache",
                                 "messageTemplate": "No cached code was found for name: {0}.", "parameters": ["nothing"]}
    assert raised.value._render_traceback_() == [
        "VantiqQueryError: io.vantiq.pyexecsource.runpython.nocache: No cached code was found for name: nothing."]


def test_a_query_without_a_final_answer_ends_in_call_timeout_by_default(ip, monkeypatch):
    monkeypatch.setenv("POLYNB_CALL_TIMEOUT", "1")
    never_ends = ("%%vantiq_query polynb {\"codeHandlesReturn\": true}\n"
                  "import asyncio\nasyncio.get_event_loop().create_task(asyncio.sleep(3))")
    with pytest.raises(CallTimeout) as raised:
        run(ip, never_ends)
    assert isinstance(raised.value, api.VantiqQueryError) and raised.value.timeout == 1
    assert str(raised.value).startswith("vantiq: no answer to the query to source polynb within 1 s; check that")
    assert raised.value.body["messageCode"] == "io.polynb.vantiq.standin.query.timeout"


def test_a_query_that_is_not_json_is_refused(ip):
    with pytest.raises(UsageError, match="the query is not JSON"):
        run(ip, "%vantiq_query polynb {name: 1}")


def test_polynb_replay_runs_a_recorded_query_of_a_cell_again_in_the_notebook(ip):
    run(ip, "%%vantiq_exec halve\nhalf = whole / 2")
    run(ip, '%vantiq_query polynb {"name": "halve", "presetValues": {"whole": 9}}')
    [record] = polynb.records(platform="vantiq", payload="halve")
    replayed = run(ip, f"%polynb replay {record.id}")
    assert replayed == {"pythonCallResults": {"whole": 9, "half": 4.5}}
    assert len(polynb.records(platform="vantiq", payload="halve")) == 2


def test_a_rejected_token_is_one_line_under_the_cell(ip, monkeypatch):
    with local_server({"CONNECTOR_AUTH_TOKEN": "the-servers-token"}) as other:
        polynb.shutdown(2)  # the next cell starts a service that reads the new settings
        monkeypatch.setenv("VANTIQ_TARGET_SERVER", other["url"])
        monkeypatch.setenv("CONNECTOR_AUTH_TOKEN", "not-the-token")
        try:
            with pytest.raises(UsageError, match="could not register 'locked' on vantiq: ConnectionError: .*"
                                                 "Connect call failed: 401 :: io.vantiq.authentication.failed"):
                run(ip, "%%vantiq_exec locked\nx = 1")
        finally:
            polynb.shutdown(2)
