"""A real Jupyter server (or JupyterLab) on a free 127.0.0.1 port, for the lab tests."""
from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
from jupyter_client import BlockingKernelClient
from support import check_running, free_port, stop, wait_until


class JupyterServer:
    def __init__(self, root: Path, app: str = "jupyter_server", extra: list[str] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        runtime = root.parent / f"runtime-{self.port}"
        runtime.mkdir(exist_ok=True)
        self.runtime = runtime
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", app, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}", *(extra or [])],
            env=env, stdout=subprocess.DEVNULL, stderr=open(root.parent / f"server-{self.port}.log", "w"))
        try:
            wait_until(self._answers, 120, "the Jupyter server answering", step=0.2,
                       alive=lambda: check_running(self.process, "the Jupyter server"))
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/status", headers=self.headers).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers=self.headers, timeout=30, **kw)

    def post(self, path: str, body: dict) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", headers=self.headers, json=body, timeout=60)

    def connection_file(self, kernel_id: str) -> Path:
        return self.runtime / f"kernel-{kernel_id}.json"

    @contextlib.contextmanager
    def notebook_kernel(self, path: str, **session: str) -> Iterator[tuple[dict, BlockingKernelClient]]:
        """A session for the notebook at ``path`` (as opening it in Jupyter makes one) and a client of its
        kernel, ready; yields (session, client) and closes the client's channels."""
        started = self.post("/api/sessions", {"path": path, "type": "notebook", "kernel": {"name": "python3"},
                                              **session}).json()
        client = BlockingKernelClient(connection_file=str(self.connection_file(started["kernel"]["id"])))
        client.load_connection_file()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            yield started, client
        finally:
            client.stop_channels()

    def stop(self) -> None:
        stop(self.process)
