"""The execution journal: every execution a record in SQLite, written before the payload runs.

One SQLite file (WAL, so readers such as the lab panel never block writers) under the notebook's
``.polynb/`` folder holds three tables: ``executions`` (the records), ``payloads`` (what each cell
registered, by version) and ``platforms`` (each binding's connection state). Observers are told which
record changed; they read the journal themselves, so a widget knows the journal and nothing else.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import jsonvalue
from .config import notebook_directory, notebook_path

RECEIVED, RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "received", "running", "succeeded", "failed", "interrupted"
STATUSES = (RECEIVED, RUNNING, SUCCEEDED, FAILED, INTERRUPTED)
OPEN_STATUSES = (RECEIVED, RUNNING)
FILENAME = "journal.sqlite"

#: Migration N brings a journal from schema version N to N + 1 (``PRAGMA user_version``); append, never edit.
#: Version 1 is the schema every unversioned journal already has (its statements are idempotent).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    platform TEXT NOT NULL,
    payload TEXT NOT NULL,
    version INTEGER,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    traceback TEXT,
    stdout TEXT NOT NULL DEFAULT '',
    stderr TEXT NOT NULL DEFAULT '',
    logs TEXT NOT NULL DEFAULT '[]',
    meta TEXT NOT NULL DEFAULT '{}',
    received_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    notebook TEXT
)""",
        "CREATE INDEX IF NOT EXISTS executions_seq ON executions(seq)",
        "CREATE INDEX IF NOT EXISTS executions_payload ON executions(platform, payload)",
        """CREATE TABLE IF NOT EXISTS payloads (
    platform TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    entry TEXT,
    source TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    cell_id TEXT,
    address TEXT,
    registered_at REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    notebook TEXT,
    PRIMARY KEY (platform, name, version)
)""",
        """CREATE TABLE IF NOT EXISTS platforms (
    platform TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    address TEXT,
    detail TEXT,
    updated_at REAL NOT NULL,
    pid INTEGER NOT NULL
)""",
    ),
)


class JournalError(RuntimeError):
    """A journal this polynb cannot use as it is."""


_JSON_COLUMNS = ("input", "output", "logs", "meta")


@dataclass
class Record:
    """One execution as the journal holds it."""

    id: str
    seq: int
    platform: str
    payload: str
    version: int | None
    status: str
    input: Any
    output: Any
    error: str | None
    traceback: str | None
    stdout: str
    stderr: str
    logs: list
    meta: dict
    received_at: float
    started_at: float | None
    finished_at: float | None
    host: str
    pid: int
    notebook: str | None

    @property
    def duration(self) -> float | None:
        """Seconds the payload ran, once it has finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class PayloadRow:
    platform: str
    name: str
    version: int
    digest: str
    entry: str | None
    source: str
    options: dict
    cell_id: str | None
    address: str | None
    registered_at: float
    active: bool
    notebook: str | None


@dataclass
class PlatformRow:
    platform: str
    state: str
    address: str | None
    detail: str | None
    updated_at: float


def default_directory() -> Path:
    """``.polynb/`` beside the notebook."""
    return notebook_directory() / ".polynb"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Journal:
    """Thread-safe writer and reader of one journal file.

    ``readonly`` opens an existing journal for readers that must not change it (the CLI, the lab
    panel's server extension): no schema creation, no marking of orphans.
    """

    def __init__(self, directory: str | os.PathLike | None = None, readonly: bool = False) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.path = self.directory / FILENAME
        self._lock = threading.RLock()
        self._observers: list[Callable[[str, str], None]] = []
        self.host = socket.gethostname()
        self.pid = os.getpid()
        notebook = notebook_path()
        self.notebook = str(notebook) if notebook is not None else None  # the writing kernel's notebook
        self.interrupted_on_open = 0
        if readonly:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                       isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        self.interrupted_on_open = self._interrupt_orphans()

    def _migrate(self) -> None:
        """Bring the file to the newest schema, in one write transaction, so kernels opening it together agree."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise JournalError(f"{self.path} has schema version {version}, written by a newer polynb "
                                   f"(this one knows {len(MIGRATIONS)}): upgrade polynb, or set POLYNB_JOURNAL_DIR")
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- observers -------------------------------------------------------------------------------
    def observe(self, callback: Callable[[str, str], None]) -> Callable[[], None]:
        """Call ``callback(kind, key)`` after every change; returns the function that stops it.

        ``kind`` is ``"execution"``, ``"payload"`` or ``"platform"``. Callbacks run on the writer's
        thread and must be quick: the widgets' throttled updater only marks itself dirty.
        """
        self._observers.append(callback)
        return lambda: self._observers.remove(callback) if callback in self._observers else None

    def _notify(self, kind: str, key: str) -> None:
        for callback in list(self._observers):
            try:
                callback(kind, key)
            except Exception:  # an observer's bug must never cost a record
                pass

    def _write(self, sql: str, params: Iterable[Any]) -> None:
        with self._lock:
            self._db.execute(sql, tuple(params))

    # -- executions ------------------------------------------------------------------------------
    def open(self, platform: str, payload: str, input: Any, meta: dict | None = None,
             version: int | None = None) -> str:
        """Write the record of an execution that just arrived; returns its id."""
        record_id = uuid.uuid4().hex
        with self._lock:  # seq is read and used in one write transaction: kernels sharing the file never repeat it
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM executions").fetchone()[0]
                self._db.execute(
                    "INSERT INTO executions (id, seq, platform, payload, version, status, input, meta,"
                    " received_at, host, pid, notebook) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (record_id, seq, platform, payload, version, RECEIVED, jsonvalue.dumps(input),
                     jsonvalue.dumps(meta or {}), time.time(), self.host, self.pid, self.notebook),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        self._notify("execution", record_id)
        return record_id

    def started(self, record_id: str, version: int | None) -> None:
        self._write("UPDATE executions SET status=?, version=?, started_at=? WHERE id=?",
                    (RUNNING, version, time.time(), record_id))
        self._notify("execution", record_id)

    def close(self, record_id: str, *, output: Any = None, error: str | None = None,
              traceback: str | None = None, stdout: str = "", stderr: str = "",
              logs: list | None = None, status: str | None = None, meta: dict | None = None) -> None:
        """Close a record with its result or its error, and what the payload printed and logged."""
        final = status or (FAILED if error is not None else SUCCEEDED)
        now = time.time()
        with self._lock:
            row = self._db.execute("SELECT meta, started_at FROM executions WHERE id=?", (record_id,)).fetchone()
            merged = {**jsonvalue.loads(row["meta"]), **(meta or {})} if row else (meta or {})
            self._db.execute(
                "UPDATE executions SET status=?, output=?, error=?, traceback=?, stdout=?, stderr=?,"
                " logs=?, meta=?, started_at=COALESCE(started_at, ?), finished_at=? WHERE id=?",
                (final, jsonvalue.dumps(output), error, traceback, stdout, stderr,
                 jsonvalue.dumps(logs or []), jsonvalue.dumps(merged), now, now, record_id),
            )
        self._notify("execution", record_id)

    def interrupt_open(self, reason: str) -> int:
        """Mark this process's records still open as interrupted (the service stopped under them)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE executions SET status=?, error=COALESCE(error, ?), finished_at=? "
                "WHERE status IN (?, ?) AND host=? AND pid=?",
                (INTERRUPTED, reason, time.time(), *OPEN_STATUSES, self.host, self.pid),
            )
        if cursor.rowcount:
            self._notify("execution", "*")
        return cursor.rowcount

    def _interrupt_orphans(self) -> int:
        """Records left open by a process that no longer runs (a restarted kernel) were interrupted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT host, pid FROM executions WHERE status IN (?, ?)", OPEN_STATUSES
            ).fetchall()
            dead = [(r["host"], r["pid"]) for r in rows
                    if r["host"] == self.host and not _pid_alive(r["pid"])]
            count = 0
            for host, pid in dead:
                count += self._db.execute(
                    "UPDATE executions SET status=?, error=COALESCE(error, ?), finished_at=COALESCE(finished_at, ?)"
                    " WHERE status IN (?, ?) AND host=? AND pid=?",
                    (INTERRUPTED, "the kernel stopped while this execution was open", time.time(),
                     *OPEN_STATUSES, host, pid),
                ).rowcount
        return count

    def get(self, record_id: str) -> Record | None:
        """One record by id, or by a unique prefix of its id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM executions WHERE id LIKE ? ORDER BY seq LIMIT 2", (record_id + "%",)
            ).fetchall()
        if len(rows) != 1:
            return None
        return _record(rows[0])

    def records(self, *, platform: str | None = None, payload: str | None = None,
                status: str | None = None, since: float | None = None, limit: int | None = 100,
                newest_first: bool = True, notebook: str | None = None, host: str | None = None,
                pid: int | None = None) -> list[Record]:
        """Records matching every given filter (``host`` and ``pid`` name the kernel that received them)."""
        clauses, params = [], []
        for column, value in (("platform", platform), ("payload", payload), ("status", status),
                              ("notebook", notebook), ("host", host), ("pid", pid)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("received_at >= ?")
            params.append(since)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if newest_first else "ASC"
        tail = " LIMIT ?" if limit is not None else ""
        if limit is not None:
            params.append(limit)
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM executions {where} ORDER BY seq {order}{tail}", params).fetchall()
        return [_record(row) for row in rows]

    def counts(self, platform: str, payload: str) -> dict[str, int]:
        """Executions of one payload by status."""
        with self._lock:
            rows = self._db.execute(
                "SELECT status, COUNT(*) AS n FROM executions WHERE platform=? AND payload=? GROUP BY status",
                (platform, payload),
            ).fetchall()
        return {row["status"]: row["n"] for row in rows}

    # -- payloads and platforms ------------------------------------------------------------------
    def payload_registered(self, platform: str, name: str, version: int, digest: str, entry: str | None,
                           source: str, options: dict, cell_id: str | None, address: str | None) -> None:
        with self._lock:
            self._db.execute("UPDATE payloads SET active=0 WHERE platform=? AND name=?", (platform, name))
            self._db.execute(
                "INSERT OR REPLACE INTO payloads VALUES (?,?,?,?,?,?,?,?,?,?,1,?)",
                (platform, name, version, digest, entry, source, jsonvalue.dumps(options), cell_id,
                 address, time.time(), self.notebook),
            )
        self._notify("payload", f"{platform}/{name}")

    def payload_unregistered(self, platform: str, name: str) -> None:
        self._write("UPDATE payloads SET active=0 WHERE platform=? AND name=?", (platform, name))
        self._notify("payload", f"{platform}/{name}")

    def payloads(self, active_only: bool = True, notebook: str | None = None) -> list[PayloadRow]:
        clauses = (["active=1"] if active_only else []) + (["notebook=?"] if notebook is not None else [])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params = [notebook] if notebook is not None else []
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM payloads {where} ORDER BY platform, name, version", params).fetchall()
        return [PayloadRow(**{**dict(row), "options": jsonvalue.loads(row["options"]),
                              "active": bool(row["active"])}) for row in rows]

    def platform_state(self, platform: str, state: str, address: str | None = None,
                       detail: str | None = None) -> None:
        self._write("INSERT OR REPLACE INTO platforms VALUES (?,?,?,?,?,?)",
                    (platform, state, address, detail, time.time(), self.pid))
        self._notify("platform", platform)

    def platforms(self) -> list[PlatformRow]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM platforms ORDER BY platform").fetchall()
        return [PlatformRow(**{k: row[k] for k in ("platform", "state", "address", "detail", "updated_at")})
                for row in rows]

    def close_db(self) -> None:
        with self._lock:
            self._db.close()


def _record(row: sqlite3.Row) -> Record:
    values = dict(row)
    for column in _JSON_COLUMNS:
        values[column] = jsonvalue.loads(values[column])
    return Record(**values)
