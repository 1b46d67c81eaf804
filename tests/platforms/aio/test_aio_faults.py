"""Replicas share a task's queue group, a killed replica's messages go to the other, a nats-server restart loses nothing."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aio_harness import new_workflow, register
from support import read_line, stop, wait_until

from polynb.platforms.aio import names, wire

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command

HERE = Path(__file__).resolve().parent
ECHO = """
def handler(sdk, payload):
    sdk.messaging.send_any(payload)
"""


def request(index: int) -> bytes:
    return wire.ok_message(f"req-{index}", wire.pack(index), "trig").SerializeToString()


def answered(outputs: list[bytes]) -> set[str]:
    return {wire.decode(data).request_id for data in outputs}


def handled(service) -> list[str]:
    return [r.input["request_id"] for r in service.journal.records(platform="aio", payload="work", status="succeeded")]


def test_two_replicas_split_the_load_and_handle_each_message_once(start_service, client):
    workflow = new_workflow()
    replicas = [start_service(), start_service()]
    for service in replicas:
        register(service, "work", ECHO, workflow=workflow, subscribe=("trig",))
    stream = names.stream("demo", "v1.0.0", workflow)
    outputs = client.listen(f"{stream}.work")
    for index in range(40):
        client.publish(f"{stream}.trig", request(index))
    wait_until(lambda: len(outputs) == 40, message="40 answers")
    first, second = handled(replicas[0]), handled(replicas[1])
    assert first and second
    assert sorted(first + second) == sorted(f"req-{i}" for i in range(40))


def test_messages_held_by_a_killed_replica_are_handled_by_the_other(start_service, client, nats_server, tmp_path):
    workflow = new_workflow()
    slow = tmp_path / "slow.py"
    slow.write_text("import time\n\ndef handler(sdk, payload):\n    time.sleep(60)\n")
    replica = subprocess.Popen([sys.executable, str(HERE / "aio_replica.py"), nats_server.url, workflow,
                                str(tmp_path / "replica"), str(slow)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])})
    try:
        assert read_line(replica.stdout, 60, "the slow replica").strip() == "READY"
        stream = names.stream("demo", "v1.0.0", workflow)
        outputs = client.listen(f"{stream}.work")
        for index in range(3):
            client.publish(f"{stream}.trig", request(index))
        durable = names.durable(f"{stream}.trig", "work")
        wait_until(lambda: client.run(client.js.consumer_info(stream, durable)).num_ack_pending == 3,
                   message="the slow replica holding all three")
        survivor = start_service(POLYNB_AIO_ACK_WAIT="2")
        register(survivor, "work", ECHO, workflow=workflow, subscribe=("trig",))
        stop(replica, 10, signal.SIGKILL)
        wait_until(lambda: answered(outputs) == {"req-0", "req-1", "req-2"}, timeout=30, message="redelivered answers")
        assert sorted(handled(survivor)) == ["req-0", "req-1", "req-2"]
    finally:
        stop(replica, sig=signal.SIGKILL)


@pytest.fixture
def restartable(tmp_path_factory):
    """A nats-server of this test's own, since the test restarts it."""
    import aio_harness

    server = aio_harness.Server(tmp_path_factory.mktemp("restart"))
    yield server
    server.close()


def test_a_nats_server_restart_mid_stream_loses_no_message(restartable, tmp_path):
    import aio_harness

    service = aio_harness.aio_service(tmp_path, restartable.url, POLYNB_AIO_ACK_WAIT="2")
    client = aio_harness.Client(restartable.url)
    try:
        workflow = new_workflow()
        register(service, "work", ECHO, workflow=workflow, subscribe=("trig",))
        stream = names.stream("demo", "v1.0.0", workflow)
        durable = names.durable(f"{stream}.trig", "work")
        outputs: list[bytes] = []
        client.run(_collect_from_stream(client, f"{stream}.work", outputs))
        for index in range(20):
            client.publish(f"{stream}.trig", request(index))
        restartable.restart()
        binding = service.call(service.binding("aio"))
        wait_until(lambda: binding.status.state == "ready", message="the node reconnected")
        for index in range(20, 40):
            wait_until(lambda: _try_publish(client, f"{stream}.trig", request(index)),
                       message="a publish after restart")
        wait_until(lambda: answered(outputs) == {f"req-{i}" for i in range(40)}, timeout=60, message="all 40 answers")
        # an output whose PubAck was lost in the restart leaves its input unacked: it is handled again, then acked
        wait_until(lambda: _settled(client, stream, durable), timeout=30, message="every input acked")
    finally:
        client.close()
        service.stop(timeout=2)


async def _collect_from_stream(client, subject: str, into: list[bytes]) -> None:
    """A durable consumer of the node's outputs, so answers published around the restart are kept for us."""
    async def on_message(msg) -> None:
        into.append(msg.data)
        await msg.ack()

    await client.js.subscribe(subject, durable="test-observer", cb=on_message, manual_ack=True)


def _settled(client, stream: str, durable: str) -> bool:
    info = client.run(client.js.consumer_info(stream, durable))
    return info.num_ack_pending == 0 and info.num_pending == 0


def _try_publish(client, subject: str, data: bytes) -> bool:
    try:
        client.publish(subject, data)
        return True
    except Exception:
        return False


def test_a_backlog_longer_than_the_ack_wait_is_handled_once_after_a_kernel_restart(start_service, client):
    """80 messages wait while the kernel is down; each takes 0.1 s and the ack wait is 1 s, so most wait longer than
    the ack wait after the restart. Taken messages are acked in progress while they wait: none runs twice."""
    workflow = new_workflow()
    slow = "import time\n\ndef handler(sdk, payload):\n    time.sleep(0.1)\n    sdk.messaging.send_any(payload)\n"
    first = start_service(POLYNB_AIO_ACK_WAIT="1")
    register(first, "work", slow, workflow=workflow, subscribe=("trig",))
    first.stop(timeout=2)  # the durable stays, as a kernel restart leaves it
    stream = names.stream("demo", "v1.0.0", workflow)
    outputs = client.listen(f"{stream}.work")
    for index in range(80):
        client.publish(f"{stream}.trig", request(index))
    restarted = start_service(POLYNB_AIO_ACK_WAIT="1")
    register(restarted, "work", slow, workflow=workflow, subscribe=("trig",))
    wait_until(lambda: len(handled(restarted)) >= 80, 60, "the backlog was not handled")
    wait_until(lambda: len(outputs) >= 80, 10, "not every answer was published")
    stop_at = len(restarted.journal.records(platform="aio", payload="work"))
    restarted.call(asyncio.sleep(3))  # three ack waits: a redelivery would have come by now
    ran = handled(restarted)
    assert sorted(ran) == sorted(f"req-{index}" for index in range(80)), "a message ran twice or not at all"
    assert len(restarted.journal.records(platform="aio", payload="work")) == stop_at == 80
    assert sorted(answered(outputs)) == sorted(f"req-{index}" for index in range(80)) and len(outputs) == 80
