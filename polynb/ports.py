"""A port that is taken, said in one line: which port, which platform, and what moves it.

Every server polynb starts (stand-ins and runtimes) listens inside :func:`listening`, so that an
``EADDRINUSE`` from asyncio, tornado or grpc reaches the user as :class:`PortInUse`, never a traceback.
"""
from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager


class PortInUse(OSError):
    """A server could not listen because its port is taken."""

    def __init__(self, platform: str, port: int, moved_by: str) -> None:
        super().__init__(errno.EADDRINUSE,
                         f"{platform}: port {port} is already in use; set {moved_by} to another port (0: a free one)")
        self.platform, self.port, self.moved_by = platform, port, moved_by

    def __str__(self) -> str:
        return self.strerror


@contextmanager
def listening(platform: str, port: int, moved_by: str) -> Iterator[None]:
    """Turn "address already in use" raised inside the block into :class:`PortInUse`."""
    try:
        yield
    except PortInUse:
        raise
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE or "address already in use" in str(exc).lower():
            raise PortInUse(platform, port, moved_by) from exc
        raise
