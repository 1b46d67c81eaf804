"""Executions in flight: what stopping one takes (its thread, or its task), its deadline, and its output so far.

Cancelling reaches a payload where it runs. An async payload's task is cancelled on its worker's loop; a
synchronous payload gets :class:`ExecutionCancelled` raised in its worker thread at the next bytecode boundary
(CPython's ``PyThreadState_SetAsyncExc``, the mechanism behind a thread's KeyboardInterrupt). Code blocked in C
(a ``time.sleep``, a socket read) sees it only when it returns: past a grace period its record is closed anyway and
its thread written off. One watcher thread serves every execution while any runs: it cancels those past their
deadline or asked to stop through the journal (by any process), and hands on what they printed since its last
look. An execution that ends within one look costs nothing there.
"""
from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .capture import Capture
from .journal import CANCELLED, TIMED_OUT

if TYPE_CHECKING:
    from .execution import Outcome

TICK = 0.25  # seconds between the watcher's looks: the latency of a cancel request and of live output
LINGER = 8  # looks the watcher still takes after the last execution ended, before it sleeps (2 s)


class ExecutionCancelled(BaseException):
    """Raised inside a payload to stop it: a BaseException, like KeyboardInterrupt, so that a payload's
    ``except Exception`` does not swallow it. Raised in another thread it can only be a class, so each stop
    makes a subclass that carries its reason (:meth:`Stop.raisable`)."""

    reason = "cancelled"

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.reason


class ExecutionTimedOut(ExecutionCancelled):
    """Raised inside a payload that outlived its timeout."""


@dataclass(frozen=True)
class Stop:
    """Why an execution was stopped: the record's status (cancelled, timed out) and the reason it gives."""

    status: str
    reason: str

    @property
    def error_type(self) -> str:
        return "ExecutionTimedOut" if self.status == TIMED_OUT else "ExecutionCancelled"

    @property
    def error(self) -> str:
        return f"{self.error_type}: {self.reason}"

    def raisable(self) -> type[ExecutionCancelled]:
        """The exception class to raise in the payload: named for the stop, saying its reason."""
        base = ExecutionTimedOut if self.status == TIMED_OUT else ExecutionCancelled
        return type(base.__name__, (base,), {"reason": self.reason, "__module__": __name__})


class InFlight:
    """One execution from its arrival to its close, as far as stopping it and watching its output go."""

    def __init__(self, record_id: str, timeout: float | None = None,
                 on_output: Callable[[list[str]], None] | None = None,
                 answer: asyncio.Future[Outcome] | None = None) -> None:
        self.record_id = record_id
        self.answer = answer  # the binding awaits it: whoever ends the execution resolves it (on the loop)
        self.timeout = timeout
        self.on_output = on_output
        self.stop: Stop | None = None
        self.deadline: float | None = None  # set when it starts: a timeout counts the run, not the queue
        self.grace_until: float | None = None
        self.capture: Capture | None = None
        self.worker: int | None = None  # the thread that runs it (kept after it returns, to write it off)
        self.recorded_changes = 0  # how much of its output its record has (Capture.changes)
        self._lock = threading.Lock()
        self._thread: int | None = None
        self._task: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        self._raised = False
        self._ended = False
        self._forwarding = threading.Lock()

    # -- the worker's side -------------------------------------------------------------------------------
    def enter(self, capture: Capture) -> bool:
        """The worker starts running it; False when it was stopped while it waited (it must not run)."""
        with self._lock:
            if self.stop is not None:
                return False
            self._thread = self.worker = threading.get_ident()
            self.capture = capture
            if self.timeout is not None:
                self.deadline = time.monotonic() + self.timeout
            return True

    def attach(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        """An async payload runs as ``task`` on ``loop``: cancelling cancels the task instead of raising."""
        with self._lock:
            self._task = (loop, task)
            stopped = self.stop is not None
        if stopped:
            loop.call_soon_threadsafe(task.cancel)

    def leave(self) -> None:
        """The payload has returned: nothing may be raised in this thread for it any more."""
        with self._lock:
            thread, self._thread = self._thread, None
            if self._raised and thread is not None:
                _raise_in(thread, None)  # withdraw an exception not yet delivered

    def claim_end(self) -> bool:
        """True for whoever ends it first: the worker when the payload returns, or the watcher writing it off."""
        with self._lock:
            ended, self._ended = self._ended, True
            return not ended

    def forward_output(self, final: bool = False) -> None:
        """Hand the lines written since the last call to the platform's log channel, in order (the watcher calls
        it while it runs, the worker once at the end with the last partial line)."""
        if self.on_output is None or self.capture is None:
            return
        with self._forwarding:
            lines = self.capture.unsent_lines(final)
            if lines:
                self.on_output(lines)

    # -- the canceller's side ----------------------------------------------------------------------------
    def cancel(self, stop: Stop, grace: float) -> bool:
        """Ask it to stop (once); False when it had already ended or been asked."""
        with self._lock:
            if self._ended or self.stop is not None:
                return False
            self.stop = stop
            self.grace_until = time.monotonic() + grace
            if self._task is not None:
                loop, task = self._task
                loop.call_soon_threadsafe(task.cancel)
            elif self._thread is not None:
                self._raised = _raise_in(self._thread, stop.raisable())
            return True

    @property
    def running(self) -> bool:
        return self._thread is not None


def _raise_in(thread: int, exception: type[BaseException] | None) -> bool:
    """Raise ``exception`` in ``thread`` at its next bytecode boundary (None withdraws a pending one)."""
    target = ctypes.py_object(exception) if exception is not None else ctypes.py_object()
    changed: int = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), target)
    return changed == 1


class Watcher:
    """The thread that watches executions in flight, asleep once there have been none for ``LINGER`` looks.

    Each look: deadlines passed become timeouts, cancellations asked for in the journal become cancels, output
    written since the last look goes to the record and to the platform's log channel, and a stopped execution
    whose grace is over is written off (the service closes its record and replaces its thread).
    """

    def __init__(self, inflight: dict[str, InFlight], requests: Callable[[list[str]], dict[str, str]],
                 cancel: Callable[[InFlight, Stop], bool], progress: Callable[[InFlight], None],
                 write_off: Callable[[InFlight], None]) -> None:
        self._inflight = inflight
        self._requests, self._cancel, self._progress, self._write_off = requests, cancel, progress, write_off
        self._wake = threading.Condition()
        self._stopped = False
        self._sleeping = False
        self._thread = threading.Thread(target=self._watch, name="polynb-watcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """An execution started: if the watcher sleeps, it looks from the next tick on. Awake (it stays so for
        ``LINGER`` ticks after the last execution ends), this is one attribute read: waking a thread on every
        execution would cost the service loop a GIL hand-off each time."""
        if self._sleeping:
            with self._wake:
                self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=2)

    def _watch(self) -> None:
        idle = 0
        while True:
            with self._wake:
                if idle >= LINGER:
                    self._sleeping = True  # set before the look at _inflight: a wake() after it notifies
                    while not self._inflight and not self._stopped:
                        self._wake.wait()
                    self._sleeping, idle = False, 0
                if self._stopped:
                    return
                self._wake.wait(TICK)
            idle = 0 if self._inflight else idle + 1
            try:
                self.look()
            except Exception:  # a journal read failing now and then must not end the watching
                pass

    def look(self) -> None:
        now = time.monotonic()
        current = list(self._inflight.values())
        for execution in current:
            if execution.deadline is not None and now >= execution.deadline:
                self._cancel(execution, Stop(TIMED_OUT, f"timed out after {execution.timeout:g} s"))
        for record_id, reason in self._requests([e.record_id for e in current if e.stop is None]).items():
            asked = self._inflight.get(record_id)
            if asked is not None:
                self._cancel(asked, Stop(CANCELLED, reason))
        for execution in current:
            if execution.running:
                self._progress(execution)
            if execution.stop is not None and execution.grace_until is not None and now >= execution.grace_until:
                self._write_off(execution)


__all__ = ["ExecutionCancelled", "ExecutionTimedOut", "InFlight", "Stop", "Watcher", "TICK"]
