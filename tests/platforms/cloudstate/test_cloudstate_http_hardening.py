"""The local proxy's HTTP/JSON routes answer every body with the proxy's error, never tornado's HTML 500.

Real HTTP against ``polynb up cloudstate`` in front of polynb's cart and TCK entities.
"""
from __future__ import annotations

import json

import httpx
import pytest
from http_hardening import FUZZ, bodies, declared_only, deep
from hypothesis import given
from hypothesis import strategies as st

from polynb import jsonbody
from polynb.platforms.cloudstate.proxy import BODY_LIMIT

ADD = "/cart/hardening/items/add"
GENERIC = "/com.example.shoppingcart.ShoppingCart/AddItem"
TCK = "/tck/model/eventsourced/hardening"


@pytest.fixture(scope="module")
def binding(proxied):
    return proxied[1]


@pytest.fixture
def http(binding):
    with httpx.Client(base_url=binding.proxy_http, timeout=30) as client:
        yield client


def is_proxy_error(reply: httpx.Response, status: int) -> bool:
    return reply.status_code == status and reply.headers["Content-Type"].startswith("application/json") \
        and isinstance(reply.json()["error"], str)


def cart_still_answers(http) -> bool:
    return http.get("/carts/hardening").status_code == 200


@pytest.mark.parametrize("path", [ADD, GENERIC, TCK])
@pytest.mark.parametrize("body", [
    {"product_id": 5, "name": "x", "quantity": 1},            # a wrong type
    {"product_id": "A1", "no_such_field": 1},                # an unknown field
    {"quantity": "many"},                                    # a number that is none
    [1, 2],                                                  # a list body
    "text",                                                  # a string body
])
def test_a_body_the_message_cannot_take_is_a_400_in_the_proxys_shape(http, path, body):
    reply = http.post(path, json=body)
    assert is_proxy_error(reply, 400) and "bad request" in reply.json()["error"]
    assert cart_still_answers(http)


@pytest.mark.parametrize("levels", [jsonbody.MAX_DEPTH + 1, 5000])
def test_deep_json_is_a_400_in_the_proxys_shape(http, levels):
    reply = http.post(ADD, content=deep(levels), headers={"Content-Type": "application/json"})
    assert is_proxy_error(reply, 400)
    assert cart_still_answers(http)


def test_a_number_given_as_text_is_a_400(http):
    reply = http.post("/tck/model/crdt/PNCounter-x", content=b'{"actions": [{"update": {"pncounter": {"change": "x"}}}]}')
    assert is_proxy_error(reply, 400)


def test_a_body_above_akkas_limit_is_refused_from_its_declared_length(binding):
    status, body = declared_only(binding.proxy_http, ADD, BODY_LIMIT + 1, {"Content-Type": "application/json"})
    assert status == 413 and "larger than the limit of 8388608 bytes" in json.loads(body)["error"]


@FUZZ
@given(body=bodies, path=st.sampled_from([ADD, GENERIC, TCK, "/tck/model/crdt/GCounter-fuzz"]))
def test_any_body_is_answered_in_the_proxys_shape_and_it_keeps_serving(http, body, path):
    reply = http.post(path, content=body, headers={"Content-Type": "application/json"})
    if reply.status_code != 200:
        assert reply.status_code in (400, 500)
        assert is_proxy_error(reply, 400) or reply.headers["Content-Type"].startswith("text/plain")
    assert cart_still_answers(http)
