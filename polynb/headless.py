"""Whether this kernel runs under ``polynb serve``, and whether its notebook has run to the end yet.

``polynb serve`` starts its kernel with ``POLYNB_SERVE=1`` and calls :func:`notebook_ran` after the last
cell. A binding that must not answer its platform before every cell has registered (CloudState's
discovery: a real proxy discovers once, when it starts) waits with :func:`after_notebook`; in an
interactive kernel nothing waits.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable

SERVE_ENV = "POLYNB_SERVE"

_lock = threading.Lock()
_ran = False
_waiting: list[Callable[[], None]] = []


def headless() -> bool:
    """True in a kernel that ``polynb serve`` started."""
    return os.environ.get(SERVE_ENV) == "1"


def after_notebook(callback: Callable[[], None]) -> None:
    """Call ``callback`` once the notebook has run: at once when interactive or already done, else later
    from :func:`notebook_ran` (on the thread that calls it)."""
    with _lock:
        waits = headless() and not _ran
        if waits:
            _waiting.append(callback)
    if not waits:
        callback()


def notebook_ran() -> None:
    """``polynb serve`` ran the last cell: release whatever waited for it."""
    global _ran
    with _lock:
        _ran = True
        waiting = list(_waiting)
        _waiting.clear()
    for callback in waiting:
        callback()
