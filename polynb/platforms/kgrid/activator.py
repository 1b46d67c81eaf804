"""The local stand-in of a KGrid activator with its proxy adapter (``polynb up kgrid``).

It does what the fact sheet's section 8 asks of a faithful stand-in: keeps the runtime registry per
engine, (re)activates endpoints when a runtime is new or forces an update, checks ``/info`` before
activating, serves artifacts, and answers clients at ``POST /{naan}/{name}/{version}/{endpoint}``.
KOs come from its shelf folder, from ``KGRID_KOS_DIR`` and from ``POST /kos`` (what ``%%kgrid_ko``
publishes); published KOs are kept on the shelf, so a restarted activator still has them.
"""
from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import tornado.httpserver
import tornado.web

from ... import jsonbody
from ...jsonbody import BodyRefused
from ...jsonhandler import JsonHandler
from ...paths import PathEscape, inside
from . import ko as kos
from . import wire

log = logging.getLogger("polynb.kgrid.activator")


@dataclass
class EndpointState:
    """One KO endpoint on the activator: where it runs once a runtime activated it."""

    ko: kos.KnowledgeObject
    endpoint: str
    node: dict
    status: str = "Not activated: no runtime has registered for its engine"
    url: str | None = None

    @property
    def uri(self) -> str:
        return self.ko.endpoint_id(self.endpoint)

    @property
    def engine(self) -> str:
        return str(self.node.get("engine", ""))

    def summary(self) -> dict:
        return {"id": self.uri, "engine": self.engine, "status": self.status, "url": self.url,
                "location": self.ko.location}


class Activator:
    """Shelf, runtime registry and endpoint states; the handlers below only translate HTTP."""

    def __init__(self, shelf: Path, kos_dir: Path | None) -> None:
        self.shelf = shelf
        self.kos_dir = kos_dir
        self.kos: dict[str, kos.KnowledgeObject] = {}
        self.endpoints: dict[str, EndpointState] = {}
        self.runtimes: dict[str, dict] = {}
        self.registrations: dict[str, dict] = {}
        self.base = ""
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=5.0))

    def load_shelves(self) -> list[str]:
        """Every KO folder and zip on the shelf and in the KOs folder; broken ones are logged and skipped."""
        problems = []
        for folder in filter(None, (self.shelf, self.kos_dir)):
            for path in sorted(folder.iterdir()):
                if path.is_dir() or path.suffix == ".zip":
                    try:
                        self.add(kos.load(path))
                    except (kos.KoError, OSError) as exc:
                        problems.append(str(exc))
                        log.warning("kgrid activator: skipped %s: %s", path, exc)
        return problems

    def add(self, ko: kos.KnowledgeObject) -> list[EndpointState]:
        """Put a KO on the shelf (replacing one at the same location) and list its endpoints."""
        for uri in [uri for uri, state in self.endpoints.items() if state.ko.location == ko.location]:
            del self.endpoints[uri]
        self.kos[ko.location] = ko
        states = [EndpointState(ko, name, node) for name, node in ko.endpoints().items()]
        self.endpoints.update({state.uri: state for state in states})
        return states

    def publish(self, ko: kos.KnowledgeObject) -> list[EndpointState]:
        """Keep a published KO on the shelf folder too, so a restart loads it again.

        Its folder and every file name must stay inside the shelf (:class:`PathEscape`, a 400, otherwise):
        nothing outside it is ever written or removed."""
        kos.write(ko, inside(self.shelf, ko.location), replace=True)
        return self.add(ko)

    # -- runtimes ---------------------------------------------------------------------------------------
    def register(self, body: dict) -> dict:
        engine = body["engine"]
        known = engine in self.runtimes
        self.runtimes[engine] = dict(body)
        self.registrations[engine] = dict(body)
        if not known or body.get("forceUpdate") is True:
            self.spawn(self.activate_engine(engine))
        return {**body, "status": "existing runtime" if known else "new"}

    def spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def activate_engine(self, engine: str) -> None:
        await asyncio.gather(*(self.activate(state) for state in list(self.endpoints.values())
                               if state.engine == engine))

    async def activate(self, state: EndpointState) -> EndpointState:
        """Check the runtime is up, then push the descriptor; the endpoint's status says how it went."""
        async with self._locks.setdefault(state.uri, asyncio.Lock()):
            runtime = self.runtimes.get(state.engine)
            if runtime is None:
                state.status, state.url = f"Not activated: no runtime has registered for engine {state.engine}", None
                return state
            url = wire.strip_slash(runtime["url"])
            problem = await self.check_runtime(state.engine, url)
            if problem:
                state.status, state.url = problem, None
                return state
            descriptor = wire.descriptor(state.node, f"{self.base}/proxy/artifacts/{state.ko.location}/", state.uri)
            try:
                reply = await self.http.post(f"{url}/endpoints", json=descriptor)
            except httpx.HTTPError as exc:
                state.status, state.url = f"Activator could not connect to runtime: {type(exc).__name__}", None
                return state
            if reply.status_code != 200:
                state.status, state.url = f"Activation failed: {reply.status_code} {reply.text}", None
                return state
            state.status, state.url = wire.ACTIVATED, wire.execution_url(reply.json(), url)
            return state

    async def check_runtime(self, engine: str, url: str) -> str | None:
        try:
            reply = await self.http.get(f"{url}/info")
        except httpx.HTTPError:
            return "Activator could not connect to runtime"
        if not reply.is_success:
            return f"Error while retrieving runtime status: {reply.status_code}"
        info = reply.json()
        self.runtimes[engine] = info
        status = str(info.get("status", ""))
        if status.lower() != "up":
            return f"Remote runtime {url} is not online. Runtime status: {status}."
        return None

    # -- clients ----------------------------------------------------------------------------------------
    async def execute(self, uri: str, content_type: str | None, body: bytes, instance: str) -> tuple[int, Any]:
        """Forward to the runtime and answer ``{"result", "info"}``, or the activator's error body."""
        state = self.endpoints.get(uri)
        if state is None:
            return 404, wire.activator_error(404, "Endpoint not found", f"No endpoint found for {uri}", instance)
        if state.url is None:
            return 503, wire.activator_error(503, "Endpoint not active", f"{uri}: {state.status}", instance)
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            reply = await self.http.post(state.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return 500, wire.activator_error(500, "Adapter Server Error",
                                             f"Remote runtime at {state.url} is unreachable: {type(exc).__name__}",
                                             instance)
        if reply.status_code >= 400:
            status, title = wire.adapter_status(reply.status_code)
            return status, wire.activator_error(status, title, f"Remote runtime answered {reply.status_code}: "
                                                f"{reply.text}", instance)
        return 200, {"result": wire.unwrap_result(reply.text),
                     "info": {"endpoint": state.ko.metadata, "inputs": _as_json(body)}}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.http.aclose()


def _as_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


# -- HTTP -----------------------------------------------------------------------------------------------
#: Spring's multipart default (1 MB a file) would refuse most KO zips; the stand-in takes the core's default
BODY_LIMIT = jsonbody.DEFAULT_LIMIT
_TITLES = {400: "Bad Request", 413: "Payload Too Large", 415: "Unsupported Media Type"}


class _Handler(JsonHandler):
    body_limit = BODY_LIMIT

    def initialize(self, activator: Activator) -> None:
        self.activator = activator

    def reply(self, status: int, body: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def fail(self, status: int, title: str, detail: str) -> None:
        self.reply(status, wire.activator_error(status, title, detail, self.request.path))

    def answer_error(self, status: int, message: str, error: BaseException | None) -> None:
        """The activator's ``{Title, Status, Detail, Instance, Time}`` body, whatever went wrong."""
        self.fail(status, _TITLES.get(status, self._reason) if isinstance(error, BodyRefused) else self._reason,
                  message)


class _Environments(_Handler):
    async def get(self, engine: str | None = None) -> None:
        """Each runtime as its ``/info`` describes it now (the registration, if it does not answer)."""
        for name in [engine] if engine in self.activator.runtimes else list(self.activator.runtimes):
            await self.activator.check_runtime(name, wire.strip_slash(self.activator.registrations[name]["url"]))
        if engine is None:
            self.reply(200, list(self.activator.runtimes.values()))
        elif engine in self.activator.runtimes:
            self.reply(200, self.activator.runtimes[engine])
        else:
            self.fail(404, "Runtime not found", f"No runtime registered for engine {engine}")

    def post(self, engine: str | None = None) -> None:
        body = self.json_body()
        refusal = wire.validate_registration(body)
        if refusal:
            return self.reply(400, {**(body if isinstance(body, dict) else {}), "status": refusal})
        self.reply(200, self.activator.register(body))


class _Registrations(_Handler):
    def get(self) -> None:
        """The last registration body of each engine, as received (for checking a runtime)."""
        self.reply(200, self.activator.registrations)


class _Artifacts(_Handler):
    def get(self, location: str, path: str) -> None:
        ko = self.activator.kos.get(location)
        data = ko.file_bytes().get(path) if ko is not None else None
        if data is None:
            return self.fail(404, "Artifact not found", f"No artifact {location}/{path} on the shelf")
        self.set_header("Content-Type", mimetypes.guess_type(path)[0] or "application/octet-stream")
        self.finish(data)


class _Kos(_Handler):
    def get(self) -> None:
        self.reply(200, [{"@id": ko.metadata.get("@id"), "location": ko.location, "metadata": ko.metadata}
                         for ko in self.activator.kos.values()])

    async def post(self) -> None:
        """Import a KO zip (multipart field ``ko``, as the real shelf API takes it, or a raw zip body) and
        activate its endpoints before answering, with their states added to the real ``{"Added"}`` answer."""
        uploads = self.form_files("ko")
        data = uploads[0]["body"] if uploads else self.body
        try:
            ko = kos.from_zip(data, "published")
            states = self.activator.publish(ko)
        except (kos.KoError, PathEscape) as exc:
            return self.fail(400, "Invalid Knowledge Object", str(exc))
        await asyncio.gather(*(self.activator.activate(state) for state in states))
        self.set_header("Location", f"{self.activator.base}/kos/{ko.ark.naan}/{ko.ark.name}/{ko.ark.version}")
        self.reply(201, {"Added": f"{ko.ark.naan}-{ko.ark.name}", "@id": ko.metadata.get("@id"),
                         "location": ko.location, "endpoints": [state.summary() for state in states]})


class _EndpointList(_Handler):
    def get(self) -> None:
        self.reply(200, [state.summary() for state in self.activator.endpoints.values()])


class _Activate(_Handler):
    async def get(self) -> None:
        """Re-activate every endpoint on its engine's runtime, as the real activator's ``/activate`` does."""
        for engine in {state.engine for state in self.activator.endpoints.values()}:
            await self.activator.activate_engine(engine)
        self.reply(200, [state.summary() for state in self.activator.endpoints.values()])


class _Execute(_Handler):
    async def post(self, uri: str) -> None:
        status, body = await self.activator.execute(uri, self.request.headers.get("Content-Type"),
                                                    self.body, self.request.path)
        self.reply(status, body)


def application(activator: Activator) -> tornado.web.Application:
    given = {"activator": activator}
    return tornado.web.Application([
        (r"/proxy/environments", _Environments, given), (r"/proxy/environments/([^/]+)", _Environments, given),
        (r"/proxy/registrations", _Registrations, given),
        (r"/proxy/artifacts/([^/]+)/(.+)", _Artifacts, given),
        (r"/kos", _Kos, given), (r"/endpoints", _EndpointList, given), (r"/activate", _Activate, given),
        (r"/([^/]+/[^/]+/[^/]+/[^/]+)", _Execute, given),
    ], log_function=lambda handler: log.debug("%s %s %s", handler.get_status(), handler.request.method,
                                              handler.request.uri))

