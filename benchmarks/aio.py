"""AIO benchmark: one-task KAI workflow, polynb's node against the real kai-runner 2.0.4 node against the floor.

The floor is a bare nats-py JetStream consumer that only republishes each input (no protobuf, no journal). All
three run as task ``work`` of a workflow of their own, each in a process of its own as deployed, on one local
nats-server, fed the same KaiNatsMessages by this process: first one at a time (end-to-end latency, p50/p99),
then a burst (messages per second).

    .venv/bin/python benchmarks/aio.py [--latency 300] [--burst 2000]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peers import peer_python  # noqa: E402

from polynb.platforms.aio import appconfig, managers, names, wire  # noqa: E402
from polynb.platforms.aio.local import NatsServer  # noqa: E402

ECHO = "async def handler(sdk, payload):\n    await sdk.messaging.send_any(payload)\n"

FLOOR_NODE = '''
import asyncio, sys
import nats

async def main(url, subject, output, durable):
    client = await nats.connect(url)
    js = client.jetstream()

    async def on_message(msg):
        await js.publish(output, msg.data)
        await msg.ack()

    await js.subscribe(subject, queue=durable, durable=durable, cb=on_message, manual_ack=True)
    print("NODE-READY", flush=True)
    await asyncio.Event().wait()

asyncio.run(main(*sys.argv[1:5]))
'''

POLYNB_NODE = '''
import sys, threading
from pathlib import Path
from polynb.config import CORE_SETTINGS, Settings
from polynb.journal import Journal
from polynb.payload import Payload
from polynb.platforms.aio import PLATFORM
from polynb.service import Service

url, folder, source = sys.argv[1:4]
environ = {"KAI_NATS_URL": url, "KAI_PRODUCT_ID": "bench", "KAI_WORKFLOW_NAME": "polynb", "KAI_OBJECT_STORE": ""}
service = Service(Settings({"core": CORE_SETTINGS, "aio": PLATFORM.settings}, environ=environ, path=None),
                  journal=Journal(Path(folder) / ".polynb"))
service.register(Payload("aio", "work", source, None, {"runner": "task", "subscribe": ["trig"]}, isolated=True))
print("NODE-READY", flush=True)
threading.Event().wait()
'''

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
    print("NODE-READY", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
'''


class NodeProcess:
    """One node in a process of its own, its output to a log file so that no pipe ever fills."""

    def __init__(self, folder: Path, name: str, python: str, script: str, args: list[str], env: dict) -> None:
        path = folder / f"node_{name}.py"  # not polynb.py, which would shadow the package
        path.write_text(script)
        self.log = folder / f"{name}.log"
        with open(self.log, "w") as output:
            self.process = subprocess.Popen([python, str(path), *args], cwd=folder, stdout=output,
                                            stderr=subprocess.STDOUT, env={**os.environ, **env})

    async def ready(self) -> None:
        while "NODE-READY" not in self.log.read_text():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log.stem} exited: {self.log.read_text()[-2000:]}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def node_spec(url: str, workflow: str) -> appconfig.NodeSpec:
    settings = {"product": "bench", "version": "v1.0.0", "workflow": workflow, "workflow_type": "data",
                "object_store": None, "ack_wait": 30.0}
    return appconfig.derive_spec(settings, "work", "task", subscribe=("trig",), nats_url=url)


def start_node(kind: str, folder: Path, url: str, spec: appconfig.NodeSpec) -> NodeProcess:
    if kind == "floor":
        durable = names.durable(spec.inputs[0], spec.process)
        return NodeProcess(folder, kind, sys.executable, FLOOR_NODE, [url, spec.inputs[0], spec.output, durable], {})
    if kind == "polynb":
        return NodeProcess(folder, kind, sys.executable, POLYNB_NODE, [url, str(folder), ECHO], {})
    config_dir = managers.write_app_config(folder / kind, spec).parent
    python = str(peer_python("aio", ["kai-runner==2.0.4"]))
    return NodeProcess(folder, kind, python, PEER_NODE, [], {"KAI_APP_CONFIG_PATH": str(config_dir)})


async def drive(url: str, spec: appconfig.NodeSpec, latency_n: int, burst_n: int) -> dict:
    """Sequential messages for latency, then a burst for the rate; times run from publish to output received."""
    client = await nats.connect(url)
    js = client.jetstream()
    arrived: dict[str, float] = {}
    done = asyncio.Event()
    expected = [0]

    async def on_output(msg):
        arrived[wire.decode(msg.data).request_id] = time.perf_counter()
        if len(arrived) >= expected[0]:
            done.set()

    await client.subscribe(spec.output, cb=on_output)
    await client.flush()
    payload = wire.pack("x" * 64)
    latencies = []
    for index in range(latency_n):
        request_id = f"lat-{index}"
        expected[0], start = len(arrived) + 1, time.perf_counter()
        done.clear()
        await js.publish(spec.inputs[0], wire.ok_message(request_id, payload, "trig").SerializeToString())
        await asyncio.wait_for(done.wait(), 30)
        latencies.append(arrived[request_id] - start)
    expected[0] = len(arrived) + burst_n
    done.clear()
    start = time.perf_counter()
    for index in range(burst_n):
        await js.publish(spec.inputs[0], wire.ok_message(f"burst-{index}", payload, "trig").SerializeToString())
    await asyncio.wait_for(done.wait(), 300)
    elapsed = time.perf_counter() - start
    await client.close()
    latencies.sort()
    return {"rate": burst_n / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000}


async def main(latency_n: int, burst_n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="polynb-aio-bench-"))
    server = NatsServer(folder / "jetstream")
    await server.start()
    labels = {"floor": "floor (bare nats-py republish)", "polynb": "polynb", "peer": "kai-runner 2.0.4"}
    results: dict[str, dict] = {}
    try:
        client = await nats.connect(server.url)
        for kind in labels:
            await managers.apply_node(client.jetstream(), node_spec(server.url, kind))
        await client.close()
        for kind, label in labels.items():
            spec = node_spec(server.url, kind)
            node = start_node(kind, folder, server.url, spec)
            try:
                await node.ready()
                results[label] = await drive(server.url, spec, latency_n, burst_n)
            finally:
                node.stop()
    finally:
        await server.stop()
    print(f"one-task workflow, {latency_n} sequential messages for latency, a burst of {burst_n} for throughput")
    print(f"{'node':32} {'msg/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label, row in results.items():
        print(f"{label:32} {row['rate']:9.0f} {row['p50']:8.2f} {row['p99']:8.2f}")
    ours, peer, floor = (results[labels[kind]] for kind in ("polynb", "peer", "floor"))
    for other, row in (("kai-runner", peer), ("floor", floor)):
        print(f"polynb / {other + ':':11} throughput x{ours['rate'] / row['rate']:.2f}, "
              f"p50 x{ours['p50'] / row['p50']:.2f}, p99 x{ours['p99'] / row['p99']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=300, help="sequential messages for p50/p99")
    parser.add_argument("--burst", type=int, default=2000, help="messages of the throughput burst")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.latency, arguments.burst))
