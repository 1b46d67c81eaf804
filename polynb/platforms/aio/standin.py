"""``polynb up aio``: a nats-server (:mod:`.natsserver`) on ``core.bind_host``, and the KAI managers' setup.

The store lives in a temporary folder that is removed on stop; a KRT file (setting ``krt``) is set up at
start, with each process's ``app.yaml`` written under the store's ``config`` folder. With ``--cluster N``
(setting ``cluster``) it is a cluster of N nats-servers (:mod:`.clusters`) whose streams are replicated N times.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nats
import yaml
from nats.js.errors import APIError

from ...backoff import Backoff
from ...config import core_section
from ..base import StandIn
from . import managers
from .clusters import NatsCluster
from .natsserver import NatsServer
from .settings import AioSettings

KRT_TRIES = 30  # about half a minute of the backoff below: a cluster that long without a member is broken

class LocalKai(StandIn):
    """nats-server (or a cluster of them) plus the managers' setup, in a temporary folder."""

    def __init__(self, settings: AioSettings) -> None:
        self.settings = settings
        size = settings.cluster
        self.folder = Path(tempfile.mkdtemp(prefix="polynb-aio-"))
        host, port = core_section().bind_host, settings.local_port or None
        self.server: NatsServer | NatsCluster = (
            NatsCluster(self.folder / "jetstream", size, host, port) if size > 1
            else NatsServer(self.folder / "jetstream", host=host, port=port))
        self.replicas = size

    async def start(self) -> Mapping[str, Any]:
        await self.server.start()
        config_dir = self.folder / "config"
        written: list[str] = []
        if self.settings.krt:
            krt = yaml.safe_load(Path(self.settings.krt).read_text())
            client = await nats.connect(self.server.urls)
            try:
                written = await self._apply_krt(client, krt, config_dir)
            finally:
                await client.close()
        info: dict[str, Any] = {"url": self.server.url, "store_dir": str(self.folder / "jetstream"), "config_dir": str(config_dir),
                "app_configs": written}
        if isinstance(self.server, NatsCluster):
            info.update(urls=self.server.urls, replicas=self.replicas, members=self.server.describe())
        return info

    async def _apply_krt(self, client: nats.NATS, krt: Any, config_dir: Path) -> list[str]:
        """Set up the KRT's product; a cluster member the meta leader briefly sees offline (a loaded machine, just
        after start) refuses placement, so JetStream's refusals are retried for up to half a minute."""
        backoff, tries = Backoff(first=0.2, cap=2.0), 0
        while True:
            try:
                return [str(p) for p in await managers.apply_krt(
                    client.jetstream(), krt, self.settings.product, self.server.url, config_dir,
                    self.settings.ack_wait, self.replicas)]
            except APIError:
                tries += 1
                if self.replicas == 1 or tries >= KRT_TRIES:
                    raise
                await backoff.wait()

    async def stop(self) -> None:
        await self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

