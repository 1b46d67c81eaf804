"""What the binding writes into journal records is plain JSON: messages as proto3 JSON, bytes as marked base64."""
from __future__ import annotations

import json

from google.protobuf import any_pb2, wrappers_pb2

from polynb.platforms.cloudstate import wire
from polynb.platforms.cloudstate.context import describe, describe_any, describe_command
from polynb.platforms.cloudstate.protos.gen.cloudstate import entity_pb2


def no_messages(name):
    raise KeyError(name)


def test_a_command_is_recorded_with_its_input_decoded_as_json():
    command = entity_pb2.Command(entity_id="u1", id=3, name="Echo", payload=wire.pack(wrappers_pb2.Int64Value(value=7)))
    recorded = describe_command(command, lambda name: wrappers_pb2.Int64Value)
    assert recorded == {"entity_id": "u1", "command_id": 3, "name": "Echo", "streamed": False,
                        "payload": {"@type": "google.protobuf.Int64Value", "value": "7"}}
    assert json.loads(json.dumps(recorded)) == recorded


def test_bytes_are_base64_under_a_marker():
    assert describe(b"\x00\xff") == {"@bytes": "AP8="}
    assert describe_any(wire.pack(b"\x00\xff"), no_messages) == {"@bytes": "AP8="}


def test_an_any_that_does_not_decode_keeps_its_type_url_and_bytes():
    payload = any_pb2.Any(type_url="type.googleapis.com/nobody.Knows", value=b"\x08\x01")
    assert describe_any(payload, no_messages) == {"@any": "type.googleapis.com/nobody.Knows", "@bytes": "CAE="}
