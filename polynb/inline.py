"""Which payloads run on the service loop itself instead of a worker thread.

Handing an execution to a worker and back costs the loop two thread wake-ups and the GIL hand-offs behind them,
far more than a payload like ``x + 1`` takes to run. A payload version earns the loop by running fast many times
in a row on the workers: within the CPU budget, and without blocking (sleeping, waiting on I/O) for more than
``STALL``. A slow run on a worker starts its count again; a slow run on the loop, which stalled everything the
service serves, sends the version back to the workers to earn the loop again, and after ``DEMOTIONS`` of those
for good (a new version of the payload starts over). One slow run is no verdict: a garbage collection or a lost
GIL switch makes any run slow now and then.
Everything else about an execution (journal, capture, timeouts, cancel) is the same on either thread.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

#: consecutive fast runs before a payload version runs on the loop
STREAK = 16
#: the longest a run may take, waiting included, to count as fast (a worker's wait for the GIL is part of it)
STALL = 0.002
#: slow runs on the loop after which a version stays on the workers
DEMOTIONS = 3


_thread = threading.local()


def needs_worker() -> None:
    """The running payload cannot run on the service loop (it awaits on an event loop of its thread's own):
    its version stays on the workers."""
    _thread.needs_worker = True


class InlinePolicy:
    """Per payload version (any hashable key), how many runs in a row were fast."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.stall = max(STALL, budget)
        self._streaks: dict[Hashable, int] = {}
        self._demotions: dict[Hashable, int] = {}
        self._banned: set[Hashable] = set()  # stalled the loop DEMOTIONS times: workers only
        self._lock = threading.Lock()

    def inline(self, key: Hashable) -> bool:
        return self.budget > 0 and self._streaks.get(key, 0) >= STREAK and key not in self._banned

    def timed(self, key: Hashable, call: Callable[[], Any]) -> Callable[[], Any]:
        """``call``, measured: its run counts for or against ``key`` (one that raises counts by its time too)."""
        if self.budget <= 0:
            return call

        def run() -> Any:
            _thread.needs_worker = False
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return call()
            finally:
                self._count(key, time.perf_counter() - wall, time.thread_time() - cpu, _thread.needs_worker)
        return run

    def _count(self, key: Hashable, wall: float, cpu: float, needs_worker: bool) -> None:
        fast = cpu <= self.budget and wall <= self.stall
        with self._lock:
            if needs_worker:
                self._banned.add(key)
                return
            streak = self._streaks.get(key, 0)
            if fast:
                self._streaks[key] = streak + 1
                return
            self._streaks[key] = 0
            if streak >= STREAK:  # it ran on the loop and stalled it
                demotions = self._demotions[key] = self._demotions.get(key, 0) + 1
                if demotions >= DEMOTIONS:
                    self._banned.add(key)
