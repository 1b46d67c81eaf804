"""A fake platform for testing the core, and only the core (it lives in tests/, never in polynb).

Its "platform server" (the stand-in ``polynb up fake`` runs) is a registry over HTTP where the binding
announces its payloads. The binding serves ``POST /run/NAME`` with a JSON body on ``core.bind_host`` and
answers ``{"output": ...}`` or an error with a status code, the way the real bindings answer their platforms.
Load it with ``POLYNB_PLUGINS=fakeplatform`` and this folder on ``PYTHONPATH``. A platform of polynb splits
the same parts into its folder's files: settings.py, standin.py, binding.py, magics.py.
"""
from __future__ import annotations

import json
from typing import Any

import httpx
import tornado.httpserver
import tornado.web
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from polynb import platforms
from polynb.config import Field, TypedSection, core_section
from polynb.execution import NOT_FOUND, Arrival, Host
from polynb.jsonhandler import JsonHandler
from polynb.local import LocalStandIn, start_local
from polynb.magics import payload_arguments, register_cell
from polynb.payload import PayloadVersion
from polynb.platforms.base import READY, Binding, Platform, StandIn, UpOption
from polynb.ports import listen_http, url_host
from polynb.runner import call_payload

NAME = "fake"


class FakeSettings(TypedSection):
    """One setting of each kind; the attribute is the key (``polynb.yaml``: ``fake: {greeting: hi}``)."""

    registry_url = Field[str | None]("FAKE_REGISTRY_URL", None, help="the platform's address; unset: start the stand-in")
    registry_port = Field[int]("FAKE_REGISTRY_PORT", 0, cast=int, help="the stand-in's port (0: a free one)")
    port = Field[int]("FAKE_PORT", 0, cast=int, help="the port the binding serves (0: a free one)")
    token = Field[str | None]("FAKE_TOKEN", None, secret=True, help="a secret: environment or a file, never polynb.yaml")
    greeting = Field[str | None]("FAKE_GREETING", None, help="what the stand-in reports")


class _Registry(JsonHandler):
    def initialize(self, payloads: dict[str, str]) -> None:
        self.payloads = payloads

    def get(self) -> None:
        self.write({"payloads": self.payloads})

    def post(self) -> None:
        body = self.json_body(dict)
        self.payloads[body["name"]] = body["url"]
        self.write({"ok": True})


class FakeStandIn(StandIn):
    def __init__(self, settings: FakeSettings) -> None:
        self.settings = settings
        self.payloads: dict[str, str] = {}
        self.server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> dict[str, Any]:
        self.server = tornado.httpserver.HTTPServer(tornado.web.Application(
            [(r"/payloads", _Registry, {"payloads": self.payloads})]))
        host = core_section().bind_host
        port = listen_http(self.server, NAME, host, self.settings.registry_port, "FAKE_REGISTRY_PORT")
        return {"url": f"http://{url_host(host)}:{port}", "greeting": self.settings.greeting}

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


class _Run(JsonHandler):
    def initialize(self, binding: FakeBinding) -> None:
        self.binding = binding

    async def post(self, name: str) -> None:
        body = self.json_body() if self.body else None  # not JSON: 400, through answer_error
        outcome = await self.binding.service.execute(Arrival(NAME, name, body, encode=json.dumps, inline=True))
        if outcome.ok:
            self.set_header("Content-Type", "application/json")
            self.write(f'{{"output": {outcome.value}, "record": "{outcome.record_id}"}}')
        else:
            self.set_status(404 if outcome.error_type == NOT_FOUND else 500)
            self.write({"error": outcome.error, "type": outcome.error_type, "record": outcome.record_id})

    def answer_error(self, status: int, message: str, error: BaseException | None) -> None:
        """The fake platform's ``{"error", "type"}`` shape, for a body it cannot read as for any other failure."""
        self.set_status(status)
        self.finish({"error": message, "type": "BadRequest" if status < 500 else "InternalError"})


class FakeBinding(Binding[None]):
    """A payload gets the JSON body of ``POST /run/NAME``; no context."""

    settings: FakeSettings

    def __init__(self, service: Host, settings: FakeSettings) -> None:
        super().__init__(service, settings)
        self.local: LocalStandIn | None = None
        self.server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        registry = self.settings.registry_url
        if not registry:
            self.local = await start_local(NAME)
            registry = self.local.info["url"]
        self.registry = registry
        self.server = tornado.httpserver.HTTPServer(tornado.web.Application(
            [(r"/run/(\w+)", _Run, {"binding": self})]))
        host = self.service.settings.core.bind_host
        port = listen_http(self.server, NAME, host, self.settings.port, "FAKE_PORT")
        self.base = f"http://{url_host(host)}:{port}"
        self.set_status(READY, self.base)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.local is not None:
            await self.local.stop()

    async def register(self, version) -> str:
        url = f"{self.base}/run/{version.name}"
        async with httpx.AsyncClient() as client:
            (await client.post(f"{self.registry}/payloads", json={"name": version.name, "url": url})).raise_for_status()
        return url

    async def unregister(self, name: str) -> None:
        return None

    def run_payload(self, version: PayloadVersion, input: Any, context: None) -> Any:
        return call_payload(version.entry_point(), input)


@magics_class
class FakeMagics(Magics):
    @cell_magic
    @magic_arguments()
    @argument("name")
    @payload_arguments
    def fake_exec(self, line: str, cell: str):
        args = parse_argstring(self.fake_exec, line)
        register_cell(self.shell, NAME, args.name, cell, entry=args.entry, isolated=args.isolated)


platforms.register(Platform(
    name=NAME, title="the fake platform", binding=FakeBinding, settings=FakeSettings, magics=FakeMagics, stand_in=FakeStandIn,
    up_options=(UpOption("--fake-greeting", "FAKE_GREETING", "what the fake stand-in reports", "value"),),
    client_env=lambda info: {"FAKE_REGISTRY_URL": info["url"]},
))
