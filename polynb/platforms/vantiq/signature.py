"""A ``%%vantiq_exec`` cell's signature, learned: the presetValues of the queries it answered.

Vantiq declares no shape for a connector's named code, so polynb learns one from the queries that ran it to a
successful end: each field's JSON type (integers and decimals both ``number``; several types seen make a
union), required when every such query gave it. A field never seen is allowed (it is new, not wrong); a
field seen with another type, or one every query gave and this one lacks, is refused by ``polynb.vantiq.query``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...signature import Shape, Signature, one

SOURCE = "the presetValues of the queries it answered"
_KINDS = ((bool, "boolean"), ((int, float), "number"), (str, "string"), (Mapping, "object"), ((list, tuple), "array"))


def kind(value: Any) -> str:
    """A value's JSON type name; ``null`` for None and ``any`` for what JSON has no name for."""
    if value is None:
        return "null"
    return next((name for types, name in _KINDS if isinstance(value, types)), "any")


def kinds(shape: Shape) -> set[str]:
    """The type names a learned field's shape admits (the inverse of :func:`field_shape`)."""
    if not shape:
        return {"any"}
    names = {branch["type"] for branch in shape.get("anyOf", ())} | ({shape["type"]} if "type" in shape else set())
    return names | ({"null"} if shape.get("nullable") or shape.get("enum") == [None] else set())


def field_shape(names: set[str]) -> Shape:
    if "any" in names:
        return {}
    typed = sorted(names - {"null"})
    if not typed:
        return {"enum": [None]}
    shape: Shape = {"type": typed[0]} if len(typed) == 1 else {"anyOf": [{"type": name} for name in typed]}
    return {**shape, "nullable": True} if "null" in names else shape


def widen(shape: Shape | None, preset: Mapping[str, Any]) -> Shape:
    """The shape learned so far (None: nothing yet), widened by one more query's presetValues."""
    seen = {key: kinds(field) for key, field in ((shape or {}).get("properties") or {}).items()}
    for key, value in preset.items():
        seen[key] = seen.get(key, set()) | {kind(value)}
    required = list(preset) if shape is None else [key for key in shape.get("required") or () if key in preset]
    return {"type": "object", "properties": {key: field_shape(names) for key, names in seen.items()},
            "required": required}


def learned(name: str, previous: Signature | None, preset: Any) -> Signature | None:
    """The signature after one more successful query; None when it is what ``previous`` already says."""
    if not isinstance(preset, Mapping):
        preset = {}
    before = previous.operations[name].input if previous is not None and name in previous.operations else None
    after = widen(before, preset)
    return None if after == before else one(name, after, None, SOURCE)
