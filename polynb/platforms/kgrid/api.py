"""Calling and exporting Knowledge Objects from Python: ``call`` and ``export`` (what the magics use).

``call`` goes through the activator, like any KGrid client: ``POST /{naan}/{name}/{version}/{endpoint}``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from ... import signature
from ...calls import CallTimeout, PlatformAnswer, call_timeout
from . import ko as kos


class KgridCallError(PlatformAnswer, RuntimeError):
    """The activator answered a call with an error; ``status`` and ``body`` are its reply."""

    def __init__(self, endpoint: str, status: int, body: Any) -> None:
        detail = body.get("Detail") if isinstance(body, dict) else body
        title = body.get("Title") if isinstance(body, dict) else "error"
        super().__init__(f"{endpoint}: {status} {title}: {str(detail).strip()}")
        self.endpoint, self.status, self.body = endpoint, status, body



def _binding():
    import polynb

    service = polynb.get_service()
    return service.call(service.binding("kgrid"), label="starting KGrid", timeout=180)


def _journal():
    import polynb

    return polynb.get_service().journal


def activator_url() -> str:
    """The activator this kernel publishes to (the local one is started on first need)."""
    return _binding().activator_url


def call(endpoint: str, input: Any = None, *, full: bool = False, timeout: float | None = None) -> Any:
    """Call ``naan/name/version/endpoint`` with a JSON input; the result (or the whole answer if ``full``).

    An input that does not fit the endpoint's signature (its service spec) raises
    :class:`~polynb.signature.InputMismatch` before anything is sent; an error answer raises
    :class:`KgridCallError`; no answer within ``timeout`` seconds (default ``core.call_timeout``) raises
    :class:`~polynb.calls.CallTimeout`.
    """
    endpoint = endpoint.strip("/")
    if endpoint.count("/") != 3:
        raise ValueError(f"{endpoint!r} is not NAAN/NAME/VERSION/ENDPOINT")
    seconds = call_timeout(timeout)
    url = activator_url()
    signature.check(_journal(), "kgrid", endpoint, input)
    try:
        reply = httpx.post(f"{url}/{endpoint}", json=input, timeout=seconds)
    except httpx.TimeoutException:
        raise CallTimeout("kgrid", endpoint, seconds, f"the activator at {url} or the runtime behind it is "
                          "busy or stuck; the journal shows whether the execution arrived") from None
    try:
        body = reply.json()
    except json.JSONDecodeError:
        body = reply.text
    if reply.status_code != 200:
        raise KgridCallError(endpoint, reply.status_code, body)
    return body if full else body["result"]


def export(ark: str, path: str | Path, format: str = "kgrid1") -> Path:
    """Write the KO this kernel's cells define for ``ark``: a folder, or a zip if ``path`` ends in .zip."""
    if format not in ("kgrid1", "kgrid2"):
        raise ValueError(f"unknown format {format!r}: use kgrid1 (activator layout) or kgrid2 (package layout)")
    return kos.write(_binding().knowledge_object(ark), path, format)
