"""What the ColonyOS tests share: the local server as a user starts it, enrolled identities, a service of
the test's own, and pycolonies in its own venv (it installs top-level ``crypto`` and ``model``)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import textwrap
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from peers import peer_python
from support import Standin

from polynb.config import Settings
from polynb.journal import Journal
from polynb.payload import Payload
from polynb.platforms.colonies import crypto
from polynb.platforms.colonies.client import ColoniesClient
from polynb.platforms.colonies.settings import ColoniesSettings
from polynb.service import Service

PYCOLONIES = ["pycolonies==1.0.25"]
T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)


class LocalServer:
    """``polynb up colonies --json`` as a child on a free port, with its state file; restartable."""

    def __init__(self, state: Path, env: dict | None = None) -> None:
        self.state = state
        self.env = env or {}
        self.running: Standin | None = None
        self.info: dict[str, Any] = {}

    def start(self, port: int = 0) -> dict:
        env = {**os.environ, "POLYNB_COLONIES_LOCAL_PORT": str(port), "POLYNB_COLONIES_LOCAL_STATE": str(self.state),
               **self.env}
        env.pop("COLONIES_SERVER_HOST", None)
        self.running = Standin("colonies", env=env)
        self.info = self.running.info
        return self.info

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
        self.running = None

    def restart(self) -> dict:
        """Stop and start again on the same port and state file."""
        port = self.info["port"]
        self.stop()
        return self.start(port)

    def client(self, **options: Any) -> ColoniesClient:
        return ColoniesClient(self.info["host"], self.info["port"], **options)

    @property
    def colony(self) -> str:
        return self.info["colony_name"]

    @property
    def colony_key(self) -> str:
        return self.info["colony_prvkey"]

    def env_vars(self) -> dict[str, str]:
        """What `polynb up colonies --json` says a client sets."""
        return dict(self.info["env"])


async def enroll(client: ColoniesClient, server: LocalServer, name: str, executortype: str = "test",
                 approve: bool = True) -> str:
    """A fresh executor key, registered (and approved) by the colony owner."""
    key = crypto.generate_private_key()
    await client.add_executor(key, name, executortype, server.colony, server.colony_key)
    if approve:
        await client.approve_executor(server.colony, name, server.colony_key)
    return key


def executor_names(server: LocalServer) -> list[str]:
    """The executors the colony lists, as a fresh member sees them (the real server keeps dead ones)."""
    async def listed() -> list[str]:
        client = server.client()
        observer = await enroll(client, server, f"observer-{crypto.generate_private_key()[:8]}")
        found = [e["executorname"] for e in await client.get_executors(server.colony, observer)]
        await client.close()
        return found

    return run(listed())


def service_for(server: LocalServer, journal_dir: Path, **env: str) -> Service:
    """A polynb service of the test's own, configured for the local server as for a real colony."""
    environ = {**server.env_vars(), "POLYNB_COLONIES_ASSIGN_TIMEOUT": "2", **env}
    no_yaml = journal_dir.parent / "polynb.yaml"
    no_yaml.parent.mkdir(parents=True, exist_ok=True)
    no_yaml.write_text("")
    settings = Settings({"colonies": ColoniesSettings}, environ=environ, path=no_yaml)
    return Service(settings=settings, journal=Journal(journal_dir))


def register(service: Service, funcname: str, source: str, **options: Any) -> None:
    service.register(Payload("colonies", funcname, textwrap.dedent(source), None, options, isolated=True))


def pycolonies_python() -> Path:
    return peer_python("colonies", PYCOLONIES)


def run_pycolonies(script: str, server: LocalServer, timeout: float = 120, **env: str) -> dict:
    """Run a pycolonies script in its venv; it prints one JSON line, returned parsed."""
    environ = {**os.environ, **server.env_vars(), "COLONIES_SERVER_TLS": "false", **env}
    environ.pop("PYTHONPATH", None)
    done = subprocess.run([str(pycolonies_python()), "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=timeout, env=environ, cwd="/")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_pycolonies(script: str, server: LocalServer, **env: str) -> subprocess.Popen:
    """A long-running pycolonies process (an executor loop); the caller stops it."""
    environ = {**os.environ, **server.env_vars(), "COLONIES_SERVER_TLS": "false", **env}
    environ.pop("PYTHONPATH", None)
    return subprocess.Popen([str(pycolonies_python()), "-c", textwrap.dedent(script)], env=environ, cwd="/",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
