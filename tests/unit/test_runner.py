import asyncio
import threading

import pytest

from polynb import capture
from polynb.journal import FAILED, SUCCEEDED, Journal
from polynb.runner import WorkerPool, call_payload, run_recorded


def test_the_pool_never_runs_more_than_its_workers_at_once():
    pool = WorkerPool(2)
    lock, running, peak = threading.Lock(), [0], [0]
    both_busy, release = threading.Event(), threading.Event()

    def job():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 2:
                both_busy.set()
        release.wait(5)
        with lock:
            running[0] -= 1
        return True

    futures = [pool.submit(job) for _ in range(6)]
    assert both_busy.wait(5)
    assert sum(f.running() for f in futures) == 2
    release.set()
    assert all(f.result(5) for f in futures)
    assert peak[0] == 2
    pool.shutdown()


def test_pool_threads_are_daemons_so_a_stuck_payload_cannot_block_exit():
    pool = WorkerPool(1, name="polynb-test")
    started = threading.Event()
    pool.submit(lambda: (started.set(), threading.Event().wait(60)))
    assert started.wait(5)
    workers = [t for t in threading.enumerate() if t.name.startswith("polynb-test")]
    assert workers and all(t.daemon for t in workers)


def test_an_exception_reaches_the_future():
    pool = WorkerPool(1)
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(5)
    pool.shutdown()


def test_async_payload_functions_are_run_to_completion():
    async def double(x):
        return x * 2

    assert call_payload(double, 4) == 8
    assert call_payload(lambda x: x + 1, 4) == 5


@pytest.fixture
def journal(tmp_path):
    return Journal(tmp_path)


def test_a_successful_run_closes_its_record_with_output_and_prints(journal):
    record_id = journal.open("fake", "p", 1)
    capture.install()
    try:
        outcome = run_recorded(journal, record_id, 2, lambda: print("hi") or {"v": 1}, None)
    finally:
        capture.uninstall()
    record = journal.get(record_id)
    assert outcome.ok and outcome.value == {"v": 1}
    assert (record.status, record.version, record.output, record.stdout) == (SUCCEEDED, 2, {"v": 1}, "hi\n")


def test_a_payload_exception_is_a_failed_record_with_traceback(journal):
    record_id = journal.open("fake", "p", 1)

    def broken():
        raise KeyError("missing")

    outcome = run_recorded(journal, record_id, 1, broken, None)
    record = journal.get(record_id)
    assert not outcome.ok and outcome.error_type == "KeyError"
    assert record.status == FAILED and "KeyError" in record.error
    assert 'raise KeyError("missing")' in record.traceback


def test_a_result_that_cannot_be_encoded_fails_the_record_but_keeps_the_output(journal):
    import json

    record_id = journal.open("fake", "p", 1)
    outcome = run_recorded(journal, record_id, 1, lambda: {1, 2}, json.dumps)
    record = journal.get(record_id)
    assert not outcome.ok and outcome.error_type == "TypeError"
    assert "not JSON serializable" in record.error
    assert record.output == [1, 2]


@pytest.mark.parametrize("make", [lambda: {(1, 2): "pair"}, lambda: (loop := [1], loop.append(loop))[0]],
                         ids=["tuple keys", "a cycle"])
def test_a_result_json_cannot_hold_still_closes_its_record(journal, make):
    import json

    record_id = journal.open("fake", "p", 1)
    outcome = run_recorded(journal, record_id, 1, make, json.dumps)
    record = journal.get(record_id)
    assert not outcome.ok and record.status == FAILED and record.error
    assert record.finished_at is not None and record.output is not None


def test_system_exit_in_a_payload_is_a_failure_not_an_exit(journal):
    record_id = journal.open("fake", "p", 1)
    outcome = run_recorded(journal, record_id, 1, lambda: exec("raise SystemExit(3)"), None)
    assert not outcome.ok and outcome.error_type == "SystemExit"


def test_an_async_payload_keeps_its_worker_threads_event_loop_between_calls():
    pool = WorkerPool(1)

    async def which_loop():
        return id(asyncio.get_running_loop())

    first, second = (pool.submit(lambda: call_payload(which_loop)).result(5) for _ in range(2))
    assert first == second
    pool.shutdown()


def test_an_async_payload_replayed_where_a_loop_already_runs_still_completes():
    async def inside_a_running_loop():
        async def double(x):
            await asyncio.sleep(0)
            return x * 2

        return call_payload(double, 21)

    assert asyncio.run(inside_a_running_loop()) == 42


def test_output_of_an_async_payload_is_captured_in_its_own_execution(tmp_path):
    journal = Journal(tmp_path)

    async def noisy(x):
        await asyncio.sleep(0)
        print("async says", x)
        return x

    capture.install()
    try:
        record_id = journal.open("fake", "p", 1)
        run_recorded(journal, record_id, 1, lambda: call_payload(noisy, 7), None)
    finally:
        capture.uninstall()
    assert journal.get(record_id).stdout == "async says 7\n"


def test_a_traceback_names_a_notebook_cell_as_ipython_does(journal):
    """``Cell In[N], line L`` instead of the file name the shell compiled the cell under; other files keep theirs."""
    from IPython.testing import globalipapp

    shell = globalipapp.start_ipython() or globalipapp.get_ipython()
    shell.run_cell("import json\ndef parse_then_divide(x):\n    json.loads('{}')\n    return 1 / x\n", store_history=True)
    number = shell.execution_count - 1
    function = shell.user_ns.pop("parse_then_divide")
    record_id = journal.open("fake", "divide", 0)
    outcome = run_recorded(journal, record_id, 1, lambda: call_payload(function, 0), None)
    assert f"Cell In[{number}], line 4, in parse_then_divide" in outcome.traceback
    assert function.__code__.co_filename not in outcome.traceback
    assert journal.get(record_id).traceback == outcome.traceback


def test_chained_exceptions_name_their_cells_too(journal):
    from IPython.testing import globalipapp

    shell = globalipapp.start_ipython() or globalipapp.get_ipython()
    shell.run_cell("def wrap(x):\n    try:\n        return 1 / x\n    except ZeroDivisionError as exc:\n"
                   "        raise ValueError('bad x') from exc\n", store_history=True)
    number = shell.execution_count - 1
    function = shell.user_ns.pop("wrap")
    outcome = run_recorded(journal, journal.open("fake", "wrap", 0), 1, lambda: call_payload(function, 0), None)
    assert outcome.traceback.count(f"Cell In[{number}]") == 2
    assert "The above exception was the direct cause" in outcome.traceback
