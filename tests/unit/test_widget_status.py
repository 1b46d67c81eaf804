"""The status widget under a registering cell: its own payload version, this kernel's executions, platform states
as the kernel that wrote them last saw them, the last minute's activity, in JupyterLab's theme colours."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time

import httpx
import ipywidgets
import pytest
from notebook_kernel import NotebookKernel
from support import wait_until

import polynb.journal as journal_module
from polynb import widgets as w
from polynb.journal import FAILED, Journal
from polynb.widgets.activity import WINDOW, activity, percentile
from polynb.widgets.charts import sparkline


@pytest.fixture
def journal(tmp_path):
    journal = Journal(tmp_path)
    yield journal
    journal.close_db()


@pytest.fixture
def other_kernel(tmp_path):
    """The journal as another kernel sharing the folder writes it (same file, another pid)."""
    other = Journal(tmp_path)
    other.pid += 1
    yield other
    other.close_db()


def register(journal, version, name="hello", address=None):
    journal.payload_registered("kgrid", name, version, f"digest-{version}", "main", "def main(x): return x", {},
                               "cell-1", address or f"http://127.0.0.1:9/{name}")


def run(journal, version, name="hello", **result):
    record_id = journal.open("kgrid", name, None)
    journal.started(record_id, version)
    journal.close(record_id, **result)
    return record_id


def attribute(view, name: str) -> str:
    return re.search(rf' data-{name}="([^"]*)"', view.summary.value).group(1)


# -- 1. each widget follows its own version --------------------------------------------------------

def test_a_widget_keeps_its_version_and_says_it_was_superseded(journal):
    register(journal, 1)
    first = w.CellStatus(journal, "kgrid", "hello", 1)
    run(journal, 1)
    register(journal, 2)
    second = w.CellStatus(journal, "kgrid", "hello", 2)
    run(journal, 2)
    run(journal, 2, error="boom")
    for view in (first, second):
        view.refresh()
    assert attribute(first, "version") == "1" and attribute(first, "superseded-by") == "2"
    assert "v1, superseded by v2" in first.summary.value and "v1, superseded by v2" in first.text()
    assert (attribute(first, "executions"), attribute(first, "succeeded"), attribute(first, "failed")) == ("1", "1", "0")
    assert attribute(second, "version") == "2" and attribute(second, "superseded-by") == ""
    assert (attribute(second, "executions"), attribute(second, "failed")) == ("2", "1")


def test_registering_an_older_content_again_supersedes_the_newer_version(journal):
    register(journal, 1)
    register(journal, 2)
    view = w.CellStatus(journal, "kgrid", "hello", 2)
    register(journal, 1)  # the cell went back to its first content: it gets version 1 again
    view.refresh()
    assert attribute(view, "superseded-by") == "1"


def test_an_execution_not_started_yet_counts_as_running_on_the_newest_version_only(journal):
    register(journal, 1)
    register(journal, 2)
    old, new = w.CellStatus(journal, "kgrid", "hello", 1), w.CellStatus(journal, "kgrid", "hello", 2)
    journal.open("kgrid", "hello", None)  # received: the service gives it its version when it starts
    for view in (old, new):
        view.refresh()
    assert attribute(new, "running-now") == "1" and attribute(old, "running-now") == "0"


# -- 4. scope: this kernel's executions; versions never v? or None -----------------------------------

def test_counts_are_this_kernels_executions_of_this_version(journal, other_kernel):
    register(journal, 1)
    run(other_kernel, 1)  # another kernel in the same folder
    run(other_kernel, 1)
    run(journal, 1)
    run(journal, 1, name="other")
    view = w.CellStatus(journal, "kgrid", "hello", 1)
    assert attribute(view, "executions") == "1"
    assert "1 execution (1 succeeded)" in view.text()


def test_the_scope_is_this_notebook_or_the_whole_folder(journal, other_kernel, tmp_path):
    journal.notebook, other_kernel.notebook = str(tmp_path / "mine.ipynb"), str(tmp_path / "theirs.ipynb")
    mine, theirs = run(journal, 1), run(other_kernel, 1)
    assert [r.id for r in journal.records(**journal.scope())] == [mine]
    assert [r.id for r in journal.records(**journal.scope(folder=True))] == [theirs, mine]
    journal.notebook = None  # a kernel that does not know its notebook means its own records
    assert journal.scope() == journal.kernel() == {"host": journal.host, "pid": journal.pid}


def test_a_version_never_shows_as_a_question_mark_or_none(journal):
    view = w.CellStatus(journal, "kgrid", "hello")
    run(journal, None, error="no payload named 'hello' is registered on kgrid")
    view.refresh()
    shown = view.text() + view.summary.value + view.detail.value
    assert "v?" not in shown and "None" not in shown and "vNone" not in shown
    assert view.text().startswith("kgrid hello · not started · ")
    register(journal, 3)
    view.refresh()
    assert attribute(view, "version") == "3" and view.text().startswith("kgrid hello v3 · ")


# -- 3. platform states as their kernel last saw them ---------------------------------------------

def test_a_state_left_by_a_kernel_that_exited_shows_as_gone(journal, tmp_path):
    code = ("import sys; from polynb.journal import Journal\n"
            f"j = Journal({str(tmp_path)!r}); j.platform_state('kgrid', 'ready', 'http://127.0.0.1:9'); j.close_db()")
    subprocess.run([sys.executable, "-c", code], check=True)
    register(journal, 1)
    view = w.CellStatus(journal, "kgrid", "hello", 1)
    assert attribute(view, "state") == "gone"
    assert view.text().split(" · ")[1].startswith("gone (the kernel that reported 'ready' (")
    assert view.text().split(" · ")[1].endswith(") has exited)")
    [row] = journal.platforms()
    assert (row.state, row.reported) == ("gone", "ready")


def test_a_state_written_before_kernels_were_recorded_shows_as_gone(tmp_path):
    """A journal of schema version 1 keeps its platform rows through the upgrade; nobody can vouch for them."""
    db = sqlite3.connect(tmp_path / journal_module.FILENAME)
    for statement in journal_module.MIGRATIONS[0]:
        db.execute(statement)
    db.execute("INSERT INTO platforms VALUES ('kgrid', 'ready', 'http://127.0.0.1:9', NULL, 1.0, ?)", (os.getpid(),))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    upgraded = Journal(tmp_path)
    try:
        [row] = upgraded.platforms()
        assert (row.platform, row.state, row.reported, row.address) == ("kgrid", "gone", "ready", "http://127.0.0.1:9")
    finally:
        upgraded.close_db()


def test_a_reused_pid_does_not_keep_a_state_alive(journal, tmp_path):
    earlier = Journal(tmp_path)  # same pid, but as if the process that wrote it had started at another time
    earlier.process_started = -1.0
    earlier.platform_state("kgrid", "ready")
    earlier.close_db()
    assert [p.state for p in journal.platforms()] == ["gone"]


def test_a_kernel_on_another_host_is_trusted_while_its_lease_lasts(journal, tmp_path, monkeypatch):
    elsewhere = Journal(tmp_path)
    elsewhere.host = "another-host"
    try:
        elsewhere.platform_state("kgrid", "ready")
        assert [p.state for p in journal.platforms()] == ["ready"]
        monkeypatch.setattr(journal_module, "LEASE", -1.0)  # a lease that has already run out
        elsewhere.platform_state("kgrid", "ready")
        assert [p.state for p in journal.platforms()] == ["gone"]
    finally:
        elsewhere.close_db()


def test_a_living_kernel_renews_its_lease(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_module, "LEASE", 0.6)
    writer = Journal(tmp_path)
    writer.host = "another-host"
    reader = sqlite3.connect(tmp_path / journal_module.FILENAME)
    try:
        writer.platform_state("kgrid", "ready")
        first = reader.execute("SELECT lease_until FROM platforms").fetchone()[0]
        wait_until(lambda: reader.execute("SELECT lease_until FROM platforms").fetchone()[0] > first,
                   message="a renewed lease")
    finally:
        reader.close()
        writer.close_db()


def test_this_kernels_own_state_comes_before_another_kernels_later_one(journal, other_kernel):
    journal.platform_state("kgrid", "ready", "http://127.0.0.1:9")
    other_kernel.pid = os.getppid()  # a process that runs, so its state is not gone
    other_kernel.process_started = journal_module.process_started(other_kernel.pid)
    other_kernel.platform_state("kgrid", "stopped")
    assert [p.state for p in journal.platforms()] == ["stopped"]  # the latest report, for the dashboard
    assert [p.state for p in journal.platforms(mine_first=True)] == ["ready"]
    register(journal, 1)
    assert attribute(w.CellStatus(journal, "kgrid", "hello", 1), "state") == "ready"


def test_an_error_state_shows_as_an_error_badge_with_its_reason(journal):
    journal.platform_state("aio", "error", None, "BucketNotFoundError: bucket 'kai' not found\ntrace")
    view = w.CellStatus(journal, "aio", "node")
    badge = re.search(r'<span class="polynb-badge[^"]*" data-word="error"[^>]*>', view.summary.value).group(0)
    assert "polynb-tone-bad" in badge and "BucketNotFoundError: bucket &#x27;kai&#x27; not found" in badge
    assert "(BucketNotFoundError: bucket &#x27;kai&#x27; not found)" in view.summary.value
    assert " · error (BucketNotFoundError: bucket 'kai' not found) · " in view.text()


def test_closing_the_updater_shows_what_changed_last(journal):
    """``%unload_ext polynb`` writes "stopped" and closes the updater at once: the widgets still show it."""
    journal.platform_state("kgrid", "ready")
    register(journal, 1)
    view = w.CellStatus(journal, "kgrid", "hello", 1)
    updater = w.Updater(journal, start=False)
    updater.add(view)
    journal.platform_state("kgrid", "stopped")
    updater.close()
    assert attribute(view, "state") == "stopped"


# -- 6. what the widget shows ----------------------------------------------------------------------

def test_the_widget_wears_theme_colours_only(journal):
    journal.platform_state("kgrid", "ready")
    register(journal, 1)
    run(journal, 1, error="ValueError: bad")
    register(journal, 2)
    view = w.CellStatus(journal, "kgrid", "hello", 1)
    html = "".join(child.value for child in view.widget.children if isinstance(child, ipywidgets.HTML))
    for variable in ("--jp-success-color1", "--jp-error-color1", "--jp-warn-color1", "--jp-ui-font-color1"):
        assert f"var({variable})" in html
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\(|color:\s*[a-z]+;", html) == []
    assert 'data-word="ready"' in html and "polynb-superseded" in html


def test_counts_sparkline_and_latency_of_the_last_minute(journal):
    register(journal, 1)
    ids = [run(journal, 1, output=n) for n in range(4)] + [run(journal, 1, error="boom")]
    view = w.CellStatus(journal, "kgrid", "hello", 1)
    took = sorted(journal.get(i).duration for i in ids)
    assert attribute(view, "per-minute") == "5"
    assert attribute(view, "p50-ms") == f"{took[2] * 1000:.1f}" and attribute(view, "p99-ms") == f"{took[-1] * 1000:.1f}"
    assert '<svg class="polynb-sparkline"' in view.summary.value and 'data-count="5" data-failed="1"' in view.summary.value
    assert "p50 " in view.summary.value and "p99 " in view.summary.value
    assert view.wants_tick()  # the bars slide out of the minute as time passes


def test_activity_counts_each_second_of_the_window(journal):
    first = run(journal, 1)
    second = run(journal, 1, error="boom")
    received = journal.get(first).received_at
    now = received + 30.5  # the executions are about 30 s old
    seen = activity(journal, platform="kgrid", payload="hello", version=1, now=now)
    assert len(seen.counts) == 60 and seen.interval == 1.0
    slot = int(received - seen.start)
    assert seen.counts[slot] + seen.counts[min(slot + 1, 59)] == 2 and seen.total == 2 and seen.failed == 1
    assert activity(journal, platform="kgrid", now=received + 61).total == 0  # out of the minute
    assert activity(journal, now=now).total == 2 and activity(journal, platform="vantiq", now=now).total == 0
    assert journal.get(second).status == FAILED


def test_activity_of_a_platform_in_this_notebook_or_the_whole_folder(journal, other_kernel, tmp_path):
    """What the dashboard's per-platform chart reads."""
    journal.notebook, other_kernel.notebook = str(tmp_path / "mine.ipynb"), str(tmp_path / "theirs.ipynb")
    run(journal, 1)
    run(journal, 1, name="other")
    run(other_kernel, 1)
    assert activity(journal, platform="kgrid", **journal.scope()).total == 2
    assert activity(journal, platform="kgrid", **journal.scope(folder=True)).total == 3
    assert activity(journal, platform="kgrid", **journal.kernel()).total == 2


def test_percentiles_take_the_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99)) == (50.0, 99.0)
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None


def test_a_sparkline_is_plain_svg_in_theme_colours():
    svg = sparkline([0, 2, 4], [0, 0, 1], width=30, height=10, label="3 <seconds>")
    assert svg.startswith('<svg class="polynb-sparkline" role="img" aria-label="3 &lt;seconds&gt;"')
    assert svg.count("var(--jp-brand-color1)") == 2 and svg.count("var(--jp-error-color1)") == 1
    assert 'data-count="6" data-failed="1"' in svg


def test_the_last_failures_reason_opens_its_detail_and_stays_open_across_refreshes(journal):
    register(journal, 1)
    run(journal, 1, error="KeyError: 'x'\nmore", traceback="Traceback (most recent call last):\n  File <cell>")
    view = w.CellStatus(journal, "kgrid", "hello", 1)
    assert view.failure.description == "KeyError: 'x'" and view.failure.layout.display == ""
    assert view.detail.layout.display == "none"
    view.failure.click()
    assert view.detail.layout.display == "" and "File &lt;cell&gt;" in view.detail.value
    run(journal, 1, output=1)
    view.refresh()
    assert view.detail.layout.display == ""
    latest = run(journal, 1, error="ValueError: later")
    view.refresh()
    assert view.failure.description == "ValueError: later" and f'data-execution-id="{latest}"' in view.detail.value


def test_the_text_form_is_one_readable_line(journal):
    journal.platform_state("kgrid", "ready")
    register(journal, 1)
    run(journal, 1, error="ZeroDivisionError: division by zero\nmore")
    register(journal, 2)
    text = w.CellStatus(journal, "kgrid", "hello", 1).text()
    assert "\n" not in text
    assert text == ("kgrid hello v1, superseded by v2 · ready · http://127.0.0.1:9/hello · 1 execution (1 failed)"
                    " · last: failed · ZeroDivisionError: division by zero")


def test_a_refresh_reads_the_journal_through_indexes_only(journal):
    register(journal, 1)
    for n in range(20):
        run(journal, 1, output=n)
    view = w.CellStatus(journal, "kgrid", "hello", 1)
    statements = []
    journal._db.set_trace_callback(statements.append)
    view.refresh()
    journal._db.set_trace_callback(None)
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 10  # a few queries a refresh
    plans = [[row[3] for row in journal._db.execute("EXPLAIN QUERY PLAN " + sql)]
             for sql in selects if "FROM executions" in sql]
    assert plans
    for plan in plans:  # each reads this kernel's rows of the payload through an index, no more
        searches = [step for step in plan if "executions" in step]
        assert searches and all(step.startswith("SEARCH") and "host=? AND pid=?" in step for step in searches), plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan or "SCAN (subquery-1)" in plan, plan  # newest via the index


# -- in a real kernel ------------------------------------------------------------------------------

@pytest.fixture
def kernel(tmp_path, registry):
    running = NotebookKernel(tmp_path, clean_env=("POLYNB_JOURNAL_DIR",))
    running.ok("%load_ext polynb\nimport polynb")
    yield running
    running.stop()


def displayed_widget(kernel, code: str) -> str:
    """Run a cell; the model id of the widget it displayed."""
    shown = []
    reply = kernel.client.execute_interactive(code, timeout=120, output_hook=shown.append)
    assert reply["content"]["status"] == "ok", shown
    return next(m["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] for m in shown
                if "application/vnd.jupyter.widget-view+json" in m["content"].get("data", {}))


def widget_attributes(kernel, model_id: str) -> dict:
    """The data attributes of a status widget's summary, as the front end has them."""
    html = kernel.value("(lambda m: [c.value for c in getattr(m, 'children', [m]) if 'polynb-status' in "
                        "getattr(c, 'value', '')][-1])(__import__('ipywidgets').widgets.widget._instances"
                        f"[{model_id!r}])")
    return dict(re.findall(r' data-([a-z0-9-]+)="([^"]*)"', html.split(">", 1)[0]))


def test_a_widget_keeps_following_its_version_after_another_cell_registers_a_new_one(kernel):
    first = displayed_widget(kernel, "%%fake_exec hello\ndef hello(x):\n    return x")
    address = kernel.value("polynb.get_service().address('fake', 'hello')")
    assert httpx.post(address, json=1).json()["output"] == 1
    second = displayed_widget(kernel, "%%fake_exec hello\ndef hello(x):\n    return 2 * x")
    assert httpx.post(address, json=1).json()["output"] == 2
    assert httpx.post(address, json=2).json()["output"] == 4
    wait_until(lambda: widget_attributes(kernel, second)["succeeded"] == "2", message="the new widget's counts")
    old = wait_until(lambda: (lambda a: a if a["superseded-by"] == "2" else None)(widget_attributes(kernel, first)),
                     message="the first widget saying it was superseded")
    assert (old["version"], old["succeeded"], old["executions"]) == ("1", "1", "1")


def test_unloading_polynb_leaves_the_widgets_saying_stopped(kernel):
    model = displayed_widget(kernel, "%%fake_exec hello\ndef hello(x):\n    return x")
    wait_until(lambda: widget_attributes(kernel, model)["state"] == "ready", message="ready")
    kernel.ok("%unload_ext polynb")
    assert widget_attributes(kernel, model)["state"] == "stopped"


def test_time_alone_refreshes_a_widget_whose_last_minute_had_executions(journal):
    """Without writes the updater wakes each second, so the sparkline slides and an idle minute empties."""
    register(journal, 1)
    busy = w.CellStatus(journal, "kgrid", "hello", 1)
    idle = []

    class Idle:
        def refresh(self):
            idle.append(1)

        def wants_tick(self):
            return False

    quiet = Idle()
    updater = w.Updater(journal, start=False)
    updater.add(busy)
    updater.add(quiet)
    try:
        run(journal, 1)
        updater.step(0.0)
        assert attribute(busy, "per-minute") == "1" and busy.wants_tick() and idle == [1]
        later = time.time() + WINDOW + 1
        busy.clock = lambda: later  # a minute has passed with nothing written
        updater.tick()
        assert attribute(busy, "per-minute") == "0" and not busy.wants_tick()
        assert idle == [1]  # a view that time does not change is left alone
    finally:
        updater.close()


def test_a_registration_the_platform_refuses_shows_an_error_widget_with_the_reason(tmp_path):
    """Like an AIO node whose stream is missing: the cell fails in one line and its widget says why, not "ready"."""
    refusing = NotebookKernel(tmp_path, clean_env=("POLYNB_JOURNAL_DIR",))
    try:  # the fake binding announces payloads to its registry: nothing listens on port 9
        refusing.ok("import os\nos.environ['FAKE_REGISTRY_URL'] = 'http://127.0.0.1:9'")
        refusing.ok("%load_ext polynb")
        shown = []
        reply = refusing.client.execute_interactive("%%fake_exec hello\ndef hello(x):\n    return x", timeout=120,
                                                    output_hook=shown.append)
        assert reply["content"]["status"] == "error"
        assert "could not register 'hello' on fake: ConnectError" in reply["content"]["evalue"]
        model_id = next(m["content"]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] for m in shown
                        if "application/vnd.jupyter.widget-view+json" in m["content"].get("data", {}))
        attributes = widget_attributes(refusing, model_id)
        assert attributes["state"] == "error"
        text = refusing.value(f"__import__('ipywidgets').widgets.widget._instances[{model_id!r}].children[1].value")
        assert "registration failed: ConnectError" in text
    finally:
        refusing.stop()
