"""The local proxy's side of one entity's ``handle`` stream: open, recover, send commands one at a time.

A broken stream (the user function crashed, the kernel restarted) fails the command in flight and is
reopened on the next command, replaying the stored snapshot and events, so no persisted event is lost.
"""
from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import any_pb2, message

from .protos.gen.cloudstate import crdt_pb2, crdt_pb2_grpc, entity_pb2, event_sourced_pb2, event_sourced_pb2_grpc
from .proxystore import EventStore

log = logging.getLogger("polynb.cloudstate.proxy")


class CommandError(Exception):
    """A call that failed: the description is what the client gets, with the gRPC status code."""

    def __init__(self, description: str, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


class Driver(abc.ABC):
    """What both entity kinds share: one stream, commands numbered and serialised, passivation."""

    def __init__(self, channel: grpc.aio.Channel, spec: entity_pb2.Entity, entity_id: str, store: EventStore,
                 on_closed: Callable[[], object]) -> None:
        self.channel = channel
        self.spec = spec
        self.entity_id = entity_id
        self.store = store
        self.on_closed = on_closed
        self.call: grpc.aio.StreamStreamCall[Any, Any] | None = None
        self.next_id = 0
        self.lock = asyncio.Lock()
        self._idle: asyncio.TimerHandle | None = None

    @abc.abstractmethod
    async def _open(self) -> None:
        """Open the entity's ``handle`` stream (``self.call``) and bring the entity to its stored state."""

    @abc.abstractmethod
    def _command_in(self, command: entity_pb2.Command) -> message.Message:
        """The stream message that carries a command."""

    @abc.abstractmethod
    async def _answer(self, command_id: int, waiter: Any) -> tuple[entity_pb2.ClientAction, list]:
        """The command's client action and side effects, once the entity has answered it."""

    @property
    def _open_call(self) -> grpc.aio.StreamStreamCall[Any, Any]:
        """The stream a command goes on: ``command`` and ``stream`` open it first when there is none."""
        if self.call is None:
            raise CommandError("the entity's stream is not open", grpc.StatusCode.UNAVAILABLE)
        return self.call

    async def command(self, name: str, payload: any_pb2.Any) -> tuple[entity_pb2.ClientAction, list]:
        async with self.lock:
            if self._idle is not None:
                self._idle.cancel()
            try:
                if self.call is None:
                    await self._open()
                self.next_id += 1
                command = entity_pb2.Command(entity_id=self.entity_id, id=self.next_id, name=name, payload=payload)
                waiter = self._expect(self.next_id)
                await self._open_call.write(self._command_in(command))
                result = await self._answer(self.next_id, waiter)
            except grpc.RpcError as exc:
                self._drop()
                raise CommandError(f"the entity's stream broke: {exc.details() if hasattr(exc, 'details') else exc}",
                                   grpc.StatusCode.UNAVAILABLE) from None
            self._schedule_passivation()
            return result

    def _expect(self, command_id: int):
        """Called before a command is sent; what ``_answer`` waits on (nothing: it reads the stream itself)."""
        return None

    async def _read(self):
        out = await self._open_call.read()
        if out is grpc.aio.EOF:
            self._drop()
            raise CommandError("the user function ended the entity's stream", grpc.StatusCode.UNAVAILABLE)
        return out

    def _crashed(self, failure: entity_pb2.Failure) -> CommandError:
        self._drop()
        return CommandError(failure.description or "the entity failed")

    def _drop(self) -> None:
        """Forget the stream; the next command reopens it and recovers."""
        if self.call is not None:
            self.call.cancel()
        self.call = None
        self.next_id = 0

    def _schedule_passivation(self) -> None:
        timeout = self.spec.passivation_strategy.timeout.timeout
        if timeout > 0:
            self._idle = asyncio.get_running_loop().call_later(timeout / 1000, self._passivate)

    def _passivate(self) -> None:
        asyncio.ensure_future(self.close())

    async def close(self) -> None:
        """Half-close and let the user function end the stream; the entity is forgotten."""
        async with self.lock:
            if self.call is not None:
                try:
                    await self.call.done_writing()
                    await asyncio.wait_for(self._drain(), 2.0)
                except (grpc.RpcError, asyncio.TimeoutError):
                    self.call.cancel()
                self.call = None
            self.on_closed()


    async def _drain(self) -> None:
        while await self._open_call.read() is not grpc.aio.EOF:
            pass


class EventSourcedDriver(Driver):
    async def _open(self) -> None:
        persistence_id = self.spec.persistence_id
        self.call = event_sourced_pb2_grpc.EventSourcedStub(self.channel).handle()
        init = event_sourced_pb2.EventSourcedInit(service_name=self.spec.service_name, entity_id=self.entity_id)
        stored = self.store.snapshot(persistence_id, self.entity_id)
        after = 0
        if stored is not None:
            after = stored[0]
            init.snapshot.CopyFrom(event_sourced_pb2.EventSourcedSnapshot(snapshot_sequence=after, snapshot=stored[1]))
        await self.call.write(event_sourced_pb2.EventSourcedStreamIn(init=init))
        for sequence, event in self.store.events(persistence_id, self.entity_id, after):
            await self.call.write(event_sourced_pb2.EventSourcedStreamIn(
                event=event_sourced_pb2.EventSourcedEvent(sequence=sequence, payload=event)))

    def _command_in(self, command: entity_pb2.Command):
        return event_sourced_pb2.EventSourcedStreamIn(command=command)

    async def _answer(self, command_id: int, waiter):
        out = await self._read()
        if out.WhichOneof("message") == "failure":
            raise self._crashed(out.failure)
        reply = out.reply
        if reply.command_id != command_id:
            self._drop()
            raise CommandError(f"the entity answered command {reply.command_id}, not {command_id}")
        action = reply.client_action
        if action.WhichOneof("action") == "failure":
            if action.failure.restart:
                self._drop()
            return action, []
        if reply.events:
            first = self.store.last_sequence(self.spec.persistence_id, self.entity_id) + 1
            self.store.persist(self.spec.persistence_id, self.entity_id, first, list(reply.events),
                               reply.snapshot if reply.HasField("snapshot") else None)
        return action, list(reply.side_effects)


class CrdtDriver(Driver):
    """CRDT state lives in the stream (the local proxy is one node), so it is never passivated; a deleted
    entity's stream is closed. A reader task sorts what the entity sends: replies, streamed messages for
    the streamed calls still open, and answers to cancellations."""

    async def _open(self) -> None:
        self.call = crdt_pb2_grpc.CrdtStub(self.channel).handle()
        self.waiting: dict = {}  # command id, or ("cancel", id) -> future of the answer
        self.streams: dict[int, asyncio.Queue] = {}
        await self.call.write(crdt_pb2.CrdtStreamIn(init=crdt_pb2.CrdtInit(service_name=self.spec.service_name,
                                                                            entity_id=self.entity_id)))
        self.reader = asyncio.ensure_future(self._sort(self.call))

    async def _sort(self, call) -> None:
        error = CommandError("the user function ended the entity's stream", grpc.StatusCode.UNAVAILABLE)
        try:
            while (out := await call.read()) is not grpc.aio.EOF:
                which = out.WhichOneof("message")
                if which == "failure":
                    error = CommandError(out.failure.description or "the entity failed")
                    break
                if which == "reply":
                    self._settle(out.reply.command_id, out.reply)
                elif which == "streamed_message" and out.streamed_message.command_id in self.streams:
                    self.streams[out.streamed_message.command_id].put_nowait(out.streamed_message)
                elif which == "stream_cancelled_response":
                    self._settle(("cancel", out.stream_cancelled_response.command_id), out.stream_cancelled_response)
        except grpc.RpcError as exc:
            error = CommandError(f"the entity's stream broke: {exc.details()}", grpc.StatusCode.UNAVAILABLE)
        finally:
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(error)
            for queue in self.streams.values():
                queue.put_nowait(None)
            if self.call is call:
                self.call, self.next_id = None, 0

    async def _drain(self) -> None:
        await self.reader

    def _settle(self, key, answer) -> None:
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(answer)

    def _expect(self, key):
        future = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        return future

    def _command_in(self, command: entity_pb2.Command):
        return crdt_pb2.CrdtStreamIn(command=command)

    def _schedule_passivation(self) -> None:
        """Passivating would lose the CRDT's state, which this single-node proxy keeps nowhere else."""

    def _drop(self) -> None:
        if self.call is not None:
            self.reader.cancel()
        super()._drop()

    async def _answer(self, command_id: int, waiter):
        reply = await waiter
        if reply.state_action.HasField("delete"):
            asyncio.ensure_future(self.close())
        return reply.client_action, list(reply.side_effects)

    async def stream(self, name: str, payload: any_pb2.Any):
        """A streamed call: the first reply, then every streamed message, until the entity ends the stream
        or the client goes away (then the entity is told, and its cancellation answer awaited)."""
        async with self.lock:
            if self.call is None:
                await self._open()
            self.next_id += 1
            command_id = self.next_id
            queue: asyncio.Queue = asyncio.Queue()
            self.streams[command_id] = queue
            waiter = self._expect(command_id)
            await self._open_call.write(crdt_pb2.CrdtStreamIn(command=entity_pb2.Command(
                entity_id=self.entity_id, id=command_id, name=name, payload=payload, streamed=True)))
            reply = await waiter
        ended = not reply.streamed
        try:
            yield reply.client_action, list(reply.side_effects), ended
            while not ended:
                message = await queue.get()
                if message is None:
                    raise CommandError("the user function ended the entity's stream", grpc.StatusCode.UNAVAILABLE)
                ended = message.end_stream
                yield message.client_action, list(message.side_effects), ended
        finally:
            self.streams.pop(command_id, None)
            if not ended and self.call is not None:
                await self._cancel(command_id)

    async def _cancel(self, command_id: int) -> None:
        async with self.lock:
            if self.call is None:
                return
            waiter = self._expect(("cancel", command_id))
            await self.call.write(crdt_pb2.CrdtStreamIn(stream_cancelled=entity_pb2.StreamCancelled(
                entity_id=self.entity_id, id=command_id)))
            await waiter
