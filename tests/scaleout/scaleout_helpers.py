"""What the scale-out tests share: `polynb up` and `polynb serve` as real child processes, their journals,
a NATS client on a loop thread of its own, and waiting on conditions (never on the clock)."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from processes import alive
from support import POLYNB, Standin, environ_without, wait_until

#: settings a test's own environment must not leak into the processes it starts (each gets its own)
PLATFORM_ENV = ("KAI_", "COLONIES_", "POLYNB_AIO_", "POLYNB_COLONIES_", "POLYNB_JOURNAL_DIR", "POLYNB_CONFIG")


def clean_env(**extra: str) -> dict[str, str]:
    return environ_without(PLATFORM_ENV, **extra)


def standin_in(folder: Path, platform: str, **env: str) -> Standin:
    """``polynb up PLATFORM --json`` in a folder of its own, with none of the test's own platform settings."""
    folder.mkdir(parents=True, exist_ok=True)
    return Standin(platform, cwd=folder, env=clean_env(**env))


@contextmanager
def local_colony(folder: Path) -> Iterator[dict]:
    """``polynb up colonies --json`` on a free port, its state in ``folder``: what its JSON line says. It must stop
    cleanly (exit code 0) when the block ends."""
    up = standin_in(folder, "colonies", POLYNB_COLONIES_LOCAL_PORT="0",
                    POLYNB_COLONIES_LOCAL_STATE=str(folder / "state.sqlite"))
    try:
        yield up.info
    finally:
        assert up.stop() == 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the kernel a ``polynb serve`` drives, and whatever that started)."""
    below, queue = [], [pid]
    while queue:
        for child in _children(queue.pop()):
            below.append(child)
            queue.append(child)
    return below


class Replica:
    """One ``polynb serve NOTEBOOK`` of its own folder: its working directory and its journal (``.polynb/``)."""

    def __init__(self, label: str, folder: Path, notebook: Path, env: dict[str, str]) -> None:
        self.label, self.folder = label, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.notebook = folder / notebook.name
        self.notebook.write_bytes(notebook.read_bytes())  # the same notebook, copied: one folder per replica
        self.log_path = folder / "serve.log"
        self.env = clean_env(**env)
        self.kernel_pid: int | None = None
        self._start()

    def _start(self) -> None:
        self._log = open(self.log_path, "a")
        self.lines: list[str] = []
        self.process = subprocess.Popen(POLYNB + ["serve", str(self.notebook)], cwd=self.folder, env=self.env,
                                        stdout=subprocess.PIPE, stderr=self._log, text=True)
        self._reader = threading.Thread(target=self._read, args=(self.process, self.lines), daemon=True)
        self._reader.start()

    @staticmethod
    def _read(process: subprocess.Popen, lines: list[str]) -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return self.log_path.read_text()[-4000:]

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"replica {self.label} exited with {self.process.returncode}:\n{self.log()}")

    def wait_serving(self, timeout: float = 180) -> list[str]:
        """The ``serving PLATFORM NAME vN ADDRESS`` lines, once the notebook has run."""
        wait_until(lambda: any(line.startswith("serving ") for line in self.lines), timeout,
                   f"replica {self.label} to print its serving line", alive=self.check_alive)
        kernels = descendants(self.process.pid)
        self.kernel_pid = kernels[0] if kernels else None
        return [line for line in self.lines if line.startswith("serving ")]

    def journal(self, platform: str, payload: str) -> list:
        """This replica's journal records of one payload, oldest first (read-only, as the CLI reads it)."""
        from polynb.journal import FILENAME, Journal

        if not (self.folder / ".polynb" / FILENAME).exists():
            return []
        journal = Journal(self.folder / ".polynb", readonly=True)
        try:
            return journal.records(platform=platform, payload=payload, limit=None, newest_first=False)
        finally:
            journal.close_db()

    def sigkill(self) -> list[int]:
        """SIGKILL the whole replica at once, as an OOM kill or `systemctl kill -s KILL` does: serve and its kernel."""
        victims = descendants(self.process.pid) + [self.process.pid]
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(30)
        wait_until(lambda: not any(alive(pid) for pid in victims), 30, f"replica {self.label} to be gone")
        self._log.close()
        return victims

    def stop(self, timeout: float = 90) -> int:
        """SIGTERM: the replica drains and exits (0 when all went well)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.sigkill()
        for pid in descendants(self.process.pid) if self.process.poll() is None else []:
            os.kill(pid, signal.SIGKILL)
        if not self._log.closed:
            self._log.close()
        return self.process.returncode


class Replicas:
    """Starts replicas and, whatever happens in the test, stops every one of them (and their kernels)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Replica] = []

    def start(self, label: str, notebook: Path, env: dict[str, str]) -> Replica:
        replica = Replica(label, self.root / label, notebook, env)
        self.started.append(replica)
        return replica

    def stop_all(self) -> None:
        for replica in self.started:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.started:
            kernels = [replica.kernel_pid] if replica.kernel_pid else []
            try:
                replica.stop()
            finally:
                for pid in kernels:  # a kernel whose serve was killed exits by itself; make sure of it
                    if alive(pid):
                        os.kill(pid, signal.SIGKILL)
