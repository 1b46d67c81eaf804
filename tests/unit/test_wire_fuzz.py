"""Property tests of every platform's wire decoders: random bytes, deep nesting, huge fields and wrong types
either decode or raise the platform's own error, never anything else (no RecursionError, no KeyError, no
UnicodeDecodeError escaping into a connection task). The servers' entry points have their own property tests
(test_<platform>_http_hardening.py, test_vantiq_frames.py); these cover the pure decoders beneath them."""
from __future__ import annotations

import base64
import gzip
import json

from google.protobuf import any_pb2, wrappers_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polynb.platforms.aio import wire as aio
from polynb.platforms.cloudstate import wire as cloudstate
from polynb.platforms.colonies import wire as colonies
from polynb.platforms.kgrid import wire as kgrid
from polynb.platforms.vantiq import wire as vantiq

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


deep_texts = st.integers(min_value=150, max_value=5000).map(nested) | st.integers(150, 5000).map(
    lambda depth: '{"a":' * depth + "1" + "}" * depth)
huge_texts = st.integers(min_value=1, max_value=3).map(lambda mb: json.dumps({"big": "x" * (mb << 20)}))
texts = st.text(max_size=200) | json_values.map(json.dumps) | deep_texts
blobs = st.binary(max_size=400) | texts.map(str.encode) | huge_texts.map(str.encode)


def decodes_or_refuses(decode, value, *errors: type[BaseException]) -> None:
    try:
        decode(value)
    except errors:
        pass


# -- KGrid ------------------------------------------------------------------------------------------------
@FUZZ
@given(st.sampled_from(["application/json", "text/plain", None, "application/json; charset=latin-1"]), blobs)
def test_kgrid_input_is_a_value_or_the_runtimes_error(content_type, body):
    decodes_or_refuses(lambda b: kgrid.parse_input(content_type, b), body, kgrid.WireError)


@FUZZ
@given(json_values)
def test_kgrid_descriptors_and_registrations_of_any_shape_are_judged_not_crashed_on(body):
    decodes_or_refuses(kgrid.validate_descriptor, body, kgrid.WireError)
    assert kgrid.validate_registration(body) is None or isinstance(kgrid.validate_registration(body), str)


@FUZZ
@given(texts)
def test_kgrid_a_runtime_reply_of_any_text_is_unwrapped(text):
    decodes_or_refuses(kgrid.unwrap_result, text, kgrid.WireError)


# -- Vantiq -----------------------------------------------------------------------------------------------
@FUZZ
@given(blobs)
def test_vantiq_a_frame_is_an_object_or_a_wire_error(frame):
    decodes_or_refuses(vantiq.decode, frame, vantiq.WireError)


@FUZZ
@given(json_values)
def test_vantiq_a_query_of_any_shape_parses_or_gets_the_connectors_error(query):
    decodes_or_refuses(vantiq.parse_query, query, vantiq.VantiqError)


# -- ColonyOS ---------------------------------------------------------------------------------------------
@FUZZ
@given(blobs)
def test_colonies_an_envelope_parses_or_is_a_400(body):
    decodes_or_refuses(colonies.parse_envelope, body, colonies.BadRequest)


@FUZZ
@given(st.text(max_size=10), blobs)
def test_colonies_a_payload_of_any_bytes_opens_or_is_a_400(payloadtype, raw):
    envelope = {"payloadtype": payloadtype, "payload": base64.b64encode(raw).decode(), "signature": ""}
    decodes_or_refuses(colonies.open_payload, envelope, colonies.BadRequest)
    decodes_or_refuses(colonies.open_payload, {**envelope, "payload": raw.decode("latin-1")}, colonies.BadRequest)


@FUZZ
@given(blobs)
def test_colonies_a_reply_of_any_bytes_decodes_or_is_a_colonies_error(body):
    decodes_or_refuses(colonies.decode_reply, body, colonies.ColoniesError)


@FUZZ
@given(json_values, json_values)
def test_colonies_process_arguments_of_any_shape_are_taken_or_refused(args, kwargs):
    decodes_or_refuses(lambda p: colonies.process_arguments(p), {"spec": {"args": args, "kwargs": kwargs}},
                       colonies.BadArguments)
    decodes_or_refuses(lambda a: colonies.checked_arguments(*a), (args, kwargs), colonies.BadArguments)


# -- AIO (KAI) --------------------------------------------------------------------------------------------
@FUZZ
@given(blobs | blobs.map(gzip.compress) | blobs.map(lambda b: b"\x1f\x8b" + b))
def test_aio_a_message_of_any_bytes_parses_or_is_the_sdks_parse_error(data):
    decodes_or_refuses(aio.decode, data, aio.WireError)


@FUZZ
@given(st.text(max_size=60), blobs)
def test_aio_a_payload_any_of_any_type_and_bytes_unpacks_or_refuses(type_url, value):
    decodes_or_refuses(aio.unpack, any_pb2.Any(type_url=type_url, value=value), aio.WireError)


# -- CloudState -------------------------------------------------------------------------------------------
@FUZZ
@given(st.text(max_size=60) | st.sampled_from([cloudstate.JSON_PREFIX + "x", cloudstate.PRIMITIVE_PREFIX + "string"]),
       blobs | texts.map(lambda t: wrappers_pb2.StringValue(value=t).SerializeToString()))
def test_cloudstate_an_any_of_any_type_and_bytes_unpacks_or_is_a_wire_error(type_url, value):
    def unknown(name: str):
        raise KeyError(name)

    decodes_or_refuses(lambda p: cloudstate.unpack(p, unknown), any_pb2.Any(type_url=type_url, value=value),
                       cloudstate.WireError)
