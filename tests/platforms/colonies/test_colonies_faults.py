"""Faults: killed executors, server restarts and outages, bad input; the service keeps serving, no record lost."""
from __future__ import annotations

import json
import signal

import colonies_peer_scripts as scripts
import pytest
from colonies_harness import LocalServer, enroll, pycolonies_python, register, run, service_for, start_pycolonies
from support import read_line, stop, wait_until

from polynb.platforms.colonies import crypto, wire
from polynb.platforms.colonies.submit import SubmissionFailed, submit_function, submit_workflow

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command


@pytest.fixture
def own_server(tmp_path):
    local = LocalServer(tmp_path / "server.sqlite")
    local.start()
    yield local
    local.stop()


def test_unknown_unapproved_and_wrong_colony_identities_are_refused(server):
    async def scenario():
        client = server.client()
        stranger = crypto.generate_private_key()
        pending = await enroll(client, server, "fault-pending", approve=False)
        member = await enroll(client, server, "fault-member")
        errors = []
        for call in (client.assign(server.colony, -1, stranger), client.assign(server.colony, -1, pending),
                     client.submit(wire.function_spec("f", colonyname="elsewhere", executortype="t"), member)):
            with pytest.raises(wire.Forbidden) as caught:
                await call
            errors.append(caught.value.message)
        await client.close()
        return errors

    assert run(scenario()) == ["Access denied, not a member of Colony with name <dev>"] * 2 + [
        "Access denied, not a member of Colony with name <elsewhere>"]


def test_arguments_the_function_does_not_take_fail_the_process_and_the_service_goes_on(server, tmp_path):
    service = service_for(server, tmp_path / ".polynb")
    try:
        register(service, "strict", "def strict(a):\n    return a\n", executortype="fault-args")
        colonies = service.call(service.binding("colonies"))

        async def go():
            bad = await submit_function(colonies, "strict", ["x"], {"nope": "y"}, executortype="fault-args")
            with pytest.raises(SubmissionFailed) as caught:
                await bad.wait(30)
            good = await submit_function(colonies, "strict", ["fine"], executortype="fault-args")
            return caught.value.errors, await good.wait(30)

        errors, output = service.call(go())
        statuses = [r.status for r in service.journal.records(payload="strict", newest_first=False)]
    finally:
        service.stop(timeout=2)
    assert "unexpected keyword argument 'nope'" in errors[0] and output == ["fine"]
    assert statuses == ["failed", "succeeded"]


def test_a_killed_executors_process_is_retried_by_polynb_after_maxexectime(own_server, tmp_path):
    pycolonies_python()
    hung = start_pycolonies(scripts.EXECUTOR_LOOP, own_server, PY_EXECUTOR_NAME="doomed", PY_EXECUTOR_TYPE="shared",
                            PY_COUNT="1")
    service = service_for(own_server, tmp_path / ".polynb")
    try:
        assert "ready" in json.loads(read_line(hung.stdout, 120, "the pycolonies executor"))
        owner = run(_member(own_server))
        process = run(_submit(own_server, owner, wire.function_spec("hang", colonyname="dev", executortype="shared",
                                                                      maxexectime=2, maxretries=2)))
        wait_until(lambda: run(_get(own_server, owner, process["processid"]))["state"] == wire.RUNNING, 60,
                   "the process running on the doomed executor", step=0.2)
        stop(hung, sig=signal.SIGKILL)
        register(service, "hang", "def hang():\n    return 'rescued'\n", executortype="shared")
        final = wait_until(lambda: (lambda p: p if p["state"] == wire.SUCCESS else None)(
            run(_get(own_server, owner, process["processid"]))), 60, "the retried process succeeding", step=0.2)
        record = service.journal.records(payload="hang")[0]
    finally:
        stop(hung, sig=signal.SIGKILL)
        service.stop(timeout=2)
    assert final["out"] == ["rescued"] and final["retries"] == 1
    assert record.status == "succeeded" and record.meta["retries"] == 1


@pytest.mark.slow
def test_a_server_restart_mid_workflow_loses_nothing(own_server, tmp_path):
    gate = tmp_path / "gate"
    service = service_for(own_server, tmp_path / ".polynb", POLYNB_COLONIES_RETRIES="10")
    try:
        register(service, "gated", '''
            import os, time
            def gated(path, *parents):
                while not os.path.exists(path):
                    time.sleep(0.05)
                return [path.rsplit("/", 1)[-1].upper()] + list(parents)
        ''', executortype="restart", concurrency=2)
        colonies = service.call(service.binding("colonies"))
        submission = service.call(submit_workflow(colonies, [
            {"funcname": "gated", "nodename": "first", "args": [str(gate)], "executortype": "restart"},
            {"funcname": "gated", "nodename": "second", "args": [str(gate)], "dependencies": ["first"],
             "executortype": "restart"}]))
        wait_until(lambda: service.journal.records(payload="gated"), 60, "the first step's record", step=0.2)
        own_server.restart()
        gate.write_text("open")
        outputs = service.call(submission.wait(60))
        statuses = [r.status for r in service.journal.records(payload="gated")]
    finally:
        service.stop(timeout=2)
    assert outputs == {"first": ["GATE"], "second": ["GATE", "GATE"]}
    assert statuses == ["succeeded", "succeeded"]


@pytest.mark.slow
def test_an_unreachable_server_shows_as_error_and_recovers(own_server, tmp_path):
    service = service_for(own_server, tmp_path / ".polynb", POLYNB_COLONIES_RETRIES="0")
    try:
        register(service, "steady", "def steady():\n    return 'ok'\n", executortype="outage")
        own_server.stop()
        down = wait_until(lambda: next((p for p in service.journal.platforms()
                                        if p.platform == "colonies" and p.state == "error"), None), 60,
                          "the binding's error state", step=0.2)
        own_server.start(own_server.info["port"])
        wait_until(lambda: next((p for p in service.journal.platforms()
                                 if p.platform == "colonies" and p.state == "ready"), None), 60,
                   "the binding ready again", step=0.2)
        colonies = service._bindings["colonies"]

        async def go():
            submission = await submit_function(colonies, "steady", executortype="outage")
            return await submission.wait(30)

        output = service.call(go())
    finally:
        service.stop(timeout=2)
    assert "cannot reach the Colonies server" in down.detail and output == ["ok"]


async def _member(server: LocalServer) -> str:
    client = server.client()
    key = await enroll(client, server, f"fault-submitter-{crypto.generate_private_key()[:6]}", executortype="none")
    await client.close()
    return key


async def _submit(server: LocalServer, key: str, spec: dict) -> dict:
    client = server.client()
    try:
        return await client.submit(spec, key)
    finally:
        await client.close()


async def _get(server: LocalServer, key: str, processid: str) -> dict:
    client = server.client()
    try:
        return await client.get_process(processid, key)
    finally:
        await client.close()
