"""One event-sourced entity instance: recovery from snapshot and events, then commands, with no transport.

The gRPC stream (``userfunction.py``) feeds it; everything here that calls user code runs on a worker thread
inside a journaled execution. A failed command leaves the state and the sequence as they were.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from ...inflight import ExecutionCancelled
from . import wire
from .context import (
    CommandContext,
    CommandFailed,
    EntityCrashed,
    command_input,
    describe,
    describe_action,
    handler_error,
)
from .entities import Definition, call_handler
from .protos.gen.cloudstate import entity_pb2, event_sourced_pb2


class EventSourcedContext(CommandContext):
    """A command context that can emit events, applied to the state at once."""

    def __init__(self, entity: EventSourcedEntity, command: entity_pb2.Command,
                 output_class: type[Message] | None) -> None:
        super().__init__(entity.entity_id, command, output_class)
        self._entity = entity
        self.events: list[Any] = []
        self.sequence = entity.sequence

    def emit(self, event: Any) -> None:
        """Persist ``event`` (a message) and apply it to the state now."""
        self._entity.apply_event(event, self.sequence + len(self.events) + 1)
        self.events.append(event)


class EventSourcedEntity:
    """The state of one entity id on one stream, and the rules that change it."""

    def __init__(self, definition: Definition, entity_id: str, snapshot_every: int,
                 message_class: Callable[[str], type[Message]],
                 method_types: Callable[[str], tuple[type[Message], type[Message]] | None]) -> None:
        self.definition = definition
        self.entity_id = entity_id
        self.snapshot_every = snapshot_every
        self.message_class = message_class
        self.method_types = method_types
        self.sequence = 0
        self.state = definition.new_state(entity_id)

    # -- recovery ------------------------------------------------------------------------------------------
    def recover(self, snapshot: event_sourced_pb2.EventSourcedSnapshot | None,
                events: list[event_sourced_pb2.EventSourcedEvent]) -> dict:
        """Apply the init's snapshot and the replayed events; any failure here is a crash."""
        if snapshot is not None:
            value = self._decode(snapshot.snapshot)
            handler = self.definition.snapshot_handler
            if handler is None:
                raise EntityCrashed("the proxy sent a snapshot, but the entity has no @snapshot_handler")
            self._run_state_handler(handler, value)
            self.sequence = snapshot.snapshot_sequence
        for event in events:
            self.apply_event(self._decode(event.payload), event.sequence)
        return {"entity_id": self.entity_id, "snapshot_sequence": snapshot.snapshot_sequence if snapshot else None,
                "events": len(events), "sequence": self.sequence}

    def _decode(self, payload) -> Any:
        try:
            return wire.unpack(payload, self.message_class)
        except wire.WireError as exc:
            raise EntityCrashed(str(exc)) from None

    def apply_event(self, event: Any, sequence: int) -> None:
        type_name = event_type_name(event)
        handler = self.definition.event_handler(type_name)
        if handler is None:
            raise EntityCrashed(f"no @event handler for {type_name} in entity {self.entity_id!r}")
        try:
            self._run_state_handler(handler, event)
        except EntityCrashed:
            raise
        except Exception as exc:
            raise EntityCrashed(f"event handler for {type_name} failed: {handler_error(exc)}") from exc
        self.sequence = sequence

    def _run_state_handler(self, handler: Callable, value: Any) -> None:
        result = call_handler(handler, self.state, value, None)
        if self.definition.replaces_state and result is not None:
            self.state = result

    # -- commands ------------------------------------------------------------------------------------------
    def handle(self, command: entity_pb2.Command) -> tuple[event_sourced_pb2.EventSourcedStreamOut, dict,
                                                          BaseException | None]:
        """Run one command: (the reply to send, what the journal keeps, the handler's error if it failed)."""
        summary: dict = {"command": command.name, "command_id": command.id}
        try:
            saved = copy.deepcopy((self.state, self.sequence))
        except Exception:
            saved = None  # an uncopyable state cannot be rolled back: a failure asks the proxy to restart
        context = None
        try:
            handler, types, message = command_input(self.definition, command, self.method_types, self.message_class,
                                                    summary)
            context = EventSourcedContext(self, command, types[1] if types else None)
            result = call_handler(handler, self.state, message, context)
            action = context.client_action(result)
        except EntityCrashed:
            raise
        except (Exception, ExecutionCancelled) as exc:  # a cancelled command fails as a command
            restart = saved is None or (isinstance(exc, CommandFailed) and exc.restart)
            if saved is not None:
                self.state, self.sequence = saved
            description = handler_error(exc)
            summary["failure"] = description
            reply = event_sourced_pb2.EventSourcedReply(
                command_id=command.id, client_action=wire.failure_action(command.id, description, restart))
            return event_sourced_pb2.EventSourcedStreamOut(reply=reply), summary, exc
        reply = event_sourced_pb2.EventSourcedReply(command_id=command.id, client_action=action,
                                                    side_effects=context.effects,
                                                    events=[wire.pack(e) for e in context.events])
        first, last = context.sequence + 1, self.sequence
        if self.snapshot_every > 0 and context.events and (last // self.snapshot_every) * self.snapshot_every >= first:
            reply.snapshot.CopyFrom(wire.pack(self._snapshot()))
            summary["snapshot"] = last
        summary.update(describe_action(action, self.message_class), events=[describe(e) for e in context.events])
        if context.effects:
            summary["side_effects"] = [f"{e.service_name}/{e.command_name}" for e in context.effects]
        return event_sourced_pb2.EventSourcedStreamOut(reply=reply), summary, None

    def _snapshot(self) -> Any:
        handler = self.definition.snapshot
        if handler is None:
            if isinstance(self.state, Message):
                return self.state
            raise EntityCrashed("snapshot_every is set, but the entity has no @snapshot function")
        try:
            return call_handler(handler, self.state, None)
        except Exception as exc:
            raise EntityCrashed(f"the @snapshot function failed: {handler_error(exc)}") from exc


def event_type_name(event: Any) -> str:
    """What ``@event`` keys a handler by: the message's full name, the JSON type name, or the Python type."""
    if isinstance(event, Message):
        return event.DESCRIPTOR.full_name
    if isinstance(event, wire.Json):
        return event.type_name
    return type(event).__name__
