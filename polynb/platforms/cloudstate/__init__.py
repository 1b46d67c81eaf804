"""CloudState: notebook entities (event-sourced and CRDT) served as a user function, and a local proxy.

``wire`` (Any encoding, reply shapes), ``protolib`` (run-time proto compilation), ``crdts`` (the CRDT
kinds), ``entities`` (the decorators a cell uses), ``eventsourced``/``crdtentity`` (entity rules),
``server`` (the gRPC user function), ``binding``, ``proxy`` (the local stand-in), ``api``/``magics``.
"""
from __future__ import annotations

from ...config import Setting
from ..base import Platform
from .binding import CloudStateBinding
from .magics import CloudStateMagics


def _stand_in(settings):
    from .proxy import LocalProxy

    return LocalProxy(settings)


SETTINGS = (
    Setting("host", "POLYNB_CLOUDSTATE_HOST", None, help="where the user function listens; wins over HOST"),
    Setting("generic_host", "HOST", None, help="as the official library reads it (default: the core's bind_host)"),
    Setting("port", "POLYNB_CLOUDSTATE_PORT", None, cast=int, help="the user function's port (0: a free one); wins over PORT"),
    Setting("generic_port", "PORT", None, cast=int,
            help="as the official library reads it, unless another platform of the kernel took PORT first"),
    Setting("proxy", "CLOUDSTATE_PROXY", None, help="host:port of a running proxy's gRPC side; unset: polynb starts its own"),
    Setting("proxy_http", "CLOUDSTATE_PROXY_HTTP", None, help="the proxy's HTTP/JSON base URL"),
    Setting("user_function_host", "USER_FUNCTION_HOST", "127.0.0.1", help="local proxy: where the user function is"),
    Setting("user_function_port", "USER_FUNCTION_PORT", 8080, cast=int, help="local proxy: the user function's port"),
    Setting("proxy_port", "CLOUDSTATE_PROXY_PORT", 9000, cast=int, help="local proxy: its gRPC port (0: free)"),
    Setting("proxy_http_port", "CLOUDSTATE_PROXY_HTTP_PORT", 9001, cast=int, help="local proxy: its HTTP port (0: free)"),
    Setting("proxy_db", "CLOUDSTATE_PROXY_DB", None, help="local proxy: SQLite file of events and snapshots"),
)

PLATFORM = Platform(name="cloudstate", title="CloudState", binding=CloudStateBinding, settings=SETTINGS,
                    magics=CloudStateMagics, stand_in=_stand_in)
