"""The polynb side panel in JupyterLab, in Debian's Chromium driven by Playwright, in light and dark themes.

One JupyterLab serves the module: a sample notebook registers a fake-platform payload with a long name
and answers 60 executions (one fails). Each test opens its own page. Screenshots of every state land
in screenshots/ (git-ignored); the light-theme panel is copied over docs/images/lab-panel.png.
"""
from __future__ import annotations

import shutil
import time

import httpx
import pytest
from jupyter_server_helpers import JupyterServer
from lab_helpers import (
    ROOT,
    SHOTS,
    THEMES,
    chromium,
    open_notebook,
    quiet_lab,
    run_all_cells,
    write_notebook,
)

PAYLOAD = "score_every_answer_of_the_onboarding_survey"
SAMPLE, SECOND = "work/sample.ipynb", "work/second.ipynb"
PRODUCED = 60  # executions the sample notebook answers: inputs 1 to 59, then 0 (fails)
POLL_SECONDS = 2  # the panel's poll interval

SAMPLE_CELLS = [
    "%load_ext polynb\nimport httpx\nimport polynb",
    f"%%fake_exec {PAYLOAD}\ndef {PAYLOAD}(answers):\n    print('scoring', answers)\n    return 100 // answers",
    f"address = polynb.get_service().address('fake', '{PAYLOAD}')\n"
    f"codes = [httpx.post(address, json=n).status_code for n in [*range(1, {PRODUCED}), 0]]\ncodes.count(500)",
]

# Elements of the panel whose content is wider than their box: text cut at the panel's width. A select
# reports no overflow, so its chosen option's text is measured against the room its padding leaves.
CLIPPED = """() => {
  const describe = (e, wide, room) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ${wide}>${room}`;
  const overflowing = [...document.querySelectorAll('#polynb-panel, #polynb-panel *')]
    .filter(e => e.scrollWidth > e.clientWidth)
    .map(e => `${describe(e, e.scrollWidth, e.clientWidth)}: ${e.textContent.slice(0, 60)}`);
  const ruler = document.createElement('canvas').getContext('2d');
  const cut = [...document.querySelectorAll('#polynb-panel select')].flatMap(select => {
    const style = getComputedStyle(select);
    ruler.font = `${style.fontSize} ${style.fontFamily}`;
    const text = select.selectedOptions[0].textContent;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const wide = Math.ceil(ruler.measureText(text).width);
    return wide > room ? [`${describe(select, wide, room)}: ${text}`] : [];
  });
  return [...overflowing, ...cut];
}"""


def journals(server: JupyterServer, **params) -> list[dict]:
    reply = server.get("/polynb/api/journals", params={"limit": 500, **params})
    assert reply.status_code == 200, reply.text
    return reply.json()["journals"]


def executions(server: JupyterServer, notebook: str = SAMPLE) -> list[dict]:
    return next(j for j in journals(server) if j["notebook"] == notebook)["executions"]


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    """JupyterLab with the sample notebook run in its kernel (60 executions) and a second notebook's session."""
    tmp = tmp_path_factory.mktemp("panel")
    root = tmp / "root"
    write_notebook(root / SAMPLE, SAMPLE_CELLS)
    write_notebook(root / SECOND, ["%load_ext polynb"])
    with quiet_lab(tmp, root) as server:
        server.post("/api/sessions", {"path": SECOND, "name": "second.ipynb", "type": "notebook",
                                      "kernel": {"name": "python3"}})
        page = open_notebook(browser, server, SAMPLE)
        try:
            run_all_cells(page)
            assert len(executions(server)) == PRODUCED
            page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")  # outputs for the screenshots
            page.wait_for_function("!window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
        finally:
            page.context.close()
        yield server


def open_panel(browser, lab: JupyterServer, theme: str = "light", notebook: str = SAMPLE):
    """A page of JupyterLab on `notebook` in `theme`, with the polynb panel open and listing executions."""
    page = open_notebook(browser, lab, notebook, theme)
    page.click('li[data-id="polynb-panel"]')
    page.wait_for_selector(".polynb-panel-execution", timeout=30_000)
    return page


@pytest.fixture
def page(browser, lab):
    opened = open_panel(browser, lab)
    yield opened
    opened.context.close()


def wait_for_polls(page, count: int = 2) -> None:
    """Let `count` polls of the panel complete (each one a fresh answer from the server)."""
    for _ in range(count):
        with page.expect_response(lambda r: "/polynb/api/journals" in r.url, timeout=30_000):
            pass


def row(page, record_id: str):
    return page.locator(f'.polynb-panel-execution[data-execution-id="{record_id}"]')


def test_the_tab_shows_polynbs_icon_and_keeps_polynb_in_its_data_id(page):
    tab = page.locator('.jp-SideBar li[data-id*="polynb"]')
    assert tab.count() == 1
    assert tab.locator("svg").count() == 1
    assert "polynb" in tab.get_attribute("title")
    tab.screenshot(path=str(SHOTS / "panel-tab.png"))


def test_every_execution_row_carries_its_record_id_and_a_24_hour_time(page, lab):
    listed = executions(lab)[:50]
    page.wait_for_function(f"document.querySelectorAll('.polynb-panel-execution').length >= {len(listed)}")
    rows = page.locator(".polynb-panel-execution").evaluate_all(
        "rows => rows.map(r => [r.dataset.executionId, r.querySelector('.polynb-panel-time').textContent])")
    expected = {r["id"]: time.strftime("%H:%M:%S", time.localtime(r["received_at"])) for r in listed}
    assert {record_id: clock for record_id, clock in rows if record_id in expected} == expected


@pytest.mark.parametrize("theme", THEMES)
def test_no_text_in_the_panel_is_clipped_at_the_default_width(browser, lab, theme):
    page = open_panel(browser, lab, theme)
    try:
        failed = next(r for r in executions(lab) if r["status"] == "failed")
        row(page, failed["id"]).locator(".polynb-row-button").click()
        page.wait_for_selector(f'.polynb-panel-detail[data-execution-id="{failed["id"]}"] .polynb-detail-traceback')
        assert page.evaluate(CLIPPED) == []
        assert page.locator(".polynb-panel-execution").first.bounding_box()["height"] > 30  # rows take two lines
        page.locator("#polynb-panel").screenshot(path=str(SHOTS / f"panel-{theme}.png"))
        page.screenshot(path=str(SHOTS / f"panel-beside-notebook-{theme}.png"))
        if theme == "light":
            shutil.copy(SHOTS / "panel-beside-notebook-light.png", ROOT / "docs" / "images" / "lab-panel.png")
    finally:
        page.context.close()


FOCUSED = "(() => { const e = document.activeElement; return `${e.tagName}.${[...e.classList].join('.')}`; })()"


def test_a_filter_keeps_focus_and_the_list_its_scroll_across_polls(page):
    wait_for_polls(page)  # JupyterLab first settles: it focuses the notebook once the kernel is ready
    page.focus(".polynb-panel-filter-status select")
    panel = page.locator("#polynb-panel")
    panel.evaluate("p => { p.scrollTop = 300; }")
    scrolled = panel.evaluate("p => p.scrollTop")
    assert scrolled > 0
    wait_for_polls(page)
    assert page.evaluate("document.activeElement.closest('.polynb-panel-filter-status') !== null"), page.evaluate(FOCUSED)
    assert panel.evaluate("p => p.scrollTop") == scrolled

    page.select_option(".polynb-panel-filter-status select", "failed")
    page.wait_for_function("[...document.querySelectorAll('.polynb-panel-execution')].every(r => r.dataset.status === 'failed')")
    wait_for_polls(page)
    assert page.evaluate("document.activeElement.closest('.polynb-panel-filter-status') !== null")
    page.locator("#polynb-panel").screenshot(path=str(SHOTS / "panel-filtered.png"))


def test_the_panel_stops_polling_while_collapsed_and_resumes_when_shown(page):
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/polynb/api/journals" in request.url else None)
    page.click('li[data-id="polynb-panel"]')  # collapse the left area
    page.wait_for_selector("#polynb-panel", state="hidden")
    polls.clear()
    page.wait_for_timeout(POLL_SECONDS * 3 * 1000)
    assert polls == []
    with page.expect_request(lambda r: "/polynb/api/journals" in r.url, timeout=10_000):
        page.click('li[data-id="polynb-panel"]')


def test_the_open_notebook_comes_first(page):
    first = "document.querySelector('.polynb-panel-notebook').dataset.notebook"
    assert page.evaluate(first) == SAMPLE
    # after JupyterLab has restored its layout, which would otherwise bring the first notebook back to the front
    page.evaluate(f"() => window.jupyterapp.restored.then(() => "
                  f"window.jupyterapp.commands.execute('docmanager:open', {{path: '{SECOND}'}})).then(() => null)")
    page.wait_for_function(f"{first} === '{SECOND}'", timeout=30_000)
    notebooks = page.locator(".polynb-panel-notebook").evaluate_all("parts => parts.map(p => p.dataset.notebook)")
    assert notebooks == [SECOND, SAMPLE]  # one section per notebook, even with two sessions on SECOND
    sample_rows = f"""document.querySelectorAll('.polynb-panel-notebook[data-notebook="{SAMPLE}"] .polynb-panel-execution')"""
    page.wait_for_function(f"{sample_rows}.length === 0", timeout=10_000)  # collapsed once the focus has moved
    page.locator("#polynb-panel").screenshot(path=str(SHOTS / "panel-two-notebooks.png"))


def test_a_collapsed_section_stays_collapsed_across_polls(page):
    header = page.locator(f'.polynb-section[data-section="executions:{SAMPLE}"] > .polynb-section-header')
    header.click()
    assert header.get_attribute("aria-expanded") == "false"
    wait_for_polls(page)
    assert page.locator(".polynb-panel-execution").count() == 0
    assert page.locator(".polynb-panel-platform").count() == 1  # the other sections stay open
    page.locator("#polynb-panel").screenshot(path=str(SHOTS / "panel-collapsed-section.png"))
    header.click()
    assert page.locator(".polynb-panel-execution").count() > 0


def test_older_executions_page_in(page, lab):
    total = len(executions(lab))
    assert total > 50
    page.wait_for_function("document.querySelectorAll('.polynb-panel-execution').length === 50")
    page.click(".polynb-panel-more")
    page.wait_for_function(f"document.querySelectorAll('.polynb-panel-execution').length >= {total}", timeout=30_000)
    assert page.locator(".polynb-panel-more").count() == 0


def test_each_platform_shows_its_last_minute_as_a_sparkline(page, lab):
    address = next(j for j in journals(lab) if j["notebook"] == SAMPLE)["payloads"][0]["address"]
    assert [httpx.post(address, json=n).status_code for n in (1, 2, 0)] == [200, 200, 500]
    spark = page.locator('.polynb-panel-platform[data-platform="fake"] .polynb-sparkline')
    page.wait_for_function("""() => { const s = document.querySelector('.polynb-sparkline[data-platform="fake"]');
                                      return s && +s.dataset.count >= 3 && +s.dataset.failed >= 1; }""", timeout=30_000)
    assert spark.locator(".polynb-spark-failed").count() >= 1
    assert "in the last minute" in spark.get_attribute("title")
    assert spark.inner_text().endswith("/min")


def test_the_detail_copies_the_id_jumps_to_the_cell_and_replays(page, lab):
    record = next(r for r in executions(lab) if r["status"] == "succeeded")
    row(page, record["id"]).locator(".polynb-row-button").click()
    detail = page.locator(f'.polynb-panel-detail[data-execution-id="{record["id"]}"]')
    detail.locator(".polynb-detail-output").wait_for()
    assert detail.locator(".polynb-detail-times").inner_text().count(":") == 6  # three HH:MM:SS times
    page.locator("#polynb-panel").screenshot(path=str(SHOTS / "panel-detail.png"))

    detail.locator(".polynb-action-copy").click()
    page.wait_for_function("document.querySelector('.polynb-action-copy').textContent.includes('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == record["id"]

    detail.locator(".polynb-action-jump").click()
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.getSource()"
        f".startsWith('%%fake_exec {PAYLOAD}')", timeout=30_000)

    before = len(executions(lab))
    detail.locator(".polynb-action-replay").click()
    replayed = detail.locator(".polynb-detail-replay")
    replayed.wait_for(timeout=90_000)
    assert replayed.get_attribute("data-ok") == "true", replayed.inner_text()
    expected = 100 // lab.get(f"/polynb/api/executions/{record['id']}").json()["input"]
    assert replayed.locator("pre").inner_text().splitlines()[-1] == str(expected)
    assert len(executions(lab)) == before + 1
    page.wait_for_function("document.querySelectorAll('.polynb-panel-execution').length >= 50", timeout=30_000)
    page.locator("#polynb-panel").screenshot(path=str(SHOTS / "panel-replayed.png"))


SPINNING = "work/spinning.ipynb"
SPINNING_CELLS = [
    "%load_ext polynb\nimport httpx, threading, time\nimport polynb",
    "%%fake_exec spin\ndef spin(x):\n    while True:\n        time.sleep(0.05)",
    "address = polynb.get_service().address('fake', 'spin')\n"
    "caller = threading.Thread(target=httpx.post, args=(address,), kwargs={'json': 1, 'timeout': 120}, daemon=True)\n"
    "caller.start()",
]


def test_the_detail_of_a_running_execution_cancels_it_and_its_status_follows(browser, lab):
    write_notebook(lab.root / SPINNING, SPINNING_CELLS)
    page = None
    with lab.notebook_kernel(SPINNING, name="spinning.ipynb") as (_, kernel):
        try:
            for code in SPINNING_CELLS:  # run as the notebook's cells would be
                assert kernel.execute_interactive(code, timeout=60)["content"]["status"] == "ok"
            deadline = time.monotonic() + 60
            while not [r for r in executions(lab, SPINNING) if r["status"] == "running"]:
                assert time.monotonic() < deadline, "the spinning execution never started"
                time.sleep(0.2)
            record = executions(lab, SPINNING)[0]
            page = open_panel(browser, lab, notebook=SPINNING)
            row(page, record["id"]).locator(".polynb-row-button").click(timeout=30_000)
            detail = page.locator(f'.polynb-panel-detail[data-execution-id="{record["id"]}"]')
            detail.locator(".polynb-action-cancel").click(timeout=30_000)
            detail.locator('.polynb-detail-cancel[data-ok="true"]').wait_for(timeout=30_000)
            page.wait_for_selector(f'.polynb-panel-execution[data-execution-id="{record["id"]}"][data-status="cancelled"]',
                                   timeout=30_000)
            page.locator("#polynb-panel").screenshot(path=str(SHOTS / "panel-cancelled.png"))
            assert lab.get(f"/polynb/api/executions/{record['id']}").json()["error"] == \
                "ExecutionCancelled: cancelled from JupyterLab"
        finally:
            if page is not None:
                page.context.close()
