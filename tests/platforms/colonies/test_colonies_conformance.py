"""Unmodified pycolonies 1.0.25 (own venv, subprocess) against polynb's local server, executor and submitter."""
from __future__ import annotations

import json
import os
import signal
import subprocess

import colonies_peer_scripts as scripts
import pytest
from colonies_harness import pycolonies_python, register, run_pycolonies, service_for, start_pycolonies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import read_line, stop

from polynb.platforms.colonies import crypto, wire
from polynb.platforms.colonies.submit import SubmissionFailed, submit_function


@pytest.fixture(scope="module")
def peer():
    return pycolonies_python()


def test_the_whole_fact_sheet_flow_as_owner_submitter_and_executor(server, peer):
    result = run_pycolonies(scripts.WHOLE_FLOW, server, SERVER_PRVKEY=server.info["server_prvkey"])
    assert result["colony_by_non_owner"].startswith("ColoniesConnectionError")
    assert result["colony_by_owner"] == "conf-extra"
    assert result["added_state"] == 0
    assert result["unapproved_assign"] == "ColoniesConnectionError: Access denied, not a member of Colony with name <dev>"
    assert result["function"] == "echo"
    assert result["assign_timeout"] == "ColoniesConnectionError: No process available for assignment"
    assert result["assigned_same"] is True
    assert result["failed_before"] is None
    assert result["closed"] == [2, ["hello", 42], ["hello", 42]]
    assert result["logs"] == ["log line 1\n"]
    assert result["successful_listed"] >= 1
    assert result["failed"] == [3, ["boom"]]
    assert result["waited"] == [2, ["waited"]]
    assert result["diamond_inputs"] == {"a": [], "b": ["A"], "c": ["A"], "d": ["B", "C"]}
    assert result["diamond_graph"] == wire.SUCCESS
    assert result["stale_close"].startswith("ColoniesConnectionError: Access denied")
    assert result["retries"] == 1
    assert result["exec_limit"] == [wire.EXEC_LIMIT]
    assert result["non_member"].startswith("ColoniesConnectionError: Access denied, not a member")
    assert result["bad_signature"] == [403, {"status": 403, "message": "Invalid signature"}]


def test_pycolonies_submits_and_polynb_executor_runs_like_a_pycolonies_executor(server, peer, tmp_path):
    """The same submission, served once by a pycolonies executor and once by polynb's: the same process."""
    reference = start_pycolonies(scripts.EXECUTOR_LOOP, server, PY_EXECUTOR_NAME="py-greeter",
                                 PY_EXECUTOR_TYPE="greet-py", PY_COUNT="1")
    try:
        assert "ready" in json.loads(read_line(reference.stdout, 120, "the pycolonies executor"))
        by_peer = run_pycolonies(scripts.SUBMIT_AND_WAIT, server, PY_SUBMITTER_NAME="py-sub-1", PY_FUNC="greet",
                                 PY_ARGS='["ada"]', PY_EXECUTOR_TYPE="greet-py")
        reference.wait(30)
    finally:
        stop(reference, sig=signal.SIGKILL)
    service = service_for(server, tmp_path / ".polynb")
    try:
        register(service, "greet", '''
            def greet(name):
                print("greeting", name)
                return "hello " + name
        ''', executortype="greet-nb")
        by_polynb = run_pycolonies(scripts.SUBMIT_AND_WAIT, server, PY_SUBMITTER_NAME="py-sub-2", PY_FUNC="greet",
                                   PY_ARGS='["ada"]', PY_EXECUTOR_TYPE="greet-nb")
    finally:
        service.stop(timeout=2)
    assert by_peer == {"state": 2, "out": ["hello ada"], "errors": [], "logs": ["greeting ada\n"]}
    assert by_polynb == by_peer


def test_a_pycolonies_diamond_runs_the_same_on_polynb_and_on_a_pycolonies_executor(server, peer, tmp_path):
    reference = start_pycolonies(scripts.EXECUTOR_LOOP, server, PY_EXECUTOR_NAME="py-concat",
                                 PY_EXECUTOR_TYPE="concat-py", PY_COUNT="4")
    try:
        assert "ready" in json.loads(read_line(reference.stdout, 120, "the pycolonies executor"))
        by_peer = run_pycolonies(scripts.DIAMOND_AND_WAIT, server, PY_SUBMITTER_NAME="py-wf-1", PY_EXECUTOR_TYPE="concat-py")
        reference.wait(30)
    finally:
        stop(reference, sig=signal.SIGKILL)
    service = service_for(server, tmp_path / ".polynb")
    try:
        register(service, "concat", "def concat(*items):\n    return list(items)\n", executortype="concat-nb")
        by_polynb = run_pycolonies(scripts.DIAMOND_AND_WAIT, server, PY_SUBMITTER_NAME="py-wf-2",
                                   PY_EXECUTOR_TYPE="concat-nb")
    finally:
        service.stop(timeout=2)
    assert by_peer["graph"] == wire.SUCCESS and by_peer["nodes"]["d"] == {
        "state": wire.SUCCESS, "in": ["b", "a", "c", "a"], "out": ["d", "b", "a", "c", "a"]}
    assert by_polynb == by_peer


def test_polynb_submits_and_a_pycolonies_executor_runs(server, peer, tmp_path):
    executor = start_pycolonies(scripts.EXECUTOR_LOOP, server, PY_EXECUTOR_NAME="py-runner",
                                PY_EXECUTOR_TYPE="py-runs", PY_COUNT="2")
    service = service_for(server, tmp_path / ".polynb")
    try:
        assert "ready" in json.loads(read_line(executor.stdout, 120, "the pycolonies executor"))
        colonies = service.call(service.binding("colonies"))

        async def go():
            greeted = await submit_function(colonies, "greet", ["grace"], executortype="py-runs", maxexectime=30)
            unknown = await submit_function(colonies, "nope", [], executortype="py-runs", maxexectime=30)
            output = await greeted.wait(30)
            try:
                await unknown.wait(30)
            except SubmissionFailed as exc:
                return output, exc.errors, greeted
            return output, None, greeted

        output, errors, greeted = service.call(go())
        service.call(greeted.refresh())
        assert output == ["hello grace"] and errors == ["unknown function nope"]
        assert [entry["message"] for entry in greeted.logs[greeted.processid]] == ["greeting grace\n"]
        assert json.loads(read_line(executor.stdout, 120, "the pycolonies executor")) == {"served": 2}
    finally:
        service.stop(timeout=2)
        stop(executor, sig=signal.SIGKILL)


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases=st.lists(st.tuples(st.integers(1, crypto.N - 1), st.text(max_size=80)), min_size=40, max_size=40))
def test_signatures_and_ids_are_byte_identical_to_pycolonies_and_recover_both_ways(cases):
    keyed = [(f"{scalar:064x}", message) for scalar, message in cases]
    done = subprocess.run([str(pycolonies_python()), "-c", scripts.SIGNATURES], input=json.dumps(keyed),
                          capture_output=True, text=True, timeout=120, cwd="/",
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)
    ours = [[crypto.identity(key), crypto.sign(message, key)] for key, message in keyed]
    assert ours == theirs
    assert all(crypto.recover(message, signature) == identity
               for (_, message), (identity, signature) in zip(keyed, theirs, strict=True))
