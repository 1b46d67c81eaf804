"""Restarts: the local proxy replays persisted events into a new stream, so state survives entity crashes
and kernel restarts and no persisted event is lost."""
from __future__ import annotations

import cloudstate_cells
import grpc
import pytest
from cloudstate_servers import add_proto, register, start_service

from polynb.platforms.cloudstate.protolib import LIBRARY

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command


def call(address: str, service: str, method: str, request, reply_type: str):
    with grpc.insecure_channel(address) as channel:
        stub = channel.unary_unary(f"/{service}/{method}", request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=LIBRARY.compiled.message_class(reply_type).FromString)
        return stub(request, timeout=30)


def cart_kernel(journal_dir):
    """A fresh 'kernel': its own notebook namespace, the proto and entity cells run, the proxy started."""
    namespace: dict = {}
    for name in cloudstate_cells.CART_PROTOS:
        add_proto(namespace, name)
    service = start_service(journal_dir, namespace)
    register(service, namespace, cloudstate_cells.CART_SERVICE, cloudstate_cells.SHOPPING_CART,
             {"kind": "event_sourced", "protos": cloudstate_cells.CART_PROTOS})
    return service, service.call(service.binding("cloudstate")).proxy_grpc


def add_item(proxy: str, user: str, product: str, quantity: int) -> None:
    item = LIBRARY.compiled.message_class("com.example.shoppingcart.AddLineItem")(
        user_id=user, product_id=product, name=product.upper(), quantity=quantity)
    call(proxy, cloudstate_cells.CART_SERVICE, "AddItem", item, "google.protobuf.Empty")


def get_cart(proxy: str, user: str):
    request = LIBRARY.compiled.message_class("com.example.shoppingcart.GetShoppingCart")(user_id=user)
    cart = call(proxy, cloudstate_cells.CART_SERVICE, "GetCart", request, "com.example.shoppingcart.Cart")
    return [(i.product_id, i.quantity) for i in cart.items]


def test_kernel_restart_between_commands_gives_the_same_state(tmp_path):
    journal_dir = tmp_path / ".polynb"
    service, proxy = cart_kernel(journal_dir)
    try:
        for product, quantity in (("a", 1), ("b", 2), ("a", 3)):
            add_item(proxy, "restart-user", product, quantity)
        before = get_cart(proxy, "restart-user")
    finally:
        service.stop()
    service, proxy = cart_kernel(journal_dir)
    try:
        assert get_cart(proxy, "restart-user") == before == [("a", 4), ("b", 2)]
        add_item(proxy, "restart-user", "c", 1)
        assert get_cart(proxy, "restart-user") == [("a", 4), ("b", 2), ("c", 1)]
    finally:
        service.stop()


def test_entity_crash_fails_the_command_and_the_next_one_recovers(proxied):
    proxy = proxied[1].proxy_grpc

    def do(what: str):
        order = LIBRARY.compiled.message_class("polynb.test.Order")(id="crashy", what=what)
        return call(proxy, "polynb.test.Faulty", "Do", order, "polynb.test.Done").count

    assert do("a") == 1
    with pytest.raises(grpc.RpcError) as crash:
        do("crash")
    assert "the event handler broke" in crash.value.details()
    assert do("b") == 2  # "a" replayed into a new stream; the crashing event was never persisted


def test_failure_asking_for_restart_recovers_the_entity_from_its_events(proxied):
    proxy, journal = proxied[1].proxy_grpc, proxied[0].journal

    def do(what: str):
        order = LIBRARY.compiled.message_class("polynb.test.Order")(id="restarty", what=what)
        return call(proxy, "polynb.test.Faulty", "Do", order, "polynb.test.Done").count

    def recoveries() -> int:
        return sum(1 for r in journal.records(payload="polynb.test.Faulty")
                   if r.meta.get("entity_id") == "restarty" and "recovered_events" in r.meta)

    assert do("a") == 1 and recoveries() == 1
    with pytest.raises(grpc.RpcError) as failure:
        do("restart")
    assert failure.value.details() == "asked to restart"
    assert do("b") == 2 and recoveries() == 2
