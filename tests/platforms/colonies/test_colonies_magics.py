"""`%%colonies_func` and `%colonies_submit` in an IPython shell: what a notebook user types and sees."""
from __future__ import annotations

import asyncio

import pytest
from colonies_harness import enroll
from IPython.core.error import UsageError
from notebook_shell import polynb_shell, run

import polynb
from polynb.calls import CallTimeout
from polynb.platforms.colonies import wire
from polynb.platforms.colonies.submit import SubmissionFailed


@pytest.fixture
def ip(journal_dir, server, monkeypatch):
    for name, value in {**server.env_vars(), "POLYNB_COLONIES_ASSIGN_TIMEOUT": "2"}.items():
        monkeypatch.setenv(name, value)
    with polynb_shell(forget=("triple", "sour", "f", "local_one")) as shell:
        yield shell



def test_a_function_cell_is_served_and_submit_wait_returns_its_output(ip):
    run(ip, "%%colonies_func triple --executortype magic-t\ndef triple(x):\n    return x * 3")
    assert ip.user_ns["triple"](2) == 6
    assert run(ip, "%colonies_submit triple --args [14] --executortype magic-t --wait --timeout 30") == [42]
    record = polynb.records(platform="colonies", payload="triple", limit=1)[0]
    assert record.status == "succeeded" and record.input == {"args": [14], "kwargs": {}}


def test_a_failed_submission_raises_the_failed_process_with_its_errors(ip):
    run(ip, "%%colonies_func sour --executortype magic-f\ndef sour():\n    raise RuntimeError('curdled')")
    with pytest.raises(SubmissionFailed, match=r"Colonies process sour .* failed: RuntimeError: curdled") as caught:
        run(ip, "%colonies_submit sour --executortype magic-f --wait --timeout 30")
    assert caught.value.errors == ["RuntimeError: curdled"]
    assert caught.value._render_traceback_() == [f"SubmissionFailed: {caught.value}"]  # one line in the notebook


def test_a_refusal_of_the_server_is_raised_as_the_servers_error(ip):
    with pytest.raises(wire.BadRequest, match=r"priority must be between .* \(Colonies 400\)"):
        run(ip, "%colonies_submit anything --priority 60000")


def test_a_wait_nobody_can_serve_ends_in_call_timeout_naming_the_missing_executor(ip):
    with pytest.raises(CallTimeout, match=r"ColonyOS: no answer to the process orphan .* within 2 s; .* is waiting: "
                                          r"no executor of type 'nobody-serves' is registered on colony 'dev'"):
        run(ip, "%colonies_submit orphan --executortype nobody-serves --wait --timeout 2")


def test_a_wait_takes_the_configured_call_timeout_and_lists_the_executors_that_are_not_asking(ip, server, monkeypatch):
    async def silent_executor():
        client = server.client()
        await enroll(client, server, "silent-one", executortype="silent")
        await client.close()

    asyncio.run(silent_executor())
    monkeypatch.setenv("POLYNB_CALL_TIMEOUT", "2")
    with pytest.raises(CallTimeout, match=r"within 2 s; .* no live executor of type 'silent' asked for work; "
                                          r"the executors of that type the server knows: silent-one \(approved, "
                                          r"last heard \d+ s ago\)"):
        run(ip, "%colonies_submit hush --executortype silent --wait")


@pytest.mark.parametrize("line, message", [
    ("x --args [1", "--args is not JSON"), ("x --args {}", "--args must be a JSON list"),
    ("x --kwargs [1]", "--kwargs must be a JSON object"),
])
def test_bad_submit_options_are_one_clear_line(ip, line, message):
    with pytest.raises(UsageError, match=message):
        run(ip, f"%colonies_submit {line}")


def test_a_zero_concurrency_is_refused(ip):
    with pytest.raises(UsageError, match="--concurrency must be at least 1"):
        run(ip, "%%colonies_func f --concurrency 0\ndef f():\n    return 1")


def test_without_a_configured_server_the_local_one_starts_beside_the_journal(ip, journal_dir, monkeypatch):
    monkeypatch.delenv("COLONIES_SERVER_HOST")
    polynb.shutdown()
    run(ip, "%%colonies_func local_one\ndef local_one():\n    return 'here'")
    assert run(ip, "%colonies_submit local_one --wait --timeout 30") == ["here"]
    platform = next(p for p in polynb.get_journal().platforms() if p.platform == "colonies")
    assert platform.state == "ready" and platform.address.startswith("http://127.0.0.1:")
    assert (journal_dir / "colonies" / "server.sqlite").is_file()
