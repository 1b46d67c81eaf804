"""Fixtures of the CloudState tests: polynb services serving the TCK models and the cart, the official library."""
from __future__ import annotations

import cloudstate_cells
import cloudstate_servers as servers
import grpc
import pytest
from cloudstate_servers import add_proto, register, start_service
from notebook_shell import polynb_shell, run


@pytest.fixture(scope="session")
def tck(tmp_path_factory):
    """(service, user function address): the TCK model entities, talked to directly (no proxy)."""
    namespace: dict = {}
    for name in ("tck_eventsourced", "tck_crdt", "faults"):
        add_proto(namespace, name)
    service = start_service(tmp_path_factory.mktemp("tck") / ".polynb", namespace, CLOUDSTATE_PROXY="127.0.0.1:9")
    try:
        for service_name, source, options in cloudstate_cells.ENTITIES:
            register(service, namespace, service_name, source, options)
        binding = service.call(service.binding("cloudstate"))
        yield service, binding.address
    finally:
        service.stop()


@pytest.fixture(scope="module")
def channel(tck):
    """A gRPC channel straight to the TCK models (``test_cloudstate_proxy`` has its own, through the proxy)."""
    with grpc.insecure_channel(tck[1]) as opened:
        yield opened


@pytest.fixture(scope="session")
def cart_namespace() -> dict:
    namespace: dict = {}
    for name in cloudstate_cells.CART_PROTOS:
        add_proto(namespace, name)
    return namespace


@pytest.fixture(scope="session")
def polynb_cart(tmp_path_factory, cart_namespace):
    with servers.polynb_cart(tmp_path_factory.mktemp("cart") / ".polynb", cart_namespace) as running:
        yield running


@pytest.fixture(scope="session")
def peer_cart(tmp_path_factory, cart_namespace):
    with servers.peer_cart(tmp_path_factory.mktemp("peer")) as address:
        yield address


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """polynb serving the cart and the TCK models behind its local proxy (``polynb up cloudstate``, started by
    the binding); yields (service, binding, journal dir, namespace)."""
    namespace: dict = {}
    for name in [*cloudstate_cells.CART_PROTOS, "tck_eventsourced", "tck_crdt", "faults"]:
        add_proto(namespace, name)
    journal_dir = tmp_path_factory.mktemp("proxied") / ".polynb"
    service = start_service(journal_dir, namespace)
    try:
        register(service, namespace, cloudstate_cells.CART_SERVICE, cloudstate_cells.SHOPPING_CART,
                 {"kind": "event_sourced", "protos": cloudstate_cells.CART_PROTOS})
        for service_name, source, options in cloudstate_cells.ENTITIES:
            register(service, namespace, service_name, source, options)
        yield service, service.call(service.binding("cloudstate")), journal_dir, namespace
    finally:
        service.stop()


@pytest.fixture
def ip(journal_dir, monkeypatch):
    """A notebook shell with polynb loaded and the cart's protos compiled (``%%cloudstate_proto``), its user
    function on a free port and no proxy configured (the binding starts its local one)."""
    monkeypatch.setenv("PORT", "0")
    monkeypatch.delenv("CLOUDSTATE_PROXY", raising=False)
    with polynb_shell() as shell:
        for name in cloudstate_cells.CART_PROTOS:
            run(shell, f"%%cloudstate_proto {name}\n{(cloudstate_cells.PROTOS / f'{name}.proto').read_text()}")
        yield shell
