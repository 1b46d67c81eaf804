"""The local Colonies server answers every body at ``/api`` with a Colonies error envelope and keeps serving."""
from __future__ import annotations

import base64
import json

import httpx
import pytest
from http_hardening import FUZZ, bodies, declared_only, deep
from hypothesis import given

from polynb import jsonbody
from polynb.platforms.colonies import crypto, wire


def error_of(status: int, body: bytes) -> tuple[int, str]:
    """(status, message) of a Colonies error envelope (fails on any other shape)."""
    envelope = json.loads(body)
    assert envelope["error"] is True and envelope["payloadtype"] == "error"
    error = json.loads(base64.b64decode(envelope["payload"]))
    assert error["status"] == status
    return status, error["message"]


def post(server, body: bytes) -> tuple[int, bytes]:
    reply = httpx.post(f"{server.info['url']}/api", content=body, timeout=30)
    return reply.status_code, reply.content


def signed(message: bytes) -> bytes:
    """An envelope signed by a fresh key around any message text."""
    payload = base64.b64encode(message).decode()
    key = crypto.generate_private_key()
    return json.dumps({"payloadtype": "getprocessmsg", "payload": payload,
                       "signature": crypto.sign(payload, key)}).encode()


def version_works(server) -> bool:
    status, body = post(server, json.dumps(wire.encode_request({"msgtype": "versionmsg"}, None)).encode())
    return status == 200


@pytest.mark.parametrize("body", [deep(5000), deep(jsonbody.MAX_DEPTH + 1), "[1, 2]", "\"text\"", "{nope"])
def test_an_envelope_that_is_no_json_object_is_a_400_in_the_go_shape(server, body):
    status, message = error_of(400, post(server, body.encode())[1])
    assert message.startswith("Failed to parse RPC message")
    assert version_works(server)


def test_a_payload_nested_too_deep_is_a_400_not_an_internal_error(server):
    status, reply = post(server, signed(deep(5000).encode()))
    assert error_of(400, reply)[1].startswith("Failed to parse getprocessmsg")


def test_a_body_above_the_limit_is_refused_from_its_declared_length(server):
    status, body = declared_only(server.info["url"], "/api", jsonbody.DEFAULT_LIMIT + 1)
    assert status == 413 and "larger than the limit" in error_of(413, body)[1]
    assert version_works(server)


@FUZZ
@given(body=bodies)
def test_any_body_is_answered_with_a_colonies_error_and_the_server_keeps_serving(server, body):
    status, reply = post(server, body)
    assert status in (400, 403) and error_of(status, reply)
    assert version_works(server)
