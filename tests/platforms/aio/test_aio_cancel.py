"""A cancelled or timed-out AIO handler: the real kai-runner node downstream gets polynb's error message, and the
handler's output is the node's JSON log on stdout while it runs."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from aio_harness import Client, aio_service, new_workflow, register
from peers import peer_python
from support import read_line, stop, wait_until

from polynb.journal import CANCELLED, RUNNING, TIMED_OUT
from polynb.payload import Payload
from polynb.platforms.aio import appconfig, managers, wire

DOWNSTREAM = Path(__file__).resolve().parent / "kai_peer_downstream.py"
SPIN = "def default_handler(sdk, payload):\n    while True:\n        pass\n"


@pytest.mark.peers
def test_a_kai_runner_node_downstream_gets_polynb_s_error_for_a_cancelled_handler(nats_server, tmp_path):
    workflow = new_workflow()
    client = Client(nats_server.url)
    downstream = appconfig.derive_spec(appconfig.Placement("demo", "v1.0.0", workflow), "task2", "task",
                                       subscribe=("task1",), nats_url=nats_server.url)
    client.run(managers.apply_node(client.js, downstream))
    folder = managers.write_app_config(tmp_path / "peer", downstream).parent
    peer = subprocess.Popen([str(peer_python("aio", ["kai-runner==2.0.4"])), str(DOWNSTREAM)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "KAI_APP_CONFIG_PATH": str(folder)})
    service = aio_service(tmp_path, nats_server.url)
    try:
        line = ""
        while "PEER-READY" not in line:
            line = read_line(peer.stdout, 120, "the kai-runner node")
            assert line, f"the kai-runner node exited ({peer.wait(10)}) before it was ready"
        register(service, "task1", SPIN, workflow=workflow, subscribe=("trig",))
        client.publish(f"{downstream.stream}.trig", wire.ok_message("req-7", wire.pack("go"), "trig").SerializeToString())
        running = wait_until(lambda: service.journal.last(payload="task1", status=RUNNING), 30, "task1 running")
        service.cancel(running.id, "stopped by the operator")
        while not line.startswith("SEEN "):
            line = read_line(peer.stdout, 60, "the downstream node's message")
            assert line, "the kai-runner node exited"
        seen = json.loads(line[len("SEEN "):])
        assert seen == {"error": True, "request_id": "req-7", "from_node": "task1",
                        "text": "error in node trig executing handler for node task1: "
                                "ExecutionCancelled: stopped by the operator"}
        assert service.journal.get(running.id).status == CANCELLED
    finally:
        service.stop(timeout=2)
        stop(peer, 10)
        client.close()


def test_a_handler_past_its_timeout_is_timed_out_and_its_lines_are_json_logs_with_the_request_id(
        nats_server, tmp_path, capfd):
    workflow = new_workflow()
    client = Client(nats_server.url)
    service = aio_service(tmp_path, nats_server.url)
    try:
        source = "def default_handler(sdk, payload):\n    print('working on it')\n    while True:\n        pass\n"
        registration_options = {"runner": "task", "workflow": workflow, "subscribe": ["trig"], "from_node": {},
                                "timeout": 1}
        service.register(Payload("aio", "task1", source, None, registration_options, isolated=True))
        stream = appconfig.derive_spec(appconfig.Placement("demo", "v1.0.0", workflow), "task1", "task").stream
        client.publish(f"{stream}.trig", wire.ok_message("req-9", wire.pack("go"), "trig").SerializeToString())
        record = wait_until(lambda: service.journal.last(payload="task1", status=TIMED_OUT), 30, "task1 timed out")
        assert record.error == "ExecutionTimedOut: timed out after 1 s"
        assert record.meta["ack_wait"] == 30.0
    finally:
        service.stop(timeout=2)
        client.close()
    logged = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith('{"level"')]
    assert [(entry["msg"], entry["request_id"], entry["logger"]) for entry in logged] == \
        [("working on it", "req-9", "task1")]
