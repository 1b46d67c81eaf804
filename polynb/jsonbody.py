"""A JSON request body read the way a careful server reads it: bounded in size and depth, of the expected type.

Pure (no server here), so that the tornado base (:mod:`polynb.jsonhandler`) and the wire modules share one
reading; each platform turns a :class:`BodyRefused` into its own error shape.
"""
from __future__ import annotations

import json
from typing import Any

#: bodies above this are refused unless a platform names its own limit (Flask, Vert.x and the Go server set
#: none by default; 16 MiB is the size Flask's documentation suggests for ``MAX_CONTENT_LENGTH``)
DEFAULT_LIMIT = 16 * 1024 * 1024
#: deeper JSON than any real input; it keeps a payload, the runner and the journal's encoder clear of
#: Python's recursion limit (a body nested past it is refused, not a ``RecursionError`` further on)
MAX_DEPTH = 200

TOO_LARGE, NOT_JSON, TOO_DEEP, WRONG_TYPE, MEDIA_TYPE = "too_large", "not_json", "too_deep", "wrong_type", "media_type"
_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}


class BodyRefused(ValueError):
    """A request body a server refuses: the HTTP status to answer, why (a short code) and a sentence."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


def too_large(size: int, limit: int) -> BodyRefused:
    return BodyRefused(413, TOO_LARGE, f"the request body ({size} bytes) is larger than the limit of {limit} bytes")


def check_media_type(content_type: str | None, accepted: tuple[str, ...] = ("application/json",)) -> None:
    """Refuse (415) a body whose Content-Type is none of ``accepted`` (parameters such as charset aside)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in accepted:
        raise BodyRefused(415, MEDIA_TYPE, f"the request's Content-Type is {media or 'missing'}, "
                                           f"not {' or '.join(accepted)}")


def loads(body: bytes | str, expect: type | tuple[type, ...] = object, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``body``; :class:`BodyRefused` (400) when it is not JSON, too deep or not ``expect``."""
    try:
        value = json.loads(body)
    except RecursionError as exc:  # the decoder's own limit; ``__cause__`` keeps what it raised
        raise BodyRefused(400, TOO_DEEP, f"the JSON is nested deeper than {max_depth} levels") from exc
    except ValueError as exc:  # UnicodeDecodeError included
        raise BodyRefused(400, NOT_JSON, f"the request body is not JSON: {exc}") from exc
    if _opening_brackets(body) > max_depth and depth(value, max_depth) > max_depth:
        raise BodyRefused(400, TOO_DEEP, f"the JSON is nested deeper than {max_depth} levels")
    if not isinstance(value, expect) or (isinstance(value, bool) and bool not in _types(expect) and expect is not object):
        raise BodyRefused(400, WRONG_TYPE, f"the JSON must be {_named(expect)}, not {_TYPE_NAMES[type(value)]}")
    return value


def depth(value: Any, stop_after: int | None = None) -> int:
    """How deep arrays and objects nest in ``value`` (a scalar is 0), counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if stop_after is not None and deepest > stop_after:
            return deepest
        pending.extend((child, level + 1) for child in children)
    return deepest


def _opening_brackets(body: bytes | str) -> int:
    """An upper bound of the depth, counted in C: most bodies need no walk at all."""
    return body.count(b"[") + body.count(b"{") if isinstance(body, bytes) else body.count("[") + body.count("{")


def _types(expect: type | tuple[type, ...]) -> tuple[type, ...]:
    return expect if isinstance(expect, tuple) else (expect,)


def _named(expect: type | tuple[type, ...]) -> str:
    return " or ".join(dict.fromkeys(_TYPE_NAMES.get(kind, kind.__name__) for kind in _types(expect)))
