"""The service with the fake platform: registration, versions, executions, errors, stopping."""
from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import httpx
import pytest
from support import taken_port

from polynb.execution import Arrival
from polynb.journal import FAILED, INTERRUPTED, RUNNING, SUCCEEDED, Journal
from polynb.payload import Payload
from polynb.ports import PortInUse
from polynb.service import Service


@pytest.fixture
def ns():
    return {}


@pytest.fixture
def service(tmp_path, registry, ns):
    running = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns=ns)
    yield running
    running.stop(timeout=1)


def cell(ns, source, name="hello", **kw):
    """What a registering magic does: the cell runs in the notebook, then becomes a payload."""
    exec(source, ns)
    return Payload("fake", name, source, **kw)


def wait_for(predicate, timeout=10.0):
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return True
        done.wait(0.01)
    return False


def test_an_execution_runs_the_payload_against_the_notebook_state_and_is_recorded(service, ns):
    registration = service.register(cell(ns, "def hello(x):\n    print('got', x)\n    return x * factor"))
    ns["factor"] = 3
    reply = httpx.post(registration.address, json=14)
    assert reply.status_code == 200
    assert reply.json()["output"] == 42
    record = service.journal.get(reply.json()["record"])
    assert (record.status, record.input, record.output, record.version) == (SUCCEEDED, 14, 42, 1)
    assert record.stdout == "got 14\n"


def test_registering_announces_the_payload_to_the_platform(service, ns, registry):
    registration = service.register(cell(ns, "def hello(x): return x"))
    assert httpx.get(f"{registry}/payloads").json()["payloads"]["hello"] == registration.address


def test_an_unchanged_cell_is_not_registered_again(service, ns):
    first = service.register(cell(ns, "def hello(x): return x"))
    again = service.register(cell(ns, "def hello(x): return x"))
    assert first.changed and not again.changed
    assert again.version is first.version
    assert len(service.journal.payloads(active_only=False)) == 1


def test_a_changed_cell_swaps_versions_while_in_flight_executions_finish_on_the_old(service, ns):
    ns["gate"] = threading.Event()
    registration = service.register(cell(ns, "def hello(x):\n    gate.wait(10)\n    return 'old'"))
    replies = {}
    slow = threading.Thread(target=lambda: replies.update(old=httpx.post(registration.address, json=1, timeout=20)))
    slow.start()
    assert wait_for(lambda: any(r.status == RUNNING for r in service.journal.records()))
    second = service.register(cell(ns, "def hello(x):\n    return 'new'"))
    assert second.changed and second.version.version == 2
    fresh = httpx.post(registration.address, json=2)
    assert fresh.json()["output"] == "new"
    ns["gate"].set()
    slow.join(20)
    assert replies["old"].json()["output"] == "old"
    versions = {r.output: r.version for r in service.journal.records()}
    assert versions == {"old": 1, "new": 2}


def test_a_payload_exception_is_an_error_reply_and_the_service_keeps_serving(service, ns):
    registration = service.register(cell(ns, "def hello(x):\n    return 10 / x"))
    failed = httpx.post(registration.address, json=0)
    assert failed.status_code == 500
    assert failed.json()["type"] == "ZeroDivisionError"
    record = service.journal.get(failed.json()["record"])
    assert record.status == FAILED
    assert "in hello" in record.traceback and "ZeroDivisionError: division by zero" in record.traceback
    assert "polynb" not in record.traceback
    assert httpx.post(registration.address, json=5).json()["output"] == 2


def test_a_result_the_platform_cannot_encode_is_an_error_reply_and_a_failed_record(service, ns):
    registration = service.register(cell(ns, "def hello(x):\n    return object()"))
    reply = httpx.post(registration.address, json=1)
    assert reply.status_code == 500 and "not JSON serializable" in reply.json()["error"]
    assert service.journal.get(reply.json()["record"]).status == FAILED


def test_an_execution_for_an_unknown_payload_is_a_failed_record(service, ns):
    registration = service.register(cell(ns, "def hello(x): return x"))
    reply = httpx.post(registration.address.replace("hello", "nobody"), json=1)
    assert reply.status_code == 404
    record = service.journal.get(reply.json()["record"])
    assert record.status == FAILED and "no payload named 'nobody'" in record.error


def test_the_callers_thread_and_the_loop_stay_free_while_payloads_run(service, ns):
    ns["gate"] = threading.Event()
    registration = service.register(cell(ns, "def hello(x):\n    gate.wait(10)\n    return x"))
    blocked = [threading.Thread(target=httpx.post, args=(registration.address,), kwargs={"json": i, "timeout": 20})
               for i in range(2)]
    for thread in blocked:
        thread.start()
    assert wait_for(lambda: len(service.journal.records(status=RUNNING)) == 2)
    assert service.call(asyncio.sleep(0, result="loop answered")) == "loop answered"
    ns["gate"].set()
    for thread in blocked:
        thread.join(20)
    assert len(service.journal.records(status=SUCCEEDED)) == 2


def test_a_cell_can_await_the_service_from_its_own_event_loop(service):
    async def on_service_loop():
        return threading.current_thread().name

    assert asyncio.run(service.submit(on_service_loop())) == "polynb-service"


def test_calling_synchronously_from_the_service_thread_is_refused_not_deadlocked(service):
    async def nested():
        service.call(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="deadlock"):
        asyncio.run(service.submit(nested()))


def test_stop_waits_for_executions_that_finish_within_the_drain(service, ns):
    ns["gate"] = threading.Event()
    registration = service.register(cell(ns, "def hello(x):\n    gate.wait(10)\n    return 'done'"))
    caller = threading.Thread(target=httpx.post, args=(registration.address,), kwargs={"json": 1, "timeout": 20})
    caller.start()
    assert wait_for(lambda: service.journal.records(status=RUNNING))
    release = threading.Thread(target=lambda: wait_for(lambda: not service._accepting) and ns["gate"].set())
    release.start()
    assert service.stop(timeout=30) == 0
    caller.join(20)
    assert [r.status for r in service.journal.records()] == [SUCCEEDED]


def test_stop_interrupts_what_outlives_the_drain_and_refuses_new_executions(service, ns):
    ns["gate"] = threading.Event()
    registration = service.register(cell(ns, "def hello(x):\n    gate.wait(30)\n    return x"))
    def cut_off_caller():
        with pytest.raises(httpx.HTTPError):  # its answer never comes: the server stopped under it
            httpx.post(registration.address, json=1, timeout=5)

    first = threading.Thread(target=cut_off_caller)
    first.start()
    assert wait_for(lambda: service.journal.records(status=RUNNING))
    late = {}
    stopper = threading.Thread(target=lambda: late.update(cut=service.stop(timeout=3)))
    stopper.start()
    assert wait_for(lambda: not service._accepting)
    refused = httpx.post(registration.address, json=2)
    assert refused.status_code == 500 and "stopping" in refused.json()["error"]
    stopper.join(30)
    assert late["cut"] == 1
    statuses = sorted(r.status for r in service.journal.records())
    assert statuses == [FAILED, INTERRUPTED]
    ns["gate"].set()
    first.join(10)


def test_replay_runs_a_recorded_input_against_the_current_version(service, ns):
    registration = service.register(cell(ns, "def hello(x):\n    return x + 1"))
    original = httpx.post(registration.address, json=1).json()["record"]
    service.register(cell(ns, "def hello(x):\n    print('fixed')\n    return x + 100"))
    outcome = service.replay(original[:10])
    assert outcome.ok and outcome.value == 101
    replayed = service.journal.get(outcome.record_id)
    assert replayed.meta == {"replay_of": original, "replayed_version": 2}
    assert (replayed.version, replayed.stdout) == (2, "fixed\n")


def test_stopping_a_platform_withdraws_its_payloads(service, ns):
    service.register(cell(ns, "def hello(x): return x"))
    assert service.call(service.stop_binding("fake")) is True
    assert service.journal.payloads() == []
    assert [(p.platform, p.state) for p in service.journal.platforms()] == [("fake", "stopped")]
    assert service.call(service.stop_binding("fake")) is False


def test_a_local_stand_in_starts_when_no_address_is_configured(tmp_path, monkeypatch, ns):
    monkeypatch.delenv("FAKE_REGISTRY_URL", raising=False)
    service = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns=ns)
    try:
        registration = service.register(cell(ns, "def hello(x): return x"))
        binding = service._bindings["fake"]
        listed = httpx.get(f"{binding.local.info['url']}/payloads").json()["payloads"]
        assert listed == {"hello": registration.address}
        child = binding.local.process
    finally:
        service.stop(timeout=1)
    assert child.returncode == 0


def _stand_ins_of_this_process() -> list[int]:
    """Pids of `polynb up fake` children of this test process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"up" in command and b"fake" in command:
            found.append(int(entry.name))
    return found


def test_a_start_that_fails_half_way_is_undone_and_shown_as_an_error(tmp_path, monkeypatch, ns):
    """The fake binding starts its stand-in, then cannot bind its own server: the stand-in must not outlive it."""
    monkeypatch.delenv("FAKE_REGISTRY_URL", raising=False)
    before = _stand_ins_of_this_process()  # the session's registry, when another test started it
    with taken_port() as port:
        monkeypatch.setenv("FAKE_PORT", str(port))  # the binding's own port; its stand-in takes a free one
        service = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns=ns)
        try:
            with pytest.raises(PortInUse, match="FAKE_PORT"):
                service.register(cell(ns, "def hello(x): return x"))
            assert _stand_ins_of_this_process() == before
            [state] = [p for p in service.journal.platforms() if p.platform == "fake"]
            assert state.state == "error" and "PortInUse" in state.detail
        finally:
            service.stop(timeout=1)


def test_the_outcome_carries_what_the_payload_printed_and_logged(service, ns):
    service.register(cell(ns, "import logging\ndef hello(x):\n    print('hi', x)\n"
                              "    logging.getLogger('cell').warning('careful')\n    return x"))
    outcome = asyncio.run_coroutine_threadsafe(service.execute(Arrival("fake", "hello", 3)), service.loop).result(10)
    assert outcome.ok and outcome.value == 3
    assert outcome.stdout == "hi 3\n"
    assert [(entry["level"], entry["message"]) for entry in outcome.logs] == [("WARNING", "careful")]


def test_a_refused_arrival_is_a_failed_record_that_never_ran(service, ns):
    service.register(cell(ns, "def hello(x): raise AssertionError('must not run')"))
    refused = Arrival("fake", "hello", "{not json", meta={"why": "test"})
    outcome = asyncio.run_coroutine_threadsafe(service.refuse(refused, ValueError("not JSON")), service.loop).result(10)
    record = service.journal.get(outcome.record_id)
    assert not outcome.ok and outcome.error_type == "ValueError"
    assert (record.status, record.error, record.input) == (FAILED, "ValueError: not JSON", "{not json")


def test_a_restarted_kernel_gives_an_unchanged_cell_its_old_version_number(tmp_path, registry):
    source = "def hello(x): return x"
    numbers = []
    for contents in ([source, source + " + 1"], [source + " + 1", source]):
        ns = {}
        service = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns=ns)
        try:
            numbers.append([service.register(cell(ns, text)).version.version for text in contents])
        finally:
            service.stop(timeout=1)
    assert numbers == [[1, 2], [2, 1]]


def test_a_kernel_that_does_not_know_its_notebook_shows_its_own_records(tmp_path, monkeypatch):
    import subprocess
    import sys

    import polynb

    polynb.shutdown()
    monkeypatch.setenv("POLYNB_JOURNAL_DIR", str(tmp_path / ".polynb"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    subprocess.run([sys.executable, "-c", f"from polynb.journal import Journal; "
                    f"Journal({str(tmp_path / '.polynb')!r}).open('fake', 'another kernel', 1)"], check=True)
    try:
        polynb.get_journal().open("fake", "this kernel", 2)
        assert [r.payload for r in polynb.records()] == ["this kernel"]
        assert sorted(r.payload for r in polynb.records(all_notebooks=True)) == ["another kernel", "this kernel"]
    finally:
        polynb.shutdown()


def test_polynb_records_shows_this_notebooks_records_unless_asked_for_all(tmp_path, monkeypatch):
    import polynb

    polynb.shutdown()
    monkeypatch.setenv("POLYNB_JOURNAL_DIR", str(tmp_path / ".polynb"))
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "other.ipynb"))
    theirs = Journal(tmp_path / ".polynb")
    theirs.open("fake", "theirs", 1)
    theirs.close_db()  # commits what it queued, as the other kernel would long before this one reads
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "mine.ipynb"))
    try:
        polynb.get_journal().open("fake", "mine", 2)
        assert [r.payload for r in polynb.records()] == ["mine"]
        assert sorted(r.payload for r in polynb.records(all_notebooks=True)) == ["mine", "theirs"]
    finally:
        polynb.shutdown()
