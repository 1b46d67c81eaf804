"""KGrid's HTTP doors refuse what they must, in werkzeug's or the activator's shape, and keep serving.

Real HTTP against polynb's runtime (in a service) and the local activator (``polynb up kgrid``).
"""
from __future__ import annotations

import json

import httpx
import pytest
from http_hardening import FUZZ, bodies, declared_only, deep
from hypothesis import given
from hypothesis import strategies as st
from support import wait_until
from test_kgrid_runtime import activated

from polynb import jsonbody
from polynb.journal import FAILED
from polynb.platforms.kgrid import wire

LIMIT = jsonbody.DEFAULT_LIMIT
WERKZEUG_CODES = {400: "Bad Request", 413: "Request Entity Too Large", 415: "Unsupported Media Type"}


def is_werkzeug_error(reply: httpx.Response, status: int) -> bool:
    body = reply.json()
    return reply.status_code == status and body == {"code": status, "name": WERKZEUG_CODES[status],
                                                    "description": body["description"]}


@pytest.fixture
def runtime(activator, start_service, runtime_url):
    service = start_service(activator)
    wait_until(lambda: activated(activator, "hello/world/1.0/welcome"), 30, "the welcome endpoint activated")
    return service, runtime_url(service)


def test_deep_json_to_an_endpoint_is_a_bad_request_and_journaled(runtime):
    service, url = runtime
    reply = httpx.post(f"{url}/hello_world_1_0_welcome", content=deep(5000),
                       headers={"Content-Type": "application/json"})
    assert is_werkzeug_error(reply, 400) and reply.json() == wire.BAD_REQUEST
    record = service.journal.records(platform="kgrid")[0]
    assert record.status == FAILED and "not JSON" in record.error


def test_deep_json_as_text_is_the_runtimes_recursion_error_and_journaled(runtime):
    service, url = runtime
    for levels in (jsonbody.MAX_DEPTH + 1, 5000):
        reply = httpx.post(f"{url}/hello_world_1_0_welcome", content=deep(levels),
                           headers={"Content-Type": "text/plain"})
        assert reply.status_code == 500 and reply.json()["name"] == "RecursionError"
    assert [r.status for r in service.journal.records(platform="kgrid")] == [FAILED, FAILED]
    assert httpx.post(f"{url}/hello_world_1_0_welcome", json={"name": "Tom"}).json()["result"] \
        == "Welcome to Knowledge Grid, Tom"


def test_an_activation_sent_as_text_plain_is_refused_unread(runtime):
    service, url = runtime
    descriptor = {"uri": "evil/site/1.0/run", "entry": "src/x.py", "function": "run", "artifact": ["src/x.py"],
                  "baseUrl": "http://attacker.invalid/"}
    reply = httpx.post(f"{url}/endpoints", content=json.dumps(descriptor), headers={"Content-Type": "text/plain"})
    assert is_werkzeug_error(reply, 415) and reply.json() == wire.NOT_JSON_MEDIA
    assert not any(e["id"] == "evil/site/1.0/run" for e in httpx.get(f"{url}/endpoints").json())


@pytest.mark.parametrize("body", ["[1, 2]", "\"text\"", "{nope", deep(3000)])
def test_an_activation_that_is_no_json_object_is_a_bad_request(runtime, body):
    _, url = runtime
    reply = httpx.post(f"{url}/endpoints", content=body, headers={"Content-Type": "application/json"})
    assert is_werkzeug_error(reply, 400)


def test_a_body_above_the_limit_is_refused_from_its_declared_length(runtime):
    service, url = runtime
    status, body = declared_only(url, "/hello_world_1_0_welcome", LIMIT + 1, {"Content-Type": "application/json"})
    assert (status, json.loads(body)) == (413, wire.TOO_LARGE)
    assert service.journal.records(platform="kgrid") == []


def test_a_chunked_body_above_the_limit_is_refused_after_reading(runtime):
    _, url = runtime
    chunks = (b"x" * (1 << 20) for _ in range(LIMIT // (1 << 20) + 1))
    reply = httpx.post(f"{url}/endpoints", content=chunks, headers={"Content-Type": "application/json"})
    assert is_werkzeug_error(reply, 413)
    assert httpx.get(f"{url}/info").json()["status"] == "up"


def test_the_activator_refuses_bodies_in_its_own_error_shape(activator):
    for body in ("{nope", deep(3000)):
        reply = httpx.post(f"{activator}/proxy/environments", content=body,
                           headers={"Content-Type": "application/json"})
        assert reply.status_code == 400
        assert set(reply.json()) == {"Title", "Status", "Detail", "Instance", "Time"}
        assert reply.json()["Status"] == "400 Bad Request"
    status, body = declared_only(activator, "/kos", LIMIT + 1, {"Content-Type": "application/zip"})
    assert status == 413 and json.loads(body)["Status"].startswith("413") and json.loads(body)["Instance"] == "/kos"


@FUZZ
@given(body=bodies, content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form"]))
def test_any_body_to_the_runtime_is_answered_in_its_shape_and_it_keeps_serving(runtime, body, content_type):
    _, url = runtime
    for path in ("/endpoints", "/hello_world_1_0_welcome"):
        reply = httpx.post(f"{url}{path}", content=body, headers={"Content-Type": content_type}, timeout=30)
        answer = reply.json()
        assert reply.status_code in (200, 400, 415, 500, 503)
        assert "result" in answer or {"code", "name", "description"} <= set(answer)
    assert httpx.get(f"{url}/info").json()["status"] == "up"


@FUZZ
@given(body=bodies)
def test_any_registration_is_answered_in_the_activators_shape(activator, body):
    reply = httpx.post(f"{activator}/proxy/environments", content=body,
                       headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 400 or (reply.status_code == 200 and reply.json()["status"] in ("new", "existing runtime"))
    assert reply.status_code == 200 or "Title" in reply.json() or "status" in reply.json()
    assert httpx.get(f"{activator}/endpoints").status_code == 200
