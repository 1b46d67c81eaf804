"""``polynb up cloudstate``: the local proxy (:mod:`.proxy`) on ``core.bind_host``, set up from the settings."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...config import core_section
from ...ports import url_host
from ..base import StandIn
from .proxy import Proxy
from .proxystore import EventStore
from .settings import CloudStateSettings


class LocalProxy(StandIn):
    """The proxy's event store (``CLOUDSTATE_PROXY_DB``, default a temporary file) survives a restart."""

    def __init__(self, settings: CloudStateSettings) -> None:
        self.settings = settings
        self.proxy: Proxy | None = None

    async def start(self) -> Mapping[str, Any]:
        db = self.settings.proxy_db or os.path.join(tempfile.gettempdir(), "polynb-cloudstate-proxy.sqlite")
        user_function = f"{self.settings.user_function_host}:{self.settings.user_function_port}"
        self.proxy = Proxy(EventStore(Path(db)), user_function)
        host = core_section().bind_host
        grpc_port, http_port = await self.proxy.start(host, self.settings.proxy_port, self.settings.proxy_http_port)
        return {"grpc": f"{url_host(host)}:{grpc_port}", "http": f"http://{url_host(host)}:{http_port}",
                "user_function": user_function, "db": str(db)}

    async def stop(self) -> None:
        if self.proxy is not None:
            await self.proxy.stop()
