"""One KAI node on NATS JetStream: the side polynb plays (fact sheet 3, 4 and 7).

A task or exit node consumes each input subject through a durable queue group, hands every message to the
service (journal, worker thread, the cell's handlers), publishes what the handlers send on its output subject,
and acks only once every publish has its PubAck. A trigger consumes its exit subjects through a per-start
durable and answers waiting requests by request id.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BucketNotFoundError, NotFoundError

from ...service import NOT_FOUND, UNAVAILABLE
from . import names, wire
from .appconfig import NodeSpec
from .context import NodeContext
from .handlers import HandlerFailure

if TYPE_CHECKING:
    from ...service import Service

log = logging.getLogger("polynb.aio")
PLATFORM = "aio"
UNCLAIMED_REPLIES = 1000


class Delivery:
    """The context the service hands to ``run_payload`` for one message: the parsed message and the node."""

    def __init__(self, node: "Node", message: wire.KaiNatsMessage, subject: str) -> None:
        self.node, self.message, self.subject = node, message, subject
        self.sdk = NodeContext(node, message)
        self.failure: str | None = None  # the SDK's error text, set by the stage that raised


class Node:
    """A running node; the binding creates one per ``%%aio_node`` process and swaps its payload version freely."""

    def __init__(self, service: "Service", client: Client, spec: NodeSpec,
                 run_hook: Callable[[str, str, Callable[[], Any]], Awaitable[Any]]) -> None:
        self.service, self.client, self.spec = service, client, spec
        self.js = client.jetstream()
        self.loop = service.loop
        self._run_hook = run_hook  # runs initializer / finalizer user code, journaled
        self.kv: dict[str, Any] = {}
        self.object_store = None
        self.subscriptions: list = []
        self.current_request_id = ""  # the SDK publishes parse errors with the previous message's id
        self._responses: dict[str, concurrent.futures.Future] = {}
        self._unclaimed: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._replies_lock = threading.Lock()  # trigger runners ask from their own threads

    # -- lifecycle ---------------------------------------------------------------------------------
    async def open(self) -> None:
        """The SDK's initialize(): KV buckets, the object store, and the process configuration written to KV."""
        for scope, bucket in self.spec.buckets.items():
            self.kv[scope] = await self.js.key_value(bucket)
        if self.spec.object_store:
            try:
                self.object_store = await self.js.object_store(self.spec.object_store)
            except BucketNotFoundError:  # the SDK aborts; a notebook node runs on, without ephemeral storage
                log.warning("aio: %s has no object store %s: sdk.storage.ephemeral is unavailable",
                            self.spec.process, self.spec.object_store)
        for key, value in self.spec.process_config.items():
            await self.kv["process"].put(key, value.encode())

    async def subscribe(self) -> None:
        for subject in self.spec.inputs:
            if self.spec.runner == "trigger":
                durable, queue, callback = names.trigger_durable(subject, self.spec.process), None, self._on_reply
            else:
                durable = names.durable(subject, self.spec.process)
                queue, callback = durable, self._on_message
            config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW, ack_policy=AckPolicy.EXPLICIT,
                                    ack_wait=self.spec.ack_wait, max_deliver=-1, filter_subject=subject)
            self.subscriptions.append(await self.js.subscribe(
                subject, queue=queue, durable=durable, cb=callback, manual_ack=True, config=config))

    async def close(self) -> None:
        """Stop consuming (the durables stay, as with the SDK) and wake every waiting request with None."""
        for subscription in self.subscriptions:
            try:
                await subscription.unsubscribe()
            except Exception as exc:  # a dropped connection must not keep the node from closing
                log.debug("aio: unsubscribing failed: %s", exc)
        self.subscriptions.clear()
        with self._replies_lock:
            waiting, self._responses = list(self._responses.values()), {}
        for future in waiting:
            if not future.done():
                future.set_result(None)

    async def run_user(self, function: Callable | None, stage: str) -> None:
        """Run the initializer or finalizer with a message-less sdk, through the journal."""
        if function is not None:
            await self._run_hook(self.spec.process, stage, lambda: function(NodeContext(self)))

    # -- publishing --------------------------------------------------------------------------------
    async def max_size(self) -> int | None:
        """The SDK's size limit, looked up at every publish; None when the stream is missing (output dropped)."""
        try:
            info = await self.js.stream_info(self.spec.stream)
        except NotFoundError:
            return None
        return wire.max_message_size(info.config.max_msg_size, self.client.max_payload)

    def subject_for(self, chan: str | None) -> str:
        return f"{self.spec.output}.{chan}" if chan else self.spec.output

    async def publish(self, message: wire.KaiNatsMessage, chan: str | None = None) -> None:
        """Publish on the output subject (or its channel) and wait for the PubAck; drop what the SDK drops."""
        subject = self.subject_for(chan)
        limit = await self.max_size()
        if limit is None:
            log.warning("aio: %s dropped an output: stream %s does not exist", self.spec.process, self.spec.stream)
            return
        data = wire.encode(message, limit)
        if data is None:
            log.warning("aio: %s dropped an output larger than %d bytes even gzipped", self.spec.process, limit)
            return
        await self.js.publish(subject, data)

    # -- consuming (task, exit) ----------------------------------------------------------------------
    async def _on_message(self, msg: Msg) -> None:
        """One delivery, start to ack; never raises (a bad message must not stop the subscription)."""
        try:
            await self._handle(msg)
        except Exception as exc:
            log.warning("aio: %s could not finish a message on %s: %s", self.spec.process, msg.subject, exc)

    async def _handle(self, msg: Msg) -> None:
        meta = {"subject": msg.subject, "delivered": _delivered(msg)}
        try:
            message = wire.decode(msg.data)
        except wire.WireError as exc:
            text = wire.parse_error_text(msg.subject, str(exc))
            await self.service.execute(PLATFORM, self.spec.process, {"bytes": msg.data[:1024].hex()},
                                       lambda _: _raise(HandlerFailure(text)), meta=meta, needs_payload=False)
            await self.publish(wire.error_message(self.current_request_id, text, self.spec.process))
            await msg.ack()
            return
        self.current_request_id = message.request_id
        delivery = Delivery(self, message, msg.subject)
        keep_alive = asyncio.ensure_future(self._in_progress(msg))
        try:
            outcome = await self.service.execute_payload(
                PLATFORM, self.spec.process, wire.describe(message), delivery,
                meta={**meta, "request_id": message.request_id, "from_node": message.from_node})
            sent_ok = await _settle(delivery.sdk.messaging.sent)
            if outcome.error_type in (UNAVAILABLE, NOT_FOUND):
                await msg.nak()  # not this replica's to answer: another one (or a restart) takes it
                return
            if not outcome.ok:
                text = delivery.failure or wire.handler_error_text(message.from_node, self.spec.process, outcome.error)
                await self.publish(wire.error_message(message.request_id, text, self.spec.process))
            if not sent_ok:
                await msg.nak()  # an output never reached the stream: redeliver rather than lose it
                return
        finally:
            keep_alive.cancel()
        await msg.ack()

    async def _in_progress(self, msg: Msg) -> None:
        """Tell the server a long handler is still working, so a short ack wait only catches dead replicas."""
        interval = max(self.spec.ack_wait / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            try:
                await msg.in_progress()
            except Exception as exc:
                log.debug("aio: in-progress ack failed: %s", exc)

    # -- the trigger's response queues ---------------------------------------------------------------
    def response_channel(self, request_id: str) -> concurrent.futures.Future:
        """A future for the exit node's answer message to ``request_id`` (an early reply is kept for it)."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._replies_lock:
            early = self._unclaimed.pop(request_id, None)
            if early is None:
                self._responses[request_id] = future
        if early is not None:
            future.set_result(early)
        return future

    def forget(self, request_id: str) -> None:
        with self._replies_lock:
            self._responses.pop(request_id, None)

    async def _on_reply(self, msg: Msg) -> None:
        try:
            message = wire.decode(msg.data)
        except wire.WireError as exc:
            log.warning("aio: trigger %s got bytes that are not a KaiNatsMessage on %s: %s",
                        self.spec.process, msg.subject, exc)
        else:
            with self._replies_lock:
                future = self._responses.pop(message.request_id, None)
                if future is None:
                    self._unclaimed[message.request_id] = message
                    while len(self._unclaimed) > UNCLAIMED_REPLIES:
                        self._unclaimed.popitem(last=False)
            if future is not None and not future.done():
                future.set_result(message)
        try:
            await msg.ack()
        except Exception as exc:
            log.debug("aio: ack failed: %s", exc)

    # -- status --------------------------------------------------------------------------------------
    async def consumer_state(self) -> str:
        """Pending, ack pending and redelivered of each consumer, for the status line."""
        parts = []
        for subscription in self.subscriptions:
            try:
                info = await subscription.consumer_info()
            except Exception:
                continue
            parts.append(f"{info.name}: pending {info.num_pending}, ack pending {info.num_ack_pending}, "
                         f"redelivered {info.num_redelivered}")
        return "; ".join(parts)


def _raise(exc: Exception) -> Any:
    raise exc


def _delivered(msg: Msg) -> int | None:
    try:
        return msg.metadata.num_delivered
    except Exception:
        return None


async def _settle(sent: list) -> bool:
    """Wait for every publish a handler started; False when one of them failed."""
    ok = True
    for pending in sent:
        try:
            await asyncio.wrap_future(pending.future)
        except Exception as exc:
            log.warning("aio: publishing an output failed: %s", exc)
            ok = False
    return ok
