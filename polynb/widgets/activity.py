"""What ran in the last minute, from the journal: executions per interval and latency percentiles.

For one payload version, one platform, or everything, optionally of one kernel; the status widget and the
dashboard's per-platform chart read it alike. Two indexed range reads of the window, however busy it was.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from ..journal import Journal, Versions

WINDOW = 60.0  # seconds of history
INTERVAL = 1.0  # seconds per bar
LATENCY_SAMPLE = 5000  # the newest executions of the window the percentiles are taken over


@dataclass(frozen=True)
class Activity:
    """Executions received per interval of the window (oldest first), the failed among them, and how long
    the finished ones ran (seconds)."""

    start: float
    interval: float
    counts: tuple[int, ...]
    failures: tuple[int, ...]
    p50: float | None
    p99: float | None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def failed(self) -> int:
        return sum(self.failures)

    @property
    def per_second(self) -> float:
        return self.total / (self.interval * len(self.counts)) if self.counts else 0.0


def activity(journal: Journal, *, platform: str | None = None, payload: str | None = None,
             version: Versions = None, notebook: str | None = None, host: str | None = None,
             pid: int | None = None, window: float = WINDOW, interval: float = INTERVAL,
             now: float | None = None) -> Activity:
    """The last ``window`` seconds of executions matching the filters (all of them when none is given);
    ``**journal.scope()`` gives this notebook's, ``**journal.kernel()`` this kernel's."""
    now = time.time() if now is None else now
    slots = max(1, math.ceil(window / interval))
    start = now - slots * interval
    filters = {"platform": platform, "payload": payload, "version": version, "notebook": notebook, "host": host,
               "pid": pid}
    counts, failures = [0] * slots, [0] * slots
    for slot, total, failed in journal.per_interval(start, interval, **filters):
        if 0 <= slot < slots:
            counts[slot], failures[slot] = total, failed
    took = journal.durations(start, LATENCY_SAMPLE, **filters)
    return Activity(start, interval, tuple(counts), tuple(failures), percentile(took, 50), percentile(took, 99))


def percentile(ordered: list[float], rank: float) -> float | None:
    """The nearest-rank percentile of values sorted ascending; None without values."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def latency_per_interval(journal: Journal, start: float, interval: float, slots: int,
                         **filters: Any) -> tuple[float | None, ...]:
    """The median run time (seconds) of the executions received in each interval from ``start``, None where
    none finished: a latency line over time, read from the window's newest ``LATENCY_SAMPLE`` records."""
    runs: list[list[float]] = [[] for _ in range(slots)]
    for record in journal.records(since=start, limit=LATENCY_SAMPLE, **filters):
        slot = int((record.received_at - start) // interval)
        if record.duration is not None and 0 <= slot < slots:
            runs[slot].append(record.duration)
    return tuple(percentile(sorted(took), 50) for took in runs)
