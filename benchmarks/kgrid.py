"""KGrid: executions per second and p50/p99 latency through the local activator, polynb's runtime against
the real kgrid-python-runtime 0.1.0, in one run, on the same trivial KO and the same load.

Each runtime runs in its own process with its own local activator (an activator keeps one runtime per
engine); the load generator sends the same requests to both activators' client API, one runtime after
the other, after a warm-up. polynb journals every execution (SQLite), the real runtime keeps nothing.

    .venv/bin/python benchmarks/kgrid.py [--requests 2000] [--concurrency 16]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "platforms" / "kgrid"))

import kgrid_peers  # noqa: E402

from polynb.platforms.kgrid import ko as kos  # noqa: E402

ENDPOINT = "bench/trivial/1.0/run"
SERVE_POLYNB = """
import sys
from polynb.journal import Journal
from polynb.service import Service
service = Service(journal=Journal(sys.argv[1]), notebook_ns={})
service.call(service.binding("kgrid"))
print(service.statuses()["kgrid"].address, flush=True)
sys.stdin.read()
service.stop(timeout=5)
"""


@contextmanager
def polynb_runtime(folder: Path, activator: str):
    env = {key: value for key, value in os.environ.items() if not key.startswith("KGRID_")}
    env.update(KGRID_PROXY_ADAPTER_URL=activator, KGRID_PROXY_HEARTBEAT_INTERVAL="0",
               KGRID_PYTHON_SHELF_DIR=str(folder / "pyshelf"))
    process = subprocess.Popen([sys.executable, "-c", SERVE_POLYNB, str(folder / ".polynb")], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        if not url:
            raise RuntimeError("polynb's runtime did not start")
        yield url
    finally:
        process.stdin.close()
        process.wait(30)


async def load(url: str, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """Send ``requests`` calls with ``concurrency`` in flight; return (seconds, latencies)."""
    latencies: list[float] = []
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        async def worker() -> None:
            for number in queue:
                start = time.perf_counter()
                reply = await client.post(url, json={"n": number})
                latencies.append(time.perf_counter() - start)
                if reply.status_code != 200 or reply.json()["result"] != number + 1:
                    raise RuntimeError(f"bad answer {reply.status_code}: {reply.text[:200]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(label: str, activator: str, requests: int, concurrency: int) -> dict:
    url = f"{activator}/{ENDPOINT}"
    asyncio.run(load(url, min(200, requests), concurrency))  # warm-up
    seconds, latencies = asyncio.run(load(url, requests, concurrency))
    return {"label": label, "rate": requests / seconds, "p50": percentile(latencies, 0.50) * 1000,
            "p99": percentile(latencies, 0.99) * 1000, "mean": statistics.fmean(latencies) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary, ExitStack() as stack:
        folder = Path(temporary)
        trivial = kos.from_cells(kos.Ark.parse("bench/trivial/1.0"),
                                 [kos.CellEndpoint("run", "run", "def run(x):\n    return x['n'] + 1\n")])
        kos.write(trivial, folder / "kos" / trivial.location)
        activators = {}
        for side in ("real", "polynb"):
            info = stack.enter_context(kgrid_peers.local_activator(folder / f"{side}-activator", folder / "kos"))
            activators[side] = info["url"]
        stack.enter_context(kgrid_peers.real_runtime(folder / "real", activators["real"]))
        stack.enter_context(polynb_runtime(folder / "polynb", activators["polynb"]))
        for activator in activators.values():
            if not kgrid_peers.wait_until(lambda url=activator: httpx.get(f"{url}/endpoints").json()[0]["status"]
                                          == "Activated", 60):
                raise RuntimeError(f"the trivial KO was not activated behind {activator}")
        results = [measure(side, activators[side], args.requests, args.concurrency) for side in ("polynb", "real")]
    print(f"KGrid, trivial KO through the local activator: {args.requests} calls, {args.concurrency} in flight")
    print(f"{'runtime':<24}{'calls/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    names = {"polynb": "polynb", "real": "kgrid-python-runtime"}
    for row in results:
        print(f"{names[row['label']]:<24}{row['rate']:>10.1f}{row['p50']:>10.2f}{row['p99']:>10.2f}")
    ours, real = results
    print(f"ratio polynb/real: throughput {ours['rate'] / real['rate']:.2f}x, "
          f"p50 {ours['p50'] / real['p50']:.2f}x, p99 {ours['p99'] / real['p99']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
