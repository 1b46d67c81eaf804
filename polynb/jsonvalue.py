"""JSON text for whatever a platform sends or a payload returns.

The journal must store every input and output, including bytes and objects JSON cannot hold: bytes
round-trip as ``{"$bytes": base64}`` so a recorded input can be replayed; anything else is kept as
``{"$repr": repr(obj)}`` so it can at least be read.
"""
from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "$bytes"
_REPR = "$repr"


def _encode_other(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {_BYTES: base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not lose the record
        text = f"<unrepresentable {type(obj).__name__}: {exc}>"
    return {_REPR: text}


def dumps(value: Any) -> str:
    """Encode any value as JSON text, never raising."""
    return json.dumps(value, default=_encode_other, ensure_ascii=False)


def _decode_tagged(obj: dict) -> Any:
    if len(obj) == 1 and _BYTES in obj:
        return base64.b64decode(obj[_BYTES])
    return obj


def loads(text: str | None) -> Any:
    """Decode what :func:`dumps` wrote; bytes come back as bytes."""
    if text is None:
        return None
    return json.loads(text, object_hook=_decode_tagged)
