"""The local CloudState proxy that ``polynb up cloudstate`` runs: drives a user function as the real proxy does.

It discovers the user function (``USER_FUNCTION_HOST``/``USER_FUNCTION_PORT``), keeps one ``handle``
stream per entity id with commands serialised on it, persists events and snapshots in SQLite and replays
them when a stream is reopened, runs forwards and side effects as calls, passivates idle entities, and
serves the entities' gRPC services (with server reflection; CRDT server-streaming calls as gRPC streams)
and their HTTP/JSON API to clients.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import tornado.httpserver
import tornado.web
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from grpc_reflection.v1alpha._async import ReflectionServicer

from ...backoff import Backoff
from ...jsonbody import BodyRefused
from ...jsonhandler import JsonHandler
from ...ports import listen_grpc, listen_http
from . import proxyhttp, wire
from .protolib import standard_files
from .protos.gen.cloudstate import entity_pb2, entity_pb2_grpc
from .proxydrivers import CommandError, CrdtDriver, Driver, EventSourcedDriver
from .proxystore import EventStore

log = logging.getLogger("polynb.cloudstate.proxy")
PROXY_INFO = entity_pb2.ProxyInfo(protocol_major_version=wire.PROTOCOL_MAJOR, protocol_minor_version=wire.PROTOCOL_MINOR,
                                  proxy_name="polynb-local-proxy", proxy_version="0.1",
                                  supported_entity_types=[wire.EVENT_SOURCED, wire.CRDT])


@dataclass(frozen=True)
class EntityInfo:
    """What discovery told about one entity, resolved against the spec's descriptors."""

    spec: entity_pb2.Entity
    methods: Mapping[str, tuple[type[Message], type[Message], bool]]  # name -> (input, output class, server streams)
    key_fields: Mapping[str, list[str]]  # input type -> entity key field names


class Discovery:
    """One discovery's result: the pool, the entities and the HTTP routes."""

    def __init__(self, spec: entity_pb2.EntitySpec) -> None:
        files = descriptor_pb2.FileDescriptorSet.FromString(spec.proto)
        self.pool = descriptor_pool.DescriptorPool()
        for proto in with_standard_imports(list(files.file)):
            self.pool.Add(proto)
        messages = {f"{f.package}.{m.name}".lstrip("."): m for f in files.file for m in f.message_type}
        services = {f"{f.package}.{s.name}".lstrip("."): s for f in files.file for s in f.service}
        rule = self._class("google.api.HttpRule")
        self.entities: dict[str, EntityInfo] = {}
        self.routes: list[proxyhttp.Route] = []
        for entity in spec.entities:
            if entity.service_name not in services:
                raise ValueError(f"the spec's descriptors hold no service {entity.service_name!r}")
            service = services[entity.service_name]
            methods, keys = {}, {}
            for method in service.method:
                input_name, output_name = method.input_type.lstrip("."), method.output_type.lstrip(".")
                methods[method.name] = (self._class(input_name), self._class(output_name), method.server_streaming)
                keys[input_name] = proxyhttp.entity_key_fields(messages[input_name]) if input_name in messages else []
                self.routes += proxyhttp.routes_of(entity.service_name, method, rule)
            self.entities[entity.service_name] = EntityInfo(entity, methods, keys)

    def _class(self, name: str):
        try:
            return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(name))
        except KeyError:
            return None


def with_standard_imports(files: list) -> list:
    """The spec's files in dependency order, with the standard files they import but were not sent (the
    official 0.1.1 library sends its files unordered and leaves out ``cloudstate/eventing.proto`` and
    ``google/api/httpbody.proto``)."""
    known = {**standard_files(), **{f.name: f for f in files}}
    ordered: dict[str, Any] = {}

    def visit(name: str) -> None:
        if name in ordered or name not in known:
            return
        for dependency in known[name].dependency:
            visit(dependency)
        ordered[name] = known[name]

    for proto in files:
        visit(proto.name)
    return list(ordered.values())


class Proxy:
    """The proxy's side of the protocol: discovers the user function, routes client calls (gRPC and HTTP/JSON)
    to its entities, keeps event-sourced entities' journals in the store."""

    def __init__(self, store: EventStore, user_function: str) -> None:
        self.store = store
        self.user_function = user_function
        self.discovery: Discovery | None = None
        self.drivers: dict[tuple[str, str], Driver] = {}
        self._tasks: set[asyncio.Task] = set()

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def start(self, host: str, grpc_port: int, http_port: int) -> tuple[int, int]:
        """Serve gRPC and HTTP on ``host`` (port 0: a free one) and discover in the background; the bound ports."""
        self.channel = grpc.aio.insecure_channel(self.user_function)
        self.server = grpc.aio.server()
        self.server.add_generic_rpc_handlers([_EntityCalls(self)])
        reflection_pb2_grpc.add_ServerReflectionServicer_to_server(_LiveReflection(self), self.server)
        grpc_port = listen_grpc(self.server, "cloudstate", host, grpc_port, "CLOUDSTATE_PROXY_PORT")
        await self.server.start()
        app = tornado.web.Application([(r"/\.polynb/discover", _Rediscover, {"proxy": self}),
                                       (r"/.*", _HttpApi, {"proxy": self})])
        self.http = tornado.httpserver.HTTPServer(app)
        http_port = listen_http(self.http, "cloudstate", host, http_port, "CLOUDSTATE_PROXY_HTTP_PORT")
        self._discovering = asyncio.ensure_future(self.discover_until_answered())
        return grpc_port, http_port

    async def stop(self) -> None:
        self._discovering.cancel()
        for driver in list(self.drivers.values()):
            await driver.close()
        self.http.stop()
        await self.server.stop(grace=1.0)
        await self.channel.close()
        self.store.close()

    # -- discovery -----------------------------------------------------------------------------------------
    async def discover(self) -> Discovery:
        spec = await entity_pb2_grpc.EntityDiscoveryStub(self.channel).discover(PROXY_INFO, timeout=30)
        discovery = Discovery(spec)
        self.discovery = discovery
        log.info("discovered %s", ", ".join(discovery.entities) or "no entities")
        return discovery

    async def discover_until_answered(self) -> None:
        """As the real proxy does: retry until the user function answers."""
        backoff = Backoff(first=0.25, cap=5.0)
        while self.discovery is None:
            try:
                await self.discover()
            except (grpc.RpcError, ValueError) as exc:
                log.info("user function at %s not ready: %s", self.user_function, exc)
                await backoff.wait()

    # -- calls ---------------------------------------------------------------------------------------------
    def method(self, service: str, method: str) -> tuple[EntityInfo, tuple[type[Message], type[Message], bool]] | None:
        info = self.discovery.entities.get(service) if self.discovery else None
        if info is None or method not in info.methods:
            return None
        return info, info.methods[method]

    def serving(self, service: str, method: str) -> tuple[EntityInfo, tuple[type[Message], type[Message], bool]]:
        """:meth:`method`, for a call that must be served: an unknown method is the client's UNIMPLEMENTED."""
        found = self.method(service, method)
        if found is None:
            raise CommandError(f"no entity serves {service}/{method}", grpc.StatusCode.UNIMPLEMENTED)
        return found

    async def invoke(self, service: str, method: str, payload: any_pb2.Any) -> any_pb2.Any:
        """One client call: route to the entity, answer its reply, run its forward and side effects."""
        info, (input_class, _, streaming) = self.serving(service, method)
        if streaming:
            raise CommandError(f"{service}/{method} streams its replies: call it as a stream",
                               grpc.StatusCode.FAILED_PRECONDITION)
        driver = self._driver(info, self._entity_id(info, input_class, payload))
        action, effects = await driver.command(method, payload)
        await self._side_effects(effects)
        return await self._answer(action)

    async def invoke_stream(self, service: str, method: str,
                            payload: any_pb2.Any) -> AsyncGenerator[any_pb2.Any, None]:
        """A server-streaming call on a CRDT entity: its first reply, then each streamed message."""
        info, (input_class, _, _) = self.serving(service, method)
        driver = self._driver(info, self._entity_id(info, input_class, payload))
        if not isinstance(driver, CrdtDriver):
            raise CommandError(f"{service} is not a CRDT entity; only CRDT entities stream",
                               grpc.StatusCode.UNIMPLEMENTED)
        async with contextlib.aclosing(driver.stream(method, payload)) as messages:
            async for action, effects, _ in messages:
                await self._side_effects(effects)
                if action.WhichOneof("action") is not None:
                    yield await self._answer(action)

    async def _side_effects(self, effects: list) -> None:
        for effect in effects:
            call = self.invoke(effect.service_name, effect.command_name, effect.payload)
            if effect.synchronous:
                await call
            else:
                self._background(call)

    async def _answer(self, action: entity_pb2.ClientAction) -> any_pb2.Any:
        which = action.WhichOneof("action")
        if which == "forward":
            return await self.invoke(action.forward.service_name, action.forward.command_name, action.forward.payload)
        if which == "failure":
            raise CommandError(action.failure.description)
        return action.reply.payload

    def _entity_id(self, info: EntityInfo, input_class: type[Message], payload: any_pb2.Any) -> str:
        fields = info.key_fields.get(input_class.DESCRIPTOR.full_name) or []
        if not fields:
            raise CommandError(f"{input_class.DESCRIPTOR.full_name} has no (cloudstate.entity_key) field",
                               grpc.StatusCode.INVALID_ARGUMENT)
        message = input_class.FromString(payload.value)
        return ":".join(str(getattr(message, name)) for name in fields)

    def _driver(self, info: EntityInfo, entity_id: str) -> Driver:
        key = (info.spec.service_name, entity_id)
        if key not in self.drivers:
            kind = EventSourcedDriver if info.spec.entity_type == wire.EVENT_SOURCED else CrdtDriver
            self.drivers[key] = kind(self.channel, info.spec, entity_id, self.store,
                                     on_closed=lambda: self.drivers.pop(key, None))
        return self.drivers[key]

    def _background(self, call) -> None:
        task = asyncio.ensure_future(call)
        self._tasks.add(task)
        task.add_done_callback(self._side_effect_done)

    def _side_effect_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("side effect failed: %s", task.exception())


class _EntityCalls(grpc.GenericRpcHandler):
    """Every entity method, looked up per call so that re-discovery takes effect at once."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    def service(self, details):
        service, _, method = details.method.lstrip("/").rpartition("/")
        found = self.proxy.method(service, method)
        if found is None:
            return None
        input_class, _, streaming = found[1]

        async def call(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            payload = any_pb2.Any(type_url=wire.MESSAGE_PREFIX + input_class.DESCRIPTOR.full_name, value=request)
            try:
                return (await self.proxy.invoke(service, method, payload)).value
            except CommandError as exc:
                await context.abort(exc.code, exc.description)

        async def streamed(request: bytes, context):
            payload = any_pb2.Any(type_url=wire.MESSAGE_PREFIX + input_class.DESCRIPTOR.full_name, value=request)
            try:
                async with contextlib.aclosing(self.proxy.invoke_stream(service, method, payload)) as replies:
                    async for reply in replies:
                        yield reply.value
            except CommandError as exc:
                await context.abort(exc.code, exc.description)

        if streaming:
            return grpc.unary_stream_rpc_method_handler(streamed, request_deserializer=None, response_serializer=None)
        return grpc.unary_unary_rpc_method_handler(call, request_deserializer=None, response_serializer=None)


class _LiveReflection(ReflectionServicer):
    """Server reflection over whatever was discovered last."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    @property
    def _service_names(self) -> tuple[str, ...]:
        entities = self.proxy.discovery.entities if self.proxy.discovery else {}
        return (reflection.SERVICE_NAME, *sorted(entities))

    @property
    def _pool(self):
        return self.proxy.discovery.pool if self.proxy.discovery else descriptor_pool.DescriptorPool()


#: Akka HTTP's default ``max-content-length`` (8m), which the real proxy keeps
BODY_LIMIT = 8 * 1024 * 1024


class _ProxyHandler(JsonHandler):
    """The proxy's own answers are ``{"error": ...}`` JSON; a failed command is its description as text."""

    body_limit = BODY_LIMIT

    def initialize(self, proxy: Proxy) -> None:
        self.proxy = proxy


class _Rediscover(_ProxyHandler):
    async def post(self) -> None:
        try:
            discovery = await self.proxy.discover()
        except (grpc.RpcError, ValueError) as exc:
            self.set_status(502)
            self.write({"error": f"discovery failed: {exc}"})
            return
        self.write({"entities": sorted(discovery.entities)})


class _HttpApi(_ProxyHandler):
    """The entities' HTTP/JSON API: a rule's route, or ``POST /<service>/<method>``."""

    async def _serve(self) -> None:
        routes = self.proxy.discovery.routes if self.proxy.discovery else []
        verb = self.request.method.lower()
        for route in routes:
            match = route.pattern.match(self.request.path)
            if match and route.verb == verb:
                await self._call(route, match)
                return
        self.set_status(404)
        self.write({"error": f"no entity method answers {self.request.method} {self.request.path}"})

    async def _call(self, route: proxyhttp.Route, match) -> None:
        input_class, output_class, _ = self.proxy.serving(route.service, route.method)[1]
        try:
            body = self.json_body(proxyhttp.body_type(route)) if route.body and self.body.strip() else None
            request = proxyhttp.request_message(route, match, body, self.request.query_arguments, input_class)
        except ValueError as exc:  # a refused body too: the same 400 (413 for one too large)
            status = exc.status if isinstance(exc, BodyRefused) else 400
            return self.answer_error(status, f"bad request for {route.service}/{route.method}: {exc}", exc)
        try:
            reply = await self.proxy.invoke(route.service, route.method, wire.pack(request))
        except CommandError as exc:
            self.set_status(500)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.write(exc.description)
            return
        self.set_header("Content-Type", "application/json")
        self.write(proxyhttp.response_json(route, output_class.FromString(reply.value)))

    get = post = put = delete = patch = _serve
