"""Where polynb's side spends its time: a summary of the py-spy recordings that ``--profile DIR`` leaves.

Reads every ``*.txt`` under DIR (py-spy's raw collapsed stacks, ``thread (tid);frame;...;frame count``) and
prints per recording, over the samples where a thread worked (leaves that wait, such as ``select`` or a worker
waiting for work, are left out; a thread waiting for the GIL counts as working): the busy threads (named by
their outermost polynb frame), the costs by kind (inclusive: a sample counts for every kind its stack touches)
and the functions that themselves take the most samples.

    .venv/bin/python benchmarks/profile_summary.py /tmp/polynb-profile [--top 12]
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

# Kinds of cost, matched against a frame's "function (file:line)"; the first that matches names the frame.
KINDS = {
    "SQLite (journal)": ("sqlite3", "polynb/journal.py"),
    "output capture": ("polynb/capture.py",),
    "JSON encode/decode": ("json/", "polynb/jsonvalue.py"),
    "deep copy": ("copy.py",),
    "worker: run_recorded (payload, capture, record)": ("run_recorded (polynb/runner.py",),
    "loop <-> thread hops": ("WorkerPool.submit (", "concurrent/futures", "wrap_future", "run_in_executor",
                             "call_soon_threadsafe", "_write_to_self", "run_coroutine_threadsafe", "queue.py"),
    "asyncio loop": ("asyncio/",),
    "tornado (HTTP server)": ("tornado/",),
    "httpx/httpcore (HTTP client)": ("httpx/", "httpcore/", "h11/"),
    "websockets": ("websockets/",),
    "gRPC": ("grpc/",),
    "protobuf": ("protobuf/", "_pb2", "google/protobuf"),
    "nats-py": ("nats/",),
    "logging": ("logging/",),
}
# Leaves where a thread waits rather than works (py-spy cannot always tell): left out of every percentage.
WAITS = re.compile(r"^(\w+\.)?(select \(selectors|wait \(threading|_wait_for_tstate_lock \(threading|"
                   r"_work \(polynb/runner|ready \(harness)")
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def parse(path: Path) -> list[tuple[str, list[str], int]]:
    """(thread, frames outermost first, samples) per distinct stack."""
    stacks = []
    for line in path.read_text().splitlines():
        body, _, count = line.rpartition(" ")
        thread, *frames = body.split(";")
        if frames and count.isdigit():
            stacks.append((thread, frames, int(count)))
    return stacks


def short(frame: str) -> str:
    match = FRAME.match(frame)
    return f"{match['function']} ({match['file']})" if match else frame


def summarize(path: Path, top: int) -> None:
    stacks = [stack for stack in parse(path) if not WAITS.match(stack[1][-1])]
    total = sum(count for _, _, count in stacks) or 1
    threads: Counter = Counter()
    thread_names: dict[str, Counter] = {}
    kinds: Counter = Counter()
    own: Counter = Counter()
    for thread, frames, count in stacks:
        threads[thread] += count
        polynb = [short(frame) for frame in frames if "polynb/" in frame]
        thread_names.setdefault(thread, Counter())[polynb[0] if polynb else short(frames[0])] += count
        for kind, needles in KINDS.items():
            if any(needle in frame for frame in frames for needle in needles):
                kinds[kind] += count
        own[short(frames[-1])] += count
    print(f"## {path.stem}: {total} working samples")
    print("busy threads (named by their outermost polynb frame):")
    for thread, count in threads.most_common(6):
        print(f"  {100 * count / total:5.1f}%  {thread_names[thread].most_common(1)[0][0]}")
    print("by kind (inclusive, overlapping):")
    for kind, count in kinds.most_common():
        print(f"  {100 * count / total:5.1f}%  {kind}")
    print(f"top {top} functions by own samples:")
    for function, count in own.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {function}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    for path in sorted(args.folder.rglob("*.txt")):
        summarize(path, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
