"""``polynb serve NOTEBOOK``: execute a notebook headless in a real kernel and keep its payloads serving.

The notebook runs top to bottom in a kernel whose working folder and session path are the notebook's
(so its journal is the one beside it, as in JupyterLab), started with ``POLYNB_SERVE=1``; after the last
cell the kernel is told that the notebook has run (``polynb.headless``), which lets the bindings that
waited for it answer (CloudState's discovery). Then this process prints one line per registered
payload, waits for SIGINT or SIGTERM, asks the kernel's service to drain, and exits 0.
Several ``polynb serve`` of one notebook share the load through the platforms' own engines.
``--metrics-port`` serves the kernel's executions as Prometheus metrics (:mod:`polynb.metrics`).
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from jupyter_client.manager import KernelManager

from .config import core_section
from .headless import SERVE_ENV
from .journal import default_directory
from .metrics import JournalSource, start_server
from .ports import PortInUse, url_host

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

#: run in the kernel after the last cell
NOTEBOOK_RAN = "__import__('polynb.headless', fromlist=['notebook_ran']).notebook_ran()"


class CellFailed(RuntimeError):
    pass


def _run(client, code: str, timeout: float, label: str, expressions: dict | None = None) -> dict:
    """Execute code in the kernel; the cell's outputs go to stderr, an error raises CellFailed."""
    def show(message: dict) -> None:
        kind, content = message["header"]["msg_type"], message["content"]
        if kind == "stream":
            sys.stderr.write(content["text"])
        elif kind == "error":
            sys.stderr.write("\n".join(content["traceback"]) + "\n")
        elif kind in ("execute_result", "display_data"):
            text = content.get("data", {}).get("text/plain")
            if text:
                sys.stderr.write(text + "\n")

    reply = client.execute_interactive(code, timeout=timeout, output_hook=show, store_history=False,
                                       user_expressions=expressions or {})
    content = reply["content"]
    if content["status"] != "ok":
        raise CellFailed(f"{label} failed: {content.get('ename')}: {content.get('evalue')}")
    return content


def _serving(content: dict) -> dict:
    value = content.get("user_expressions", {}).get("polynb_serving", {})
    if value.get("status") != "ok":
        return {"payloads": [], "platforms": {}}
    return json.loads(ast.literal_eval(value["data"]["text/plain"]))


def _serve_metrics(client, path: Path, label: str, port: int) -> WSGIServer:
    """Serve the metrics of this kernel's executions alone, not those of other replicas sharing its journal:
    each replica is one Prometheus target, so a sum over targets counts every execution once."""
    kernel = _run(client, "pass", 60, "asking the kernel where it runs",
                  {"kernel": "(__import__('socket').gethostname(), __import__('os').getpid())"})
    host, pid = ast.literal_eval(kernel["user_expressions"]["kernel"]["data"]["text/plain"])
    source = JournalSource(default_directory(path.parent), label, {"host": host, "pid": pid})
    bind_host = core_section(path.parent).bind_host
    server, bound = start_server([source], bind_host, port)
    print(f"metrics http://{url_host(bind_host)}:{bound}/metrics", flush=True)
    return server


def serve_notebook(path: Path, kernel_name: str = "python3", cell_timeout: float = 600.0,
                   metrics_port: int | None = None) -> int:
    label = str(path)  # the notebook as the operator named it: the metrics' ``notebook`` label
    path = path.resolve()
    if not path.is_file():
        print(f"polynb serve: no notebook at {path}", file=sys.stderr)
        return 2
    notebook = nbformat.read(path, as_version=4)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    # IPC sockets in a private folder, not TCP ports: jupyter_client picks free TCP ports by binding port 0
    # and letting go, so replicas started together could take each other's ports.
    sockets = tempfile.mkdtemp(prefix="polynb-serve-")
    manager = KernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(sockets, "kernel"))
    env = {**os.environ, "JPY_SESSION_NAME": str(path), SERVE_ENV: "1"}
    manager.start_kernel(cwd=str(path.parent), env=env)
    client = manager.client()
    client.start_channels()
    code = 0
    metrics = None
    try:
        client.wait_for_ready(timeout=60)
        if metrics_port is not None:
            metrics = _serve_metrics(client, path, label, metrics_port)
        for index, cell in enumerate(notebook.cells):
            if stop.is_set():
                break
            if cell.cell_type == "code" and cell.source.strip():
                _run(client, cell.source, cell_timeout, f"cell {index + 1}")
        serving = _serving(_run(client, NOTEBOOK_RAN, 60, "opening the notebook's payloads",
                                {"polynb_serving": "__import__('polynb').serving()"}))
        for payload in serving["payloads"]:
            print(f"serving {payload['platform']} {payload['name']} v{payload['version']} "
                  f"{payload['address'] or ''}".rstrip(), flush=True)
        for platform, status in serving["platforms"].items():
            if not any(p["platform"] == platform for p in serving["payloads"]):
                print(f"serving {platform} (platform-pushed) {status['address'] or ''}".rstrip(), flush=True)
        print(f"polynb serve: {path.name} is serving; stop with Ctrl-C or SIGTERM", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            if not manager.is_alive():
                print("polynb serve: the kernel died", file=sys.stderr)
                code = 1
                break
        if manager.is_alive():
            print("polynb serve: draining", file=sys.stderr, flush=True)
            _run(client, "print(f'interrupted: {__import__(\"polynb\").shutdown()}')", 120, "drain")
    except (CellFailed, RuntimeError, TimeoutError, PortInUse) as exc:
        print(f"polynb serve: {exc}", file=sys.stderr)
        code = 1
    finally:
        if metrics is not None:
            metrics.shutdown()
            metrics.server_close()
        client.stop_channels()
        manager.shutdown_kernel(now=False)
        shutil.rmtree(sockets, ignore_errors=True)
    return code
