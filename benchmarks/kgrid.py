"""KGrid: executions per second and p50/p99 latency, polynb's runtime against the real kgrid-python-runtime
0.1.0, in one run, on the same trivial KO and the same load: through the local activator, and on each
runtime's own endpoint (no activator hop).

Each runtime runs in its own process with its own local activator (an activator keeps one runtime per
engine); the load generator sends the same requests to both, one runtime after the other, after a warm-up.
polynb journals every execution (SQLite), the real runtime keeps nothing.

    .venv/bin/python benchmarks/kgrid.py [--requests 2000] [--concurrency 16]
"""
from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import harness
import httpx

harness.use_test_helpers("kgrid")

import kgrid_peers  # noqa: E402

from polynb.platforms.kgrid import ko as kos  # noqa: E402

KO = "bench/trivial/1.0"
ENDPOINT = f"{KO}/run"
SOURCE = "def run(x):\n    return x['n'] + 1\n"
NAMES = {"polynb": "polynb", "real": "kgrid-python-runtime 0.1.0"}


def write_trivial_ko(kos_dir: Path) -> None:
    trivial = kos.from_cells(kos.Ark.parse(KO), [kos.CellEndpoint("run", "run", SOURCE)])
    kos.write(trivial, kos_dir / trivial.location)


def serve(journal_dir: str) -> None:
    """The child: polynb's runtime in a service of its own, registered with KGRID_PROXY_ADAPTER_URL."""
    from polynb.journal import Journal
    from polynb.service import Service

    service = Service(journal=Journal(journal_dir), notebook_ns={})
    service.call(service.binding("kgrid"))
    harness.ready({"url": service.statuses()["kgrid"].address})
    service.stop(timeout=5)


def polynb_runtime(folder: Path, activator: str) -> harness.Child:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KGRID_")}
    env.update(KGRID_PROXY_ADAPTER_URL=activator, KGRID_PROXY_HEARTBEAT_INTERVAL="0",
               KGRID_PYTHON_SHELF_DIR=str(folder / "pyshelf"))
    folder.mkdir(parents=True, exist_ok=True)
    return harness.Child("kgrid-polynb", [sys.executable, __file__, "--serve", str(folder / ".polynb")],
                         env=env, inherit_env=False, folder=folder, profile=True)


async def load(url: str, requests: int, concurrency: int, rate: float | None = None,
               seconds: float | None = None) -> tuple[float, list[float]]:
    """Send ``requests`` calls with up to ``concurrency`` in flight, paced at ``rate`` per second if given, and
    none sent after ``seconds`` if given; return (seconds, latencies). Every answer is checked."""
    latencies: list[float] = []
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start = time.perf_counter()

        async def worker() -> None:
            for number in queue:
                if seconds is not None and time.perf_counter() - start > seconds:
                    return
                if rate:
                    await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
                sent = time.perf_counter()
                reply = await client.post(url, json={"n": number})
                latencies.append(time.perf_counter() - sent)
                if reply.status_code != 200 or reply.json()["result"] != number + 1:
                    raise RuntimeError(f"bad answer {reply.status_code}: {reply.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def measure(url: str, requests: int, concurrency: int) -> dict:
    asyncio.run(load(url, min(200, requests), concurrency))  # warm-up
    seconds, latencies = asyncio.run(load(url, requests, concurrency))
    return harness.summary(requests, seconds, latencies)


def endpoint_url(runtime: str) -> str:
    """The runtime's own execution URL of the trivial endpoint (what the activator forwards to)."""
    return httpx.get(f"{runtime}/endpoints/{ENDPOINT}").json()["url"]


def run(args) -> dict:
    requests = 100 if args.quick else args.requests
    with tempfile.TemporaryDirectory() as temporary, ExitStack() as stack:
        folder = Path(temporary)
        write_trivial_ko(folder / "kos")
        activators, runtimes = {}, {}
        for side in NAMES:
            info = stack.enter_context(kgrid_peers.local_activator(folder / f"{side}-activator", folder / "kos"))
            activators[side] = info["url"]
        runtimes["real"] = stack.enter_context(kgrid_peers.real_runtime(folder / "real", activators["real"]))
        runtimes["polynb"] = stack.enter_context(polynb_runtime(folder / "polynb", activators["polynb"])).ready()["url"]
        for activator in activators.values():
            if not kgrid_peers.wait_until(lambda url=activator: httpx.get(f"{url}/endpoints").json()[0]["status"]
                                          == "Activated", 60):
                raise RuntimeError(f"the trivial KO was not activated behind {activator}")
        through = {NAMES[side]: measure(f"{activators[side]}/{ENDPOINT}", requests, args.concurrency)
                   for side in ("polynb", "real")}
        direct = {NAMES[side]: measure(endpoint_url(runtimes[side]), requests, args.concurrency)
                  for side in ("polynb", "real")}
    harness.print_table(f"KGrid, trivial KO through the local activator: {requests} calls, "
                        f"{args.concurrency} in flight", through, "calls/s")
    harness.print_table("KGrid, the same on each runtime's own endpoint (no activator hop)", direct, "calls/s")
    ours, real = NAMES["polynb"], NAMES["real"]
    return {"rows": {"through activator": through, "direct": direct},
            "ratios": {"throughput_ratio": harness.ratio(through[ours]["rate"], through[real]["rate"]),
                       "direct_throughput_ratio": harness.ratio(direct[ours]["rate"], direct[real]["rate"])}}


def arguments():
    parser = harness.parser(__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    return parser


if __name__ == "__main__":
    sys.exit(harness.main(arguments, run, serve))
