"""Processes the KGrid tests and the benchmark start: polynb's local activator and the real runtime.

The real ``kgrid-python-runtime`` 0.1.0 pins Flask 1.1.2 and Werkzeug 1.0.1 but not their own loose
dependencies, which have moved on: Jinja2 < 3, MarkupSafe < 2.1 and itsdangerous < 2 are needed for
Flask 1.1 to import. On Python 3.11 its CLI wrapper, Flask-Script 2.0.6, calls ``inspect.getargspec``
(removed in 3.11), so the launcher puts back an equivalent before importing it; it also makes Flask
bind 127.0.0.1 instead of every interface.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for benchmarks/kgrid.py (pytest has it)

from peers import peer_python  # noqa: E402
from support import Standin, check_running, environ_without, free_port, stop, wait_until  # noqa: E402

KOS = Path(__file__).resolve().parent / "kos"
REAL_RUNTIME = ["kgrid-python-runtime==0.1.0", "jinja2==2.11.3", "markupsafe==2.0.1", "itsdangerous==1.1.0"]
LAUNCHER = (
    "import inspect, flask, runpy\n"
    "inspect.getargspec = lambda f: inspect.getfullargspec(f)[:4]\n"
    "_run = flask.Flask.run\n"
    "flask.Flask.run = lambda self, host=None, port=None, **kw: _run(self, '127.0.0.1', port, **kw)\n"
    "runpy.run_module('kgrid_python_runtime', run_name='__main__')\n"
)


@contextmanager
def local_activator(shelf: Path, kos_dir: Path | None = None, port: int = 0) -> Iterator[dict]:
    """``polynb up kgrid --json`` as a user starts it; yields the JSON it prints."""
    env = {**os.environ, "KGRID_ACTIVATOR_SHELF": str(shelf), "KGRID_ACTIVATOR_PORT": str(port)}
    env.pop("KGRID_KOS_DIR", None)
    if kos_dir is not None:
        env["KGRID_KOS_DIR"] = str(kos_dir)
    with Standin("kgrid", env=env) as activator:
        yield activator.info


def registered_url(activator: str) -> str | None:
    """The URL the activator's python runtime registered with, if any."""
    try:
        return httpx.get(f"{activator}/proxy/registrations").json().get("python", {}).get("url")
    except httpx.HTTPError:
        return None


@contextmanager
def real_runtime(workdir: Path, activator: str, *, cache_strategy: str | None = None,
                 heartbeat: int = 0) -> Iterator[str]:
    """The real runtime from its own venv, registered with ``activator``; yields its URL."""
    python = peer_python("kgrid", REAL_RUNTIME)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environ_without(("KGRID_", "PYTHON"), KGRID_PYTHON_ENV_PORT=str(port), KGRID_PYTHON_ENV_URL=url,
                          KGRID_PROXY_ADAPTER_URL=activator, KGRID_PROXY_HEARTBEAT_INTERVAL=str(heartbeat))
    if cache_strategy:
        env["KGRID_PYTHON_CACHE_STRATEGY"] = cache_strategy
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen([str(python), "-c", LAUNCHER], cwd=workdir, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: registered_url(activator) == url, 60, "the real KGrid runtime registering",
                   alive=lambda: check_running(process, "the real KGrid runtime"))
        yield url
    finally:
        stop(process, 10)
