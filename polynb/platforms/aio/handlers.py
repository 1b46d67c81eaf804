"""The cell's handlers, found by the real SDK's names, and the task/exit lifecycle of one message (fact sheet 4, 7).

``handler(sdk, payload)`` is the default (else the cell's entry point); ``handler_<node>(sdk, payload)`` takes messages from ``<node>`` (dashes
in node names become underscores), as do functions named with ``--from-node NODE=FUNCTION``; ``preprocessor``,
``postprocessor``, ``initializer(sdk)``, ``finalizer(sdk)`` and a trigger's ``runner(trigger, sdk)`` are optional.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ...payload import PayloadVersion
from ...runner import call_payload
from . import wire

LIFECYCLE = ("initializer", "preprocessor", "postprocessor", "finalizer", "runner")


class HandlerFailure(Exception):
    """A lifecycle stage failed; the message is the SDK's error text for it."""


def _function(version: PayloadVersion, name: str) -> Callable | None:
    found = version.lookup(name)
    return found if callable(found) else None


def route(version: PayloadVersion, from_node: str) -> Callable | None:
    """The handler for messages from ``from_node`` (case-insensitive, as the SDK), else the default one."""
    key = from_node.lower()
    named: Mapping[str, str] = version.payload.options.get("from_node") or {}
    for node, function in named.items():
        if node.lower() == key and _function(version, function):
            return _function(version, function)
    return _function(version, f"handler_{key.replace('-', '_')}") or default_handler(version)


def default_handler(version: PayloadVersion) -> Callable | None:
    """``handler``, else the cell's entry point (named with ``--entry``, or its only function) unless that has a
    role of its own (a lifecycle function or a ``handler_<node>``)."""
    entry = version.payload.entry or _only_function(version)
    if entry is None or entry in LIFECYCLE or entry.startswith("handler_"):
        return _function(version, "handler")
    return _function(version, "handler") or _function(version, entry)


def _only_function(version: PayloadVersion) -> str | None:
    functions = [name for name, value in version.exports.items() if inspect.isfunction(value)]
    return functions[0] if len(functions) == 1 else None


def lifecycle_function(version: PayloadVersion, name: str) -> Callable | None:
    return _function(version, name)


def handle(version: PayloadVersion, message: wire.KaiNatsMessage, process: str, sdk: Any) -> None:
    """Preprocessor, handler, postprocessor for one message; a failure raises with the SDK's text."""
    handler = route(version, message.from_node)
    if handler is None:
        raise HandlerFailure(wire.no_handler_text(message.from_node))
    stages = (("preprocessor", _function(version, "preprocessor")), ("handler", handler),
              ("postprocessor", _function(version, "postprocessor")))
    for stage, function in stages:
        if function is None:
            continue
        try:
            call_payload(function, sdk, message.payload)
        except Exception as exc:
            raise HandlerFailure(wire.handler_error_text(message.from_node, process, str(exc), stage)) from exc


def missing_handler(version: PayloadVersion, runner: str) -> str | None:
    """Why a cell cannot be a task or exit node: it defines no handler at all."""
    if runner == "trigger" or default_handler(version) is not None:
        return None
    if any(name.startswith("handler_") and callable(value) for name, value in version.exports.items()) \
            or version.payload.options.get("from_node"):
        return None
    return "a task or exit node needs a handler(sdk, payload) function (or handler_<node> functions)"
