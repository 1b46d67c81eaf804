"""What the browser tests share: Debian's Chromium, JupyterLab in a temp folder without its news toast,
notebooks written for a test, and a page on a notebook in the light or dark theme."""
from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_server_helpers import JupyterServer

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}

# Accepts JupyterLab's kernel choice if it asks, and is true once the notebook's kernel is connected and idle.
KERNEL_READY = """() => {
  const accept = document.querySelector('.jp-Dialog .jp-mod-accept');
  if (accept) { accept.click(); return false; }
  const widget = window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session && widget.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""

ALL_CELLS_RAN = "window.jupyterapp.shell.currentWidget.content.widgets.every(cell => cell.model.executionCount !== null)"


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


@contextlib.contextmanager
def quiet_lab(tmp: Path, root: Path) -> Iterator[JupyterServer]:
    """JupyterLab serving ``root``, its news toast off, the window's app exposed; the journal beside each notebook."""
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTERLAB_SETTINGS_DIR", str(tmp / "settings"))
        env.delenv("POLYNB_JOURNAL_DIR", raising=False)
        server = JupyterServer(root, app="jupyterlab",
                               extra=["--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly"])
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, headless, driven by Playwright (no `playwright install`)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def open_notebook(browser, lab: JupyterServer, notebook: str, theme: str = "light", height: int = 1000):
    """A page of its own on ``notebook`` in ``theme``, its kernel ready, the clipboard allowed."""
    context = browser.new_context(viewport={"width": 1600, "height": height},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/{notebook}?token={lab.token}")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.started", timeout=90_000)
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{THEMES[theme]}'}})")
    page.wait_for_function(f"document.body.dataset.jpThemeName === '{THEMES[theme]}'", timeout=30_000)
    return page


def run_all_cells(page, timeout: float = 120_000) -> None:
    """Fire run-all without awaiting it (awaiting can hang) and wait until every cell has run."""
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(ALL_CELLS_RAN, timeout=timeout)
