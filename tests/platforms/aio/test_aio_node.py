"""A polynb task/exit/trigger node on a real nats-server: the SDK's lifecycle, wire bytes, errors and delivery."""
from __future__ import annotations

import gzip

import pytest
from aio_harness import new_workflow, register
from support import wait_until
from test_aio_wire import CHANNEL_OUTPUT, HANDLER_ERROR, INPUT, OUTPUT

from polynb.platforms.aio import names, wire
from polynb.platforms.aio.binding import RequestFailed

VECTOR_HANDLER = """
from google.protobuf import wrappers_pb2

async def handler(sdk, payload):
    text = wrappers_pb2.StringValue()
    payload.Unpack(text)
    if text.value == "kaboom":
        raise ValueError("kaboom")
    value, found = await sdk.centralized_config.get_config("suffix")
    await sdk.messaging.send_output(wrappers_pb2.StringValue(value=f"hello|{value}|{text.value}"))
    await sdk.messaging.send_output(wrappers_pb2.StringValue(value="side"), "chan1")
"""


def message(text, request_id="req-0001", from_node="trig") -> bytes:
    return wire.ok_message(request_id, wire.pack(text), from_node).SerializeToString()


def stream_of(workflow: str) -> str:
    return names.stream("demo", "v1.0.0", workflow)


@pytest.fixture
def task1(start_service, client):
    """A service serving the vector handler as task1 of a fresh workflow, with suffix=wfval in workflow scope."""
    workflow = new_workflow()
    service = start_service()
    register(service, "task1", VECTOR_HANDLER, workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    bucket = names.kv_buckets("demo", "v1.0.0", workflow, "task1")["workflow"]
    client.run(_put(client, bucket, "suffix", b"wfval"))
    return service, stream


async def _put(client, bucket, key, value):
    await (await client.js.key_value(bucket)).put(key, value)


def records(service, status=None):
    return service.journal.records(platform="aio", payload="task1", status=status)


def test_the_recorded_input_gives_the_recorded_output_and_channel_bytes(task1, client):
    service, stream = task1
    outputs, channel = client.listen(f"{stream}.task1"), client.listen(f"{stream}.task1.chan1")
    client.publish(f"{stream}.trig", INPUT)
    wait_until(lambda: outputs and channel, message="outputs")
    assert outputs == [OUTPUT] and channel == [CHANNEL_OUTPUT]
    record = wait_until(lambda: records(service, "succeeded"), message="journal record")[0]
    assert record.input["request_id"] == "req-0001" and record.meta["from_node"] == "trig"
    assert [o["subject"] for o in record.output] == [f"{stream}.task1", f"{stream}.task1.chan1"]


def test_the_consumer_is_the_sdks_durable_queue_group_with_a_short_ack_wait(task1, client):
    service, stream = task1
    durable = f"{stream}-trig-task1"
    info = client.run(client.js.consumer_info(stream, durable))
    config = info.config
    assert (config.durable_name, config.deliver_group, config.filter_subject) == (durable, durable, f"{stream}.trig")
    assert (config.deliver_policy, config.ack_policy, config.max_deliver) == ("new", "explicit", -1)
    assert config.ack_wait == 30.0  # the deliberate difference: the SDK waits 22 h (79200 s)


def test_a_raising_handler_publishes_the_sdks_error_and_the_node_keeps_consuming(task1, client):
    service, stream = task1
    outputs = client.listen(f"{stream}.task1")
    client.publish(f"{stream}.trig", message("kaboom", "req-0002"))
    client.publish(f"{stream}.trig", INPUT)
    wait_until(lambda: len(outputs) == 2, message="error and output")
    assert outputs == [HANDLER_ERROR, OUTPUT]
    failed = records(service, "failed")[0]
    assert "ValueError: kaboom" in failed.traceback


def test_malformed_bytes_get_the_parse_error_with_the_previous_request_id(task1, client):
    service, stream = task1
    outputs = client.listen(f"{stream}.task1")
    client.publish(f"{stream}.trig", INPUT)
    wait_until(lambda: len(outputs) == 1, message="first output")
    client.publish(f"{stream}.trig", b"\xff\xff\xff\xff")
    wait_until(lambda: len(outputs) == 2, message="parse error")
    error = wire.decode(outputs[1])
    assert error.message_type == wire.ERROR and error.request_id == "req-0001" and error.from_node == "task1"
    assert error.error.startswith(f"error parsing message data coming from subject {stream}.trig because is not a "
                                  "valid protobuf: error creating new request message: Error parsing message")
    assert wait_until(lambda: records(service, "failed"), message="failed record")[0].input == {"bytes": "ffffffff"}


def test_a_gzipped_input_is_unpacked_before_the_handler(task1, client):
    service, stream = task1
    outputs = client.listen(f"{stream}.task1")
    client.publish(f"{stream}.trig", gzip.compress(INPUT, compresslevel=9))
    wait_until(lambda: outputs, message="output")
    assert outputs == [OUTPUT]


def test_outputs_above_the_streams_limit_are_gzipped_and_too_large_ones_dropped(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "big", """
import random
from polynb.platforms.aio.wire import unpack
async def handler(sdk, payload):
    size = int(unpack(payload))
    await sdk.messaging.send_output("a" * size if size < 10000 else random.Random(0).randbytes(size))
""", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    info = client.run(client.js.stream_info(stream))
    info.config.max_msg_size = 4096
    client.run(client.js.update_stream(info.config))
    outputs = client.listen(f"{stream}.big")
    for size in (6000, 12000, 100):
        client.publish(f"{stream}.trig", message(str(size)))
    wait_until(lambda: len(outputs) == 2, message="two outputs")
    assert outputs[0][:2] == b"\x1f\x8b" and wire.unpack(wire.decode(outputs[0]).payload) == "a" * 6000
    assert wire.unpack(wire.decode(outputs[1]).payload) == "a" * 100
    assert len(service.journal.records(platform="aio", payload="big", status="succeeded")) == 3


def test_messages_route_by_from_node_and_unknown_senders_get_the_no_handler_error(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "router", """
async def handler_etl_a(sdk, payload):
    await sdk.messaging.send_output("from etl-a")

async def special(sdk, payload):
    await sdk.messaging.send_output("from other")
""", workflow=workflow, subscribe=("trig",), from_node={"Other": "special"})
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.router")
    for sender in ("ETL-A", "other", "nobody"):
        client.publish(f"{stream}.trig", message("x", f"r-{sender}", sender))
    wait_until(lambda: len(outputs) == 3, message="three answers")
    decoded = [wire.decode(o) for o in outputs]
    assert [wire.unpack(d.payload) for d in decoded[:2]] == ["from etl-a", "from other"]
    assert (decoded[2].message_type, decoded[2].error, decoded[2].request_id) == \
        (wire.ERROR, "no handler defined for nobody", "r-nobody")


def test_pre_and_postprocessors_wrap_the_handler_and_their_errors_name_the_stage(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "stages", """
seen = []
def preprocessor(sdk, payload):
    if payload.value.endswith(b"pre"):
        raise RuntimeError("pre broke")
    seen.append("pre")

def handler(sdk, payload):
    seen.append("handler")
    sdk.messaging.send_output(",".join(seen))

async def postprocessor(sdk, payload):
    if payload.value.endswith(b"post"):
        raise KeyError("post")
    seen.clear()
""", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.stages")
    for text in ("ok", "pre", "post"):
        client.publish(f"{stream}.trig", message(text, f"r-{text}"))
    wait_until(lambda: len(outputs) == 4, message="answers")
    decoded = [wire.decode(o) for o in outputs]
    assert wire.unpack(decoded[0].payload) == "pre,handler"
    assert decoded[1].error == "error in node trig executing handler preprocessor for node stages: pre broke"
    assert wire.unpack(decoded[2].payload) == "pre,handler"
    assert decoded[3].error == "error in node trig executing handler postprocessor for node stages: 'post'"


def test_centralized_configuration_searches_process_then_up_to_global(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "conf", """
async def handler(sdk, payload):
    await sdk.centralized_config.set_config("written", b"by-node")
    shadowed = await sdk.centralized_config.get_config("key")
    from_global = await sdk.centralized_config.get_config("key", "global")
    missing = await sdk.centralized_config.get_config("nothing")
    deleted = await sdk.centralized_config.delete_config("written")
    await sdk.messaging.send_output({"shadowed": list(shadowed), "global": list(from_global),
                                     "missing": list(missing), "deleted": deleted})
""", workflow=workflow, subscribe=("trig",))
    buckets = names.kv_buckets("demo", "v1.0.0", workflow, "conf")
    client.run(_put(client, buckets["global"], "key", b"global-value"))
    client.run(_put(client, buckets["process"], "key", b"process-value"))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.conf")
    client.publish(f"{stream}.trig", message("go"))
    wait_until(lambda: outputs, message="answer")
    assert wire.unpack(wire.decode(outputs[0]).payload) == {
        "shadowed": ["process-value", True], "global": ["global-value", True], "missing": [None, False],
        "deleted": True}


def test_ephemeral_storage_keeps_objects_in_the_workflow_object_store(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "store", """
async def handler(sdk, payload):
    eph = sdk.storage.ephemeral
    await eph.save("model.bin", b"weights")
    try:
        await eph.save("model.bin", b"again")
        refused = False
    except FileExistsError:
        refused = True
    await eph.save("model.bin", b"better", overwrite=True)
    data, found = await eph.get("model.bin")
    listed = await eph.list("^model")
    gone = await eph.delete("model.bin")
    after, found_after = await eph.get("model.bin")
    await sdk.messaging.send_output({"refused": refused, "data": data.decode(), "listed": listed, "gone": gone,
                                     "found_after": found_after, "name": sdk.metadata.get_ephemeral_storage_name()})
""", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.store")
    client.publish(f"{stream}.trig", message("go"))
    wait_until(lambda: outputs, message="answer")
    assert wire.unpack(wire.decode(outputs[0]).payload) == {
        "refused": True, "data": "better", "listed": ["model.bin"], "gone": True, "found_after": False,
        "name": f"demo_v1_0_0_{workflow}_ephemeral"}


def test_backends_polynb_does_not_set_up_raise_not_configured(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "nobackend", """
def handler(sdk, payload):
    sdk.storage.persistent.save("k", b"v")
""", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.nobackend")
    client.publish(f"{stream}.trig", message("go"))
    wait_until(lambda: outputs, message="error")
    assert wire.decode(outputs[0]).error == ("error in node trig executing handler for node nobackend: persistent "
                                             "storage is not configured: it needs MinIO and Keycloak, which polynb "
                                             "does not set up (sdk.persistent_storage.save)")


def test_rerunning_the_cell_swaps_the_handler_on_the_same_consumer(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "swap", "def handler(sdk, payload):\n    sdk.messaging.send_output('v1')\n",
             workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.swap")
    client.publish(f"{stream}.trig", message("a"))
    wait_until(lambda: outputs, message="v1 answer")
    node = service.call(service.binding("aio")).nodes["swap"]
    register(service, "swap", "def handler(sdk, payload):\n    sdk.messaging.send_output('v2')\n",
             workflow=workflow, subscribe=("trig",))
    assert service.call(service.binding("aio")).nodes["swap"] is node
    client.publish(f"{stream}.trig", message("b"))
    wait_until(lambda: len(outputs) == 2, message="v2 answer")
    assert [wire.unpack(wire.decode(o).payload) for o in outputs] == ["v1", "v2"]


def test_an_output_without_puback_leaves_the_input_unacked_for_redelivery(start_service, client):
    workflow = new_workflow()
    service = start_service(POLYNB_AIO_ACK_WAIT="1")
    register(service, "noack", """
def handler(sdk, payload):
    sdk.messaging.send_output("lost", "not.in.stream")
""", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    client.publish(f"{stream}.trig", message("go"))
    deliveries = wait_until(lambda: [r for r in service.journal.records(platform="aio", payload="noack")
                                     if (r.meta.get("delivered") or 0) >= 2], message="a redelivery")
    assert deliveries[0].input["request_id"] == "req-0001"
    service.call(service.unregister("aio", "noack"))


def test_a_request_goes_trigger_task_exit_and_returns_the_exit_answer(start_service):
    workflow = new_workflow()
    service = start_service()
    register(service, "entry", "", runner="trigger", workflow=workflow, subscribe=("exit",))
    register(service, "work", """
async def handler(sdk, payload):
    from polynb.platforms.aio.wire import unpack
    value = unpack(payload)
    if value == "fail":
        raise ValueError("cannot")
    await sdk.messaging.send_output(value.upper())
""", workflow=workflow, subscribe=("entry",))
    register(service, "exit", """
async def handler(sdk, payload):
    if sdk.messaging.is_message_error():
        await sdk.messaging.send_error(sdk.messaging.get_error_message())
    else:
        await sdk.messaging.send_any(payload)
""", workflow=workflow, subscribe=("work",))
    binding = service.call(service.binding("aio"))
    assert service.call(binding.request(workflow, "hello", 20)) == "HELLO"
    with pytest.raises(RequestFailed, match="error in node entry executing handler for node work: cannot"):
        service.call(binding.request(workflow, "fail", 20))


def test_a_trigger_durable_is_new_per_start_and_has_no_queue_group(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "entry", "", runner="trigger", workflow=workflow, subscribe=("exit",))
    stream = stream_of(workflow)
    consumers = client.run(client.js.consumers_info(stream))
    durable = [c for c in consumers if c.name.startswith(f"{stream}-exit-entry")]
    assert len(durable) == 1 and durable[0].config.deliver_group is None
    assert len(durable[0].name) == len(f"{stream}-exit-entry") + 36


def test_a_trigger_runner_sends_and_awaits_its_response_channel(start_service):
    workflow = new_workflow()
    service = start_service()
    register(service, "echo", "async def handler(sdk, payload):\n    await sdk.messaging.send_any(payload)\n",
             runner="exit", workflow=workflow, subscribe=("entry",))
    register(service, "entry", """
from polynb.platforms.aio.wire import unpack
answers = []

async def runner(trigger, sdk):
    for word in ("one", "two"):
        request_id = f"runner-{word}"
        await sdk.messaging.send_output_with_request_id(word, request_id)
        answer = await trigger.get_response_channel(request_id)
        answers.append(unpack(answer))
""", runner="trigger", workflow=workflow, subscribe=("echo",))
    namespace = service.current("aio", "entry").namespace
    wait_until(lambda: len(namespace["answers"]) == 2, message="the runner's two answers")
    assert namespace["answers"] == ["one", "two"]


def test_initializer_runs_before_consuming_and_finalizer_when_the_node_stops(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "life", """
async def initializer(sdk):
    await sdk.centralized_config.set_config("started", "yes")
    print("initialized", sdk.metadata.get_process())

async def handler(sdk, payload):
    value, found = await sdk.centralized_config.get_config("started")
    await sdk.messaging.send_output(value)

def finalizer(sdk):
    print("finalized")
""", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.life")
    client.publish(f"{stream}.trig", message("go"))
    wait_until(lambda: outputs, message="answer")
    assert wire.unpack(wire.decode(outputs[0]).payload) == "yes"
    service.call(service.unregister("aio", "life"))
    stages = {r.meta.get("stage"): r.stdout for r in service.journal.records(platform="aio", payload="life")
              if r.meta.get("stage")}
    assert stages == {"initializer": "initialized life\n", "finalizer": "finalized\n"}


def test_the_binding_status_reports_each_consumers_pending_counts(task1, client):
    service, stream = task1
    binding = service.call(service.binding("aio"))
    detail = wait_until(lambda: binding.status.detail, message="consumer state")
    assert f"{stream}-trig-task1: pending 0, ack pending 0, redelivered 0" in detail


def test_a_handler_longer_than_the_ack_wait_keeps_its_message_with_in_progress_acks(start_service, client):
    workflow = new_workflow()
    service = start_service(POLYNB_AIO_ACK_WAIT="1")
    register(service, "slow", "import time\n\ndef handler(sdk, payload):\n    time.sleep(3.5)\n"
             "    sdk.messaging.send_output('done')\n", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.slow")
    client.publish(f"{stream}.trig", message("go"))
    wait_until(lambda: outputs, message="the slow answer")
    info = client.run(client.js.consumer_info(stream, names.durable(f"{stream}.trig", "slow")))
    assert info.num_redelivered == 0 and len(service.journal.records(platform="aio", payload="slow")) == 1


def test_the_finalizer_runs_when_the_service_stops(start_service, tmp_path):
    marker = tmp_path / "finalized"
    service = start_service()
    register(service, "closing", f"def handler(sdk, payload):\n    pass\n\n"
             f"def finalizer(sdk):\n    open({str(marker)!r}, 'w').write(sdk.metadata.get_process())\n",
             workflow=new_workflow(), subscribe=("trig",))
    service.stop(timeout=2)
    assert marker.read_text() == "closing"


def test_a_cells_only_function_is_its_default_handler_unless_it_names_a_sender(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "single", "def transform(sdk, payload):\n    sdk.messaging.send_output('transformed')\n",
             workflow=workflow, subscribe=("trig",))
    register(service, "onlyetl", "def handler_etl(sdk, payload):\n    sdk.messaging.send_output('etl')\n",
             workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    single, only_etl = client.listen(f"{stream}.single"), client.listen(f"{stream}.onlyetl")
    client.publish(f"{stream}.trig", message("x", "r-1", "trig"))
    wait_until(lambda: single and only_etl, message="both answers")
    assert wire.unpack(wire.decode(single[0]).payload) == "transformed"
    assert wire.decode(only_etl[0]).error == "no handler defined for trig"


def test_without_an_object_store_ephemeral_storage_says_so_and_the_node_runs(start_service, client):
    workflow = new_workflow()
    service = start_service(KAI_OBJECT_STORE="")
    register(service, "nostore", "def handler(sdk, payload):\n    sdk.storage.ephemeral.get('k')\n",
             workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.nostore")
    client.publish(f"{stream}.trig", message("go"))
    wait_until(lambda: outputs, message="error")
    assert wire.decode(outputs[0]).error == (
        "error in node trig executing handler for node nostore: ephemeral storage is not configured: "
        "set nats.object_store (or the polynb setting aio.object_store)")


def test_rerunning_a_trigger_cell_cancels_the_old_runner_and_starts_the_new_one(start_service, tmp_path):
    log = tmp_path / "runner.log"
    workflow = new_workflow()
    service = start_service()

    def cell(tag: str) -> str:
        return (f"import asyncio\n\nasync def runner(trigger, sdk):\n"
                f"    open({str(log)!r}, 'a').write('{tag} started\\n')\n"
                f"    try:\n        await asyncio.Event().wait()\n"
                f"    except asyncio.CancelledError:\n        open({str(log)!r}, 'a').write('{tag} cancelled\\n')\n"
                f"        raise\n")

    register(service, "entry", cell("v1"), runner="trigger", workflow=workflow, subscribe=("exit",))
    wait_until(lambda: log.exists() and "v1 started" in log.read_text(), message="v1 runner")
    register(service, "entry", cell("v2"), runner="trigger", workflow=workflow, subscribe=("exit",))
    wait_until(lambda: "v2 started" in log.read_text(), message="v2 runner")
    wait_until(lambda: "v1 cancelled" in log.read_text(), message="v1 cancelled")
    assert log.read_text().count("started") == 2


def test_sdk_logger_info_lines_land_in_the_record_with_the_request_id(start_service, client):
    workflow = new_workflow()
    service = start_service()
    register(service, "talk", """
def handler(sdk, payload):
    sdk.logger.info("handling %s", sdk.get_request_id())
    sdk.messaging.send_output("done")
""", workflow=workflow, subscribe=("trig",))
    stream = stream_of(workflow)
    outputs = client.listen(f"{stream}.talk")
    client.publish(f"{stream}.trig", message("go", "req-log"))
    wait_until(lambda: outputs, message="answer")
    assert wire.unpack(wire.decode(outputs[0]).payload) == "done"
    record = wait_until(lambda: service.journal.records(platform="aio", payload="talk", status="succeeded"),
                        message="the record")[0]
    assert [(e["level"], e["logger"], e["message"]) for e in record.logs] == [
        ("INFO", "polynb.aio.talk", "handling req-log")]
