"""JupyterLab in Debian's Chromium, driven by Playwright: the tour runs, widgets and the side panel show it.

Screenshots land in screenshots/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from jupyter_server_helpers import JupyterServer

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Accepts JupyterLab's kernel choice if it asks, and is true once the tour's kernel is connected and idle.
KERNEL_READY = """() => {
  const accept = document.querySelector('.jp-Dialog .jp-mod-accept');
  if (accept) { accept.click(); return false; }
  const widget = window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session && widget.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


@pytest.fixture
def lab(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    (root / "tests").mkdir()
    shutil.copy(ROOT / "notebooks" / "tour.ipynb", root / "notebooks")
    shutil.copy(ROOT / "tests" / "fakeplatform.py", root / "tests")
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    monkeypatch.setenv("JUPYTERLAB_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("FAKE_REGISTRY_URL", raising=False)
    monkeypatch.delenv("POLYNB_JOURNAL_DIR", raising=False)
    server = JupyterServer(root, app="jupyterlab",
                           extra=["--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly"])
    yield server
    server.stop()


def test_the_tour_runs_in_jupyterlab_and_the_widgets_and_side_panel_show_its_executions(lab):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{lab.url}/lab/tree/notebooks/tour.ipynb?token={lab.token}")
            page.wait_for_function("window.jupyterapp && window.jupyterapp.started", timeout=90_000)
            page.click('li[data-id="polynb-panel"]')
            page.wait_for_function(KERNEL_READY, timeout=90_000)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

            # The last registering cell's live status widget counts every execution of the payload.
            page.wait_for_selector('.polynb-status[data-payload="greet"][data-executions="4"]', timeout=60_000)
            status = page.locator('.polynb-status[data-payload="greet"]').last
            assert status.get_attribute("data-last-status") == "succeeded"
            assert status.get_attribute("data-failed") == "1"
            page.wait_for_selector(".polynb-dashboard", timeout=60_000)

            # The side panel polls the server extension and lists the same executions.
            page.wait_for_function("document.querySelectorAll('.polynb-panel-execution').length === 4", timeout=30_000)
            statuses = page.locator(".polynb-panel-execution").evaluate_all("rows => rows.map(r => r.dataset.status)")
            assert sorted(statuses) == ["failed", "succeeded", "succeeded", "succeeded"]
            payload = page.locator(".polynb-panel-payload").first
            assert payload.get_attribute("data-executions") == "4"
            page.screenshot(path=str(SHOTS / "tour-panel.png"))

            # Clicking a failed execution shows its traceback in the panel's detail pane.
            page.click('.polynb-panel-execution[data-status="failed"]')
            page.wait_for_selector(".polynb-panel-detail", timeout=30_000)
            assert "AttributeError" in page.inner_text(".polynb-panel-detail")
            page.screenshot(path=str(SHOTS / "tour-detail.png"))
        except Exception:
            page.screenshot(path=str(SHOTS / "tour-failure.png"))
            raise
        finally:
            browser.close()
