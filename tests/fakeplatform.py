"""A fake platform for testing the core, and only the core (it lives in tests/, never in polynb).

Its "platform server" (the stand-in ``polynb up fake`` runs) is a registry over HTTP where the binding
announces its payloads. The binding serves ``POST /run/NAME`` with a JSON body on 127.0.0.1 and answers
``{"output": ...}`` or an error with a status code, the way the real bindings answer their platforms.
Load it with ``POLYNB_PLUGINS=fakeplatform`` and this folder on ``PYTHONPATH``.
"""
from __future__ import annotations

import json
from typing import Any

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from polynb import platforms
from polynb.config import Section, Setting
from polynb.execution import NOT_FOUND, Arrival, Host
from polynb.local import LocalStandIn, start_local
from polynb.magics import payload_arguments, register_cell
from polynb.payload import PayloadVersion
from polynb.platforms.base import READY, Binding, Platform, StandIn, UpOption
from polynb.runner import call_payload

NAME = "fake"


def _listen(app: tornado.web.Application, host: str) -> tuple[tornado.httpserver.HTTPServer, int]:
    server = tornado.httpserver.HTTPServer(app)
    sockets = tornado.netutil.bind_sockets(0, host)
    server.add_sockets(sockets)
    return server, sockets[0].getsockname()[1]


class _Registry(tornado.web.RequestHandler):
    def initialize(self, payloads: dict) -> None:
        self.payloads = payloads

    def get(self) -> None:
        self.write({"payloads": self.payloads})

    def post(self) -> None:
        body = json.loads(self.request.body)
        self.payloads[body["name"]] = body["url"]
        self.write({"ok": True})


class FakeStandIn(StandIn):
    def __init__(self, settings) -> None:
        self.settings = settings
        self.payloads: dict[str, str] = {}

    async def start(self):
        app = tornado.web.Application([(r"/payloads", _Registry, {"payloads": self.payloads})])
        self.server, port = _listen(app, "127.0.0.1")
        return {"url": f"http://127.0.0.1:{port}", "greeting": self.settings["greeting"]}

    async def stop(self) -> None:
        self.server.stop()


class _Run(tornado.web.RequestHandler):
    def initialize(self, binding: FakeBinding) -> None:
        self.binding = binding

    async def post(self, name: str) -> None:
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError as exc:
            self.set_status(400)
            self.write({"error": f"body is not JSON: {exc}", "type": "BadRequest"})
            return
        outcome = await self.binding.service.execute(Arrival(NAME, name, body, encode=json.dumps))
        if outcome.ok:
            self.set_header("Content-Type", "application/json")
            self.write(f'{{"output": {outcome.value}, "record": "{outcome.record_id}"}}')
        else:
            self.set_status(404 if outcome.error_type == NOT_FOUND else 500)
            self.write({"error": outcome.error, "type": outcome.error_type, "record": outcome.record_id})


class FakeBinding(Binding[None]):
    """A payload gets the JSON body of ``POST /run/NAME``; no context."""

    def __init__(self, service: Host, settings: Section) -> None:
        super().__init__(service, settings)
        self.local: LocalStandIn | None = None
        self.server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        registry = self.settings["registry_url"]
        if not registry:
            self.local = await start_local(NAME)
            registry = self.local.info["url"]
        self.registry = registry
        app = tornado.web.Application([(r"/run/(\w+)", _Run, {"binding": self})])
        self.server, port = _listen(app, self.service.settings.core["bind_host"])
        self.base = f"http://127.0.0.1:{port}"
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
    name=NAME, title="the fake platform", binding=FakeBinding,
    settings=(Setting("registry_url", "FAKE_REGISTRY_URL", None), Setting("token", "FAKE_TOKEN", None, secret=True),
              Setting("greeting", "FAKE_GREETING", None)),
    magics=FakeMagics, stand_in=FakeStandIn,
    up_options=(UpOption("--fake-greeting", "FAKE_GREETING", "what the fake stand-in reports", "value"),),
    client_env=lambda info: {"FAKE_REGISTRY_URL": info["url"]},
))
