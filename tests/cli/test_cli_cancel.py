"""``polynb cancel ID``: a cancel request through the journal, for the kernel that runs the execution to act on."""
from __future__ import annotations

import pytest
from support import run_polynb

from polynb.journal import Journal


@pytest.fixture
def journal(tmp_path):
    """A journal this test process writes as a kernel would (its records' pid lives, so they stay open)."""
    journal = Journal(tmp_path / ".polynb")
    yield journal
    journal.close_db()


def test_cancel_asks_for_an_open_execution_and_names_it(journal):
    record_id = journal.open("fake", "slow", 1)
    journal.started(record_id, 1)
    result = run_polynb("cancel", record_id[:10], "--journal", str(journal.directory))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"cancel requested for {record_id} fake:slow\n"
    assert journal.cancel_requests([record_id]) == {record_id: "cancelled with polynb cancel"}


def test_cancel_reads_the_journal_of_the_working_directory_by_default(journal):
    record_id = journal.open("fake", "slow", 1)
    journal.flush()
    result = run_polynb("cancel", record_id, cwd=journal.directory.parent)
    assert result.returncode == 0, result.stderr
    assert record_id in journal.cancel_requests([record_id])


def test_cancel_of_a_finished_execution_says_how_it_ended_and_fails(journal):
    record_id = journal.open("fake", "quick", 1)
    journal.close(record_id, output=2)
    result = run_polynb("cancel", record_id, "--journal", str(journal.directory))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"polynb: no open execution {record_id} (it ended succeeded)\n"
    assert journal.cancel_requests([record_id]) == {}


def test_cancel_of_an_unknown_execution_fails_in_one_line(journal):
    journal.open("fake", "slow", 1)
    result = run_polynb("cancel", "feedbeef", "--journal", str(journal.directory))
    assert (result.returncode, result.stderr) == (1, "polynb: no open execution feedbeef\n")


@pytest.mark.parametrize("record_id", ["%", "_", "ab cd", "ABC"])
def test_an_id_that_is_no_lowercase_hex_is_refused_before_the_journal_is_read(journal, record_id):
    """LIKE wildcards in an id would match whatever record comes first: never let one through."""
    journal.open("fake", "slow", 1)
    result = run_polynb("cancel", record_id, "--journal", str(journal.directory))
    assert result.returncode == 2
    assert "an execution id is lowercase hexadecimal" in result.stderr
    assert journal.cancel_requests([r.id for r in journal.records()]) == {}


def test_cancel_without_a_journal_says_so(tmp_path):
    result = run_polynb("cancel", "feedbeef", "--journal", str(tmp_path))
    assert (result.returncode, result.stderr) == (1, f"polynb: no journal in {tmp_path}\n")
