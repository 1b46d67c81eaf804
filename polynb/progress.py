"""Progress of long waits (starting a platform, installing requirements, following a submission).

Service code reports with :func:`report`; whoever waits for it (a magic on the kernel's main thread,
the CLI) renders the latest message from its own thread, after a short delay so quick calls stay
quiet. The notebook sink updates one display in place; the CLI sink writes lines to stderr.
"""
from __future__ import annotations

import contextvars
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from typing import Any, TypeVar

_current: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("polynb_progress", default=None)
T = TypeVar("T")


class Progress:
    """The latest message of one long wait; written by the service, read by the waiter."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._lock = threading.Lock()
        self._message = ""
        self.changes = 0

    def update(self, message: str) -> None:
        with self._lock:
            self._message = message
            self.changes += 1

    @property
    def message(self) -> str:
        with self._lock:
            return self._message

    def __enter__(self) -> Progress:
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _current.reset(self._token)


def report(message: str) -> None:
    """Tell whoever waits on the current operation what it is doing now (no-op when nobody waits)."""
    progress = _current.get()
    if progress is not None:
        progress.update(message)


class StderrSink:
    """CLI rendering: one line per new message."""

    def show(self, label: str, message: str) -> None:
        print(f"{label}: {message}", file=sys.stderr, flush=True)

    def finish(self, label: str, ok: bool) -> None:
        print(f"{label}: {'done' if ok else 'failed'}", file=sys.stderr, flush=True)


class InPlaceLine:
    """One plain-text output line that each :meth:`show` replaces; outside a kernel it shows nothing."""

    def __init__(self) -> None:
        self._handle: Any = None

    @property
    def shown(self) -> bool:
        return self._handle is not None

    def show(self, text: str) -> None:
        if self._handle is not None:
            self._handle.update({"text/plain": text}, raw=True)
        elif in_kernel():
            from IPython.display import display

            self._handle = display({"text/plain": text}, raw=True, display_id=True)


class NotebookSink:
    """Notebook rendering: one output line updated in place."""

    def __init__(self) -> None:
        self._line = InPlaceLine()

    def show(self, label: str, message: str) -> None:
        self._line.show(f"⏳ {label}: {message}")

    def finish(self, label: str, ok: bool) -> None:
        if self._line.shown:
            self._line.show(f"{'✓' if ok else '✗'} {label}")


def in_kernel() -> bool:
    """Whether this code runs inside an IPython kernel (a notebook shows rich output, a terminal does not)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def default_sink() -> StderrSink | NotebookSink:
    return NotebookSink() if in_kernel() else StderrSink()


def wait(future: Future[T], progress: Progress, timeout: float | None = None, after: float = 0.5,
         sink: Any = None, clock: Callable[[], float] = time.monotonic) -> T:
    """Wait for a future from another thread, showing the progress messages once ``after`` has passed."""
    sink = sink or default_sink()
    start = clock()
    shown = 0
    # wait for completion, not result(timeout): a TimeoutError the future itself raised (CallTimeout) is its answer
    while not futures_wait([future], timeout=0.1).done:
        if timeout is not None and clock() - start > timeout:
            future.cancel()
            raise TimeoutError(f"{progress.label}: no answer after {timeout:.0f} s") from None
        if clock() - start >= after and progress.changes != shown:
            shown = progress.changes
            sink.show(progress.label, progress.message)
    try:
        result = future.result()
    except BaseException:
        if shown:
            sink.finish(progress.label, False)
        raise
    if shown:
        sink.finish(progress.label, True)
    return result
