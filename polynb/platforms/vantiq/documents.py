"""Fetching a ``script`` query's document over Vantiq's REST API, from the query's worker thread.

The metadata is read on every script query (its modification date is the cache version); the content
only when the cache has no entry of that date, as the real connector does.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from .wire import DOCUMENTS, VantiqError, document_name


class DocumentFetcher:
    """One lazily made REST client per source connection, closed with it."""

    def __init__(self, base: str, token: str | None, client_options: Mapping[str, Any] | None = None) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._options = dict(client_options or {})
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def __call__(self, script: str, cached_signature: str | None) -> tuple[str, str | None]:
        """(modification date, text); text is None when ``cached_signature`` is still current."""
        meta = self._get_json(f"{DOCUMENTS}/{quote(document_name(script), safe='')}")
        if meta.get("isIncomplete"):
            raise VantiqError("io.vantiq.pyexecsource.docincomplete",
                              "Document {0} is incomplete and cannot be used.", [script])
        size = meta.get("contentSize")
        if not isinstance(size, (int, float)) or size <= 0:
            raise VantiqError("io.vantiq.pyexecsource.doclength", "Document {0} has an invalid length.",
                              [script, size])
        signature = str(meta.get("ars_modifiedAt") or meta.get("ars_createdAt"))
        if cached_signature == signature:
            return signature, None
        text = self._get(str(meta.get("content") or "")).content.decode("utf-8")
        if not text:
            raise VantiqError("io.vantiq.pyexecsource.doccontent.empty", "Document content for {0} was empty.",
                              [script])
        return signature, text

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _get_json(self, path: str) -> dict:
        body = self._get(path).json()
        if not isinstance(body, dict):
            raise VantiqError("io.vantiq.pyexecsource.vantiqconnectfail",
                              "The document metadata was not an object: {0}", [body])
        return body

    def _get(self, path: str) -> httpx.Response:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(headers=self.headers, timeout=30.0, **self._options)
            client = self._client
        try:
            response = client.get(urljoin(self.base + "/", path.lstrip("/")))
        except httpx.HTTPError as exc:
            raise VantiqError("io.vantiq.pyexecsource.vantiqconnectfail", repr(exc), []) from exc
        if response.status_code >= 300:
            raise rest_error(response)
        return response


def rest_error(response: httpx.Response) -> VantiqError:
    """A REST error passed on as the query error, as the connector does with ``{code, message, params}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, dict) and "code" in first:
        return VantiqError(first["code"], first.get("message", ""), list(first.get("params") or []))
    return VantiqError("io.vantiq.pyexecsource.vantiqconnectfail", "HTTP {0} from {1}",
                       [response.status_code, str(response.url)])
