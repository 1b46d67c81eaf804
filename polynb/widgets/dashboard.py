"""What ``%polynb`` shows: platforms, payloads, and the latest executions with the detail of one."""
from __future__ import annotations

import threading

import ipywidgets as widgets

from ..journal import STATUSES, Journal, Record
from ..tables import format_table, journal_rows
from .display import Displayable
from .markup import clock_time, data_attributes, duration, escape, json_text, logs_text, timestamp

ALL = ""  # the value of a filter's "all" choice
TEXT_EXECUTIONS = 5  # executions the dashboard's text form lists
PAYLOAD_COLUMNS = ("platform", "payload", "version", "address", "executions")


class Dashboard(Displayable):
    """What ``%polynb`` shows: platforms, payloads, and the latest executions with the detail of one,
    filtered by platform, payload and status."""

    def __init__(self, journal: Journal, limit: int = 50) -> None:
        self.journal, self.limit = journal, limit
        self.selected: str | None = None  # id of the record in the detail pane
        self._lock = threading.RLock()  # the updater thread and the kernel's thread both refresh
        self._syncing = False  # set while options are rewritten, so their echoes are ignored
        self.platforms_line = widgets.HTML()
        self.payloads_table = widgets.HTML()
        self.platform_filter = widgets.Dropdown(description="platform", options=[("all", ALL)])
        self.payload_filter = widgets.Dropdown(description="payload", options=[("all", ALL)])
        self.status_filter = widgets.Dropdown(description="status",
                                              options=[("all", ALL)] + [(s, s) for s in STATUSES])
        self.executions = widgets.Select(options=(), rows=12, layout=widgets.Layout(width="100%"))
        self.executions.add_class("polynb-executions")
        self.detail = widgets.HTML()
        self.detail.add_class("polynb-detail")
        for dropdown in (self.platform_filter, self.payload_filter, self.status_filter):
            dropdown.observe(self._on_filter, names="value")
        self.executions.observe(self._on_select, names="value")
        filters = widgets.HBox([self.platform_filter, self.payload_filter, self.status_filter])
        self.widget = widgets.VBox([self.platforms_line, self.payloads_table, filters,
                                    self.executions, self.detail])
        self.widget.add_class("polynb-dashboard")
        self.refresh()

    def refresh(self) -> None:
        """Re-read the journal; the selected execution stays selected while it exists."""
        with self._lock:
            platforms, payloads = self.journal.platforms(), self.journal.payloads()
            self.platforms_line.value = _platforms_html(platforms)
            self.payloads_table.value = _payloads_html(
                payloads, [sum(self.journal.counts(p.platform, p.name).values()) for p in payloads])
            platform_names = sorted({p.platform for p in platforms} | {p.platform for p in payloads})
            self._sync(self.platform_filter, platform_names)
            chosen = self.platform_filter.value
            self._sync(self.payload_filter,
                       sorted({p.name for p in payloads if chosen in (ALL, p.platform)}))
            records = self.journal.records(platform=chosen or None,
                                           payload=self.payload_filter.value or None,
                                           status=self.status_filter.value or None, limit=self.limit)
            self._render(records)

    def text(self) -> str:
        """A small table: the platforms in one line, the payloads, and the latest executions."""
        platforms, payloads = self.journal.platforms(), self.journal.payloads()
        states = ", ".join(f"{p.platform} {p.state}" + (f" at {p.address}" if p.address else "") for p in platforms)
        rows = [{"platform": p.platform, "payload": p.name, "version": p.version, "address": p.address or "",
                 "executions": sum(self.journal.counts(p.platform, p.name).values())} for p in payloads]
        latest = journal_rows(self.journal.records(limit=TEXT_EXECUTIONS))
        return "\n".join([
            f"polynb: {states or 'no platform started yet'}",
            format_table(rows, PAYLOAD_COLUMNS) if rows else "(no payloads)",
            f"latest executions:\n{format_table(latest)}" if latest else "(no executions)"])

    def show(self, record_id: str) -> None:
        """Select an execution by id (or unique id prefix) and show its detail."""
        record = self.journal.get(record_id)
        if record is None:
            raise KeyError(f"no execution {record_id!r} in the journal")
        with self._lock:
            self.selected = record.id
            self.refresh()

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

    def _render(self, records: list[Record]) -> None:
        record = self.journal.get(self.selected) if self.selected else None
        self.selected = record.id if record else None
        options = tuple((_label(r), r.id) for r in records)
        self._syncing = True
        try:
            with self.executions.hold_sync():
                if options != tuple(self.executions.options):
                    self.executions.options = options
                listed = any(r.id == self.selected for r in records)
                self.executions.value = self.selected if listed else None
        finally:
            self._syncing = False
        self.detail.value = _detail_html(record) if record else (
            '<div class="polynb-record-empty">Select an execution to see its detail.</div>')

    def _on_filter(self, change: dict) -> None:
        if not self._syncing:
            self.refresh()

    def _on_select(self, change: dict) -> None:
        if self._syncing or change["new"] is None:
            return
        with self._lock:
            self.selected = change["new"]
            record = self.journal.get(self.selected)
            self.detail.value = _detail_html(record) if record else ""


def _label(record: Record) -> str:
    version = f"v{record.version}" if record.version is not None else ""
    parts = [f"#{record.seq}", clock_time(record.received_at), record.platform, record.payload,
             version, record.status, duration(record.duration)]
    return " ".join(part for part in parts if part)



def _platforms_html(platforms: list) -> str:
    items = "".join(f'<span class="polynb-platform"{data_attributes({"platform": p.platform, "state": p.state})}'
                    f' title="{escape(p.detail)}"><b>{escape(p.platform)}</b> {escape(p.state)}'
                    f'{" " + escape(p.address) if p.address else ""}</span> ' for p in platforms)
    return f'<div class="polynb-platforms">{items or "No platform started yet."}</div>'


def _payloads_html(payloads: list, executions: list[int]) -> str:
    head = "".join(f"<th>{name}</th>" for name in ("platform", "name", "version", "address", "executions"))
    rows = "".join(
        f'<tr{data_attributes({"platform": p.platform, "payload": p.name, "executions": n})}>'
        f"<td>{escape(p.platform)}</td><td>{escape(p.name)}</td><td>{escape(p.version)}</td>"
        f"<td>{escape(p.address)}</td><td>{n}</td></tr>" for p, n in zip(payloads, executions, strict=True))
    return f'<table class="polynb-payloads"><tr>{head}</tr>{rows}</table>'


def _detail_html(record: Record) -> str:
    fields = [("id", record.id), ("platform", record.platform), ("payload", record.payload),
              ("version", record.version), ("status", record.status),
              ("received", timestamp(record.received_at)), ("started", timestamp(record.started_at)),
              ("finished", timestamp(record.finished_at)), ("duration", duration(record.duration))]
    table = "".join(f"<tr><th>{name}</th><td>{escape(value)}</td></tr>" for name, value in fields)
    sections = [("input", json_text(record.input)), ("output", json_text(record.output)),
                ("stdout", record.stdout), ("stderr", record.stderr), ("logs", logs_text(record.logs)),
                ("error", record.error), ("traceback", record.traceback)]
    blocks = "".join(f'<div class="polynb-{name}"><b>{name}</b><pre>{escape(text)}</pre></div>'
                     for name, text in sections if text)
    attrs = data_attributes({"record-id": record.id, "status": record.status})
    return f'<div class="polynb-record"{attrs}><table>{table}</table>{blocks}</div>'
