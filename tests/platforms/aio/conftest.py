"""Fixtures of the AIO tests: one real nats-server per module, clients and polynb services against it."""
from __future__ import annotations

import aio_harness
import pytest


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory):
    server = aio_harness.Server(tmp_path_factory.mktemp("nats"))
    yield server
    server.close()


@pytest.fixture
def client(nats_server):
    connected = aio_harness.Client(nats_server.url)
    yield connected
    connected.close()


@pytest.fixture
def start_service(tmp_path, nats_server):
    """Start polynb services (AIO binding running) against the module's nats-server."""
    started = []

    def start(**env: str):
        service = aio_harness.aio_service(tmp_path / f"kernel{len(started)}", nats_server.url, **env)
        started.append(service)
        service.call(service.binding("aio"))
        return service

    yield start
    for service in started:
        service.stop(timeout=2)
