"""What the server-extension tests share: a real jupyter-server on a root with one empty notebook."""
from __future__ import annotations

import nbformat
import pytest
from jupyter_server_helpers import JupyterServer


@pytest.fixture
def server(tmp_path, registry):
    """jupyter-server (polynb's extension loaded) on ``root/work/demo.ipynb``; kernels reach the fake platform."""
    root = tmp_path / "root"
    (root / "work").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), root / "work" / "demo.ipynb")
    running = JupyterServer(root)
    yield running
    running.stop()
