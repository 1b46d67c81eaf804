"""The status widget under a cell that registered a payload: one payload version, in this kernel.

It follows the version its cell registered, for as long as it is displayed: a later version from another
cell supersedes it (and it says so) but does not take it over; its counts stay those of its own version.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets

from ..journal import FAILED, OPEN_STATUSES, RUNNING, STATUSES, SUCCEEDED, UNSUCCESSFUL, Journal, Record
from .activity import Activity, activity
from .charts import sparkline
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
    version_label,
)

NOT_STARTED = "not started"

# Theme variables only (see TONE_STYLE): readable in the light and the dark theme.
STYLE = f"""<style>{TONE_STYLE}
.polynb-status {{ color: var(--jp-ui-font-color1); font-size: var(--jp-ui-font-size1); line-height: 1.6; }}
.polynb-status-line {{ display: flex; flex-wrap: wrap; align-items: center; column-gap: 12px; }}
.polynb-status .polynb-address {{ font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size);
  color: var(--jp-ui-font-color2); overflow-wrap: anywhere; }}
.polynb-status .polynb-superseded {{ color: var(--jp-warn-color1); }}
.polynb-status .polynb-muted, .polynb-status .polynb-binding-detail {{ color: var(--jp-ui-font-color2); }}
.polynb-status .polynb-count {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
.polynb-status .polynb-sparkline {{ vertical-align: middle; }}
.polynb-failure-button {{ white-space: normal; height: auto; min-height: var(--jp-widgets-inline-height);
  text-align: left; max-width: 100%; color: var(--jp-error-color1); }}
.polynb-failure-detail {{ color: var(--jp-ui-font-color1); font-size: var(--jp-ui-font-size1); }}
.polynb-failure-detail pre {{ white-space: pre-wrap; overflow-wrap: anywhere; max-height: 16em; overflow-y: auto;
  margin: 2px 0 6px; padding: 4px 6px; background: var(--jp-layout-color2); color: var(--jp-content-font-color1);
  font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); }}
.polynb-failure-detail .polynb-failure-error pre {{ color: var(--jp-error-color1); }}
</style>"""


@dataclass(frozen=True)
class _StatusFacts:
    """What the widget says, read once per refresh from the journal for its HTML and its text."""

    state: str
    detail: str
    address: str
    version: int | None
    superseded_by: int | None
    counts: dict
    last_status: str
    failure: Record | None
    activity: Activity

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def running(self) -> int:
        return sum(self.counts.get(s, 0) for s in OPEN_STATUSES)

    @property
    def failed(self) -> int:
        """Every execution that ended without a result: failed, interrupted, cancelled or timed out."""
        return sum(self.counts.get(s, 0) for s in UNSUCCESSFUL)

    @property
    def by_status(self) -> str:
        return ", ".join(f"{self.counts[s]} {s}" for s in STATUSES if self.counts.get(s))

    @property
    def version_text(self) -> str:
        """``v1``, ``v1, superseded by v2``, or nothing while no version is known."""
        own = version_label(self.version)
        return f"{own}, superseded by {version_label(self.superseded_by)}" if self.superseded_by is not None else own

    @property
    def error(self) -> str:
        return first_line(self.failure.error) if self.failure is not None and self.failure.error else ""


class CellStatus(Displayable):
    """The widget under a cell that registered a payload: the platform's state, where the version is served,
    how its executions in this kernel went and go (counts, a sparkline of the last minute, p50/p99), and the
    last failure, whose reason opens its detail."""

    def __init__(self, journal: Journal, platform: str, name: str, version: int | None = None,
                 clock: Callable[[], float] = time.time, *, refused: str | None = None) -> None:
        """``refused``: why the platform did not take the registration; the widget then shows that error."""
        self.journal, self.platform, self.name, self.version, self.clock = journal, platform, name, version, clock
        self.refused = refused
        self._lock = threading.RLock()  # the updater's thread and the kernel's (a click) both render
        self._failure_id: str | None = None
        self._live = False  # the last minute had executions, so the sparkline moves with time
        self.summary = widgets.HTML()
        self.failure = widgets.Button(icon="chevron-right", tooltip="show the failed execution's detail",
                                      layout=widgets.Layout(width="auto", display="none"))
        self.failure.add_class("polynb-failure-button")
        self.failure.on_click(lambda _: self.toggle_detail())
        self.detail = widgets.HTML(layout=widgets.Layout(display="none"))
        self.detail.add_class("polynb-failure-detail")
        self.widget = widgets.VBox([widgets.HTML(STYLE), self.summary, self.failure, self.detail])
        self.widget.add_class("polynb-status-widget")
        self.refresh()

    # -- reading the journal ---------------------------------------------------------------------
    def facts(self) -> _StatusFacts:
        """A few indexed reads: this version's row and the newest one, the platform states, counts by status,
        the last execution and failure, and the last minute's activity, all of this kernel."""
        j = self.journal
        if self.version is None and self.refused is None:  # shown before any registration: follows the first one
            latest = j.payload(self.platform, self.name)
            self.version = latest.version if latest is not None else None
        own = j.payload(self.platform, self.name, self.version) if self.version is not None else None
        latest = j.payload(self.platform, self.name)
        superseded_by = (latest.version if own is not None and latest is not None and latest.version != self.version
                         else None)
        # executions not started yet have no version: they will run on the newest one
        versions = None if self.version is None else (self.version if superseded_by else (self.version, None))
        mine = {"platform": self.platform, "payload": self.name, "version": versions, **j.kernel()}
        state = next((p for p in j.platforms(mine_first=True) if p.platform == self.platform), None)
        last = j.last(**mine)
        if self.refused is not None:
            state_name, detail = "error", f"registration failed: {self.refused}"
        else:
            state_name, detail = (state.state, state.detail or "") if state else ("", "")
        return _StatusFacts(
            state=state_name, detail=detail,
            address=(own and own.address) or (state and state.address) or "",
            version=self.version, superseded_by=superseded_by,
            counts=j.counts(**mine), last_status=last.status if last else "",
            failure=j.last(status=UNSUCCESSFUL, **mine),
            activity=activity(j, now=self.clock(), **mine))

    # -- showing it ------------------------------------------------------------------------------
    def refresh(self) -> None:
        with self._lock:
            facts = self.facts()
            self._live = facts.activity.total > 0
            self.summary.value = self.render(facts)
            self._show_failure(facts.failure)

    def wants_tick(self) -> bool:
        """Whether time alone changes the widget: the sparkline slides while the last minute had executions."""
        return self._live

    def toggle_detail(self) -> None:
        """The failure's reason opens (and closes) its detail below it."""
        with self._lock:
            opened = self.detail.layout.display == "none"
            self.detail.layout.display = "" if opened else "none"
            self.failure.icon = "chevron-down" if opened else "chevron-right"

    def _show_failure(self, failure: Record | None) -> None:
        self.failure.layout.display = "none" if failure is None else ""
        if failure is None or failure.id == self._failure_id:
            return
        self._failure_id = failure.id
        self.failure.description = first_line(failure.error or failure.status)
        self.detail.value = _failure_html(failure)

    def text(self) -> str:
        """One line: ``kgrid hello v2 · ready · ADDRESS · 3 executions (2 succeeded, 1 failed) · last: ...``."""
        f = self.facts()
        state = f.state or NOT_STARTED
        parts = [" ".join(filter(None, (self.platform, self.name, f.version_text))),
                 f"{state} ({first_line(f.detail)})" if f.detail else state,
                 f.address or "no address",
                 f"{f.total} execution{'' if f.total == 1 else 's'}" + (f" ({f.by_status})" if f.by_status else "")]
        if f.last_status:
            parts.append(f"last: {f.last_status}")
        if f.error:
            parts.append(f.error)
        return " · ".join(parts)

    def render(self, facts: _StatusFacts | None = None) -> str:
        """The status as HTML, with data attributes a browser test can read."""
        f = facts or self.facts()
        a = f.activity
        attrs = {"platform": self.platform, "payload": self.name, "version": f.version if f.version is not None else "",
                 "superseded-by": f.superseded_by if f.superseded_by is not None else "", "state": f.state,
                 "executions": f.total, "last-status": f.last_status, "running-now": f.running,
                 **{status: f.counts.get(status, 0) for status in STATUSES},
                 "per-minute": a.total, "p50-ms": _ms(a.p50), "p99-ms": _ms(a.p99)}
        version = escape(f.version_text)
        if f.superseded_by is not None:
            version = f'<span class="polynb-superseded">{version}</span>'
        head = [badge(f.state or NOT_STARTED, f.detail),
                f"<span><b>{escape(self.platform)}</b> {escape(self.name)} {version}</span>",
                f'<span class="polynb-address">{escape(f.address or "no address")}</span>']
        if f.detail:
            head.append(f'<span class="polynb-binding-detail">({escape(first_line(f.detail))})</span>')
        numbers = [f'<span class="polynb-count">{f.total} execution{"" if f.total == 1 else "s"}:</span>',
                   _count(SUCCEEDED, f.counts.get(SUCCEEDED, 0), "succeeded"),
                   _count(FAILED, f.failed, "failed"), _count(RUNNING, f.running, "running"),
                   sparkline(a.counts, a.failures, label=f"{a.total} executions in the last minute, {a.failed} failed"),
                   f'<span class="polynb-count" title="executions per second over the last minute">'
                   f"{a.per_second:.1f}/s</span>",
                   f'<span class="polynb-count" title="how long executions of the last minute ran">'
                   f"p50 {duration(a.p50) or '–'} · p99 {duration(a.p99) or '–'}</span>"]
        if f.last_status:
            numbers.append(f'<span class="polynb-muted">last: <span class="polynb-last-status">'
                           f"{escape(f.last_status)}</span></span>")
        return (f'<div class="polynb-status"{data_attributes(attrs)}>'
                f'<div class="polynb-status-line">{"".join(head)}</div>'
                f'<div class="polynb-status-line polynb-status-numbers">{"".join(numbers)}</div></div>')


def _count(look: str, n: int, word: str) -> str:
    """``✓ 3 succeeded``: the icon and tone of ``look``, dimmed when there are none."""
    return badge(look, text=f"{n} {word}", tone=None if n else "idle")


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:.1f}" if seconds is not None else ""


def _failure_html(record: Record) -> str:
    """The failed execution's detail: when, its id, input, error and traceback (the cell the payload runs in)."""
    sections = [("input", json_text(record.input)), ("error", record.error or ""),
                ("traceback", record.traceback or ""), ("stderr", record.stderr)]
    blocks = "".join(f'<div class="polynb-failure-{name}"><b>{name}</b><pre>{escape(text)}</pre></div>'
                     for name, text in sections if text)
    attrs = data_attributes({"execution-id": record.id, "status": record.status})
    return (f'<div class="polynb-failure-record"{attrs}>{badge(record.status)} <b>#{record.seq}</b> '
            f"{clock_time(record.received_at)} {escape(version_label(record.version))} "
            f'<code class="polynb-muted">{escape(record.id)}</code>'
            f" {escape(duration(record.duration))}{blocks}</div>")
