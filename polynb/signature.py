"""A payload's signature: the shape of its input and output, as its platform declares it (a KO's OpenAPI service
spec, a CloudState service's proto messages, a Colonies function's parameters) or as polynb learned it (the
presetValues a Vantiq query was answered with). Call helpers check an input against it before anything is sent,
so that a wrong input is one line naming the field instead of a remote error and a failed record.

A shape is a small subset of the OpenAPI 3.0 Schema Object (so a KO's service spec holds it as it is):
``type`` (string, integer, number, boolean, object or array), ``nullable``, ``enum``, ``anyOf``, ``properties``,
``required``, ``additionalProperties`` (true, false or a shape), ``items`` and ``title``; other keywords are
kept and ignored, and ``{}`` takes anything. Four extensions: ``x-aliases`` (other names a field answers to,
as protobuf's JSON names), ``x-null-absent`` (a null field counts as left out, as in proto3 JSON), and
``x-positional`` and ``x-varargs`` (the parameters a function takes by position, and whether it takes more).
docs/signatures.md says where each platform's comes from.
"""
from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .calls import PlatformAnswer

if TYPE_CHECKING:
    from .journal import Journal

Shape = dict[str, Any]
_CHECKS: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                         "boolean": (bool,), "object": (Mapping,), "array": (list, tuple)}
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_ARRAYS = (list, tuple, set, frozenset, Sequence, Iterable)
_OBJECTS = (dict, Mapping)
_REQUIRED, _NOT_REQUIRED = getattr(typing, "Required", None), getattr(typing, "NotRequired", None)  # Python 3.11+


class InputMismatch(PlatformAnswer, ValueError):
    """An input that does not fit its payload's signature; nothing was sent to the platform. One line in a
    notebook, like a platform's own refusal."""

    def __init__(self, subject: str, path: str, problem: str) -> None:
        super().__init__(f"{subject}: {path}: {problem}; nothing was sent")
        self.subject, self.path, self.problem = subject, path, problem


# -- checking a value against a shape ------------------------------------------------------------------
def mismatch(shape: Mapping[str, Any], value: Any, path: str) -> tuple[str, str] | None:
    """Where ``value`` first departs from ``shape`` and how, as (path, problem); None when it fits."""
    if value is None and shape.get("nullable"):
        return None
    if "anyOf" in shape:
        if all(mismatch(branch, value, path) for branch in shape["anyOf"]):
            return path, f"expected {describe(shape)}, got {shown(value)}"
        return None
    if "enum" in shape and not any(_same(value, option) for option in shape["enum"]):
        return path, f"expected {describe(shape)}, got {shown(value)}"
    kind = shape.get("type")
    if kind is not None and not _is(kind, value):
        return path, f"expected {describe(shape)}, got {shown(value)}"
    if isinstance(value, Mapping) and kind in (None, "object"):
        return _object_mismatch(shape, value, path)
    if isinstance(value, (list, tuple)) and isinstance(shape.get("items"), Mapping):
        for index, item in enumerate(value):
            found = mismatch(shape["items"], item, f"{path}[{index}]")
            if found:
                return found
    return None


def _same(value: Any, option: Any) -> bool:
    """Enum membership as JSON sees it: ``True`` is not ``1``."""
    return value == option and isinstance(value, bool) == isinstance(option, bool)


def _is(kind: str, value: Any) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    checks = _CHECKS.get(kind)
    return checks is None or isinstance(value, checks)  # a type this subset does not know restricts nothing


def _object_mismatch(shape: Mapping[str, Any], value: Mapping, path: str) -> tuple[str, str] | None:
    properties = shape.get("properties") or {}
    aliases = shape.get("x-aliases") or {}
    given = {(key if key in properties else aliases.get(key, key)): (key, item) for key, item in value.items()}
    for name in shape.get("required") or ():
        if name not in given:
            return _join(path, name), f"missing (expected {describe(properties.get(name, {}))})"
    extra = shape.get("additionalProperties", True)
    for name, (key, item) in given.items():
        where = _join(path, key)
        if item is None and shape.get("x-null-absent"):
            continue
        if name in properties:
            found = mismatch(properties[name], item, where)
        elif extra is False:
            noun = "parameter" if "x-positional" in shape else "field"
            return where, f"no such {noun} (the {noun}s: {', '.join(properties) or 'none'})"
        else:
            found = mismatch(extra, item, where) if isinstance(extra, Mapping) else None
        if found:
            return found
    return None


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def shown(value: Any, limit: int = 40) -> str:
    """A value as an error line quotes it: its repr, cut, and its Python type."""
    text = repr(value)
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    return text if value is None else f"{text} ({type(value).__name__})"


# -- describing a shape ----------------------------------------------------------------------------------
def describe(shape: Mapping[str, Any] | None, nested: bool = False) -> str:
    """A shape in a few words: ``string``, ``array of integer``, ``{name: string, spaces?: integer}``, ``any``.

    A nested object is named by its ``title`` when it has one (a proto message), else shown with its fields.
    """
    if shape is None:
        return "unknown"
    if "anyOf" in shape:
        text = "|".join(describe(branch, True) for branch in shape["anyOf"])
    elif "enum" in shape and nested and shape.get("title"):
        text = shape["title"]
    elif "enum" in shape:
        text = "|".join(json.dumps(option, default=repr) for option in shape["enum"])
    else:
        text = _describe_type(shape, nested)
    return f"{text}|null" if shape.get("nullable") else text


def _describe_type(shape: Mapping[str, Any], nested: bool) -> str:
    kind, title = shape.get("type"), shape.get("title")
    if kind == "array" or (kind is None and "items" in shape):
        items = shape.get("items")
        return f"array of {describe(items, True)}" if items else "array"
    if kind == "object" or (kind is None and "properties" in shape):
        properties = shape.get("properties") or {}
        if title and nested:
            return title
        if properties or shape.get("additionalProperties") is False:
            required = set(shape.get("required") or ())
            fields = ", ".join(f"{name}{'' if name in required else '?'}: {describe(field, True)}"
                               for name, field in properties.items())
            return f"{title} {{{fields}}}" if title else f"{{{fields}}}"
        extra = shape.get("additionalProperties")
        return f"object of {describe(extra, True)}" if isinstance(extra, Mapping) and extra else title or "object"
    return kind or title or "any"


def _parameters(shape: Mapping[str, Any]) -> str:
    """A function's parameters, Python-like: ``x: integer, y?: string, *args, z?: boolean, **kwargs``."""
    properties = shape.get("properties") or {}
    required = set(shape.get("required") or ())
    positional = list(shape.get("x-positional") or ())
    named = [name for name in properties if name not in positional]

    def one(name: str) -> str:
        return f"{name}{'' if name in required else '?'}: {describe(properties.get(name, {}), True)}"

    parts = [one(name) for name in positional]
    if shape.get("x-varargs"):
        parts.append("*args")
    elif named:
        parts.append("*")
    parts += [one(name) for name in named]
    if shape.get("additionalProperties", True) is not False:
        parts.append("**kwargs")
    return ", ".join(parts)


# -- shapes from Python annotations ----------------------------------------------------------------------
def from_annotation(annotation: Any) -> Shape:
    """The shape of the JSON a type annotation describes; ``{}`` (anything) for what JSON cannot tell apart."""
    try:
        return _shape(annotation, ())
    except Exception:  # an annotation of the user's that typing cannot take apart: it constrains nothing
        return {}


def _shape(annotation: Any, within: tuple[Any, ...]) -> Shape:
    """``within``: the TypedDicts being spelled out around this one, so that one that contains itself ends."""
    if annotation is None or annotation is type(None):
        return {"enum": [None]}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is not None and origin in (typing.Annotated, _REQUIRED, _NOT_REQUIRED):
        return _shape(args[0], within)
    if origin in (typing.Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        shape = _shape(rest[0], within) if len(rest) == 1 else {"anyOf": [_shape(arg, within) for arg in rest]}
        if not shape or any(not branch for branch in shape.get("anyOf", ())):
            return {}
        return {**shape, "nullable": True} if len(rest) < len(args) else shape
    if origin is typing.Literal:  # only values JSON has (an Enum member's is not what travels)
        return {"enum": list(args)} if all(arg is None or type(arg) in (str, int, float, bool) for arg in args) else {}
    if isinstance(annotation, type) and annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    if typing.is_typeddict(annotation):
        if annotation in within:
            return {"type": "object", "title": annotation.__name__}
        fields = hints(annotation, extras=True)
        required = [name for name, hint in fields.items() if _required(annotation, name, hint)]
        return {"type": "object", "title": annotation.__name__,
                "properties": {name: _shape(hint, (*within, annotation)) for name, hint in fields.items()},
                **({"required": required} if required else {})}
    if (origin or annotation) in _ARRAYS:
        element = args[0] if args and (origin is not tuple or len(args) == 2 and args[1] is Ellipsis) else None
        items = _shape(element, within) if element is not None else {}
        return {"type": "array", **({"items": items} if items else {})}
    if (origin or annotation) in _OBJECTS:
        values = _shape(args[1], within) if len(args) == 2 else {}
        return {"type": "object", **({"additionalProperties": values} if values else {})}
    return {}


def _required(typed_dict: Any, name: str, hint: Any) -> bool:
    """Whether a TypedDict key is required: its own ``Required``/``NotRequired`` first (the class's key sets miss
    them when its annotations are strings), else the class's say."""
    origin = typing.get_origin(hint)
    if origin is not None and origin in (_REQUIRED, _NOT_REQUIRED):
        return origin is _REQUIRED
    return name in getattr(typed_dict, "__required_keys__", (name,))


def hints(target: Any, extras: bool = False) -> dict[str, Any]:
    """Resolved type hints of a function or TypedDict (with ``Required``/``Annotated`` if ``extras``); a hint
    that cannot be resolved (a name the notebook defines later) is left out, so it constrains nothing."""
    try:
        return typing.get_type_hints(target, include_extras=extras)
    except Exception:  # any error in a user's annotation: the signature is informational, never fatal
        raw = getattr(target, "__annotations__", {})
        return {name: hint for name, hint in raw.items() if not isinstance(hint, str)}


def returns(function: Callable) -> Shape:
    """The shape of what a function returns, from its annotation (``{}`` without one)."""
    hint = hints(function).get("return", inspect.Parameter.empty)
    return {} if hint is inspect.Parameter.empty else from_annotation(hint)


# -- signatures --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    """One way in: its input's shape and, when known, its output's."""

    input: Shape
    output: Shape | None = None

    def summary(self, name: str) -> str:
        """``greet({name: string}) -> string``, or a function's parameters: ``triple(x: integer) -> integer``."""
        inside = _parameters(self.input) if "x-positional" in self.input else describe(self.input)
        return f"{name}({inside})" + ("" if self.output is None else f" -> {describe(self.output)}")


@dataclass(frozen=True)
class Signature:
    """A payload's operations (one, or a CloudState service's several) and the platform artefact they come from."""

    operations: Mapping[str, Operation]
    source: str

    def validate(self, value: Any, operation: str | None = None, *, subject: str | None = None,
                 root: str = "input") -> None:
        """Raise :class:`InputMismatch` naming the first field that does not fit (``root`` names the value)."""
        name = operation if operation is not None else next(iter(self.operations))
        subject = subject or name
        if name not in self.operations:
            raise InputMismatch(subject, name, f"no such operation (it has: {', '.join(self.operations)})")
        found = mismatch(self.operations[name].input, value, root)
        if found:
            raise InputMismatch(subject, *found)

    def lines(self) -> list[str]:
        return [operation.summary(name) for name, operation in self.operations.items()]

    def as_json(self) -> dict[str, Any]:
        """What the journal keeps and the panel shows: each operation's shapes and its one-line summary."""
        return {"source": self.source,
                "operations": {name: {"input": op.input, "output": op.output, "summary": op.summary(name)}
                               for name, op in self.operations.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Signature:
        return cls({name: Operation(op.get("input") or {}, op.get("output"))
                    for name, op in (data.get("operations") or {}).items()}, str(data.get("source", "")))


def one(name: str, input: Shape, output: Shape | None, source: str) -> Signature:
    """The signature of a payload with one operation."""
    return Signature({name: Operation(input, output)}, source)


# -- what call helpers check against -----------------------------------------------------------------------
def registered(journal: Journal, platform: str, name: str) -> Signature | None:
    """The signature of the payload's active version, as the journal holds it (whichever kernel of the folder
    registered it); None when none is active or its platform declares none."""
    row = journal.payload(platform, name)
    if row is None or not row.active or not row.signature:
        return None
    return Signature.from_json(row.signature)


def check(journal: Journal, platform: str, name: str, value: Any, operation: str | None = None,
          root: str = "input") -> None:
    """Refuse, before anything is sent, an input that does not fit the registered payload's signature."""
    signature = registered(journal, platform, name)
    if signature is not None:
        signature.validate(value, operation, subject=f"{platform} {name}", root=root)


__all__ = ["InputMismatch", "Operation", "Shape", "Signature", "check", "describe", "from_annotation", "mismatch",
           "one", "registered", "returns"]
