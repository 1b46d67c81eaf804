"""``polynb up vantiq``: the local Vantiq server (:mod:`.server`) on ``core.bind_host``."""
from __future__ import annotations

import secrets
from pathlib import Path

import tornado.httpserver

from ...config import core_section
from ...ports import listen_http, url_host
from ..base import StandIn
from .server import MAX_MESSAGE, VantiqServer, application
from .settings import VantiqSettings


class LocalVantiq(StandIn):
    """``polynb up vantiq``: the server on ``core.bind_host``; the token is the configured one or a fresh random one."""

    def __init__(self, settings: VantiqSettings) -> None:
        self.settings = settings

    async def start(self) -> dict:
        token = self.settings.auth_token or secrets.token_urlsafe(24)
        self.server = VantiqServer(token, self.settings.query_timeout)
        if self.settings.documents:
            self.server.load_documents(Path(self.settings.documents))
        self.http = tornado.httpserver.HTTPServer(application(self.server), max_body_size=MAX_MESSAGE)
        host = core_section().bind_host
        port = listen_http(self.http, "vantiq", host, self.settings.local_port, "VANTIQ_LOCAL_PORT")
        return {"url": f"http://{url_host(host)}:{port}", "token": token}

    async def stop(self) -> None:
        self.http.stop()
        for sockets in list(self.server.connectors.values()):
            for socket in list(sockets):
                socket.close(1001, "the stand-in is stopping")
        await self.http.close_all_connections()

