"""What a running Colonies function writes reaches the process's log while it runs; cancel and maxexectime end it
with Colonies' own failure."""
from __future__ import annotations

import colonies_peer_scripts as scripts
import pytest
from colonies_harness import register, run_pycolonies, service_for
from support import wait_until

from polynb.journal import CANCELLED, RUNNING, TIMED_OUT
from polynb.platforms.colonies.submit import SubmissionFailed, submit_function


@pytest.fixture
def service(server, tmp_path):
    running = service_for(server, tmp_path / ".polynb")
    yield running
    running.stop(timeout=2)


@pytest.mark.peers
def test_pycolonies_reads_the_log_lines_of_a_function_before_its_process_closes(server, service, tmp_path):
    register(service, "stream", '''
        import os, time
        def stream(gate):
            print("first line")
            while not os.path.exists(gate):
                time.sleep(0.05)
            print("second line")
            return "done"
    ''', executortype="live-logs")
    seen = run_pycolonies(scripts.WATCH_LOGS_THEN_RELEASE, server, PY_SUBMITTER_NAME="py-live", PY_FUNC="stream",
                          PY_EXECUTOR_TYPE="live-logs", PY_GATE=str(tmp_path / "gate"))
    assert seen["seen"] == {"logs": ["first line\n"], "state": 1}  # 1: RUNNING
    assert (seen["state"], seen["out"], seen["logs"]) == (2, ["done"], ["first line\n", "second line\n"])


def submit(service, funcname, executortype, **limits):
    binding = service.call(service.binding("colonies"))
    return service.call(submit_function(binding, funcname, [], None, executortype=executortype, **limits))


def outcome(service, submission, timeout=30):
    async def wait():
        try:
            return await submission.wait(timeout)
        except SubmissionFailed as failed:
            return failed
    return service.call(wait())


def test_a_cancelled_function_fails_its_process_with_cancelled(service):
    register(service, "spin", '''
        def spin():
            while True:
                pass
    ''', executortype="cancel-me")
    submission = submit(service, "spin", "cancel-me", maxexectime=-1)
    record = wait_until(lambda: service.journal.last(payload="spin", status=RUNNING), 30, "the function running")
    service.cancel(record.id, "no longer needed")
    failed = outcome(service, submission)
    assert isinstance(failed, SubmissionFailed)
    assert failed.errors == ["ExecutionCancelled: no longer needed"]
    assert service.journal.get(record.id).status == CANCELLED


def test_maxexectime_is_the_function_s_timeout_and_its_record_says_timed_out(service):
    register(service, "spin", '''
        def spin():
            while True:
                pass
    ''', executortype="too-slow")
    submission = submit(service, "spin", "too-slow", maxexectime=2, maxretries=0)
    outcome(service, submission)
    record = wait_until(lambda: service.journal.last(payload="spin", status=TIMED_OUT), 30, "the record timed out")
    assert record.error == "ExecutionTimedOut: timed out after 2 s"
    assert record.meta["maxexectime"] == 2
