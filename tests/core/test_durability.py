"""``kill -9`` of a serving process mid-stream loses no answered execution and leaves no half-written record.

The journal commits in groups off the service loop (polynb/journal_writer.py): an execution's record is queued
when it arrives, and its platform is answered only once its final state is committed. Here a real process (a
Service with the fake platform, as a kernel runs it) serves a stream of executions over HTTP and is killed with
SIGKILL in the middle of it, while another connection (another kernel sharing the file) holds the write lock:
the writer cannot commit then, so a reply sent before its commit would be an answered execution lost.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from polynb.journal import FILENAME, INTERRUPTED, RECEIVED, RUNNING, SUCCEEDED, Journal

pytestmark = pytest.mark.servers  # its test kills a kernel-like process of its own

TESTS = Path(__file__).resolve().parents[1]

SERVER = """
import sys, time
from polynb.journal import Journal
from polynb.payload import Payload
from polynb.service import Service

ns = {"time": time}
source = "def hello(x):\\n    time.sleep(0.002)\\n    return x"
exec(source, ns)
service = Service(journal=Journal(sys.argv[1]), notebook_ns=ns)
print(service.register(Payload("fake", "hello", source)).address, flush=True)
time.sleep(600)
"""


def serve(journal_dir: Path, registry: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "POLYNB_PLUGINS": "fakeplatform", "FAKE_REGISTRY_URL": registry}
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(journal_dir)], stdout=subprocess.PIPE, env=env,
                               text=True)
    return process, process.stdout.readline().strip()


def drive(address: str, answered: dict[str, int], enough: threading.Event, lock: threading.Lock,
          first: int, clients: int) -> None:
    """Post inputs until the server is gone; keep (record id -> input) of every reply received."""
    value = first
    with httpx.Client(timeout=10) as client:
        while True:
            try:
                reply = client.post(address, json=value)
            except httpx.HTTPError:
                return
            assert reply.status_code == 200, reply.text
            with lock:
                answered[reply.json()["record"]] = value
                if len(answered) >= 400:
                    enough.set()
            value += clients


def test_kill_9_mid_stream_keeps_every_answered_execution_and_no_half_record(tmp_path, registry):
    journal_dir = tmp_path / ".polynb"
    process, address = serve(journal_dir, registry)
    assert address.startswith("http"), "the serving process did not start"
    answered: dict[str, int] = {}
    enough, lock, clients = threading.Event(), threading.Lock(), 16
    drivers = [threading.Thread(target=drive, args=(address, answered, enough, lock, n, clients))
               for n in range(clients)]
    for driver in drivers:
        driver.start()
    other_kernel = sqlite3.connect(journal_dir / FILENAME, isolation_level=None, timeout=30)
    try:
        assert enough.wait(120), "the stream never got going"
        other_kernel.execute("BEGIN IMMEDIATE")  # the writer waits for this lock, the clients keep sending
        threading.Event().wait(1.0)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        other_kernel.close()
        process.wait(10)
        for driver in drivers:
            driver.join(30)

    db = sqlite3.connect(journal_dir / FILENAME)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = {row[0]: row[1:] for row in db.execute("SELECT id, status, input, output, seq FROM executions")}
    db.close()
    missing = [record for record, value in answered.items()
               if rows.get(record, (None,))[:3] != (SUCCEEDED, str(value), str(value))]
    assert missing == [], f"{len(missing)} answered executions are not in the journal as succeeded"
    statuses = {status for status, *_ in rows.values()}
    assert statuses <= {RECEIVED, RUNNING, SUCCEEDED}
    assert all(status == SUCCEEDED or output is None for status, _, output, _ in rows.values())
    assert len({seq for *_, seq in rows.values()}) == len(rows)  # seq unique

    reopened = Journal(journal_dir)  # opens cleanly; what the killed process left open is marked interrupted
    try:
        left_open = sum(status in (RECEIVED, RUNNING) for status, *_ in rows.values())
        assert reopened.interrupted_on_open == left_open
        assert {r.status for r in reopened.records(limit=None)} <= {SUCCEEDED, INTERRUPTED}
    finally:
        reopened.close_db()
