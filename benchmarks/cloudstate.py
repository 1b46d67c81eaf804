"""CloudState benchmark: the shopping cart on polynb against the official ``cloudstate`` 0.1.1 library and
against a floor, a bare grpc.aio bidi echo server.

All three get the same load through the same driver (playing the proxy, straight over gRPC): per entity, one
``handle`` stream with init then alternating AddItem and GetCart commands, one command in flight at a time
(the floor echoes the same command messages, as bytes). Each user function runs in a process of its own.
Reports commands per second and p50/p99 latency per command, and polynb's ratio to the library and the floor.

    .venv/bin/python benchmarks/cloudstate.py [--entities 20] [--commands 50]
"""
from __future__ import annotations

import asyncio
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import harness

harness.use_test_helpers("cloudstate")

import cloudstate_cells  # noqa: E402
from cloudstate_servers import add_proto, peer_cart, polynb_cart  # noqa: E402
from test_cloudstate_conformance import add, command, get, init  # noqa: E402

from polynb.platforms.cloudstate.protos.gen.cloudstate import event_sourced_pb2_grpc  # noqa: E402

END = object()
ECHO_METHOD = "/bench.Echo/Handle"


class BidiStream:
    """One bidi stream: requests fed from a queue, replies read by a thread (as a proxy holds a stream)."""

    def __init__(self, call: Callable[[Iterator], Iterator]) -> None:
        self._requests: queue.Queue = queue.Queue()
        self._replies: queue.Queue = queue.Queue()
        self._responses = call(iter(self._requests.get, END))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for response in self._responses:
                self._replies.put(response)
        except grpc.RpcError as error:
            self._replies.put(error)

    def send(self, message) -> None:
        self._requests.put(message)

    def next(self, wait: float = 30.0):
        return self._replies.get(timeout=wait)

    def close(self) -> None:
        self._requests.put(END)


def cart_stream(channel: grpc.Channel, user: str) -> BidiStream:
    stream = BidiStream(lambda requests: event_sourced_pb2_grpc.EventSourcedStub(channel).handle(requests, timeout=60))
    stream.send(init(user))
    return stream


def echo_stream(channel: grpc.Channel, user: str) -> BidiStream:
    return BidiStream(lambda requests: channel.stream_stream(ECHO_METHOD)(
        (message.SerializeToString() for message in requests), timeout=60))


def load(address: str, entities: int, commands: int, open_stream=cart_stream) -> dict:
    """Run the load; commands per second and per-command latencies."""
    latencies: list[float] = []
    started = time.perf_counter()
    with grpc.insecure_channel(address) as channel:
        for n in range(entities):
            user = f"bench-{n}-{time.time_ns()}"
            stream = open_stream(channel, user)
            for number in range(1, commands + 1):
                name, payload = add(user, ("p", "P"), 1) if number % 2 else get(user)
                sent = time.perf_counter()
                stream.send(command(user, number, name, payload))
                reply = stream.next()
                latencies.append(time.perf_counter() - sent)
                if isinstance(reply, Exception) or (open_stream is cart_stream and reply.reply.command_id != number):
                    raise RuntimeError(f"bad reply to command {number}: {reply}")
            stream.close()
    return harness.summary(entities * commands, time.perf_counter() - started, latencies)


async def echo_server() -> None:
    """The floor: a grpc.aio server whose one bidi method echoes every message as it comes."""
    async def handle(requests, context):
        async for message in requests:
            yield message

    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "bench.Echo", {"Handle": grpc.stream_stream_rpc_method_handler(handle)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await asyncio.get_running_loop().run_in_executor(None, harness.ready, {"address": f"127.0.0.1:{port}"})
    await server.stop(1)


def serve(kind: str, folder: str = "") -> None:
    """The child: the floor, or polynb serving the notebook cart (no proxy)."""
    if kind == "floor":
        asyncio.run(echo_server())
        return
    namespace: dict = {}
    for name in cloudstate_cells.CART_PROTOS:
        add_proto(namespace, name)
    with polynb_cart(Path(folder) / ".polynb", namespace) as (_, address):
        harness.ready({"address": address})


def run(args) -> dict:
    entities, commands = (2, 10) if args.quick else (args.entities, args.commands)
    for name in cloudstate_cells.CART_PROTOS:  # the peer's descriptors come from the same library
        add_proto({}, name)
    with tempfile.TemporaryDirectory(prefix="polynb-cloudstate-bench-") as folder, \
            harness.Child.script("cloudstate-polynb", __file__, "polynb", folder, folder=Path(folder),
                                 profile=True) as ours, \
            harness.Child.script("cloudstate-floor", __file__, "floor", folder=Path(folder)) as floor, \
            peer_cart(Path(folder)) as their_address:
        sides = {"polynb": (ours.ready()["address"], cart_stream),
                 "cloudstate 0.1.1": (their_address, cart_stream),
                 "floor (grpc.aio bidi echo)": (floor.ready()["address"], echo_stream)}
        for address, open_stream in sides.values():
            load(address, 2, 10, open_stream)  # warm-up
        rows = {label: load(address, entities, commands, open_stream)
                for label, (address, open_stream) in sides.items()}
    harness.print_table(f"CloudState shopping cart, {entities} entities x {commands} commands, one in flight",
                        rows, "cmd/s")
    ours_rate, theirs, floor_rate = (row["rate"] for row in rows.values())
    return {"rows": rows, "ratios": {"throughput_ratio": harness.ratio(ours_rate, theirs),
                                     "floor_ratio": harness.ratio(ours_rate, floor_rate)}}


def arguments():
    parser = harness.parser(__doc__)
    parser.add_argument("--entities", type=int, default=20)
    parser.add_argument("--commands", type=int, default=50)
    return parser


if __name__ == "__main__":
    sys.exit(harness.main(arguments, run, serve))
