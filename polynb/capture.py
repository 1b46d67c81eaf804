"""Per-execution capture of stdout, stderr and logging, routed by context rather than by thread.

ipykernel 7 sends output written from a background thread to the latest cell. polynb replaces
``sys.stdout`` and ``sys.stderr`` with routing streams: inside :func:`capturing` (which the runner
enters on the worker thread for one execution) writes go to that execution's buffers, everywhere else
they go to the stream that was there before. A root logging handler records the execution's log
records the same way, and stream handlers that already pointed at the old streams are re-pointed so
they cannot write past the router.
"""
from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import sys
import threading
from collections.abc import Iterator

_active: contextvars.ContextVar[Capture | None] = contextvars.ContextVar("polynb_capture", default=None)


class Capture:
    """What one execution printed and logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams = {"stdout": io.StringIO(), "stderr": io.StringIO()}
        self.logs: list[dict] = []

    def write(self, stream: str, text: str) -> None:
        with self._lock:
            self._streams[stream].write(text)

    def log(self, record: logging.LogRecord, message: str) -> None:
        with self._lock:
            self.logs.append({"time": record.created, "level": record.levelname, "logger": record.name,
                              "message": message})

    @property
    def stdout(self) -> str:
        return self._streams["stdout"].getvalue()

    @property
    def stderr(self) -> str:
        return self._streams["stderr"].getvalue()


class RoutedStream(io.TextIOBase):
    """A stand-in for sys.stdout/sys.stderr that sends an execution's writes to its capture."""

    def __init__(self, name: str, fallback) -> None:
        self.name = name
        self.fallback = fallback

    def write(self, text: str) -> int:
        capture = _active.get()
        if capture is None:
            return self.fallback.write(text)
        capture.write(self.name, text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if _active.get() is None:
            self.fallback.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fallback.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fallback, "encoding", "utf-8")

    def __getattr__(self, name: str):
        # ipykernel calls set_parent() and friends on sys.stdout; they belong to the real stream.
        return getattr(self.fallback, name)


class _CaptureHandler(logging.Handler):
    """Root handler that keeps the log records of the execution running in this context."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        capture = _active.get()
        if capture is not None:
            capture.log(record, self.format(record))


class _Installation:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.streams: dict[str, RoutedStream] = {}
        self.handler = _CaptureHandler()
        self.repointed: list[tuple[logging.StreamHandler, object]] = []


_installation = _Installation()


def install() -> None:
    """Put the routing streams and the log handler in place (counted; pairs with :func:`uninstall`)."""
    state = _installation
    with state.lock:
        state.count += 1
        if state.count > 1:
            return
        _route_std_streams(state)
        root = logging.getLogger()
        root.addHandler(state.handler)
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                for routed in state.streams.values():
                    if handler.stream is routed.fallback:
                        state.repointed.append((handler, handler.stream))
                        handler.setStream(routed)


def _route_std_streams(state: _Installation) -> None:
    for name in ("stdout", "stderr"):
        current = getattr(sys, name)
        if not isinstance(current, RoutedStream):
            routed = RoutedStream(name, current)
            state.streams[name] = routed
            setattr(sys, name, routed)


def uninstall() -> None:
    state = _installation
    with state.lock:
        if state.count == 0:
            return
        state.count -= 1
        if state.count:
            return
        for name, routed in state.streams.items():
            if getattr(sys, name) is routed:
                setattr(sys, name, routed.fallback)
        state.streams.clear()
        logging.getLogger().removeHandler(state.handler)
        for handler, stream in state.repointed:
            handler.setStream(stream)
        state.repointed.clear()


@contextlib.contextmanager
def capturing() -> Iterator[Capture]:
    """Capture this context's output (call it on the thread that runs the payload).

    Something may have swapped ``sys.stdout`` since install (``%%capture``, a test runner): the
    router goes back in front of whatever is there now.
    """
    state = _installation
    with state.lock:
        if state.count:
            _route_std_streams(state)
    capture = Capture()
    token = _active.set(capture)
    try:
        yield capture
    finally:
        _active.reset(token)

