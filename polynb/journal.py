"""The execution journal: every execution a record in SQLite, queued before the payload runs and committed,
in its final state, before its platform is answered (one writer thread commits in groups: journal_writer.py).

One SQLite file (WAL, so readers such as the lab panel never block writers) under the notebook's
``.polynb/`` folder holds three tables: ``executions`` (the records), ``payloads`` (what each cell
registered, by version) and ``platforms`` (each kernel's binding states, with what tells a reader whether
that kernel still runs). Observers are told which record changed; they read the journal themselves, so a
widget knows the journal and nothing else.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import jsonvalue
from .config import core_section, notebook_directory, notebook_path
from .journal_writer import GroupWriter, JournalUnwritable

RECEIVED, RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "received", "running", "succeeded", "failed", "interrupted"
CANCELLED, TIMED_OUT = "cancelled", "timed out"  # stopped on request (cancel), stopped by its --timeout
STATUSES = (RECEIVED, RUNNING, SUCCEEDED, FAILED, INTERRUPTED, CANCELLED, TIMED_OUT)
OPEN_STATUSES = (RECEIVED, RUNNING)
UNSUCCESSFUL = (FAILED, INTERRUPTED, CANCELLED, TIMED_OUT)  # what ended without a result: shown as failures
STOPPED, GONE = "stopped", "gone"  # a platform stopped by its kernel; one whose kernel exited without saying so
LEASE = 60.0  # seconds a platform state stays trusted on other hosts unless its kernel renews it
#: the error of a record whose close could not be committed (a full disk), written once the journal takes writes
UNRECORDED = ("polynb could not record how this execution ended (its journal could not commit, e.g. a full disk); "
              "the platform was answered with that error, not with a result")
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
    (  # 2: platform states per kernel (host, pid, process start, lease); indexes for the widgets' refreshes
        """CREATE TABLE platform_states (
    platform TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    process_started REAL,
    state TEXT NOT NULL,
    address TEXT,
    detail TEXT,
    updated_at REAL NOT NULL,
    lease_until REAL,
    PRIMARY KEY (platform, host, pid)
)""",
        "INSERT INTO platform_states (platform, host, pid, state, address, detail, updated_at)"
        " SELECT platform, '', pid, state, address, detail, updated_at FROM platforms",
        "DROP TABLE platforms",
        "ALTER TABLE platform_states RENAME TO platforms",
        # a kernel's executions of a payload, newest last, with what counting them needs (status, version)
        "CREATE INDEX IF NOT EXISTS executions_kernel"
        " ON executions(platform, payload, host, pid, received_at, status, version)",
        "CREATE INDEX IF NOT EXISTS executions_recent ON executions(platform, payload, received_at)",
        "CREATE INDEX IF NOT EXISTS executions_received ON executions(received_at)",
        "DROP INDEX IF EXISTS executions_payload",  # executions_recent starts with the same columns
    ),
    (  # 3: cancellations asked for by any process (panel, CLI, another kernel); each payload version's signature
        """CREATE TABLE cancel_requests (
    record_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    requested_at REAL NOT NULL
)""",
        "ALTER TABLE payloads ADD COLUMN signature TEXT",
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
    logs: list[dict[str, Any]]
    meta: dict[str, Any]
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

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class PayloadRow:
    platform: str
    name: str
    version: int
    digest: str
    entry: str | None
    source: str
    options: dict[str, Any]
    cell_id: str | None
    address: str | None
    registered_at: float
    active: bool
    notebook: str | None
    signature: dict[str, Any] | None = None  # the payload's input and output shape, where its platform has one


@dataclass
class PlatformRow:
    """A platform's state as one kernel (``host``, ``pid``) last reported it; ``gone`` once that kernel has exited."""

    platform: str
    state: str
    address: str | None
    detail: str | None
    updated_at: float
    host: str = ""
    pid: int = 0
    reported: str = ""  # the state the kernel wrote, kept when ``state`` says it is gone


def default_directory(notebook_folder: Path | None = None) -> Path:
    """The one answer to "where is this notebook's journal": ``core.journal_dir`` (``POLYNB_JOURNAL_DIR`` or
    ``polynb.yaml``; a relative one beside the notebook), else ``.polynb/`` beside the notebook.

    ``notebook_folder`` defaults to this kernel's notebook's folder; the lab extension names each session's.
    """
    folder = notebook_folder or notebook_directory()
    return folder / (core_section(folder).journal_dir or ".polynb")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_started(pid: int) -> float | None:
    """When a process started, in clock ticks since boot (Linux ``/proc``), so a reused pid is told apart;
    None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return float(stat.rpartition(")")[2].split()[19])


def kernel_alive(host: str, pid: int, started: float | None, lease_until: float | None,
                 here: str, now: float) -> bool:
    """Whether the kernel that wrote a row still runs: on this host, its pid with the same start time;
    elsewhere, its lease (renewed while it lives) has not expired."""
    if host == here:
        return _pid_alive(pid) and (started is None or process_started(pid) in (None, started))
    return lease_until is not None and lease_until > now


class Journal:
    """Thread-safe writer and reader of one journal file.

    ``readonly`` opens an existing journal for readers that must not change it (the CLI, the lab
    panel's server extension): no schema creation, no marking of orphans.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None, readonly: bool = False,
                 max_record_bytes: int | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.path = self.directory / FILENAME
        self._lock = threading.RLock()
        self._observers: list[Callable[[str, str], None]] = []
        self.host = socket.gethostname()
        self.pid = os.getpid()
        notebook = notebook_path()
        self.notebook = str(notebook) if notebook is not None else None  # the writing kernel's notebook
        self.interrupted_on_open = 0
        self.process_started = process_started(self.pid)  # with host and pid, names this kernel in platform states
        self._lease_stop = threading.Event()
        self._lease_keeper: threading.Thread | None = None
        #: bytes a record keeps of each field (``core.max_record_bytes``): what is longer is cut and marked
        self.max_record_bytes = max_record_bytes or core_section().max_record_bytes
        self._snapshot: tempfile.TemporaryDirectory[str] | None = None
        self._writer: GroupWriter | None = None
        if readonly:
            self._db, self._snapshot = _open_reader(self.path)
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        self.interrupted_on_open = self._interrupt_orphans()
        self._writer = GroupWriter(self.path, self._notify)

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
        thread once the change is committed, and must be quick: the widgets' throttled updater only marks
        itself dirty. Stopping first lets the callback hear of the writes queued before it.
        """
        self._observers.append(callback)

        def stop() -> None:
            self.flush()
            if callback in self._observers:
                self._observers.remove(callback)

        return stop

    def _notify(self, kind: str, key: str) -> None:
        for callback in list(self._observers):
            try:
                callback(kind, key)
            except Exception:  # an observer's bug must never cost a record
                pass

    def _writer_for_writes(self) -> GroupWriter:
        if self._writer is None:
            raise sqlite3.OperationalError(f"{self.path} is opened readonly here")
        return self._writer

    def _queue(self, apply: Callable[[sqlite3.Connection], Any], *notices: tuple[str, str]) -> Future[Any]:
        """Hand a write to the writer thread; observers hear of it once it is committed."""
        return self._writer_for_writes().submit(apply, *notices)

    def _write(self, sql: str, params: Iterable[Any], *notices: tuple[str, str]) -> Future[Any]:
        params = tuple(params)
        return self._queue(lambda db: db.execute(sql, params).rowcount, *notices)

    def flush(self) -> None:
        """Return once every write queued so far is committed (what another connection reads from then on)."""
        if self._writer is not None:
            self._writer.settle()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Reads see every write this journal queued before them (a test, a cell: "I wrote it, I read it")."""
        self.flush()
        with self._lock:
            yield

    # -- executions ------------------------------------------------------------------------------
    def open(self, platform: str, payload: str, input: Any, meta: dict[str, Any] | None = None,
             version: int | None = None) -> str:
        """Queue the record of an execution that just arrived (committed with the next group); returns its id."""
        record_id = uuid.uuid4().hex
        row = (record_id, platform, payload, version, RECEIVED, self._json(input), jsonvalue.dumps(meta or {}),
               time.time(), self.host, self.pid, self.notebook)

        def insert(db: sqlite3.Connection) -> None:
            # seq is read and used in the group's write transaction: kernels sharing the file never repeat it
            db.execute("INSERT INTO executions (id, seq, platform, payload, version, status, input, meta,"
                       " received_at, host, pid, notebook) VALUES"
                       " (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM executions),?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                       row)

        self._writer_for_writes().post(insert, ("execution", record_id))
        return record_id

    def _json(self, value: Any) -> str:
        return jsonvalue.dumps_within(value, self.max_record_bytes)

    def _text(self, text: str | None) -> str | None:
        return None if text is None else jsonvalue.clip(text, self.max_record_bytes)

    def started(self, record_id: str, version: int | None) -> None:
        """Queue the mark that the payload runs now (nobody waits for it: the close that follows is what counts)."""
        values = (RUNNING, version, time.time(), record_id)
        self._writer_for_writes().post(
            lambda db: db.execute("UPDATE executions SET status=?, version=?, started_at=? WHERE id=?", values),
            ("execution", record_id))

    def close(self, record_id: str, *, output: Any = None, error: str | None = None,
              traceback: str | None = None, stdout: str = "", stderr: str = "",
              logs: list[dict[str, Any]] | None = None, status: str | None = None,
              meta: dict[str, Any] | None = None) -> None:
        """Close a record with its result or its error, and what the payload printed and logged; returns once
        that is committed (a platform is answered only after its record's final state is on disk)."""
        self.closing(record_id, output=output, error=error, traceback=traceback, stdout=stdout, stderr=stderr,
                     logs=logs, status=status, meta=meta).result()

    def closing(self, record_id: str, *, output: Any = None, error: str | None = None,
                traceback: str | None = None, stdout: str = "", stderr: str = "",
                logs: list[dict[str, Any]] | None = None, status: str | None = None,
                meta: dict[str, Any] | None = None) -> Future[Any]:
        """:meth:`close` without the wait: the future resolves once the close is committed (the service loop
        awaits it instead of blocking)."""
        final = status or (FAILED if error is not None else SUCCEEDED)
        now = time.time()
        values = (final, self._json(output), self._text(error), self._text(traceback), self._text(stdout),
                  self._text(stderr), self._json(logs or []), now, now, record_id)

        def update(db: sqlite3.Connection) -> None:
            if meta:
                row = db.execute("SELECT meta FROM executions WHERE id=?", (record_id,)).fetchone()
                merged = {**(jsonvalue.loads(row[0]) if row else {}), **meta}
                db.execute("UPDATE executions SET meta=? WHERE id=?", (jsonvalue.dumps(merged), record_id))
            if not db.execute("UPDATE executions SET status=?, output=?, error=?, traceback=?, stdout=?, stderr=?,"
                              " logs=?, started_at=COALESCE(started_at, ?), finished_at=? WHERE id=?", values).rowcount:
                raise JournalUnwritable(f"execution {record_id} has no record in {self.path}: its opening could not "
                                        "be written, so its ending is not reported as done")
            db.execute("DELETE FROM cancel_requests WHERE record_id=?", (record_id,))

        def unrecorded(db: sqlite3.Connection) -> None:  # once the journal takes writes again after a failed close
            db.execute("UPDATE executions SET status=?, error=?, finished_at=? WHERE id=? AND status IN (?, ?)",
                       (FAILED, UNRECORDED, time.time(), record_id, *OPEN_STATUSES))

        return self._writer_for_writes().submit(update, ("execution", record_id), fallback=unrecorded)

    def progress(self, record_id: str, stdout: str, stderr: str, logs: list[dict[str, Any]]) -> None:
        """Queue what a running execution has printed and logged so far (live output; the close writes the rest)."""
        values = (self._text(stdout), self._text(stderr), self._json(logs), record_id, *OPEN_STATUSES)
        self._writer_for_writes().post(
            lambda db: db.execute("UPDATE executions SET stdout=?, stderr=?, logs=? WHERE id=? AND status IN (?, ?)",
                                  values), ("execution", record_id), retry=False)

    def request_cancel(self, record_id: str, reason: str = "cancelled on request") -> Record | None:
        """Ask whichever kernel runs an open execution to cancel it (any process may ask: the panel's server, the
        CLI); that kernel's service picks it up within a second. Returns the record, or None when no open record
        has that id or unique id prefix."""
        record = self.get(record_id)
        if record is None or record.status not in OPEN_STATUSES:
            return None
        values = (record.id, reason, time.time())
        self._write("INSERT OR REPLACE INTO cancel_requests (record_id, reason, requested_at) VALUES (?, ?, ?)",
                    values, ("execution", record.id)).result()
        return record

    def cancel_requests(self, record_ids: Iterable[str]) -> dict[str, str]:
        """The reasons of the cancellations asked for among these records (read without waiting for the writer:
        the service's watcher polls it while executions run)."""
        ids = list(record_ids)
        if not ids:
            return {}
        with self._lock:
            rows = self._db.execute(f"SELECT record_id, reason FROM cancel_requests WHERE record_id IN"
                                    f" ({', '.join('?' * len(ids))})", ids).fetchall()
        return {row["record_id"]: row["reason"] for row in rows}

    def interrupt_open(self, reason: str) -> int:
        """Mark this process's records still open as interrupted (the service stopped under them)."""
        interrupted: int = self._write("UPDATE executions SET status=?, error=COALESCE(error, ?), finished_at=? "
                                       "WHERE status IN (?, ?) AND host=? AND pid=?",
                                       (INTERRUPTED, reason, time.time(), *OPEN_STATUSES, self.host, self.pid),
                                       ("execution", "*")).result()
        return interrupted

    def _interrupt_orphans(self) -> int:
        """Records left open by a kernel that no longer runs (a restarted kernel, a lost machine) were interrupted.
        Which kernels run is told by :meth:`_holder_alive`, so a journal on a shared folder closes another host's
        orphans too."""
        now = time.time()
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT host, pid FROM executions WHERE status IN (?, ?)", OPEN_STATUSES
            ).fetchall()
            dead = [(r["host"], r["pid"]) for r in rows if not self._holder_alive(r["host"], r["pid"], now)]
            count = 0
            for host, pid in dead:
                reason = ("the kernel stopped while this execution was open" if host == self.host else
                          f"the kernel on {host} (pid {pid}) stopped while this execution was open: it renewed no "
                          f"lease for {LEASE:g} s")
                count += self._db.execute(
                    "UPDATE executions SET status=?, error=COALESCE(error, ?), finished_at=COALESCE(finished_at, ?)"
                    " WHERE status IN (?, ?) AND host=? AND pid=?",
                    (INTERRUPTED, reason, now, *OPEN_STATUSES, host, pid),
                ).rowcount
        return count

    def _holder_alive(self, host: str, pid: int, now: float) -> bool:
        """Whether the kernel (host, pid) holding open records may still run them: by its leases in ``platforms``
        when it has any (:func:`kernel_alive`: one live lease is enough); without one, on this host by its pid,
        elsewhere by its last record activity within a lease period (a kernel whose binding never reported)."""
        leases = self._db.execute("SELECT process_started, lease_until FROM platforms WHERE host=? AND pid=?",
                                  (host, pid)).fetchall()
        if leases:
            return any(kernel_alive(host, pid, lease["process_started"], lease["lease_until"], self.host, now)
                       for lease in leases)
        if host == self.host:
            return _pid_alive(pid)
        last = self._db.execute("SELECT MAX(MAX(received_at, COALESCE(started_at, 0), COALESCE(finished_at, 0)))"
                                " FROM executions WHERE host=? AND pid=?", (host, pid)).fetchone()[0]
        return last is not None and last > now - LEASE

    def get(self, record_id: str) -> Record | None:
        """One record by id, or by a unique prefix of its id (taken literally: no wildcards, case counts)."""
        if not record_id:
            return None
        upper = record_id[:-1] + chr(min(ord(record_id[-1]) + 1, sys.maxunicode))  # its ids sort in [id, upper)
        with self._reading():
            rows = self._db.execute(
                "SELECT * FROM executions WHERE id >= ? AND id < ? ORDER BY seq LIMIT 2", (record_id, upper)
            ).fetchall()
        if len(rows) != 1:
            return None
        return _record(rows[0])

    def records(self, *, platform: str | None = None, payload: str | None = None,
                status: str | None = None, since: float | None = None, limit: int | None = 100,
                newest_first: bool = True, notebook: str | None = None, host: str | None = None,
                pid: int | None = None, version: Versions = None, offset: int = 0) -> list[Record]:
        """Records matching every given filter (``host`` and ``pid`` name the kernel that received them), from the
        ``offset``-th on (a page deep in a long history reads only its own rows)."""
        where, params = _where(platform=platform, payload=payload, status=status, notebook=notebook, host=host,
                               pid=pid, version=version, since=since)
        order = "DESC" if newest_first else "ASC"
        tail = " LIMIT ? OFFSET ?" if limit is not None else ""
        if limit is not None:
            params += [limit, max(0, offset)]
        with self._reading():
            rows = self._db.execute(f"SELECT * FROM executions {where} ORDER BY seq {order}{tail}", params).fetchall()
        return [_record(row) for row in rows]

    def last(self, **filters: Any) -> Record | None:
        """The newest record matching ``filters`` (as :meth:`records`; ``status`` may be a tuple of them),
        found by walking an index from its newest end."""
        where, params = _where(**filters)
        with self._reading():
            row = self._db.execute(f"SELECT * FROM executions {where} ORDER BY received_at DESC LIMIT 1",
                                   params).fetchone()
        return _record(row) if row is not None else None

    def counts(self, platform: str, payload: str, **filters: Any) -> dict[str, int]:
        """Executions of one payload by status; ``filters`` as :meth:`records` takes them (version, host, pid...)."""
        where, params = _where(platform=platform, payload=payload, **filters)
        with self._reading():
            rows = self._db.execute(f"SELECT status, COUNT(*) AS n FROM executions {where} GROUP BY status",
                                    params).fetchall()
        return {row["status"]: row["n"] for row in rows}

    def per_interval(self, since: float, interval: float, **filters: Any) -> list[tuple[int, int, int]]:
        """(interval index from ``since``, executions received, of which failed) for the intervals that had any:
        one range read of an index, however busy the payload."""
        where, params = _where(since=since, **filters)
        with self._reading():
            rows = self._db.execute(
                f"SELECT CAST((received_at - ?) / ? AS INTEGER) AS slot, COUNT(*) AS n,"
                f" SUM(status IN ({', '.join('?' * len(UNSUCCESSFUL))})) AS bad FROM executions {where}"
                " GROUP BY slot ORDER BY slot",
                [since, interval, *UNSUCCESSFUL, *params]).fetchall()
        return [(row["slot"], row["n"], row["bad"]) for row in rows]

    def durations(self, since: float, limit: int, **filters: Any) -> list[float]:
        """How long the newest ``limit`` executions received since ``since`` ran, shortest first."""
        where, params = _where(since=since, **filters)
        with self._reading():
            rows = self._db.execute(
                f"SELECT finished_at - started_at AS took FROM (SELECT started_at, finished_at FROM executions"
                f" {where} AND finished_at IS NOT NULL AND started_at IS NOT NULL"
                f" ORDER BY received_at DESC LIMIT ?) ORDER BY took", [*params, limit]).fetchall()
        return [row["took"] for row in rows]

    def scope(self, folder: bool = False) -> dict[str, Any]:
        """The record filters of "this notebook" (its records across restarts; a kernel that does not know its
        notebook means its own), or of the whole folder: one meaning for ``polynb.records()``, ``%polynb``
        and the widgets."""
        if folder:
            return {}
        if self.notebook is not None:
            return {"notebook": self.notebook}
        return self.kernel()

    def kernel(self) -> dict[str, Any]:
        """The record filters of this kernel's own executions (what a cell's status widget counts)."""
        return {"host": self.host, "pid": self.pid}

    # -- payloads and platforms ------------------------------------------------------------------
    def payload_registered(self, platform: str, name: str, version: int, digest: str, entry: str | None,
                           source: str, options: dict[str, Any], cell_id: str | None, address: str | None, *,
                           signature: dict[str, Any] | None = None) -> None:
        """A version is the one its platform now runs; ``signature`` is its input and output shape, if known."""
        row = (platform, name, version, digest, entry, source, jsonvalue.dumps(options), cell_id, address,
               time.time(), self.notebook, _signature_text(signature))

        def register(db: sqlite3.Connection) -> None:
            db.execute("UPDATE payloads SET active=0 WHERE platform=? AND name=?", (platform, name))
            db.execute("INSERT OR REPLACE INTO payloads (platform, name, version, digest, entry, source, options,"
                       " cell_id, address, registered_at, active, notebook, signature)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,1,?,?)", row)

        self._queue(register, ("payload", f"{platform}/{name}")).result()  # rare: readers elsewhere see it at once

    def payload_signature(self, platform: str, name: str, version: int,
                          signature: dict[str, Any] | None) -> Future[Any]:
        """Replace a version's signature (one polynb learns as executions arrive); queued, not waited for."""
        return self._write("UPDATE payloads SET signature=? WHERE platform=? AND name=? AND version=?",
                           (_signature_text(signature), platform, name, version), ("payload", f"{platform}/{name}"))

    def payload_unregistered(self, platform: str, name: str) -> None:
        self._write("UPDATE payloads SET active=0 WHERE platform=? AND name=?", (platform, name),
                    ("payload", f"{platform}/{name}")).result()

    def payloads(self, active_only: bool = True, notebook: str | None = None) -> list[PayloadRow]:
        clauses = (["active=1"] if active_only else []) + (["notebook=?"] if notebook is not None else [])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params = [notebook] if notebook is not None else []
        with self._reading():
            rows = self._db.execute(f"SELECT * FROM payloads {where} ORDER BY platform, name, version", params).fetchall()
        return [_payload_row(row) for row in rows]

    def payload(self, platform: str, name: str, version: int | None = None) -> PayloadRow | None:
        """One version of a payload, or (``version`` None) the one registered last, active or not."""
        with self._reading():
            row = self._db.execute(
                "SELECT * FROM payloads WHERE platform=? AND name=?" + (" AND version=?" if version is not None else "")
                + " ORDER BY registered_at DESC LIMIT 1",
                (platform, name) + ((version,) if version is not None else ())).fetchone()
        return _payload_row(row) if row is not None else None

    def platform_state(self, platform: str, state: str, address: str | None = None,
                       detail: str | None = None) -> None:
        """Record a platform's state as this kernel sees it, with what tells later readers whether it still runs."""
        now = time.time()
        self._write("INSERT OR REPLACE INTO platforms (platform, host, pid, process_started, state, address, detail,"
                    " updated_at, lease_until) VALUES (?,?,?,?,?,?,?,?,?)",
                    (platform, self.host, self.pid, self.process_started, state, address, detail, now, now + LEASE),
                    ("platform", platform)).result()  # rare: readers elsewhere see it at once
        self._keep_lease()

    def _keep_lease(self) -> None:
        """Renew this kernel's lease on its platform states while it lives, for readers on other hosts."""
        with self._lock:
            if self._lease_keeper is not None:
                return
            self._lease_keeper = threading.Thread(target=self._renew_leases, name="polynb-lease", daemon=True)
        self._lease_keeper.start()

    def _renew_leases(self) -> None:
        while not self._lease_stop.wait(LEASE / 3):
            with self._lock:
                if self._lease_stop.is_set():
                    return
                self._db.execute("UPDATE platforms SET lease_until=? WHERE host=? AND pid=?",
                                 (time.time() + LEASE, self.host, self.pid))

    def platforms(self, mine_first: bool = False) -> list[PlatformRow]:
        """Each platform's state as the kernel that reported it last saw it (``gone`` if that kernel exited);
        ``mine_first`` prefers this kernel's report over a later one from another kernel sharing the folder."""
        with self._reading():
            rows = self._db.execute("SELECT * FROM platforms ORDER BY platform, updated_at DESC").fetchall()
        chosen: dict[str, sqlite3.Row] = {}
        for row in rows:  # newest first within a platform
            mine = (row["host"], row["pid"]) == (self.host, self.pid)
            if row["platform"] not in chosen or (mine_first and mine):
                chosen[row["platform"]] = row
        now = time.time()
        return [self._platform_row(row, now) for row in chosen.values()]

    def _platform_row(self, row: sqlite3.Row, now: float) -> PlatformRow:
        state, detail = row["state"], row["detail"]
        if state != STOPPED and not kernel_alive(row["host"], row["pid"], row["process_started"],
                                                 row["lease_until"], self.host, now):
            state = GONE
            detail = (f"the kernel that reported {row['state']!r} ({row['host'] or 'unknown host'}, pid {row['pid']})"
                      " has exited")
        return PlatformRow(row["platform"], state, row["address"], detail, row["updated_at"], row["host"],
                           row["pid"], row["state"])

    def close_db(self) -> None:
        """Commit what is queued, then close."""
        if self._writer is not None:
            self._writer.close()
        with self._lock:
            self._lease_stop.set()
            self._db.close()
            if self._snapshot is not None:
                self._snapshot.cleanup()

    def tallies(self, bounds: Iterable[float] = (), after_seq: int = 0, upto_seq: int | None = None,
                **filters: Any) -> list[dict[str, Any]]:
        """Executions with ``after_seq < seq <= upto_seq``, counted by platform, payload, version and status in one
        range read (what a metrics scrape reads): ``count``; of those that ran, ``timed``, their ``seconds`` in all,
        and ``within``, how many ran at most each of ``bounds`` seconds. ``filters`` as :meth:`records` takes them."""
        bounds = tuple(bounds)
        where, params = _where(**filters)
        within = "".join(f", SUM(finished_at - started_at <= ?) AS within_{i}" for i in range(len(bounds)))
        with self._reading():
            rows = self._db.execute(
                f"SELECT platform, payload, version, status, COUNT(*) AS count, COUNT(finished_at - started_at)"
                f" AS timed, TOTAL(finished_at - started_at) AS seconds{within} FROM executions {where}"
                f" AND seq > ? AND seq <= ? GROUP BY platform, payload, version, status",
                [*bounds, *params, after_seq, upto_seq if upto_seq is not None else 2 ** 63 - 1]).fetchall()
        return [{"platform": row["platform"], "payload": row["payload"], "version": row["version"],
                 "status": row["status"], "count": row["count"], "timed": row["timed"], "seconds": row["seconds"],
                 "within": [row[f"within_{i}"] or 0 for i in range(len(bounds))]} for row in rows]

    def settled(self, after_seq: int = 0, **filters: Any) -> int:
        """The highest seq up to which every record after ``after_seq`` (of ``filters``) has finished: those records
        never change again, so a reader that has counted them can read only the ones after it next time."""
        where, params = _where(**filters)
        with self._reading():
            row = self._db.execute(
                f"SELECT MIN(CASE WHEN status IN (?, ?) THEN seq END) AS open, MAX(seq) AS last FROM executions"
                f" {where} AND seq > ?", [*OPEN_STATUSES, *params, after_seq]).fetchone()
        if row["open"] is not None:
            before_open: int = row["open"] - 1
            return before_open
        return row["last"] if row["last"] is not None else after_seq


def _open_reader(path: Path) -> tuple[sqlite3.Connection, tempfile.TemporaryDirectory[str] | None]:
    """A connection that only reads, and the temporary folder it reads from, if any.

    A WAL journal in a folder this process cannot write (SQLite cannot make its ``-shm`` there) is read with
    ``immutable=1`` when its WAL holds nothing, else from a copy of the file and its WAL. A file that is no
    journal raises :class:`sqlite3.DatabaseError` here, not at the first query.
    """
    try:
        return _reader(f"{path.resolve().as_uri()}?mode=ro"), None
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc) and "unable to open" not in str(exc):
            raise
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return _reader(f"{path.resolve().as_uri()}?immutable=1"), None
    snapshot = tempfile.TemporaryDirectory(prefix="polynb-journal-")
    for source in (path, wal):
        shutil.copyfile(source, Path(snapshot.name) / source.name)
    try:
        return _reader(f"{(Path(snapshot.name) / path.name).as_uri()}"), snapshot
    except BaseException:
        snapshot.cleanup()
        raise


def _reader(uri: str) -> sqlite3.Connection:
    db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=30)
    db.row_factory = sqlite3.Row
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


Versions = int | tuple[int | None, ...] | None  # a version, several (None: not known yet), or any
_FILTER_COLUMNS = ("platform", "payload", "status", "notebook", "host", "pid")


def _where(*, since: float | None = None, version: Versions = None, **columns: Any) -> tuple[str, list[Any]]:
    """The WHERE clause of record filters: each column equal to its value, versions, and received since."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in columns.items():
        if column not in _FILTER_COLUMNS:
            raise TypeError(f"no record filter named {column!r}")
        if isinstance(value, tuple):
            clauses.append(f"{column} IN ({','.join('?' * len(value))})")
            params.extend(value)
        elif value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if isinstance(version, int):
        clauses.append("version = ?")
        params.append(version)
    elif version is not None:
        known = [v for v in version if v is not None]
        either = [f"version IN ({','.join('?' * len(known))})"] if known else []
        clauses.append("(" + " OR ".join(either + (["version IS NULL"] if None in version else [])) + ")")
        params.extend(known)
    if since is not None:
        clauses.append("received_at >= ?")
        params.append(since)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else "WHERE 1"), params


def _signature_text(signature: dict[str, Any] | None) -> str | None:
    return jsonvalue.dumps(signature) if signature is not None else None


def _payload_row(row: sqlite3.Row) -> PayloadRow:
    signature = row["signature"]
    return PayloadRow(**{**dict(row), "options": jsonvalue.loads(row["options"]), "active": bool(row["active"]),
                         "signature": jsonvalue.loads(signature) if signature else None})


def _record(row: sqlite3.Row) -> Record:
    values = dict(row)
    for column in _JSON_COLUMNS:
        values[column] = jsonvalue.loads(values[column])
    return Record(**values)
