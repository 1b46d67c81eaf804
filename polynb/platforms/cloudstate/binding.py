"""The CloudState binding: serves this kernel's entities as a user function and keeps a proxy informed.

With no proxy configured it starts the local proxy (``polynb up cloudstate``) pointed at this kernel,
and asks it to discover again whenever a cell (re)registers an entity.
"""
from __future__ import annotations

import logging
from typing import Any

import httpx

from ...local import LocalStandIn, start_local
from ..base import READY, STOPPED, Binding, BindingStatus
from . import wire
from .entities import definition_of
from .protolib import LIBRARY, ProtoError
from .server import EntityRegistration, Registry, UserFunction, serve

log = logging.getLogger("polynb.cloudstate")
PLATFORM = "cloudstate"
KINDS = {"event_sourced": wire.EVENT_SOURCED, "crdt": wire.CRDT}


class CloudStateBinding(Binding):
    needs_entry = False

    async def start(self) -> None:
        self.registry = Registry()
        self.local: LocalStandIn | None = None
        self.user_function = UserFunction(self.registry, self._execute, self._report)
        host = self.settings["host"]
        self.server, self.port = await serve(self.user_function, host, self.settings["port"])
        self.address = f"{host}:{self.port}"
        self.proxy_grpc, self.proxy_http = self.settings["proxy"], self.settings["proxy_http"]
        if not self.proxy_grpc:
            try:
                self.local = await start_local(PLATFORM, env={
                    "USER_FUNCTION_HOST": host, "USER_FUNCTION_PORT": str(self.port),
                    "CLOUDSTATE_PROXY_PORT": "0", "CLOUDSTATE_PROXY_HTTP_PORT": "0",
                    "CLOUDSTATE_PROXY_DB": str(self.service.journal.directory / "cloudstate-proxy.sqlite")})
            except BaseException:
                await self.server.stop(None)
                raise
            self.proxy_grpc, self.proxy_http = self.local.info["grpc"], self.local.info["http"]

    async def stop(self) -> None:
        if self.local is not None:
            await self.local.stop()
        await self.server.stop(grace=1.0)
        self.server = None

    def status(self) -> BindingStatus:
        if getattr(self, "server", None) is None:
            return BindingStatus(STOPPED)
        return BindingStatus(READY, self.address, f"proxy {self.proxy_grpc}" if self.proxy_grpc else None)

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
        """Our stand-in re-reads the entity spec on request; a real proxy discovers when it starts."""
        if self.local is None:
            return
        async with httpx.AsyncClient(timeout=60.0) as client:
            reply = await client.post(f"{self.proxy_http}/.polynb/discover")
        if reply.status_code != 200:
            raise RuntimeError(f"the local CloudState proxy refused the entities: {reply.text}")

    def run_payload(self, version, input: Any, context: Any) -> Any:
        """``context`` is the stream's step (recovery, a command, a cancellation), journaled by the service."""
        return context()

    async def _execute(self, name: str, input: Any, job, meta: dict) -> tuple[bool, str | None]:
        outcome = await self.service.execute_payload(PLATFORM, name, input, job, meta=meta)
        return outcome.ok, outcome.error

    async def _report(self, name: str, input: dict) -> None:
        log.warning("cloudstate: the proxy reports an error: %s", input.get("message"))
        await self.service.execute(PLATFORM, name, input, lambda version: input, meta={"step": name},
                                   needs_payload=False)


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
