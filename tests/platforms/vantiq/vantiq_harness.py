"""What the Vantiq tests share: the local server as a user starts it, a REST client for it, the real
connector in its own venv, and polynb's connector in a service of the test's own."""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from peers import peer_python
from support import Standin, stop, wait_until
from websockets.sync.client import connect

from polynb.config import Settings
from polynb.journal import Journal
from polynb.platforms.vantiq import PLATFORM
from polynb.service import Service

PEER_REQUIREMENTS = ["vantiqconnectorsdk==1.3.7", "vantiqpythonexecconnector==1.3.4"]


@contextmanager
def local_server(env: dict | None = None, options: tuple[str, ...] = ()) -> Iterator[dict]:
    """``polynb up vantiq --json [options]`` as a child; yields its ``{"url", "token"}``."""
    with Standin("vantiq", *options, env={**os.environ, **(env or {})}) as server:
        yield server.info


class Rest:
    """The stand-in's REST API, as Vantiq clients and the tests drive it."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def query(self, source: str, request: Any, timeout: float | None = None) -> tuple[int, Any]:
        params = {"timeout": timeout} if timeout else {}
        response = self.client.post(f"/api/v1/resources/sources/{source}/query", json=request, params=params)
        return response.status_code, response.json()

    def frames(self, source: str) -> list[tuple[str, str]]:
        return [tuple(pair) for pair in self.client.get(f"/polynb/sources/{source}/frames").json()]

    def control(self, source: str, action: str, body: str | bytes = b"") -> dict:
        return self.client.post(f"/polynb/sources/{source}/{action}", content=body).json()

    def configure(self, source: str, config: dict) -> dict:
        return self.client.put(f"/api/v1/resources/sources/{source}", json={"config": config}).json()

    def sessions(self, source: str) -> int:
        """How many handshakes the source has completed (configureExtension frames sent)."""
        return sum(1 for direction, text in self.frames(source)
                   if direction == "s2c" and json.loads(text).get("op") == "configureExtension")

    def connectors(self, source: str) -> int:
        return self.client.get(f"/api/v1/resources/sources/{source}").json()["connectors"]

    def wait_for_sessions(self, source: str, count: int, timeout: float = 30.0) -> None:
        wait_until(lambda: self.sessions(source) >= count and self.connectors(source) >= 1, timeout,
                   f"source {source} never reached {count} handshakes")


class ScriptedConnector:
    """A hand-driven connector: the frames a test sends, to see exactly what the server answers."""

    def __init__(self, server: dict, source: str, token: str | None = None) -> None:
        self.socket = connect(server["url"].replace("http", "ws") + "/api/v1/wsock/websocket", legacy=True)
        self.socket.send(json.dumps({"op": "validate", "resourceName": "system.credentials",
                                     "object": token or server["token"]}))
        self.validation = json.loads(self.socket.recv(timeout=5))
        if self.validation.get("status") == 200:
            self.socket.send(json.dumps({"op": "connectExtension", "resourceName": "sources", "resourceId": source,
                                         "parameters": {"reconnectSecret": f"{source}_1"}}))
            self.configuration = json.loads(self.socket.recv(timeout=5))

    def receive(self) -> dict:
        return json.loads(self.socket.recv(timeout=5))

    def answer(self, query: dict, status: int, body=None) -> None:
        frame = {"status": status, "headers": {"X-Reply-Address": query["messageHeaders"]["REPLY_ADDR_HEADER"]}}
        if body is not None:
            frame["body"] = body
        self.socket.send(json.dumps(frame))

    def close(self) -> None:
        self.socket.close()


@contextmanager
def peer_connector(workdir: Path, url: str, token: str, source: str) -> Iterator[subprocess.Popen]:
    """The real ``vantiqPythonExecConnector`` with its server.config, in its own venv and working directory."""
    python = peer_python("vantiq", PEER_REQUIREMENTS)
    config = workdir / "serverConfig"
    config.mkdir(parents=True, exist_ok=True)
    (config / "server.config").write_text(f"targetServer = {url}\nauthToken = {token}\nsources = {source}\n")
    process = subprocess.Popen([str(python.parent / "vantiqPythonExecConnector")], cwd=workdir,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        stop(process, 10)


def settings(url: str | None, token: str | None, sources: str, **more: str) -> Settings:
    environ = {"VANTIQ_SOURCES": sources, **more}
    if url:
        environ["VANTIQ_TARGET_SERVER"] = url
    if token:
        environ["CONNECTOR_AUTH_TOKEN"] = token
    return Settings({"vantiq": PLATFORM.settings}, environ=environ, path=None)


@contextmanager
def polynb_connector(journal_dir: Path, url: str | None, token: str | None, sources: str,
                     notebook: dict | None = None, **more: str) -> Iterator[Service]:
    """A service of the test's own whose Vantiq binding is connected."""
    service = Service(settings(url, token, sources, **more), Journal(journal_dir), notebook_ns=notebook)
    try:
        service.call(service.binding("vantiq"))
        yield service
    finally:
        service.stop(timeout=2)
