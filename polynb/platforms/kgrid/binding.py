"""The KGrid binding: runs polynb's runtime, and publishes ``%%kgrid_ko`` cells as Knowledge Objects.

With no ``KGRID_PROXY_ADAPTER_URL`` it starts the local activator (``polynb up kgrid``) first. A cell's
KO is published to the activator, which activates it on this kernel's runtime; executions of it run
the live payload (notebook globals), executions of any other KO run its shelf import.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import httpx

from ...execution import Host
from ...local import LocalStandIn, start_local
from ...payload import PayloadVersion
from ...runner import call_payload
from ...signature import Signature
from ..base import READY, STARTING, Binding
from . import ko as kos
from . import signature as signatures
from . import wire
from .runtime import PLATFORM, KgridRuntime, RuntimeOptions
from .settings import KgridSettings
from .shelf import Shelf

log = logging.getLogger("polynb.kgrid")
PORT_VARIABLE = "POLYNB_KGRID_PORT"
#: the real runtime's port when nothing sets one
RUNTIME_DEFAULT_PORT = 5000


class ActivationError(RuntimeError):
    """The activator could not activate a published KO; the message says why."""


class KgridBinding(Binding[None]):
    """Registered payloads need no context: a KGrid endpoint gets its JSON input and nothing else."""

    settings: KgridSettings

    def __init__(self, service: Host, settings: KgridSettings) -> None:
        super().__init__(service, settings)
        self.local: LocalStandIn | None = None
        self._runtime: KgridRuntime | None = None
        self._notebook: dict[str, PayloadVersion] = {}

    @property
    def runtime(self) -> KgridRuntime:
        """The runtime server that ``start`` made: registrations and the activator's calls go through it."""
        if self._runtime is None:
            raise RuntimeError("the KGrid binding is not started")
        return self._runtime

    async def start(self) -> None:
        if self.settings.debug:
            log.setLevel(logging.DEBUG)
        adapter = self.settings.adapter_url
        if not adapter:
            self.local = await start_local(PLATFORM, env=self._stand_in_env())
            adapter = self.local.info["url"]
        self.activator_url = wire.strip_slash(adapter)
        shelf = Shelf(self.settings.shelf_dir or self.service.journal.directory / "kgrid" / "pyshelf")
        options = RuntimeOptions(
            adapter_url=self.activator_url, env_url=self.settings.env_url,
            host=self.service.settings.core.bind_host,
            port=self.listen_port(), moved_by=PORT_VARIABLE,
            heartbeat=self.settings.heartbeat, cache_strategy=self._cache_strategy,
            artifact_origins=self.settings.artifact_origins)
        self._runtime = KgridRuntime(self.service, shelf, options, self._notebook_function, self._state_changed)
        await self._runtime.start()
        self._state_changed()

    def listen_port(self) -> int:
        """POLYNB_KGRID_PORT, else PORT (as the real runtime, unless another platform took it), else
        KGRID_PYTHON_ENV_PORT, else a free port, or 5000 when KGRID_PYTHON_ENV_URL says where the runtime is."""
        if self.settings.runtime_port is not None:
            return self.settings.runtime_port
        generic = self.service.generic_variables.take("PORT", self.settings.port_override, PLATFORM, PORT_VARIABLE)
        if generic is not None:
            return generic
        if self.settings.port is not None:
            return self.settings.port
        return RUNTIME_DEFAULT_PORT if self.settings.env_url else 0

    def _stand_in_env(self) -> dict[str, str]:
        """The stand-in keeps its shelf where the settings say (environment or polynb.yaml), else beside this
        kernel's journal."""
        shelf = self.settings.activator_shelf or self.service.journal.directory / "kgrid" / "activator"
        return {"KGRID_ACTIVATOR_SHELF": str(shelf)}

    def _cache_strategy(self) -> str:
        """Read on every activation, like the real runtime reads its environment variable."""
        return os.environ.get("KGRID_PYTHON_CACHE_STRATEGY") or self.settings.cache_strategy

    def _state_changed(self) -> None:
        """Ready once the activator has the runtime's registration; the runtime's detail says why not."""
        runtime = self._runtime
        if runtime is not None:
            self.set_status(READY if runtime.registered else STARTING, runtime.url, runtime.detail)

    def _notebook_function(self, uri: str) -> Callable | None:
        version = self._notebook.get(uri)
        return version.entry_point() if version is not None else None

    async def stop(self) -> None:
        if self._runtime is not None:
            await self._runtime.stop()
            self._runtime = None
        if self.local is not None:
            await self.local.stop()
            self.local = None
        self.service.generic_variables.release(PLATFORM)

    async def register(self, version) -> str:
        """Publish the cell's KO (with the other endpoints this kernel has for its ark) and wait until
        the activator has activated it on this runtime."""
        options = version.payload.options
        uri = version.name
        if not self.runtime.registered and not await self.runtime.register(True):
            raise ActivationError(f"the KGrid activator at {self.activator_url} does not answer ({self.runtime.detail})")
        previous = self._notebook.get(uri)
        self._notebook[uri] = version
        try:
            ko = self.knowledge_object(options["ark"])
            status = await self._publish(ko, uri)
        except BaseException:
            self._restore(uri, previous)
            raise
        if status != wire.ACTIVATED:
            self._restore(uri, previous)
            raise ActivationError(f"{uri} was published but not activated: {status}")
        return f"{self.activator_url}/{uri}"

    def knowledge_object(self, ark: str) -> kos.KnowledgeObject:
        """The KO this kernel's cells define for ``ark`` (every endpoint registered for it)."""
        versions = [v for v in self._notebook.values() if v.payload.options["ark"] == str(kos.Ark.parse(ark))]
        if not versions:
            raise KeyError(f"no %%kgrid_ko cell of this kernel defines {ark}")
        cells = [kos.CellEndpoint(v.payload.options["endpoint"], v.entry, v.payload.source,
                                  tuple(v.payload.options.get("requirements") or ()),
                                  *signatures.function_shapes(v.entry_point())) for v in versions]
        titles = [v.payload.options.get("title") for v in versions if v.payload.options.get("title")]
        return kos.from_cells(kos.Ark.parse(ark), cells, title=titles[-1] if titles else None)

    async def _publish(self, ko: kos.KnowledgeObject, uri: str) -> str:
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(900.0, connect=5.0)) as client:
                reply = await client.post(f"{self.activator_url}/kos",
                                          files={"ko": (f"{ko.location}.zip", kos.to_zip(ko), "application/zip")})
        except httpx.HTTPError as exc:
            raise ActivationError(f"the KGrid activator at {self.activator_url} is unreachable: {exc}") from exc
        if reply.status_code != 201:
            raise ActivationError(f"the activator refused the KO: {reply.status_code} {reply.text[:500]}")
        return next((e["status"] for e in reply.json()["endpoints"] if e["id"] == uri), "not listed")

    def _restore(self, uri: str, previous: Any) -> None:
        if previous is None:
            self._notebook.pop(uri, None)
        else:
            self._notebook[uri] = previous

    async def unregister(self, name: str) -> None:
        """The endpoint stops answering from this kernel (its executions get the unknown-endpoint 500)."""
        self._notebook.pop(name, None)
        self.runtime.forget(wire.endpoint_key(name))

    def run_payload(self, version: PayloadVersion, input: Any, context: None) -> Any:
        return call_payload(version.entry_point(), input)

    def signature(self, version: PayloadVersion) -> Signature:
        """The request and response schemas of the endpoint in the service spec of the KO polynb published."""
        options = version.payload.options
        return signatures.from_service_spec(self.knowledge_object(options["ark"]), options["endpoint"])
