"""Notebook widgets over the execution journal: the status line under a registering cell and the
``%polynb`` dashboard.

A widget reads the journal and nothing else. It knows no platform's wire format and not the
service, so the same widgets show executions of every platform, whoever wrote them. Journal changes
arrive on worker and service threads, many per second under load; the one :class:`Updater` of the
process coalesces them into at most one refresh of every view per interval.
"""
from __future__ import annotations

import html
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import ipywidgets as widgets

from .journal import FAILED, INTERRUPTED, STATUSES, Journal, Record
from .tables import format_table, journal_rows

log = logging.getLogger(__name__)

ALL = ""  # the value of a filter's "all" choice
ERROR_CHARS = 160
TEXT_EXECUTIONS = 5  # executions the dashboard's text form lists
PAYLOAD_COLUMNS = ("platform", "payload", "version", "address", "executions")


class View(Protocol):
    def refresh(self) -> None: ...


class Updater:
    """Refreshes its views after journal changes, at most once per ``interval``.

    Observers run on the writer's thread, so observing only sets an event: executions never wait
    for rendering, and a burst of changes costs one refresh instead of flooding the front end.
    """

    def __init__(self, journal: Journal, interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic, *, start: bool = True) -> None:
        self.interval = interval
        self._clock = clock
        self._views: weakref.WeakSet = weakref.WeakSet()
        self._views_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._last_flush = float("-inf")
        self._unsubscribe = journal.observe(self._changed)
        self.thread = threading.Thread(target=self._run, name="polynb-ui", daemon=True)
        if start:
            self.thread.start()

    def add(self, view: View) -> None:
        """Refresh ``view`` after changes. Held weakly: a view nobody displays any more drops out."""
        with self._views_lock:
            self._views.add(view)

    def remove(self, view: View) -> None:
        with self._views_lock:
            self._views.discard(view)

    def _changed(self, kind: str, key: str) -> None:
        self._dirty.set()

    def step(self, now: float) -> bool:
        """Refresh every view if the journal changed and ``interval`` has passed since the last
        refresh; return whether it refreshed. The thread's whole decision, callable from tests."""
        with self._flush_lock:
            if self._stop.is_set() or not self._dirty.is_set() or now - self._last_flush < self.interval:
                return False
            self._dirty.clear()  # before reading, so a change during the refresh is flushed next time
            self._last_flush = now
            with self._views_lock:
                views = list(self._views)
            for view in views:
                try:
                    view.refresh()
                except Exception:  # one broken view must not freeze the others
                    log.debug("refreshing %r failed", view, exc_info=True)
            return True

    def _run(self) -> None:
        while True:
            self._dirty.wait()
            if self._stop.is_set():
                return
            now = self._clock()
            if not self.step(now):  # too soon: sleep out the rest of the interval
                self._stop.wait(min(self.interval, max(0.0, self._last_flush + self.interval - now)))

    def close(self) -> None:
        """Stop observing the journal and stop the thread; views are no longer refreshed."""
        self._unsubscribe()
        self._stop.set()
        self._dirty.set()  # wake the thread so it sees the stop
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)


def with_text(bundle: dict | None, text: str) -> dict:
    """A widget's display bundle whose ``text/plain`` reads like the widget, not ``HTML(value=...)``.

    Terminals (plain IPython, ``polynb serve``) show only that text, and nbclient stores it in the notebook.
    """
    return {**(bundle or {}), "text/plain": text}


class _Displayable:
    """Lets ``display(view)`` and a cell's last expression show the view's widget, or its text in a terminal."""

    widget: widgets.DOMWidget

    def text(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return with_text(self.widget._repr_mimebundle_(**kwargs), self.text())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())


@dataclass(frozen=True)
class _StatusFacts:
    """What the status line says, read once from the journal for both its HTML and its text."""

    state: str
    detail: str
    address: str
    version: Any
    counts: dict
    last_status: str
    error: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def by_status(self) -> str:
        return ", ".join(f"{self.counts[s]} {s}" for s in STATUSES if self.counts.get(s))


class CellStatus(_Displayable):
    """The line under a cell that registered a payload: where it is served and how its executions
    went, so a failing payload shows in the notebook without opening the dashboard."""

    def __init__(self, journal: Journal, platform: str, name: str) -> None:
        self.journal, self.platform, self.name = journal, platform, name
        self.widget = widgets.HTML()
        self.refresh()

    def refresh(self) -> None:
        self.widget.value = self.render()

    def facts(self) -> _StatusFacts:
        j = self.journal
        payload = next((p for p in j.payloads() if (p.platform, p.name) == (self.platform, self.name)), None)
        state = next((p for p in j.platforms() if p.platform == self.platform), None)
        last = j.records(platform=self.platform, payload=self.name, limit=1)
        failures = [r for status in (FAILED, INTERRUPTED)
                    for r in j.records(platform=self.platform, payload=self.name, status=status, limit=1)]
        failure = max(failures, key=lambda r: r.seq, default=None)
        return _StatusFacts(
            state=state.state if state else "", detail=(state.detail or "") if state else "",
            address=(payload and payload.address) or (state and state.address) or "",
            version=payload.version if payload else None, counts=j.counts(self.platform, self.name),
            last_status=last[0].status if last else "",
            error=_first_line(failure.error) if failure and failure.error else "")

    def text(self) -> str:
        """One line: ``vantiq sq v1 · connected · ADDRESS · 3 executions (2 succeeded, 1 failed) · last: ...``."""
        f = self.facts()
        parts = [f"{self.platform} {self.name} v{f.version if f.version is not None else '?'}",
                 f.state or "not started", f.address or "no address",
                 f"{f.total} execution{'' if f.total == 1 else 's'}" + (f" ({f.by_status})" if f.by_status else "")]
        if f.last_status:
            parts.append(f"last: {f.last_status}")
        if f.error:
            parts.append(f.error)
        return " · ".join(parts)

    def render(self) -> str:
        """The status as HTML, with data attributes a browser test can read."""
        f = self.facts()
        attrs = {"platform": self.platform, "payload": self.name,
                 "version": f.version if f.version is not None else "", "state": f.state,
                 "executions": f.total, "last-status": f.last_status,
                 **{status: f.counts.get(status, 0) for status in STATUSES}}
        parts = [
            f'<b>{_e(self.platform)}</b> <span class="polynb-state" title="{_e(f.detail)}">'
            f'{_e(f.state or "not started")}</span>'
            + (f' <span class="polynb-binding-detail">({_e(_first_line(f.detail))})</span>' if f.detail else ""),
            f'<span class="polynb-address">{_e(f.address or "no address")}</span>',
            f'{_e(self.name)} v{_e(f.version) if f.version is not None else "?"}',
            f'{f.total} execution{"" if f.total == 1 else "s"}' + (f" ({_e(f.by_status)})" if f.by_status else ""),
        ]
        if f.last_status:
            parts.append(f'last: <span class="polynb-last-status">{_e(f.last_status)}</span>')
        if f.error:
            parts.append(f'<span class="polynb-error" style="color:#b00">{_e(f.error)}</span>')
        return f'<div class="polynb-status"{_data(attrs)}>{" · ".join(parts)}</div>'


class Dashboard(_Displayable):
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


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _data(attrs: dict[str, Any]) -> str:
    return "".join(f' data-{name}="{_e(value)}"' for name, value in attrs.items())


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= ERROR_CHARS else line[:ERROR_CHARS - 1] + "…"


def _clock_time(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def _timestamp(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) + f".{int(epoch % 1 * 1000):03d}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _label(record: Record) -> str:
    version = f"v{record.version}" if record.version is not None else ""
    parts = [f"#{record.seq}", _clock_time(record.received_at), record.platform, record.payload,
             version, record.status, _duration(record.duration)]
    return " ".join(part for part in parts if part)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=repr)


def _logs(logs: list) -> str:
    return "\n".join(f"{_clock_time(entry.get('time') or 0)} {entry.get('level', '')} "
                     f"{entry.get('logger', '')}: {entry.get('message', '')}" for entry in logs)


def _platforms_html(platforms: list) -> str:
    items = "".join(f'<span class="polynb-platform"{_data({"platform": p.platform, "state": p.state})}'
                    f' title="{_e(p.detail)}"><b>{_e(p.platform)}</b> {_e(p.state)}'
                    f'{" " + _e(p.address) if p.address else ""}</span> ' for p in platforms)
    return f'<div class="polynb-platforms">{items or "No platform started yet."}</div>'


def _payloads_html(payloads: list, executions: list[int]) -> str:
    head = "".join(f"<th>{name}</th>" for name in ("platform", "name", "version", "address", "executions"))
    rows = "".join(
        f'<tr{_data({"platform": p.platform, "payload": p.name, "executions": n})}>'
        f"<td>{_e(p.platform)}</td><td>{_e(p.name)}</td><td>{_e(p.version)}</td>"
        f"<td>{_e(p.address)}</td><td>{n}</td></tr>" for p, n in zip(payloads, executions, strict=True))
    return f'<table class="polynb-payloads"><tr>{head}</tr>{rows}</table>'


def _detail_html(record: Record) -> str:
    fields = [("id", record.id), ("platform", record.platform), ("payload", record.payload),
              ("version", record.version), ("status", record.status),
              ("received", _timestamp(record.received_at)), ("started", _timestamp(record.started_at)),
              ("finished", _timestamp(record.finished_at)), ("duration", _duration(record.duration))]
    table = "".join(f"<tr><th>{name}</th><td>{_e(value)}</td></tr>" for name, value in fields)
    sections = [("input", _json(record.input)), ("output", _json(record.output)),
                ("stdout", record.stdout), ("stderr", record.stderr), ("logs", _logs(record.logs)),
                ("error", record.error), ("traceback", record.traceback)]
    blocks = "".join(f'<div class="polynb-{name}"><b>{name}</b><pre>{_e(text)}</pre></div>'
                     for name, text in sections if text)
    attrs = _data({"record-id": record.id, "status": record.status})
    return f'<div class="polynb-record"{attrs}><table>{table}</table>{blocks}</div>'
