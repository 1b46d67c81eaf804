"""Vantiq: polynb as a Python Execution Connector (an extension source), ``%%vantiq_exec`` and a local server.

Fact sheet: ``shared/protocols/vantiq.md``. Settings also come from the real connector's ``server.config``
in the working directory (see :mod:`.serverconfig`).
"""
from __future__ import annotations

from ...config import Setting
from ..base import Platform, UpOption
from .connector import PLATFORM as NAME
from .connector import VantiqBinding
from .local import LocalVantiq
from .magics import VantiqMagics

PLATFORM = Platform(
    name=NAME, title="Vantiq", binding=VantiqBinding, magics=VantiqMagics, stand_in=LocalVantiq,
    up_options=(UpOption("--documents", "VANTIQ_DOCUMENTS",
                         "Vantiq: serve each file of DIR as a document (for script queries)"),),
    settings=(
        Setting("target_server", "VANTIQ_TARGET_SERVER", None,
                help="the Vantiq server (server.config targetServer); none starts the local stand-in"),
        Setting("auth_token", "CONNECTOR_AUTH_TOKEN", None, secret=True, help="the access token (authToken)"),
        Setting("sources", "VANTIQ_SOURCES", "polynb", help="comma-separated source names, one websocket each"),
        Setting("send_pings", "VANTIQ_SEND_PINGS", None, help="any value turns websocket pings on (sendPings)"),
        Setting("fail_on_connection_error", "VANTIQ_FAIL_ON_CONNECTION_ERROR", None,
                help="any value makes a failing first connection an error (failOnConnectionError)"),
        Setting("reconnect_secret", "VANTIQ_RECONNECT_SECRET", None, secret=True,
                help="fixed reconnect secret (reconnectSecret); default a uuid1 per source"),
        Setting("connect_kwargs", "VANTIQ_CONNECT_KWARGS", None, help="JSON of websocket connect options (connectKWArgs)"),
        Setting("tcp_probe_port", "VANTIQ_TCP_PROBE_PORT", 8000, cast=int,
                help="health-probe port, opened only under Kubernetes (tcpProbePort)"),
        Setting("reply_timeout", "VANTIQ_REPLY_TIMEOUT", 30.0, cast=float,
                help="seconds code that handles its own return has to answer before polynb answers an error"),
        Setting("connect_wait", "VANTIQ_CONNECT_WAIT", 10.0, cast=float,
                help="seconds starting waits for the first connection before it goes on trying in the background"),
        Setting("local_port", "VANTIQ_LOCAL_PORT", 0, cast=int, help="port of the local stand-in (0: any free port)"),
        Setting("documents", "VANTIQ_DOCUMENTS", None, help="folder whose files the local stand-in serves as documents"),
        Setting("query_timeout", "VANTIQ_QUERY_TIMEOUT", 30.0, cast=float,
                help="seconds the local stand-in waits for a query's final answer"),
    ),
    client_env=lambda info: {"VANTIQ_TARGET_SERVER": info["url"], "CONNECTOR_AUTH_TOKEN": info["token"]},
)
