"""polynb as a Vantiq Python Execution Connector: the binding the service starts.

It connects one websocket per source (to ``targetServer``, or to the local stand-in it starts when none
is configured) and turns every query into one journaled execution on the worker pool: pushed code with
the code it carries, a name-only query for a ``%%vantiq_exec`` cell the cell's payload. Every query is answered,
with the connector's error shapes when it fails.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from types import CodeType
from typing import Any

from ...execution import Arrival, Host
from ...local import LocalStandIn, start_local
from ...payload import PayloadError, PayloadVersion
from ...platforms.base import ERROR, READY, STARTING, STOPPED, Binding
from ...signature import Signature
from . import wire
from .connection import CLOSED, CONNECTED, REJECTED, ConnectRejected, SourceConnection
from .documents import DocumentFetcher
from .execution import QueryRun, SourceRuntime, cached_file
from .serverconfig import ConnectorConfig, resolve
from .settings import VantiqSettings
from .signature import learned

log = logging.getLogger("polynb.vantiq")
PLATFORM = "vantiq"


class VantiqBinding(Binding[QueryRun]):
    """The sources this kernel serves, and the cells registered as named code on them."""

    settings: VantiqSettings

    needs_entry = False  # a cell is a script the connector execs, not a function it calls

    def __init__(self, service: Host, settings: VantiqSettings) -> None:
        super().__init__(service, settings)
        self._url: str | None = None
        self.local: LocalStandIn | None = None
        self.connections: dict[str, SourceConnection] = {}
        self.fetchers: dict[str, DocumentFetcher] = {}
        self.cells: dict[str, str] = {}  # payload name -> the source it is registered on
        self._compiled: dict[str, CodeType] = {}  # cell code by payload digest, compiled as the connector names it
        self._learned: dict[tuple[str, int], Signature | None] = {}  # by (payload name, version)
        self._queries: set[asyncio.Task] = set()
        self._probe: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        """The websocket URL of the Vantiq server, which ``start`` works out (the local one's is known only then)."""
        if self._url is None:
            raise RuntimeError("the Vantiq binding is not started")
        return self._url

    async def start(self) -> None:
        self.config: ConnectorConfig = resolve(self.settings.as_dict(), Path.cwd())
        self.target, self.token = self.config.target_server, self.config.auth_token
        if not self.target:
            self.local = await start_local(PLATFORM)
            self.target, self.token = self.local.info["url"], self.local.info["token"]
        self._url = wire.websocket_url(self.target)
        self.rest = wire.rest_base(self.target)
        for source in self.config.sources:
            await self._connect(source)
        await self._start_probe()

    async def stop(self) -> None:
        for task in list(self._queries):
            task.cancel()  # answers still waiting for a connection that will not come back
        for connection in list(self.connections.values()):
            await connection.stop()
        for fetcher in self.fetchers.values():
            fetcher.close()
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        if self.local is not None:
            await self.local.stop()
            self.local = None

    @classmethod
    def python_source(cls, payload) -> str:
        """The cell, checked now so that a syntax error is a clear line under the cell, not a query error."""
        cell_code(payload)
        return payload.source

    async def register(self, version) -> str:
        source = version.payload.options.get("source") or self.config.sources[0]
        if source not in self.connections:
            await self._connect(source)
        self.cells[version.name] = source
        self._compiled[version.payload.digest] = cell_code(version.payload)
        return f"{self.url} source {source} name {version.name}"

    async def unregister(self, name: str) -> None:
        self.cells.pop(name, None)

    def _show_state(self) -> None:
        """One state for all sources: ready when every source is connected, an error when one is rejected."""
        states = {c.state for c in self.connections.values()}
        state = (READY if states == {CONNECTED} else ERROR if REJECTED in states
                 else STOPPED if states <= {CLOSED} else STARTING)
        detail = "; ".join(f"{name}: {c.state}" + (f" ({c.detail})" if c.detail else "")
                           for name, c in self.connections.items())
        self.set_status(state, self.url, detail or None)

    def connector_id(self, source: str) -> str | None:
        """This kernel's connector for the source, as the local server knows it (see :func:`wire.connector_id`)."""
        connection = self.connections.get(source)
        return wire.connector_id(connection.secret) if connection is not None else None

    def run_payload(self, version: PayloadVersion, input: Any, context: QueryRun | None) -> Any:
        """A name-only query for a registered cell: the cell's code, its options as defaults, its namespace."""
        if context is None:  # %polynb replay: the recorded query, answered nowhere
            source = self.cells.get(version.name, self.config.sources[0])
            context = QueryRun(source, "polynb-replay", input, SourceRuntime(), _discard)
        options = version.payload.options
        context.defaults = {key: options[key] for key in ("codeHandlesReturn", "limitReturnTo") if key in options}
        context.notebook = version.namespace
        code = self._compiled.get(version.payload.digest) or cell_code(version.payload)
        return context.run(code, version.name)

    # -- sources ---------------------------------------------------------------------------------------
    async def _connect(self, source: str) -> None:
        connection = SourceConnection(
            source, self.url, self.token, self.config.secret_for(source), send_pings=self.config.send_pings,
            fail_on_connection_error=self.config.fail_on_connection_error,
            connect_kwargs=_websocket_options(self.config.connect_kwargs),
            on_query=self._on_query, on_bad_frame=self._on_bad_frame, on_state=self._on_state)
        self.connections[source] = connection
        self.fetchers[source] = DocumentFetcher(self.rest, self.token, _rest_options(self.config.connect_kwargs))
        connection.start()
        try:
            if not await connection.first_handshake(self.config.connect_wait):
                log.warning("vantiq source %s: not connected yet to %s; still trying", source, self.url)
        except (ConnectRejected, ConnectionError) as exc:
            raise ConnectionError(f"Vantiq at {self.url}, source {source}: {exc}") from None

    def _on_state(self, connection: SourceConnection) -> None:
        self._show_state()

    def _on_query(self, connection: SourceConnection, address: str | None, request: Any) -> None:
        task = asyncio.ensure_future(self._serve_query(connection, address, request))
        self._queries.add(task)
        task.add_done_callback(self._queries.discard)

    async def _serve_query(self, connection: SourceConnection, address: str | None, request: Any) -> None:
        run = QueryRun(connection.source, address, request, connection.runtime, connection.send_threadsafe,
                       fetch_document=self.fetchers[connection.source], reply_timeout=self.config.reply_timeout,
                       notebook=self.service.notebook_ns)
        meta = {"source": connection.source, "reply_address": address}
        cell = self._cell_for(connection.source, request)
        if not connection.is_open:  # the session ended between the frame and now
            await connection.send_text(wire.encode(wire.response_frame(address, wire.ERROR,
                                                                      wire.not_open(connection.source).body)))
            return
        outcome = await self.service.execute(Arrival(
            PLATFORM, cell or _query_name(request), request, run, meta=meta, encode=run.encoded_answer,
            code=None if cell is not None else run.run))
        if cell is not None and outcome.ok:
            self._learn(cell, request.get("presetValues"))
        if outcome.ok and outcome.value is not None:
            await connection.send_text(outcome.value)
        elif run.answer is not None:
            await connection.send_text(wire.encode(run.answer))
        elif not outcome.ok:
            # refused before it ran (service stopping, payload gone): the server still gets an answer
            refusal = wire.connector_error(outcome.error_type, outcome.error)
            await connection.send_text(wire.encode(wire.response_frame(address, wire.ERROR, refusal.body)))

    def signature(self, version: PayloadVersion) -> Signature | None:
        """What the queries that ran this version were seen to give (kept in the journal across restarts)."""
        key = (version.name, version.version)
        if key not in self._learned:
            row = self.service.journal.payload(PLATFORM, version.name, version.version)
            self._learned[key] = Signature.from_json(row.signature) if row is not None and row.signature else None
        return self._learned[key]

    def _learn(self, name: str, preset: Any) -> None:
        """Widen the current version's signature by a query it answered; the journal hears of a new shape only."""
        version = self.service.current(PLATFORM, name)
        if version is None:
            return
        widened = learned(name, self.signature(version), preset)
        if widened is not None:
            self._learned[(name, version.version)] = widened
            self.service.journal.payload_signature(PLATFORM, name, version.version, widened.as_json())

    def _on_bad_frame(self, connection: SourceConnection, preview: str, reason: str, address: str | None) -> None:
        """A frame polynb cannot use gets the connector's error (to its reply address when it names one) and a
        failed record; the connection stays up."""
        log.warning("vantiq source %s: refused a frame (%s): %s", connection.source, reason, preview)
        error = wire.bad_frame(connection.source, reason)
        meta = {"source": connection.source, "reply_address": address}

        async def answer() -> None:
            await self.service.refuse(Arrival(PLATFORM, "(frame)", preview, meta=meta), error)
            await connection.send_text(wire.encode(wire.response_frame(address, wire.ERROR, error.body)))

        task = asyncio.ensure_future(answer())
        self._queries.add(task)
        task.add_done_callback(self._queries.discard)

    def _cell_for(self, source: str, request: Any) -> str | None:
        """The registered cell a name-only query on this source asks for."""
        if not isinstance(request, dict) or request.get("code") is not None or request.get("script"):
            return None
        name = request.get("name")
        return name if isinstance(name, str) and self.cells.get(name) == source else None

    async def _start_probe(self) -> None:
        """The connector's Kubernetes health probe: a TCP port that accepts and closes."""
        if not os.environ.get("KUBERNETES_SERVICE_HOST"):
            return

        async def accept_and_close(reader, writer) -> None:
            writer.close()

        self._probe = await asyncio.start_server(accept_and_close, self.service.settings.core.bind_host,
                                                 self.config.tcp_probe_port)


def cell_code(payload) -> CodeType:
    """A cell compiled under the name the connector gives cached code (``NAME.py``), so tracebacks read well."""
    try:
        return compile(payload.source, cached_file(payload.name), "exec")
    except SyntaxError as exc:
        raise PayloadError(f"the cell {payload.name!r} is not valid Python: {exc}") from None


def _query_name(request: Any) -> str:
    """What the journal calls a pushed query: its name, its script, or ``(code)``."""
    if isinstance(request, dict):
        for key in ("name", "script"):
            if isinstance(request.get(key), str) and request[key]:
                return request[key]
    return "(code)"


def _websocket_options(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    options = {key: value for key, value in kwargs.items() if key != "disableSslVerification"}
    if kwargs.get("disableSslVerification"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        options["ssl"] = context
    return options


def _rest_options(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {"verify": False} if kwargs.get("disableSslVerification") else {}


def _discard(frame) -> concurrent.futures.Future:
    """Where a replayed query's frames go: nowhere (its outcome is in the journal)."""
    done: concurrent.futures.Future = concurrent.futures.Future()
    done.set_result(None)
    return done
