"""The wire module alone: Any conventions and the fact sheet's recorded byte vectors (section 9)."""
from __future__ import annotations

import pytest
from google.protobuf import any_pb2, empty_pb2, wrappers_pb2

from polynb.platforms.cloudstate import wire
from polynb.platforms.cloudstate.protos.gen.cloudstate import entity_pb2, event_sourced_pb2

INIT_HEX = "0a330a25636f6d2e6578616d706c652e73686f7070696e67636172742e53686f7070696e6743617274120a74657374757365723a32"
REPLY_HEX = ("0a3b080112370a350a330a31747970652e676f6f676c65617069732e636f6d2f636f6d2e6578616d706c652e73686f7070696e6763"
             "6172742e43617274")


def no_messages(name):
    raise KeyError(name)


def test_init_encodes_as_recorded():
    message = event_sourced_pb2.EventSourcedStreamIn(init=event_sourced_pb2.EventSourcedInit(
        service_name="com.example.shoppingcart.ShoppingCart", entity_id="testuser:2"))
    assert message.SerializeToString().hex() == INIT_HEX


def test_reply_with_empty_cart_encodes_as_recorded():
    payload = any_pb2.Any(type_url=wire.MESSAGE_PREFIX + "com.example.shoppingcart.Cart")
    out = event_sourced_pb2.EventSourcedStreamOut(reply=event_sourced_pb2.EventSourcedReply(
        command_id=1, client_action=wire.reply_action(payload)))
    assert out.SerializeToString().hex() == REPLY_HEX


def test_messages_pack_under_type_googleapis_com():
    packed = wire.pack(empty_pb2.Empty())
    assert packed.type_url == "type.googleapis.com/google.protobuf.Empty" and packed.value == b""


@pytest.mark.parametrize("value,url", [("hi", "p.cloudstate.io/string"), (b"\x01", "p.cloudstate.io/bytes"),
                                       (True, "p.cloudstate.io/bool"), (7, "p.cloudstate.io/int64"),
                                       (1.5, "p.cloudstate.io/double")])
def test_primitives_round_trip_as_field_one(value, url):
    packed = wire.pack(value)
    assert packed.type_url == url
    assert wire.unpack(packed, no_messages) == value


def test_string_primitive_is_stringvalue_bytes():
    assert wire.pack("abc").value == b"\x0a\x03abc"
    assert wire.pack("").value == b""


def test_json_values_round_trip():
    packed = wire.pack(wire.Json({"a": [1, 2]}, "JsonEvent"))
    assert packed.type_url == "json.cloudstate.io/JsonEvent"
    assert wrappers_pb2.StringValue.FromString(packed.value).value == '{"a":[1,2]}'
    assert wire.unpack(packed, no_messages) == wire.Json({"a": [1, 2]}, "JsonEvent")


@pytest.mark.parametrize("payload,error", [
    (any_pb2.Any(type_url="no-prefix"), "no prefix"),
    (any_pb2.Any(type_url="p.cloudstate.io/uint128"), "unknown primitive"),
    (any_pb2.Any(type_url="type.googleapis.com/x.Y"), "unknown type"),
    (any_pb2.Any(type_url="p.cloudstate.io/string", value=b"\x0a\x05ab"), "malformed Any"),
    (any_pb2.Any(type_url="json.cloudstate.io/x", value=wire.pack("{nope").value), "malformed Any"),
])
def test_malformed_any_is_a_wire_error_naming_the_problem(payload, error):
    with pytest.raises(wire.WireError, match=error):
        wire.unpack(payload, no_messages)


def test_unsupported_values_cannot_be_packed():
    with pytest.raises(wire.WireError, match="cannot send a dict"):
        wire.pack({"a": 1})


def test_stream_must_open_with_init():
    with pytest.raises(wire.WireError, match="must start with init, got command"):
        wire.first_must_be_init("event-sourced", event_sourced_pb2.EventSourcedStreamIn(command=entity_pb2.Command()))


def test_json_and_primitive_events_find_their_handlers_by_type_name():
    from polynb.platforms.cloudstate.eventsourced import event_type_name

    assert event_type_name(wire.Json({"x": 1}, "JsonEvent")) == "JsonEvent"
    assert event_type_name("text") == "str"
    assert event_type_name(empty_pb2.Empty()) == "google.protobuf.Empty"
