"""The one refresher of the process: journal changes arrive on worker and service threads, many per second
under load; the :class:`Updater` coalesces them into at most one refresh of every view per interval."""
from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from ..journal import Journal

log = logging.getLogger("polynb.widgets")


TICK = 1.0  # seconds between refreshes of views that time alone changes (a sparkline of the last minute)


class View(Protocol):
    def refresh(self) -> None: ...


def _wants_tick(view: View) -> bool:
    """Views with a ``wants_tick()`` that says so are refreshed every ``TICK`` even when nothing is written."""
    wants = getattr(view, "wants_tick", None)
    return bool(wants and wants())


class Updater:
    """Refreshes its views after journal changes, at most once per ``interval``.

    Observers run on the writer's thread, so observing only sets an event: executions never wait
    for rendering, and a burst of changes costs one refresh instead of flooding the front end.
    """

    def __init__(self, journal: Journal, interval: float = 0.25,
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
            self._refresh(lambda view: True)
            return True

    def tick(self) -> None:
        """Refresh the views that time alone changes, when nothing was written for a ``TICK``."""
        with self._flush_lock:
            if not self._stop.is_set():
                self._refresh(_wants_tick)

    def _refresh(self, which: Callable[[View], bool]) -> None:
        with self._views_lock:
            views = list(self._views)
        for view in views:
            try:
                if which(view):
                    view.refresh()
            except Exception:  # one broken view must not freeze the others
                log.debug("refreshing %r failed", view, exc_info=True)

    def _run(self) -> None:
        while True:
            if not self._dirty.wait(TICK):
                self.tick()
                continue
            if self._stop.is_set():
                return
            now = self._clock()
            if not self.step(now):  # too soon: sleep out the rest of the interval
                self._stop.wait(min(self.interval, max(0.0, self._last_flush + self.interval - now)))

    def close(self) -> None:
        """Stop observing the journal and stop the thread, after one last refresh if anything changed since
        the last one (``%unload_ext`` writes "stopped" just before): views end on the final state."""
        if self._stop.is_set():
            return
        self._unsubscribe()
        changed = self._dirty.is_set()
        self._stop.set()
        self._dirty.set()  # wake the thread so it sees the stop
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)
        if changed:
            with self._flush_lock:
                self._refresh(lambda view: True)

