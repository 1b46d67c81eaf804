"""Runs payloads on a bounded pool of daemon worker threads, each execution captured and journaled.

The pool's threads are daemons on purpose: ``concurrent.futures`` joins its workers at interpreter
exit, so one payload stuck in a loop would keep a headless notebook (nbclient, papermill) from ever
exiting. Stopping drains with a bound instead, in :meth:`polynb.service.Service.stop`.
"""
from __future__ import annotations

import asyncio
import inspect
import queue
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any

from . import capture
from .execution import Outcome
from .inflight import InFlight
from .inline import needs_worker
from .journal import Journal
from .tracebacks import user_frames


class WorkerPool:
    """A fixed number of daemon threads taking work from one queue; a thread written off is replaced."""

    def __init__(self, workers: int, name: str = "polynb-exec") -> None:
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._written_off: set[int] = set()
        self._lock = threading.Lock()
        for _ in range(workers):
            self._add_thread()

    def _add_thread(self) -> None:
        thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def submit(self, function: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((future, function))
        return future

    def write_off(self, thread: int) -> None:
        """A thread stuck in a payload that would not stop: it takes no more work, and a new one takes its place."""
        with self._lock:
            if thread in self._written_off or all(t.ident != thread for t in self._threads):
                return  # written off already, or none of the pool's (the service loop ran it inline)
            self._written_off.add(thread)
            self._threads = [t for t in self._threads if t.ident != thread]
            self._add_thread()

    def _work(self) -> None:
        me = threading.get_ident()
        while me not in self._written_off:
            item = self._queue.get()
            if item is None:
                return
            future, function = item
            if future.set_running_or_notify_cancel():
                settle(future, function)

    def shutdown(self) -> None:
        """Let idle workers end; busy ones are daemons and never hold up exit."""
        for _ in self._threads:
            self._queue.put(None)


def settle(future: Future[Any], function: Callable[[], Any]) -> None:
    """Run ``function`` here and put what it returns or raises into ``future``."""
    try:
        future.set_result(function())
    except BaseException as exc:  # the future carries it to whoever waits
        future.set_exception(exc)


def call_payload(function: Callable[..., Any], *args: Any) -> Any:
    """Call a payload function; a coroutine it returns is run to completion on this thread.

    Bindings call user code through here, so that tracebacks can start at the user's first frame, and so that
    an async payload's task is known to whoever cancels its execution.
    """
    result = function(*args)
    if not inspect.isawaitable(result):
        return result
    needs_worker()
    if _loop_running_here():  # the kernel's main thread (a replay): finish the coroutine elsewhere
        return _run_on_own_thread(result)
    loop = _worker_loop()
    task = loop.create_task(_awaited(result))
    inflight = getattr(_local, "inflight", None)
    if inflight is not None:
        inflight.attach(loop, task)
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        if inflight is not None and inflight.stop is not None:  # cancelled by polynb: say why, as a sync one would
            raise inflight.stop.raisable()() from None
        raise


_local = threading.local()


def _worker_loop() -> asyncio.AbstractEventLoop:
    """One event loop per worker thread, kept: a loop per call (asyncio.run) costs ~0.5 ms a message."""
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_on_own_thread(awaitable: Awaitable[Any]) -> Any:
    outcome: Future[Any] = Future()

    def run() -> None:
        try:
            outcome.set_result(asyncio.run(_awaited(awaitable)))
        except BaseException as exc:
            outcome.set_exception(exc)

    thread = threading.Thread(target=run, name="polynb-replay", daemon=True)
    thread.start()
    return outcome.result()


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def run_recorded(journal: Journal, record_id: str, version: int | None, call: Callable[[], Any],
                 encode: Callable[[Any], Any] | None) -> Outcome:
    """Run one execution on this thread: mark it running, capture it, close its record and wait for that commit."""
    ran = run_queued(journal, record_id, version, call, encode)
    assert ran is not None, "only an InFlight stops a run, and this one has none"
    outcome, committed = ran
    committed.result()
    return outcome


def run_queued(journal: Journal, record_id: str, version: int | None, call: Callable[[], Any],
               encode: Callable[[Any], Any] | None,
               inflight: InFlight | None = None) -> tuple[Outcome, Future[Any]] | None:
    """Run one execution on this thread and queue its close; the future resolves once the close is committed
    (the service answers the platform then, and this worker is free for the next execution meanwhile).

    With ``inflight`` it can be stopped, and a stop while it ran closes it as stopped; None when the service
    closed it instead (stopped before it ran, or written off after a stop it ignored).
    """
    live = inflight is not None and inflight.on_output is not None
    value = wire = error = error_type = trace = raised = None
    with capture.capturing(live) as captured:
        if inflight is not None and not inflight.enter(captured):
            return None  # stopped while it waited: the service closed it unrun
        journal.started(record_id, version)
        _local.inflight = inflight
        try:
            try:
                value = call()
                wire = encode(value) if encode is not None else value
            finally:
                if inflight is not None:
                    inflight.leave()
        except BaseException as exc:  # a payload may raise anything, SystemExit included
            error, error_type, trace, raised = describe_error(exc), type(exc).__name__, payload_traceback(exc), exc
        finally:
            _local.inflight = None
    status = None
    if inflight is not None:
        if not inflight.claim_end():
            return None
        inflight.forward_output(final=True)
        if inflight.stop is not None and error is not None:  # it failed because it was stopped
            error, error_type, status = inflight.stop.error, inflight.stop.error_type, inflight.stop.status
    committed = journal.closing(record_id, output=value, error=error, traceback=trace, stdout=captured.stdout,
                                stderr=captured.stderr, logs=captured.logs, status=status)
    printed: dict[str, Any] = {"stdout": captured.stdout, "stderr": captured.stderr, "logs": tuple(captured.logs)}
    if error is not None:
        return Outcome(record_id, False, error=error, error_type=error_type, traceback=trace, exception=raised,
                       **printed), committed
    return Outcome(record_id, True, value=wire, **printed), committed


def payload_traceback(exc: BaseException) -> str:
    """The traceback from the user's first frame on: the machinery above it is noise to a user.

    That is the frame after the last :func:`call_payload` (and after asyncio's frames when the payload
    is a coroutine); an error raised before any payload was called keeps its whole traceback. Frames in
    a notebook cell read ``Cell In[5], line 2`` as in IPython's own tracebacks, not ipykernel's file name.
    """
    return format_traceback(exc, user_frames(exc, call_payload.__code__))


def format_traceback(exc: BaseException, tb: TracebackType | None) -> str:
    """``traceback.format_exception`` with notebook cells named as IPython names them."""
    report = traceback.TracebackException(type(exc), exc, tb)
    _name_cells(report, set())
    return "".join(report.format())


class _CellFrames(traceback.StackSummary):
    """Frames whose file is a cell the shell compiled read ``Cell In[N], line L`` (from Python 3.11, which
    formats each frame through ``format_frame_summary``; 3.10 keeps the file names)."""

    if sys.version_info >= (3, 11):
        def format_frame_summary(self, frame: traceback.FrameSummary) -> str:
            text = super().format_frame_summary(frame)
            label = cell_label(frame.filename)
            if label is None:
                return text
            return text.replace(f'File "{frame.filename}", line {frame.lineno}', f"{label}, line {frame.lineno}", 1)


def cell_label(filename: str) -> str | None:
    """``Cell In[5]`` for a file name IPython gave a cell it ran, else None (no shell, or not a cell)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    compiler: Any = getattr(get_ipython(), "compile", None)
    named = compiler.format_code_name(filename) if hasattr(compiler, "format_code_name") else None
    return " ".join(named) if named else None


def credit_running_cell(shell: Any, source: str) -> None:
    """Name code a magic ran inside the user's cell (``run_cell(store_history=False)``) after that cell.

    IPython caches such a nested run under the *next* execution count, so its tracebacks would say
    ``Cell In[6]`` for code the user typed in ``In[5]``; caching it again under the running cell's number
    (the last stored input) fixes the name that :func:`cell_label` reads.
    """
    compiler: Any = getattr(shell, "compile", None)
    stored = getattr(getattr(shell, "history_manager", None), "input_hist_parsed", None)
    if hasattr(compiler, "cache") and stored:
        compiler.cache(shell.transform_cell(source), len(stored) - 1, raw_code=source)


def _name_cells(report: traceback.TracebackException, seen: set[int]) -> None:
    if id(report) in seen:
        return
    seen.add(id(report))
    report.stack = _CellFrames(report.stack)
    for chained in (report.__cause__, report.__context__, *(getattr(report, "exceptions", None) or ())):
        if chained is not None:
            _name_cells(chained, seen)


def describe_error(exc: BaseException) -> str:
    """``Type: message``, or the type alone when the message is empty."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
