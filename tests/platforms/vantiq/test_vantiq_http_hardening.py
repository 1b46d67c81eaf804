"""The Vantiq stand-in's REST refuses bad bodies with Vantiq's error list and keeps serving (real HTTP)."""
from __future__ import annotations

import json

import pytest
from http_hardening import FUZZ, bodies, declared_only, deep
from hypothesis import given
from hypothesis import strategies as st
from vantiq_harness import local_server

from polynb import jsonbody

QUERY = "/api/v1/resources/sources/nobody/query"
DOCUMENTS = "/api/v1/resources/documents"
SOURCE = "/api/v1/resources/sources/nobody"


@pytest.fixture(scope="module")
def server():
    with local_server({"VANTIQ_QUERY_TIMEOUT": "1"}) as info:
        yield info


def vantiq_error(reply) -> str:
    """The code of Vantiq's one-element error list (fails on any other shape)."""
    [error] = reply.json()
    assert set(error) == {"code", "message", "params"}
    return error["code"]


@pytest.mark.parametrize("path", [QUERY, DOCUMENTS, SOURCE])
@pytest.mark.parametrize("body", ["{nope", deep(3000), deep(jsonbody.MAX_DEPTH + 1), "\xff"])
def test_a_body_that_is_no_usable_json_is_a_vantiq_bad_request(rest, path, body):
    method = "PUT" if path == SOURCE else "POST"
    reply = rest.client.request(method, path, content=body.encode("latin-1"))
    assert reply.status_code == 400 and vantiq_error(reply) == "io.polynb.vantiq.standin.badjson"


def test_a_query_whose_body_is_not_an_object_is_refused_before_reaching_a_connector(rest):
    reply = rest.client.post(QUERY, json=[1, 2])
    assert reply.status_code == 400 and vantiq_error(reply) == "io.polynb.vantiq.standin.badjson"
    assert "must be an object" in reply.json()[0]["params"][0]


def test_a_body_above_the_limit_is_refused_from_its_declared_length(server):
    status, body = declared_only(server["url"], DOCUMENTS, jsonbody.DEFAULT_LIMIT + 1,
                                 {"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"})
    [error] = json.loads(body)
    assert status == 413 and error["code"] == "io.polynb.vantiq.standin.toolarge"


def test_stand_in_control_frames_that_are_not_utf8_are_sent_not_a_500(rest):
    reply = rest.client.post("/polynb/sources/nobody/send", content=b"\xff\xfe")
    assert reply.status_code == 200 and reply.json() == {"sent": 0}


@FUZZ
@given(body=bodies, path=st.sampled_from([QUERY, DOCUMENTS, SOURCE, "/api/v1/resources/sources/nobody/publish"]))
def test_any_body_is_answered_in_vantiqs_shape_and_the_server_keeps_serving(rest, body, path):
    reply = rest.client.request("PUT" if path == SOURCE else "POST", path, content=body)
    if reply.status_code != 200:
        assert reply.status_code == 400 and vantiq_error(reply)
    assert rest.client.get(SOURCE).json()["name"] == "nobody"
