"""The cell's handlers, found by the real SDK's names, and the task/exit lifecycle of one message (fact sheet 4, 7).

``handler(sdk, payload)`` is the default; ``handler_<node>(sdk, payload)`` takes messages from ``<node>`` (dashes
in node names become underscores), as do functions named with ``--from-node NODE=FUNCTION``; ``preprocessor``,
``postprocessor``, ``initializer(sdk)``, ``finalizer(sdk)`` and a trigger's ``runner(trigger, sdk)`` are optional.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ...payload import PayloadVersion
from ...runner import call_payload
from . import wire

LIFECYCLE = ("initializer", "preprocessor", "handler", "postprocessor", "finalizer", "runner")


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
    return _function(version, f"handler_{key.replace('-', '_')}") or _function(version, "handler")


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
    """Why a cell cannot be this kind of node: task and exit nodes need the default handler, as with the SDK."""
    if runner != "trigger" and _function(version, "handler") is None:
        return "a task or exit node needs a default handler(sdk, payload) function (the SDK's with_handler)"
    return None
