"""``polynb journal`` and ``polynb status`` on journals they cannot write or cannot read: one clear line, or the
records all the same (a read-only WAL journal), never a traceback."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import run_polynb

from polynb.journal import FILENAME

NOBODY = 65534
WRITE_RECORDS = """
import os, sys
from polynb.journal import Journal
journal = Journal(sys.argv[1])
for number in range(3):
    journal.close(journal.open("fake", "kept", {"n": number}), output=number)
os._exit(0)  # no checkpoint at close: the records stay in the WAL
"""


@pytest.mark.parametrize("command", ["journal", "status"])
@pytest.mark.parametrize("content, problem", [(b"this is not a database at all" * 100, "file is not a database"),
                                              (b"", "no such table")])
def test_an_unreadable_journal_is_one_line_naming_it(tmp_path, command, content, problem):
    (tmp_path / FILENAME).write_bytes(content)
    result = run_polynb(command, str(tmp_path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()] and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"polynb: cannot read the journal {tmp_path / FILENAME}: ")
    assert problem in result.stderr


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder another user can reach (pytest's own temporary folders are the owner's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="polynb-readonly-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(folder)


def as_reader_who_cannot_write(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``polynb ARGS`` as a user without write access: root writes anywhere, so root runs it as nobody."""
    become = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if os.geteuid() == 0 else []
    return subprocess.run([*become, sys.executable, "-m", "polynb", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={**os.environ, "HOME": str(cwd)})


def read_only(folder: Path) -> None:
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)


def journal_with_records_in_its_wal(folder: Path) -> Path:
    journal = folder / ".polynb"
    subprocess.run([sys.executable, "-c", WRITE_RECORDS, str(journal)], check=True, timeout=120)
    assert (journal / f"{FILENAME}-wal").stat().st_size > 0
    return journal


@pytest.mark.parametrize("keep_shm", [True, False], ids=["with its -shm", "without its -shm"])
def test_a_read_only_wal_journal_is_still_read_whole(shared_folder, keep_shm):
    journal = journal_with_records_in_its_wal(shared_folder)
    if not keep_shm:
        (journal / f"{FILENAME}-shm").unlink()
    read_only(journal)
    result = as_reader_who_cannot_write(["journal", str(journal), "--json"], shared_folder)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3 and "Traceback" not in result.stderr
    assert sorted(path.name for path in journal.iterdir()) == sorted(
        [FILENAME, f"{FILENAME}-wal"] + ([f"{FILENAME}-shm"] if keep_shm else []))


def test_a_read_only_journal_closed_cleanly_is_read(shared_folder):
    journal = shared_folder / ".polynb"
    subprocess.run([sys.executable, "-c", WRITE_RECORDS.replace("os._exit(0)", "journal.close_db()"), str(journal)],
                   check=True, timeout=120)
    read_only(journal)
    result = as_reader_who_cannot_write(["status", str(journal)], shared_folder)
    assert result.returncode == 0, result.stderr
    result = as_reader_who_cannot_write(["journal", str(journal), "--json"], shared_folder)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3, result.stderr
