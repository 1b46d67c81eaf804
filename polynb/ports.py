"""Listening: every server polynb starts binds ``core.bind_host`` through here, and a taken port is one line.

Stand-ins and runtimes listen with :func:`listen_http` (tornado) or :func:`listen_grpc`, so that all of them
keep the README's ``bind_host`` promise and an ``EADDRINUSE`` from tornado or grpc reaches the user as
:class:`PortInUse` (which port, which platform, what moves it), never a traceback.
"""
from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import grpc
    import tornado.tcpserver


class PortInUse(OSError):
    """A server could not listen because its port is taken."""

    def __init__(self, platform: str, port: int, moved_by: str) -> None:
        super().__init__(errno.EADDRINUSE,
                         f"{platform}: port {port} is already in use; set {moved_by} to another port (0: a free one)")
        self.platform, self.port, self.moved_by = platform, port, moved_by

    def __str__(self) -> str:
        return self.strerror or ""


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


def listen_http(server: tornado.tcpserver.TCPServer, platform: str, host: str, port: int, moved_by: str) -> int:
    """Bind a tornado server on ``host:port`` (0: a free port) and return the port it got."""
    import tornado.netutil

    with listening(platform, port, moved_by):
        sockets = tornado.netutil.bind_sockets(port, host)
    server.add_sockets(sockets)
    return sockets[0].getsockname()[1]


def listen_grpc(server: grpc.aio.Server, platform: str, host: str, port: int, moved_by: str) -> int:
    """Bind a gRPC server's port and return it; a taken one is :class:`PortInUse` naming ``moved_by``.

    grpc only says "Failed to bind" (a RuntimeError, or 0 from older versions), so a plain socket on the
    same address tells why.
    """
    with listening(platform, port, moved_by):
        try:
            bound = server.add_insecure_port(f"{url_host(host)}:{port}")
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise _bind_error(host, port)
    return bound


def url_host(host: str) -> str:
    """The host as a URL or ``host:port`` names it (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def free_port(host: str) -> int:
    """A port free on ``host`` now, for a child server that must be told its port (nats-server)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _bind_error(host: str, port: int) -> OSError:
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        return exc
    return OSError(f"cannot listen on {host}:{port}")
