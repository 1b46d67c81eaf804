"""The notebook's side of a Vantiq server: ask a source a query, read its notifications, upload documents.

``query`` posts to ``/api/v1/resources/sources/SOURCE/query`` as Vantiq's REST API takes it, against the
server the binding is connected to (the local stand-in unless ``targetServer`` is configured). The stand-in
also streams rows as they arrive (NDJSON), so partial results show live; a plain JSON list is read too.
"""
from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import quote

import httpx

import polynb

from .connector import PLATFORM
from .wire import render


class VantiqQueryError(Exception):
    """A query the source answered with an error; ``body`` is Vantiq's ``{messageCode, messageTemplate, parameters}``."""

    def __init__(self, body: Any) -> None:
        self.body = body
        super().__init__(render(body) if isinstance(body, dict) else str(body))


def endpoint() -> tuple[str, str | None]:
    """(REST base, token) of the server the binding uses; starts the binding (and the stand-in) if needed."""
    service = polynb.get_service()
    binding = service.call(service.binding(PLATFORM), label="starting Vantiq")
    return binding.rest, binding.token


def query(source: str, code: str | None = None, *, name: str | None = None, script: str | None = None,
          presetValues: dict | None = None, codeHandlesReturn: Any = None, limitReturnTo: Any = None,
          cache_code: Any = None, timeout: float | None = None, on_row: Callable[[Any], None] | None = None,
          **more: Any) -> list:
    """``SELECT * FROM SOURCE source WITH ...``: the rows, as a list; partial rows reach ``on_row`` (or show live)."""
    options = {"code": code, "name": name, "script": script, "presetValues": presetValues,
               "codeHandlesReturn": codeHandlesReturn, "limitReturnTo": limitReturnTo, "cache_code": cache_code, **more}
    body = {key: value for key, value in options.items() if value is not None}
    base, token = endpoint()
    view = on_row or _LiveRows(source)
    rows: list = []
    params = {"timeout": timeout} if timeout is not None else {}
    try:
        with httpx.stream("POST", f"{base}/api/v1/resources/sources/{quote(source, safe='')}/query", json=body,
                          params=params, headers=_headers(token, "application/x-ndjson, application/json"),
                          timeout=None) as response:
            if response.headers.get("content-type", "").startswith("application/x-ndjson"):
                for line in response.iter_lines():
                    if line.strip():
                        _take_line(json.loads(line), rows, view)
            else:
                response.read()
                _check(response)
                rows = response.json()
    except httpx.TransportError as exc:
        raise ConnectionError(f"the connection to Vantiq at {base} dropped after {len(rows)} rows of the query "
                              f"to source {source}: {type(exc).__name__}: {exc}") from None
    finally:
        if isinstance(view, _LiveRows):
            view.finish(len(rows))
    return rows


def notifications(source: str) -> list:
    """The notifications the source's connectors sent to the local server, oldest first."""
    base, token = endpoint()
    response = httpx.get(f"{base}/api/v1/resources/sources/{quote(source, safe='')}/notifications",
                         headers=_headers(token))
    _check(response)
    return response.json()


def upload_document(name: str, content: str) -> dict:
    """Store a document on the local server, for ``script`` queries."""
    base, token = endpoint()
    response = httpx.post(f"{base}/api/v1/resources/documents", json={"name": name, "content": content},
                          headers=_headers(token))
    _check(response)
    return response.json()


def _headers(token: str | None, accept: str = "application/json") -> dict:
    return {"Authorization": f"Bearer {token}", "Accept": accept}


def _take_line(line: dict, rows: list, view: Callable[[Any], None]) -> None:
    if "row" in line:
        rows.append(line["row"])
        view(line["row"])
    elif "error" in line:
        raise VantiqQueryError(line["error"])


def _check(response: httpx.Response) -> None:
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
    raise VantiqQueryError(first)


class _LiveRows:
    """Rows as they arrive, in one output line updated in place (only inside a kernel)."""

    def __init__(self, source: str) -> None:
        self.source, self.count, self._handle = source, 0, None

    def __call__(self, row: Any) -> None:
        self.count += 1
        self._show(f"{self.source}: {self.count} row{'s' if self.count != 1 else ''} so far, last {_short(row)}")

    def finish(self, total: int) -> None:
        if self._handle is not None:
            self._show(f"{self.source}: {total} row{'s' if total != 1 else ''}")

    def _show(self, text: str) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if getattr(get_ipython(), "kernel", None) is None:
            return
        if self._handle is None:
            self._handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self._handle.update({"text/plain": text}, raw=True)


def _short(row: Any, limit: int = 120) -> str:
    text = json.dumps(row, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
