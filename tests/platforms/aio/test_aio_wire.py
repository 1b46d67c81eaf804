"""The KaiNatsMessage wire format against the fact sheet's recorded vectors (section 10), no NATS involved."""
from __future__ import annotations

import gzip
import random

import pytest
from google.protobuf import any_pb2, wrappers_pb2

from polynb.platforms.aio import wire

INPUT = bytes.fromhex("0a087265712d30303031123a0a2f747970652e676f6f676c65617069732e636f6d2f676f6f676c652e70726f746f6275"
                      "662e537472696e6756616c756512070a05776f726c642204747269672801")
OUTPUT = bytes.fromhex("0a087265712d3030303112460a2f747970652e676f6f676c65617069732e636f6d2f676f6f676c652e70726f746f62"
                       "75662e537472696e6756616c756512130a1168656c6c6f7c776676616c7c776f726c6422057461736b312801")
CHANNEL_OUTPUT = bytes.fromhex("0a087265712d3030303112390a2f747970652e676f6f676c65617069732e636f6d2f676f6f676c652e70726f"
                               "746f6275662e537472696e6756616c756512060a047369646522057461736b312801")
HANDLER_ERROR = bytes.fromhex("0a087265712d303030321a3b6572726f7220696e206e6f6465207472696720657865637574696e672068616e64"
                              "6c657220666f72206e6f6465207461736b313a206b61626f6f6d22057461736b312802")
ERROR_WITHOUT_REQUEST = bytes.fromhex("1a016522057461736b312802")
UNLIMITED = 1 << 20


def test_decoding_the_recorded_input_gives_its_fields():
    message = wire.decode(INPUT)
    assert (message.request_id, message.from_node, message.message_type) == ("req-0001", "trig", wire.OK)
    assert message.payload.type_url == "type.googleapis.com/google.protobuf.StringValue"
    assert wire.unpack(message.payload) == "world"


def test_an_ok_message_encodes_to_the_recorded_output_bytes():
    message = wire.ok_message("req-0001", wire.pack("hello|wfval|world"), "task1")
    assert wire.encode(message, UNLIMITED) == OUTPUT


def test_a_channel_output_carries_the_same_message_shape():
    assert wire.encode(wire.ok_message("req-0001", wire.pack("side"), "task1"), UNLIMITED) == CHANNEL_OUTPUT


def test_a_handler_exception_encodes_to_the_recorded_error_bytes():
    text = wire.handler_error_text("trig", "task1", "kaboom")
    assert wire.encode(wire.error_message("req-0002", text, "task1"), UNLIMITED) == HANDLER_ERROR


def test_an_error_without_request_id_leaves_field_one_out():
    assert wire.encode(wire.error_message("", "e", "task1"), UNLIMITED) == ERROR_WITHOUT_REQUEST


def test_pre_and_postprocessor_errors_name_their_stage():
    assert wire.handler_error_text("a", "b", "x", "preprocessor") == \
        "error in node a executing handler preprocessor for node b: x"
    assert wire.handler_error_text("a", "b", "x", "postprocessor") == \
        "error in node a executing handler postprocessor for node b: x"


def test_a_message_above_the_limit_is_gzipped_at_level_nine():
    message = wire.ok_message("r", wire.pack("a" * 5000), "task1")
    raw = message.SerializeToString()
    sent = wire.encode(message, 1000)
    assert sent[:2] == b"\x1f\x8b" and sent == gzip.compress(raw, compresslevel=9)
    assert wire.decode(sent) == message


def test_a_message_still_too_large_after_gzip_is_dropped():
    incompressible = random.Random(0).randbytes(4000)
    assert wire.encode(wire.ok_message("r", wire.pack(incompressible), "t"), 1000) is None


def test_a_message_at_the_limit_is_sent_plain():
    message = wire.ok_message("r", wire.pack("x" * 100), "t")
    size = len(message.SerializeToString())
    assert wire.encode(message, size) == message.SerializeToString()


@pytest.mark.parametrize("stream_max, server_max, expected", [
    (-1, 1048576, 1048576), (None, 1048576, 1048576), (2048, 1048576, 2048), (4 << 20, 1048576, 1048576),
    (-1, None, wire.DEFAULT_MAX_PAYLOAD),
])
def test_the_size_limit_is_the_smaller_of_stream_and_server(stream_max, server_max, expected):
    assert wire.max_message_size(stream_max, server_max) == expected


@pytest.mark.parametrize("data", [b"\xff\xff\xff\xff", b"\x0a\x05ab", gzip.compress(b"\xff\xff", mtime=0)])
def test_bytes_that_are_not_protobuf_raise_the_sdks_parser_text(data):
    with pytest.raises(wire.WireError) as raised:
        wire.decode(data)
    assert str(raised.value) == "Error parsing message"


def test_a_broken_gzip_stream_is_a_wire_error():
    with pytest.raises(wire.WireError):
        wire.decode(b"\x1f\x8b\x08\x00garbage")


def test_the_parse_error_text_is_the_sdks():
    assert wire.parse_error_text("s.trig", "boom") == ("error parsing message data coming from subject s.trig because "
                                                       "is not a valid protobuf: error creating new request message: boom")


def test_legacy_early_reply_and_exit_types_are_accepted_on_parse():
    for kind in (wire.EARLY_REPLY, wire.EARLY_EXIT):
        data = wire.KaiNatsMessage(request_id="r", message_type=kind).SerializeToString()
        assert wire.decode(data).message_type == kind
        assert wire.describe(wire.decode(data))["message_type"] in ("EARLY_REPLY", "EARLY_EXIT")


@pytest.mark.parametrize("value", ["text", b"\x00\x01", True, 42, 2.5, {"a": [1.0, "b"]}, [1.0, 2.0]])
def test_plain_values_pack_as_well_known_types_and_back(value):
    assert wire.unpack(wire.pack(value)) == value


def test_a_protobuf_message_packs_with_its_type_url_and_an_any_passes_through():
    packed = wire.pack(wrappers_pb2.Int32Value(value=7))
    assert packed.type_url == "type.googleapis.com/google.protobuf.Int32Value"
    assert wire.pack(packed) is packed
    assert wire.unpack(packed) == 7


def test_an_unknown_any_is_returned_as_it_is():
    unknown = any_pb2.Any(type_url="type.googleapis.com/acme.Thing", value=b"\x08\x01")
    assert wire.unpack(unknown) is unknown


def test_values_without_a_protobuf_form_are_refused():
    with pytest.raises(TypeError, match="cannot send a object"):
        wire.pack(object())


def test_the_journal_view_names_type_ids_and_payload():
    view = wire.describe(wire.decode(INPUT))
    assert view == {"request_id": "req-0001", "from_node": "trig", "message_type": "OK",
                    "payload": {"type_url": "type.googleapis.com/google.protobuf.StringValue", "value": "world",
                                "bytes": "0a05776f726c64"}}
