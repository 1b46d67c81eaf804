"""polynb as a KGrid Python runtime: the HTTP server an activator's proxy adapter talks to.

It registers with the adapter (and keeps registering: the heartbeat), accepts activations into its
shelf, and answers executions. Endpoints defined by this notebook's cells run the live payload through
the service; any other Knowledge Object is imported from the shelf and runs through the service too,
so every execution is in the journal.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import tornado.httpserver
import tornado.web

from ... import jsonbody, progress
from ...backoff import Backoff
from ...execution import Arrival, Host
from ...jsonbody import BodyRefused
from ...jsonhandler import JsonHandler
from ...paths import PathEscape
from ...ports import listen_http, url_host
from ...runner import call_payload
from . import wire
from .shelf import Shelf

log = logging.getLogger("polynb.kgrid")
PLATFORM = "kgrid"


@dataclass(frozen=True)
class RuntimeOptions:
    adapter_url: str
    env_url: str | None
    host: str
    port: int
    moved_by: str  # the variable a user sets to move the port
    heartbeat: int
    cache_strategy: Callable[[], str]
    #: origins besides the activator's that artifacts may come from; "*" for any
    artifact_origins: tuple[str, ...] = ()


class KgridRuntime:
    """The runtime's state and behaviour; the tornado handlers below only translate HTTP."""

    def __init__(self, service: Host, shelf: Shelf, options: RuntimeOptions,
                 notebook_function: Callable[[str], Callable | None],
                 on_state: Callable[[], None]) -> None:
        self.service = service
        self.shelf = shelf
        self.options = options
        self.adapter_url = wire.strip_slash(options.adapter_url)
        self.artifact_origins = (wire.origin(self.adapter_url), *options.artifact_origins)
        self.notebook_function = notebook_function
        self.on_state = on_state
        self.registered = False
        self.detail: str | None = None  # why the runtime is not registered, while it is not
        self._tasks: set[asyncio.Task] = set()
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
        self.server: tornado.httpserver.HTTPServer | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Where the activator reaches this runtime; ``start`` knows it once it listens."""
        if self._url is None:
            raise RuntimeError("the KGrid runtime is not started")
        return self._url

    # -- lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        app = tornado.web.Application(_routes(self), default_handler_class=_NotFound, log_function=_access_log)
        self.server = tornado.httpserver.HTTPServer(app)
        self.port = listen_http(self.server, PLATFORM, self.options.host, self.options.port, self.options.moved_by)
        self._url = self.options.env_url or f"http://{url_host(self.options.host)}:{self.port}"
        await self._reload()
        self._spawn(self._keep_registered())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.server is not None:
            self.server.stop()
        await self._http.aclose()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self) -> None:
        """Re-import every endpoint context.json remembers, as the real runtime does at start."""
        for key, entry in self.shelf.context.items():
            entry["is_processing"] = False
            try:
                self.shelf.functions[key] = await asyncio.to_thread(
                    self.shelf.import_function, key, entry["entry"].replace(".", "/") + ".py", entry["function_name"])
                entry["status"] = wire.ACTIVATED
            except Exception as exc:  # a broken shelf entry must not keep the runtime from registering
                log.warning("kgrid: could not reload %s from the shelf: %s", key, exc)
                entry["status"], entry["function"] = str(exc), None
        self.shelf.save()

    # -- registration and heartbeat ---------------------------------------------------------------------
    async def register(self, force_update: bool) -> bool:
        """POST the registration; any answer but 200 (or no answer) is logged and reported, never raised."""
        body = wire.registration(self.url, force_update)
        try:
            reply = await self._http.post(f"{self.adapter_url}/proxy/environments", json=body)
        except httpx.HTTPError as exc:
            self._registered(False, f"activator {self.adapter_url} unreachable ({type(exc).__name__}); retrying")
            return False
        if reply.status_code != 200:
            self._registered(False, f"activator refused the registration: {reply.status_code} {reply.text[:200]}")
            return False
        self._registered(True, None)
        return True

    def _registered(self, ok: bool, detail: str | None) -> None:
        """Report a change of registration state once, not at every retry or heartbeat."""
        if (ok, detail) == (self.registered, self.detail):
            return
        if detail:
            log.warning("kgrid: %s", detail)
        self.registered, self.detail = ok, detail
        self.on_state()

    async def _keep_registered(self) -> None:
        """Register until the activator answers, then heartbeat (if the interval allows one)."""
        backoff = Backoff(first=0.25, cap=5.0)
        while not await self.register(True):
            await backoff.wait()
        if not wire.heartbeat_enabled(self.options.heartbeat):
            return
        while True:
            await asyncio.sleep(self.options.heartbeat)
            await self.heartbeat()

    async def heartbeat(self) -> None:
        """Register again; when another runtime's registration has replaced this one's for the engine (the
        activator keeps one per engine), register with ``forceUpdate`` so that the activator activates its
        endpoints here again, and say so: two runtimes of one engine take the activator from each other."""
        holder = await self._registered_url()
        if holder is None or wire.strip_slash(holder) == wire.strip_slash(self.url):
            await self.register(False)
            return
        log.warning("kgrid: the activator %s had the runtime at %s for the %s engine instead of this one (%s); "
                    "registered this runtime again", self.adapter_url, holder, wire.ENGINE, self.url)
        await self.register(True)

    async def _registered_url(self) -> str | None:
        """The runtime URL the activator holds for this engine, or None when it cannot tell."""
        try:
            reply = await self._http.get(f"{self.adapter_url}/proxy/environments/{wire.ENGINE}")
            held = reply.json().get("url") if reply.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return held if isinstance(held, str) else None

    # -- activation -------------------------------------------------------------------------------------
    async def activate(self, body: Any) -> tuple[int, dict]:
        """``POST /endpoints``: follow the cache strategy, else download, install and import."""
        descriptor = wire.validate_descriptor(body)
        refusal = wire.foreign_artifacts(descriptor["baseUrl"], self.artifact_origins)
        if refusal is not None:
            raise wire.WireError(403, refusal)
        uri = descriptor["uri"]
        key = wire.endpoint_key(uri)
        try:
            self.shelf.folder(key)
        except PathEscape as exc:  # the real runtime would clear the whole shelf for an empty uri
            raise wire.WireError(400, {"code": 400, "name": "Bad Request", "description": str(exc)}) from None
        known = self.shelf.context.get(key)
        strategy = self.options.cache_strategy()
        if known is not None:
            same_checksum = "checksum" in descriptor and descriptor["checksum"] == known.get("checksum")
            if strategy == "always" or (strategy == "use_checksum" and same_checksum):
                return 200, wire.activation_reply(known, self.url, key)
            if known.get("is_processing"):
                return 503, {**wire.activation_reply(known, self.url, key), "status": wire.BUSY}
        entry = {"activated": datetime.now(), "checksum": descriptor.get("checksum"),
                 "entry": wire.entry_module(descriptor["entry"]), "function": None,
                 "function_name": descriptor["function"], "id": uri, "is_processing": True,
                 "path": f"pyshelf.{key}.{wire.entry_module(descriptor['entry'])}", "status": wire.PROCESSING,
                 "url": f"{wire.strip_slash(self.url)}/{key}"}
        self.shelf.context[key] = entry
        self.shelf.functions.pop(key, None)
        self.shelf.save()
        try:
            function = await self._install(key, descriptor)
        except Exception as exc:  # the activator gets the runtime's 500 shape; the entry keeps the error
            self.shelf.clear(key)
            entry.update(status=str(exc), is_processing=False)
            self.shelf.save()
            return 500, wire.runtime_error(type(exc).__name__, str(exc))
        self.shelf.functions[key] = function
        entry.update(status=wire.ACTIVATED, is_processing=False, function=repr(function))
        self.shelf.save()
        return 200, wire.activation_reply(entry, self.url, key)

    async def _install(self, key: str, descriptor: dict) -> Callable:
        self.shelf.clear(key)
        for artifact in descriptor["artifact"]:
            reply = await self._http.get(descriptor["baseUrl"] + artifact)
            if reply.status_code != 200:
                log.warning("kgrid: artifact %s%s answered %s; skipped", descriptor["baseUrl"], artifact,
                            reply.status_code)
                continue
            self.shelf.write(key, artifact, reply.content)
        requirements = self.shelf.requirements(key)
        if requirements is not None:
            await self._pip_install(str(requirements))
        function = self.notebook_function(descriptor["uri"])
        if function is not None:
            return function
        return await asyncio.to_thread(self.shelf.import_function, key, descriptor["entry"], descriptor["function"])

    @staticmethod
    async def _pip_install(requirements: str) -> None:
        command = [sys.executable, "-m", "pip", "install", "-r", requirements]
        progress.report(f"installing {requirements}")
        process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.STDOUT)
        output, _ = await process.communicate()
        if process.returncode:
            log.warning("kgrid: pip failed:\n%s", output.decode(errors="replace")[-2000:])
            raise subprocess.CalledProcessError(process.returncode, command)

    # -- execution --------------------------------------------------------------------------------------
    async def execute(self, key: str, content_type: str | None, body: bytes) -> tuple[int, str]:
        """``POST /{key}``: parse as the real runtime does, run through the service, answer its way."""
        entry = self.shelf.context.get(key)
        name = entry["id"] if entry else key
        meta = {"key": key, "content_type": content_type}
        try:
            value = wire.parse_input(content_type, body)
        except wire.WireError as refusal:
            await self.service.refuse(
                Arrival(PLATFORM, name, body.decode("utf-8", errors="replace"), meta=meta),
                ValueError(f"the input is not JSON ({refusal.body['name']}): {refusal.body['description']}"))
            return refusal.status, wire.render(refusal.body)
        from_notebook = entry is not None and self.service.current(PLATFORM, name) is not None \
            and self.notebook_function(name) is not None
        outcome = await self.service.execute(Arrival(
            PLATFORM, name, value, meta=meta, encode=wire.result_body, inline=True,
            code=None if from_notebook else self._shelf_call(key, entry, value)))
        if outcome.ok:
            return 200, outcome.value
        description = wire.exception_text(outcome.error, outcome.error_type)
        return 500, wire.render(wire.runtime_error(outcome.error_type or "Exception", description))

    def _shelf_call(self, key: str, entry: dict | None, value: Any) -> Callable[[], Any]:
        """A KO this notebook does not define runs from the shelf, failing as the real runtime fails."""
        if entry is None:
            return _raiser(wire.unknown_endpoint(key))
        function = self.shelf.functions.get(key)
        if function is None:  # the real runtime calls None here
            return _raiser(TypeError("'NoneType' object is not callable"))
        return functools.partial(call_payload, function, value)

    def forget(self, key: str) -> None:
        """Drop an endpoint from the shelf and the context (its key becomes unknown)."""
        self.shelf.functions.pop(key, None)
        if self.shelf.context.pop(key, None) is not None:
            self.shelf.clear(key)
            self.shelf.save()

    def endpoint(self, uri: str) -> dict:
        key = wire.endpoint_key(uri)
        if key not in self.shelf.context:
            raise wire.WireError(500, wire.runtime_error("KeyError", repr(key)))
        return wire.endpoint_summary(self.shelf.context[key])


def _access_log(handler: tornado.web.RequestHandler) -> None:
    """Requests go to the debug log: an error answer is the platform's business, not noise in a cell."""
    log.debug("%s %s %s", handler.get_status(), handler.request.method, handler.request.uri)


def _raiser(error: BaseException) -> Callable[[], Any]:
    def fail() -> Any:
        raise error
    return fail


# -- HTTP -----------------------------------------------------------------------------------------------
#: the real runtime (Flask) sets no MAX_CONTENT_LENGTH; polynb's runtime refuses more than the core's default
BODY_LIMIT = jsonbody.DEFAULT_LIMIT
_REFUSALS = {jsonbody.TOO_LARGE: wire.TOO_LARGE, jsonbody.MEDIA_TYPE: wire.NOT_JSON_MEDIA}


class _Handler(JsonHandler):
    body_limit = BODY_LIMIT

    def initialize(self, runtime: KgridRuntime) -> None:
        self.runtime = runtime

    def reply(self, status: int, body: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body if isinstance(body, str) else wire.render(body))

    def answer_error(self, status: int, message: str, error: BaseException | None) -> None:
        """Werkzeug's shape for HTTP errors, the runtime's ``{code, name, description}`` for exceptions."""
        if isinstance(error, BodyRefused):
            body = _REFUSALS.get(error.reason, wire.BAD_REQUEST)
            self.reply(body["code"], body)
        elif isinstance(error, wire.WireError):
            self.reply(error.status, error.body)
        elif status == 405:
            self.reply(405, wire.METHOD_NOT_ALLOWED)
        elif error is not None and status == 500:
            self.reply(500, wire.runtime_error(type(error).__name__, str(error)))
        else:
            self.reply(status, {"code": status, "name": message, "description": message})

    def log_exception(self, typ, value, tb) -> None:
        if not isinstance(value, (wire.WireError, tornado.web.HTTPError)):
            super().log_exception(typ, value, tb)


class _NotFound(_Handler):
    def initialize(self, runtime: KgridRuntime | None = None) -> None:
        """The default handler: tornado makes it without the runtime, which a 404 never needs."""
    def prepare(self) -> None:
        self.reply(404, wire.NOT_FOUND)


class _Root(_Handler):
    def get(self) -> None:
        self.reply(200, wire.root_info(self.runtime.port))


class _Info(_Handler):
    def get(self) -> None:
        self.reply(200, wire.runtime_info(self.runtime.adapter_url, self.runtime.url))


class _Register(_Handler):
    async def get(self) -> None:
        await self.runtime.register(True)
        self.reply(200, {"Registered with": self.runtime.adapter_url})


class _Endpoints(_Handler):
    def get(self) -> None:
        self.reply(200, [wire.endpoint_summary(e) for e in self.runtime.shelf.context.values()])

    async def post(self) -> None:
        """Only ``application/json`` (Flask's ``request.json``): a page elsewhere cannot post a descriptor as
        ``text/plain`` without a CORS preflight."""
        jsonbody.check_media_type(self.request.headers.get("Content-Type"))
        self.reply(*await self.runtime.activate(self.json_body()))


class _Endpoint(_Handler):
    def get(self, uri: str) -> None:
        self.reply(200, self.runtime.endpoint(uri))


class _Execution(_Handler):
    async def post(self, key: str) -> None:
        self.reply(*await self.runtime.execute(key, self.request.headers.get("Content-Type"), self.body))


def _routes(runtime: KgridRuntime) -> list:
    given = {"runtime": runtime}
    return [(r"/", _Root, given), (r"/info", _Info, given), (r"/register", _Register, given),
            (r"/endpoints", _Endpoints, given), (r"/endpoints/([^/]+/[^/]+/[^/]+/[^/]+)", _Endpoint, given),
            (r"/([^/]+)", _Execution, given)]
