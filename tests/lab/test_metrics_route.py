"""GET /polynb/api/metrics on a real Jupyter server: every running notebook's executions, behind Jupyter's auth."""
from __future__ import annotations

import httpx
import nbformat
import pytest
from jupyter_server_helpers import JupyterServer
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from polynb.journal import Journal


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "root"
    for folder in ("work", "other"):
        (root / folder).mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(), root / folder / "demo.ipynb")
    running = JupyterServer(root)
    yield running
    running.stop()


def record(root, folder: str, notebook: str, status: str | None = None) -> None:
    """An execution of ``folder/notebook`` as its kernel would journal it (closed unless ``status`` is open)."""
    journal = Journal(root / folder / ".polynb")
    journal.notebook = str((root / folder / notebook).resolve())
    record_id = journal.open("fake", "hello", 1, version=1)
    if status is None:
        journal.close(record_id, output=1)
    journal.close_db()


def test_the_metrics_of_every_running_notebook_are_labelled_as_the_other_routes_name_it(server, tmp_path):
    root = tmp_path / "root"
    record(root, "work", "demo.ipynb")
    record(root, "work", "demo.ipynb")
    record(root, "work", "demo.ipynb", status="received")
    record(root, "other", "demo.ipynb")
    record(root, "work", "closed.ipynb")  # a notebook with no session: not among the running ones
    for path in ("work/demo.ipynb", "other/demo.ipynb"):
        server.post("/api/sessions", {"path": path, "type": "notebook", "kernel": {"name": "python3"}})

    reply = httpx.get(f"{server.url}/polynb/api/metrics", timeout=30,
                      headers={**server.headers, "Accept": "application/openmetrics-text"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/openmetrics-text")
    samples = {(s.name, s.labels.get("notebook") or s.labels.get("journal")): s.value
               for family in text_string_to_metric_families(reply.text) for s in family.samples
               if s.labels.get("status", "succeeded") == "succeeded" and "le" not in s.labels}
    assert samples[("polynb_executions_total", "work/demo.ipynb")] == 2
    assert samples[("polynb_executions_total", "other/demo.ipynb")] == 1
    assert samples[("polynb_executions_in_flight", "work/demo.ipynb")] == 1
    assert ("polynb_executions_in_flight", "other/demo.ipynb") not in samples
    assert samples[("polynb_journal_size_bytes", str(root / "work" / ".polynb"))] > 0
    assert {notebook for name, notebook in samples if name == "polynb_executions_total"} == {
        "work/demo.ipynb", "other/demo.ipynb"}


def test_the_metrics_need_jupyters_token(server):
    assert httpx.get(f"{server.url}/polynb/api/metrics").status_code == 403
    bearer = httpx.get(f"{server.url}/polynb/api/metrics", headers={"Authorization": f"Bearer {server.token}"})
    assert bearer.status_code == 200
    assert bearer.headers["content-type"].startswith("text/plain")  # no Accept: the classic text format
