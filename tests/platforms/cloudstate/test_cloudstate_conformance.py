"""polynb's shopping cart against the official ``cloudstate`` 0.1.1 library's, given the same proxy input.

The v0.5.1 shopping-cart TCK (fact sheet 6.1) drives both user functions straight over gRPC; replies and
events must be byte-identical, failures must fall on the same commands (descriptions are each cart's own).
"""
from __future__ import annotations

import grpc
import httpx
import pytest
from cloudstate_servers import local_proxy
from cloudstate_tck import ModelStream, discover, pack
from google.protobuf import descriptor_pb2, empty_pb2
from support import wait_until

from polynb.platforms.cloudstate.protolib import LIBRARY
from polynb.platforms.cloudstate.protos.gen.cloudstate import entity_pb2, event_sourced_pb2

CART = "com.example.shoppingcart.ShoppingCart"
P1, P2 = ("testproduct:1", "Test Product 1"), ("testproduct:2", "Test Product 2")


def cart(type_name: str, **fields):
    return LIBRARY.compiled.message_class(f"com.example.shoppingcart.{type_name}")(**fields)


def domain(type_name: str, **fields):
    return LIBRARY.compiled.message_class(f"com.example.shoppingcart.persistence.{type_name}")(**fields)


def init(user: str):
    return event_sourced_pb2.EventSourcedStreamIn(init=event_sourced_pb2.EventSourcedInit(service_name=CART,
                                                                                          entity_id=user))


def command(user: str, number: int, name: str, payload):
    return event_sourced_pb2.EventSourcedStreamIn(command=entity_pb2.Command(entity_id=user, id=number, name=name,
                                                                              payload=pack(payload)))


def add(user, product, quantity):
    return "AddItem", cart("AddLineItem", user_id=user, product_id=product[0], name=product[1], quantity=quantity)


def remove(user, product):
    return "RemoveItem", cart("RemoveLineItem", user_id=user, product_id=product[0])


def get(user):
    return "GetCart", cart("GetShoppingCart", user_id=user)


def add_remove_script(user: str) -> list:
    return [get(user), add(user, P1, 1), add(user, P2, 2), add(user, P1, 11), add(user, P2, 31), get(user),
            remove(user, P1), add(user, P2, -7), add(user, P1, 0), remove(user, P1), get(user)]


def run(address: str, first: list, script: list) -> list:
    """Send init (and events), then each command; collect the replies in order."""
    with grpc.insecure_channel(address) as channel:
        stream = ModelStream(channel, "es").send(*first)
        replies = []
        for number, (name, payload) in enumerate(script, 1):
            stream.send(command(first[0].init.entity_id, number, name, payload))
            replies.append(stream.next())
        stream.close()
        return replies


def comparable(reply):
    """A failure's description is each implementation's own text; everything else must be identical."""
    if reply.reply.client_action.HasField("failure"):
        return ("failure", reply.reply.command_id, reply.reply.client_action.failure.command_id)
    return reply.SerializeToString()


@pytest.fixture(scope="module")
def addresses(polynb_cart, peer_cart):
    return polynb_cart[1], peer_cart


def test_both_discover_the_cart_entity_alike(addresses):
    ours, theirs = (discover(grpc.insecure_channel(a)) for a in addresses)
    assert [(e.entity_type, e.service_name, e.persistence_id) for e in ours.entities] == \
           [(e.entity_type, e.service_name, e.persistence_id) for e in theirs.entities]
    our_files = {f.name for f in descriptor_pb2.FileDescriptorSet.FromString(ours.proto).file}
    their_files = {f.name for f in descriptor_pb2.FileDescriptorSet.FromString(theirs.proto).file}
    assert their_files <= our_files
    assert {"cloudstate/eventing.proto", "google/api/httpbody.proto"} <= our_files - their_files


def test_add_remove_tck_gives_the_same_replies_events_and_failures(addresses):
    ours, theirs = (run(a, [init("testuser:2")], add_remove_script("testuser:2")) for a in addresses)
    assert [comparable(r) for r in ours] == [comparable(r) for r in theirs]
    kinds = [("failure" if r.reply.client_action.HasField("failure") else len(r.reply.events)) for r in ours]
    assert kinds == [0, 1, 1, 1, 1, 0, 1, "failure", "failure", "failure", 0]
    final = cart("Cart").FromString(ours[-1].reply.client_action.reply.payload.value)
    assert [(i.product_id, i.quantity) for i in final.items] == [("testproduct:2", 33)]


def test_recovery_from_events_gives_the_same_cart(addresses):
    def event(sequence, payload):
        return event_sourced_pb2.EventSourcedStreamIn(event=event_sourced_pb2.EventSourcedEvent(sequence=sequence,
                                                                                             payload=pack(payload)))
    item = lambda p, n, q: domain("ItemAdded", item=domain("LineItem", productId=p, name=n, quantity=q))  # noqa: E731
    first = [init("u3b"), event(1, item("b", "B", 2)), event(2, item("a", "A", 1)), event(3, item("a", "A", 4)),
             event(4, domain("ItemRemoved", productId="b"))]
    script = [get("u3b"), add("u3b", ("c", "C"), 1), add("u3b", ("d", "D"), 1), get("u3b")]
    ours, theirs = (run(a, first, script) for a in addresses)
    assert [comparable(r) for r in ours] == [comparable(r) for r in theirs]
    final = cart("Cart").FromString(ours[-1].reply.client_action.reply.payload.value)
    assert [(i.product_id, i.quantity) for i in final.items] == [("a", 5), ("c", 1), ("d", 1)]


def test_unknown_command_is_a_client_failure_in_both_and_the_stream_continues(addresses):
    script = [("Bogus", cart("GetShoppingCart", user_id="u-bogus")), get("u-bogus")]
    ours, theirs = (run(a, [init("u-bogus")], script) for a in addresses)
    assert [comparable(r) for r in ours] == [comparable(r) for r in theirs]
    assert ours[0].reply.client_action.failure.command_id == 1
    assert ours[1].reply.client_action.HasField("reply")


def test_empty_reply_is_an_any_with_no_value_in_both(addresses):
    ours, theirs = (run(a, [init("u-empty")], [add("u-empty", P1, 1)]) for a in addresses)
    assert ours[0].reply.client_action.reply.payload == pack(empty_pb2.Empty()) == \
           theirs[0].reply.client_action.reply.payload


def shopping_cart_http_case(http: str) -> list:
    """The v0.5.1 TCK's HTTP API case (fact sheet 6.1); every answer, in order."""
    answers = []
    with httpx.Client(base_url=http, timeout=30) as client:
        def record(reply):
            answers.append((reply.status_code, reply.headers["content-type"].split(";")[0], reply.json()))
        record(client.get("/carts/foo"))
        for product, name, quantity in (("A14362347", "Deluxe", 5), ("B14623482", "Basic", 1),
                                        ("A14362347", "Deluxe", 2)):
            record(client.post("/cart/foo/items/add", json={"product_id": product, "name": name, "quantity": quantity}))
        record(client.get("/carts/foo"))
        record(client.get("/carts/foo/items"))
        record(client.post("/cart/foo/items/A14362347/remove"))
        record(client.get("/carts/foo"))
        record(client.get("/carts/foo/items"))
    return answers


def test_local_proxy_gives_the_same_http_answers_in_front_of_either_user_function(addresses, tmp_path):
    answers = []
    for number, address in enumerate(addresses):
        with local_proxy(address, tmp_path / f"proxy-{number}.sqlite") as info:
            # discovery runs in the background until the user function answers
            wait_until(lambda: httpx.get(f"{info['http']}/carts/probe").status_code != 404, 30,
                       "the proxy discovering the cart")
            answers.append(shopping_cart_http_case(info["http"]))
    ours, theirs = answers
    assert ours == theirs
    assert ours[4][2] == {"items": [{"productId": "A14362347", "name": "Deluxe", "quantity": 7},
                                    {"productId": "B14623482", "name": "Basic", "quantity": 1}]}
    assert ours[-1] == (200, "application/json", [{"productId": "B14623482", "name": "Basic", "quantity": 1}])
