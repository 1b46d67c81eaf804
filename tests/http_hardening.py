"""What the ``test_<platform>_http_hardening.py`` files share: bodies that probe a door, and a raw probe.

A body "above the limit" is best checked from its declared length alone: the server must answer from the
headers, without reading (or the client sending) megabytes.
"""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: real servers behind every example: few examples, no deadline
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=20)
#: random bytes, JSON of every type, deep nesting, and one huge field
bodies = st.one_of(st.binary(max_size=2048), json_values.map(lambda value: json.dumps(value).encode()),
                   st.integers(1, 20_000).map(lambda levels: deep(levels).encode()),
                   st.integers(1, 3).map(lambda mib: json.dumps({"name": "x" * (mib << 20)}).encode()))


def deep(levels: int) -> str:
    """A JSON array nested ``levels`` deep."""
    return "[" * levels + "]" * levels


def declared_only(url: str, path: str, declared: int, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST that declares ``declared`` body bytes and sends none; the status and body of the answer."""
    address = urlsplit(url)
    lines = [f"POST {path} HTTP/1.1", "Host: polynb", f"Content-Length: {declared}",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _content_length(answer):
            chunk = raw.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), body


def _content_length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
