"""CloudState benchmark: the shopping cart on polynb against the official ``cloudstate`` 0.1.1 library.

Both user functions get the same load through the same driver (the TCK model-stream driver playing the
proxy, straight over gRPC): per entity, one ``handle`` stream with init then alternating AddItem and
GetCart commands, one command in flight at a time. Reports commands per second and p50/p99 latency per
command, and the ratio polynb / official library.

    .venv/bin/python benchmarks/cloudstate.py [--entities 20] [--commands 50]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "platforms" / "cloudstate")]

import cloudstate_cells  # noqa: E402
from cloudstate_servers import add_proto, peer_cart, polynb_cart  # noqa: E402
from cloudstate_tck import ModelStream  # noqa: E402
from test_cloudstate_conformance import add, command, get, init  # noqa: E402


def load(address: str, entities: int, commands: int) -> tuple[float, list[float]]:
    """Run the load; (commands per second, per-command latencies in seconds)."""
    latencies: list[float] = []
    started = time.perf_counter()
    with grpc.insecure_channel(address) as channel:
        for n in range(entities):
            user = f"bench-{n}-{time.time_ns()}"
            stream = ModelStream(channel, "es").send(init(user))
            for number in range(1, commands + 1):
                name, payload = add(user, ("p", "P"), 1) if number % 2 else get(user)
                sent = time.perf_counter()
                stream.send(command(user, number, name, payload))
                reply = stream.next(30)
                latencies.append(time.perf_counter() - sent)
                assert reply.reply.command_id == number, reply
            stream.close()
    return entities * commands / (time.perf_counter() - started), latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20)
    parser.add_argument("--commands", type=int, default=50)
    args = parser.parse_args()
    namespace: dict = {}
    for name in cloudstate_cells.CART_PROTOS:
        add_proto(namespace, name)
    with tempfile.TemporaryDirectory(prefix="polynb-cloudstate-bench-") as folder, \
            polynb_cart(Path(folder) / ".polynb", namespace) as (_, our_address), \
            peer_cart(Path(folder)) as their_address:
        load(our_address, 2, 10)  # warm up both
        load(their_address, 2, 10)
        results = {"polynb": load(our_address, args.entities, args.commands),
                   "cloudstate 0.1.1": load(their_address, args.entities, args.commands)}
    print(f"shopping cart, {args.entities} entities x {args.commands} commands, one in flight")
    print(f"{'':18}{'cmd/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for label, (rate, latencies) in results.items():
        print(f"{label:18}{rate:10.0f}{percentile(latencies, 50) * 1000:10.2f}{percentile(latencies, 99) * 1000:10.2f}")
    (ours_rate, ours_lat), (theirs_rate, theirs_lat) = results.values()
    print(f"ratio polynb/official: throughput {ours_rate / theirs_rate:.2f}x, "
          f"p50 latency {percentile(ours_lat, 50) / percentile(theirs_lat, 50):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
