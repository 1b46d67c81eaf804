"""What every benchmark repeats: the tests' helpers on the path, the peers' venvs, a side in a process of its own
(optionally under py-spy), latency summaries, the printed table and the ratios.

A side that serves (polynb's worker, a floor, a load generator) runs as ``python <script> --serve ...`` in a
process of its own, so that neither the load generator nor the other side shares its interpreter, and so that
a profiler can attach to exactly that process. The child calls ``ready(info)`` once it serves and runs until its
stdin closes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PROFILE_ENV = "POLYNB_BENCH_PROFILE"


def use_test_helpers(*platforms: str) -> None:
    """Put tests/ (peers.py) and tests/platforms/<platform>/ first on the import path."""
    for folder in (TESTS, *(TESTS / "platforms" / name for name in platforms)):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


use_test_helpers()

from peers import peer_python  # noqa: E402  - the one place that makes the peers' venvs (.peers/<name>)

__all__ = ["peer_python"]


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(count: int, seconds: float, latencies: Sequence[float]) -> dict:
    """Rate per second and p50/p95/p99 latency in ms of ``count`` operations that took ``seconds`` in all."""
    return {"rate": count / seconds, "p50": percentile(latencies, 0.50) * 1000,
            "p95": percentile(latencies, 0.95) * 1000, "p99": percentile(latencies, 0.99) * 1000}


def ratio(ours: float, theirs: float) -> float | None:
    """ours / theirs, or None (JSON null) when theirs measured nothing."""
    return round(ours / theirs, 3) if theirs else None


def print_table(title: str, rows: dict[str, dict], unit: str = "/s") -> None:
    """One line per side: rate, p50, p99 (what every platform's benchmark prints)."""
    print(title)
    print(f"{'':34}{unit:>10}{'p50 ms':>10}{'p99 ms':>10}")
    for label, row in rows.items():
        print(f"{label:34}{row['rate']:10.1f}{row['p50']:10.2f}{row['p99']:10.2f}")


def print_ratios(ratios: dict[str, float | None]) -> None:
    for name, value in ratios.items():
        shown = "n/a" if value is None else f"{value:.2f}x" if name.endswith("ratio") else f"{value:.1f}"
        print(f"  {name:32}{shown:>9}")


def parser(doc: str) -> argparse.ArgumentParser:
    """The options every benchmark takes; ``--serve`` is how a script runs one of its own sides as a child."""
    arguments = argparse.ArgumentParser(description=doc.splitlines()[0])
    arguments.add_argument("--json", action="store_true", help="print the result as one JSON line at the end")
    arguments.add_argument("--quick", action="store_true", help="a tiny load: checks the plumbing, not the speed")
    arguments.add_argument("--profile", metavar="DIR", help="record polynb's side with py-spy into DIR")
    arguments.add_argument("--serve", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    return arguments


def finish(result: dict, as_json: bool) -> int:
    """Print a platform's result: its ratios, and with ``--json`` the result as the last line."""
    print_ratios(result["ratios"])
    if as_json:
        print(json.dumps(result["ratios"]))
    return 0


def main(arguments: Callable[[], argparse.ArgumentParser], run: Callable[[argparse.Namespace], dict],
         serve: Callable[..., None]) -> int:
    """What every benchmark script does when run: play one side (``--serve``, in a child), or run the benchmark
    (recording polynb's side with ``--profile``) and print its ratios."""
    args = arguments().parse_args()
    if args.serve:
        serve(*args.serve)
        return 0
    profile_into(getattr(args, "profile", None))
    return finish(run(args), args.json)


def profile_into(folder: str | None) -> None:
    """Children started from now on with ``profile=True`` record themselves into ``folder``."""
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        os.environ[PROFILE_ENV] = str(Path(folder).resolve())


class Child:
    """A side in a process of its own: ready when it prints ``READY <json>``; output in a log, never a pipe.

    ``profile``: when ``POLYNB_BENCH_PROFILE`` names a folder, py-spy records this process there as
    ``<name>.txt`` (collapsed stacks) until the child stops. ``inherit_env=False``: ``env`` is the whole
    environment. ``stdin_stops=False``: a child that does not read stdin (a peer's script) gets SIGTERM.
    """

    def __init__(self, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None,
                 folder: Path | None = None, profile: bool = False, inherit_env: bool = True,
                 stdin_stops: bool = True) -> None:
        self.name = name
        log_dir = folder or Path(os.environ.get("TMPDIR", "/tmp"))
        self.log = log_dir / f"bench-{name}-{os.getpid()}.log"
        with open(self.log, "w") as output:
            self.process = subprocess.Popen(argv, cwd=cwd, env={**(os.environ if inherit_env else {}), **(env or {})}, stdin=subprocess.PIPE,
                                            stdout=output, stderr=subprocess.STDOUT)
        self.profiler = None
        self.stdin_stops = stdin_stops
        self.profile = profile and bool(os.environ.get(PROFILE_ENV))

    @classmethod
    def script(cls, name: str, script: str, *args: str, **options) -> Child:
        """``python <script> --serve <args>`` with polynb's own Python."""
        return cls(name, [sys.executable, script, "--serve", *args], **options)

    def ready(self, timeout: float = 120) -> dict:
        info = self.line("READY", timeout)
        self._start_profiler()
        return info

    def line(self, tag: str, timeout: float = 120) -> dict:
        """The JSON the child printed after ``tag`` at the start of a line, once it has."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith(tag + " "):
                    return json.loads(line[len(tag):].strip() or "{}")
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} printed no {tag}: {self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.05)

    def _start_profiler(self) -> None:
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if not self.profile or not spy:
            return
        output = Path(os.environ[PROFILE_ENV]) / f"{self.name}.txt"
        self.profiler = subprocess.Popen([spy, "record", "--pid", str(self.process.pid), "--rate", "250",
                                          "--format", "raw", "--threads", "--nonblocking", "-o", str(output)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.profiler is not None:
            self.profiler.send_signal(signal.SIGINT)
            self.profiler.wait(30)
        if self.process.poll() is None:
            try:
                if self.stdin_stops:
                    self.process.stdin.close()
                    self.process.wait(15)
                else:
                    self.process.terminate()
                    self.process.wait(10)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def tell(tag: str, info: dict | None = None) -> None:
    """In a child: one line the parent waits for with ``Child.line(tag)``."""
    print(tag, json.dumps(info or {}), flush=True)


def ready(info: dict | None = None) -> None:
    """In a child: say it serves, then run until the parent closes stdin."""
    tell("READY", info)
    sys.stdin.read()
