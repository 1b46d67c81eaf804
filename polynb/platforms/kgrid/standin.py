"""``polynb up kgrid``: the local activator (:mod:`.activator`) on ``core.bind_host``, set up from the settings."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tornado.httpserver

from ...config import core_section
from ...journal import default_directory
from ...ports import listen_http, url_host
from ..base import StandIn
from .activator import Activator, application
from .settings import KgridSettings


class LocalActivator(StandIn):
    """``polynb up kgrid``: the activator on ``core.bind_host`` (port ``KGRID_ACTIVATOR_PORT``, default free)."""

    def __init__(self, settings: KgridSettings) -> None:
        self.settings = settings

    async def start(self) -> Mapping[str, Any]:
        shelf = Path(self.settings.activator_shelf or default_directory() / "kgrid" / "activator")
        shelf.mkdir(parents=True, exist_ok=True)
        kos_dir = Path(self.settings.kos_dir) if self.settings.kos_dir else None
        self.activator = Activator(shelf, kos_dir)
        problems = self.activator.load_shelves()
        self.server = tornado.httpserver.HTTPServer(application(self.activator))
        host = core_section().bind_host
        port = listen_http(self.server, "kgrid", host, self.settings.activator_port, "KGRID_ACTIVATOR_PORT")
        self.activator.base = f"http://{url_host(host)}:{port}"
        return {"url": self.activator.base, "shelf": str(shelf), "kos": sorted(self.activator.endpoints),
                "problems": problems}

    async def stop(self) -> None:
        self.server.stop()
        await self.activator.close()

