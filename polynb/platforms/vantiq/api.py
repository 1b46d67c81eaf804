"""The notebook's side of a Vantiq server: ask a source a query, read its notifications, upload documents.

``query`` posts to ``/api/v1/resources/sources/SOURCE/query`` as Vantiq's REST API takes it, against the
server the binding is connected to (the local stand-in unless ``targetServer`` is configured). The stand-in
also streams rows as they arrive (NDJSON), so partial results show live; a plain JSON list is read too.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

import polynb

from ... import signature
from ...calls import CallTimeout, PlatformAnswer, call_timeout
from ...progress import InPlaceLine
from .binding import PLATFORM
from .wire import QUERY_TIMEOUT_CODE, render

ANSWER_GRACE = 5.0  # seconds past the timeout for the server's own timeout error to arrive


class VantiqQueryError(PlatformAnswer):
    """A query the source answered with an error; ``body`` is Vantiq's ``{messageCode, messageTemplate, parameters}``."""

    def __init__(self, body: Any) -> None:
        self.body = body
        super().__init__(render(body) if isinstance(body, dict) else str(body))



class VantiqQueryTimeout(CallTimeout, VantiqQueryError):
    """The server gave up waiting for the source's final answer: a :class:`CallTimeout` with Vantiq's body."""

    def __init__(self, source: str, timeout: float, body: Any) -> None:
        CallTimeout.__init__(self, *_no_answer_parts(source, timeout))
        self.body = body



def endpoint() -> tuple[str, str | None]:
    """(REST base, token) of the server the binding uses; starts the binding (and the stand-in) if needed."""
    binding = _binding()
    return binding.rest, binding.token


def query(source: str, code: str | None = None, *, name: str | None = None, script: str | None = None,
          presetValues: dict | None = None, codeHandlesReturn: Any = None, limitReturnTo: Any = None,
          cache_code: Any = None, timeout: float | None = None, on_row: Callable[[Any], None] | None = None,
          **more: Any) -> list:
    """``SELECT * FROM SOURCE source WITH ...``: the rows, as a list; partial rows reach ``on_row`` (or show live).

    It waits ``timeout`` seconds (default ``core.call_timeout``) for the final answer, and the server is told
    the same, then raises :class:`VantiqQueryTimeout`. When this kernel serves the source, the local server
    hands the query to this kernel's connector (another notebook's connector on the same source would not
    have this notebook's cells); a real Vantiq ignores that hint. A name-only query for a ``%%vantiq_exec``
    cell whose presetValues do not fit what its queries gave so far raises
    :class:`~polynb.signature.InputMismatch` before anything is sent.
    """
    options = {"code": code, "name": name, "script": script, "presetValues": presetValues,
               "codeHandlesReturn": codeHandlesReturn, "limitReturnTo": limitReturnTo, "cache_code": cache_code, **more}
    body = {key: value for key, value in options.items() if value is not None}
    seconds = call_timeout(timeout)
    binding = _binding()
    if name is not None and code is None and not script:
        signature.check(binding.service.journal, PLATFORM, name, presetValues or {}, root="presetValues")
    base = binding.rest
    view = on_row or _LiveRows(source)
    rows: list = []
    params = {"timeout": seconds, **_own_connector(binding, source)}
    deadline = time.monotonic() + seconds + ANSWER_GRACE
    try:
        with httpx.stream("POST", f"{base}/api/v1/resources/sources/{quote(source, safe='')}/query", json=body,
                          params=params, headers=_headers(binding.token, "application/x-ndjson, application/json"),
                          timeout=httpx.Timeout(10.0, read=seconds + ANSWER_GRACE)) as response:
            if response.headers.get("content-type", "").startswith("application/x-ndjson"):
                for line in response.iter_lines():
                    if line.strip():
                        _take_line(json.loads(line), rows, view, source, seconds)
                    if time.monotonic() > deadline:
                        raise _no_answer(source, seconds)
            else:
                response.read()
                _check(response, source, seconds)
                rows = response.json()
    except httpx.TimeoutException:
        raise _no_answer(source, seconds) from None
    except httpx.TransportError as exc:
        raise ConnectionError(f"the connection to Vantiq at {base} dropped after {len(rows)} rows of the query "
                              f"to source {source}: {type(exc).__name__}: {exc}") from None
    finally:
        if isinstance(view, _LiveRows):
            view.finish(len(rows))
    return rows


def notifications(source: str, all_connectors: bool = False) -> list:
    """The notifications this kernel's connector for the source sent to the local server, oldest first.

    They are this kernel's since it started (across reconnects), so another notebook serving the same
    source, or an earlier run, never shows here; ``all_connectors=True`` gives what the server holds for the
    source from every connector. A kernel that does not serve the source sees every connector's.
    """
    binding = _binding()
    params = {} if all_connectors else _own_connector(binding, source)
    response = httpx.get(f"{binding.rest}/api/v1/resources/sources/{quote(source, safe='')}/notifications",
                         params=params, headers=_headers(binding.token), timeout=call_timeout())
    _check(response, source)
    return response.json()


def upload_document(name: str, content: str) -> dict:
    """Store a document on the local server, for ``script`` queries."""
    base, token = endpoint()
    response = httpx.post(f"{base}/api/v1/resources/documents", json={"name": name, "content": content},
                          headers=_headers(token), timeout=call_timeout())
    _check(response)
    return response.json()


def _binding():
    service = polynb.get_service()
    return service.call(service.binding(PLATFORM), label="starting Vantiq")


def _own_connector(binding, source: str) -> dict:
    """The query parameter naming this kernel's connector for the source, when it serves it."""
    connector = binding.connector_id(source)
    return {"connector": connector} if connector else {}


def _no_answer_parts(source: str, seconds: float) -> tuple[str, str, float, str]:
    """(platform, what, timeout, hint) of a query that got no final answer in time."""
    return (PLATFORM, f"the query to source {source}", seconds,
            f"check that a connector serves source {source} (%polynb status) and that code with "
            "codeHandlesReturn ends the query (a 200, a 204 or an error); pass timeout=SECONDS to wait longer")


def _no_answer(source: str, seconds: float) -> CallTimeout:
    return CallTimeout(*_no_answer_parts(source, seconds))


def _headers(token: str | None, accept: str = "application/json") -> dict:
    return {"Authorization": f"Bearer {token}", "Accept": accept}


def _take_line(line: dict, rows: list, view: Callable[[Any], None], source: str, seconds: float) -> None:
    if "row" in line:
        rows.append(line["row"])
        view(line["row"])
    elif "error" in line:
        raise _query_error(line["error"], source, seconds)


def _check(response: httpx.Response, source: str = "", seconds: float = 0.0) -> None:
    if response.status_code < 300:
        return
    try:
        body = response.json()
    except ValueError:
        body = response.text
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if isinstance(first, dict) and "code" in first:
        first = {"messageCode": first["code"], "messageTemplate": first.get("message", ""),
                 "parameters": first.get("params") or []}
    raise _query_error(first, source, seconds)


def _query_error(body: Any, source: str, seconds: float) -> VantiqQueryError:
    """The server's error; its own query timeout is a :class:`VantiqQueryTimeout`, as every call helper's is."""
    if isinstance(body, dict) and body.get("messageCode") == QUERY_TIMEOUT_CODE:
        return VantiqQueryTimeout(source, seconds, body)
    return VantiqQueryError(body)


class _LiveRows:
    """Rows as they arrive, in one output line updated in place (only inside a kernel)."""

    def __init__(self, source: str) -> None:
        self.source, self.count, self._line = source, 0, InPlaceLine()

    def __call__(self, row: Any) -> None:
        self.count += 1
        self._line.show(f"{self.source}: {self.count} row{'s' if self.count != 1 else ''} so far, last {_short(row)}")

    def finish(self, total: int) -> None:
        if self._line.shown:
            self._line.show(f"{self.source}: {total} row{'s' if total != 1 else ''}")


def _short(row: Any, limit: int = 120) -> str:
    text = json.dumps(row, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
