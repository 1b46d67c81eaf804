"""The status line under a cell that registered a payload."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from ..journal import FAILED, INTERRUPTED, STATUSES, Journal
from .display import Displayable
from .markup import data_attributes, escape, first_line


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


class CellStatus(Displayable):
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
            error=first_line(failure.error) if failure and failure.error else "")

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
            f'<b>{escape(self.platform)}</b> <span class="polynb-state" title="{escape(f.detail)}">'
            f'{escape(f.state or "not started")}</span>'
            + (f' <span class="polynb-binding-detail">({escape(first_line(f.detail))})</span>' if f.detail else ""),
            f'<span class="polynb-address">{escape(f.address or "no address")}</span>',
            f'{escape(self.name)} v{escape(f.version) if f.version is not None else "?"}',
            f'{f.total} execution{"" if f.total == 1 else "s"}' + (f" ({escape(f.by_status)})" if f.by_status else ""),
        ]
        if f.last_status:
            parts.append(f'last: <span class="polynb-last-status">{escape(f.last_status)}</span>')
        if f.error:
            parts.append(f'<span class="polynb-error" style="color:#b00">{escape(f.error)}</span>')
        return f'<div class="polynb-status"{data_attributes(attrs)}>{" · ".join(parts)}</div>'
