"""KAI's wire format: the ``KaiNatsMessage`` protobuf, gzip above the size limit, payload packing and error texts.

Pure functions only (no NATS, no asyncio), so every rule of the fact sheet (sections 2, 7 and 9) is testable
with its recorded vectors alone.
"""
from __future__ import annotations

import gzip
import uuid
import zlib
from typing import Any as AnyValue

from google.protobuf import any_pb2, json_format, message, struct_pb2, wrappers_pb2

from .kai_nats_msg_pb2 import DESCRIPTOR as _FILE
from .kai_nats_msg_pb2 import EARLY_EXIT, EARLY_REPLY, ERROR, OK, UNDEFINED, KaiNatsMessage

MessageType = _FILE.enum_types_by_name["MessageType"]

__all__ = ["KaiNatsMessage", "OK", "ERROR", "UNDEFINED", "EARLY_REPLY", "EARLY_EXIT", "WireError", "decode",
           "encode", "max_message_size", "ok_message", "error_message", "pack", "unpack", "new_request_id",
           "handler_error_text", "no_handler_text", "parse_error_text", "DEFAULT_MAX_PAYLOAD"]

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_PAYLOAD = 1024 * 1024  # nats-server's default max_payload
# What protobuf 4.x (the SDK's) says of any malformed message; newer releases add the type and a reason, and the
# error text on the wire must not depend on which protobuf is installed.
PROTOBUF_PARSE_FAILURE = "Error parsing message"


class WireError(ValueError):
    """Bytes that are not a KaiNatsMessage (the SDK's "not a valid protobuf" case)."""


def decode(data: bytes) -> KaiNatsMessage:
    """Parse wire bytes, gunzipping first when they start with the gzip magic (only the first two bytes decide)."""
    try:
        raw = gzip.decompress(data) if data[:2] == GZIP_MAGIC else data
    except (OSError, EOFError, zlib.error) as exc:
        raise WireError(str(exc)) from exc
    parsed = KaiNatsMessage()
    try:
        parsed.ParseFromString(raw)
    except message.DecodeError as exc:
        raise WireError(PROTOBUF_PARSE_FAILURE) from exc
    return parsed


def max_message_size(stream_max_msg_size: int | None, server_max_payload: int | None) -> int:
    """The size above which a sender gzips: the stream's limit when set and below the server's, else the server's."""
    server = server_max_payload or DEFAULT_MAX_PAYLOAD
    if stream_max_msg_size is not None and stream_max_msg_size != -1 and 0 < stream_max_msg_size < server:
        return stream_max_msg_size
    return server


def encode(msg: KaiNatsMessage, max_size: int) -> bytes | None:
    """Wire bytes for ``msg``: plain, gzip level 9 when larger than ``max_size``, None when still too large."""
    raw = msg.SerializeToString()
    if len(raw) <= max_size:
        return raw
    packed = gzip.compress(raw, compresslevel=9)
    return packed if len(packed) <= max_size else None


def new_request_id() -> str:
    return str(uuid.uuid4())


def ok_message(request_id: str, payload: any_pb2.Any, from_node: str) -> KaiNatsMessage:
    return KaiNatsMessage(request_id=request_id, payload=payload, from_node=from_node, message_type=OK)


def error_message(request_id: str, text: str, from_node: str) -> KaiNatsMessage:
    """An ERROR message: no payload, the error text, the sender's process name."""
    return KaiNatsMessage(request_id=request_id, error=text, from_node=from_node, message_type=ERROR)


def handler_error_text(from_node: str, process: str, error: str, stage: str = "handler") -> str:
    """The text of an exception in a handler stage; stage is "handler", "preprocessor" or "postprocessor"."""
    what = "handler" if stage == "handler" else f"handler {stage}"
    return f"error in node {from_node} executing {what} for node {process}: {error}"


def no_handler_text(from_node: str) -> str:
    return f"no handler defined for {from_node}"


def parse_error_text(subject: str, detail: str) -> str:
    return (f"error parsing message data coming from subject {subject} because is not a valid protobuf: "
            f"error creating new request message: {detail}")


_WRAPPERS: tuple[tuple[type, type[message.Message]], ...] = (
    (bool, wrappers_pb2.BoolValue), (int, wrappers_pb2.Int64Value), (float, wrappers_pb2.DoubleValue),
    (str, wrappers_pb2.StringValue), (bytes, wrappers_pb2.BytesValue),
)


def pack(value: AnyValue) -> any_pb2.Any:
    """An ``Any`` for a protobuf message, or for a plain Python value as the matching well-known type.

    str, bytes, bool, int and float become StringValue, BytesValue, BoolValue, Int64Value and DoubleValue;
    dict, list and None become a Struct, ListValue or Value; an ``Any`` is passed through.
    """
    if isinstance(value, any_pb2.Any):
        return value
    packed = any_pb2.Any()
    if isinstance(value, message.Message):
        packed.Pack(value)
        return packed
    for python_type, wrapper in _WRAPPERS:
        if type(value) is python_type:
            packed.Pack(wrapper(value=value))
            return packed
    if isinstance(value, (dict, list)) or value is None:
        container = struct_pb2.Value()
        try:
            json_format.ParseDict(value, container)  # type: ignore[arg-type]  # a Value takes any JSON, not only dicts
        except (json_format.ParseError, TypeError) as exc:
            raise TypeError(f"cannot send {type(value).__name__} as a protobuf Struct: {exc}") from exc
        packed.Pack(container.struct_value if isinstance(value, dict) else
                    container.list_value if isinstance(value, list) else container)
        return packed
    raise TypeError(f"cannot send a {type(value).__name__}: send a protobuf message, an Any, "
                    "or str, bytes, bool, int, float, dict, list or None")


_KNOWN = {cls.DESCRIPTOR.full_name: cls for cls in (
    wrappers_pb2.BoolValue, wrappers_pb2.Int64Value, wrappers_pb2.Int32Value, wrappers_pb2.UInt64Value,
    wrappers_pb2.UInt32Value, wrappers_pb2.DoubleValue, wrappers_pb2.FloatValue, wrappers_pb2.StringValue,
    wrappers_pb2.BytesValue, struct_pb2.Struct, struct_pb2.ListValue, struct_pb2.Value)}


def unpack(payload: any_pb2.Any) -> AnyValue:
    """The Python value of a well-known-type ``Any`` (the inverse of :func:`pack`); other Anys are returned as they are."""
    name = payload.TypeName()
    cls = _KNOWN.get(name)
    if cls is None:
        return payload
    value = cls()
    payload.Unpack(value)
    if isinstance(value, (struct_pb2.Struct, struct_pb2.ListValue, struct_pb2.Value)):
        return json_format.MessageToDict(value)
    return value.value


def describe(msg: KaiNatsMessage) -> dict[str, AnyValue]:
    """A JSON-able view of a message for the journal: the ids, the type, and the payload as far as it is known."""
    kind = MessageType.values_by_number.get(msg.message_type)
    view: dict[str, AnyValue] = {"request_id": msg.request_id, "from_node": msg.from_node,
                  "message_type": kind.name if kind is not None else msg.message_type}
    if msg.error:
        view["error"] = msg.error
    if msg.HasField("payload"):
        value = unpack(msg.payload)
        view["payload"] = {"type_url": msg.payload.type_url,
                           "value": None if isinstance(value, any_pb2.Any) else value.hex() if isinstance(value, bytes) else value,
                           "bytes": msg.payload.value.hex()}
    return view
