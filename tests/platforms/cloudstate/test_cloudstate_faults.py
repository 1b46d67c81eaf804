"""Bad input and failures on the user function's streams: each gets its documented answer, the user
function keeps serving other entities, and the journal keeps a record of every execution."""
from __future__ import annotations

import grpc
import pytest
from cloudstate_tck import S1, E, ModelStream, es_cmd, es_fail, es_init, es_reply, pack
from google.protobuf import any_pb2
from support import wait_until

from polynb.journal import CANCELLED, RUNNING
from polynb.platforms.cloudstate.protolib import LIBRARY
from polynb.platforms.cloudstate.protos.gen.cloudstate import entity_pb2, event_sourced_pb2

FAULTY = "polynb.test.Faulty"


@pytest.fixture
def journal(tck):
    return tck[0].journal


def order(entity_id: str, command_id: int, what: str):
    request = LIBRARY.compiled.message_class("polynb.test.Order")(id=entity_id, what=what)
    return event_sourced_pb2.EventSourcedStreamIn(command=entity_pb2.Command(
        entity_id=entity_id, id=command_id, name="Do", payload=pack(request)))


def done(command_id: int, count: int, what: str):
    happened = LIBRARY.compiled.message_class("polynb.test.Happened")(what=what)
    return event_sourced_pb2.EventSourcedStreamOut(reply=event_sourced_pb2.EventSourcedReply(
        command_id=command_id, events=[pack(happened)], client_action=entity_pb2.ClientAction(reply=entity_pb2.Reply(
            payload=pack(LIBRARY.compiled.message_class("polynb.test.Done")(count=count))))))


def faulty_init(entity_id: str):
    return es_init(entity_id, service=FAULTY)


def assert_still_serving(channel, entity_id: str = "still-serving") -> None:
    stream = ModelStream(channel, "es")
    stream.send(es_init(entity_id), es_cmd(entity_id, 1, [])).expect(es_reply(1, ""))
    stream.close()


def test_handler_that_raises_is_a_client_failure_that_keeps_state_and_stream(channel, journal):
    stream = ModelStream(channel, "es").send(faulty_init("f-raise"), order("f-raise", 1, "a"))
    stream.expect(done(1, 1, "a"))
    stream.send(order("f-raise", 2, "raise"))
    stream.expect(es_fail(2, "ZeroDivisionError: division by zero"))
    stream.send(order("f-raise", 3, "b")).expect(done(3, 2, "b"))
    stream.close()
    [record] = [r for r in journal.records(payload=FAULTY) if r.input.get("entity_id") == "f-raise"
                and r.input.get("command_id") == 2]
    assert record.status == "failed" and "ZeroDivisionError" in record.error and "in Do" in record.traceback


def test_unserialisable_result_is_a_client_failure(channel):
    stream = ModelStream(channel, "es").send(faulty_init("f-bad"), order("f-bad", 1, "unserialisable"))
    reply = stream.next()
    assert reply.reply.client_action.failure.command_id == 1
    assert "cannot send a set" in reply.reply.client_action.failure.description
    assert not reply.reply.events
    stream.close()


def test_event_handler_crash_fails_the_stream_and_others_keep_serving(channel, journal):
    stream = ModelStream(channel, "es").send(faulty_init("f-crash"), order("f-crash", 1, "crash"))
    failure = stream.next()
    assert failure.failure.command_id == 1 and "the event handler broke" in failure.failure.description
    assert stream.failed().code() == grpc.StatusCode.UNKNOWN
    assert_still_serving(channel)


def test_malformed_any_is_a_client_failure(channel):
    stream = ModelStream(channel, "es").send(es_init("f-any"))
    bad = event_sourced_pb2.EventSourcedStreamIn(command=entity_pb2.Command(
        entity_id="f-any", id=1, name="Process", payload=any_pb2.Any(type_url="type.googleapis.com/cloudstate.tck.model.Request",
                                                                     value=b"\xff\xff")))
    stream.send(bad)
    reply = stream.next()
    assert reply.reply.client_action.failure.command_id == 1
    assert "malformed Any" in reply.reply.client_action.failure.description
    stream.send(es_cmd("f-any", 2, E("A"))).expect(es_reply(2, "A", "A"))
    stream.close()


def test_wrong_payload_type_is_a_client_failure(channel):
    stream = ModelStream(channel, "es").send(es_init("f-type"))
    stream.send(event_sourced_pb2.EventSourcedStreamIn(command=entity_pb2.Command(
        entity_id="f-type", id=1, name="Process", payload=order("f-type", 1, "x").command.payload)))
    reply = stream.next()
    assert reply.reply.client_action.failure.description == \
        "Process takes cloudstate.tck.model.Request, not polynb.test.Order"
    stream.close()


def test_unknown_command_is_a_client_failure(channel):
    stream = ModelStream(channel, "es").send(es_init("f-unknown"), es_cmd("f-unknown", 1, [], name="Bogus"))
    assert "no @command handler for 'Bogus'" in stream.next().reply.client_action.failure.description
    stream.send(es_cmd("f-unknown", 2, [])).expect(es_reply(2, ""))
    stream.close()


@pytest.mark.parametrize("first,problem", [
    (es_init("x", service="no.such.Service"), "no entity serves 'no.such.Service'"),
    (es_cmd("x", 1, []), "must start with init, got command"),
    (event_sourced_pb2.EventSourcedStreamIn(), "must start with init, got an empty message"),
])
def test_protocol_errors_end_the_stream_with_a_failure(channel, first, problem):
    stream = ModelStream(channel, "es").send(first)
    failure = stream.next()
    assert problem in failure.failure.description
    assert stream.failed().code() == grpc.StatusCode.INVALID_ARGUMENT
    assert_still_serving(channel)


def test_second_init_ends_the_stream_with_a_failure(channel):
    stream = ModelStream(channel, "es").send(es_init("x2"), es_cmd("x2", 1, [])).send(es_init("x2"))
    stream.expect(es_reply(1, ""))
    assert "init is not allowed after init" in stream.next().failure.description
    assert stream.failed().code() == grpc.StatusCode.INVALID_ARGUMENT


def test_crdt_stream_to_an_event_sourced_entity_is_refused(channel):
    from cloudstate_tck import crdt_init
    stream = ModelStream(channel, "crdt").send(crdt_init("x", service=S1))
    assert "is a cloudstate.eventsourced.EventSourced entity" in stream.next().failure.description
    assert stream.failed().code() == grpc.StatusCode.INVALID_ARGUMENT


def test_dropped_connection_leaves_the_user_function_serving(tck):
    with grpc.insecure_channel(tck[1]) as doomed:
        stream = ModelStream(doomed, "es").send(es_init("f-drop"), es_cmd("f-drop", 1, E("A")))
        stream.expect(es_reply(1, "A", "A"))
    with grpc.insecure_channel(tck[1]) as fresh:
        assert_still_serving(fresh, "after-drop")


def test_report_error_is_journaled(channel, journal):
    from cloudstate_tck import entity_pb2_grpc
    entity_pb2_grpc.EntityDiscoveryStub(channel).reportError(entity_pb2.UserFunctionError(message="proxy says no"),
                                                             timeout=10)
    [record] = journal.records(payload="reportError")
    assert record.input == {"message": "proxy says no"}
    assert record.status == "failed" and record.error == "proxy: proxy says no"


def test_a_cancelled_command_is_a_client_failure_that_keeps_the_stream(channel, tck):
    service = tck[0]
    stream = ModelStream(channel, "es").send(faulty_init("f-cancel"), order("f-cancel", 1, "spin"))
    record = wait_until(lambda: service.journal.last(payload=FAULTY, status=RUNNING), 30, "the command running")
    service.cancel(record.id, "operator stop")
    stream.expect(es_fail(1, "ExecutionCancelled: operator stop"))
    stream.send(order("f-cancel", 2, "b")).expect(done(2, 1, "b"))
    stream.close()
    assert service.journal.get(record.id).status == CANCELLED
