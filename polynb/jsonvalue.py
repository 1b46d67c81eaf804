"""JSON text for whatever a platform sends or a payload returns.

The journal and the lab panel must carry every input and output, including bytes and objects JSON cannot
hold: bytes round-trip as ``{"$bytes": base64}`` so a recorded input can be replayed; anything else is kept
as ``{"$repr": repr(obj)}`` so it can at least be read. :func:`dumps` never raises: keys JSON refuses,
cycles, integers too long to print and nesting too deep to walk become marked reprs too. A value or text
over a record's size limit is kept as its marked head (:func:`dumps_within`, :func:`clip`).
"""
from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "$bytes"
_REPR = "$repr"
CUT = "$cut"  # a value a journal record kept only the head of (see :func:`dumps_within`)
MAX_DEPTH = 200  # deeper than this a value is kept as its repr: json's own recursion would give up


def _safe_repr(obj: Any) -> str:
    try:
        text = repr(obj)
    except BaseException as exc:  # a broken __repr__ (even a recursive one) must not lose the record
        return f"<unrepresentable {type(obj).__name__}: {type(exc).__name__}: {exc}>"
    return text if isinstance(text, str) else f"<unrepresentable {type(obj).__name__}>"


def _encode_other(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {_BYTES: base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return {_REPR: _safe_repr(obj)}


def _key(key: Any) -> Any:
    """A key JSON takes: str, number, bool or None as they are (a huge int as its marked text), else the repr."""
    if key is None or isinstance(key, (str, bool, float)):
        return key
    if isinstance(key, int):
        plain = _plain(key, 0, frozenset())
        return plain if isinstance(plain, int) else plain[_REPR]
    return _safe_repr(key)


def _plain(value: Any, depth: int, seen: frozenset[int]) -> Any:
    """A copy json.dumps always accepts: what made the fast path fail is replaced by a marked repr."""
    if depth > MAX_DEPTH:
        return {_REPR: f"<{type(value).__name__} nested deeper than {MAX_DEPTH} levels>"}
    if value is None or isinstance(value, (str, bool, float)):
        return value
    if isinstance(value, int):
        try:
            int.__repr__(value)
        except ValueError:  # more digits than Python converts to text
            return {_REPR: f"<int of {value.bit_length()} bits>"}
        return value
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in seen:
            return {_REPR: f"<cycle: this {type(value).__name__} contains itself>"}
        inner = seen | {id(value)}
        if isinstance(value, dict):
            return {_key(k): _plain(v, depth + 1, inner) for k, v in list(value.items())}
        return [_plain(item, depth + 1, inner) for item in list(value)]
    return _encode_other(value)


def dumps(value: Any) -> str:
    """Encode any value as JSON text that is valid UTF-8, never raising."""
    try:
        text = json.dumps(value, default=_encode_other, ensure_ascii=False)
    except Exception:  # keys JSON refuses, a cycle, a huge int, nesting too deep: walk it once, carefully
        try:
            text = json.dumps(_plain(value, 0, frozenset()), ensure_ascii=False)
        except Exception:
            text = json.dumps({_REPR: _safe_repr(value)}, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. from surrogateescape): escape them instead
        text = json.dumps(json.loads(text), ensure_ascii=True)
    return text


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _head(text: str, size: int) -> str:
    """The longest start of ``text`` that takes at most ``size`` bytes in UTF-8 (no character split)."""
    return text.encode("utf-8", "surrogatepass")[:max(size, 0)].decode("utf-8", "ignore")


def clip(text: str, limit: int) -> str:
    """``text`` as it is when it takes at most ``limit`` bytes in UTF-8, else its head and a last line that
    says it was cut and how many bytes it held."""
    if len(text) * 4 <= limit:
        return text
    size = _utf8_size(text)
    if size <= limit:
        return text
    mark = f"\n[polynb cut this field: it held {size} bytes, a record keeps at most {limit}]"
    return _head(text, limit - _utf8_size(mark)) + mark


def dumps_within(value: Any, limit: int) -> str:
    """:func:`dumps`, but JSON text over ``limit`` bytes becomes ``{"$cut": <the head of that text>, "bytes":
    <its size>}``, itself at most ``limit`` bytes: a reader sees that it was cut and how big it was."""
    text = dumps(value)
    if len(text) * 4 <= limit:
        return text
    size = _utf8_size(text)
    if size <= limit:
        return text
    budget = limit - _utf8_size(json.dumps({CUT: "", "bytes": size}))
    while True:  # escaping may grow the head; dropping the excess from it is always enough
        marked = json.dumps({CUT: _head(text, budget), "bytes": size}, ensure_ascii=False)
        excess = _utf8_size(marked) - limit
        if excess <= 0:
            return marked
        budget -= excess


def _decode_tagged(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _BYTES in obj:
        return base64.b64decode(obj[_BYTES])
    return obj


def loads(text: str | None) -> Any:
    """Decode what :func:`dumps` wrote; bytes come back as bytes."""
    if text is None:
        return None
    return json.loads(text, object_hook=_decode_tagged)
