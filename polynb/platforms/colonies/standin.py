"""``polynb up colonies``: the local Colonies server (:mod:`.server`) with one colony, on ``core.bind_host``."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.ioloop

from ...config import core_section
from ...ports import listen_http, url_host
from ..base import StandIn
from . import crypto
from .rules import Rules
from .server import ColoniesServer, make_app
from .settings import ColoniesSettings
from .store import Store

#: the public development keys of colonyos/colonies docker-compose.env, used only when asked for
DEV_KEYS = {"server_prvkey": "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d",
            "colony_prvkey": "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514"}


def server_keys(store: Store, dev_keys: bool) -> dict[str, str]:
    """The server-owner and colony keys: kept in the state file, fresh unless dev keys are asked for."""
    keys = {}
    for name in ("server_prvkey", "colony_prvkey"):
        value = DEV_KEYS[name] if dev_keys else (store.meta(name) or crypto.generate_private_key())
        store.set_meta(name, value)
        keys[name] = value
    return keys


class LocalColonies(StandIn):
    """``polynb up colonies``: one colony, its owner's keys printed for clients, state in SQLite."""

    def __init__(self, settings: ColoniesSettings) -> None:
        self.settings = settings
        self.http: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> Mapping[str, Any]:
        path = Path(self.settings.local_state or Path.cwd() / ".polynb" / "colonies-server.sqlite")
        self.store = Store(path)
        keys = server_keys(self.store, bool(self.settings.dev_keys))
        server_id = crypto.identity(keys["server_prvkey"])
        rules = Rules(self.store, server_id, allow_reregister=bool(self.settings.allow_reregister))
        colony = self.settings.colony_name or "dev"
        colony_id = crypto.identity(keys["colony_prvkey"])
        if colony not in rules.colonies:
            rules.handle("addcolonymsg", server_id, {"colony": {"colonyid": colony_id, "name": colony}})
        self.server = ColoniesServer(rules)
        self.ticker = tornado.ioloop.PeriodicCallback(rules.tick, 1000)
        self.ticker.start()
        self.http = tornado.httpserver.HTTPServer(make_app(self.server))
        host = core_section().bind_host
        port = listen_http(self.http, "colonies", host, int(self.settings.local_port), "POLYNB_COLONIES_LOCAL_PORT")
        info = {"host": host, "port": port, "tls": False, "url": f"http://{url_host(host)}:{port}",
                "colony_name": colony, "colony_id": colony_id, "colony_prvkey": keys["colony_prvkey"],
                "server_id": server_id, "server_prvkey": keys["server_prvkey"], "state": str(path)}
        return {**info, "env": env_for(info)}

    async def stop(self) -> None:
        if self.http is not None:
            self.ticker.stop()
            self.http.stop()
            await self.http.close_all_connections()
            self.store.close()
            self.http = None


def env_for(info: Mapping[str, Any]) -> dict[str, str]:
    """The ``COLONIES_*`` variables a pycolonies client (or another kernel) needs for this server."""
    return {"COLONIES_SERVER_HOST": str(info["host"]), "COLONIES_SERVER_PORT": str(info["port"]),
            "COLONIES_SERVER_TLS": "false", "COLONIES_COLONY_NAME": str(info["colony_name"]),
            "COLONIES_COLONY_PRVKEY": str(info["colony_prvkey"])}
