"""Generic deploy variables that more than one platform reads (``PORT``): the first platform to ask takes it.

KGrid's runtime and CloudState's user function both listen on ``PORT`` in their own deployments. In one
kernel only one of them can: the first binding that starts takes the variable, and a later one is told, in
one line, which platform has it and which of its own variables sets its port instead. The claims belong to
the kernel's service, so a service that is gone (or never stopped) cannot hold a variable for another.
"""
from __future__ import annotations

import sys
import threading
from typing import TypeVar

T = TypeVar("T")


class GenericVariables:
    """Which platform of one service took each generic variable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[str, str] = {}

    def take(self, variable: str, value: T | None, platform: str, instead: str) -> T | None:
        """``value`` (the variable's setting) if ``platform`` may use it, else None; unset stays None."""
        if value is None:
            return None
        with self._lock:
            holder = self._holders.setdefault(variable, platform)
        if holder == platform:
            return value
        print(f"polynb: {variable}={value} is {holder}'s (it started first); {platform} does not use it: "
              f"set {instead} to choose {platform}'s own", file=sys.stderr, flush=True)
        return None

    def holder(self, variable: str) -> str | None:
        """The platform that took ``variable``, if one did."""
        with self._lock:
            return self._holders.get(variable)

    def release(self, platform: str) -> None:
        """A stopped platform gives its variables back."""
        with self._lock:
            for variable in [v for v, p in self._holders.items() if p == platform]:
                del self._holders[variable]
