"""What a command handler gets besides its message: the context that replies, forwards, fails and adds effects.

Both entity kinds share it; event-sourced contexts add ``emit``, CRDT contexts add the CRDT and streaming.
Failing raises :class:`CommandFailed`, so a handler stops where it fails.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from google.protobuf import any_pb2, json_format
from google.protobuf.message import Message

from . import wire
from .protos.gen.cloudstate import entity_pb2


class CommandFailed(Exception):
    """A business failure: the caller gets the description, the entity keeps serving."""

    def __init__(self, description: str, restart: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.restart = restart


class EntityCrashed(Exception):
    """The entity's state can no longer be trusted (an event or snapshot handler failed): the stream ends."""


def describe(value: Any) -> Any:
    """A JSON view of a payload, for the journal, the widgets and the lab panel: a message as its proto3 JSON
    under ``@type``, a JSON value under ``@json``, bytes as base64 under ``@bytes``."""
    if isinstance(value, Message):
        fields = json_format.MessageToDict(value, preserving_proto_field_name=True)
        # well-known types (wrappers, Timestamp, Struct, ...) map to a JSON value, not an object
        return {"@type": value.DESCRIPTOR.full_name, **(fields if isinstance(fields, dict) else {"value": fields})}
    if isinstance(value, wire.Json):
        return {"@json": value.type_name, "value": value.value}
    if isinstance(value, (bytes, bytearray)):
        return {"@bytes": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def describe_any(payload: any_pb2.Any, message_class) -> Any:
    """An Any as :func:`describe` shows its value; one that does not decode keeps its type URL and base64 bytes."""
    try:
        return describe(wire.unpack(payload, message_class))
    except wire.WireError:
        return {"@any": payload.type_url, "@bytes": base64.b64encode(payload.value).decode("ascii")}


def describe_command(command: entity_pb2.Command, message_class) -> dict:
    """What the journal keeps of a command as it arrived: its ids, its name and its decoded input."""
    return {"entity_id": command.entity_id, "command_id": command.id, "name": command.name,
            "payload": describe_any(command.payload, message_class), "streamed": command.streamed}


class CommandContext:
    """One command on one entity."""

    def __init__(self, entity_id: str, command: entity_pb2.Command, output_class: type[Message] | None) -> None:
        self.entity_id = entity_id
        self.command_id = command.id
        self.command_name = command.name
        self.streamed = command.streamed
        self.output_class = output_class
        self.forwarded: entity_pb2.Forward | None = None
        self.effects: list[entity_pb2.SideEffect] = []

    def fail(self, description: str, restart: bool = False) -> None:
        """Fail the command; the caller gets ``description``. Nothing the command did is kept."""
        raise CommandFailed(str(description), restart)

    def forward(self, service: str, command: str, payload: Any) -> None:
        """Answer by handing the command on to another service's method."""
        self.forwarded = entity_pb2.Forward(service_name=service, command_name=command, payload=wire.pack(payload))

    def effect(self, service: str, command: str, payload: Any, synchronous: bool = False) -> None:
        """Also call another service's method once this command's reply is settled."""
        self.effects.append(wire.side_effect(service, command, wire.pack(payload), synchronous))

    def client_action(self, result: Any) -> entity_pb2.ClientAction:
        if self.forwarded is not None:
            return entity_pb2.ClientAction(forward=self.forwarded)
        return wire.reply_action(wire.pack(self.coerce(result)))

    def coerce(self, result: Any) -> Any:
        return coerce(result, self.output_class, self.command_name)


def coerce(result: Any, output_class: type[Message] | None, what: str) -> Any:
    """A handler may return the output message, a dict of its fields, or None for an empty one."""
    if output_class is None:
        if result is None:
            raise TypeError(f"{what} returned nothing, and its output type is unknown")
        return result
    if result is None:
        return output_class()
    if isinstance(result, dict):
        return json_format.ParseDict(result, output_class())
    if isinstance(result, Message) and result.DESCRIPTOR.full_name != output_class.DESCRIPTOR.full_name:
        raise TypeError(f"{what} must return {output_class.DESCRIPTOR.full_name}, not {result.DESCRIPTOR.full_name}")
    return result


def command_input(definition, command: entity_pb2.Command, method_types: Callable, message_class,
                  summary: dict) -> tuple[Callable, Any, Any]:
    """The entity's @command handler for ``command``, the method's types and the decoded input (which the
    journal summary records); CommandFailed when the entity has no handler for it."""
    handler = definition.command_handler(command.name)
    if handler is None:
        raise CommandFailed(f"entity has no @command handler for {command.name!r} "
                            f"(it handles: {', '.join(sorted(definition.commands))})")
    types = method_types(command.name)
    message = decode_command(command, types, message_class)
    summary["input"] = describe(message)
    return handler, types, message


def decode_command(command: entity_pb2.Command, types, message_class) -> Any:
    """The command's input message, checked against the method's input type; a bad one fails the command."""
    try:
        message = wire.unpack(command.payload, message_class)
    except wire.WireError as exc:
        raise CommandFailed(str(exc)) from None
    if types is not None and isinstance(message, Message) and \
            message.DESCRIPTOR.full_name != types[0].DESCRIPTOR.full_name:
        raise CommandFailed(f"{command.name} takes {types[0].DESCRIPTOR.full_name}, not {message.DESCRIPTOR.full_name}")
    return message


def handler_error(exc: BaseException) -> str:
    """The description a caller gets for a handler that raised."""
    if isinstance(exc, CommandFailed):
        return exc.description
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__



def describe_action(action: entity_pb2.ClientAction, message_class) -> dict:
    """The journal's view of a reply or forward: the decoded reply, or where the command went."""
    if action.WhichOneof("action") == "forward":
        return {"forward": f"{action.forward.service_name}/{action.forward.command_name}",
                "forward_input": describe_any(action.forward.payload, message_class)}
    return {"reply": describe_any(action.reply.payload, message_class)}
