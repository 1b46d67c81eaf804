"""AIO benchmark: one-task KAI workflow, polynb's node against the real kai-runner 2.0.4 node against the floor.

The floor is a bare nats-py JetStream consumer that only republishes each input (no protobuf, no journal). polynb
runs twice: as configured by default (one delivery at a time, in order, as the SDK) and with
``POLYNB_AIO_CONCURRENCY=16``. All four run as task ``work`` of a workflow of their own, each in a process of its own as deployed, on one local
nats-server, fed the same KaiNatsMessages by this process: one at a time (end-to-end latency, p50/p99), a
burst published as fast as JetStream acks it, and a run that keeps 100 messages in flight (messages per second).

    .venv/bin/python benchmarks/aio.py [--latency 300] [--burst 2000] [--in-flight 100]
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness
import nats

from polynb.platforms.aio import appconfig, managers, names, wire

ECHO = "async def handler(sdk, payload):\n    await sdk.messaging.send_any(payload)\n"

PEER_NODE = '''
import asyncio
import sdk.kai_sdk as kai_sdk

class _Unused:
    def __init__(self, *args, **kwargs): pass

kai_sdk.PersistentStorage = kai_sdk.ModelRegistry = _Unused
from runner.runner import Runner

async def handler(sdk, payload):
    await sdk.messaging.send_any(payload)

async def main():
    runner = await Runner().initialize()
    await runner.task_runner().with_handler(handler).run()
    print("READY {}", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
'''
#: polynb's node handles as many deliveries side by side as an operator allows it (POLYNB_AIO_CONCURRENCY); KAI's
#: SDK handles one at a time, as polynb does by default. The JSON's ratios are of the default (same order of
#: delivery as the SDK); the parallel row shows what an operator gains by allowing it.
PARALLEL = 16
LABELS = {"floor": "floor (bare nats-py republish)", "polynb": "polynb", "polynb-parallel":
          f"polynb, POLYNB_AIO_CONCURRENCY={PARALLEL}", "peer": "kai-runner 2.0.4"}


async def floor_node(url: str, subject: str, output: str, durable: str) -> None:
    """The floor: consume from the stream, publish the reply, ack; nothing else."""
    client = await nats.connect(url)
    js = client.jetstream()

    async def on_message(msg):
        await js.publish(output, msg.data)
        await msg.ack()

    await js.subscribe(subject, queue=durable, durable=durable, cb=on_message, manual_ack=True)
    await asyncio.get_running_loop().run_in_executor(None, harness.ready)
    await client.close()


def polynb_node(url: str, folder: str, workflow: str, concurrency: str) -> None:
    """polynb's node: a service of its own with the echo task registered, as ``polynb serve`` runs it."""
    from polynb.config import Settings
    from polynb.journal import Journal
    from polynb.payload import Payload
    from polynb.platforms.aio import PLATFORM
    from polynb.service import Service

    environ = {"KAI_NATS_URL": url, "KAI_PRODUCT_ID": "bench", "KAI_WORKFLOW_NAME": workflow, "KAI_OBJECT_STORE": "",
               "POLYNB_AIO_CONCURRENCY": concurrency}
    service = Service(Settings({"aio": PLATFORM.settings}, environ=environ, path=None),
                      journal=Journal(Path(folder) / ".polynb"))
    service.register(Payload("aio", "work", ECHO, None, {"runner": "task", "subscribe": ["trig"]}, isolated=True))
    harness.ready()
    service.stop(timeout=5)


def serve(kind: str, *args: str) -> None:
    if kind == "floor":
        asyncio.run(floor_node(*args))
    else:
        polynb_node(*args)


def node_spec(url: str, workflow: str) -> appconfig.NodeSpec:
    settings = appconfig.Placement("bench", "v1.0.0", workflow)
    return appconfig.derive_spec(settings, "work", "task", subscribe=("trig",), nats_url=url)


def start_node(kind: str, folder: Path, url: str, spec: appconfig.NodeSpec) -> harness.Child:
    if kind == "floor":
        durable = names.durable(spec.inputs[0], spec.process)
        return harness.Child.script(kind, __file__, "floor", url, spec.inputs[0], spec.output, durable, folder=folder)
    if kind.startswith("polynb"):
        concurrency = str(PARALLEL if kind == "polynb-parallel" else 1)
        return harness.Child.script(f"aio-{kind}", __file__, "polynb", url, str(folder / kind), kind, concurrency,
                                    folder=folder, profile=True)
    config_dir = managers.write_app_config(folder / kind, spec).parent
    script = folder / "node_peer.py"  # not polynb.py, which would shadow the package
    script.write_text(PEER_NODE)
    python = str(harness.peer_python("aio", ["kai-runner==2.0.4"]))
    return harness.Child(kind, [python, str(script)], env={"KAI_APP_CONFIG_PATH": str(config_dir)}, cwd=folder,
                         folder=folder, stdin_stops=False)


async def drive(url: str, spec: appconfig.NodeSpec, latency_n: int, burst_n: int, in_flight: int) -> dict:
    """Sequential messages for latency, a burst, then ``in_flight`` at a time; times run from publish to output."""
    client = await nats.connect(url)
    js = client.jetstream()
    arrived: dict[str, float] = {}
    done = asyncio.Event()
    expected = [0]
    window = asyncio.Semaphore(in_flight)

    async def on_output(msg):
        arrived[wire.decode(msg.data).request_id] = time.perf_counter()
        window.release()
        if len(arrived) >= expected[0]:
            done.set()

    await client.subscribe(spec.output, cb=on_output)
    await client.flush()
    payload = wire.pack("x" * 64)

    async def send(request_id: str) -> None:
        await js.publish(spec.inputs[0], wire.ok_message(request_id, payload, "trig").SerializeToString())

    latencies = []
    for index in range(latency_n):
        expected[0], start = len(arrived) + 1, time.perf_counter()
        done.clear()
        await send(f"lat-{index}")
        await asyncio.wait_for(done.wait(), 30)
        latencies.append(arrived[f"lat-{index}"] - start)
    rates = {}
    for name, limit in (("burst", None), ("in flight", in_flight)):
        expected[0] = len(arrived) + burst_n
        done.clear()
        window = asyncio.Semaphore(limit or burst_n + len(arrived) + 1)
        start = time.perf_counter()
        for index in range(burst_n):
            await window.acquire()
            await send(f"{name}-{index}")
        await asyncio.wait_for(done.wait(), 300)
        rates[name] = burst_n / (time.perf_counter() - start)
    await client.close()
    latencies.sort()
    return {"rate": rates["in flight"], "burst": rates["burst"], "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000}


async def measure(latency_n: int, burst_n: int, in_flight: int) -> dict[str, dict]:
    from polynb.platforms.aio.natsserver import NatsServer

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="polynb-aio-bench-") as temporary:
        folder = Path(temporary)
        server = NatsServer(folder / "jetstream")
        await server.start()
        try:
            client = await nats.connect(server.url)
            for kind in LABELS:
                await managers.apply_node(client.jetstream(), node_spec(server.url, kind))
            await client.close()
            for kind, label in LABELS.items():
                spec = node_spec(server.url, kind)
                with start_node(kind, folder, server.url, spec) as node:
                    await asyncio.get_running_loop().run_in_executor(None, node.ready)
                    results[label] = await drive(server.url, spec, latency_n, burst_n, in_flight)
        finally:
            await server.stop()
    return results


def run(args) -> dict:
    latency_n, burst_n = (20, 100) if args.quick else (args.latency, args.burst)
    rows = asyncio.run(measure(latency_n, burst_n, args.in_flight))
    harness.print_table(f"AIO one-task workflow: {latency_n} sequential messages for latency, {burst_n} with "
                        f"{args.in_flight} in flight for msg/s", rows, "msg/s")
    for label, row in rows.items():
        print(f"  burst of {burst_n}, {label}: {row['burst']:.0f} msg/s")
    ours, parallel, peer, floor = (rows[LABELS[kind]]["rate"] for kind in ("polynb", "polynb-parallel", "peer", "floor"))
    print(f"  {LABELS['polynb-parallel']} / {LABELS['peer']}: {harness.ratio(parallel, peer)}x (not in the JSON)")
    return {"rows": rows, "ratios": {"throughput_ratio": harness.ratio(ours, peer),
                                     "floor_ratio": harness.ratio(ours, floor)}}


def arguments():
    parser = harness.parser(__doc__)
    parser.add_argument("--latency", type=int, default=300, help="sequential messages for p50/p99")
    parser.add_argument("--burst", type=int, default=2000, help="messages of the burst and of the in-flight run")
    parser.add_argument("--in-flight", type=int, default=100, help="messages kept in flight")
    return parser


if __name__ == "__main__":
    sys.exit(harness.main(arguments, run, serve))
