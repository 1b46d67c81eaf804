"""The AIO binding: one NATS connection for the kernel, one :class:`Node` per ``%%aio_node`` process.

With no NATS URL configured it starts ``polynb up aio`` and plays the KAI managers for the notebook's nodes;
with one (setting ``nats_url``, or an SDK ``app.yaml``) it joins that NATS as a KAI deployment would.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.js.errors import NoStreamResponseError

from ... import progress
from ...calls import CallTimeout, call_timeout
from ...execution import UNAVAILABLE, Arrival, Host
from ...local import LocalStandIn, start_local
from ...payload import PayloadVersion
from ...runner import call_payload
from ..base import READY, Binding
from . import appconfig, handlers, managers, wire
from .appconfig import NodeSpec
from .context import NodeContext
from .node import PLATFORM, Delivery, Node
from .settings import AioSettings

log = logging.getLogger("polynb.aio")
RECONNECTING = "reconnecting"
STATUS_INTERVAL = 1.0


class RequestFailed(RuntimeError):
    """The workflow answered a request with a KAI ERROR message."""


class PublishFailed(RuntimeError):
    """NATS refused a message (no stream captures its subject)."""


class TriggerHandle:
    """What the SDK passes a trigger's ``runner`` as its first argument."""

    def __init__(self, node: Node) -> None:
        self._node = node

    async def get_response_channel(self, request_id: str) -> Any:
        """The exit node's answer as the SDK gives it: the payload ``Any`` (empty for an ERROR message), or None
        when the node stops first."""
        answer = await asyncio.wrap_future(self._node.response_channel(request_id))
        return None if answer is None else answer.payload


class RunnerThread:
    """A trigger's long-running ``runner(trigger, sdk)`` on a thread and event loop of its own."""

    def __init__(self, node: Node, runner: Callable) -> None:
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Future | None = None
        self._thread = threading.Thread(target=self._run, args=(node, runner), daemon=True,
                                        name=f"polynb-aio-{node.spec.process}")
        self._thread.start()

    def _run(self, node: Node, runner: Callable) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            if asyncio.iscoroutinefunction(runner):
                self._task = self._loop.create_task(runner(TriggerHandle(node), NodeContext(node)))
                self._loop.run_until_complete(self._task)
            else:
                call_payload(runner, TriggerHandle(node), NodeContext(node))
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("aio: the runner of trigger %s failed", node.spec.process)
        finally:
            self._loop.close()

    def cancel(self) -> None:
        try:
            if self._task is not None:
                self._loop.call_soon_threadsafe(self._task.cancel)
        except RuntimeError:  # the runner had already returned and its loop is closed
            pass


class AioBinding(Binding[Delivery]):
    """polynb as KAI Python SDK nodes (fact sheet ``aio.md``); an execution's context is its NATS delivery."""

    settings: AioSettings

    needs_entry = False

    def __init__(self, service: Host, settings: AioSettings) -> None:
        super().__init__(service, settings)
        self.url: str | None = None
        self._client: Client | None = None
        self.local: LocalStandIn | None = None
        self.nodes: dict[str, Node] = {}
        self.runners: dict[str, RunnerThread] = {}
        self.versions: dict[str, PayloadVersion] = {}  # the latest registered per node, whose finalizer runs at stop
        self._status_task: asyncio.Task | None = None

    @property
    def client(self) -> Client:
        """The NATS connection that ``start`` made, which every node of this kernel shares."""
        if self._client is None:
            raise RuntimeError("the AIO binding is not started")
        return self._client

    # -- connection ------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.app_config = appconfig.read_app_config()
        standin = self.settings.standin_url
        self.url = self.settings.nats_url or appconfig.lookup(self.app_config, "nats.url") or standin
        self.config_dir: Path | None = None  # where app.yaml files go when the NATS is polynb's stand-in
        if not self.url:
            self.local = await start_local(PLATFORM)
            self.url = self.local.info["url"]
            self.config_dir = Path(self.local.info["config_dir"])
        elif self.url == standin and self.settings.standin_config_dir:
            self.config_dir = Path(self.settings.standin_config_dir)
        own = self.local is not None or self.url == standin
        self.manage = self.settings.manage if self.settings.manage is not None else own
        self._client = await self._connect(self.url)
        self.js = self._client.jetstream()
        self.set_status(READY, self.url)
        self._status_task = asyncio.ensure_future(self._follow_consumers())

    async def _connect(self, url: str) -> Client:
        """Connect, reconnecting forever once connected, but give up on a first connection after call_timeout.
        A cluster's comma-separated URLs are all handed to the client, which fails over along them."""
        timeout = call_timeout()
        progress.report(f"connecting to NATS at {url}")
        try:
            return await asyncio.wait_for(nats.connect(
                appconfig.nats_servers(url), max_reconnect_attempts=-1, reconnect_time_wait=0.5, name="polynb-aio",
                disconnected_cb=self._disconnected, reconnected_cb=self._reconnected, error_cb=self._error), timeout)
        except asyncio.TimeoutError:
            raise CallTimeout("AIO", f"connecting to NATS at {url}", timeout,
                              "check KAI_NATS_URL (or app.yaml's nats.url) and that nats-server runs there") from None

    async def _disconnected(self) -> None:
        if self.status.state == READY:
            self.set_status(RECONNECTING, self.url, f"lost the connection to {self.url}; reconnecting")

    async def _reconnected(self) -> None:
        self.set_status(READY, self.url)

    async def _error(self, exc: Exception) -> None:
        log.debug("aio: NATS reports %s", exc)

    async def _follow_consumers(self) -> None:
        """Keep the status detail on the nodes' consumer state (pending, ack pending, redelivered)."""
        while True:
            await asyncio.sleep(STATUS_INTERVAL)
            if self.status.state != READY:
                continue
            detail = "; ".join(filter(None, [await node.consumer_state() for node in list(self.nodes.values())]))
            if detail:
                self.set_status(READY, self.url, detail)

    async def stop(self) -> None:
        if self._status_task is not None:
            self._status_task.cancel()
        for name in list(self.nodes):
            await self._stop_node(name)
        if self._client is not None and not self._client.is_closed:
            await self._client.close()  # the nodes have unsubscribed and settled: nothing is left to drain
        if self.local is not None:
            await self.local.stop()
            self.local = None

    # -- nodes -----------------------------------------------------------------------------------------
    def spec_for(self, version: PayloadVersion) -> NodeSpec:
        """From the SDK's app.yaml when it describes this process (the cell's options fill only what it lacks),
        else from the settings and the cell's options."""
        options = version.payload.options
        subscribe = tuple(options.get("subscribe") or ())
        if appconfig.lookup(self.app_config, "metadata.process_name") == version.name:
            spec = appconfig.spec_from_app_config(self.app_config, self.settings.ack_wait, subscribe)
        else:
            settings = self.settings
            placement = appconfig.Placement(settings.product, settings.version, settings.workflow,
                                            settings.workflow_type, settings.object_store, settings.ack_wait)
            spec = appconfig.derive_spec(placement, version.name, options.get("runner") or "task",
                                         options.get("workflow"), subscribe, self.url)
        if spec.runner != "trigger" and not spec.inputs:
            raise ValueError(f"a {spec.runner} node needs --subscribe PROCESS ... (or an app.yaml at "
                             f"KAI_APP_CONFIG_PATH whose nats.inputs name them)")
        return spec

    async def register(self, version: PayloadVersion) -> str:
        spec = self.spec_for(version)
        problem = handlers.missing_handler(version, spec.runner)
        if problem:
            raise ValueError(problem)
        current = self.nodes.get(version.name)
        if current is not None and current.spec == spec:
            self.versions[version.name] = version  # the same node: new messages get the new version's handlers
            self._start_runner(current, version)
            return _address(spec)
        if current is not None:
            await self._stop_node(version.name)
        if self.manage:
            await managers.apply_node(self.js, spec, self.settings.replicas)
            if self.config_dir is not None:
                managers.write_app_config(self.config_dir, spec)
        node = Node(self.service, self.client, spec, self._run_hook, concurrency=max(1, self.settings.concurrency),
                    log_to_stdout=self.settings.log_to_stdout)
        await node.open()
        await node.run_user(handlers.lifecycle_function(version, "initializer"), "initializer")
        await node.subscribe()
        self.nodes[version.name] = node
        self.versions[version.name] = version
        self._start_runner(node, version)
        return _address(spec)

    def _start_runner(self, node: Node, version: PayloadVersion) -> None:
        """(Re)start a trigger's runner with the cell's current one; the previous one is cancelled."""
        previous = self.runners.pop(version.name, None)
        if previous is not None:
            previous.cancel()
        runner = handlers.lifecycle_function(version, "runner")
        if node.spec.runner == "trigger" and runner is not None:
            self.runners[version.name] = RunnerThread(node, runner)

    async def _run_hook(self, process: str, stage: str, call: Callable[[], Any]) -> None:
        """Initializer and finalizer run like executions: journaled, output captured, on a worker thread."""
        outcome = await self.service.execute(Arrival(PLATFORM, process, {"stage": stage}, meta={"stage": stage},
                                                     code=functools.partial(call_payload, call)))
        if outcome.error_type == UNAVAILABLE:  # the kernel is stopping: the finalizer still runs, unjournaled
            await asyncio.to_thread(call_payload, call)
        elif not outcome.ok:
            raise RuntimeError(f"the {stage} failed: {outcome.error}")

    async def _stop_node(self, name: str) -> None:
        node = self.nodes.pop(name)
        runner = self.runners.pop(name, None)
        if runner is not None:
            runner.cancel()
        await node.close(tidy=self.manage)
        try:
            await node.run_user(handlers.lifecycle_function(self.versions.pop(name), "finalizer"), "finalizer")
        except RuntimeError as exc:
            log.warning("aio: %s", exc)

    async def unregister(self, name: str) -> None:
        if name in self.nodes:
            await self._stop_node(name)

    def run_payload(self, version: PayloadVersion, input: Any, context: Delivery | None) -> Any:
        if context is None:
            raise RuntimeError("an AIO execution needs its NATS message: publish it again (%aio_publish) to rerun it")
        try:
            handlers.handle(version, context.message, context.node.spec.process, context.sdk)
        except handlers.HandlerFailure as exc:
            context.failure = str(exc)
            raise
        return [{"subject": subject, **wire.describe(sent)} for sent, subject in context.sdk.messaging.outputs] or None

    # -- requests from the notebook --------------------------------------------------------------------
    def trigger_of(self, workflow: str | None) -> Node:
        workflow = workflow or self.settings.workflow
        for node in self.nodes.values():
            if node.spec.runner == "trigger" and node.spec.workflow == workflow:
                return node
        raise LookupError(f"no trigger node of workflow {workflow!r} runs in this kernel: "
                          f"define one with %%aio_node NAME --runner trigger --workflow {workflow}")

    async def request(self, workflow: str | None, value: Any, timeout: float) -> Any:
        """Send ``value`` through the workflow's trigger and return the exit node's answer."""
        node = self.trigger_of(workflow)
        request_id = wire.new_request_id()
        future = node.response_channel(request_id)

        async def exchange() -> wire.KaiNatsMessage | None:
            await node.publish(wire.ok_message(request_id, wire.pack(value), node.spec.process))
            return await asyncio.wrap_future(future)

        try:
            answer = await asyncio.wait_for(exchange(), timeout)
        except asyncio.TimeoutError:
            raise CallTimeout("AIO", f"request {request_id} through workflow {node.spec.workflow}", timeout,
                              f"check that a chain of nodes from trigger {node.spec.process} reaches an exit node "
                              f"it subscribes to ({', '.join(node.spec.inputs)}) and that they run") from None
        finally:
            node.forget(request_id)
        if answer is None:
            raise RuntimeError(f"trigger {node.spec.process} stopped before request {request_id} was answered")
        if answer.message_type == wire.ERROR:
            raise RequestFailed(f"request {request_id} failed in node {answer.from_node}: {answer.error}")
        return wire.unpack(answer.payload)

    async def publish_raw(self, subject: str, data: bytes, timeout: float) -> None:
        """A JetStream publish; no PubAck means no stream captures the subject (or NATS is away)."""
        try:
            await self.js.publish(subject, data, timeout=timeout)
        except NoStreamResponseError:
            raise PublishFailed(f"AIO: no stream captures {subject}, so NATS refused the message: publish to a "
                                "node's subject, <stream>.<process> (the cell's status line shows it)") from None
        except nats.errors.TimeoutError:
            raise CallTimeout("AIO", f"publishing to {subject}", timeout,
                              f"NATS at {self.url} gave no PubAck; check that it runs with JetStream") from None


def _address(spec: NodeSpec) -> str:
    inputs = ", ".join(spec.inputs) or "requests"
    return f"{inputs} → {spec.output}"
