"""A local nats-server cluster with JetStream (``polynb up aio --cluster N``): the distributed engine on one machine.

Each member is a :class:`NatsServer` child with a name, a store folder and a route port of its own, all on one host;
every member routes to every other, so the cluster forms whichever starts first. Streams polynb creates on it are
replicated on every member (``replicas``), so a member's death, the stream leader's included, loses no message.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats
from nats.js.api import StreamConfig

from ...ports import free_port, url_host
from .natsserver import NatsServer

CLUSTER_NAME = "polynb"
MAX_MEMBERS = 5  # JetStream replicates a stream on at most 5 servers
PROBE_STREAM = "polynb_cluster_probe"


def cluster_size(text: str | int) -> int:
    """The ``cluster`` setting's cast: 1 (one server) to 5 members; anything else is a ValueError that says why."""
    size = int(text)
    if not 1 <= size <= MAX_MEMBERS:
        raise ValueError(f"a local NATS cluster has 1 to {MAX_MEMBERS} members (JetStream replicates a stream on at "
                         f"most {MAX_MEMBERS}); 3 survives the loss of any one")
    return size


class NatsCluster:
    """``size`` nats-server members named ``polynb-1`` ... under ``folder``; ``port`` is the first member's client
    port (None: free ports for all)."""

    def __init__(self, folder: Path, size: int, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.folder, self.host = Path(folder), host
        cluster_size(size)
        self.names = [f"polynb-{index + 1}" for index in range(size)]
        self.route_ports = [free_port(host) for _ in range(size)]
        routes = ",".join(self._route(p) for p in self.route_ports)
        self.members = [
            NatsServer(self.folder / name, host, port if index == 0 else None,
                       options=("--name", name, "--cluster_name", CLUSTER_NAME,
                                "--cluster", self._route(route_port), "--routes", routes))
            for index, (name, route_port) in enumerate(zip(self.names, self.route_ports, strict=True))]

    def _route(self, port: int) -> str:
        return f"nats://{url_host(self.host)}:{port}"

    @property
    def urls(self) -> list[str]:
        return [member.url for member in self.members]

    @property
    def url(self) -> str:
        """Every member's URL, comma-separated: how KAI_NATS_URL names a cluster (a client fails over along it)."""
        return ",".join(self.urls)

    @property
    def replicas(self) -> int:
        return len(self.members)

    async def start(self, timeout: float = 60.0) -> None:
        """Start every member, then wait until each answers and a stream can be replicated on all of them (the
        meta leader knows every peer): only then are the streams polynb creates placed on every member."""
        for member in self.members:
            await member.launch()
        try:
            await asyncio.gather(*(member.until_ready(timeout) for member in self.members))
            await self._until_placeable(timeout)
        except BaseException:
            await self.stop()
            raise

    async def _until_placeable(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        client = await nats.connect(self.urls, connect_timeout=2)
        try:
            js = client.jetstream(timeout=5)
            while True:
                try:
                    await js.add_stream(StreamConfig(name=PROBE_STREAM, subjects=[], num_replicas=self.replicas))
                    await js.delete_stream(PROBE_STREAM)
                    return
                except Exception as exc:
                    if loop.time() > deadline:
                        raise RuntimeError(f"the NATS cluster at {self.url} did not place a stream on all "
                                           f"{self.replicas} members within {timeout:g} s: {exc}") from None
                    await asyncio.sleep(0.2)
        finally:
            await client.close()

    async def stop(self) -> None:
        for member in reversed(self.members):
            await member.stop()

    def describe(self) -> list[dict[str, Any]]:
        """Each member as ``polynb up --json`` reports it: name, client and route URLs, store, pid (a fault test
        kills one by its pid)."""
        return [{"name": name, "url": member.url, "route": self._route(route_port), "store_dir": str(member.store_dir),
                 "pid": member.process.pid if member.process is not None else None}
                for name, member, route_port in zip(self.names, self.members, self.route_ports, strict=True)]
