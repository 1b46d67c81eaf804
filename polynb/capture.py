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
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

_active: contextvars.ContextVar[Capture | None] = contextvars.ContextVar("polynb_capture", default=None)


class Capture:
    """What one execution printed and logged; ``live`` also keeps it in order for a platform's log channel."""

    def __init__(self, live: bool = False) -> None:
        self._lock = threading.Lock()
        self._streams = {"stdout": io.StringIO(), "stderr": io.StringIO()}
        self.logs: list[dict[str, Any]] = []
        self.changes = 0  # how many writes so far: a watcher compares it to see whether there is anything new
        self._unsent: list[str] | None = [] if live else None

    def write(self, stream: str, text: str) -> None:
        with self._lock:
            self._streams[stream].write(text)
            self.changes += 1
            if self._unsent is not None:
                self._unsent.append(text)

    def log(self, record: logging.LogRecord, message: str) -> None:
        with self._lock:
            self.logs.append({"time": record.created, "level": record.levelname, "logger": record.name,
                              "message": message})
            self.changes += 1
            if self._unsent is not None:
                self._unsent.append(f"[{record.levelname}] {record.name}: {message}\n")

    def unsent_lines(self, final: bool = False) -> list[str]:
        """Whole lines written since the last call, in the order they were written (the last partial line too
        when ``final``): what goes to the platform's own log channel line by line."""
        with self._lock:
            if not self._unsent:
                return []
            text = "".join(self._unsent)
            lines = text.splitlines(keepends=True)
            keep = "" if final or lines[-1].endswith(("\n", "\r")) else lines.pop()
            self._unsent = [keep] if keep else []
            return lines

    def snapshot(self) -> tuple[str, str, list[dict[str, Any]]]:
        """stdout, stderr and the log entries so far, read together."""
        with self._lock:
            return self._streams["stdout"].getvalue(), self._streams["stderr"].getvalue(), list(self.logs)

    @property
    def stdout(self) -> str:
        return self._streams["stdout"].getvalue()

    @property
    def stderr(self) -> str:
        return self._streams["stderr"].getvalue()


class RoutedStream(io.TextIOBase):
    """A stand-in for sys.stdout/sys.stderr that sends an execution's writes to its capture."""

    def __init__(self, name: str, fallback: TextIO) -> None:
        self.name = name
        self.fallback = fallback

    def write(self, text: str) -> int:
        capture = _active.get()
        if capture is None:
            return self.fallback.write(text)
        capture.write(self.name, text)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:  # type: ignore[override]  # typeshed: bytes, as on _IOBase
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

    def __getattr__(self, name: str) -> Any:
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
        self.repointed: list[tuple[logging.StreamHandler[Any], object]] = []


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
def capturing(live: bool = False) -> Iterator[Capture]:
    """Capture this context's output (call it on the thread that runs the payload).

    Something may have swapped ``sys.stdout`` since install (``%%capture``, a test runner): the
    router goes back in front of whatever is there now.
    """
    state = _installation
    with state.lock:
        if state.count:
            _route_std_streams(state)
    capture = Capture(live)
    token = _active.set(capture)
    try:
        yield capture
    finally:
        _active.reset(token)

