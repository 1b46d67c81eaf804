import sqlite3
import subprocess
import sys

import pytest

from polynb.journal import FAILED, INTERRUPTED, MIGRATIONS, RECEIVED, RUNNING, SUCCEEDED, Journal, JournalError


def test_a_record_exists_as_received_before_the_payload_runs(tmp_path):
    journal = Journal(tmp_path)
    record_id = journal.open("fake", "hello", {"x": 1}, {"request": "r1"})
    record = journal.get(record_id)
    assert record.status == RECEIVED
    assert record.input == {"x": 1}
    assert record.meta == {"request": "r1"}
    assert record.started_at is None and record.finished_at is None


def test_a_record_moves_through_running_to_succeeded_with_what_the_payload_printed(tmp_path):
    journal = Journal(tmp_path)
    record_id = journal.open("fake", "hello", 1)
    journal.started(record_id, 3)
    assert journal.get(record_id).status == RUNNING
    journal.close(record_id, output={"y": 2}, stdout="out\n", stderr="err\n",
                  logs=[{"level": "INFO", "message": "m"}], meta={"extra": True})
    record = journal.get(record_id)
    assert (record.status, record.version, record.output) == (SUCCEEDED, 3, {"y": 2})
    assert (record.stdout, record.stderr) == ("out\n", "err\n")
    assert record.logs == [{"level": "INFO", "message": "m"}]
    assert record.duration is not None and record.duration >= 0


def test_an_error_closes_a_record_as_failed_with_its_traceback(tmp_path):
    journal = Journal(tmp_path)
    record_id = journal.open("fake", "hello", 1)
    journal.close(record_id, error="ValueError: bad", traceback="Traceback ...")
    record = journal.get(record_id)
    assert (record.status, record.error, record.traceback) == (FAILED, "ValueError: bad", "Traceback ...")


def test_records_filter_by_platform_payload_and_status_newest_first(tmp_path):
    journal = Journal(tmp_path)
    ids = [journal.open(p, n, i) for i, (p, n) in enumerate([("a", "x"), ("a", "y"), ("b", "x"), ("a", "x")])]
    journal.close(ids[3], error="boom")
    assert [r.id for r in journal.records(platform="a", payload="x")] == [ids[3], ids[0]]
    assert [r.id for r in journal.records(status=FAILED)] == [ids[3]]
    assert [r.seq for r in journal.records(newest_first=False)] == [1, 2, 3, 4]
    assert len(journal.records(limit=2)) == 2
    assert journal.counts("a", "x") == {RECEIVED: 1, FAILED: 1}


def test_a_unique_id_prefix_finds_its_record(tmp_path):
    journal = Journal(tmp_path)
    record_id = journal.open("fake", "hello", 1)
    assert journal.get(record_id[:6]).id == record_id
    assert journal.get("zzzz") is None


def test_an_id_prefix_is_taken_literally(tmp_path):
    """``%`` and ``_`` are no wildcards, case counts, and an empty prefix names no record even in a journal of one."""
    journal = Journal(tmp_path)
    record_id = journal.open("fake", "hello", 1)
    assert [journal.get(prefix) for prefix in ("%", "_" * 8, record_id[:4] + "%", record_id.upper(), "")] == \
        [None] * 5
    assert journal.get(record_id).id == record_id


def test_the_journal_file_is_in_wal_mode_so_readers_never_block_the_writer(tmp_path):
    Journal(tmp_path)
    mode = sqlite3.connect(tmp_path / "journal.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_records_left_open_by_a_process_that_died_are_interrupted_on_open(tmp_path):
    code = (f"from polynb.journal import Journal; j = Journal({str(tmp_path)!r}); "
            "r = j.open('fake', 'hello', 1); j.started(r, 1); print(r)")
    orphan = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    journal = Journal(tmp_path)
    assert journal.interrupted_on_open == 1
    record = journal.get(orphan)
    assert record.status == INTERRUPTED
    assert "kernel stopped" in record.error


def test_open_records_of_a_live_process_are_left_alone(tmp_path):
    first = Journal(tmp_path)
    record_id = first.open("fake", "hello", 1)
    first.flush()  # the open is queued: another connection sees it once it is committed
    second = Journal(tmp_path)
    assert second.interrupted_on_open == 0
    assert second.get(record_id).status == RECEIVED


def test_interrupt_open_marks_only_this_process_records(tmp_path):
    journal = Journal(tmp_path)
    open_id = journal.open("fake", "a", 1)
    done_id = journal.open("fake", "b", 1)
    journal.close(done_id, output=1)
    assert journal.interrupt_open("stopping") == 1
    assert journal.get(open_id).status == INTERRUPTED
    assert journal.get(done_id).status == SUCCEEDED


def test_payload_versions_and_platform_states_are_kept(tmp_path):
    journal = Journal(tmp_path)
    journal.payload_registered("fake", "hello", 1, "d1", "hello", "def hello(x): ...", {}, "cell-1", "http://a")
    journal.payload_registered("fake", "hello", 2, "d2", "hello", "def hello(x): 2", {"k": 1}, "cell-1", "http://a")
    active = journal.payloads()
    assert [(p.name, p.version, p.options) for p in active] == [("hello", 2, {"k": 1})]
    assert len(journal.payloads(active_only=False)) == 2
    journal.platform_state("fake", "ready", "http://a")
    assert [(p.platform, p.state, p.address) for p in journal.platforms()] == [("fake", "ready", "http://a")]


def test_observers_hear_every_change_and_a_broken_observer_costs_nothing(tmp_path):
    journal = Journal(tmp_path)
    heard = []
    journal.observe(lambda kind, key: 1 / 0)
    stop = journal.observe(lambda kind, key: heard.append(kind))
    record_id = journal.open("fake", "hello", 1)
    journal.close(record_id, output=1)
    journal.platform_state("fake", "ready")
    stop()
    journal.open("fake", "hello", 2)
    assert heard == ["execution", "execution", "platform"]
    assert len(journal.records()) == 2


def test_a_readonly_journal_reads_and_cannot_write(tmp_path):
    writer = Journal(tmp_path)
    record_id = writer.open("fake", "hello", 1)
    writer.flush()  # the open is queued: another connection sees it once it is committed
    reader = Journal(tmp_path, readonly=True)
    assert reader.get(record_id).input == 1
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.open("fake", "hello", 2)
    assert reader.interrupted_on_open == 0


def test_records_and_payloads_name_the_notebook_of_the_kernel_that_wrote_them(tmp_path, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/a.ipynb")
    first = Journal(tmp_path)
    first.open("fake", "hello", 1)
    first.payload_registered("fake", "hello", 1, "d", "hello", "src", {}, "c1", None)
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/b.ipynb")
    second = Journal(tmp_path)
    second.open("fake", "other", 2)
    assert [r.payload for r in second.records(notebook="/work/a.ipynb")] == ["hello"]
    assert [p.name for p in second.payloads(notebook="/work/a.ipynb")] == ["hello"]
    assert second.payloads(notebook="/work/b.ipynb") == []


def test_a_new_journal_carries_the_newest_schema_version(tmp_path):
    Journal(tmp_path).close_db()
    assert sqlite3.connect(tmp_path / "journal.sqlite").execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_an_unversioned_journal_of_an_earlier_polynb_keeps_its_records_and_gains_the_version(tmp_path):
    db = sqlite3.connect(tmp_path / "journal.sqlite")  # the schema an unversioned polynb wrote: migration 1's
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("INSERT INTO executions (id, seq, platform, payload, status, input, received_at, host, pid)"
               " VALUES ('old', 1, 'fake', 'hello', 'succeeded', '{\"x\": 1}', 1.0, 'h', 1)")
    db.commit()
    db.close()
    reopened = Journal(tmp_path)
    try:
        assert reopened.get("old").input == {"x": 1}
        assert reopened._db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        reopened.close_db()


def test_migrations_run_in_order_from_the_files_version(tmp_path, monkeypatch):
    Journal(tmp_path).close_db()
    later = ("ALTER TABLE executions ADD COLUMN lease TEXT", "UPDATE executions SET lease = 'none'")
    monkeypatch.setattr("polynb.journal.MIGRATIONS", (*MIGRATIONS, later))
    journal = Journal(tmp_path)
    try:
        columns = {row["name"] for row in journal._db.execute("PRAGMA table_info(executions)")}
        assert "lease" in columns
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    finally:
        journal.close_db()


def test_a_journal_of_a_newer_polynb_is_refused_with_what_to_do(tmp_path):
    Journal(tmp_path).close_db()
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.commit()
    with pytest.raises(JournalError, match="newer polynb"):
        Journal(tmp_path)


def test_kernels_writing_one_journal_at_once_never_repeat_a_seq(tmp_path):
    writer = ("import sys\nfrom polynb.journal import Journal\njournal = Journal(sys.argv[1])\n"
              "for n in range(400):\n    journal.open('fake', 'p', n)\n")
    writers = [subprocess.Popen([sys.executable, "-c", writer, str(tmp_path)]) for _ in range(4)]
    assert [w.wait(120) for w in writers] == [0, 0, 0, 0]
    seqs = [row[0] for row in sqlite3.connect(tmp_path / "journal.sqlite").execute("SELECT seq FROM executions")]
    assert len(seqs) == 1600 and len(set(seqs)) == 1600


def status_on_disk(tmp_path, record_id):
    """The record's status as another connection (another process) reads the file."""
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        row = db.execute("SELECT status FROM executions WHERE id=?", (record_id,)).fetchone()
    return row[0] if row else None


def test_close_returns_once_the_final_state_is_committed(tmp_path):
    """The platform is answered after close returns: by then any reader of the file sees the final state."""
    journal = Journal(tmp_path)
    record_id = journal.open("fake", "hello", 1)
    journal.started(record_id, 1)
    journal.close(record_id, output=2)
    assert status_on_disk(tmp_path, record_id) == SUCCEEDED


def test_observers_hear_of_a_change_once_it_is_committed(tmp_path):
    journal = Journal(tmp_path)
    seen = []
    journal.observe(lambda kind, key: seen.append(status_on_disk(tmp_path, key)) if kind == "execution" else None)
    record_id = journal.open("fake", "hello", 1)
    journal.close(record_id, output=2)
    assert len(seen) == 2 and seen[0] in (RECEIVED, SUCCEEDED) and seen[1] == SUCCEEDED  # on disk when heard


def test_a_write_held_up_by_another_kernels_lock_commits_once_it_is_released(tmp_path):
    """The writer waits for the file (busy timeout) off the caller's thread: open returns at once."""
    journal = Journal(tmp_path)
    other_kernel = sqlite3.connect(tmp_path / "journal.sqlite", isolation_level=None)
    other_kernel.execute("BEGIN IMMEDIATE")
    record_id = journal.open("fake", "hello", 1)  # queued: does not wait for the lock
    closed = journal.closing(record_id, output=2)
    assert not closed.done()
    other_kernel.execute("COMMIT")
    closed.result(timeout=30)
    assert status_on_disk(tmp_path, record_id) == SUCCEEDED
