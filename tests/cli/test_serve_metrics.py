"""`polynb serve --metrics-port`: a headless notebook's executions scraped as Prometheus metrics over real HTTP."""
from __future__ import annotations

import os
import signal
import subprocess

import httpx
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from support import POLYNB, read_line, run_polynb, taken_port, write_notebook

from polynb.journal import Journal


def test_serve_exposes_the_metrics_of_its_kernels_executions(tmp_path, registry):
    path = write_notebook(tmp_path / "worker.ipynb", "%load_ext polynb",
                          "%%fake_exec half\ndef half(x):\n    return 10 // x")
    other_kernel = Journal(tmp_path / ".polynb")  # another replica sharing the folder: not this target's executions
    other_kernel.close(other_kernel.open("fake", "half", 2, version=1), output=5)
    other_kernel.close_db()
    process = subprocess.Popen(POLYNB + ["serve", str(path), "--metrics-port", "0"], cwd=tmp_path,
                               env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        metrics_url = read_line(process.stdout, 120, "polynb serve's metrics line").split()[1]
        assert metrics_url.startswith("http://127.0.0.1:") and metrics_url.endswith("/metrics")
        address = read_line(process.stdout, 120, "polynb serve's payload line").split()[-1]
        assert [httpx.post(address, json=x).status_code for x in (1, 2, 0)] == [200, 200, 500]
        reply = httpx.get(metrics_url, headers={"Accept": "application/openmetrics-text"}, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert reply.status_code == 200
    totals = {(s.labels["notebook"], s.labels["version"], s.labels["status"]): s.value
              for family in text_string_to_metric_families(reply.text) for s in family.samples
              if s.name == "polynb_executions_total" and (s.labels["platform"], s.labels["payload"]) == ("fake", "half")}
    assert totals == {(str(path), "1", "succeeded"): 2, (str(path), "1", "failed"): 1}


def test_serve_with_a_taken_metrics_port_stops_with_one_line(tmp_path):
    path = write_notebook(tmp_path / "idle.ipynb", "x = 1")
    with taken_port() as port:
        result = run_polynb("serve", str(path), "--metrics-port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert f"metrics: port {port} is already in use; set --metrics-port" in result.stderr
    assert "Traceback" not in result.stderr
