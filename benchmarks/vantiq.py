"""Vantiq: polynb's connector against the real vantiqPythonExecConnector, same load, same local server.

Both connect to one ``polynb up vantiq`` (each on its own source), each in a process of its own; the same
queries go to each over the server's REST API from a few client threads, the sides taking turns in rounds.
Printed: queries per second and p50/p99 latency for a small ``code`` query and a cached ``name`` query, and
polynb's ratio to the real connector.

    .venv/bin/python benchmarks/vantiq.py [--queries 400] [--clients 4] [--rounds 4]
"""
from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import harness

harness.use_test_helpers("vantiq")

from vantiq_harness import Rest, local_server, peer_connector, polynb_connector  # noqa: E402

WORKLOADS = {
    "code": {"code": "y = x * 2\nz = [x, y]\n", "presetValues": {"x": 21}},
    "cached name": {"name": "bench", "presetValues": {"x": 21}},
}
PRIME = {"name": "bench", "code": "y = x * 2\nz = [x, y]\n", "presetValues": {"x": 1}}
SIDES = {"real connector": "benchPeer", "polynb": "benchPolynb"}


def run_load(rest: Rest, source: str, query: dict, total: int, clients: int) -> tuple[float, list[float]]:
    """(seconds, latencies in seconds) of ``total`` queries spread over ``clients`` threads."""
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
    return time.perf_counter() - started, latencies


def measure(rest: Rest, query: dict, total: int, clients: int, rounds: int) -> dict[str, dict]:
    """A summary per side; the sides take turns in rounds, so load from elsewhere hits both alike."""
    spent = {side: 0.0 for side in SIDES}
    latencies: dict[str, list[float]] = {side: [] for side in SIDES}
    for round_number in range(rounds):
        order = list(SIDES) if round_number % 2 == 0 else list(reversed(SIDES))
        for side in order:
            seconds, measured = run_load(rest, SIDES[side], query, total // rounds, clients)
            spent[side] += seconds
            latencies[side].extend(measured)
    return {side: harness.summary(len(latencies[side]), spent[side], latencies[side]) for side in SIDES}


def serve(journal_dir: str, url: str, token: str, source: str) -> None:
    """The child: polynb's connector in a service of its own."""
    with polynb_connector(Path(journal_dir), url, token, source):
        harness.ready()


def run(args) -> dict:
    queries, rounds = (40, 2) if args.quick else (args.queries, args.rounds)
    ratios, rows = {}, {}
    with tempfile.TemporaryDirectory() as scratch, local_server() as info:
        rest = Rest(info["url"], info["token"])
        with peer_connector(Path(scratch) / "peer", info["url"], info["token"], SIDES["real connector"]), \
                harness.Child.script("vantiq-polynb", __file__, str(Path(scratch) / "journal"), info["url"],
                                     info["token"], SIDES["polynb"], folder=Path(scratch), profile=True) as ours:
            ours.ready()
            for source in SIDES.values():
                rest.wait_for_sessions(source, 1)
                rest.query(source, PRIME)
                run_load(rest, source, WORKLOADS["code"], 40, args.clients)  # warm-up
            for workload, query in WORKLOADS.items():
                rows[workload] = measure(rest, query, queries, args.clients, rounds)
                harness.print_table(f"Vantiq {workload} query: {queries} per side, {args.clients} clients, "
                                    f"{rounds} alternating rounds, one local server", rows[workload], "q/s")
                key = "code_ratio" if workload == "code" else "cached_ratio"
                ratios[key] = harness.ratio(rows[workload]["polynb"]["rate"], rows[workload]["real connector"]["rate"])
    return {"rows": rows, "ratios": ratios}


def arguments():
    parser = harness.parser(__doc__)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="turns each side takes, alternating")
    return parser


if __name__ == "__main__":
    sys.exit(harness.main(arguments, run, serve))
