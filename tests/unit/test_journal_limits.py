"""A record keeps at most ``core.max_record_bytes`` of each field, and says where it cut and how big it was."""
from __future__ import annotations

import sqlite3

import pytest

from polynb import jsonvalue
from polynb.config import ConfigError, Settings
from polynb.journal import FILENAME, Journal

MIB = 1 << 20
FIELDS = ("input", "output", "error", "traceback", "stdout", "stderr", "logs")


def stored_sizes(journal: Journal, record_id: str) -> dict[str, int]:
    """Bytes each field takes in the SQLite row, as any reader of the file sees them."""
    journal.flush()  # writes are queued: another connection sees them once committed
    with sqlite3.connect(journal.directory / FILENAME) as db:
        row = db.execute(f"SELECT {', '.join(f'CAST({f} AS BLOB)' for f in FIELDS)} FROM executions WHERE id=?",
                         (record_id,)).fetchone()
    return {field: len(value or b"") for field, value in zip(FIELDS, row, strict=True)}


def test_the_default_limit_is_one_mebibyte():
    assert Settings({}, environ={}, path=None).core.max_record_bytes == MIB


def test_a_limit_too_small_to_hold_the_mark_is_refused():
    with pytest.raises(ConfigError, match="max_record_bytes"):
        Settings({}, environ={"POLYNB_MAX_RECORD_BYTES": "10"}, path=None)


def test_every_field_over_the_limit_is_cut_to_it_and_marked_with_its_size(tmp_path):
    journal = Journal(tmp_path, max_record_bytes=MIB)
    huge = "é" * (4 * MIB)  # two bytes each in UTF-8: 8 MiB
    record_id = journal.open("kgrid", "big", {"blob": huge})
    journal.close(record_id, output=[huge], error=huge, traceback=huge, stdout=huge, stderr=huge,
                  logs=[{"message": huge}])
    sizes = stored_sizes(journal, record_id)
    assert all(size <= MIB for size in sizes.values()), sizes
    assert all(size > MIB - 4096 for size in sizes.values()), sizes  # cut to the limit, not far below it
    record = journal.get(record_id)
    assert record.input[jsonvalue.CUT].startswith('{"blob": "éé') and record.input["bytes"] == 8 * MIB + 12
    assert record.output["bytes"] == 8 * MIB + 4 and record.logs["bytes"] > 8 * MIB
    for text in (record.error, record.traceback, record.stdout, record.stderr):
        assert text.startswith("éé") and text.endswith(f"[polynb cut this field: it held {8 * MIB} bytes, "
                                                       f"a record keeps at most {MIB}]")


def test_fields_within_the_limit_are_kept_whole(tmp_path):
    journal = Journal(tmp_path, max_record_bytes=2048)
    record_id = journal.open("kgrid", "small", {"x": "y" * 1000})
    journal.close(record_id, output={"ok": True}, stdout="z" * 2000, logs=[{"message": "m"}])
    record = journal.get(record_id)
    assert (record.input, record.output, record.stdout, record.logs) == (
        {"x": "y" * 1000}, {"ok": True}, "z" * 2000, [{"message": "m"}])


def test_text_that_json_escapes_heavily_still_fits_once_marked(tmp_path):
    journal = Journal(tmp_path, max_record_bytes=4096)
    record_id = journal.open("kgrid", "quotes", '"\\' * 10_000)
    assert stored_sizes(journal, record_id)["input"] <= 4096
    assert journal.get(record_id).input["bytes"] > 40_000


def test_the_limit_comes_from_the_core_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYNB_MAX_RECORD_BYTES", "4096")
    journal = Journal(tmp_path)
    record_id = journal.open("kgrid", "env", "x" * 10_000)
    assert stored_sizes(journal, record_id)["input"] <= 4096 and journal.get(record_id).input["bytes"] == 10_002
