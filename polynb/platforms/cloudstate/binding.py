"""The CloudState binding: serves this kernel's entities as a user function and keeps a proxy informed.

With no proxy configured it starts the local proxy (``polynb up cloudstate``) pointed at this kernel,
and asks it to discover again whenever a cell (re)registers an entity. Under ``polynb serve`` discovery
is answered only once the whole notebook has run, since a real proxy discovers once, when it starts.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import grpc
import httpx

from ... import headless
from ...execution import Arrival, Host
from ...local import LocalStandIn, start_local
from ...payload import PayloadVersion
from ...signature import Signature
from ..base import READY, STARTING, Binding
from . import signature as signatures
from . import wire
from .entities import definition_of
from .protolib import LIBRARY, ProtoError
from .settings import CloudStateSettings
from .userfunction import EntityRegistration, Registry, StreamStep, UserFunction, serve

log = logging.getLogger("polynb.cloudstate")
PLATFORM = "cloudstate"
KINDS = {"event_sourced": wire.EVENT_SOURCED, "crdt": wire.CRDT}
#: where a proxy's USER_FUNCTION_PORT looks by default
PROXY_DEFAULT_PORT = 8080
PORT_VARIABLE = "POLYNB_CLOUDSTATE_PORT"
DISCOVERY_TIMEOUT = 60.0


class CloudStateBinding(Binding[StreamStep]):
    """The context of an execution is the entity stream's step, run by ``run_payload`` on a worker thread."""

    settings: CloudStateSettings

    needs_entry = False

    def __init__(self, service: Host, settings: CloudStateSettings) -> None:
        super().__init__(service, settings)
        self.registry = Registry()
        self.local: LocalStandIn | None = None
        self.server: grpc.aio.Server | None = None
        self.address: str | None = None
        self.notebook_ran = asyncio.Event()
        self.user_function = UserFunction(self.registry, self._execute, self._report, ready=self.notebook_ran)

    async def start(self) -> None:
        host = self.settings.host or self.settings.generic_host or self.service.settings.core.bind_host
        self.server, port = await serve(self.user_function, host, self.listen_port(), PORT_VARIABLE)
        self.address = f"{host}:{port}"
        self.proxy_grpc, self.proxy_http = self.settings.proxy, self.settings.proxy_http
        if not self.proxy_grpc:
            self.local = await start_local(PLATFORM, env={
                "USER_FUNCTION_HOST": host, "USER_FUNCTION_PORT": str(port),
                "CLOUDSTATE_PROXY_PORT": "0", "CLOUDSTATE_PROXY_HTTP_PORT": "0",
                "CLOUDSTATE_PROXY_DB": str(self.service.journal.directory / "cloudstate-proxy.sqlite")})
            self.proxy_grpc, self.proxy_http = self.local.info["grpc"], self.local.info["http"]
        self.loop = asyncio.get_running_loop()
        self._show_state()
        headless.after_notebook(self._notebook_has_run)

    def listen_port(self) -> int:
        """POLYNB_CLOUDSTATE_PORT, else PORT (unless another platform took it), else a free port; with a
        real proxy configured, 8080, where its USER_FUNCTION_PORT looks by default."""
        if self.settings.port is not None:
            return self.settings.port
        generic = self.service.generic_variables.take("PORT", self.settings.generic_port, PLATFORM, PORT_VARIABLE)
        if generic is not None:
            return generic
        return PROXY_DEFAULT_PORT if self.settings.proxy else 0

    def _notebook_has_run(self) -> None:
        """Discovery may answer: at once when interactive (called from ``start``, nothing registered yet);
        under ``polynb serve`` from the kernel's thread, which waits until the local proxy has discovered
        what the notebook registered, so that serving starts complete."""
        if _running_loop() is self.loop:
            self.notebook_ran.set()
            self._show_state()
        else:
            asyncio.run_coroutine_threadsafe(self._open_discovery(), self.loop).result(timeout=DISCOVERY_TIMEOUT)

    async def _open_discovery(self) -> None:
        if self.server is None:
            return
        self.notebook_ran.set()
        self._show_state()
        await self._rediscover()

    def _show_state(self) -> None:
        if not self.notebook_ran.is_set():
            self.set_status(STARTING, self.address, "discovery waits until polynb serve has run the notebook")
        else:
            self.set_status(READY, self.address, f"proxy {self.proxy_grpc}" if self.proxy_grpc else None)

    async def stop(self) -> None:
        if self.local is not None:
            await self.local.stop()
            self.local = None
        if self.server is not None:
            await self.server.stop(grace=1.0)
            self.server = None
        self.service.generic_variables.release(PLATFORM)

    async def register(self, version) -> str:
        options = version.payload.options
        for name, text in options["protos"].items():
            if not LIBRARY.has(name) or LIBRARY.source(name) != text:
                LIBRARY.add(name, text)
        service = LIBRARY.compiled.service(version.name)
        definition = definition_of(version.exports)
        _check_handlers(definition, service)
        self.registry.entities[version.name] = EntityRegistration(
            service_name=version.name, kind=KINDS[options["kind"]],
            persistence_id=options.get("persistence_id") or version.name, library=LIBRARY,
            definition=definition, snapshot_every=options.get("snapshot_every") or 0,
            passivation_timeout_ms=options.get("passivation_timeout_ms") or 0, proto_files=tuple(options["protos"]))
        await self._rediscover()
        return f"grpc://{self.proxy_grpc}/{version.name}" if self.proxy_grpc else f"grpc://{self.address}"

    async def unregister(self, name: str) -> None:
        self.registry.entities.pop(name, None)
        await self._rediscover()

    async def _rediscover(self) -> None:
        """Our stand-in re-reads the entity spec on request; a real proxy discovers once, when it starts,
        so one that discovered already is told about in a line instead."""
        if not self.notebook_ran.is_set():
            return
        if self.local is None:
            if self.user_function.proxy_info is not None:
                print(f"polynb: the CloudState proxy at {self.proxy_grpc} discovered this user function before "
                      "this change; restart the proxy so that it discovers again", file=sys.stderr, flush=True)
            return
        async with httpx.AsyncClient(timeout=DISCOVERY_TIMEOUT) as client:
            reply = await client.post(f"{self.proxy_http}/.polynb/discover")
        if reply.status_code != 200:
            raise RuntimeError(f"the local CloudState proxy refused the entities: {reply.text}")

    def signature(self, version: PayloadVersion) -> Signature:
        """Each method of the entity's service, with its request and reply messages (compiled by ``register``)."""
        return signatures.of_service(LIBRARY.compiled.service(version.name))

    def run_payload(self, version: PayloadVersion, input: Any, context: StreamStep | None) -> Any:
        """``context`` is the stream's step (a command, a cancellation), journaled by the service."""
        if context is None:
            raise RuntimeError("a CloudState execution needs its entity stream: send the command again to rerun it")
        return context()

    async def _execute(self, name: str, input: Any, step: StreamStep, meta: dict) -> tuple[bool, str | None]:
        outcome = await self.service.execute(Arrival(PLATFORM, name, input, step, meta=meta, inline=True))
        return outcome.ok, outcome.error

    async def _report(self, name: str, input: dict) -> None:
        """An error the proxy reports (``reportError``) is journaled as the failure it is."""
        message = input.get("message") or "the proxy reported an error without a message"
        log.warning("cloudstate: the proxy reports an error: %s", message)
        await self.service.refuse(Arrival(PLATFORM, name, input, meta={"step": name}), f"proxy: {message}")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _check_handlers(definition, service) -> None:
    """Every @command must name a method of the service: a typo is caught when the cell runs."""
    methods = set(service.methods_by_name)
    names_of: dict = {}
    for name, function in definition.commands.items():  # a function is listed as AddItem and add_item
        names_of.setdefault(function, set()).add(name)
    unknown = sorted(min(names) for names in names_of.values() if not names & methods)
    if unknown:
        raise ProtoError(f"{service.full_name} has no method {', '.join(unknown)} "
                         f"(its methods: {', '.join(sorted(methods))})")
