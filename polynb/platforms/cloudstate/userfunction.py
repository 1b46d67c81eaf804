"""The user-function gRPC server polynb plays: EntityDiscovery, EventSourced and Crdt on the service loop.

Each ``handle`` stream is one entity id. Recovery and every command run as journaled executions on a
worker thread (``Executor``); the stream answers in order, so commands of one entity never overlap.
Protocol errors and crashes become a ``failure`` message and end the stream with a gRPC error; a
command's own failure is a client failure and the stream keeps serving.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import platform
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import Message

from ... import __version__
from ...ports import listen_grpc
from . import wire
from .context import EntityCrashed, describe_command
from .crdtentity import CrdtEntity
from .entities import Definition
from .eventsourced import EventSourcedEntity
from .protolib import Compiled, ProtoLibrary
from .protos.gen.cloudstate import crdt_pb2_grpc, entity_pb2, entity_pb2_grpc, event_sourced_pb2_grpc

T = TypeVar("T")
log = logging.getLogger("polynb.cloudstate")


@dataclass(frozen=True)
class EntityRegistration:
    """One ``%%cloudstate_entity`` cell as the proxy sees it."""

    service_name: str
    kind: str  # wire.EVENT_SOURCED or wire.CRDT
    persistence_id: str
    library: ProtoLibrary
    definition: Definition
    snapshot_every: int = 0
    passivation_timeout_ms: int = 0
    proto_files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def compiled(self) -> Compiled:
        """The notebook's protos as compiled now, so messages decode to the classes the cells see now."""
        return self.library.compiled

    def method_types(self, name: str) -> tuple[type[Message], type[Message]] | None:
        method = self.compiled.service(self.service_name).methods_by_name.get(name)
        if method is None:
            return None
        return (self.compiled.message_class(method.input_type.full_name),
                self.compiled.message_class(method.output_type.full_name))

    def message_class(self, full_name: str) -> type[Message]:
        try:
            return self.compiled.message_class(full_name)
        except ValueError as exc:
            raise KeyError(str(exc)) from None

    def entity(self) -> entity_pb2.Entity:
        spec = entity_pb2.Entity(entity_type=self.kind, service_name=self.service_name,
                                 persistence_id=self.persistence_id)
        if self.passivation_timeout_ms:
            spec.passivation_strategy.timeout.timeout = self.passivation_timeout_ms
        return spec


#: run(name, input, job, meta) -> (ok, error text): a journaled execution of ``job`` on a worker thread
Executor = Callable[[str, Any, "StreamStep", dict], Awaitable[tuple[bool, str | None]]]


class Registry:
    """The entities this kernel serves, by service name."""

    def __init__(self) -> None:
        self.entities: dict[str, EntityRegistration] = {}

    def spec(self) -> entity_pb2.EntitySpec:
        files: dict[str, Any] = {}
        for registration in self.entities.values():
            for proto in registration.compiled.descriptor_set([registration.service_name]).file:
                files.setdefault(proto.name, proto)
        from google.protobuf import descriptor_pb2

        descriptor_set = descriptor_pb2.FileDescriptorSet(file=list(files.values()))
        return entity_pb2.EntitySpec(
            proto=descriptor_set.SerializeToString(),
            entities=[r.entity() for r in self.entities.values()],
            service_info=entity_pb2.ServiceInfo(
                service_name="polynb", service_version=__version__,
                service_runtime=f"Python {platform.python_version()} [{platform.python_implementation()}]",
                support_library_name=wire.SUPPORT_LIBRARY, support_library_version=__version__,
                protocol_major_version=wire.PROTOCOL_MAJOR, protocol_minor_version=wire.PROTOCOL_MINOR))


class ProtocolError(Exception):
    """The proxy broke the stream protocol; the stream ends with a failure."""


class StreamStep:
    """What one execution of an entity runs on a worker thread (a command, with the entity's recovery before
    the first one): the context the binding hands to ``run_payload``. ``step()`` returns (what the stream sends, the journal's summary,
    the handler's error or None); the error is raised again so that the record fails. A step that crashes
    raises instead, and leaves ``out`` unset."""

    def __init__(self, step: Callable[[], tuple[Any, dict, BaseException | None]]) -> None:
        self.step = step
        self.out: Any = None

    def __call__(self) -> dict:
        self.out, summary, error = self.step()
        if error is not None:
            raise error
        return summary


class UserFunction(entity_pb2_grpc.EntityDiscoveryServicer):
    """Discovery, and the entity streams of both kinds, over one registry."""

    def __init__(self, registry: Registry, execute: Executor,
                 report: Callable[[str, dict], Awaitable[None]], ready: asyncio.Event | None = None) -> None:
        self.registry = registry
        self.execute = execute
        self.report = report
        self.ready = ready
        self.proxy_info: entity_pb2.ProxyInfo | None = None

    # -- discovery -----------------------------------------------------------------------------------------
    async def discover(self, request: entity_pb2.ProxyInfo, context) -> entity_pb2.EntitySpec:
        """Answered once ``ready`` is set: a proxy discovers once, so it must see every entity of the notebook."""
        if self.ready is not None:
            await self.ready.wait()
        self.proxy_info = request
        log.info("cloudstate: discovered by %s %s", request.proxy_name, request.proxy_version)
        return self.registry.spec()

    async def reportError(self, request: entity_pb2.UserFunctionError, context) -> empty_pb2.Empty:
        await self.report("reportError", {"message": request.message})
        return empty_pb2.Empty()

    # -- shared stream steps -------------------------------------------------------------------------------
    async def _opened(self, requests: AsyncIterator, label: str, kind: str) -> tuple[Any, EntityRegistration] | None:
        """The stream's init message and the entity it names; None when the proxy closed it before sending one."""
        first = await _next(requests)
        if first is None:
            return None
        wire.first_must_be_init(label, first)
        return first.init, self._registration(first.init.service_name, kind)

    def _registration(self, service_name: str, kind: str) -> EntityRegistration:
        registration = self.registry.entities.get(service_name)
        if registration is None:
            raise ProtocolError(f"no entity serves {service_name!r} here (serving: "
                                f"{', '.join(self.registry.entities) or 'nothing'})")
        if registration.kind != kind:
            raise ProtocolError(f"{service_name} is a {registration.kind} entity, not {kind}")
        return registration

    async def _run(self, registration: EntityRegistration, step, input: Any, meta: dict) -> Any:
        """Run a step journaled; a crash (or a refusal) ends the stream."""
        job = StreamStep(step)
        ok, error = await self.execute(registration.service_name, input, job, meta)
        if job.out is None and not ok:
            raise EntityCrashed(error or "the entity failed")
        return job.out

    async def _end(self, context, failure: Message, error: Exception) -> None:
        await context.write(failure)
        code = grpc.StatusCode.INVALID_ARGUMENT if isinstance(error, (ProtocolError, wire.WireError)) \
            else grpc.StatusCode.UNKNOWN
        await context.abort(code, str(error))

    # -- event sourced -------------------------------------------------------------------------------------
    async def event_sourced_stream(self, requests: AsyncIterator, context) -> None:
        command_id = 0
        try:
            opened = await self._opened(requests, "event-sourced", wire.EVENT_SOURCED)
            if opened is None:
                return
            init, registration = opened
            entity = EventSourcedEntity(registration.definition, init.entity_id, registration.snapshot_every,
                                        registration.message_class, registration.method_types)
            snapshot = init.snapshot if init.HasField("snapshot") else None
            events: list = []
            recovered = False
            async for message in requests:
                which = message.WhichOneof("message")
                if which == "event":
                    if recovered:
                        raise ProtocolError("an event arrived after the first command")
                    events.append(message.event)
                elif which == "command":
                    command_id = message.command.id
                    handle: Callable[[], Any] = functools.partial(entity.handle, message.command)
                    meta: dict[str, Any] = {"entity_id": entity.entity_id}
                    if not recovered:  # one execution: the first command, its entity recovered first
                        handle = _after(functools.partial(entity.recover, snapshot, events), handle)
                        meta["recovered_events"] = len(events)
                        recovered = True
                    out = await self._run(registration, handle,
                                          describe_command(message.command, registration.message_class), meta)
                    await context.write(out)
                else:
                    raise ProtocolError(f"{which or 'an empty message'} is not allowed after init")
        except (ProtocolError, EntityCrashed, wire.WireError) as exc:
            await self._end(context, wire.event_sourced_failure(command_id, str(exc)), exc)

    # -- CRDT ----------------------------------------------------------------------------------------------
    async def crdt_stream(self, requests: AsyncIterator, context) -> None:
        command_id = 0
        try:
            opened = await self._opened(requests, "CRDT", wire.CRDT)
            if opened is None:
                return
            init, registration = opened
            entity = CrdtEntity(registration.definition, init.entity_id, registration.message_class,
                                registration.method_types)
            delta = init.delta if init.HasField("delta") else None
            initialised = False
            async for message in requests:
                which = message.WhichOneof("message")
                if which == "delete":
                    return
                if which not in ("delta", "command", "stream_cancelled"):
                    raise ProtocolError(f"{which or 'an empty message'} is not allowed after init")
                if which == "delta" and not initialised:  # state arrives before any command: a step of its own
                    await self._run(registration, lambda: (True, entity.init(delta), None),
                                    {"init": entity.entity_id}, {"step": "init"})
                    initialised = True
                if which == "delta":
                    entity.apply_delta(message.delta)
                    continue
                if which == "command":
                    command_id = message.command.id
                    handle: Callable[[], Any] = functools.partial(entity.handle, message.command)
                    if not initialised:  # one execution: the first command, its entity initialised first
                        handle = _after(functools.partial(entity.init, delta), handle)
                        initialised = True
                    input, meta = describe_command(message.command, registration.message_class), {}
                else:
                    cancelled = message.stream_cancelled.id
                    handle = functools.partial(entity.cancel, cancelled)
                    input, meta = {"entity_id": entity.entity_id, "cancelled": cancelled}, {"step": "cancel"}
                for out in await self._run(registration, handle, input, {"entity_id": entity.entity_id, **meta}):
                    await context.write(out)
        except (ProtocolError, EntityCrashed, wire.WireError) as exc:
            await self._end(context, wire.crdt_failure(command_id, str(exc)), exc)


def _after(first: Callable[[], Any], then: Callable[[], T]) -> Callable[[], T]:
    """``then`` run right after ``first`` on the same worker thread, as one execution."""
    def both() -> T:
        first()
        return then()
    return both


async def _next(requests: AsyncIterator) -> Any:
    async for message in requests:
        return message
    return None


class _EventSourcedServicer(event_sourced_pb2_grpc.EventSourcedServicer):
    def __init__(self, user_function: UserFunction) -> None:
        self.user_function = user_function

    async def handle(self, request_iterator, context) -> None:
        await self.user_function.event_sourced_stream(request_iterator, context)


class _CrdtServicer(crdt_pb2_grpc.CrdtServicer):
    def __init__(self, user_function: UserFunction) -> None:
        self.user_function = user_function

    async def handle(self, request_iterator, context) -> None:
        await self.user_function.crdt_stream(request_iterator, context)


async def serve(user_function: UserFunction, host: str, port: int, moved_by: str) -> tuple[grpc.aio.Server, int]:
    """Start the gRPC server on the running loop; returns it and the bound port."""
    server = grpc.aio.server()
    entity_pb2_grpc.add_EntityDiscoveryServicer_to_server(user_function, server)
    event_sourced_pb2_grpc.add_EventSourcedServicer_to_server(_EventSourcedServicer(user_function), server)
    crdt_pb2_grpc.add_CrdtServicer_to_server(_CrdtServicer(user_function), server)
    bound = listen_grpc(server, "cloudstate", host, port, moved_by)
    await server.start()
    return server, bound
