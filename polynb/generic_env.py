"""Generic deploy variables that more than one platform reads (``PORT``): the first platform to ask takes it.

KGrid's runtime and CloudState's user function both listen on ``PORT`` in their own deployments. In one
kernel only one of them can: the first binding that starts takes the variable, and a later one is told, in
one line, which platform has it and which of its own variables sets its port instead.
"""
from __future__ import annotations

import sys
import threading
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_holders: dict[str, str] = {}


def take(variable: str, value: T | None, platform: str, instead: str) -> T | None:
    """``value`` (the variable's setting) if ``platform`` may use it, else None; unset stays None."""
    if value is None:
        return None
    with _lock:
        holder = _holders.setdefault(variable, platform)
    if holder == platform:
        return value
    print(f"polynb: {variable}={value} is {holder}'s (it started first); {platform} does not use it: "
          f"set {instead} to choose {platform}'s own", file=sys.stderr, flush=True)
    return None


def holder(variable: str) -> str | None:
    """The platform that took ``variable``, if one did."""
    with _lock:
        return _holders.get(variable)


def release(platform: str) -> None:
    """A stopped platform gives its variables back."""
    with _lock:
        for variable in [v for v, p in _holders.items() if p == platform]:
            del _holders[variable]
