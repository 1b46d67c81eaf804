"""The notebook widgets, over a real journal, without a kernel."""
from __future__ import annotations

import gc
import logging
import re
import subprocess
import sys
import threading

import ipywidgets
import pytest

from polynb import widgets as w
from polynb.journal import CANCELLED, FAILED, SUCCEEDED, TIMED_OUT, Journal
from polynb.widgets.dashboard import ALL, FOLDER


@pytest.fixture
def journal(tmp_path):
    journal = Journal(tmp_path)
    yield journal
    journal.close_db()


def run(journal, platform="kgrid", payload="hello", input=None, version=2, **result):
    """One finished execution written through the journal's writer API; returns its id."""
    record_id = journal.open(platform, payload, input)
    journal.started(record_id, version)
    journal.close(record_id, **result)
    return record_id


def register(journal, platform="kgrid", name="hello", version=2, address="http://localhost:8080/hello"):
    journal.payload_registered(platform, name, version, "digest", "main", "def main(x): return x", {},
                               "cell-1", address)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class CountingView:
    def __init__(self):
        self.refreshes = 0

    def refresh(self):
        self.refreshes += 1


class BrokenView:
    def refresh(self):
        raise RuntimeError("view is broken")


@pytest.fixture
def updater(journal):
    updater = w.Updater(journal, interval=0.1, clock=FakeClock(), start=False)
    yield updater
    updater.close()


# -- without a kernel ------------------------------------------------------------------------------

def test_widgets_are_created_and_displayable_without_a_kernel(tmp_path):
    """In a fresh interpreter with no IPython shell at all (other tests here start one)."""
    code = (
        "import sys, ipywidgets; from IPython import get_ipython; assert get_ipython() is None\n"
        "from polynb.journal import Journal; from polynb import widgets as w\n"
        f"journal = Journal({str(tmp_path)!r})\n"
        "for view, cls in ((w.CellStatus(journal, 'kgrid', 'hello'), ipywidgets.VBox), (w.Dashboard(journal), ipywidgets.VBox)):\n"
        "    assert isinstance(view.widget, cls)\n"
        "    bundle = view._repr_mimebundle_()\n"
        "    assert bundle['application/vnd.jupyter.widget-view+json']['model_id'] == view.widget.model_id\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "ok\n", result.stderr


def test_widgets_render_their_bundle(journal):
    status, dashboard = w.CellStatus(journal, "kgrid", "hello"), w.Dashboard(journal)
    for view, cls in ((status, ipywidgets.VBox), (dashboard, ipywidgets.VBox)):
        assert isinstance(view.widget, cls)
        bundle = view._repr_mimebundle_()
        assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.widget.model_id


def shown_as_text(view) -> str:
    """What a terminal (plain IPython, ``polynb serve``) prints and nbclient stores for a displayed view."""
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(view)
    return data["text/plain"]


def test_cell_status_text_is_one_line_that_reads_like_the_widget(journal):
    register(journal, address="http://127.0.0.1:9/hello")
    journal.platform_state("kgrid", "ready", "http://127.0.0.1:9")
    run(journal, output=1)
    run(journal, error="ZeroDivisionError: division by zero\nmore")
    text = shown_as_text(w.CellStatus(journal, "kgrid", "hello"))
    assert text == ("kgrid hello v2 · ready · http://127.0.0.1:9/hello · 2 executions (1 succeeded, 1 failed)"
                    " · last: failed · ZeroDivisionError: division by zero")


def test_dashboard_text_is_a_small_table_of_platforms_payloads_and_latest_executions(journal):
    register(journal)
    journal.platform_state("kgrid", "ready", "http://127.0.0.1:9")
    run(journal, output=1)
    lines = shown_as_text(w.Dashboard(journal)).splitlines()
    assert lines[0] == "polynb: kgrid ready at http://127.0.0.1:9"
    assert lines[1].split() == ["platform", "payload", "version", "address", "executions"]
    assert lines[2].split() == ["kgrid", "hello", "2", "http://localhost:8080/hello", "1"]
    assert lines[3] == "latest executions:" and "succeeded" in lines[5]


def test_an_empty_dashboard_says_so_in_text(journal):
    assert shown_as_text(w.Dashboard(journal)) == "polynb: no platform started yet\n(no payloads)\n(no executions)"


def test_no_view_shows_the_widget_repr_as_text(journal):
    for view in (w.CellStatus(journal, "kgrid", "hello"), w.Dashboard(journal)):
        text = view._repr_mimebundle_()["text/plain"]
        assert not text.startswith(("HTML(", "VBox(")), text


# -- CellStatus ------------------------------------------------------------------------------------

def test_cell_status_shows_counts_last_status_and_error_after_refresh(journal):
    register(journal)
    journal.platform_state("kgrid", "ready", "http://localhost:8080")
    status = w.CellStatus(journal, "kgrid", "hello")
    assert 'data-executions="0"' in status.summary.value
    run(journal, output=1)
    run(journal, output=2)
    run(journal, error="ValueError: bad input\nmore detail")
    assert 'data-executions="0"' in status.summary.value  # nothing changes until refresh
    status.refresh()
    value = status.summary.value
    assert 'class="polynb-status"' in value
    assert 'data-executions="3"' in value
    assert 'data-succeeded="2"' in value and 'data-failed="1"' in value
    assert 'data-last-status="failed"' in value
    assert "3 executions" in value and "2 succeeded" in value and "1 failed" in value
    assert status.failure.description == "ValueError: bad input" and "more detail" in status.detail.value
    assert "http://localhost:8080/hello" in value
    assert 'data-version="2"' in value and "hello v2" in value
    assert 'data-state="ready"' in value


def test_cell_status_keeps_the_last_error_after_a_later_success(journal):
    run(journal, error="first failure")
    run(journal, output="ok")
    status = w.CellStatus(journal, "kgrid", "hello")
    assert 'data-last-status="succeeded"' in status.summary.value
    assert status.failure.description == "first failure"


def test_cell_status_escapes_and_truncates_the_error(journal):
    run(journal, error="<script>alert(1)</script> " + "x" * 500)
    status = w.CellStatus(journal, "kgrid", "hello")
    assert "<script>" not in status.detail.value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in status.detail.value
    reason = status.failure.description  # a button's label: text, never HTML
    assert reason.startswith("<script>alert(1)</script> x") and "x" * 200 not in reason and reason.endswith("…")


def test_cell_status_counts_only_its_own_payload(journal):
    run(journal, payload="hello")
    run(journal, payload="other")
    run(journal, platform="vantiq", payload="hello")
    assert 'data-executions="1"' in w.CellStatus(journal, "kgrid", "hello").summary.value


def test_cell_status_shows_an_unstarted_platform(journal):
    value = w.CellStatus(journal, "colonyos", "job").summary.value
    assert "not started" in value and 'data-state=""' in value and 'data-last-status=""' in value


# -- Dashboard -------------------------------------------------------------------------------------

def rows_of(dashboard) -> list[str]:
    """The ``data-execution-id`` of every row of the dashboard's table, top to bottom."""
    return re.findall(r'<tr class="polynb-execution[^"]*" data-execution-id="([^"]+)"', dashboard.table.value)


def row_html(dashboard, record_id: str) -> str:
    return re.search(rf'<tr [^>]*data-execution-id="{record_id}".*?</tr>', dashboard.table.value).group(0)


def click(dashboard, record_id: str) -> None:
    """What the table's inline handler does on a click: the row's id into the hidden pick field."""
    dashboard.pick.value = record_id


def test_dashboard_lists_records_newest_first_in_a_table_with_aligned_headers(journal):
    ids = [run(journal, input=n, output=n) for n in range(3)]
    dashboard = w.Dashboard(journal)
    assert rows_of(dashboard) == dashboard.listed == ids[::-1]
    headers = re.findall(r"<th>([^<]*)</th>", dashboard.table.value)
    assert headers == ["#", "time", "status", "platform", "payload", "version", "duration", "error"]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row_html(dashboard, ids[-1]))
    assert len(cells) == len(headers)
    assert cells[0] == "3" and re.fullmatch(r"\d\d:\d\d:\d\d", cells[1]) and "succeeded" in cells[2]
    assert cells[3:6] == ["kgrid", "hello", "v2"] and cells[6].endswith(" ms") and cells[7] == ""


def test_dashboard_pages_through_older_executions(journal):
    ids = [run(journal) for _ in range(5)][::-1]
    dashboard = w.Dashboard(journal, page_size=2)
    assert rows_of(dashboard) == ids[:2] and dashboard.newer.disabled and not dashboard.older.disabled
    assert "page 1 · executions 1–2" in dashboard.page_label.value
    dashboard.older.click()
    assert rows_of(dashboard) == ids[2:4] and not dashboard.newer.disabled
    dashboard.older.click()
    assert rows_of(dashboard) == ids[4:] and dashboard.older.disabled
    assert "page 3 · executions 5–5" in dashboard.page_label.value
    dashboard.status_filter.value = SUCCEEDED  # a new filter starts again at the newest page
    assert rows_of(dashboard) == ids[:2]


def test_failed_rows_are_highlighted_and_statuses_wear_theme_colours_with_icon_and_word(journal):
    ok, bad = run(journal, output=1), run(journal, error="ValueError: no\nmore")
    dashboard = w.Dashboard(journal)
    assert "polynb-row-failed" in row_html(dashboard, bad) and "polynb-row-failed" not in row_html(dashboard, ok)
    assert '<span class="polynb-badge polynb-tone-bad" data-word="failed"><span aria-hidden="true">✗</span> failed' \
        in row_html(dashboard, bad)
    assert "ValueError: no" in row_html(dashboard, bad) and "more" not in row_html(dashboard, bad)
    html = "".join(child.value for child in dashboard.widget.children if isinstance(child, ipywidgets.HTML))
    assert "var(--jp-success-color1)" in html and "var(--jp-error-color1)" in html
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\(", html) == []  # no hard-coded colour


def test_each_platform_charts_its_last_minute_of_executions_per_second_and_latency(journal):
    register(journal, "kgrid", "hello")
    register(journal, "vantiq", "echo")
    run(journal, "kgrid", "hello", output=1)
    run(journal, "kgrid", "hello", error="boom")
    run(journal, "vantiq", "echo")
    charts = w.Dashboard(journal).charts.value
    assert '<div class="polynb-chart" data-platform="kgrid" data-count="2" data-failed="1"' in charts
    assert '<div class="polynb-chart" data-platform="vantiq" data-count="1" data-failed="0"' in charts
    assert charts.count('<svg class="polynb-sparkline"') == 2 and charts.count('<svg class="polynb-line"') == 2
    assert "kgrid: executions per second" in charts and "kgrid: median latency per interval" in charts
    assert re.search(r"p50 \d+ ms · p99 \d+ ms", charts)


def test_the_dashboard_asks_for_ticks_only_while_its_last_minute_had_executions(journal):
    register(journal)
    dashboard = w.Dashboard(journal)
    assert dashboard.wants_tick() is False  # an idle dashboard costs nothing
    run(journal)
    dashboard._charted_at = float("-inf")  # the next refresh redraws the charts
    dashboard.refresh()
    assert dashboard.wants_tick() is True


def test_dashboard_shows_platforms_and_payloads(journal):
    register(journal)
    journal.platform_state("kgrid", "ready", "http://localhost:8080", "serving 1 payload")
    run(journal)
    run(journal)
    dashboard = w.Dashboard(journal)
    assert 'data-state="ready"' in dashboard.platforms_line.value
    assert "http://localhost:8080" in dashboard.platforms_line.value
    table = dashboard.payloads_table.value
    assert 'data-payload="hello"' in table and 'data-executions="2"' in table
    assert "http://localhost:8080/hello" in table
    assert "polynb-dashboard" in dashboard.widget._dom_classes
    assert "polynb-executions" in dashboard.table._dom_classes
    assert "polynb-detail" in dashboard.detail._dom_classes


def test_dashboard_filters_narrow_the_list(journal):
    register(journal, "kgrid", "hello")
    register(journal, "kgrid", "bye")
    register(journal, "vantiq", "hello")
    kgrid_ok = run(journal, "kgrid", "hello")
    kgrid_bad = run(journal, "kgrid", "hello", error="boom")
    kgrid_bye = run(journal, "kgrid", "bye")
    vantiq = run(journal, "vantiq", "hello")
    dashboard = w.Dashboard(journal)

    assert rows_of(dashboard) == [vantiq, kgrid_bye, kgrid_bad, kgrid_ok]
    dashboard.platform_filter.value = "kgrid"
    assert rows_of(dashboard) == [kgrid_bye, kgrid_bad, kgrid_ok]
    dashboard.payload_filter.value = "hello"
    assert rows_of(dashboard) == [kgrid_bad, kgrid_ok]
    dashboard.status_filter.value = FAILED
    assert rows_of(dashboard) == [kgrid_bad]
    dashboard.status_filter.value = ALL
    dashboard.platform_filter.value = ALL
    assert rows_of(dashboard) == [vantiq, kgrid_bad, kgrid_ok]


def test_the_scope_is_this_notebook_unless_the_whole_folder_is_chosen(journal, tmp_path):
    journal.notebook = str(tmp_path / "mine.ipynb")
    other = Journal(tmp_path)
    other.notebook = str(tmp_path / "other.ipynb")
    try:
        theirs = run(other, payload="theirs")
        mine = run(journal, payload="mine")
        dashboard = w.Dashboard(journal)
        assert [label for label, _ in dashboard.scope_filter.options] == ["this notebook", "whole folder"]
        assert rows_of(dashboard) == [mine]
        assert "theirs" not in shown_as_text(dashboard)
        dashboard.scope_filter.value = FOLDER
        assert rows_of(dashboard) == [mine, theirs]
    finally:
        other.close_db()


def test_filter_choices_follow_the_journal(journal):
    register(journal, "kgrid", "hello")
    kgrid = run(journal, "kgrid", "hello")
    dashboard = w.Dashboard(journal)
    assert [label for label, _ in dashboard.platform_filter.options] == ["all", "kgrid"]
    dashboard.platform_filter.value = "kgrid"
    register(journal, "vantiq", "echo")
    run(journal, "vantiq", "echo")
    journal.platform_state("colonyos", "starting")
    dashboard.refresh()
    assert dashboard.platform_filter.value == "kgrid"  # new choices keep the chosen one
    assert rows_of(dashboard) == [kgrid]
    dashboard.platform_filter.value = ALL
    assert [v for _, v in dashboard.platform_filter.options] == [ALL, "colonyos", "kgrid", "vantiq"]
    assert [v for _, v in dashboard.payload_filter.options] == [ALL, "echo", "hello"]
    dashboard.platform_filter.value = "vantiq"
    assert [v for _, v in dashboard.payload_filter.options] == [ALL, "echo"]
    assert [v for _, v in dashboard.status_filter.options] == [ALL, "received", "running", SUCCEEDED,
                                                                FAILED, "interrupted", "cancelled", "timed out"]


def test_filter_resets_to_all_when_its_choice_disappears(journal):
    register(journal, "kgrid", "hello")
    register(journal, "vantiq", "echo")
    dashboard = w.Dashboard(journal)
    dashboard.payload_filter.value = "echo"
    dashboard.platform_filter.value = "kgrid"  # kgrid has no "echo"
    assert dashboard.payload_filter.value == ALL


def test_clicking_an_execution_shows_its_detail(journal):
    chosen = journal.open("kgrid", "hello", {"name": "<Ada>"})
    journal.started(chosen, 2)
    journal.close(chosen, output={"greeting": "hi", "n": 1}, stdout="printed line\n", stderr="warned",
                  logs=[{"time": 0.0, "level": "INFO", "logger": "payload", "message": "logged <b>"}],
                  error="KeyError: 'x'", traceback="Traceback (most recent call last):\n  File <cell>")
    other = run(journal, input="other input", output="other output")
    dashboard = w.Dashboard(journal)
    assert "polynb-record-empty" in dashboard.detail.value
    click(dashboard, chosen)
    detail = dashboard.detail.value
    assert dashboard.selected == chosen and dashboard.pick.value == ""  # ready for the next click
    assert "polynb-row-selected" in row_html(dashboard, chosen)
    assert f'data-execution-id="{chosen}"' in detail and 'data-status="failed"' in detail
    assert "&quot;name&quot;: &quot;&lt;Ada&gt;&quot;" in detail
    assert '{\n  &quot;greeting&quot;: &quot;hi&quot;,\n  &quot;n&quot;: 1\n}' in detail
    assert "printed line" in detail and "warned" in detail
    assert "INFO payload: logged &lt;b&gt;" in detail
    assert "KeyError: &#x27;x&#x27;" in detail
    assert "Traceback (most recent call last):" in detail and "File &lt;cell&gt;" in detail
    assert all(f"<th>{name}</th>" in detail for name in ("received", "started", "finished", "ran", "queued"))
    assert "other output" not in detail
    click(dashboard, other)
    assert "other output" in dashboard.detail.value and "printed line" not in dashboard.detail.value
    click(dashboard, other)  # a second click on the open row closes it
    assert dashboard.selected is None and "polynb-record-empty" in dashboard.detail.value


def test_the_detail_offers_copy_id_and_a_link_to_the_defining_cell(journal):
    register(journal)  # defined in cell-1
    record_id = run(journal)
    dashboard = w.Dashboard(journal)
    click(dashboard, record_id)
    actions = dashboard.actions.value
    assert f'data-copy="{record_id}"' in actions and "navigator.clipboard.writeText(this.dataset.copy)" in actions
    assert f'<input class="polynb-id" readonly value="{record_id}"' in actions
    assert 'class="polynb-action polynb-action-jump" href="#cell-id=cell-1"' in actions


def test_go_to_cell_is_disabled_for_a_payload_registered_outside_jupyterlab(journal):
    journal.payload_registered("kgrid", "hello", 2, "digest", "main", "def main(x): return x", {}, None, None)
    dashboard = w.Dashboard(journal)
    click(dashboard, run(journal))
    assert '<a class="polynb-action polynb-action-jump" aria-disabled="true" title="registered outside JupyterLab' \
        in dashboard.actions.value


def test_replay_runs_the_injected_callable_and_opens_the_new_record(journal):
    record_id = run(journal, input=21, output=42)
    replayed = []

    def replay_here(original: str) -> str:
        replayed.append(original)
        return run(journal, input=journal.get(original).input, output=43)

    dashboard = w.Dashboard(journal, replay=replay_here)
    assert dashboard.replay_button.layout.display == "none"  # nothing to replay yet
    click(dashboard, record_id)
    assert dashboard.replay_button.layout.display == ""
    dashboard.replay_button.click()
    new_id = dashboard.selected
    assert replayed == [record_id] and new_id != record_id and rows_of(dashboard)[0] == new_id
    assert f'data-ok="true" data-replay-id="{new_id}"' in dashboard.detail.value and "43" in dashboard.detail.value


def test_a_refused_replay_says_why_in_the_detail(journal):
    def replay_here(original: str) -> str:
        raise KeyError("kgrid:hello is not registered in this kernel; run its cell first")

    dashboard = w.Dashboard(journal, replay=replay_here)
    click(dashboard, run(journal))
    dashboard.replay_button.click()
    assert 'data-ok="false"' in dashboard.detail.value and "run its cell first" in dashboard.detail.value


def test_without_a_replay_callable_there_is_no_replay_button(journal):
    dashboard = w.Dashboard(journal)
    click(dashboard, run(journal))
    assert dashboard.replay_button.layout.display == "none"


def test_selection_survives_refresh(journal):
    first = run(journal, output="first output")
    dashboard = w.Dashboard(journal)
    click(dashboard, first)
    run(journal, output="second output")
    run(journal, output="third output")
    dashboard.refresh()
    assert len(rows_of(dashboard)) == 3
    assert dashboard.selected == first and "polynb-row-selected" in row_html(dashboard, first)
    assert "first output" in dashboard.detail.value


def test_selection_of_a_filtered_out_record_keeps_its_detail(journal):
    chosen = run(journal, output="kept output")
    dashboard = w.Dashboard(journal)
    click(dashboard, chosen)
    dashboard.status_filter.value = FAILED
    assert rows_of(dashboard) == [] and "no executions match" in dashboard.page_label.value
    assert "kept output" in dashboard.detail.value


def test_show_selects_a_record_by_id_prefix(journal):
    chosen = run(journal, output="shown output")
    run(journal, output="newer output")
    dashboard = w.Dashboard(journal)
    dashboard.show(chosen[:12])
    assert dashboard.selected == chosen
    assert "shown output" in dashboard.detail.value


def test_show_of_an_unknown_record_raises(journal):
    with pytest.raises(KeyError):
        w.Dashboard(journal).show("nosuchid")


def test_running_record_is_listed_without_duration_and_updates_on_refresh(journal):
    record_id = journal.open("kgrid", "hello", 1)
    journal.started(record_id, 2)
    dashboard = w.Dashboard(journal)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row_html(dashboard, record_id))
    assert 'data-word="running"' in cells[2] and cells[5] == "v2" and cells[6] == ""
    journal.close(record_id, output=2)
    dashboard.refresh()
    assert 'data-status="succeeded"' in row_html(dashboard, record_id)


def test_cancelled_and_timed_out_rows_are_failures_with_their_own_icons(journal):
    stopped = run(journal, error="ExecutionCancelled: cancelled on request", status=CANCELLED)
    late = run(journal, error="ExecutionTimedOut: ran past its 2 s timeout", status=TIMED_OUT)
    dashboard = w.Dashboard(journal)
    for record_id, word, icon in ((stopped, "cancelled", "⊗"), (late, "timed out", "◷")):
        row = row_html(dashboard, record_id)
        assert "polynb-row-failed" in row
        assert (f'<span class="polynb-badge polynb-tone-bad" data-word="{word}"><span aria-hidden="true">{icon}</span>'
                f" {word}</span>") in row
    assert "cancelled on request" in row_html(dashboard, stopped)


def test_every_status_has_its_own_icon_and_what_ended_without_a_result_wears_the_failure_tone():
    from polynb.journal import STATUSES, UNSUCCESSFUL
    from polynb.widgets.markup import LOOKS

    assert len({LOOKS[status][0] for status in STATUSES}) == len(STATUSES)
    assert {LOOKS[status][1] for status in UNSUCCESSFUL} == {"bad"}


def test_the_cell_status_counts_cancelled_and_timed_out_as_failures_and_shows_the_last(journal):
    register(journal)
    run(journal, output=1)
    run(journal, error="ValueError: no")
    run(journal, error="ExecutionTimedOut: ran past its 2 s timeout", status=TIMED_OUT)
    run(journal, error="ExecutionCancelled: cancelled on request", status=CANCELLED)
    status = w.CellStatus(journal, "kgrid", "hello")
    assert status.facts().failed == 3
    assert 'data-word="failed"><span aria-hidden="true">✗</span> 3 failed' in status.summary.value
    assert status.failure.description == "ExecutionCancelled: cancelled on request"
    assert "1 cancelled" in status.text() and "1 timed out" in status.text()


def running(journal, **progress) -> str:
    """An execution that has started and not ended; ``progress`` is its output so far, if any."""
    record_id = journal.open("kgrid", "hello", 1)
    journal.started(record_id, 2)
    if progress:
        journal.progress(record_id, progress.get("stdout", ""), progress.get("stderr", ""), progress.get("logs", []))
    return record_id


def test_the_detail_of_a_running_execution_cancels_it_through_the_injected_callable(journal):
    record_id = running(journal)
    asked = []

    def cancel_here(original: str) -> str:
        asked.append(original)
        return journal.request_cancel(original).id

    dashboard = w.Dashboard(journal, cancel=cancel_here)
    click(dashboard, record_id)
    assert dashboard.cancel_button.layout.display == "" and not dashboard.cancel_button.disabled
    dashboard.cancel_button.click()
    assert asked == [record_id] and journal.cancel_requests([record_id]) == {record_id: "cancelled on request"}
    assert f'data-ok="true" data-cancel-id="{record_id}"' in dashboard.detail.value
    assert dashboard.cancel_button.disabled  # asked once; the kernel stops it within a second
    journal.close(record_id, error="ExecutionCancelled: cancelled on request", status=CANCELLED)
    dashboard.refresh()
    assert dashboard.cancel_button.layout.display == "none"
    assert 'data-status="cancelled"' in dashboard.detail.value


def test_a_refused_cancel_says_why_in_the_detail(journal):
    def cancel_here(original: str) -> str:
        raise KeyError(f"no open execution {original!r}")

    dashboard = w.Dashboard(journal, cancel=cancel_here)
    record_id = running(journal)
    click(dashboard, record_id)
    dashboard.cancel_button.click()
    assert 'data-ok="false"' in dashboard.detail.value and f"no open execution &#x27;{record_id}" in dashboard.detail.value


def test_there_is_no_cancel_button_without_a_callable_or_for_an_execution_that_ended(journal):
    running_id, ended_id = running(journal), run(journal, output=1)
    without = w.Dashboard(journal)
    click(without, running_id)
    assert without.cancel_button.layout.display == "none"
    dashboard = w.Dashboard(journal, cancel=lambda record_id: record_id)
    click(dashboard, ended_id)
    assert dashboard.cancel_button.layout.display == "none"
    assert dashboard.cancel(None) is None


def test_the_detail_of_a_running_execution_shows_its_output_as_the_journal_grows(journal, updater):
    record_id = running(journal, stdout="step 1\n")
    dashboard = w.Dashboard(journal)
    updater.add(dashboard)
    click(dashboard, record_id)
    assert "step 1" in dashboard.detail.value and "step 2" not in dashboard.detail.value
    log = {"time": 0.0, "level": "INFO", "logger": "payload", "message": "halfway"}
    journal.progress(record_id, "step 1\nstep 2\n", "careful", [log])
    journal.flush()
    assert updater.step(10.0) is True
    detail = dashboard.detail.value
    assert "step 1\nstep 2" in detail and "careful" in detail and "INFO payload: halfway" in detail
    assert 'data-status="running"' in detail


# -- Updater ---------------------------------------------------------------------------------------

def test_updater_coalesces_many_changes_into_one_refresh_per_interval(journal, updater):
    view = CountingView()
    updater.add(view)
    for n in range(50):
        run(journal, input=n)
    assert updater.step(0.0) is True
    assert view.refreshes == 1
    run(journal)
    assert updater.step(0.05) is False  # too soon after the last refresh
    assert view.refreshes == 1
    assert updater.step(0.1) is True
    assert view.refreshes == 2
    assert updater.step(10.0) is False  # nothing changed since
    assert view.refreshes == 2


def test_updater_does_not_refresh_without_changes(updater):
    view = CountingView()
    updater.add(view)
    assert updater.step(100.0) is False and view.refreshes == 0


def test_updater_reacts_to_payload_and_platform_changes(journal, updater):
    view = CountingView()
    updater.add(view)
    register(journal)
    assert updater.step(0.0) is True
    journal.platform_state("kgrid", "ready")
    assert updater.step(1.0) is True
    assert view.refreshes == 2


def test_updater_keeps_refreshing_other_views_when_one_raises(journal, updater, caplog):
    before, after = CountingView(), CountingView()
    broken = BrokenView()
    for view in (before, broken, after):
        updater.add(view)
    run(journal)
    with caplog.at_level(logging.DEBUG, logger="polynb.widgets"):
        assert updater.step(0.0) is True
    assert before.refreshes == 1 and after.refreshes == 1
    assert [str(r.exc_info[1]) for r in caplog.records
            if r.levelno == logging.DEBUG and r.exc_info] == ["view is broken"]
    run(journal)
    assert updater.step(1.0) is True and after.refreshes == 2


def test_updater_forgets_removed_and_dropped_views(journal, updater):
    removed, kept = CountingView(), CountingView()
    dropped_refreshes = []

    class Dropped:
        def refresh(self):
            dropped_refreshes.append(1)

    updater.add(removed)
    updater.add(kept)
    updater.add(Dropped())  # nobody else holds it
    updater.remove(removed)
    gc.collect()
    run(journal)
    assert updater.step(0.0) is True
    assert kept.refreshes == 1 and removed.refreshes == 0 and dropped_refreshes == []


def test_updater_refreshes_real_views(journal, updater):
    status, dashboard = w.CellStatus(journal, "kgrid", "hello"), w.Dashboard(journal)
    updater.add(status)
    updater.add(dashboard)
    record_id = run(journal, error="boom")
    assert updater.step(0.0) is True
    assert 'data-executions="1"' in status.summary.value
    assert dashboard.listed == [record_id]


def test_updater_thread_refreshes_views_after_a_change(journal):
    refreshed = threading.Event()

    class Signalling:
        def refresh(self):
            refreshed.set()

    updater = w.Updater(journal)
    view = Signalling()
    updater.add(view)
    try:
        assert updater.thread.name == "polynb-ui" and updater.thread.daemon
        run(journal)
        assert refreshed.wait(timeout=10)
    finally:
        updater.close()


def test_close_stops_the_thread_and_unsubscribes(journal):
    updater = w.Updater(journal)
    view = CountingView()
    updater.add(view)
    assert updater.thread.is_alive()
    updater.close()
    assert not updater.thread.is_alive()
    run(journal)
    assert updater.step(1e9) is False and view.refreshes == 0
    updater.close()  # closing twice is harmless


def test_cell_status_shows_the_bindings_detail_inline(journal):
    journal.platform_state("aio", "ready", "nats://127.0.0.1:4222", "pending 3, ack pending 1\nmore")
    html = w.CellStatus(journal, "aio", "node").render()
    assert '<span class="polynb-binding-detail">(pending 3, ack pending 1)</span>' in html


# -- other widgets polynb displays ---------------------------------------------------------------

def test_a_colonies_submission_shows_as_a_small_table_of_its_processes():
    from polynb.platforms.colonies import wire
    from polynb.platforms.colonies.submit import Submission
    from polynb.platforms.colonies.view import SubmissionView

    view = SubmissionView()
    assert shown_as_text(view) == "Colonies submission"
    process = {"processid": "a" * 64, "state": wire.SUCCESS, "assignedexecutorid": "e" * 64,
               "spec": {"funcname": "double"}, "out": [42], "errors": []}
    failed = {"processid": "b" * 64, "state": wire.FAILED, "spec": {"funcname": "double"}, "errors": ["boom"]}
    submission = Submission(None, "key", [process, failed])
    submission.executor_names["e" * 64] = "worker-1"
    view.update(submission)
    assert shown_as_text(view) == ("Colonies process\n"
                                   f"  double {'a' * 12} successful on worker-1 output [42]\n"
                                   f"  double {'b' * 12} failed errors: boom")


def test_the_charts_count_this_notebook_across_its_kernels_and_the_folder_when_chosen(journal, tmp_path):
    journal.notebook = str(tmp_path / "mine.ipynb")
    earlier, other = Journal(tmp_path), Journal(tmp_path)  # this notebook's previous kernel, and another notebook
    earlier.notebook, earlier.pid = journal.notebook, journal.pid + 1
    other.notebook = str(tmp_path / "other.ipynb")
    try:
        register(journal)
        run(journal)
        run(earlier)
        run(other)
        dashboard = w.Dashboard(journal)
        assert 'data-platform="kgrid" data-count="2"' in dashboard.charts.value
        dashboard.scope_filter.value = FOLDER
        assert 'data-platform="kgrid" data-count="3"' in dashboard.charts.value
    finally:
        earlier.close_db()
        other.close_db()


def test_a_deep_page_reads_only_its_own_rows(journal):
    ids = [run(journal) for _ in range(7)][::-1]
    assert [r.id for r in journal.records(limit=2, offset=4)] == ids[4:6]
    dashboard = w.Dashboard(journal, page_size=3)
    dashboard.older.click()
    dashboard.older.click()
    assert rows_of(dashboard) == ids[6:] and dashboard.older.disabled
