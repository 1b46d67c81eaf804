"""KGrid deploy: ``polynb serve`` runs a notebook as a KGrid Python runtime, configured as the runtime's deployment is.

The activator is the local one, started on its own as ``polynb up kgrid --json``. The served process gets the
real runtime's variables only: ``PORT`` (where it listens), ``KGRID_PYTHON_ENV_URL`` (what it registers) and
``KGRID_PROXY_ADAPTER_URL`` (the activator). A client then calls the notebook's KO through the activator.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from support import POLYNB, environ_without, free_port, read_line, stop

from polynb.journal import Journal

SAMPLE = Path(__file__).resolve().parent / "kgrid" / "sample.ipynb"
#: what the test's own environment must not pass on: the deployment sets the runtime's variables only
NOT_INHERITED = ("POLYNB_", "KGRID_", "CLOUDSTATE_", "KAI_", "COLONIES_", "VANTIQ_", "PORT", "HOST", "DEBUG",
                 "JPY_SESSION_NAME")


def clean_env(**values: str) -> dict[str, str]:
    return environ_without(NOT_INHERITED, **values)


@pytest.fixture
def activator(tmp_path, standin):
    """``polynb up kgrid --json``: the local activator, its shelf in the test's folder; yields its URL."""
    return standin("kgrid", env=clean_env(KGRID_ACTIVATOR_SHELF=str(tmp_path / "activator-shelf"))).info["url"]


def test_a_served_notebook_is_the_runtime_its_deployment_describes(tmp_path, activator):
    notebook = Path(shutil.copy(SAMPLE, tmp_path / "sample.ipynb"))
    port = free_port()
    runtime = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(POLYNB + ["serve", str(notebook)], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=clean_env(PORT=str(port), KGRID_PYTHON_ENV_URL=runtime,
                                             KGRID_PROXY_ADAPTER_URL=activator + "/"))
    try:
        serving = read_line(process.stdout, 180, "polynb serve").strip()
        assert serving == f"serving kgrid deploy/score/1.0/score v1 {activator}/deploy/score/1.0/score", \
            process.stderr.read() if process.poll() is not None else "no serving line"
        assert httpx.get(f"{activator}/proxy/environments/python").json()["url"] == runtime
        assert httpx.get(f"{runtime}/info").json()["url"] == runtime
        reply = httpx.post(f"{activator}/deploy/score/1.0/score", json={"speed": 1, "care": 2}, timeout=60)
        assert (reply.status_code, reply.json()["result"]) == (200, 8)
        assert reply.json()["info"]["endpoint"]["title"] == "A deployed score"
        refused = httpx.post(f"{activator}/deploy/score/1.0/score", json={"luck": 1}, timeout=60)
        assert (refused.status_code, refused.json()["Title"]) == (500, "Adapter Server Error")
        assert '"name":"KeyError"' in refused.json()["Detail"]
    finally:
        code = stop(process, 120)
    assert code == 0, process.stderr.read()
    statuses = [r.status for r in Journal(tmp_path / ".polynb").records(platform="kgrid", payload="deploy/score/1.0/score")]
    assert sorted(statuses) == ["failed", "succeeded"]
