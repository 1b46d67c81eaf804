"""A notebook deployed as the real Python Execution Connector is: ``polynb serve`` configured like the connector
(environment, or ``serverConfig/server.config`` beside the notebook) against ``polynb up vantiq``, queried over
the server's REST API as a Vantiq application would, then read back from the journal."""
from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from support import POLYNB, Standin, environ_without, read_line, run_polynb, write_notebook

SOURCE = "deployedSource"
CELLS = ("%load_ext polynb", "scale = 10", "%%vantiq_exec sq\nr = v * v * scale")


@contextmanager
def running(args: list[str], cwd: Path | None = None, env: dict | None = None) -> Iterator[subprocess.Popen]:
    """A ``polynb`` command until the test is done with it; SIGTERM then, as a deployment stops it.

    What it printed afterwards is in ``process.printed`` (stdout) and ``process.logged`` (stderr)."""
    process = subprocess.Popen(POLYNB + args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.printed, process.logged = process.communicate(timeout=60)


@pytest.fixture(scope="module")
def vantiq() -> Iterator[dict]:
    """``polynb up vantiq --json``: the server's URL and token."""
    with Standin("vantiq") as server:
        yield server.info


def without_vantiq_settings(**extra: str) -> dict:
    return environ_without(("VANTIQ_", "CONNECTOR_AUTH_TOKEN"), **extra)


def by_environment(folder: Path, vantiq: dict) -> dict:
    return without_vantiq_settings(VANTIQ_TARGET_SERVER=vantiq["url"], CONNECTOR_AUTH_TOKEN=vantiq["token"],
                                   VANTIQ_SOURCES=SOURCE)


def by_server_config(folder: Path, vantiq: dict) -> dict:
    """The connector's own file beside the notebook; the token from the environment, as a deployment keeps it."""
    (folder / "serverConfig").mkdir()
    (folder / "serverConfig" / "server.config").write_text(f"targetServer = {vantiq['url']}\nsources = {SOURCE}\n")
    return without_vantiq_settings(CONNECTOR_AUTH_TOKEN=vantiq["token"])


@pytest.mark.parametrize("configure", [by_environment, by_server_config])
def test_a_served_notebook_answers_a_vantiq_apps_query_and_journals_it(tmp_path, vantiq, configure):
    write_notebook(tmp_path / "worker.ipynb", *CELLS)
    env = configure(tmp_path, vantiq)
    app = httpx.Client(base_url=vantiq["url"], headers={"Authorization": f"Bearer {vantiq['token']}"}, timeout=60)
    with running(["serve", "worker.ipynb"], cwd=tmp_path, env=env) as serve:
        serving = read_line(serve.stdout, 180, "polynb serve").split()
        assert serving[:4] == ["serving", "vantiq", "sq", "v1"], serving
        assert serving[-4:] == ["source", SOURCE, "name", "sq"]
        answer = app.post(f"/api/v1/resources/sources/{SOURCE}/query", json={"name": "sq", "presetValues": {"v": 3}})
        assert (answer.status_code, answer.json()) == (200, [{"pythonCallResults": {"v": 3, "r": 90}}])
        refused = app.post(f"/api/v1/resources/sources/{SOURCE}/query", json={"name": "sq", "presetValues": [3]})
        assert (refused.status_code, refused.json()[0]["code"]) == (
            400, "io.vantiq.pyexecsource.runpython.badglobalpreset")
    assert serve.returncode == 0
    records = run_polynb("journal", str(tmp_path / ".polynb"), "--json", check=True).stdout.splitlines()
    failed, succeeded = map(json.loads, records)  # newest first
    assert (succeeded["platform"], succeeded["payload"], succeeded["status"]) == ("vantiq", "sq", "succeeded")
    assert succeeded["input"] == {"name": "sq", "presetValues": {"v": 3}}
    assert succeeded["output"] == {"pythonCallResults": {"v": 3, "r": 90}}
    assert succeeded["meta"]["source"] == SOURCE
    assert (failed["status"], failed["payload"]) == ("failed", "sq")
    assert "vantiq sq v1 · " in serve.logged and "HTML(value=" not in serve.logged  # the cell's status, as text
