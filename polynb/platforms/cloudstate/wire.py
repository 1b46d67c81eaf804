"""CloudState's wire conventions, with no sockets: Any encoding, reply and failure shapes, stream checks.

Payloads, events, snapshots and CRDT values travel as ``google.protobuf.Any``: messages under
``type.googleapis.com/``, scalars under ``p.cloudstate.io/<type>`` (field 1 of that scalar type) and
JSON under ``json.cloudstate.io/<name>`` (the JSON text in field 1).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any as AnyValue

from google.protobuf import any_pb2, wrappers_pb2
from google.protobuf.message import DecodeError, Message

from ... import jsonbody
from .protos.gen.cloudstate import crdt_pb2, entity_pb2, event_sourced_pb2

MESSAGE_PREFIX = "type.googleapis.com/"
PRIMITIVE_PREFIX = "p.cloudstate.io/"
JSON_PREFIX = "json.cloudstate.io/"

EVENT_SOURCED = "cloudstate.eventsourced.EventSourced"
CRDT = "cloudstate.crdt.Crdt"
ACTION = "cloudstate.action.ActionProtocol"
VALUE_ENTITY = "cloudstate.valueentity.ValueEntity"
PROTOCOL_MAJOR, PROTOCOL_MINOR = 0, 2
SUPPORT_LIBRARY = "polynb"

_Wrapper = (wrappers_pb2.StringValue | wrappers_pb2.BytesValue | wrappers_pb2.Int32Value | wrappers_pb2.Int64Value
            | wrappers_pb2.FloatValue | wrappers_pb2.DoubleValue | wrappers_pb2.BoolValue)
#: p.cloudstate.io scalar names and the wrapper type whose field 1 encodes them
_PRIMITIVES: dict[str, type[_Wrapper]] = {
    "string": wrappers_pb2.StringValue, "bytes": wrappers_pb2.BytesValue, "int32": wrappers_pb2.Int32Value,
    "int64": wrappers_pb2.Int64Value, "float": wrappers_pb2.FloatValue, "double": wrappers_pb2.DoubleValue,
    "bool": wrappers_pb2.BoolValue,
}


class WireError(ValueError):
    """Input that breaks the protocol; the text is what the proxy and the notebook are told."""


class Json:
    """A value to send as ``json.cloudstate.io/<type_name>`` (the Java/JS support libraries' JSON form)."""

    def __init__(self, value: AnyValue, type_name: str = "object") -> None:
        self.value = value
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Json) and (self.value, self.type_name) == (other.value, other.type_name)

    def __repr__(self) -> str:
        return f"Json({self.value!r}, {self.type_name!r})"


def pack(value: AnyValue) -> any_pb2.Any:
    """Any-encode a protobuf message, a :class:`Json`, or a scalar (str, bytes, bool, int, float)."""
    if isinstance(value, any_pb2.Any):
        return value
    if isinstance(value, Message):
        return any_pb2.Any(type_url=MESSAGE_PREFIX + value.DESCRIPTOR.full_name, value=value.SerializeToString())
    if isinstance(value, Json):
        text = json.dumps(value.value, separators=(",", ":"))
        return any_pb2.Any(type_url=JSON_PREFIX + value.type_name,
                           value=wrappers_pb2.StringValue(value=text).SerializeToString())
    scalar = _scalar_type(value)
    if scalar is None:
        raise WireError(f"cannot send a {type(value).__name__} as a CloudState payload: "
                        "use a protobuf message, polynb.cloudstate.Json, or str/bytes/bool/int/float")
    return any_pb2.Any(type_url=PRIMITIVE_PREFIX + scalar, value=_PRIMITIVES[scalar](value=value).SerializeToString())


def _scalar_type(value: AnyValue) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "double"
    return None


def unpack(payload: any_pb2.Any, message_class: Callable[[str], type[Message]]) -> AnyValue:
    """Decode an Any; ``message_class(full_name)`` finds the class of a ``type.googleapis.com`` type."""
    url = payload.type_url
    try:
        if url.startswith(PRIMITIVE_PREFIX):
            scalar = url[len(PRIMITIVE_PREFIX):]
            if scalar not in _PRIMITIVES:
                raise WireError(f"unknown primitive type {url!r} (known: {', '.join(_PRIMITIVES)})")
            return _PRIMITIVES[scalar].FromString(payload.value).value
        if url.startswith(JSON_PREFIX):
            text = wrappers_pb2.StringValue.FromString(payload.value).value
            return Json(jsonbody.loads(text), url[len(JSON_PREFIX):])
        if "/" not in url:
            raise WireError(f"malformed Any: type URL {url!r} has no prefix")
        name = url.rsplit("/", 1)[1]
        if not url.startswith(MESSAGE_PREFIX) and not name:
            raise WireError(f"malformed Any: type URL {url!r} names no type")
        return message_class(name).FromString(payload.value)
    except WireError:
        raise
    except (DecodeError, ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"malformed Any {url!r}: {exc}") from None
    except KeyError as exc:
        raise WireError(f"unknown type in Any {url!r}: {exc}") from None


def type_name(payload: any_pb2.Any) -> str:
    """The type an Any holds, without its prefix."""
    return payload.type_url.rsplit("/", 1)[-1]


# -- client actions --------------------------------------------------------------------------------------
def reply_action(payload: any_pb2.Any) -> entity_pb2.ClientAction:
    return entity_pb2.ClientAction(reply=entity_pb2.Reply(payload=payload))


def forward_action(service: str, command: str, payload: any_pb2.Any) -> entity_pb2.ClientAction:
    return entity_pb2.ClientAction(forward=entity_pb2.Forward(service_name=service, command_name=command,
                                                              payload=payload))


def failure_action(command_id: int, description: str, restart: bool = False) -> entity_pb2.ClientAction:
    return entity_pb2.ClientAction(failure=entity_pb2.Failure(command_id=command_id, description=description,
                                                              restart=restart))


def side_effect(service: str, command: str, payload: any_pb2.Any, synchronous: bool) -> entity_pb2.SideEffect:
    return entity_pb2.SideEffect(service_name=service, command_name=command, payload=payload, synchronous=synchronous)


# -- stream shapes ----------------------------------------------------------------------------------------
def event_sourced_failure(command_id: int, description: str) -> event_sourced_pb2.EventSourcedStreamOut:
    """An entity crash: the proxy fails the command and restarts the entity."""
    return event_sourced_pb2.EventSourcedStreamOut(
        failure=entity_pb2.Failure(command_id=command_id, description=description))


def crdt_failure(command_id: int, description: str) -> crdt_pb2.CrdtStreamOut:
    return crdt_pb2.CrdtStreamOut(failure=entity_pb2.Failure(command_id=command_id, description=description))


def first_must_be_init(kind: str, message: Message) -> None:
    """A stream opens with exactly one init; anything else first is a protocol error."""
    which = message.WhichOneof("message")
    if which != "init":
        raise WireError(f"{kind} stream must start with init, got {which or 'an empty message'}")
