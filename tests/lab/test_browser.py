"""JupyterLab in Debian's Chromium, driven by Playwright: the tour runs, widgets and the side panel show it.

Screenshots land in screenshots/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lab_helpers import CHROMIUM, FLAGS, KERNEL_READY, ROOT, SHOTS, quiet_lab
from playwright.sync_api import Error as PlaywrightError


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "tour.ipynb", root / "notebooks")
    with quiet_lab(tmp_path, root) as server:
        yield server


# What the tour's executions leave in each registering cell's live status widget.
EXPECTED_WIDGETS = {("kgrid", "tour/score/1.0/score"): 1, ("vantiq", "score"): 1, ("colonies", "score_job"): 1,
                    ("aio", "tour-score"): 1, ("cloudstate", "tour.Scores"): 1}  # CloudState: one call, one record


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

            # Every registering cell's live status widget counts the executions that reached it.
            for (platform, payload), count in EXPECTED_WIDGETS.items():
                page.wait_for_selector(f'.polynb-status[data-platform="{platform}"][data-payload="{payload}"]'
                                       f'[data-executions="{count}"]', timeout=180_000)
                status = page.locator(f'.polynb-status[data-platform="{platform}"][data-payload="{payload}"]').last
                assert status.get_attribute("data-last-status") == "succeeded"
                assert status.get_attribute("data-state") == "ready"
                picture(status, SHOTS / f"widget-{platform}.png")
            page.wait_for_selector(".polynb-dashboard", timeout=60_000)

            # The side panel polls the server extension and lists the same executions and payloads.
            total = sum(EXPECTED_WIDGETS.values())
            page.wait_for_function(f"document.querySelectorAll('.polynb-panel-execution').length === {total}",
                                   timeout=30_000)
            statuses = page.locator(".polynb-panel-execution").evaluate_all("rows => rows.map(r => r.dataset.status)")
            assert statuses == ["succeeded"] * total
            platforms = page.locator(".polynb-panel-platform").evaluate_all(
                "rows => rows.map(r => [r.querySelector('.polynb-panel-name').textContent, r.dataset.state])")
            assert sorted(platforms) == [[p, "ready"] for p in ("aio", "cloudstate", "colonies", "kgrid", "vantiq")]
            page.screenshot(path=str(SHOTS / "tour-panel.png"))

            # Clicking an execution shows its input and output in the panel's detail pane.
            page.click('.polynb-panel-execution:has-text("kgrid")')
            page.wait_for_selector(".polynb-panel-detail", timeout=30_000)
            detail = page.inner_text(".polynb-panel-detail")
            assert '"speed": 1' in detail and '"score": 8' in detail
            page.screenshot(path=str(SHOTS / "tour-detail.png"))

            # Clicking a payload makes the cell that defines it the active cell.
            page.click('.polynb-panel-payload:has-text("score_job")')
            page.wait_for_function(
                "() => window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.getSource()"
                ".startsWith('%%colonies_func score_job')", timeout=30_000)
        except Exception:
            page.screenshot(path=str(SHOTS / "tour-failure.png"))
            raise
        finally:
            browser.close()


def picture(locator, path: Path, attempts: int = 3) -> None:
    """A screenshot for a person to look at. A status widget's HTML is replaced at each refresh, so a picture
    whose element went away mid-shot is taken again."""
    for attempt in range(attempts):
        try:
            locator.screenshot(path=str(path))
            return
        except PlaywrightError as exc:
            if "not attached" not in str(exc) or attempt == attempts - 1:
                raise
