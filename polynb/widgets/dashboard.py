"""What ``%polynb`` shows: platforms, payloads, a table of executions and the detail of one.

The table is HTML, so every row can carry ``data-execution-id``; a click on a row reaches Python through
a hidden text field that one inline handler of the table fills (widgets have no other way to hear a
click inside HTML). Copy id and Go to cell need no kernel: the first is ``navigator.clipboard``, the
second a link to JupyterLab's own ``#cell-id=`` fragment. Replay and Cancel run through callables the magic
injects, so the widget imports neither the service nor any platform.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import ipywidgets as widgets

from ..journal import OPEN_STATUSES, STATUSES, SUCCEEDED, UNSUCCESSFUL, Journal, PayloadRow, Record
from ..tables import format_table, journal_rows
from .activity import INTERVAL, WINDOW, Activity, activity, latency_per_interval
from .charts import line, sparkline
from .display import Displayable
from .markup import (
    TONE_STYLE,
    badge,
    clock_time,
    data_attributes,
    duration,
    escape,
    first_line,
    json_text,
    logs_text,
    timestamp,
    version_label,
)

ALL = ""  # the value of a filter's "all" choice
NOTEBOOK, FOLDER = "notebook", "folder"  # the scope filter: as polynb.records() and polynb.records(all_notebooks=True)
CHART_WIDTH, CHART_HEIGHT = 240, 30
TEXT_EXECUTIONS = 5  # executions the dashboard's text form lists
PAGE_SIZE = 25
PAYLOAD_COLUMNS = ("platform", "payload", "version", "address", "executions")
TABLE_COLUMNS = ("#", "time", "status", "platform", "payload", "version", "duration", "error")

# One inline handler on the table: the clicked row's id goes into the hidden pick field, which tells Python.
PICK = ("const r=event.target.closest('tr[data-execution-id]');"
        "if(!r||(event.type==='keydown'&&event.key!=='Enter'))return;"
        "const i=this.closest('.polynb-dashboard').querySelector('.polynb-dashboard-pick input');"
        "i.value=r.dataset.executionId;i.dispatchEvent(new Event('input',{bubbles:true}))")
COPY = ("navigator.clipboard.writeText(this.dataset.copy)"
        ".then(()=>{this.textContent='Copied'},()=>{this.textContent='Select the id to copy it'})")

# JupyterLab's theme variables only, so the light and dark themes both read well.
STYLE = "<style>" + TONE_STYLE + """
.polynb-dashboard { color: var(--jp-ui-font-color1); font-size: var(--jp-ui-font-size1); }
.polynb-dashboard table { border-collapse: collapse; width: 100%; }
.polynb-dashboard th { text-align: left; font-weight: 600; color: var(--jp-ui-font-color2);
  border-bottom: 1px solid var(--jp-border-color1); padding: 3px 8px; white-space: nowrap; }
.polynb-dashboard td { padding: 3px 8px; border-bottom: 1px solid var(--jp-border-color2); vertical-align: top;
  overflow-wrap: anywhere; }
.polynb-dashboard td.polynb-nowrap { white-space: nowrap; }
.polynb-dashboard td.polynb-number { text-align: right; font-variant-numeric: tabular-nums; }
.polynb-execution { cursor: pointer; }
.polynb-execution:hover, .polynb-execution:focus { background: var(--jp-layout-color2); outline: none; }
.polynb-execution.polynb-row-failed { background: color-mix(in srgb, var(--jp-error-color1) 12%, transparent);
  box-shadow: inset 3px 0 var(--jp-error-color1); }
.polynb-execution.polynb-row-selected { box-shadow: inset 3px 0 var(--jp-brand-color1);
  background: color-mix(in srgb, var(--jp-brand-color1) 14%, transparent); }
.polynb-charts { display: grid; grid-template-columns: repeat(3, max-content); gap: 4px 16px; align-items: center;
  margin: 6px 0; }
.polynb-chart-figure { display: flex; gap: 6px; align-items: center; white-space: nowrap; }
.polynb-platform { margin-right: 16px; }
.polynb-muted { color: var(--jp-ui-font-color2); }
.polynb-record pre { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 16em; overflow-y: auto;
  margin: 2px 0 8px; padding: 4px 6px; background: var(--jp-layout-color2); color: var(--jp-content-font-color1);
  font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); }
.polynb-record-title { font-size: var(--jp-ui-font-size2); margin: 8px 0 4px; }
.polynb-record table { width: auto; }
.polynb-record-error pre, .polynb-record-traceback pre { color: var(--jp-error-color1); }
.polynb-actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 0; }
.polynb-actions .polynb-id { font-family: var(--jp-code-font-family); width: 34ch; max-width: 100%;
  color: var(--jp-ui-font-color1); background: var(--jp-layout-color1); border: 1px solid var(--jp-border-color1); }
.polynb-action { display: inline-block; box-sizing: border-box; height: var(--jp-widgets-inline-height);
  line-height: var(--jp-widgets-inline-height); padding: 0 12px; cursor: pointer; text-decoration: none;
  font-family: var(--jp-ui-font-family); font-size: var(--jp-widgets-font-size); color: var(--jp-ui-font-color1);
  background: var(--jp-layout-color2); border: 0; }
.polynb-action:hover { box-shadow: var(--jp-elevation-z2); }
.polynb-action[aria-disabled="true"] { color: var(--jp-ui-font-color3); cursor: default; pointer-events: none; }
</style>"""

ReplayHere = Callable[[str], str]  # a record id in, the replay's new record id out (raises KeyError if it cannot)
CancelHere = Callable[[str], str]  # a record id in, its full id out once asked to stop (KeyError if it is not open)


class Dashboard(Displayable):
    """What ``%polynb`` shows: platforms, payloads, and a page of executions with the detail of one,
    filtered by scope, platform, payload and status."""

    def __init__(self, journal: Journal, page_size: int = PAGE_SIZE, replay: ReplayHere | None = None,
                 cancel: CancelHere | None = None) -> None:
        self.journal, self.page_size, self.replay_here, self.cancel_here = journal, page_size, replay, cancel
        self.selected: str | None = None  # id of the record in the detail pane
        self.page = 0  # 0 is the newest page
        self.listed: list[str] = []  # ids of the rows on the page, newest first
        self._lock = threading.RLock()  # the updater thread and the kernel's thread both refresh
        self._syncing = False  # set while options are rewritten, so their echoes are ignored
        self._replayed = ""  # the last replay's result line, shown in the detail
        self._cancelled = ""  # the last cancel's result line, shown in the detail
        self._charted_at = float("-inf")  # the charts are redrawn at most once per interval...
        self._scope_changed = False  # ...unless the scope changed
        self._charts_live = False  # whether the last minute had executions (then the charts slide each second)
        self.platforms_line = widgets.HTML()
        self.payloads_table = widgets.HTML()
        self.charts = widgets.HTML()
        self.scope_filter = self._filter("scope", [("this notebook", NOTEBOOK), ("whole folder", FOLDER)])
        self.platform_filter = self._filter("platform", [("all", ALL)])
        self.payload_filter = self._filter("payload", [("all", ALL)])
        self.status_filter = self._filter("status", [("all", ALL)] + [(s, s) for s in STATUSES])
        self.table = widgets.HTML()
        self.table.add_class("polynb-executions")
        self.pick = widgets.Text(layout=widgets.Layout(display="none"))
        self.pick.add_class("polynb-dashboard-pick")
        self.pick.observe(self._on_pick, names="value")
        self.newer = widgets.Button(description="Newer", icon="angle-left", disabled=True,
                                    layout=widgets.Layout(width="auto"))
        self.older = widgets.Button(description="Older", icon="angle-right", disabled=True,
                                    layout=widgets.Layout(width="auto"))
        self.page_label = widgets.HTML()
        self.newer.on_click(lambda _: self._turn(-1))
        self.older.on_click(lambda _: self._turn(+1))
        self.detail_title, self.actions, self.detail = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.detail.add_class("polynb-detail")
        self.replay_button = widgets.Button(description="Replay here", icon="redo",
                                            tooltip="run this input again against the current payload, in this kernel",
                                            layout=widgets.Layout(width="auto", min_width="fit-content"))
        self.replay_button.add_class("polynb-action-replay")
        self.replay_button.on_click(lambda _: self.replay(self.selected))
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", button_style="danger",
                                            tooltip="stop this execution: its record ends cancelled",
                                            layout=widgets.Layout(width="auto", min_width="fit-content"))
        self.cancel_button.add_class("polynb-action-cancel")
        self.cancel_button.on_click(lambda _: self.cancel(self.selected))
        self.detail_box = widgets.VBox([self.detail_title,
                                        widgets.HBox([self.cancel_button, self.replay_button, self.actions],
                                                     layout=widgets.Layout(align_items="center")),
                                        self.detail])
        self.detail_box.add_class("polynb-detail-box")
        filters = widgets.HBox([self.scope_filter, self.platform_filter, self.payload_filter, self.status_filter],
                               layout=widgets.Layout(flex_flow="row wrap"))
        pager = widgets.HBox([self.newer, self.page_label, self.older], layout=widgets.Layout(align_items="center"))
        self.widget = widgets.VBox([widgets.HTML(STYLE), self.platforms_line, self.charts, self.payloads_table,
                                    filters, self.table, pager, self.pick, self.detail_box])
        self.widget.add_class("polynb-dashboard")
        self.refresh()

    def _filter(self, name: str, options: list[tuple[str, str]]) -> widgets.Dropdown:
        dropdown = widgets.Dropdown(description=name, options=options,
                                    layout=widgets.Layout(width="auto", min_width="14em"),
                                    style={"description_width": "initial"})
        dropdown.add_class(f"polynb-filter-{name}")
        dropdown.observe(self._on_filter, names="value")
        return dropdown

    # -- reading the journal ---------------------------------------------------------------------------
    @property
    def scope(self) -> dict:
        """The record filters of the chosen scope: what ``polynb.records()`` means by this notebook, or the folder."""
        return self.journal.scope(folder=self.scope_filter.value == FOLDER)

    def _payloads(self) -> list[PayloadRow]:
        notebook = self.scope.get("notebook")
        return self.journal.payloads(notebook=notebook)

    def refresh(self) -> None:
        """Re-read the journal; the selected execution stays selected while it exists."""
        with self._lock:
            platforms, payloads = self.journal.platforms(), self._payloads()
            self.platforms_line.value = _platforms_html(platforms)
            self.payloads_table.value = _payloads_html(
                payloads, [sum(self.journal.counts(p.platform, p.name, **self.scope).values()) for p in payloads])
            platform_names = sorted({p.platform for p in platforms} | {p.platform for p in payloads})
            self._chart(platform_names)
            self._sync(self.platform_filter, platform_names)
            chosen = self.platform_filter.value
            self._sync(self.payload_filter, sorted({p.name for p in payloads if chosen in (ALL, p.platform)}))
            start = self.page * self.page_size
            records = self.journal.records(platform=chosen or None, payload=self.payload_filter.value or None,
                                           status=self.status_filter.value or None,
                                           limit=self.page_size + 1, offset=start, **self.scope)
            self._render(records[:self.page_size], has_older=len(records) > self.page_size)

    def text(self) -> str:
        """A small table: the platforms in one line, the payloads, and the latest executions."""
        platforms, payloads = self.journal.platforms(), self._payloads()
        states = ", ".join(f"{p.platform} {p.state}" + (f" at {p.address}" if p.address else "") for p in platforms)
        rows = [{"platform": p.platform, "payload": p.name, "version": p.version, "address": p.address or "",
                 "executions": sum(self.journal.counts(p.platform, p.name, **self.scope).values())} for p in payloads]
        latest = journal_rows(self.journal.records(limit=TEXT_EXECUTIONS, **self.scope))
        return "\n".join([
            f"polynb: {states or 'no platform started yet'}",
            format_table(rows, PAYLOAD_COLUMNS) if rows else "(no payloads)",
            f"latest executions:\n{format_table(latest)}" if latest else "(no executions)"])

    # -- what a user does ------------------------------------------------------------------------------
    def show(self, record_id: str | None) -> None:
        """Open the detail of an execution by id (or unique id prefix); ``None`` closes it."""
        record = self.journal.get(record_id) if record_id else None
        if record_id and record is None:
            raise KeyError(f"no execution {record_id!r} in the journal")
        with self._lock:
            self.selected = record.id if record else None
            self._replayed = self._cancelled = ""
            self.refresh()

    def replay(self, record_id: str | None) -> str | None:
        """Replay an execution here through the injected callable; its new record opens in the detail."""
        if record_id is None or self.replay_here is None:
            return None
        try:
            new_id = self.replay_here(record_id)
        except KeyError as exc:
            with self._lock:
                self._replayed = _replay_line(None, exc.args[0] if exc.args else str(exc))
                self.refresh()
            return None
        record = self.journal.get(new_id)
        with self._lock:
            self.selected = new_id
            self.page = 0
            self._replayed, self._cancelled = _replay_line(record, ""), ""
            self.refresh()
        return new_id

    def cancel(self, record_id: str | None) -> str | None:
        """Stop an open execution through the injected callable; the detail says whether the stop was asked for
        (the record ends cancelled once the kernel that runs it has stopped it)."""
        if record_id is None or self.cancel_here is None:
            return None
        try:
            stopped: str | None = self.cancel_here(record_id)
            line = _cancel_line(stopped, "")
        except KeyError as exc:
            stopped, line = None, _cancel_line(None, exc.args[0] if exc.args else str(exc))
        with self._lock:
            self._cancelled = line
            self.refresh()
        return stopped

    def _chart(self, platforms: list[str], now: float | None = None) -> None:
        """Each platform's last minute in the scope: executions per second and latency, redrawn once per interval."""
        now = time.time() if now is None else now
        if now - self._charted_at < INTERVAL and not self._scope_changed:
            return
        self._charted_at, self._scope_changed = now, False
        scope = self.scope  # the table's scope: this notebook (across its kernels), or the folder
        seen = {name: activity(self.journal, platform=name, now=now, **scope) for name in platforms}
        self._charts_live = any(minute.total for minute in seen.values())
        rows = "".join(_chart_html(name, minute, latency_per_interval(
            self.journal, minute.start, minute.interval, len(minute.counts), platform=name, **scope))
            for name, minute in seen.items())
        self.charts.value = f'<div class="polynb-charts">{rows}</div>' if rows else ""

    def wants_tick(self) -> bool:
        """Whether time alone changes the dashboard (the updater asks): its charts slide while the last
        minute had executions."""
        return self._charts_live

    def _turn(self, pages: int) -> None:
        with self._lock:
            self.page = max(0, self.page + pages)
            self.refresh()

    def _on_pick(self, change: dict) -> None:
        """A click on a row (from the table's inline handler): opens its detail, or closes it if open."""
        if self._syncing or not change["new"]:
            return
        self.show(None if change["new"] == self.selected else change["new"])
        self._syncing = True
        try:
            self.pick.value = ""  # so a second click on the same row is a change again
        finally:
            self._syncing = False

    def _on_filter(self, change: dict) -> None:
        if not self._syncing:
            with self._lock:
                self.page = 0
                self._scope_changed = change["owner"] is self.scope_filter
                self.refresh()

    # -- rendering -------------------------------------------------------------------------------------
    def _sync(self, dropdown: widgets.Dropdown, choices: list[str]) -> None:
        options = (("all", ALL),) + tuple((c, c) for c in choices)
        if options == tuple(dropdown.options):
            return
        keep = dropdown.value if dropdown.value in choices else ALL
        self._syncing = True
        try:
            with dropdown.hold_sync():
                dropdown.options = options
                dropdown.value = keep
        finally:
            self._syncing = False

    def _render(self, records: list[Record], has_older: bool) -> None:
        record = self.journal.get(self.selected) if self.selected else None
        self.selected = record.id if record else None
        self.listed = [r.id for r in records]
        table = _table_html(records, self.selected)
        if table != self.table.value:
            self.table.value = table
        first = self.page * self.page_size
        self.page_label.value = (f'<span class="polynb-muted">page {self.page + 1} · executions {first + 1}–'
                                 f'{first + len(records)}</span>' if records else
                                 '<span class="polynb-muted">no executions match</span>')
        self.newer.disabled, self.older.disabled = self.page == 0, not has_older
        self.replay_button.layout.display = "" if record and self.replay_here else "none"
        running = record is not None and record.status in OPEN_STATUSES
        self.cancel_button.layout.display = "" if running and self.cancel_here else "none"
        self.cancel_button.disabled = bool(self._cancelled)  # asked once: the record ends cancelled shortly
        self.detail_title.value = _detail_title_html(record) if record else ""
        self.actions.value = _actions_html(record, self._cell_link(record)) if record else ""
        detail = _detail_html(record, self._cancelled + self._replayed) if record else (
            '<div class="polynb-record-empty polynb-muted">Click an execution to see its detail.</div>')
        if detail != self.detail.value:
            self.detail.value = detail

    def _cell_link(self, record: Record) -> tuple[str | None, str]:
        """``(cell id, why not)`` of the cell that defined the record's payload version, for Go to cell."""
        rows = [p for p in self.journal.payloads(active_only=False)
                if (p.platform, p.name) == (record.platform, record.payload)]
        row = next((p for p in rows if p.version == record.version), rows[-1] if rows else None)
        if row is None or not row.cell_id:
            return None, "registered outside JupyterLab: no cell id"
        if row.notebook is not None and self.journal.notebook is not None and row.notebook != self.journal.notebook:
            return None, f"defined in another notebook: {row.notebook}"
        return row.cell_id, ""


def _chart_html(platform: str, seen: Activity, latency: tuple[float | None, ...]) -> str:
    """One platform's row of the chart: its name, executions per second and latency over the last minute."""
    minute = f"the last {WINDOW:.0f} s, {seen.interval:g} s per bar"
    rates = sparkline(seen.counts, seen.failures, width=CHART_WIDTH, height=CHART_HEIGHT,
                      label=f"{platform}: executions per second, {minute}")
    times = line(latency, width=CHART_WIDTH, height=CHART_HEIGHT,
                 label=f"{platform}: median latency per interval, {minute}")
    percentiles = f"p50 {duration(seen.p50) or '–'} · p99 {duration(seen.p99) or '–'}"
    attrs = data_attributes({"platform": platform, "count": seen.total, "failed": seen.failed})
    return (f'<div class="polynb-chart"{attrs} style="display: contents">'
            f"<b>{escape(platform)}</b>"
            f'<span class="polynb-chart-figure"><span class="polynb-muted">executions</span>{rates}'
            f"<span>{seen.per_second:.2f}/s</span></span>"
            f'<span class="polynb-chart-figure"><span class="polynb-muted">latency</span>{times}'
            f"<span>{percentiles}</span></span></div>")


def _table_html(records: list[Record], selected: str | None) -> str:
    head = "".join(f"<th>{name}</th>" for name in TABLE_COLUMNS)
    rows = []
    for r in records:
        classes = " ".join(["polynb-execution"] + (["polynb-row-failed"] if r.status in UNSUCCESSFUL else [])
                           + (["polynb-row-selected"] if r.id == selected else []))
        attrs = data_attributes({"execution-id": r.id, "status": r.status, "platform": r.platform,
                                 "payload": r.payload})
        rows.append(
            f'<tr class="{classes}"{attrs} tabindex="0" title="{escape(r.id)}">'
            f'<td class="polynb-number">{r.seq}</td><td class="polynb-nowrap">{clock_time(r.received_at)}</td>'
            f"<td>{badge(r.status)}</td><td>{escape(r.platform)}</td><td>{escape(r.payload)}</td>"
            f'<td class="polynb-nowrap">{version_label(r.version)}</td>'
            f'<td class="polynb-number polynb-nowrap">{duration(r.duration)}</td>'
            f'<td class="polynb-tone-bad">{escape(first_line(r.error or ""))}</td></tr>')
    return (f'<table class="polynb-table" onclick="{escape(PICK)}" onkeydown="{escape(PICK)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _platforms_html(platforms: list) -> str:
    items = "".join(f'<span class="polynb-platform"{data_attributes({"platform": p.platform, "state": p.state})}'
                    f' title="{escape(p.detail)}"><b>{escape(p.platform)}</b> {badge(p.state)}'
                    f'{" " + escape(p.address) if p.address else ""}</span> ' for p in platforms)
    return f'<div class="polynb-platforms">{items or "No platform started yet."}</div>'


def _payloads_html(payloads: list, executions: list[int]) -> str:
    head = "".join(f"<th>{name}</th>" for name in ("platform", "name", "version", "address", "executions"))
    rows = "".join(
        f'<tr{data_attributes({"platform": p.platform, "payload": p.name, "executions": n})}>'
        f"<td>{escape(p.platform)}</td><td>{escape(p.name)}</td><td>{version_label(p.version)}</td>"
        f'<td>{escape(p.address)}</td><td class="polynb-number">{n}</td></tr>'
        for p, n in zip(payloads, executions, strict=True))
    return f'<table class="polynb-payloads"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _replay_line(record: Record | None, refusal: str) -> str:
    if record is None:
        return f'<div class="polynb-replayed" data-ok="false"><span class="polynb-tone-bad">{escape(refusal)}</span></div>'
    said = escape(first_line(record.error)) if record.error else escape(json_text(record.output))
    attrs = data_attributes({"ok": str(record.status == SUCCEEDED).lower(), "replay-id": record.id})
    return (f'<div class="polynb-replayed"{attrs}>'
            f"replayed as #{record.seq}: {badge(record.status)} <code>{said}</code></div>")


def _cancel_line(stopped: str | None, refusal: str) -> str:
    if stopped is None:
        return f'<div class="polynb-cancel-asked" data-ok="false"><span class="polynb-tone-bad">{escape(refusal)}</span></div>'
    return (f'<div class="polynb-cancel-asked"{data_attributes({"ok": "true", "cancel-id": stopped})}>'
            f"cancel requested at {clock_time(time.time())}</div>")


def _detail_title_html(record: Record) -> str:
    return (f'<div class="polynb-record-title"{data_attributes({"execution-id": record.id})}>{badge(record.status)}'
            f" <b>#{record.seq}</b> {escape(record.platform)} · {escape(record.payload)} {version_label(record.version)}</div>")


def _actions_html(record: Record, cell: tuple[str | None, str]) -> str:
    """Copy id (the clipboard, or select the id field by hand) and Go to cell (JupyterLab's ``#cell-id=`` link)."""
    cell_id, why_not = cell
    jump = (f'<a class="polynb-action polynb-action-jump" href="#cell-id={escape(cell_id)}" '
            f'title="scroll the notebook to the cell that defines {escape(record.payload)}">Go to cell</a>'
            if cell_id else
            f'<a class="polynb-action polynb-action-jump" aria-disabled="true" title="{escape(why_not)}">Go to cell</a>')
    return (f'<div class="polynb-actions"><button class="polynb-action polynb-action-copy" '
            f'data-copy="{escape(record.id)}" onclick="{escape(COPY)}">Copy id</button>{jump}'
            f'<input class="polynb-id" readonly value="{escape(record.id)}" aria-label="execution id" '
            'onfocus="this.select()"></div>')


def _detail_html(record: Record, replayed: str) -> str:
    times = [("received", timestamp(record.received_at)), ("started", timestamp(record.started_at)),
             ("finished", timestamp(record.finished_at)), ("ran", duration(record.duration)),
             ("queued", duration(record.started_at - record.received_at) if record.started_at else "")]
    table = "".join(f"<tr><th>{name}</th><td>{escape(value)}</td></tr>" for name, value in times if value)
    sections = [("input", json_text(record.input)), ("output", json_text(record.output)),
                ("stdout", record.stdout), ("stderr", record.stderr), ("logs", logs_text(record.logs)),
                ("error", record.error), ("traceback", record.traceback)]
    blocks = "".join(f'<div class="polynb-record-{name}"><b>{name}</b><pre>{escape(text)}</pre></div>'
                     for name, text in sections if text)
    attrs = data_attributes({"record-id": record.id, "execution-id": record.id, "status": record.status})
    return f'<div class="polynb-record"{attrs}>{replayed}<table>{table}</table>{blocks}</div>'
