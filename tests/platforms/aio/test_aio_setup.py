"""Joining a NATS: polynb's shared stand-in versus a KAI installation, what is missing, and calls that end."""
from __future__ import annotations

import shlex
import threading
from pathlib import Path

import pytest
import yaml
from aio_harness import new_workflow, register
from support import free_port

from polynb.calls import CallTimeout
from polynb.config import Settings
from polynb.journal import Journal
from polynb.platforms.aio import PLATFORM, names
from polynb.platforms.aio.binding import PublishFailed
from polynb.platforms.aio.node import MissingSetup
from polynb.service import Service

ECHO = "def handler(sdk, payload):\n    sdk.messaging.send_any(payload)\n"


def exports(env_file: Path) -> dict[str, str]:
    """The variables a shell gets from sourcing ``polynb up --env-file``'s file."""
    pairs = [shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in env_file.read_text().splitlines()]
    return dict(pairs)


def service_with(folder: Path, environ: dict[str, str]) -> Service:
    settings = Settings({"aio": PLATFORM.settings}, environ=environ, path=None)
    return Service(settings=settings, journal=Journal(folder / ".polynb"), notebook_ns=None)


def test_a_kernel_sets_up_the_stand_in_that_polynb_up_exported_as_its_own(tmp_path, monkeypatch, standin):
    monkeypatch.chdir(tmp_path)  # no app.yaml here
    env_file = tmp_path / "platforms.env"
    up = standin("aio", "--env-file", str(env_file))
    info = up.info
    service = None
    try:
        environ = exports(env_file)
        assert environ["KAI_NATS_URL"] == environ["POLYNB_AIO_STANDIN_URL"] == info["url"]
        service = service_with(tmp_path, environ)
        register(service, "entry", "", runner="trigger", workflow="shared", subscribe=("echo",))
        register(service, "echo", ECHO, runner="exit", workflow="shared", subscribe=("entry",))
        binding = service.call(service.binding("aio"))
        assert binding.local is None  # it joined the exported stand-in rather than starting one
        assert service.call(binding.request("shared", "hi", 20)) == "hi"
        written = yaml.safe_load(Path(info["config_dir"], "shared", "echo", "app.yaml").read_text())
        assert written["nats"]["inputs"] == ["polynb_v1_0_0_shared.entry"]
    finally:
        if service is not None:
            service.stop(timeout=2)
        assert up.stop(15) == 0


def test_a_kai_nats_without_the_managers_buckets_names_the_missing_one_and_the_way_out(start_service):
    service = start_service(POLYNB_AIO_MANAGE="0")
    with pytest.raises(MissingSetup) as refused:
        register(service, "lost", ECHO, workflow=new_workflow(), subscribe=("trig",))
    text = str(refused.value)
    assert "KV bucket key-store_demo " in text and "nats kv add key-store_demo" in text
    assert "POLYNB_AIO_MANAGE=1" in text and "polynb up aio" in text


def test_a_kai_nats_without_the_workflows_stream_names_it(start_service, client):
    workflow = new_workflow()
    for bucket in names.kv_buckets("demo", "v1.0.0", workflow, "lost").values():
        client.run(client.js.create_key_value(bucket=bucket))
    service = start_service(POLYNB_AIO_MANAGE="0", KAI_OBJECT_STORE="")
    with pytest.raises(MissingSetup, match=f"a stream that captures demo_v1_0_0_{workflow}.trig"):
        register(service, "lost", ECHO, workflow=workflow, subscribe=("trig",))


def test_register_returns_once_the_consumer_is_bound_on_the_server(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "bound", ECHO, workflow=workflow, subscribe=("trig",))
    stream = names.stream("demo", "v1.0.0", workflow)
    assert client.run(client.js.consumer_info(stream, names.durable(f"{stream}.trig", "bound"))).push_bound


def test_a_request_nobody_answers_ends_in_call_timeout_with_a_hint(start_service):
    workflow = new_workflow()
    service = start_service()
    register(service, "alone", "", runner="trigger", workflow=workflow, subscribe=("nobody",))
    binding = service.call(service.binding("aio"))
    with pytest.raises(CallTimeout, match=f"AIO: no answer to request .* through workflow {workflow} within 0.5 s; "
                                          "check that a chain of nodes from trigger alone"):
        service.call(binding.request(workflow, "x", 0.5))


@pytest.mark.servers
def test_an_unreachable_nats_ends_in_call_timeout_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYNB_CALL_TIMEOUT", "1")
    url = f"nats://127.0.0.1:{free_port()}"
    service = service_with(tmp_path, {"KAI_NATS_URL": url})
    try:
        with pytest.raises(CallTimeout, match=f"connecting to NATS at {url} within 1 s; check KAI_NATS_URL"):
            service.call(service.binding("aio"))
    finally:
        service.stop(timeout=2)


def test_a_publish_no_stream_captures_raises_publish_failed(start_service):
    service = start_service()
    binding = service.call(service.binding("aio"))
    with pytest.raises(PublishFailed, match="no stream captures nowhere.at.all"):
        service.call(binding.publish_raw("nowhere.at.all", b"x", 5))


def test_two_kernels_registering_one_task_at_once_share_its_queue_group(start_service, client):
    workflow = new_workflow()
    first, second = start_service(), start_service()
    errors = []

    def join(service):
        try:
            register(service, "pair", ECHO, workflow=workflow, subscribe=("trig",))
        except Exception as exc:  # noqa: BLE001 - the test reports whatever a racing registration raised
            errors.append(exc)

    threads = [threading.Thread(target=join, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    stream = names.stream("demo", "v1.0.0", workflow)
    info = client.run(client.js.consumer_info(stream, names.durable(f"{stream}.trig", "pair")))
    assert info.push_bound and info.config.deliver_group == names.durable(f"{stream}.trig", "pair")


@pytest.mark.parametrize("manage, left", [("1", 0), ("0", 1)])
def test_a_stopped_trigger_removes_its_durable_only_from_polynbs_own_nats(start_service, client, manage, left):
    workflow = new_workflow()
    stream = names.stream("demo", "v1.0.0", workflow)
    register(start_service(), "entry", "", runner="trigger", workflow=workflow, subscribe=("exit",))  # sets up

    def durables() -> set[str]:
        return {c.name for c in client.run(client.js.consumers_info(stream))}

    before = durables()
    service = start_service(POLYNB_AIO_MANAGE=manage)
    register(service, "entry", "", runner="trigger", workflow=workflow, subscribe=("exit",))
    mine = durables() - before
    service.call(service.unregister("aio", "entry"))
    assert len(mine) == 1 and len(mine & durables()) == left
