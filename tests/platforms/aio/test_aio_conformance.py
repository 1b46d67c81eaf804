"""The real kai-runner 2.0.4 task node and polynb's, on one nats-server with the same setup and the same input bytes.

Each runs as ``task1`` of a workflow of its own (so neither takes the other's messages from the shared queue group)
with the same app.yaml shape written by polynb's managers. Allowed differences (the documented improvement of
point 3): the consumer's ack_wait (polynb 30 s, the SDK 22 h), the stream-dependent names, and that polynb
sends in-progress acks. Everything else, bytes included, must be equal and equal to the fact sheet's vectors.
"""
from __future__ import annotations

import gzip
import os
import subprocess
import threading
from pathlib import Path

import pytest
from aio_harness import Client
from loop_thread import LoopThread
from peers import peer_python
from support import read_line, stop, wait_until
from test_aio_node import VECTOR_HANDLER
from test_aio_wire import CHANNEL_OUTPUT, HANDLER_ERROR, INPUT, OUTPUT

from polynb.platforms.aio import appconfig, managers, names, wire

PEER = Path(__file__).resolve().parent / "kai_peer_node.py"
PROCESS_CONFIG = {"model": "small", "threshold": "0.5"}
ALLOWED_CONFIG_DIFFERENCES = {"ack_wait", "name", "durable_name", "deliver_group", "filter_subject",
                              "deliver_subject"}


def spec(url: str, workflow: str) -> appconfig.NodeSpec:
    settings = appconfig.Placement("demo", "v1.0.0", workflow)
    base = appconfig.derive_spec(settings, "task1", "task", subscribe=("trig",), nats_url=url)
    return appconfig.NodeSpec(**{**base.__dict__, "process_config": PROCESS_CONFIG})


@pytest.fixture(scope="module")
def peer_python_path():
    return peer_python("aio", ["kai-runner==2.0.4"])


@pytest.fixture
def both_nodes(nats_server, tmp_path, peer_python_path, start_service, monkeypatch):
    """(stream of the real SDK's task1, stream of polynb's task1), both set up and consuming."""
    loops, specs = LoopThread(), {}
    client = Client(nats_server.url)
    for who in ("peer", "polynb"):
        specs[who] = spec(nats_server.url, f"conf{who}")
        client.run(managers.apply_node(client.js, specs[who]))
        folder = managers.write_app_config(tmp_path / who, specs[who]).parent
        bucket = specs[who].buckets["workflow"]
        client.run(_put(client, bucket, "suffix", b"wfval"))
        specs[who] = (specs[who], folder)
    peer = subprocess.Popen([str(peer_python_path), str(PEER)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "KAI_APP_CONFIG_PATH": str(specs["peer"][1])})
    try:
        line = ""
        while "PEER-READY" not in line:
            line = read_line(peer.stdout, 120, "the kai-runner node")
            if not line:
                raise AssertionError(f"the kai-runner node exited ({peer.wait(10)}) before it was ready")
        threading.Thread(target=peer.stdout.read, daemon=True).start()  # its log must never fill the pipe
        monkeypatch.setenv("KAI_APP_CONFIG_PATH", str(specs["polynb"][1]))
        service = start_service()
        from polynb.payload import Payload
        service.register(Payload("aio", "task1", VECTOR_HANDLER, None, {"runner": "task", "subscribe": ["trig"]},
                                 isolated=True))
        yield client, specs["peer"][0], specs["polynb"][0]
    finally:
        stop(peer, 10)
        client.close()
        loops.close()


async def _put(client, bucket, key, value):
    await (await client.js.key_value(bucket)).put(key, value)


async def _kv_contents(client, bucket):
    kv = await client.js.key_value(bucket)
    return {key: (await kv.get(key)).value for key in await kv.keys()}


def feed(client: Client, node: appconfig.NodeSpec) -> list[tuple[str, bytes]]:
    """The same inputs, in the same order, to one node; what it published, by subject relative to its stream."""
    arrived: list[tuple[str, bytes]] = []

    async def on_message(msg):
        arrived.append((msg.subject[len(node.stream):], msg.data))

    client.run(client.nc.subscribe(f"{node.output}.>", cb=on_message))
    client.run(client.nc.subscribe(node.output, cb=on_message))
    client.run(client.nc.flush())
    inputs = [INPUT, gzip.compress(INPUT, compresslevel=9),
              wire.ok_message("req-0002", wire.pack("kaboom"), "trig").SerializeToString(), b"\xff\xff\xff\xff"]
    expected = [2, 4, 5, 6]
    for data, count in zip(inputs, expected, strict=True):
        client.publish(f"{node.stream}.trig", data)
        wait_until(lambda: len(arrived) >= count, message=f"{count} outputs from {node.stream}")
    return arrived


def test_polynb_publishes_what_the_real_sdk_publishes_for_the_same_inputs(both_nodes):
    client, peer, ours = both_nodes
    from_peer, from_polynb = feed(client, peer), feed(client, ours)
    assert from_polynb[:5] == from_peer[:5]  # byte for byte: outputs, channel outputs, gzipped input, handler error
    assert from_peer[:2] == from_peer[2:4] == [(".task1", OUTPUT), (".task1.chan1", CHANNEL_OUTPUT)]
    assert from_peer[4] == (".task1", HANDLER_ERROR)
    # the parse error names the subject, which holds each node's own stream: equal once the stream is named alike
    errors = [wire.decode(data) for node, (_, data) in ((peer, from_peer[5]), (ours, from_polynb[5]))]
    errors[0].error = errors[0].error.replace(peer.stream, "<stream>")
    errors[1].error = errors[1].error.replace(ours.stream, "<stream>")
    assert errors[0] == errors[1]
    assert errors[0].request_id == "req-0002" and errors[0].error == wire.parse_error_text(
        "<stream>.trig", "Error parsing message")


def test_consumers_differ_only_in_the_ack_wait_and_stream_names(both_nodes):
    client, peer, ours = both_nodes
    configs = {}
    for node in (peer, ours):
        info = client.run(client.js.consumer_info(node.stream, names.durable(f"{node.stream}.trig", "task1")))
        configs[node.stream] = info.config
    peer_config, our_config = configs[peer.stream], configs[ours.stream]
    assert peer_config.ack_wait == 79200 and our_config.ack_wait == 30
    assert peer_config.deliver_group == names.durable(f"{peer.stream}.trig", "task1")
    differing = {key for key, value in peer_config.as_dict().items() if our_config.as_dict().get(key) != value}
    assert differing <= ALLOWED_CONFIG_DIFFERENCES


def test_both_write_the_process_configuration_into_the_process_bucket(both_nodes):
    client, peer, ours = both_nodes
    contents = [client.run(_kv_contents(client, node.buckets["process"])) for node in (peer, ours)]
    assert contents[0] == contents[1] == {key: value.encode() for key, value in PROCESS_CONFIG.items()}
