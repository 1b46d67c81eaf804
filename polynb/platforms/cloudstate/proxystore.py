"""The local proxy's event journal: events and snapshots per (persistence id, entity id) in SQLite.

It outlives kernels: a restarted kernel's entities are recovered from it, which is what makes the
state after a restart the same as before.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from google.protobuf import any_pb2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (persistence_id TEXT, entity_id TEXT, sequence INTEGER, type_url TEXT, value BLOB,
                                   PRIMARY KEY (persistence_id, entity_id, sequence));
CREATE TABLE IF NOT EXISTS snapshots (persistence_id TEXT, entity_id TEXT, sequence INTEGER, type_url TEXT, value BLOB,
                                      PRIMARY KEY (persistence_id, entity_id));
"""


class EventStore:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def persist(self, persistence_id: str, entity_id: str, first_sequence: int, events: list[any_pb2.Any],
                snapshot: any_pb2.Any | None) -> int:
        """Store a command's events (and its snapshot, at the last event) in one transaction; the last sequence."""
        last = first_sequence + len(events) - 1
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                                     [(persistence_id, entity_id, first_sequence + i, e.type_url, e.value)
                                      for i, e in enumerate(events)])
                if snapshot is not None:
                    self._db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?)",
                                     (persistence_id, entity_id, last, snapshot.type_url, snapshot.value))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return last

    def snapshot(self, persistence_id: str, entity_id: str) -> tuple[int, any_pb2.Any] | None:
        with self._lock:
            row = self._db.execute("SELECT sequence, type_url, value FROM snapshots WHERE persistence_id=? AND "
                                   "entity_id=?", (persistence_id, entity_id)).fetchone()
        return None if row is None else (row[0], any_pb2.Any(type_url=row[1], value=row[2]))

    def events(self, persistence_id: str, entity_id: str, after: int) -> list[tuple[int, any_pb2.Any]]:
        with self._lock:
            rows = self._db.execute("SELECT sequence, type_url, value FROM events WHERE persistence_id=? AND "
                                    "entity_id=? AND sequence>? ORDER BY sequence",
                                    (persistence_id, entity_id, after)).fetchall()
        return [(r[0], any_pb2.Any(type_url=r[1], value=r[2])) for r in rows]

    def last_sequence(self, persistence_id: str, entity_id: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(sequence) FROM events WHERE persistence_id=? AND entity_id=?",
                                   (persistence_id, entity_id)).fetchone()
        return row[0] or 0

    def close(self) -> None:
        self._db.close()
