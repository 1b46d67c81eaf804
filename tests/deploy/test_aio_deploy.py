"""AIO deploy: ``polynb serve`` runs a notebook as one process of a KAI deployment, configured by app.yaml alone.

A real nats-server holds what the KAI managers create (the stream, the KV buckets, the object store); the
process's app.yaml is mounted at ``KAI_APP_CONFIG_PATH``, the one variable the SDK reads; no polynb setting is
set. An upstream node's recorded message goes in, and the fact sheet's recorded answer must come out.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import threading
from pathlib import Path

import nats
import pytest
from aio_kai import BUCKETS, PROCESS_CONFIG, STREAM, deploy_workflow, mount_app_yaml
from loop_thread import LoopThread
from platforms.aio.test_aio_wire import INPUT, OUTPUT
from support import POLYNB, check_running, environ_without, stop, wait_until

from polynb.journal import Journal
from polynb.platforms.aio.natsserver import NatsServer

SAMPLE = Path(__file__).resolve().parent / "aio" / "worker.ipynb"
SETTLE = 60.0
#: what the test's own environment must not pass on: the deployed process gets the SDK's variables only
NOT_INHERITED = ("KAI_", "POLYNB_", "COLONIES_", "KGRID_", "VANTIQ_", "CLOUDSTATE_", "JPY_SESSION_NAME")


def settled(condition, what: str, process: subprocess.Popen):
    """What ``condition`` returns once truthy, failing at once if ``polynb serve`` exits meanwhile."""
    return wait_until(condition, SETTLE, what, alive=lambda: check_running(process, "polynb serve"))


class Kai:
    """The platform around the node: nats-server, the managers' setup, and an upstream node's NATS client."""

    def __init__(self, folder: Path) -> None:
        self.loops = LoopThread()
        self.server = NatsServer(folder / "jetstream")
        self.loops.run(self.server.start())
        self.nc = self.loops.run(nats.connect(self.server.url))
        self.js = self.nc.jetstream()
        self.loops.run(deploy_workflow(self.js))
        self.seen: list[bytes] = []

    def run(self, coro):
        return self.loops.run(coro)

    def put_config(self, scope: str, key: str, value: bytes) -> None:
        async def put():
            await (await self.js.key_value(BUCKETS[scope])).put(key, value)
        self.run(put())

    def watch(self, subject: str) -> None:
        async def on_message(msg):
            self.seen.append(msg.data)
        self.run(self.nc.subscribe(subject, cb=on_message))
        self.run(self.nc.flush())

    def close(self) -> None:
        self.run(self.nc.close())
        self.run(self.server.stop())
        self.loops.close()


@pytest.fixture
def kai(tmp_path):
    platform = Kai(tmp_path)
    yield platform
    platform.close()


@pytest.fixture
def serve(tmp_path):
    """``polynb serve`` of the sample notebook in a folder of its own, with only ``KAI_APP_CONFIG_PATH`` set."""
    started: list[subprocess.Popen] = []

    def start(config_path: Path) -> tuple[subprocess.Popen, list[str], Path]:
        work = tmp_path / "work"
        work.mkdir()
        notebook = Path(shutil.copy(SAMPLE, work / SAMPLE.name))
        env = environ_without(NOT_INHERITED, KAI_APP_CONFIG_PATH=str(config_path))
        process = subprocess.Popen(POLYNB + ["serve", str(notebook)], cwd=work, env=env,
                                   stdout=subprocess.PIPE, stderr=open(tmp_path / "serve.log", "w"), text=True)
        started.append(process)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
        return process, lines, work

    yield start
    for process in started:
        stop(process, sig=signal.SIGKILL)


@pytest.mark.slow
def test_serve_runs_the_node_as_app_yaml_says_and_answers_an_upstream_node(kai, serve, tmp_path):
    kai.put_config("workflow", "suffix", b"wfval")
    mount_app_yaml(tmp_path / "kai-config", kai.server.url)
    process, lines, work = serve(tmp_path / "kai-config")

    line = settled(lambda: next((x for x in lines if x.startswith("serving aio task1")), None),
                   "the serving line", process)
    assert line.strip() == f"serving aio task1 v1 {STREAM}.trig → {STREAM}.task1"
    # the serving line is true: the SDK's durable queue group is on the server and bound to the node
    consumer = kai.run(kai.js.consumer_info(STREAM, f"{STREAM}-trig-task1"))
    assert consumer.push_bound and consumer.config.deliver_group == f"{STREAM}-trig-task1"
    assert consumer.config.filter_subject == f"{STREAM}.trig"
    process_kv = kai.run(kai.js.key_value(BUCKETS["process"]))
    assert kai.run(process_kv.get("greeting")).value == PROCESS_CONFIG["greeting"].encode()

    kai.watch(f"{STREAM}.task1")
    kai.run(kai.js.publish(f"{STREAM}.trig", INPUT))  # trig's message, as the fact sheet recorded it
    settled(lambda: kai.seen, "task1's answer", process)
    assert kai.seen == [OUTPUT]

    journal = Journal(work / ".polynb", readonly=True)
    record = settled(lambda: journal.records(platform="aio", payload="task1", status="succeeded"),
                     "the journal record", process)[0]
    assert record.input["request_id"] == "req-0001" and record.meta["from_node"] == "trig"
    assert record.output == [{"subject": f"{STREAM}.task1", **record.output[0]}]
    assert any("greeting world" in entry["message"] for entry in record.logs)

    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0, (tmp_path / "serve.log").read_text()
