"""polynb's notebook widgets (status widgets, the ``%polynb`` dashboard) in JupyterLab, in Debian's Chromium
driven by Playwright, in the light and dark themes.

One JupyterLab serves the module: a small tour registers two fake-platform payloads, answers eight
executions (one fails) and shows the dashboard. Screenshots of every state are written to a temp folder
(its path is printed) and the docs/images/widgets-*.png are regenerated from them.
"""
from __future__ import annotations

import shutil

import httpx
import pytest
from lab_helpers import ROOT, chromium, open_notebook, quiet_lab, run_all_cells, write_notebook

TOUR = "work/widgets.ipynb"
SCORE, ECHO = "score_answers", "echo_back"
SCORES, ECHOES = [1, 2, 3, 4, 0], ["a", "b", "c"]  # the last score divides by zero
FINAL_COUNTS = {SCORE: {"succeeded": 4, "failed": 1}, ECHO: {"succeeded": 3, "failed": 0}}
TOUR_CELLS = [
    "%load_ext polynb\nimport httpx\nimport polynb",
    f"%%fake_exec {SCORE}\ndef {SCORE}(answers):\n    print('scoring', answers)\n    return 100 // answers",
    f"%%fake_exec {ECHO}\ndef {ECHO}(word):\n    return word",
    "post = lambda name, value: httpx.post(polynb.get_service().address('fake', name), json=value).status_code\n"
    f"[post('{SCORE}', n) for n in {SCORES}] + [post('{ECHO}', w) for w in {ECHOES}]",
    "%polynb",
]
THEMES = ("light", "dark")
TALL = 1800  # the whole dashboard with a detail open fits the notebook, so its screenshots are whole

# Elements of the widgets whose content is wider than their box: text cut at the notebook's width.
CLIPPED = """() => [...document.querySelectorAll('.polynb-dashboard, .polynb-dashboard *, .polynb-status, .polynb-status *')]
  .filter(e => e.scrollWidth > e.clientWidth)
  .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ${e.scrollWidth}>${e.clientWidth}: ${e.textContent.slice(0, 60)}`)"""

ROWS = ".polynb-dashboard .polynb-execution"
DEFINING = ("window.jupyterapp.shell.currentWidget.content.widgets.find(c => c.model.sharedModel.getSource()"
            f".startsWith('%%fake_exec {SCORE}'))")
IN_VIEW = (f"(() => {{ const c = {DEFINING}.node.getBoundingClientRect(); const n = window.jupyterapp.shell"
           ".currentWidget.content.node.getBoundingClientRect(); return c.bottom > n.top && c.top < n.bottom; })()")


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("widget-screenshots")
    print(f"widget screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    """JupyterLab whose kernel ran the tour: two status widgets, eight executions and the dashboard."""
    tmp = tmp_path_factory.mktemp("widgets")
    write_notebook(tmp / "root" / TOUR, TOUR_CELLS)
    with quiet_lab(tmp, tmp / "root") as server:
        page = open_notebook(browser, server, TOUR)
        try:
            run_all_cells(page)
            page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
            page.wait_for_function("!window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
        finally:
            page.context.close()
        assert {payload: recorded(server, payload) for payload in FINAL_COUNTS} == FINAL_COUNTS
        yield server


def journal(lab) -> dict:
    reply = lab.get("/polynb/api/journals", params={"limit": 500})
    assert reply.status_code == 200, reply.text
    return next(j for j in reply.json()["journals"] if j["notebook"] == TOUR)


def executions(lab) -> list[dict]:
    return journal(lab)["executions"]


@pytest.fixture(params=THEMES)
def page(request, browser, lab):
    """The tour's notebook reopened in a theme: its widgets come back from the running kernel."""
    opened = open_notebook(browser, lab, TOUR, request.param, height=TALL)
    opened.wait_for_selector(ROWS, timeout=60_000)
    opened.theme = request.param
    yield opened
    opened.context.close()


def status_widget(page, payload: str):
    return page.locator(f'.polynb-status[data-platform="fake"][data-payload="{payload}"]').last


def detail_actions(page):
    return page.locator(".polynb-detail-box .polynb-actions")


def shoot(locator, shots, name: str, docs: bool = True) -> None:
    """A screenshot for review; the docs/images copy is regenerated from it."""
    path = shots / f"widgets-{name}.png"
    locator.screenshot(path=str(path))
    if docs:
        shutil.copy(path, ROOT / "docs" / "images" / path.name)


def recorded(lab, payload: str) -> dict[str, int]:
    """What the journal holds of a payload's executions: the counts its status widget must reach."""
    statuses = [r["status"] for r in executions(lab) if r["payload"] == payload]
    return {status: statuses.count(status) for status in ("succeeded", "failed")}


def reaches(page, lab, payload: str) -> None:
    wanted = "".join(f'[data-{status}="{n}"]' for status, n in recorded(lab, payload).items())
    page.wait_for_selector(f'.polynb-status[data-payload="{payload}"]{wanted}', timeout=60_000)


def test_every_status_widget_reaches_its_final_counts_and_no_text_is_clipped(page, lab, shots):
    for payload in (SCORE, ECHO):
        reaches(page, lab, payload)
        assert status_widget(page, payload).get_attribute("data-state") == "ready"
    assert page.evaluate(CLIPPED) == []
    page.mouse.move(0, 0)
    # the output holding the widget: the widget's own element is replaced while it ticks
    shoot(page.locator(".jp-OutputArea-output").filter(has=status_widget(page, SCORE)), shots, f"status-{page.theme}")

    # Live: more executions reach the open page's widgets, and the dashboard's chart shows the last minute.
    address = next(p["address"] for p in journal(lab)["payloads"] if p["name"] == ECHO)
    assert [httpx.post(address, json=word).status_code for word in ("d", "e", "f")] == [200] * 3
    reaches(page, lab, ECHO)
    page.wait_for_selector('.polynb-chart[data-platform="fake"]:not([data-count="0"])', timeout=30_000)
    assert page.evaluate(CLIPPED) == []
    shoot(page.locator(".polynb-dashboard"), shots, f"dashboard-{page.theme}")


def test_every_dashboard_row_carries_its_record_id_newest_first(page, lab):
    listed = page.locator(ROWS).evaluate_all("rows => rows.map(r => [r.dataset.executionId, r.dataset.status])")
    recorded = [[r["id"], r["status"]] for r in executions(lab)]
    assert listed == recorded[:len(listed)] and len(listed) >= len(SCORES) + len(ECHOES)
    failed = page.locator(f'{ROWS}[data-status="failed"]')
    assert failed.count() >= 1 and "polynb-row-failed" in failed.first.get_attribute("class")
    background, badge = failed.first.evaluate(
        "r => [getComputedStyle(r).backgroundColor, getComputedStyle(r.querySelector('.polynb-badge')).color]")
    error_colour = page.evaluate("(() => { const s = document.createElement('span'); s.style.color = "
                                 "'var(--jp-error-color1)'; document.body.append(s); const c = getComputedStyle(s)"
                                 ".color; s.remove(); return c; })()")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")  # the failed row is highlighted
    assert badge == error_colour  # in the theme's error colour


def test_a_row_opens_its_detail_with_copy_id_and_go_to_cell(page, lab, shots):
    failure = next(r for r in executions(lab) if r["status"] == "failed")
    page.locator(f'{ROWS}[data-execution-id="{failure["id"]}"]').click()
    detail = page.locator(f'.polynb-record[data-execution-id="{failure["id"]}"]')
    detail.wait_for(timeout=30_000)
    traceback = detail.locator(".polynb-record-traceback").inner_text()
    assert "Cell In[" in traceback and f"in {SCORE}" in traceback and "ZeroDivisionError" in traceback
    assert "0" in detail.locator(".polynb-record-input").inner_text()
    assert page.evaluate(CLIPPED) == []
    page.mouse.move(0, 0)
    shoot(page.locator(".polynb-dashboard"), shots, f"detail-{page.theme}")

    detail_actions(page).locator(".polynb-action-copy").click()
    page.wait_for_function("document.querySelector('.polynb-action-copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == failure["id"]

    cell_id = page.evaluate(f"{DEFINING}.model.id")
    assert detail_actions(page).locator(".polynb-action-jump").get_attribute("href") == f"#cell-id={cell_id}"

    page.locator(f'{ROWS}[data-execution-id="{failure["id"]}"]').click()  # a second click closes it
    detail.wait_for(state="detached", timeout=30_000)


def test_replay_runs_the_execution_again_here_and_lists_it_first(browser, lab, shots):
    page = open_notebook(browser, lab, TOUR, height=TALL)
    try:
        page.wait_for_selector(ROWS, timeout=60_000)
        before = executions(lab)
        original = next(r for r in before if r["status"] == "succeeded")
        page.locator(f'{ROWS}[data-execution-id="{original["id"]}"]').click()
        page.locator(".polynb-action-replay").click()
        replayed = page.locator(".polynb-replayed")
        replayed.wait_for(timeout=60_000)
        assert replayed.get_attribute("data-ok") == "true", replayed.inner_text()
        after = executions(lab)
        assert len(after) == len(before) + 1 and after[0]["id"] == replayed.get_attribute("data-replay-id")
        page.wait_for_selector(f'{ROWS}[data-execution-id="{after[0]["id"]}"]', timeout=30_000)
        assert page.locator(ROWS).first.get_attribute("data-execution-id") == after[0]["id"]
        shoot(page.locator(".polynb-dashboard"), shots, "replayed", docs=False)
    finally:
        page.context.close()


def test_go_to_cell_scrolls_the_notebook_to_the_cell_that_defines_the_payload(browser, lab):
    page = open_notebook(browser, lab, TOUR)  # the default height: the tour is taller than the notebook's view
    try:
        page.wait_for_selector(ROWS, timeout=60_000)
        page.locator(f'{ROWS}[data-payload="{SCORE}"]').first.click()
        jump = detail_actions(page).locator(".polynb-action-jump")
        jump.wait_for()
        page.evaluate("(() => { const n = window.jupyterapp.shell.currentWidget.content.node; "
                      "n.scrollTop = n.scrollHeight; })()")  # to the dashboard's end, the defining cell out of view
        page.wait_for_function(f"!{IN_VIEW}", timeout=30_000)
        jump.click()
        page.wait_for_function(IN_VIEW, timeout=30_000)
    finally:
        page.context.close()
