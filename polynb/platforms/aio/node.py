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
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError, BucketNotFoundError, NotFoundError
from nats.js.object_store import ObjectStore

from ...execution import Arrival, Host
from . import names, wire
from .appconfig import NodeSpec
from .context import NodeContext
from .handlers import HandlerFailure
from .nodelog import handler_lines

log = logging.getLogger("polynb.aio")
PLATFORM = "aio"
UNCLAIMED_REPLIES = 1000
LIVE_TIMEOUT = 10.0  # seconds a new subscription may take to show as bound on the server


class MissingSetup(LookupError):
    """What the KAI managers create before a node starts (stream, KV bucket) is not on this NATS."""

    def __init__(self, what: str, process: str) -> None:
        super().__init__(
            f"AIO: {what} does not exist on this NATS, so node {process} cannot start. A KAI installation's "
            "managers create it when the product version is deployed: check that KAI_PRODUCT_ID, KAI_VERSION_TAG "
            "and the workflow (or the app.yaml at KAI_APP_CONFIG_PATH) name a deployed version. On a NATS of your "
            "own, create it, set POLYNB_AIO_MANAGE=1 so that polynb creates the stream, buckets and object store, "
            "or leave KAI_NATS_URL unset so that polynb runs its own (polynb up aio).")


class Delivery:
    """The context the service hands to ``run_payload`` for one message: the parsed message and the node."""

    def __init__(self, node: Node, message: wire.KaiNatsMessage, subject: str) -> None:
        self.node, self.message, self.subject = node, message, subject
        self.sdk = NodeContext(node, message)
        self.failure: str | None = None  # the SDK's error text, set by the stage that raised


class Node:
    """A running node; the binding creates one per ``%%aio_node`` process and swaps its payload version freely."""

    def __init__(self, service: Host, client: Client, spec: NodeSpec,
                 run_hook: Callable[[str, str, Callable[[], Any]], Awaitable[Any]], concurrency: int,
                 log_to_stdout: bool = True) -> None:
        self.service, self.client, self.spec = service, client, spec
        self.log_to_stdout = log_to_stdout  # a handler's lines also as the node's JSON log on stdout, as KAI's
        self._slots = asyncio.Semaphore(concurrency)  # deliveries that run at once; the others wait, kept alive
        self._deliveries: set[asyncio.Future] = set()
        self.js = client.jetstream()
        self.loop = service.loop
        self._run_hook = run_hook  # runs initializer / finalizer user code, journaled
        self.kv: dict[str, Any] = {}
        self.object_store: ObjectStore | None = None
        self.subscriptions: list = []
        self.current_request_id = ""  # the SDK publishes parse errors with the previous message's id
        self._responses: dict[str, concurrent.futures.Future] = {}
        self._unclaimed: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._replies_lock = threading.Lock()  # trigger runners ask from their own threads

    # -- lifecycle ---------------------------------------------------------------------------------
    async def open(self) -> None:
        """The SDK's initialize(): KV buckets, the object store, and the process configuration written to KV."""
        for scope, bucket in self.spec.buckets.items():
            try:
                self.kv[scope] = await self.js.key_value(bucket)
            except BucketNotFoundError:
                raise MissingSetup(f"the KV bucket {bucket} ({scope} configuration; nats kv add {bucket})",
                                   self.spec.process) from None
        if self.spec.object_store:
            try:
                self.object_store = await self.js.object_store(self.spec.object_store)
            except BucketNotFoundError:  # the SDK aborts; a notebook node runs on, without ephemeral storage
                log.warning("aio: %s has no object store %s: sdk.storage.ephemeral is unavailable",
                            self.spec.process, self.spec.object_store)
        for key, value in self.spec.process_config.items():
            await self.kv["process"].put(key, value.encode())

    async def subscribe(self) -> None:
        """One consumer per input subject; returns once the server delivers to every one of them."""
        for subject in self.spec.inputs:
            if self.spec.runner == "trigger":
                durable, queue, callback = names.trigger_durable(subject, self.spec.process), None, self._on_reply
            else:
                durable = names.durable(subject, self.spec.process)
                queue, callback = durable, self._on_message
            self.subscriptions.append(await self._consume(subject, durable, queue, callback))
        await self.client.flush()
        await self._until_bound()

    async def _consume(self, subject: str, durable: str, queue: str | None, callback: Callable) -> Any:
        config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW, ack_policy=AckPolicy.EXPLICIT,
                                ack_wait=self.spec.ack_wait, max_deliver=-1, filter_subject=subject)
        try:
            return await self.js.subscribe(subject, queue=queue, durable=durable, cb=callback, manual_ack=True,
                                           config=config)
        except NotFoundError:
            raise MissingSetup(f"a stream that captures {subject} (the workflow's stream {self.spec.stream})",
                               self.spec.process) from None
        except APIError:
            # a replica starting at the same moment created the durable first (with its own deliver subject):
            # join it, as a replica that starts later does
            return await self.js.subscribe(subject, queue=queue, durable=durable, cb=callback, manual_ack=True,
                                           config=config)

    async def _until_bound(self) -> None:
        """Wait until the server shows each consumer bound to a subscriber, so a serving line is true."""
        deadline = self.loop.time() + LIVE_TIMEOUT
        for subscription in self.subscriptions:
            while not (await subscription.consumer_info()).push_bound:
                if self.loop.time() > deadline:
                    raise RuntimeError(f"AIO: the consumers of node {self.spec.process} did not become active "
                                       f"within {LIVE_TIMEOUT:g} s")
                await asyncio.sleep(0.05)

    async def close(self, tidy: bool = False) -> None:
        """Stop consuming and wake every waiting request with None. The durables stay, as with the SDK, except a
        trigger's with ``tidy`` (polynb's own NATS): nobody binds a per-start durable again, and left behind it would
        keep every exit answer in the Interest-retention stream for good."""
        for subscription in self.subscriptions:
            try:
                name = (await subscription.consumer_info()).name if tidy and self.spec.runner == "trigger" else None
                await subscription.unsubscribe()
                if name is not None:
                    await self.js.delete_consumer(self.spec.stream, name)
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
        """Take each delivery at once: from now until its ack it is acked in progress, while it waits for one of
        the node's ``concurrency`` slots and while it runs, so a backlog longer than the ack wait (a kernel
        restart) is never redelivered behind polynb's back. With one slot (the default, as the SDK) deliveries run
        one at a time in delivery order; with more (``POLYNB_AIO_CONCURRENCY``) side by side, in no order, which
        KAI does not promise within a subject either. The server bounds how many wait (max ack pending)."""
        keep_alive = asyncio.ensure_future(self._in_progress(msg))
        delivery = asyncio.ensure_future(self._take(msg, keep_alive))
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)

    async def _take(self, msg: Msg, keep_alive: asyncio.Future) -> None:
        """One delivery, slot to ack; never raises (a bad message must not stop the subscription)."""
        try:
            async with self._slots:
                await self._handle(msg)
        except Exception as exc:
            log.warning("aio: %s could not finish a message on %s: %s", self.spec.process, msg.subject, exc)
        finally:
            keep_alive.cancel()

    async def _handle(self, msg: Msg) -> None:
        meta = {"subject": msg.subject, "delivered": _delivered(msg)}
        try:
            message = wire.decode(msg.data)
        except wire.WireError as exc:
            text = wire.parse_error_text(msg.subject, str(exc))
            await self.service.refuse(Arrival(PLATFORM, self.spec.process, {"bytes": msg.data[:1024].hex()},
                                              meta=meta), HandlerFailure(text))
            await self.publish(wire.error_message(self.current_request_id, text, self.spec.process))
            await msg.ack()
            return
        self.current_request_id = message.request_id
        delivery = Delivery(self, message, msg.subject)
        outcome = await self.service.execute(Arrival(
            PLATFORM, self.spec.process, wire.describe(message), delivery,
            meta={**meta, "request_id": message.request_id, "from_node": message.from_node,
                  "ack_wait": self.spec.ack_wait},
            log=handler_lines(self.spec.process, message.request_id) if self.log_to_stdout else None))
        sent_ok = await _settle(delivery.sdk.messaging.sent)
        if not outcome.delivered:
            await msg.nak()  # not this replica's to answer: another one (or a restart) takes it
            return
        if not outcome.ok:
            text = delivery.failure or wire.handler_error_text(message.from_node, self.spec.process, outcome.error or "")
            await self.publish(wire.error_message(message.request_id, text, self.spec.process))
        if not sent_ok:
            await msg.nak()  # an output never reached the stream: redeliver rather than lose it
            return
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
