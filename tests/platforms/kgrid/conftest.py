"""Fixtures of the KGrid tests: a local activator process, a polynb service serving KGrid, the real runtime."""
from __future__ import annotations

import kgrid_peers
import pytest

from polynb.journal import Journal
from polynb.service import Service


@pytest.fixture
def activator(tmp_path):
    """A local activator with the test KOs folder loaded, on a free port."""
    with kgrid_peers.local_activator(tmp_path / "activator-shelf", kgrid_peers.KOS) as info:
        yield info["url"]


@pytest.fixture
def kgrid_env(monkeypatch, tmp_path):
    """Settings a test's service reads: no heartbeat and a shelf of the test's own, unless it sets them."""
    for name in ("KGRID_PYTHON_CACHE_STRATEGY", "KGRID_PYTHON_ENV_URL", "KGRID_PYTHON_ENV_PORT", "PORT",
                 "KGRID_KOS_DIR", "KGRID_ACTIVATOR_SHELF", "KGRID_ACTIVATOR_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KGRID_PROXY_HEARTBEAT_INTERVAL", "0")
    monkeypatch.setenv("KGRID_PYTHON_SHELF_DIR", str(tmp_path / "pyshelf"))
    return monkeypatch


@pytest.fixture
def start_service(tmp_path, kgrid_env):
    """Start a polynb service (KGrid binding running) against a given activator URL."""
    started = []

    def start(activator_url: str | None, ns: dict | None = None) -> Service:
        if activator_url is None:
            kgrid_env.delenv("KGRID_PROXY_ADAPTER_URL", raising=False)
        else:
            kgrid_env.setenv("KGRID_PROXY_ADAPTER_URL", activator_url)
        service = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns={} if ns is None else ns)
        started.append(service)
        service.call(service.binding("kgrid"))
        return service

    yield start
    for service in started:
        service.stop(timeout=2)


@pytest.fixture
def runtime_url():
    def url(service: Service) -> str:
        return service.statuses()["kgrid"].address
    return url
