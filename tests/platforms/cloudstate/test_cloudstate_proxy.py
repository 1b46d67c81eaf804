"""The local proxy (``polynb up cloudstate``) in front of polynb's entities: gRPC, HTTP/JSON, reflection.

Covers the shopping-cart TCK's HTTP and reflection cases (fact sheet 6.1) and the event-sourced and CRDT
proxy tests that a single-node proxy can run (6.3.5, 6.3.8): state changes, forwards and side effects,
failures as gRPC errors and HTTP 500s.
"""
from __future__ import annotations

import time

import grpc
import httpx
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from polynb.platforms.cloudstate.protolib import LIBRARY

CART = "com.example.shoppingcart.ShoppingCart"
ES_MODEL = "cloudstate.tck.model.EventSourcedTckModel"
CRDT_MODEL = "cloudstate.tck.model.crdt.CrdtTckModel"


def message(full_name: str, **fields):
    return LIBRARY.compiled.message_class(full_name)(**fields)


@pytest.fixture(scope="module")
def binding(proxied):
    return proxied[1]


@pytest.fixture(scope="module")
def channel(binding):
    with grpc.insecure_channel(binding.proxy_grpc) as opened:
        yield opened


@pytest.fixture
def http(binding):
    with httpx.Client(base_url=binding.proxy_http, timeout=30) as client:
        yield client


def unary(channel, service: str, method: str, request, reply_type: str):
    stub = channel.unary_unary(f"/{service}/{method}", request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=LIBRARY.compiled.message_class(reply_type).FromString)
    return stub(request, timeout=30)


def process(channel, entity_id: str, *actions):
    request = message("cloudstate.tck.model.Request", id=entity_id, actions=list(actions))
    return unary(channel, ES_MODEL, "Process", request, "cloudstate.tck.model.Response").message


def emit(value: str):
    return message("cloudstate.tck.model.RequestAction", emit=message("cloudstate.tck.model.Emit", value=value))


def test_shopping_cart_http_api(http):
    assert http.get("/carts/foo").json() == {"items": []}
    for product, name, quantity in (("A14362347", "Deluxe", 5), ("B14623482", "Basic", 1), ("A14362347", "Deluxe", 2)):
        reply = http.post("/cart/foo/items/add", json={"product_id": product, "name": name, "quantity": quantity})
        assert (reply.status_code, reply.json()) == (200, {})
        assert reply.headers["content-type"].startswith("application/json")
    assert http.get("/carts/foo").json() == {"items": [{"productId": "A14362347", "name": "Deluxe", "quantity": 7},
                                                       {"productId": "B14623482", "name": "Basic", "quantity": 1}]}
    assert http.get("/carts/foo/items").json() == [{"productId": "A14362347", "name": "Deluxe", "quantity": 7.0},
                                                   {"productId": "B14623482", "name": "Basic", "quantity": 1.0}]
    assert http.post("/cart/foo/items/A14362347/remove").json() == {}
    assert http.get("/carts/foo/items").json() == [{"productId": "B14623482", "name": "Basic", "quantity": 1.0}]


def test_shopping_cart_failure_is_a_grpc_error_with_the_description(channel):
    request = message("com.example.shoppingcart.RemoveLineItem", user_id="grpc-user", product_id="nothing")
    with pytest.raises(grpc.RpcError) as failure:
        unary(channel, CART, "RemoveItem", request, "google.protobuf.Empty")
    assert failure.value.details() == "Cannot remove item nothing because it is not in the cart."


def test_server_reflection_lists_the_entity_services(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    for prefix in ("", "nonsense.blabla."):
        [answer] = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services=prefix)]))
        names = [s.name for s in answer.list_services_response.service]
        assert names[0] == "grpc.reflection.v1alpha.ServerReflection"
        assert names[1:] == sorted(names[1:]) and CART in names and ES_MODEL in names
    [answer] = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        file_containing_symbol=CART)]))
    assert answer.file_descriptor_response.file_descriptor_proto


def test_event_sourced_state_changes_through_the_proxy(channel):
    assert process(channel, "proxy-1") == ""
    assert process(channel, "proxy-1", emit("A")) == "A"
    assert process(channel, "proxy-1", *map(emit, "BCD")) == "ABCD"
    assert process(channel, "proxy-1", *map(emit, "EFGHIJK")) == "ABCDEFGHIJK"


def test_forward_answers_with_the_second_service_and_side_effects_run(channel):
    forward = message("cloudstate.tck.model.RequestAction", forward=message("cloudstate.tck.model.Forward", id="fw-1"))
    effect = message("cloudstate.tck.model.RequestAction", effect=message("cloudstate.tck.model.Effect", id="fw-1",
                                                                            synchronous=True))
    assert process(channel, "proxy-fw", emit("one")) == "one"
    assert process(channel, "proxy-fw", forward) == ""  # EventSourcedTwo's empty Response
    assert process(channel, "proxy-fw", effect) == "one"


def test_event_sourced_failures_through_grpc_and_http(channel, http):
    fail = message("cloudstate.tck.model.RequestAction", fail=message("cloudstate.tck.model.Fail", message="expected failure"))
    assert process(channel, "proxy-f", *map(emit, "123")) == "123"
    with pytest.raises(grpc.RpcError) as failure:
        process(channel, "proxy-f", emit("4"), fail)
    assert failure.value.details() == "expected failure"
    assert process(channel, "proxy-f") == "123"
    assert http.post("/tck/model/eventsourced/proxy-h", json={}).json() == {"message": ""}
    assert http.post("/cloudstate.tck.model.EventSourcedTwo/Call", json={"id": "proxy-h"}).json() == {"message": ""}
    assert http.post("/tck/model/eventsourced/proxy-h", json={"actions": [{"emit": {"value": "x"}}]}).json() == \
           {"message": "x"}
    failed = http.post("/tck/model/eventsourced/proxy-h", json={"actions": [{"fail": {"message": "expected failure"}}]})
    assert (failed.status_code, failed.text) == (500, "expected failure")
    assert http.post("/tck/model/eventsourced/proxy-h", json={"actions": [{"emit": {"value": "y"}}]}).json() == \
           {"message": "xy"}


def test_crdt_http_api(http):
    url = "/tck/model/crdt/PNCounter-http"
    assert http.post(url, json={}).json() == {"state": {"pncounter": {"value": "0"}}}
    assert http.post("/cloudstate.tck.model.crdt.CrdtTwo/Call", json={"id": "PNCounter-http"}).json() == {}
    assert http.post(url, json={"actions": [{"update": {"pncounter": {"change": 42}}}]}).json() == \
           {"state": {"pncounter": {"value": "42"}}}
    failed = http.post(url, json={"actions": [{"fail": {"message": "expected failure"}}]})
    assert (failed.status_code, failed.text) == (500, "expected failure")
    assert http.post(url, json={"actions": [{"update": {"pncounter": {"change": -123}}}]}).json() == \
           {"state": {"pncounter": {"value": "-81"}}}
    assert http.post(url, json={"actions": [{"delete": {}}]}).json() == {"state": {"pncounter": {"value": "-81"}}}


def test_unknown_route_and_bad_json_get_clear_http_errors(http):
    missing = http.get("/no/such/thing")
    assert missing.status_code == 404 and "no entity method answers GET /no/such/thing" in missing.json()["error"]
    bad = http.post("/tck/model/eventsourced/x", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and "bad request" in bad.json()["error"]


def test_idle_entity_is_passivated_and_recovered_on_its_next_call(proxied, channel):
    """EventSourcedConfigured asks for 100 ms: the proxy closes its stream, so a later call recovers anew; the
    recovery is part of that call's one record, not a record of its own."""
    journal = proxied[0].journal
    request = message("cloudstate.tck.model.Request", id="passive-1")
    configured = "cloudstate.tck.model.EventSourcedConfigured"

    def recoveries() -> int:
        return sum(1 for r in journal.records(payload=configured)
                   if r.meta.get("entity_id") == "passive-1" and "recovered_events" in r.meta)

    unary(channel, configured, "Call", request, "cloudstate.tck.model.Response")
    assert recoveries() == 1
    assert len(journal.records(payload=configured)) == 1  # one call, one record
    deadline = time.monotonic() + 20
    while recoveries() < 2 and time.monotonic() < deadline:
        time.sleep(0.3)  # well past the 100 ms timeout: each call finds the stream passivated
        unary(channel, configured, "Call", request, "cloudstate.tck.model.Response")
    assert recoveries() >= 2


def crdt_state(channel, entity_id: str, *actions):
    request = message("cloudstate.tck.model.crdt.Request", id=entity_id, actions=list(actions))
    return unary(channel, CRDT_MODEL, "Process", request, "cloudstate.tck.model.crdt.Response").state


def vote_state(self_vote: bool, votes_for: int, total: int):
    return message("cloudstate.tck.model.crdt.State", vote=message(
        "cloudstate.tck.model.crdt.VoteValue", self_vote=self_vote, votes_for=votes_for, total_voters=total))


def test_streamed_calls_for_connection_tracking(channel):
    """Fact sheet 6.3.8 #4: a second client's vote reaches the first client's stream, and so does its cancel."""
    stream = channel.unary_stream(f"/{CRDT_MODEL}/ProcessStreamed", request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=LIBRARY.compiled.message_class(
                                      "cloudstate.tck.model.crdt.Response").FromString)
    vote = lambda value: message("cloudstate.tck.model.crdt.Update",  # noqa: E731
                                 vote=message("cloudstate.tck.model.crdt.VoteUpdate", self_vote=value))
    first = stream(message("cloudstate.tck.model.crdt.StreamedRequest", id="Vote-proxy"), timeout=30)
    assert next(first).state == vote_state(False, 0, 1)
    second = stream(message("cloudstate.tck.model.crdt.StreamedRequest", id="Vote-proxy", initial_update=vote(True),
                            cancel_update=vote(False), empty=True), timeout=30)
    assert next(first).state == vote_state(True, 1, 1)
    second.cancel()
    assert next(first).state == vote_state(False, 0, 1)
    first.cancel()
    delete = message("cloudstate.tck.model.crdt.RequestAction", delete=message("cloudstate.tck.model.crdt.Delete"))
    assert crdt_state(channel, "Vote-proxy", delete) == vote_state(False, 0, 1)


def test_crdt_state_changes_and_delete_through_the_proxy(channel):
    change = lambda n: message("cloudstate.tck.model.crdt.RequestAction", update=message(  # noqa: E731
        "cloudstate.tck.model.crdt.Update", pncounter=message("cloudstate.tck.model.crdt.PNCounterUpdate", change=n)))
    delete = message("cloudstate.tck.model.crdt.RequestAction", delete=message("cloudstate.tck.model.crdt.Delete"))
    assert crdt_state(channel, "PNCounter-p1").pncounter.value == 0
    assert crdt_state(channel, "PNCounter-p1", change(1), change(-2), change(3)).pncounter.value == 2
    assert crdt_state(channel, "PNCounter-p1", change(4), change(-5), change(6)).pncounter.value == 7
    assert crdt_state(channel, "PNCounter-p1", delete).pncounter.value == 7


def test_streamed_method_called_as_unary_over_http_is_refused(http):
    reply = http.post(f"/{CRDT_MODEL}/ProcessStreamed", json={"id": "GCounter-h"})
    assert reply.status_code == 500 and "call it as a stream" in reply.text
