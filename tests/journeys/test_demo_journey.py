"""The demo as a new user walks it: `make demo`'s platforms (binder/start), every notebook run twice in a row,
then notebooks side by side, and the lab panel's detail of every execution the walk recorded."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from jupyter_server_helpers import JupyterServer

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLATFORM_VARIABLES = ("KGRID_", "VANTIQ_", "CONNECTOR_AUTH_TOKEN", "COLONIES_", "KAI_", "CLOUDSTATE_", "PORT", "HOST",
                      "POLYNB_")
PAIRS = (("tour.ipynb", "colonies.ipynb"), ("vantiq.ipynb", "aio.ipynb"), ("kgrid.ipynb", "cloudstate.ipynb"))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The notebooks of notebooks/ in a folder of their own, walked under binder/start; the walk's report."""
    folder = tmp_path_factory.mktemp("demo") / "notebooks"
    shutil.copytree(ROOT / "notebooks", folder, ignore=shutil.ignore_patterns(".polynb", ".ipynb_checkpoints"))
    env = {key: value for key, value in os.environ.items()
           if not any(key == name or (name.endswith("_") and key.startswith(name)) for name in PLATFORM_VARIABLES)}
    env.update(PATH=f"{BIN}{os.pathsep}{env['PATH']}", POLYNB_DEMO_ENV=str(folder.parent / "platforms.env"),
               POLYNB_COLONIES_LOCAL_PORT="0")
    report = folder.parent / "report.json"
    pairs = [arg for pair in PAIRS for arg in ("--pair", *pair)]
    subprocess.run([ROOT / "binder" / "start", sys.executable, Path(__file__).with_name("walk.py"), folder, report,
                    "--rounds", "2", *pairs], env=env, cwd=folder, check=True, timeout=1400)
    return folder, json.loads(report.read_text())


def test_every_notebook_passes_twice_in_a_row_and_side_by_side_on_the_same_platforms(walk):
    _, runs = walk
    notebooks = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert {r["notebook"] for r in runs if r["run"] == "round2"} == notebooks
    assert {r["notebook"] for r in runs if r["run"] == "together"} == {name for pair in PAIRS for name in pair}
    failed = [f"{r['notebook']} ({r['run']}): {r['error']}" for r in runs if not r["ok"]]
    assert not failed, "\n\n".join(failed)


def test_no_output_of_the_walk_is_a_raw_widget_repr(walk):
    _, runs = walk
    raw = {f"{r['notebook']} ({r['run']})": r["raw_widgets"] for r in runs if r["raw_widgets"]}
    assert not raw, raw


def test_the_lab_panel_opens_the_detail_of_every_execution_the_walk_recorded(walk):
    folder, _ = walk
    server = JupyterServer(folder)
    try:
        session = httpx.post(f"{server.url}/api/sessions", headers=server.headers,
                             json={"path": "tour.ipynb", "type": "notebook", "kernel": {"name": "python3"}})
        assert session.status_code == 201, session.text
        listing = httpx.get(f"{server.url}/polynb/api/journals", params={"limit": 1000},
                            headers=server.headers)
        assert listing.status_code == 200, listing.text
        from polynb.journal import Journal

        journal = Journal(folder / ".polynb", readonly=True)
        try:
            ids = [record.id for record in journal.records(limit=100_000)]
        finally:
            journal.close_db()
        platforms = set()
        for record_id in ids:
            detail = httpx.get(f"{server.url}/polynb/api/executions/{record_id}", headers=server.headers)
            assert detail.status_code == 200, f"{record_id}: {detail.status_code} {detail.text[:500]}"
            platforms.add(detail.json()["platform"])
        assert platforms >= {"kgrid", "vantiq", "colonies", "aio", "cloudstate"}
    finally:
        server.stop()
