"""One retry policy for every reconnect loop: exponential delays with a cap and jitter, as nats.py reconnects.

Many kernels that lost one server must not knock on it in step, and a server that is down for an hour must
not be polled every few milliseconds nor waited on for minutes after it is back.
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Callable


class Backoff:
    """Delays ``first``, ``first * factor``, ... up to ``cap`` seconds, each shortened by up to ``jitter`` of itself.

    A loop calls :meth:`wait` after each failure and :meth:`reset` after a success.
    """

    def __init__(self, first: float = 0.5, cap: float = 10.0, factor: float = 2.0, jitter: float = 0.2,
                 rand: Callable[[], float] = random.random) -> None:
        self.first, self.cap, self.factor, self.jitter, self._rand = first, cap, factor, jitter, rand
        self.failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (counts one more failure)."""
        delay = min(self.cap, self.first * self.factor ** min(self.failures, 64))
        self.failures += 1
        return delay * (1 - self.jitter * self._rand())

    async def wait(self) -> float:
        """Sleep the next delay; return it (for a status line: "retry in 2 s")."""
        delay = self.next_delay()
        await asyncio.sleep(delay)
        return delay

    def reset(self) -> None:
        self.failures = 0
