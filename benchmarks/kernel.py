"""Kernel responsiveness: how much slower a trivial cell gets while the kernel's polynb serves a KGrid load.

A real IPython kernel (jupyter_client) loads polynb and registers a trivial KO with ``%%kgrid_ko``; its runtime
registers with a local activator. A load generator in a process of its own then drives ``--rate`` executions
per second at the runtime's own endpoint over HTTP, while this process runs ``1+1`` in the kernel again and again
(timed from execute request to the kernel going idle). Reported: the cell's p50 and p95 without the load and
with it, the difference (what the load adds), and the rate the load actually reached.

    .venv/bin/python benchmarks/kernel.py [--rate 500] [--cells 200]
"""
from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import harness
import httpx
import kgrid
from jupyter_client.manager import KernelManager

harness.use_test_helpers("kgrid")

import kgrid_peers  # noqa: E402

CELL = f"%%kgrid_ko {kgrid.KO} --endpoint run\n{kgrid.SOURCE}"
CONCURRENCY = 32


def serve(url: str, rate: str, seconds: str) -> None:
    """The child: the load generator, paced at ``rate`` per second for ``seconds``."""
    harness.tell("READY")
    spent, latencies = asyncio.run(kgrid.load(url, int(float(rate) * float(seconds)), CONCURRENCY, float(rate),
                                              float(seconds)))
    harness.tell("DONE", harness.summary(len(latencies), spent, latencies))
    sys.stdin.read()


def cell_latencies(client, count: int, pause: float = 0.01) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        reply = client.execute_interactive("1+1", store_history=False, output_hook=lambda message: None, timeout=60)
        latencies.append(time.perf_counter() - started)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the trivial cell failed: {reply['content']}")
        time.sleep(pause)
    return latencies


def start_kernel(folder: Path, activator: str) -> tuple[KernelManager, object]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KGRID_")}
    env.update(KGRID_PROXY_ADAPTER_URL=activator, KGRID_PROXY_HEARTBEAT_INTERVAL="0",
               KGRID_PYTHON_SHELF_DIR=str(folder / "pyshelf"), POLYNB_JOURNAL_DIR=str(folder / ".polynb"))
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(folder))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    for code in ("%load_ext polynb", CELL):
        reply = client.execute_interactive(code, output_hook=lambda message: None, timeout=120)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code.splitlines()[0]} failed in the kernel: {reply['content']}")
    return manager, client


def run(args) -> dict:
    rate, cells, seconds = (50.0, 20, 3.0) if args.quick else (args.rate, args.cells, args.seconds)
    with tempfile.TemporaryDirectory(prefix="polynb-kernel-bench-") as temporary, \
            kgrid_peers.local_activator(Path(temporary) / "activator") as info:
        folder = Path(temporary)
        manager, client = start_kernel(folder, info["url"])
        try:
            if not kgrid_peers.wait_until(lambda: httpx.get(f"{info['url']}/endpoints").json()[0]["status"]
                                          == "Activated", 60):
                raise RuntimeError("the kernel's trivial KO was not activated")
            url = kgrid.endpoint_url(kgrid_peers.registered_url(info["url"]))
            asyncio.run(kgrid.load(url, 200, 8))  # warm-up of the runtime
            cell_latencies(client, 20)  # and of the cell
            quiet = cell_latencies(client, cells)
            with harness.Child.script("kernel-load", __file__, url, str(rate), str(seconds), folder=folder) as load:
                load.ready()
                time.sleep(1.0)  # the load settles
                loaded = cell_latencies(client, cells)
                if load.process.poll() is not None or "DONE" in load.log.read_text():
                    print("warning: the load ended before the cells did; raise --seconds", file=sys.stderr)
                reached = load.line("DONE", timeout=seconds + 120)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=False)
    rows = {"trivial cell, no load": harness.summary(cells, sum(quiet), quiet),
            f"trivial cell, {rate:.0f}/s asked": harness.summary(cells, sum(loaded), loaded)}
    harness.print_table(f"Kernel responsiveness: {cells} cells of 1+1, load of {rate:.0f} KGrid executions/s asked, "
                        f"{reached['rate']:.0f}/s reached (p50 {reached['p50']:.1f} ms)", rows, "cells/s")
    (quiet_row, loaded_row) = rows.values()
    return {"rows": {**rows, "load": reached},
            "ratios": {"cell_p50_added_ms": round(loaded_row["p50"] - quiet_row["p50"], 2),
                       "cell_p95_added_ms": round(loaded_row["p95"] - quiet_row["p95"], 2)},
            "load_reached_per_s": round(reached["rate"], 1)}


def arguments():
    parser = harness.parser(__doc__)
    parser.add_argument("--rate", type=float, default=500.0, help="KGrid executions per second the load asks")
    parser.add_argument("--cells", type=int, default=200, help="timed cells without and with the load")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load runs")
    return parser


if __name__ == "__main__":
    sys.exit(harness.main(arguments, run, serve))
