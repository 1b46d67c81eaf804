"""What many tests need and none should rewrite: free ports, bounded waits, `polynb up` stand-ins, child processes.

Every wait here has a bound: a test that waits for something that never comes fails with what it waited for and
what it saw last, instead of hanging until pytest-timeout kills the whole run.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import nbformat

POLYNB = [sys.executable, "-m", "polynb"]
#: how long a stand-in may take to print its JSON line (a cold start under a loaded CI machine)
READY_WITHIN = 120.0
T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of asking (the OS's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def taken_port() -> Iterator[int]:
    """A 127.0.0.1 port something else listens on while the block runs."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, message: str = "the condition", *,
               step: float = 0.05, alive: Callable[[], object] | None = None) -> T:
    """Polls ``predicate`` until it returns something truthy, and returns that.

    After ``timeout`` seconds it raises AssertionError with ``message`` and the last value seen. ``alive`` is
    called on every round and should raise when a process the wait depends on has died, so the wait ends at once.
    """
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = predicate()
        if value:
            return value
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"{message}: not within {timeout:g} s (last value: {value!r})")
        pause.wait(step)


def check_running(process: subprocess.Popen, what: str) -> None:
    """Raises when ``process`` has exited (an ``alive`` check for `wait_until`)."""
    if process.poll() is not None:
        raise AssertionError(f"{what} exited with {process.returncode}")


def read_line(stream: IO[str], timeout: float, what: str) -> str:
    """The next line of a child's pipe ('' at its end); AssertionError after ``timeout`` seconds without one.

    A bare ``readline()`` waits forever on a child that hangs before printing. The reading thread is a daemon:
    after a timeout the test fails and the child is stopped, which ends it.
    """
    lines: queue.Queue[str] = queue.Queue(maxsize=1)
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no line from {what} within {timeout:g} s") from None


def stop(process: subprocess.Popen, timeout: float = 30.0, sig: int = signal.SIGTERM) -> int:
    """Sends ``sig`` (SIGTERM: the way a user or a deployment stops polynb), kills after ``timeout`` seconds
    without an exit, and returns the exit code (negative when it had to be killed)."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return process.returncode


def run_polynb(*args: str, timeout: float = 120.0, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -m polynb ARGS`` to its end (at most ``timeout`` seconds), its output captured as text."""
    return subprocess.run(POLYNB + list(args), capture_output=True, text=True, timeout=timeout, **options)


def environ_without(prefixes: tuple[str, ...], **extra: str) -> dict[str, str]:
    """This process's environment minus the variables starting with ``prefixes``, plus ``extra``: what a child
    gets when the test's own settings must not leak into it."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(prefixes)}, **extra}


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook of code cells, one per source, written to ``path``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


class Standin:
    """``python -m polynb up PLATFORM [ARGS] --json`` as a user runs it; ``info`` is what its JSON line says of
    ``platform``. A context manager: leaving it stops the stand-in (`stop`). Its stderr goes to a temporary file,
    quoted when it fails to start."""

    def __init__(self, platform: str, *args: str, env: Mapping[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self._stderr = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(POLYNB + ["up", platform, *args, "--json"], cwd=cwd,
                                        env=dict(os.environ if env is None else env), stdout=subprocess.PIPE,
                                        stderr=self._stderr, text=True)
        self._log: str | None = None
        try:
            line = read_line(self.process.stdout, READY_WITHIN, f"polynb up {platform}")
            if not line:
                raise AssertionError(f"polynb up {platform} exited with {self.process.wait(30)} before it was "
                                     f"ready:\n{self.log()[-3000:]}")
            self.info: dict[str, Any] = json.loads(line)[platform]
        except BaseException:
            self.stop()
            raise

    def log(self) -> str:
        """What it wrote to stderr so far (all of it, once stopped)."""
        if self._log is not None:
            return self._log
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, a bounded wait, then SIGKILL; the exit code."""
        code = stop(self.process, timeout)
        if self._log is None:
            self._log = self.log()
            self._stderr.close()
            self.process.stdout.close()
        return code

    def __enter__(self) -> Standin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
