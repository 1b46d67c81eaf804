"""polynb's executor in a service: cell functions served, logs forwarded, errors as failed processes."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from colonies_harness import enroll, executor_names, register, run, service_for
from support import wait_until

from polynb.payload import Payload
from polynb.platforms.colonies import crypto, keys, wire
from polynb.platforms.colonies.submit import SubmissionFailed, explain_stuck, submit_function, submit_workflow


@pytest.fixture
def service(server, tmp_path):
    running = service_for(server, tmp_path / ".polynb")
    yield running
    running.stop(timeout=2)


def binding(service):
    return service.call(service.binding("colonies"))


def submit_and_wait(service, funcname, args=(), kwargs=None, timeout=30, **limits):
    """(submission, output) or (submission, SubmissionFailed)."""
    colonies = binding(service)

    async def go():
        submission = await submit_function(colonies, funcname, args, kwargs, **limits)
        try:
            return submission, await submission.wait(timeout)
        except SubmissionFailed as exc:
            return submission, exc

    return service.call(go())


def test_a_cell_function_is_served_and_its_result_closes_the_process(service):
    register(service, "greet", '''
        def greet(name, punctuation="!"):
            print("greeting", name)
            return f"hello {name}{punctuation}"
    ''', executortype="exec-a")
    submission, out = submit_and_wait(service, "greet", ["ada"], {"punctuation": "?"}, executortype="exec-a")
    record = service.journal.records(platform="colonies", payload="greet")[0]
    logs = service.call(submission.client.get_logs("dev", submission.processid, submission.key))
    assert out == ["hello ada?"]
    assert record.status == "succeeded" and record.output == "hello ada?" and record.stdout == "greeting ada\n"
    assert record.meta["processid"] == submission.processid
    assert [log["message"] for log in logs] == ["greeting ada\n"]


def test_logging_goes_to_the_colonies_log_too(service):
    register(service, "chatty", '''
        import logging
        def chatty():
            logging.getLogger("mine").warning("careful")
            return 1
    ''', executortype="exec-log")
    submission, out = submit_and_wait(service, "chatty", executortype="exec-log")
    logs = service.call(submission.client.get_logs("dev", submission.processid, submission.key))
    assert out == [1] and [log["message"] for log in logs] == ["[WARNING] mine: careful\n"]


def test_an_exception_fails_the_process_with_its_text(service):
    register(service, "broken", '''
        def broken(x):
            raise ValueError(f"no {x}")
    ''', executortype="exec-b")
    submission, failure = submit_and_wait(service, "broken", ["way"], executortype="exec-b")
    record = service.journal.records(platform="colonies", payload="broken")[0]
    logs = service.call(submission.client.get_logs("dev", submission.processid, submission.key))
    assert isinstance(failure, SubmissionFailed) and failure.errors == ["ValueError: no way"]
    assert record.status == "failed" and "ValueError" in record.traceback
    assert any("in broken" in log["message"] and "ValueError: no way" in log["message"] for log in logs), logs


def test_an_unserialisable_result_fails_the_process_and_the_record(service):
    register(service, "opaque", '''
        def opaque():
            return object()
    ''', executortype="exec-c")
    _, failure = submit_and_wait(service, "opaque", executortype="exec-c")
    record = service.journal.records(platform="colonies", payload="opaque")[0]
    assert isinstance(failure, SubmissionFailed) and "not JSON serializable" in failure.errors[0]
    assert record.status == "failed"


def test_an_unknown_function_fails_with_a_clear_error_and_a_record(service):
    register(service, "known", "def known():\n    return 1\n", executortype="exec-d")
    _, failure = submit_and_wait(service, "unknown", executortype="exec-d")
    record = service.journal.records(platform="colonies", payload="unknown")[0]
    assert isinstance(failure, SubmissionFailed)
    assert failure.errors == ["no payload named 'unknown' is registered on colonies"] and record.status == "failed"


def test_workflow_children_get_parents_outputs_after_their_args(service):
    register(service, "shout", "def shout(*words):\n    return [w.upper() for w in words]\n", executortype="exec-w")

    colonies = binding(service)

    async def go():
        submission = await submit_workflow(colonies, [
            {"funcname": "shout", "nodename": "first", "args": ["a"], "executortype": "exec-w"},
            {"funcname": "shout", "nodename": "second", "args": ["b"], "dependencies": ["first"],
             "executortype": "exec-w"}])
        return await submission.wait(30)

    assert service.call(go()) == {"first": ["A"], "second": ["B", "A"]}


def test_concurrency_runs_processes_side_by_side(service):
    register(service, "meet", '''
        import threading
        barrier = threading.Barrier(2, timeout=20)
        def meet(i):
            barrier.wait()
            return i
    ''', executortype="exec-k", concurrency=2)

    colonies = binding(service)

    async def go():
        first = await submit_function(colonies, "meet", [1], executortype="exec-k")
        second = await submit_function(colonies, "meet", [2], executortype="exec-k")
        return await first.wait(30), await second.wait(30)

    assert service.call(go()) == ([1], [2])


def test_a_process_outliving_maxexectime_is_timed_out_and_handed_out_again(service):
    register(service, "sleepy", '''
        import time
        def sleepy():
            time.sleep(4)
            return "late"
    ''', executortype="exec-m")
    _, failure = submit_and_wait(service, "sleepy", executortype="exec-m", maxexectime=1, maxretries=1, timeout=60)
    wait_until(lambda: len(service.journal.records(payload="sleepy", status="timed out")) >= 2, 30,
               "both attempts recorded as timed out", step=0.2)
    records = service.journal.records(payload="sleepy")
    assert isinstance(failure, SubmissionFailed) and failure.errors == [wire.EXEC_LIMIT]  # the server's own verdict
    assert len(records) == 2 and all(r.error == "ExecutionTimedOut: timed out after 1 s" for r in records)


def test_without_the_colony_key_polynb_prints_the_owners_command_and_waits(server, tmp_path):
    waiting = service_for(server, tmp_path / ".polynb", COLONIES_COLONY_PRVKEY="")
    try:
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("address", register(
            waiting, "patient", "def patient():\n    return 1\n", executortype="exec-p", executorname="patient-1")))
        thread.start()
        key_path = keys.key_file(tmp_path / ".polynb", "executor-patient-1")
        wait_until(key_path.is_file, 30, "the executor's key written for the owner")
        executor_key = key_path.read_text().strip()

        async def approve():
            client = server.client()
            await client.add_executor(executor_key, "patient-1", "exec-p", server.colony, server.colony_key)
            await client.approve_executor(server.colony, "patient-1", server.colony_key)
            await client.close()

        time.sleep(0.5)
        assert thread.is_alive(), "registration must wait for the owner"
        run(approve())
        thread.join(30)
        assert not thread.is_alive()
        assert waiting.current("colonies", "patient") is not None
    finally:
        waiting.stop(timeout=2)


def test_approval_instructions_name_the_executor_and_its_id(service):
    from polynb.platforms.colonies.executor import ExecutorLoop, approval_instructions

    executor = ExecutorLoop(binding(service), "n1", "t1", crypto.generate_private_key())
    text = approval_instructions("http://colonies.example:50080", "dev", executor)
    assert executor.id in text and "approve_executor('dev', 'n1', k)" in text and "Colonies('colonies.example', 50080" in text


def test_the_submission_view_shows_state_executor_output_and_logs(service):
    from polynb.platforms.colonies.view import render

    register(service, "shown", "def shown():\n    print('visible line')\n    return 'seen'\n",
             executortype="exec-v", executorname="viewed-executor")
    submission, out = submit_and_wait(service, "shown", executortype="exec-v")
    service.call(submission.refresh())
    page = render(submission)
    assert out == ["seen"]
    for text in ("successful", "viewed-executor", "[&quot;seen&quot;]", "visible line", submission.processid[:12]):
        assert text in page


def test_executors_are_removed_on_stop_only_when_configured(server, tmp_path):
    names = {}
    for remove in ("true", "false"):
        name = f"leaving-{remove}"
        stopping = service_for(server, tmp_path / remove / ".polynb", POLYNB_COLONIES_REMOVE_EXECUTOR=remove)
        register(stopping, "leaver", "def leaver():\n    return 1\n", executortype="exec-r", executorname=name)
        stopping.stop(timeout=2)
        names[remove] = name in executor_names(server)
    assert names == {"true": False, "false": True}


def test_a_name_another_key_holds_is_refused_at_once_not_waited_for(server, service):
    async def taken():
        client = server.client()
        await enroll(client, server, "held-by-another", executortype="exec-taken")
        await client.close()

    run(taken())
    with pytest.raises(ValueError, match="executor name 'held-by-another' is taken in colony 'dev' by another key"):
        register(service, "late", "def late():\n    return 1\n", executortype="exec-taken",
                 executorname="held-by-another")


def test_the_kernels_own_executor_is_named_after_the_notebook_and_the_kernel_and_leaves_on_stop(server, tmp_path):
    from polynb.platforms.colonies.naming import kernel_id

    own = service_for(server, tmp_path / ".polynb")
    address = own.register(Payload("colonies", "mine", "def mine():\n    return 1\n", None,
                                   {"executortype": "exec-own"}, isolated=True)).address
    name = f"polynb-{kernel_id()}-exec-own"  # no Jupyter session here: "polynb" stands for the notebook
    assert address.endswith(f"executor {name} (type exec-own)")
    assert not list((tmp_path / ".polynb").glob("colonies/keys/*")), "a kernel's own key is never written"
    own.stop(timeout=2)
    assert name not in executor_names(server)


def test_a_waiting_processes_hint_names_the_executor_that_holds_it_and_when_it_was_last_heard():
    process = {"processid": "ab" * 32, "state": wire.RUNNING, "assignedexecutorid": "cd" * 32,
               "waitforparents": False,
               "spec": {"funcname": "slow", "nodename": "slow",
                        "conditions": {"executortype": "polynb", "colonyname": "dev", "executornames": ["k-1"]}}}
    executors = [{"executorname": "k-1", "executorid": "cd" * 32, "executortype": "polynb", "state": wire.APPROVED,
                  "lastheardfromtime": wire.go_time(1_000_000_000_000_000_000)}]
    hint = explain_stuck(process, executors, ["k-1"], now=1_000_000_042.0)
    assert hint.startswith("process slow (abababababab) is running on executor k-1 (last heard 42 s ago)")
    assert "--maxexectime" in hint


@pytest.mark.parametrize("field, value, reason", [("args", 5, "args must be a JSON array, not 5"),
                                                  ("kwargs", [1, 2], "kwargs must be a JSON object of names")])
def test_arguments_no_function_takes_fail_the_process_and_the_record_with_the_reason(service, field, value, reason):
    register(service, "takes_any", "def takes_any(*args, **kwargs):\n    return 1\n", executortype="exec-args")
    colonies = binding(service)

    async def go():
        key = await colonies.member_key()
        spec = wire.function_spec("takes_any", colonyname=colonies.connection.colony, executortype="exec-args")
        process = await colonies.connection.client.submit({**spec, field: value}, key)
        for _ in range(300):
            current = await colonies.connection.client.get_process(process["processid"], key)
            if current["state"] in (wire.SUCCESS, wire.FAILED):
                return current
            await asyncio.sleep(0.05)
        return current

    process = service.call(go())
    record = service.journal.records(platform="colonies", payload="takes_any")[0]
    assert process["state"] == wire.FAILED and any(reason in error for error in process["errors"]), process
    assert record.status == "failed" and reason in record.error
    assert record.input[field] == value
