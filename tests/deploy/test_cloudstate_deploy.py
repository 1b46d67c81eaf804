"""CloudState deploy: ``polynb serve`` runs a notebook as the user function of a pod, on the pod's ``HOST``/``PORT``.

The test plays the proxy sidecar: it connects as soon as the port accepts (retrying the TCP connect only),
calls ``EntityDiscovery.discover`` once, right away, as the real proxy does at start, builds the entities'
message types from the returned descriptors, and drives a command through the entity's ``handle`` stream.
The sample notebook registers its second entity after a slow cell, so a user function that answered
discovery before the notebook had run would hand the proxy an incomplete spec.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import grpc
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from support import POLYNB, environ_without, free_port, read_line, stop

from polynb.journal import Journal
from polynb.platforms.cloudstate.protos.gen.cloudstate import (
    entity_pb2,
    entity_pb2_grpc,
    event_sourced_pb2,
    event_sourced_pb2_grpc,
)

SAMPLE = Path(__file__).resolve().parent / "cloudstate" / "sample.ipynb"
SETTLE = 120.0
#: what the test's own environment must not pass on: the pod sets the platform's variables only
NOT_INHERITED = ("POLYNB_", "CLOUDSTATE_", "KGRID_", "KAI_", "COLONIES_", "VANTIQ_", "USER_FUNCTION_",
                 "PORT", "HOST", "JPY_SESSION_NAME")
#: what the HEAD TCK's proxy sends (fact sheet 6.3.2)
PROXY_INFO = entity_pb2.ProxyInfo(protocol_major_version=0, protocol_minor_version=2, proxy_name="deploy-test",
                                  proxy_version="0.1",
                                  supported_entity_types=["cloudstate.action.ActionProtocol",
                                                          "cloudstate.valueentity.ValueEntity",
                                                          "cloudstate.eventsourced.EventSourced", "cloudstate.crdt.Crdt"])


def connect_when_accepting(port: int, process: subprocess.Popen) -> None:
    """Retry the TCP connect until the user function's port accepts, as a sidecar starting beside it does."""
    deadline = time.monotonic() + SETTLE
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise AssertionError(f"polynb serve exited ({process.returncode}): {process.stderr.read()}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on {port} after {SETTLE:g} s") from None
            time.sleep(0.05)


def message_classes(spec: entity_pb2.EntitySpec) -> descriptor_pool.DescriptorPool:
    """The pool a proxy builds from ``EntitySpec.proto``: it must resolve with nothing else."""
    pool = descriptor_pool.DescriptorPool()
    for proto in descriptor_pb2.FileDescriptorSet.FromString(spec.proto).file:
        pool.Add(proto)
    return pool


def pack(message) -> any_pb2.Any:
    return any_pb2.Any(type_url=f"type.googleapis.com/{message.DESCRIPTOR.full_name}", value=message.SerializeToString())


def test_a_proxy_that_discovers_at_start_gets_every_entity_and_drives_a_command(tmp_path):
    notebook = Path(shutil.copy(SAMPLE, tmp_path / "sample.ipynb"))
    port = free_port()
    # the pod's deploy variables; CLOUDSTATE_PROXY names the sidecar, so no local proxy starts
    env = environ_without(NOT_INHERITED, HOST="127.0.0.1", PORT=str(port), CLOUDSTATE_PROXY="127.0.0.1:9")
    process = subprocess.Popen(POLYNB + ["serve", str(notebook)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        connect_when_accepting(port, process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            spec = entity_pb2_grpc.EntityDiscoveryStub(channel).discover(PROXY_INFO, timeout=SETTLE)
            assert sorted((e.service_name, e.entity_type, e.persistence_id) for e in spec.entities) == [
                ("deploy.Counter", "cloudstate.eventsourced.EventSourced", "deploy.Counter"),
                ("deploy.Likes", "cloudstate.crdt.Crdt", "deploy.Likes")]
            pool = message_classes(spec)
            assert {s.full_name for s in pool.FindFileByName("counter.proto").services_by_name.values()} == \
                {"deploy.Counter", "deploy.Likes"}
            add, total, added = (message_factory.GetMessageClass(pool.FindMessageTypeByName(f"deploy.{name}"))
                                 for name in ("Add", "Total", "Added"))
            stream = [event_sourced_pb2.EventSourcedStreamIn(init=event_sourced_pb2.EventSourcedInit(
                          service_name="deploy.Counter", entity_id="n1")),
                      event_sourced_pb2.EventSourcedStreamIn(command=entity_pb2.Command(
                          entity_id="n1", id=1, name="Increase", payload=pack(add(name="n1", by=5))))]
            [out] = list(event_sourced_pb2_grpc.EventSourcedStub(channel).handle(iter(stream), timeout=SETTLE))
        assert out.reply.command_id == 1
        assert total.FromString(out.reply.client_action.reply.payload.value).value == 5
        assert [(e.type_url, added.FromString(e.value).by) for e in out.reply.events] == \
            [("type.googleapis.com/deploy.Added", 5)]
    finally:
        code = stop(process, 120)
    assert code == 0, process.stderr.read()
    assert process.stdout.read().splitlines() == ["serving cloudstate deploy.Counter v1 grpc://127.0.0.1:9/deploy.Counter",
                                                  "serving cloudstate deploy.Likes v1 grpc://127.0.0.1:9/deploy.Likes"]
    [record] = Journal(tmp_path / ".polynb").records(platform="cloudstate", payload="deploy.Counter", limit=1)
    assert record.input["payload"] == {"@type": "deploy.Add", "name": "n1", "by": "5"}


def test_with_no_proxy_configured_the_local_proxy_serves_every_entity_once_the_notebook_has_run(tmp_path):
    notebook = Path(shutil.copy(SAMPLE, tmp_path / "sample.ipynb"))
    env = environ_without(NOT_INHERITED)
    process = subprocess.Popen(POLYNB + ["serve", str(notebook)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [read_line(process.stdout, SETTLE, "polynb serve").strip() for _ in range(2)]
        assert all(line.startswith("serving cloudstate deploy.") for line in lines), process.stderr.read()
        proxy = lines[1].split("grpc://")[1].rsplit("/", 1)[0]
        with grpc.insecure_channel(proxy) as channel:  # raw protobuf: Get{name: "p"} -> Total{value: 1}
            like = channel.unary_unary("/deploy.Likes/Like")
            assert like(b"\x0a\x01p", timeout=SETTLE) == b"\x08\x01"
    finally:
        code = stop(process, 120)
    assert code == 0, process.stderr.read()
