"""Settings of the Vantiq connector: the real connector's ``server.config`` keys as variables, plus the stand-in's.

``server.config`` in the working folder, when there is one, wins over these (see :mod:`.serverconfig`).
"""
from __future__ import annotations

from ...config import Field, TypedSection


class VantiqSettings(TypedSection):
    target_server = Field[str | None]("VANTIQ_TARGET_SERVER", None,
                                      help="the Vantiq server (server.config targetServer); none starts the local "
                                           "stand-in")
    auth_token = Field[str | None]("CONNECTOR_AUTH_TOKEN", None, secret=True, help="the access token (authToken)")
    sources = Field[str]("VANTIQ_SOURCES", "polynb", help="comma-separated source names, one websocket each")
    send_pings = Field[str | None]("VANTIQ_SEND_PINGS", None, help="any value turns websocket pings on (sendPings)")
    fail_on_connection_error = Field[str | None]("VANTIQ_FAIL_ON_CONNECTION_ERROR", None,
                                                 help="any value makes a failing first connection an error "
                                                      "(failOnConnectionError)")
    reconnect_secret = Field[str | None]("VANTIQ_RECONNECT_SECRET", None, secret=True,
                                         help="fixed reconnect secret (reconnectSecret); default a uuid1 per source")
    connect_kwargs = Field[str | None]("VANTIQ_CONNECT_KWARGS", None,
                                       help="JSON of websocket connect options (connectKWArgs)")
    tcp_probe_port = Field[int]("VANTIQ_TCP_PROBE_PORT", 8000, cast=int,
                                help="health-probe port, opened only under Kubernetes (tcpProbePort)")
    reply_timeout = Field[float]("VANTIQ_REPLY_TIMEOUT", 30.0, cast=float,
                                 help="seconds code that handles its own return has to answer before polynb answers "
                                      "an error")
    connect_wait = Field[float]("VANTIQ_CONNECT_WAIT", 10.0, cast=float,
                                help="seconds starting waits for the first connection before it goes on trying in "
                                     "the background")
    local_port = Field[int]("VANTIQ_LOCAL_PORT", 0, cast=int, help="port of the local stand-in (0: any free port)")
    documents = Field[str | None]("VANTIQ_DOCUMENTS", None,
                                  help="folder whose files the local stand-in serves as documents")
    query_timeout = Field[float]("VANTIQ_QUERY_TIMEOUT", 30.0, cast=float,
                                 help="seconds the local stand-in waits for a query's final answer")
