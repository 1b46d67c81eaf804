"""Records left open by a kernel that is gone are interrupted when a journal is opened, whichever host that kernel
ran on: on this host its pid tells, elsewhere the lease it renews in ``platforms`` while it lives (issue 14).

A kernel "on another host" is a real Journal written under another host name; a lease or a record growing old is
its timestamp moved back in the file, as the clock would have moved it."""
from __future__ import annotations

import os
import socket
import sqlite3

import pytest

from polynb.journal import FILENAME, INTERRUPTED, LEASE, RECEIVED, RUNNING, Journal


def kernel_on(host: str, monkeypatch, folder) -> Journal:
    """A journal writer as a kernel on ``host`` opens it (a shared folder: NFS, a synced volume)."""
    with monkeypatch.context() as patch:
        patch.setattr(socket, "gethostname", lambda: host)
        return Journal(folder)


def age(folder, sql: str, *params) -> None:
    """Move timestamps back in the journal file, as time passing with no renewal would."""
    with sqlite3.connect(folder / FILENAME) as db:
        db.execute(sql, params)


def leave_open(journal: Journal, platforms: tuple[str, ...] = ("fake",)) -> str:
    """A record left running by ``journal``'s kernel, which reported its platforms (taking leases), then vanished."""
    for platform in platforms:
        journal.platform_state(platform, "ready")
    record_id = journal.open("fake", "hello", 1)
    journal.started(record_id, 1)
    journal.close_db()  # the lease keeper stops with it: nobody renews that kernel's leases any more
    return record_id


def test_a_record_held_by_a_kernel_on_another_host_whose_lease_expired_is_interrupted(tmp_path, monkeypatch):
    record_id = leave_open(kernel_on("elsewhere", monkeypatch, tmp_path))
    age(tmp_path, "UPDATE platforms SET lease_until = lease_until - ?", 2 * LEASE)
    journal = Journal(tmp_path)
    assert journal.interrupted_on_open == 1
    record = journal.get(record_id)
    assert record.status == INTERRUPTED and record.finished_at is not None
    assert "kernel on elsewhere" in record.error and "lease" in record.error


def test_a_record_held_by_a_kernel_on_another_host_with_a_live_lease_is_left_running(tmp_path, monkeypatch):
    record_id = leave_open(kernel_on("elsewhere", monkeypatch, tmp_path))
    journal = Journal(tmp_path)
    assert journal.interrupted_on_open == 0 and journal.get(record_id).status == RUNNING


def test_one_live_lease_of_several_keeps_the_kernels_records(tmp_path, monkeypatch):
    record_id = leave_open(kernel_on("elsewhere", monkeypatch, tmp_path), platforms=("fake", "aio"))
    age(tmp_path, "UPDATE platforms SET lease_until = lease_until - ? WHERE platform = 'aio'", 2 * LEASE)
    assert Journal(tmp_path).get(record_id).status == RUNNING


def test_a_kernel_elsewhere_without_a_lease_is_judged_by_its_last_record(tmp_path, monkeypatch):
    remote = kernel_on("elsewhere", monkeypatch, tmp_path)
    recent, old = remote.open("fake", "hello", 1), remote.open("fake", "hello", 2)
    remote.close_db()
    assert Journal(tmp_path).get(recent).status == RECEIVED  # it wrote within a lease period: maybe it still runs

    age(tmp_path, "UPDATE executions SET received_at = received_at - ?", 2 * LEASE)
    journal = Journal(tmp_path)
    assert journal.interrupted_on_open == 2
    assert {journal.get(i).status for i in (recent, old)} == {INTERRUPTED}


def test_a_reused_pid_on_this_host_is_told_apart_by_its_start_time(tmp_path, monkeypatch):
    """A pid on this host that runs again is another process when its start time is not the lease's (pid reuse)."""
    before = kernel_on(socket.gethostname(), monkeypatch, tmp_path)
    before.process_started = -1.0  # the start time the earlier holder of this pid had
    record_id = leave_open(before)
    journal = Journal(tmp_path)
    assert journal.pid == os.getpid() and journal.interrupted_on_open == 1
    assert journal.get(record_id).error == "the kernel stopped while this execution was open"


@pytest.mark.parametrize("host", ["", "elsewhere"])
def test_records_of_a_live_kernel_of_this_host_or_a_leased_one_stay_open(tmp_path, monkeypatch, host):
    writer = kernel_on(host or socket.gethostname(), monkeypatch, tmp_path)
    writer.platform_state("fake", "ready")
    record_id = writer.open("fake", "hello", 1)
    writer.flush()
    try:
        assert Journal(tmp_path).get(record_id).status == RECEIVED
    finally:
        writer.close_db()
