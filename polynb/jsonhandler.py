"""The base of every tornado handler polynb serves: a bounded body, JSON read safely, errors in the platform's shape.

A handler reads ``self.body`` (at most ``body_limit`` bytes: a larger body is refused with 413 as soon as its
Content-Length says so) or ``self.json_body(dict)`` (not JSON, nested deeper than ``max_depth`` or of another
top-level type: 400). Every error answer, refusals and unexpected exceptions alike, goes through
:meth:`JsonHandler.answer_error`, which each platform overrides with its own error shape, so no client
ever sees tornado's HTML error page.
"""
from __future__ import annotations

import json
from typing import Any

import tornado.httputil
import tornado.web

from . import jsonbody
from .jsonbody import BodyRefused


@tornado.web.stream_request_body
class JsonHandler(tornado.web.RequestHandler):
    body_limit: int = jsonbody.DEFAULT_LIMIT
    max_depth: int = jsonbody.MAX_DEPTH

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        super().__init__(*args, **kwargs)

    def prepare(self) -> None:
        """Refuse a declared oversized body before reading it (a subclass's ``prepare`` calls this first)."""
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.body_limit:
            raise jsonbody.too_large(int(declared), self.body_limit)

    def data_received(self, chunk: bytes) -> None:
        """Keep the body while it fits; past the limit only count it (a chunked body has no length to check)."""
        self._size += len(chunk)
        if self._size <= self.body_limit:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    @property
    def body(self) -> bytes:
        """The request body; :class:`BodyRefused` (413) when it was larger than ``body_limit``."""
        if self._size > self.body_limit:
            raise jsonbody.too_large(self._size, self.body_limit)
        if len(self._chunks) != 1:
            self._chunks = [b"".join(self._chunks)]
        return self._chunks[0]

    def json_body(self, expect: type | tuple[type, ...] = object) -> Any:
        """The body as JSON of the ``expect`` type; :class:`BodyRefused` otherwise."""
        return jsonbody.loads(self.body, expect, self.max_depth)

    def form_files(self, name: str) -> list[tornado.httputil.HTTPFile]:
        """The files of a multipart field (a streamed body is not parsed by tornado itself)."""
        arguments: dict[str, list[bytes]] = {}
        files: dict[str, list[tornado.httputil.HTTPFile]] = {}
        tornado.httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), self.body, arguments,
                                              files, self.request.headers)
        return files.get(name, [])

    def answer_error(self, status: int, message: str, error: BaseException | None) -> None:
        """Answer an error in the platform's own shape: override. The default is JSON ``{"error": message}``."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, BodyRefused):
            self.answer_error(error.status, error.detail, error)
        elif error is None or isinstance(error, tornado.web.HTTPError):
            self.answer_error(status_code, self._reason, error)
        else:
            self.answer_error(status_code, f"{type(error).__name__}: {error}", error)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """A refused body is an answer, not a server error to log."""
        if not isinstance(value, BodyRefused):
            super().log_exception(typ, value, tb)
