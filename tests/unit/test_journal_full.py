"""A journal that cannot commit (a full disk): nobody is told "done" for what is not on disk, what was queued is
written once there is room again, and what cannot be is named in the log (issue 14).

The full disk is SQLite's own: ``PRAGMA max_page_count`` at the file's current size on the writer's connection
answers every write that needs a new page with SQLITE_FULL ("database or disk is full"), as a full disk does."""
from __future__ import annotations

import logging

import httpx
import pytest

from polynb import journal_writer
from polynb.journal import FAILED, RECEIVED, RUNNING, SUCCEEDED, UNRECORDED, Journal
from polynb.journal_writer import JournalUnwritable
from polynb.payload import Payload
from polynb.service import Service

BULK = "x" * 20_000  # more than the free room of any page: a row holding it needs new pages


def disk(journal: Journal, full: bool) -> None:
    """Fill the journal's disk (no page beyond the file's current size) or give it room again."""
    db = journal._writer._db  # the writer thread's connection: the limit is per connection
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages if full else 1 << 30}")


@pytest.fixture
def journal(tmp_path):
    opened = Journal(tmp_path / ".polynb")
    yield opened
    disk(opened, full=False)
    opened.close_db()


def test_a_close_that_cannot_be_committed_fails_its_caller_and_the_record_says_so_once_there_is_room(journal):
    record_id = journal.open("fake", "hello", 1)
    journal.started(record_id, 1)
    journal.flush()
    disk(journal, full=True)
    with pytest.raises(JournalUnwritable, match="database or disk is full"):
        journal.close(record_id, output=BULK)
    assert journal.get(record_id).status != SUCCEEDED  # the result is not on disk

    disk(journal, full=False)
    journal.flush()  # the writer retries what it kept: the close's fallback (small: it may fit before)
    record = journal.get(record_id)
    assert (record.status, record.error, record.output) == (FAILED, UNRECORDED, None)


def test_records_opened_while_the_disk_is_full_are_written_in_order_once_there_is_room(journal):
    journal.flush()
    disk(journal, full=True)
    first, second = journal.open("fake", "hello", BULK), journal.open("fake", "hello", BULK)
    journal.started(first, 1)
    journal.flush()
    assert journal.get(first) is None and journal.get(second) is None

    disk(journal, full=False)
    journal.flush()
    assert (journal.get(first).status, journal.get(second).status) == (RUNNING, RECEIVED)
    journal.close(first, output=2)
    assert journal.get(first).status == SUCCEEDED
    assert journal.get(first).seq < journal.get(second).seq


def test_a_close_whose_record_was_never_written_is_not_reported_done(journal, monkeypatch, caplog):
    monkeypatch.setattr(journal_writer, "KEEP", 0)  # no room to keep a write for a retry: it is dropped
    journal.flush()
    disk(journal, full=True)
    with caplog.at_level(logging.ERROR, logger="polynb"):
        record_id = journal.open("fake", "hello", BULK)
        journal.flush()
    assert f"these executions are missing or left open in it: {record_id}" in caplog.text

    disk(journal, full=False)
    with pytest.raises(JournalUnwritable, match=f"execution {record_id} has no record"):
        journal.close(record_id, output=1)
    assert journal.get(record_id) is None


def test_writes_still_unwritten_when_the_journal_closes_are_named_in_the_log(tmp_path, caplog):
    journal = Journal(tmp_path)
    journal.flush()
    disk(journal, full=True)
    record_id = journal.open("fake", "hello", BULK)
    with caplog.at_level(logging.ERROR, logger="polynb"):
        journal.close_db()
    assert f"these executions are missing or left open in it: {record_id}" in caplog.text


def test_the_platform_is_not_answered_ok_for_an_execution_the_journal_could_not_record(tmp_path, registry):
    ns: dict = {}
    source = "def hello(x):\n    return len(x)"
    exec(source, ns)
    service = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns=ns)
    try:
        address = service.register(Payload("fake", "hello", source)).address
        service.journal.flush()
        disk(service.journal, full=True)
        reply = httpx.post(address, json=BULK, timeout=30)
        assert reply.status_code == 500 and "could not write its journal" in reply.json()["error"]
        assert service.journal.records(payload="hello") == []

        disk(service.journal, full=False)
        assert httpx.post(address, json="ok", timeout=30).json()["output"] == 2  # the next one commits the kept
        records = {r.input: r for r in service.journal.records(payload="hello")}
        assert (records[BULK].status, records[BULK].error) == (FAILED, UNRECORDED)
        assert records["ok"].status == SUCCEEDED
    finally:
        disk(service.journal, full=False)
        service.stop(timeout=1)
