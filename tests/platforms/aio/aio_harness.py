"""Test helpers for AIO: a nats-server per test module, a NATS client on its own loop thread, a polynb service."""
from __future__ import annotations

import itertools
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import nats
from loop_thread import LoopThread

from polynb.config import Settings
from polynb.journal import Journal
from polynb.payload import Payload
from polynb.platforms.aio import PLATFORM
from polynb.platforms.aio.natsserver import NatsServer
from polynb.service import Service

_workflows = itertools.count(1)


class Server:
    """A real nats-server with JetStream on 127.0.0.1, restartable on its port and store."""

    def __init__(self, folder: Path) -> None:
        self.loops = LoopThread()
        self.nats = NatsServer(folder / "jetstream")
        self.loops.run(self.nats.start())

    @property
    def url(self) -> str:
        return self.nats.url

    def restart(self, pause: float = 0.5) -> None:
        self.loops.run(self.nats.stop())
        time.sleep(pause)
        self.loops.run(self.nats.start())

    def close(self) -> None:
        self.loops.run(self.nats.stop())
        self.loops.close()


class Client:
    """A plain nats-py client: publishes inputs and records what arrives on subjects."""

    def __init__(self, url: str) -> None:
        self.loops = LoopThread()
        self.nc = self.loops.run(nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2))
        self.js = self.nc.jetstream()
        self.received: dict[str, list[bytes]] = {}

    def run(self, coro: Coroutine, timeout: float = 60) -> Any:
        return self.loops.run(coro, timeout)

    def listen(self, subject: str) -> list[bytes]:
        """Core-NATS subscription (no consumer, so no interest in the stream): bytes in arrival order."""
        arrived = self.received.setdefault(subject, [])

        async def on_message(msg) -> None:
            arrived.append(msg.data)

        self.run(self.nc.subscribe(subject, cb=on_message))
        self.run(self.nc.flush())
        return arrived

    def publish(self, subject: str, data: bytes) -> None:
        self.run(self.js.publish(subject, data))

    def close(self) -> None:
        self.run(self.nc.close())
        self.loops.close()


def new_workflow() -> str:
    return f"wf{next(_workflows)}"


def aio_service(folder: Path, url: str, **env: str) -> Service:
    """A polynb service whose AIO binding joins ``url`` and plays the managers (the embedded setup does too)."""
    environ = {"KAI_NATS_URL": url, "POLYNB_AIO_MANAGE": "1", "KAI_PRODUCT_ID": "demo", **env}
    settings = Settings({"aio": PLATFORM.settings}, environ=environ, path=None)
    return Service(settings=settings, journal=Journal(folder / ".polynb"), notebook_ns=None)


def register(service: Service, process: str, source: str, *, runner: str = "task", workflow: str,
             subscribe: tuple[str, ...] = (), from_node: dict | None = None) -> str | None:
    options = {"runner": runner, "workflow": workflow, "subscribe": list(subscribe), "from_node": from_node or {}}
    registration = service.register(Payload("aio", process, source, None, options, isolated=True))
    return registration.address
