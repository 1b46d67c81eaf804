"""One CRDT entity instance: its CRDT, replicated deltas, commands, and the streams clients keep open.

Like ``eventsourced.py`` it knows no transport. A command's reply carries the CRDT's net local change;
open streamed commands hear about every later change; a failed command leaves the CRDT as it was.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

from google.protobuf.message import Message

from ...inflight import ExecutionCancelled
from . import crdts, wire
from .context import CommandContext, CommandFailed, EntityCrashed, coerce, command_input, describe_action, handler_error
from .entities import Definition, accepts, call_handler
from .protos.gen.cloudstate import crdt_pb2, entity_pb2

CONSISTENCY = {"local": crdt_pb2.LOCAL, "majority": crdt_pb2.MAJORITY, "all": crdt_pb2.ALL}


class CrdtContext(CommandContext):
    """A command on a CRDT entity: ``ctx.state`` is the CRDT."""

    def __init__(self, entity: CrdtEntity, command: entity_pb2.Command, output_class: type[Message] | None) -> None:
        super().__init__(entity.entity_id, command, output_class)
        self.state = entity.crdt
        self.deleted = False
        self.write_consistency: str | int = "local"
        self.subscription: Subscription | None = None

    def delete(self) -> None:
        """Delete the CRDT (and so the entity) everywhere."""
        self.deleted = True

    def on_change(self, callback: Callable[[StreamContext], Any]) -> None:
        """For a streamed command: ``callback(stream)`` runs after every later change; what it returns is sent."""
        self._subscribe().on_change = callback

    def on_cancel(self, callback: Callable[[StreamContext], Any]) -> None:
        """For a streamed command: ``callback(stream)`` runs when the client cancels (it may change the CRDT)."""
        self._subscribe().on_cancel = callback

    def _subscribe(self) -> Subscription:
        if not self.streamed:
            raise CommandFailed(f"{self.command_name} was not called as a stream, so it cannot stream changes")
        if self.subscription is None:
            self.subscription = Subscription(self.command_id, self.output_class)
        return self.subscription

    def consistency(self) -> crdt_pb2.CrdtWriteConsistency:
        value = self.write_consistency
        if isinstance(value, str):
            return CONSISTENCY[value.lower()]
        return cast(crdt_pb2.CrdtWriteConsistency, int(value))  # a number as it is: proto3 keeps unknown ones


class Subscription:
    """A streamed command that is still open."""

    def __init__(self, command_id: int, output_class: type[Message] | None) -> None:
        self.command_id = command_id
        self.output_class = output_class
        self.on_change: Callable | None = None
        self.on_cancel: Callable | None = None


class StreamContext:
    """What a change or cancel callback gets: the CRDT, side effects, and ending the stream."""

    def __init__(self, entity: CrdtEntity, subscription: Subscription) -> None:
        self.state = entity.crdt
        self.entity_id = entity.entity_id
        self.command_id = subscription.command_id
        self.ended = False
        self.effects: list[entity_pb2.SideEffect] = []

    def end(self) -> None:
        """Close this stream after the message the callback returns."""
        self.ended = True

    def effect(self, service: str, command: str, payload: Any, synchronous: bool = False) -> None:
        self.effects.append(wire.side_effect(service, command, wire.pack(payload), synchronous))


class CrdtEntity:
    def __init__(self, definition: Definition, entity_id: str, message_class: Callable[[str], type[Message]],
                 method_types: Callable[[str], tuple[type[Message], type[Message]] | None]) -> None:
        self.definition = definition
        self.entity_id = entity_id
        self.message_class = message_class
        self.method_types = method_types
        self.crdt: crdts.Crdt | None = None
        self.instance = definition.state_class(*([entity_id] if _takes_id(definition.state_class) else [])) \
            if definition.state_class is not None else None
        self.subscriptions: dict[int, Subscription] = {}
        self.deleted = False

    # -- state from the proxy ------------------------------------------------------------------------------
    def init(self, delta: crdt_pb2.CrdtDelta | None) -> dict:
        """Create the CRDT: from the init's state when there is one, else from the entity's definition."""
        if delta is not None:
            self.crdt = crdts.from_delta(delta, self.message_class)
        else:
            self.crdt = self._new_crdt()
        return {"entity_id": self.entity_id, "crdt": self.crdt.kind, "initial_state": delta is not None}

    def _new_crdt(self) -> crdts.Crdt:
        factory = self.definition.initial or self.definition.crdt_factory()
        if factory is None:
            raise EntityCrashed("a CRDT entity needs a `crdt = GCounter` (or another kind) class attribute "
                                "or an @initial function returning one")
        try:
            made = factory() if isinstance(factory, type) else call_handler(factory, self.entity_id)
        except Exception as exc:
            raise EntityCrashed(f"creating the CRDT failed: {handler_error(exc)}") from exc
        if not isinstance(made, crdts.Crdt):
            raise EntityCrashed(f"the entity's CRDT must be a polynb.cloudstate CRDT, not {type(made).__name__}")
        return made

    def apply_delta(self, delta: crdt_pb2.CrdtDelta) -> None:
        """A change replicated from another node: applied with no reply."""
        if self.crdt is None:
            self.crdt = crdts.from_delta(delta, self.message_class)
            return
        self.crdt.apply(delta)
        self.crdt.reset()

    # -- commands ------------------------------------------------------------------------------------------
    def handle(self, command: entity_pb2.Command) -> tuple[list[crdt_pb2.CrdtStreamOut], dict, BaseException | None]:
        summary: dict = {"command": command.name, "command_id": command.id}
        saved = self._save()
        try:
            handler, types, message = command_input(self.definition, command, self.method_types, self.message_class,
                                                    summary)
            context = CrdtContext(self, command, types[1] if types else None)
            result = call_handler(handler, _holder(self), message, context)
            action = None if (result is None and context.subscription is not None and context.forwarded is None) \
                else context.client_action(result)
        except EntityCrashed:
            raise
        except (Exception, ExecutionCancelled) as exc:  # a cancelled command fails as a command
            self._restore(saved)
            description = handler_error(exc)
            summary["failure"] = description
            reply = crdt_pb2.CrdtReply(command_id=command.id, client_action=wire.failure_action(command.id, description))
            return [crdt_pb2.CrdtStreamOut(reply=reply)], summary, exc
        reply = crdt_pb2.CrdtReply(command_id=command.id, side_effects=context.effects)
        if action is not None:
            reply.client_action.CopyFrom(action)
            summary.update(describe_action(action, self.message_class))
        if context.subscription is not None:
            reply.streamed = True
        state_action = self._state_action(context.deleted, context.consistency())
        if state_action is not None:
            reply.state_action.CopyFrom(state_action)
            summary["state_action"] = state_action.WhichOneof("action")
        out = [crdt_pb2.CrdtStreamOut(reply=reply)]
        changed = state_action is not None and not context.deleted
        if changed:
            out += self._notify()
        if context.subscription is not None and not context.deleted:
            self.subscriptions[command.id] = context.subscription
        self.deleted = context.deleted
        return out, summary, None

    def cancel(self, command_id: int) -> tuple[list[crdt_pb2.CrdtStreamOut], dict, BaseException | None]:
        """The client of a streamed command went away: exactly one cancelled-response, then change notices."""
        subscription = self.subscriptions.pop(command_id, None)
        response = crdt_pb2.CrdtStreamCancelledResponse(command_id=command_id)
        summary: dict[str, Any] = {"cancelled": command_id}
        if subscription is None or subscription.on_cancel is None:
            return [crdt_pb2.CrdtStreamOut(stream_cancelled_response=response)], summary, None
        saved = self._save()
        stream = StreamContext(self, subscription)
        try:
            call_handler(subscription.on_cancel, stream)
        except Exception as exc:
            self._restore(saved)
            summary["failure"] = handler_error(exc)
            return [crdt_pb2.CrdtStreamOut(stream_cancelled_response=response)], summary, exc
        response.side_effects.extend(stream.effects)
        state_action = self._state_action(False, crdt_pb2.LOCAL)
        if state_action is not None:
            response.state_action.CopyFrom(state_action)
        out = [crdt_pb2.CrdtStreamOut(stream_cancelled_response=response)]
        return out + (self._notify() if state_action is not None else []), summary, None

    def _notify(self) -> list[crdt_pb2.CrdtStreamOut]:
        messages = []
        for command_id, subscription in list(self.subscriptions.items()):
            if subscription.on_change is None:
                continue
            stream = StreamContext(self, subscription)
            result = call_handler(subscription.on_change, stream)
            if result is None and not stream.ended and not stream.effects:
                continue
            message = crdt_pb2.CrdtStreamedMessage(command_id=command_id, side_effects=stream.effects,
                                                   end_stream=stream.ended)
            if result is not None:
                value = coerce(result, subscription.output_class, f"stream {command_id}")
                message.client_action.CopyFrom(wire.reply_action(wire.pack(value)))
            if stream.ended:
                del self.subscriptions[command_id]
            messages.append(crdt_pb2.CrdtStreamOut(streamed_message=message))
        return messages

    def _state_action(self, deleted: bool,
                      consistency: crdt_pb2.CrdtWriteConsistency) -> crdt_pb2.CrdtStateAction | None:
        if deleted:
            return crdt_pb2.CrdtStateAction(delete=crdt_pb2.CrdtDelete(), write_consistency=consistency)
        assert self.crdt is not None, "the init made it, before any command"
        delta = self.crdt.delta()
        self.crdt.reset()
        if delta is None:
            return None
        return crdt_pb2.CrdtStateAction(update=delta, write_consistency=consistency)

    def _save(self):
        try:
            return copy.deepcopy(self.crdt)
        except Exception:
            return None

    def _restore(self, saved) -> None:
        if saved is not None:
            self.crdt = saved


def _holder(entity: CrdtEntity) -> Any:
    """CRDT handlers' first argument: the entity instance (class form, its ``crdt`` attribute set to the CRDT)
    or the CRDT itself (functions form)."""
    if entity.instance is None:
        return entity.crdt
    entity.instance.crdt = entity.crdt
    return entity.instance


def _takes_id(cls: type) -> bool:
    return accepts(cls, 1)
