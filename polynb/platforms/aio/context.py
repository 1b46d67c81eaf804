"""The ``sdk`` object a handler receives: the real SDK's context API (fact sheet 5) over polynb's NATS connection.

Handlers run on worker threads; NATS lives on the service loop. Every SDK call schedules its work on that loop at
once and returns a :class:`Pending`, which an async handler awaits and a sync handler may ignore (sends) or read
with ``.result()``. The node waits for every send of a message before it acks the message.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import logging
import re
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from google.protobuf import any_pb2
from nats.js.errors import KeyNotFoundError, NotFoundError, ObjectNotFoundError

from . import wire
from .appconfig import NodeSpec

if TYPE_CHECKING:
    from .node import Node


class NotConfiguredError(RuntimeError):
    """An SDK service whose backend (MinIO, Keycloak, Redis, OTLP, object store) this node was not given."""


class Scope(str, enum.Enum):
    ProcessScope = "process"
    WorkflowScope = "workflow"
    ProductScope = "product"
    GlobalScope = "global"


class Pending:
    """Work already scheduled on the service loop: await it, or call ``result()`` from sync code."""

    def __init__(self, coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop) -> None:
        self.future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(coro, loop)

    def __await__(self):
        return asyncio.wrap_future(self.future).__await__()

    def result(self, timeout: float | None = 60) -> Any:
        return self.future.result(timeout)


class Metadata:
    def __init__(self, spec: NodeSpec) -> None:
        self._spec = spec

    def get_product(self) -> str: return self._spec.product
    def get_version(self) -> str: return self._spec.version
    def get_workflow(self) -> str: return self._spec.workflow
    def get_workflow_type(self) -> str: return self._spec.workflow_type
    def get_process(self) -> str: return self._spec.process
    def get_process_type(self) -> str: return self._spec.runner
    def get_ephemeral_storage_name(self) -> str | None: return self._spec.object_store
    def get_global_centralized_configuration_name(self) -> str: return self._spec.buckets["global"]
    def get_product_centralized_configuration_name(self) -> str: return self._spec.buckets["product"]
    def get_workflow_centralized_configuration_name(self) -> str: return self._spec.buckets["workflow"]
    def get_process_centralized_configuration_name(self) -> str: return self._spec.buckets["process"]


class Messaging:
    """Sends on the node's output subject, with the current request's id unless told otherwise."""

    def __init__(self, node: Node, request: wire.KaiNatsMessage | None) -> None:
        self._node, self._request = node, request
        self.sent: list[Pending] = []
        self.outputs: list[tuple[wire.KaiNatsMessage, str]] = []  # what was sent, and where, for the journal

    def _current_id(self) -> str:
        return self._request.request_id if self._request is not None and self._request.request_id else wire.new_request_id()

    def _send(self, msg: wire.KaiNatsMessage, chan: str | None) -> Pending:
        self.outputs.append((msg, self._node.subject_for(chan)))
        pending = Pending(self._node.publish(msg, chan), self._node.loop)
        self.sent.append(pending)
        return pending

    def send_output(self, response: Any, chan: str | None = None) -> Pending:
        return self.send_output_with_request_id(response, self._current_id(), chan)

    def send_output_with_request_id(self, response: Any, request_id: str, chan: str | None = None) -> Pending:
        return self._send(wire.ok_message(request_id, wire.pack(response), self._node.spec.process), chan)

    def send_any(self, response: any_pb2.Any, chan: str | None = None) -> Pending:
        return self.send_any_with_request_id(response, self._current_id(), chan)

    def send_any_with_request_id(self, response: any_pb2.Any, request_id: str, chan: str | None = None) -> Pending:
        return self._send(wire.ok_message(request_id, response, self._node.spec.process), chan)

    def send_error(self, error: str, chan: str | None = None) -> Pending:
        return self._send(wire.error_message(self._current_id(), error, self._node.spec.process), chan)

    def get_error_message(self) -> str:
        return self._request.error if self._request is not None and self.is_message_error() else ""

    def is_message_ok(self) -> bool:
        return self._request is not None and self._request.message_type == wire.OK

    def is_message_error(self) -> bool:
        return self._request is not None and self._request.message_type == wire.ERROR

    def get_request_id(self, nats_msg: Any) -> tuple[str, Exception | None]:
        """The request id of a raw NATS message (or its bytes), and the parse error if any."""
        try:
            return wire.decode(getattr(nats_msg, "data", nats_msg)).request_id, None
        except wire.WireError as exc:
            return "", exc


class CentralizedConfig:
    """The four KV scopes; a lookup without scope goes process, workflow, product, global."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def _bucket(self, scope: Scope | str | None):
        return self._node.kv[Scope(scope or Scope.ProcessScope).value]

    def get_config(self, key: str, scope: Scope | str | None = None) -> Pending:
        async def lookup() -> tuple[str | None, bool]:
            for name in ([Scope(scope).value] if scope else [s.value for s in Scope]):
                try:
                    entry = await self._node.kv[name].get(key)
                except KeyNotFoundError:
                    continue
                return entry.value.decode("utf-8"), True
            return None, False
        return Pending(lookup(), self._node.loop)

    def set_config(self, key: str, value: bytes | str, scope: Scope | str | None = None) -> Pending:
        data = value.encode() if isinstance(value, str) else value
        return Pending(self._bucket(scope).put(key, data), self._node.loop)

    def delete_config(self, key: str, scope: Scope | str | None = None) -> Pending:
        async def delete() -> bool:
            return await self._bucket(scope).delete(key)
        return Pending(delete(), self._node.loop)


class EphemeralStorage:
    """The workflow's NATS object store (``nats.object_store``)."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def _store(self):
        if self._node.object_store is None:
            name = self._node.spec.object_store
            raise NotConfiguredError(f"ephemeral storage is not available: object store {name!r} does not exist" if name
                                     else "ephemeral storage is not configured: set nats.object_store "
                                          "(or the polynb setting aio.object_store)")
        return self._node.object_store

    def _run(self, coro: Coroutine) -> Pending:
        return Pending(coro, self._node.loop)

    def list(self, regexp: str | None = None) -> Pending:
        store = self._store()

        async def names() -> list[str]:
            try:
                infos = await store.list()
            except NotFoundError:
                return []
            pattern = re.compile(regexp) if regexp else None
            return [i.name for i in infos if not i.deleted and (pattern is None or pattern.search(i.name))]
        return self._run(names())

    def get(self, key: str) -> Pending:
        store = self._store()

        async def fetch() -> tuple[bytes | None, bool]:
            try:
                return (await store.get(key)).data, True
            except (ObjectNotFoundError, NotFoundError):
                return None, False
        return self._run(fetch())

    def save(self, key: str, payload: bytes, overwrite: bool = False) -> Pending:
        store = self._store()

        async def put() -> None:
            if not overwrite:
                try:
                    await store.get_info(key)
                except (ObjectNotFoundError, NotFoundError):
                    pass
                else:
                    raise FileExistsError(f"ephemeral storage already holds {key!r}; pass overwrite=True")
            await store.put(key, payload)
        return self._run(put())

    def delete(self, key: str) -> Pending:
        store = self._store()

        async def remove() -> bool:
            try:
                await store.delete(key)
                return True
            except (ObjectNotFoundError, NotFoundError):
                return False
        return self._run(remove())

    def purge(self, regexp: str | None = None) -> Pending:
        store = self._store()

        async def purge_all() -> None:
            for name in await self.list(regexp):
                await store.delete(name)
        return self._run(purge_all())


class NotConfigured:
    """Stands for a backend polynb does not set up; any use raises a clear error, the node still runs."""

    def __init__(self, what: str, needs: str) -> None:
        self._what, self._needs = what, needs

    def __getattr__(self, name: str) -> Any:
        raise NotConfiguredError(f"{self._what} is not configured: it needs {self._needs}, which polynb does not "
                                 f"set up (sdk.{self._what.replace(' ', '_')}.{name})")


class Storage:
    def __init__(self, node: Node) -> None:
        self.ephemeral = EphemeralStorage(node)
        self.persistent = NotConfigured("persistent storage", "MinIO and Keycloak")


def node_logger(process: str) -> logging.Logger:
    """``sdk.logger``'s logger: INFO and up, as the SDK's default ``runner.logger.level``, unless set otherwise."""
    logger = logging.getLogger(f"polynb.aio.{process}")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


class NodeContext:
    """The KaiSDK object of one message (or of the initializer, finalizer and trigger runner: no message)."""

    def __init__(self, node: Node, request: wire.KaiNatsMessage | None = None) -> None:
        self.request_msg = request
        self.metadata = Metadata(node.spec)
        self.messaging = Messaging(node, request)
        self.centralized_config = CentralizedConfig(node)
        self.storage = Storage(node)
        self.model_registry = NotConfigured("model registry", "MinIO and Keycloak")
        self.predictions = NotConfigured("predictions", "Redis with RedisJSON and RediSearch")
        self.measurements = NotConfigured("measurements", "an OpenTelemetry collector")
        extra = {"request_id": request.request_id if request is not None else "", "process_name": node.spec.process}
        self.logger = logging.LoggerAdapter(node_logger(node.spec.process), extra)

    def get_request_id(self) -> str | None:
        return self.request_msg.request_id if self.request_msg is not None else None
