"""Vantiq: polynb's connector against the real vantiqPythonExecConnector, same load, same local server.

Both connect to one ``polynb up vantiq`` (each on its own source); the same queries go to each over the
server's REST API from a few client threads. Printed: queries per second and p50/p99 latency for a small
``code`` query and a cached ``name`` query, and polynb's ratio to the real connector.

    .venv/bin/python benchmarks/vantiq.py [--queries 400] [--clients 4] [--rounds 4]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "platforms" / "vantiq")]

from vantiq_harness import Rest, local_server, peer_connector, polynb_connector  # noqa: E402

WORKLOADS = {
    "code": {"code": "y = x * 2\nz = [x, y]\n", "presetValues": {"x": 21}},
    "cached name": {"name": "bench", "presetValues": {"x": 21}},
}
PRIME = {"name": "bench", "code": "y = x * 2\nz = [x, y]\n", "presetValues": {"x": 1}}


def run_load(rest: Rest, source: str, query: dict, total: int, clients: int) -> tuple[float, list[float]]:
    """(queries per second, latencies in seconds) of ``total`` queries spread over ``clients`` threads."""
    latencies: list[float] = []
    lock = threading.Lock()
    share = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]

    def client(count: int) -> None:
        own = Rest(rest.url, rest.token)
        for _ in range(count):
            started = time.perf_counter()
            status, _ = own.query(source, query)
            elapsed = time.perf_counter() - started
            if status != 200:
                raise RuntimeError(f"{source} answered {status}")
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies


def measure(rest: Rest, sides: dict[str, str], query: dict, total: int, clients: int,
            rounds: int) -> dict[str, tuple[float, float, float]]:
    """(q/s, p50 ms, p99 ms) per side; the sides take turns in rounds, so load from elsewhere hits both alike."""
    spent = {side: 0.0 for side in sides}
    latencies: dict[str, list[float]] = {side: [] for side in sides}
    for round_number in range(rounds):
        order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
        for side in order:
            qps, measured = run_load(rest, sides[side], query, total // rounds, clients)
            spent[side] += len(measured) / qps
            latencies[side].extend(measured)
    return {side: (len(latencies[side]) / spent[side], percentile(latencies[side], 0.5) * 1000,
                   percentile(latencies[side], 0.99) * 1000) for side in sides}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="turns each side takes, alternating")
    args = parser.parse_args()
    sides = {"real connector": "benchPeer", "polynb": "benchPolynb"}
    with tempfile.TemporaryDirectory() as scratch, local_server() as info:
        rest = Rest(info["url"], info["token"])
        with peer_connector(Path(scratch) / "peer", info["url"], info["token"], sides["real connector"]), \
                polynb_connector(Path(scratch) / "journal", info["url"], info["token"], sides["polynb"]):
            for source in sides.values():
                rest.wait_for_sessions(source, 1)
                rest.query(source, PRIME)
                run_load(rest, source, WORKLOADS["code"], 40, args.clients)  # warm-up
            print(f"{args.queries} queries per workload and side, {args.clients} clients, {args.rounds} alternating "
                  "rounds, one local server")
            print(f"{'workload':<12} {'side':<15} {'q/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
            for workload, query in WORKLOADS.items():
                figures = measure(rest, sides, query, args.queries, args.clients, args.rounds)
                for side, (qps, p50, p99) in figures.items():
                    print(f"{workload:<12} {side:<15} {qps:8.0f} {p50:8.2f} {p99:8.2f}")
                real, ours = figures["real connector"], figures["polynb"]
                print(f"{workload:<12} {'polynb / real':<15} {ours[0] / real[0]:8.2f} {ours[1] / real[1]:8.2f} "
                      f"{ours[2] / real[2]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
