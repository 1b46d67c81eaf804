"""The journal's one writer: a thread that owns the write connection and commits what is queued in groups.

A write transaction per record state cost the service loop a third of its time (docs/benchmarks.md). Here
whoever writes only queues the write; the writer thread takes everything queued when it wakes (up to
``GROUP``), applies it in one ``BEGIN IMMEDIATE`` transaction and commits once, then tells the journal's
observers and resolves the writes' futures. A caller that must not go on before its write is on disk (a
record's close, before the platform gets its answer) waits for the write's future and wakes the writer; a write
nobody waits for (a record's open, its start) wakes it only when it has been idle for ``DORMANT``, else waits
for company up to ``GATHER`` (the writer looks again that often while it is busy): each wake-up of another thread
costs the waker a GIL hand-off, which was most of the price of the old design.

When a group cannot be committed (a full disk: SQLITE_FULL; a lock held past the timeout) every caller that waits
is told at once, with :class:`JournalUnwritable`, so nobody reports an execution done that is not on disk; a write
nobody waits for (a record's open or start) is kept, in order, and retried with a backoff until the journal takes
it again, together with the ``fallback`` of each failed write that has one (a record's close says then that its
ending could not be recorded). At most ``KEEP`` writes are kept; what is dropped, or still unwritten when the
journal closes, is logged with the executions it concerned.
"""
from __future__ import annotations

import atexit
import logging
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backoff import Backoff

log = logging.getLogger("polynb")

GROUP = 256  # writes one transaction holds at most: bounds how long another kernel waits for the file
GATHER = 0.02  # seconds a write nobody waits for may wait for one that somebody does
DORMANT = 1.0  # seconds without a write after which the writer sleeps until the next one wakes it
KEEP = 1000  # writes nobody waits for kept while the journal cannot commit (a record's open holds its input)


class JournalUnwritable(sqlite3.OperationalError):
    """The journal could not commit a write: its caller must not report what it recorded as done."""


@dataclass
class Write:
    """One queued write: ``apply`` runs inside the group's transaction; ``notices`` go to observers after commit;
    ``done`` (None when nobody waits for it) resolves after commit. When its group cannot be committed, a write
    nobody waits for is retried if ``retry``; one somebody waits for fails, and its ``fallback`` is retried."""

    apply: Callable[[sqlite3.Connection], Any]
    notices: tuple[tuple[str, str], ...] = ()
    done: Future[Any] | None = None
    retry: bool = True
    fallback: Callable[[sqlite3.Connection], Any] | None = None


class GroupWriter:
    """Commits queued writes in groups on a thread of its own, in the order they were queued."""

    def __init__(self, path: Path, notify: Callable[[str, str], None], timeout: float = 30) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=timeout)
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives the process being killed
        self._notify = notify
        self._pending: deque[Write] = deque()
        self._state = threading.Condition()
        self._queued = self._committed = 0  # writes queued / finished (committed or failed), for settle()
        self._urgent = False  # somebody waits for a pending write: commit now
        self._sleeping = False  # the writer waits for any write at all: the next one must wake it
        self._active = time.monotonic()  # when the writer last committed
        self._closed = False
        self._backoff = Backoff(first=0.5, cap=10.0)
        self._retry_at = 0.0  # after a failed commit: kept writes wait until then, unless somebody waits for one
        self._thread = threading.Thread(target=self._run, name="polynb-journal", daemon=True)
        self._thread.start()
        _open_writers.add(self)

    def submit(self, apply: Callable[[sqlite3.Connection], Any], *notices: tuple[str, str],
               fallback: Callable[[sqlite3.Connection], Any] | None = None) -> Future[Any]:
        """Queue a write; its future resolves (to what ``apply`` returned) once its group is committed, or fails
        with :class:`JournalUnwritable` when the group cannot be (then ``fallback`` is written once it can)."""
        done: Future[Any] = Future()
        self._put(Write(apply, notices, done, fallback=fallback), urgent=True)
        return done

    def post(self, apply: Callable[[sqlite3.Connection], Any], *notices: tuple[str, str], retry: bool = True) -> None:
        """Queue a write nobody waits for; one that its own statement refuses is logged, one whose group cannot be
        committed is retried (unless ``retry`` is false: live output, which the record's close writes anyway)."""
        self._put(Write(apply, notices, retry=retry), urgent=False)

    def _put(self, write: Write, urgent: bool) -> None:
        with self._state:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed journal")
            self._queued += 1
            self._pending.append(write)
            self._urgent = self._urgent or urgent
            if urgent or self._sleeping:
                self._state.notify()

    def settle(self) -> None:
        """Wait until every write queued so far is committed, so that a read that follows sees them (an observer
        reading on the writer's own thread sees what is committed: waiting there would wait for itself)."""
        if threading.current_thread() is self._thread:
            return
        with self._state:
            target = self._queued
            if self._committed < target:
                self._urgent = True
                self._state.notify()
            self._state.wait_for(lambda: self._committed >= target)

    def close(self) -> None:
        """Commit what is queued, stop the thread and close the connection."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            self._state.notify()
        _open_writers.discard(self)
        self._thread.join()
        self._db.close()

    def _run(self) -> None:
        while True:
            with self._state:
                self._wait_for_work()
                group = [self._pending.popleft() for _ in range(min(GROUP, len(self._pending)))]
                self._urgent = self._urgent and bool(self._pending)
                last = self._closed and not self._pending
            if group:
                self._commit(group)
                self._active = time.monotonic()
            if last:
                return

    def _wait_for_work(self) -> None:
        """Return when somebody waits for a write, when writes nobody waits for have waited ``GATHER``, or at
        close; asleep (woken by the next write) once nothing came for ``DORMANT``. Called with the lock held."""
        noticed = None
        while not (self._urgent or self._closed):
            now = time.monotonic()
            if self._pending and now < self._retry_at:  # the journal failed: kept writes wait for the retry
                self._state.wait(self._retry_at - now)
            elif self._pending:
                noticed = noticed or now
                if now - noticed >= GATHER:
                    return
                self._state.wait(GATHER - (now - noticed))
            elif now - self._active > DORMANT:
                self._sleeping = True
                self._state.wait()
                self._sleeping = False
            else:
                self._state.wait(GATHER)

    def _commit(self, group: list[Write]) -> None:
        results: list[tuple[Write, Any, BaseException | None]] = []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for write in group:
                    try:
                        results.append((write, write.apply(self._db), None))
                    except Exception as exc:
                        if not self._db.in_transaction:  # SQLite rolled the group back (SQLITE_FULL, SQLITE_IOERR)
                            raise
                        results.append((write, None, exc))  # one bad write is its caller's error, not its group's
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except Exception as exc:  # the file is locked past the timeout, the disk is full...: the whole group failed
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._failed(group, exc)
            return
        self._retry_at = 0.0
        self._backoff.reset()
        for write, value, error in results:
            if error is None:
                for kind, key in write.notices:  # before the waiter goes on: a widget hears before the platform
                    self._notify(kind, key)
                if write.done is not None:
                    write.done.set_result(value)
            elif write.done is not None:
                write.done.set_exception(error)
            else:
                log.error("polynb: a journal write failed: %s", error)
        self._finished(len(group))

    def _finished(self, count: int, kept: Sequence[Write] = ()) -> None:
        """Count ``count`` writes as done for :meth:`settle`, and put ``kept`` back at the head of the queue."""
        with self._state:
            self._committed += count
            self._queued += len(kept)
            self._pending.extendleft(reversed(kept))
            self._state.notify_all()

    def _failed(self, group: list[Write], exc: Exception) -> None:
        """Tell every waiter; keep what nobody waits for, and the waiters' fallbacks, for a retry (or log them)."""
        error = JournalUnwritable(f"polynb could not write its journal {self.path}: {exc}")
        kept: list[Write] = []
        for write in group:
            if write.done is not None:
                write.done.set_exception(error)
                if write.fallback is not None:
                    kept.append(Write(write.fallback, write.notices))
            elif write.retry:
                kept.append(write)
        with self._state:
            room = max(0, KEEP - len(self._pending)) if not self._closed else 0
        lost, kept = kept[room:], kept[:room]
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        log.error("polynb: the journal %s could not commit %d writes (%s); %d kept, retried in %.1f s", self.path,
                  len(group), exc, len(kept), delay)
        if lost:
            log.error("polynb: the journal %s did not record %d writes: these executions are missing or left open "
                      "in it: %s", self.path, len(lost), ", ".join(_executions(lost)) or "none")
        self._finished(len(group), kept)


def _executions(writes: list[Write]) -> list[str]:
    """The record ids that writes concern (their observers' notices), each once."""
    return list(dict.fromkeys(key for write in writes for kind, key in write.notices if kind == "execution"))


#: writers not closed yet; at exit each commits what is queued (its daemon thread would die with it)
_open_writers: weakref.WeakSet[GroupWriter] = weakref.WeakSet()


def _close_open_writers() -> None:
    for writer in list(_open_writers):
        writer.close()


# Registered when this module is first imported, before ``polynb`` registers its own shutdown, so that it runs
# after it (atexit runs last-registered first): the service's last writes (records it interrupts) get committed.
atexit.register(_close_open_writers)
