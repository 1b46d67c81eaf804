"""A Colonies function's signature: its parameters, from the cell's function, and a spec's args checked against it.

A function spec carries ``args`` (a list) and ``kwargs`` (an object), which the executor passes to the function
as Python would. The shape keeps the parameters in order, which of them may come by position
(``x-positional``) and whether more may (``x-varargs``); :func:`check_spec` binds a spec's args to those names
and checks the result, before anything is submitted.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...signature import InputMismatch, Shape, Signature, from_annotation, hints, mismatch, one, registered, returns
from . import wire

if TYPE_CHECKING:
    from ...journal import Journal

PLATFORM = "colonies"
_BY_POSITION = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def parameters(function: Callable) -> Shape:
    """The shape of a function's parameters: each one's annotation, required unless it has a default."""
    annotations = hints(function)
    properties: dict[str, Shape] = {}
    required, positional, varargs, more = [], [], False, False
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            varargs = True
            continue
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            more = annotations.get(parameter.name, True)
            continue
        hint = annotations.get(parameter.name, inspect.Parameter.empty)
        properties[parameter.name] = {} if hint is inspect.Parameter.empty else from_annotation(hint)
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
        if parameter.kind in _BY_POSITION:
            positional.append(parameter.name)
    extra = more if isinstance(more, bool) else from_annotation(more) or True
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": extra,
            "x-positional": positional, "x-varargs": varargs}


def of_function(name: str, function: Callable) -> Signature | None:
    """The signature of the function a ``%%colonies_func`` cell serves; None when Python cannot read it."""
    try:
        shape = parameters(function)
    except (TypeError, ValueError):  # a builtin or a callable object without a readable signature
        return None
    return one(name, shape, returns(function), f"the parameters of {getattr(function, '__name__', name)}()")


def named(shape: Mapping[str, Any], args: Sequence[Any], kwargs: Mapping[str, Any], subject: str) -> dict:
    """A spec's args and kwargs as the function would bind them: {parameter: value}."""
    positional = list(shape.get("x-positional") or ())
    if len(args) > len(positional) and not shape.get("x-varargs"):
        raise InputMismatch(subject, "args", f"{len(args)} given, but it takes at most {len(positional)} by "
                                             f"position ({', '.join(positional) or 'none'})")
    bound = dict(zip(positional, args, strict=False))  # with *args, the rest go unnamed
    for key, value in kwargs.items():
        if key in bound:
            raise InputMismatch(subject, f"kwargs.{key}", "given by position already (args)")
        bound[key] = value
    return bound


def check_spec(journal: Journal, funcname: str, args: Sequence[Any] | None, kwargs: Mapping[str, Any] | None) -> None:
    """Refuse a spec whose args or kwargs the registered function would not take, naming the parameter.

    What is checked is what the function will get: the args as the spec carries them (see
    :func:`wire.encode_arguments`), so a value that travels as text is refused where the function wants a number.
    """
    signature = registered(journal, PLATFORM, funcname)
    if signature is None or funcname not in signature.operations:
        return
    subject = f"{PLATFORM} {funcname}"
    shape = signature.operations[funcname].input
    given = named(shape, list(args or ()), dict(kwargs or {}), subject)
    sent = named(shape, *wire.encode_arguments(list(args or ()), dict(kwargs or {})), subject)
    found = mismatch(shape, sent, "")
    if found:
        path, problem = found
        name = path.split(".")[0].split("[")[0]
        if name in given and given[name] != sent[name]:
            problem += (f" ({given[name]!r} travels as text: a spec carries args as str or int and kwargs values "
                        "as str or list of str)")
        raise InputMismatch(subject, path, problem)
