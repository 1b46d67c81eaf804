"""Stopping executions with the fake platform: cancel, timeouts, write-off, live output, and the platform's answer."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support import wait_until

from polynb.journal import CANCELLED, RUNNING, SUCCEEDED, TIMED_OUT, Journal
from polynb.payload import Payload
from polynb.service import Service

BUSY = "def hello(x):\n    while True:\n        pass\n"


@pytest.fixture
def ns():
    return {}


@pytest.fixture
def service(tmp_path, registry, ns, monkeypatch):
    monkeypatch.setenv("POLYNB_WORKERS", "1")  # one worker: a written-off thread must be replaced to go on
    monkeypatch.setenv("POLYNB_CANCEL_GRACE", "1")
    running = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns=ns)
    yield running
    running.stop(timeout=1)


def register(service, ns, source, name="hello", **options):
    exec(source, ns)
    return service.register(Payload("fake", name, source, options=options)).address


def running_record(service):
    """The id of the one execution that is running now."""
    def find():
        running = service.journal.records(status=RUNNING)
        return running[0].id if running else None
    return wait_until(find, timeout=10, message="an execution running")


@pytest.fixture
def calls():
    with ThreadPoolExecutor(4) as pool:
        yield pool


def test_a_cancelled_busy_payload_stops_at_once_and_the_platform_gets_an_error(service, ns, calls):
    address = register(service, ns, BUSY)
    reply = calls.submit(httpx.post, address, json=1, timeout=30)
    record_id = running_record(service)
    assert service.cancel(record_id[:8], "stop it") == record_id
    answer = reply.result(timeout=20)
    assert answer.status_code == 500
    assert answer.json()["type"] == "ExecutionCancelled"
    record = service.journal.get(record_id)
    assert (record.status, record.error) == (CANCELLED, "ExecutionCancelled: stop it")
    assert "line 2, in hello" in record.traceback  # where it was when it stopped


def test_a_payload_that_catches_exception_is_stopped_all_the_same(service, ns, calls):
    address = register(service, ns, "def hello(x):\n    while True:\n        try:\n            pass\n"
                                    "        except Exception:\n            pass\n")
    reply = calls.submit(httpx.post, address, json=1, timeout=30)
    service.cancel(running_record(service))
    assert reply.result(timeout=20).json()["type"] == "ExecutionCancelled"


def test_an_async_payload_is_cancelled_as_a_task(service, ns, calls):
    address = register(service, ns, "import asyncio\nasync def hello(x):\n    await asyncio.sleep(60)\n")
    reply = calls.submit(httpx.post, address, json=1, timeout=30)
    record_id = running_record(service)
    service.cancel(record_id)
    assert reply.result(timeout=20).json()["type"] == "ExecutionCancelled"
    assert service.journal.get(record_id).status == CANCELLED


def test_the_worker_goes_on_with_the_next_execution_after_a_cancel(service, ns, calls):
    address = register(service, ns, "def hello(x):\n    while x:\n        pass\n    return 'done'\n")
    reply = calls.submit(httpx.post, address, json=1, timeout=30)
    service.cancel(running_record(service))
    reply.result(timeout=20)
    assert httpx.post(address, json=0, timeout=20).json()["output"] == "done"


def test_a_payload_blocked_in_c_is_written_off_after_the_grace_and_its_thread_replaced(service, ns, calls):
    ns["release"] = release = threading.Event()
    address = register(service, ns, "def hello(x):\n    if x:\n        release.wait(60)\n    return x\n")
    reply = calls.submit(httpx.post, address, json=1, timeout=30)
    record_id = running_record(service)
    try:
        service.cancel(record_id)
        answer = reply.result(timeout=20)  # answered after the 1 s grace, the payload still blocked
        assert answer.json()["type"] == "ExecutionCancelled"
        record = service.journal.get(record_id)
        assert record.status == CANCELLED
        assert "did not stop within 1 s; its worker thread is written off" in record.error
        assert httpx.post(address, json=0, timeout=20).json()["output"] == 0  # a new thread took its place
    finally:
        release.set()
    assert service.journal.get(record_id).status == CANCELLED  # what the old thread returns later is dropped


def test_an_execution_cancelled_while_it_waits_for_a_worker_never_runs(service, ns, calls):
    ns["ran"] = ran = []
    ns["release"] = release = threading.Event()
    address = register(service, ns, "def hello(x):\n    ran.append(x)\n    if x == 1:\n        release.wait(60)\n")
    first = calls.submit(httpx.post, address, json=1, timeout=30)
    running_record(service)
    second = calls.submit(httpx.post, address, json=2, timeout=30)
    wait_until(lambda: len(service.journal.records()) == 2, timeout=10, message="the second execution received")
    waiting = [r for r in service.journal.records() if r.input == 2][0]
    service.cancel(waiting.id, "not needed")
    assert second.result(timeout=20).json()["type"] == "ExecutionCancelled"
    release.set()
    first.result(timeout=20)
    assert ran == [1]
    assert service.journal.get(waiting.id).status == CANCELLED


def test_a_cancel_asked_for_in_the_journal_by_another_process_reaches_the_running_kernel(service, ns, calls, tmp_path):
    address = register(service, ns, BUSY)
    reply = calls.submit(httpx.post, address, json=1, timeout=30)
    record_id = running_record(service)
    elsewhere = Journal(tmp_path / ".polynb")  # what the panel's server or the CLI opens
    try:
        assert elsewhere.request_cancel(record_id, "from the panel").id == record_id
        assert elsewhere.request_cancel("no-such-id") is None
    finally:
        elsewhere.close_db()
    assert reply.result(timeout=20).json()["error"] == "ExecutionCancelled: from the panel"
    assert service.journal.get(record_id).status == CANCELLED


def test_a_payload_past_its_timeout_is_stopped_and_recorded_as_timed_out(service, ns):
    address = register(service, ns, BUSY, timeout=0.5)
    answer = httpx.post(address, json=1, timeout=30)
    assert answer.json()["type"] == "ExecutionTimedOut"
    record = service.journal.get(answer.json()["record"])
    assert (record.status, record.error) == (TIMED_OUT, "ExecutionTimedOut: timed out after 0.5 s")


def test_the_core_timeout_applies_to_a_payload_without_its_own(tmp_path, registry, ns, monkeypatch):
    monkeypatch.setenv("POLYNB_TIMEOUT", "0.5")
    service = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns=ns)
    try:
        address = register(service, ns, BUSY)
        assert httpx.post(address, json=1, timeout=30).json()["type"] == "ExecutionTimedOut"
        fast = register(service, ns, "def quick(x):\n    return x\n", name="quick")
        assert httpx.post(fast, json=7, timeout=30).json()["output"] == 7
    finally:
        service.stop(timeout=1)


def test_a_running_execution_s_output_reaches_its_record_while_it_runs(service, ns, calls):
    ns["release"] = release = threading.Event()
    address = register(service, ns, "import logging\ndef hello(x):\n    print('step 1')\n"
                                    "    logging.getLogger('work').warning('halfway')\n    release.wait(60)\n"
                                    "    print('step 2')\n")
    reply = calls.submit(httpx.post, address, json=1, timeout=30)
    record_id = running_record(service)

    def partial():
        record = service.journal.get(record_id)
        return record.status == RUNNING and record.stdout == "step 1\n" and record.logs
    wait_until(partial, timeout=10, message="the first line in the running record")
    assert service.journal.get(record_id).logs[0]["message"] == "halfway"
    release.set()
    assert reply.result(timeout=20).status_code == 200
    record = service.journal.get(record_id)
    assert (record.status, record.stdout) == (SUCCEEDED, "step 1\nstep 2\n")
