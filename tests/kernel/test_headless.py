"""A notebook executed headless with nbclient, as papermill does, exits even with an execution in flight."""
from __future__ import annotations

import os
import sqlite3

import nbformat
from nbclient import NotebookClient
from processes import alive


def test_a_headless_run_exits_and_the_stuck_execution_is_marked_interrupted(tmp_path, registry):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "%load_ext polynb\nimport os, polynb, threading, time, httpx\nprint(os.getpid())",
        "%%fake_exec stuck\ndef stuck(x):\n    threading.Event().wait()  # never returns",
        "address = polynb.get_service().address('fake', 'stuck')\n"
        "threading.Thread(target=lambda: httpx.post(address, json=1, timeout=None), daemon=True).start()\n"
        "while not polynb.records(status='running'): time.sleep(0.01)",
    )]
    path = tmp_path / "stuck.ipynb"
    nbformat.write(nb, path)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    os.environ["JPY_SESSION_NAME"] = str(path)
    try:
        client.execute()
    finally:
        del os.environ["JPY_SESSION_NAME"]
    pid = int(nb.cells[0].outputs[0]["text"])
    assert not alive(pid)
    rows = sqlite3.connect(tmp_path / ".polynb" / "journal.sqlite").execute(
        "SELECT status, error FROM executions").fetchall()
    assert len(rows) == 1
    status, error = rows[0]
    assert status == "interrupted", rows
    assert "polynb stopped before this execution finished" in error
