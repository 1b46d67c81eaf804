"""What every call helper (``polynb.<platform>.call``, ``request``, ``query``, ``--wait``) shares: its timeout.

A call from a cell must end: with the platform's answer, the platform's error, or :class:`CallTimeout`
after ``core.call_timeout`` seconds (``POLYNB_CALL_TIMEOUT``, default 60) unless the caller names its own.
"""
from __future__ import annotations


class PlatformAnswer(Exception):
    """An error whose message is the whole story (the platform's answer, or why none came): IPython shows its
    lines alone, without polynb's call stack around it."""

    def _render_traceback_(self) -> list[str]:
        return f"{type(self).__name__}: {self}".splitlines()


class CallTimeout(PlatformAnswer, TimeoutError):
    """A call helper got no answer in time; the message names the platform, what waited and what to check."""

    def __init__(self, platform: str, what: str, timeout: float, hint: str = "") -> None:
        message = f"{platform}: no answer to {what} within {timeout:g} s"
        super().__init__(f"{message}; {hint}" if hint else message)
        self.platform, self.what, self.timeout = platform, what, timeout


def call_timeout(timeout: float | None = None) -> float:
    """The caller's timeout, or the configured default (``core.call_timeout``)."""
    if timeout is not None:
        return float(timeout)
    from .service import load_settings

    return float(load_settings().core.call_timeout)
