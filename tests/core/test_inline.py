"""Payloads that have always been fast run on the service loop (polynb.inline), journaled and stoppable as on a worker."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from polynb.inline import DEMOTIONS, STREAK
from polynb.journal import SUCCEEDED, TIMED_OUT, Journal
from polynb.payload import Payload
from polynb.service import Service

#: the thread that runs it, and what it printed; "spin" never returns, "slow" takes longer than the test's budget
SOURCE = """import threading, time
def hello(x):
    print("ran", x)
    while x == "spin":
        pass
    if x == "slow":
        time.sleep(0.2)
    return threading.current_thread().name
"""


@contextlib.contextmanager
def serving(folder: Path, source: str, **options) -> Iterator[tuple[str, Service]]:
    """A service of its own with ``hello`` of ``source`` registered on the fake platform: (its address, it)."""
    ns: dict = {}
    exec(source, ns)
    service = Service(journal=Journal(folder / ".polynb"), notebook_ns=ns)
    try:
        yield service.register(Payload("fake", "hello", source, options=options)).address, service
    finally:
        service.stop(timeout=1)


@pytest.fixture
def address(tmp_path, registry, monkeypatch):
    monkeypatch.setenv("POLYNB_INLINE_BUDGET", "0.05")  # generous: a busy test machine must not decide the test
    monkeypatch.setenv("POLYNB_CANCEL_GRACE", "1")
    with serving(tmp_path, SOURCE, timeout=1) as running:
        yield running


def threads(address: str, inputs: list) -> list[str]:
    replies = [httpx.post(address, json=x, timeout=30) for x in inputs]
    assert all(reply.status_code == 200 for reply in replies), [reply.text for reply in replies]
    return [reply.json()["output"] for reply in replies]


def test_after_a_streak_of_fast_runs_a_payload_runs_on_the_loop_and_is_journaled_alike(address):
    url, service = address
    ran = threads(url, list(range(STREAK + 2)))
    assert all(name.startswith("polynb-exec") for name in ran[:STREAK])
    assert ran[STREAK:] == ["polynb-service", "polynb-service"]
    [last] = service.journal.records(limit=1)
    assert (last.status, last.output, last.stdout) == (SUCCEEDED, "polynb-service", f"ran {STREAK + 1}\n")


def test_slow_runs_on_the_loop_send_the_payload_back_to_the_workers_and_the_third_for_good(address):
    url, _ = address
    for _ in range(DEMOTIONS):
        threads(url, list(range(STREAK)))
        assert threads(url, ["slow"]) == ["polynb-service"]  # it had earned the loop; this run loses it
    assert all(name.startswith("polynb-exec") for name in threads(url, list(range(2 * STREAK))))


def test_a_slow_run_on_a_worker_starts_the_count_again(address):
    url, _ = address
    threads(url, list(range(STREAK - 1)))
    assert threads(url, ["slow"])[0].startswith("polynb-exec")
    ran = threads(url, list(range(STREAK + 1)))
    assert all(name.startswith("polynb-exec") for name in ran[:STREAK]) and ran[STREAK] == "polynb-service"


def test_a_payload_that_hangs_on_the_loop_is_timed_out_and_the_service_goes_on(address):
    url, service = address
    threads(url, list(range(STREAK)))
    reply = httpx.post(url, json="spin", timeout=30)
    assert (reply.status_code, reply.json()["type"]) == (500, "ExecutionTimedOut")
    spun = service.journal.records(limit=1)[0]
    assert (spun.status, spun.stdout) == (TIMED_OUT, "ran spin\n")
    assert all(name.startswith("polynb-exec") for name in threads(url, [1, 2]))  # back to earning the loop


def test_a_zero_budget_keeps_every_run_on_the_workers(tmp_path, registry, monkeypatch):
    monkeypatch.setenv("POLYNB_INLINE_BUDGET", "0")
    with serving(tmp_path, SOURCE) as (url, _):
        assert all(name.startswith("polynb-exec") for name in threads(url, list(range(STREAK + 4))))


def test_an_async_payload_stays_on_the_workers(tmp_path, registry, monkeypatch):
    """It awaits on its worker's own event loop, which the service loop's thread cannot run."""
    monkeypatch.setenv("POLYNB_INLINE_BUDGET", "0.05")
    source = "import threading\nasync def hello(x):\n    return threading.current_thread().name\n"
    with serving(tmp_path, source) as (url, _):
        assert all(name.startswith("polynb-exec") for name in threads(url, list(range(STREAK + 4))))
