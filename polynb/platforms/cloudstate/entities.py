"""How a notebook cell defines a CloudState entity: decorators, and the definition read from the cell.

An entity is a class whose decorated methods handle commands, events and snapshots (``self`` is the
entity's state, one instance per entity id), or top-level decorated functions taking the state as
their first argument (the state comes from an ``@initial`` function; a handler that returns a value
replaces it). CRDT entities name their CRDT with a ``crdt`` class attribute or an ``@initial`` function.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

_TAG = "__cloudstate__"


def _tag(function: Callable, role: str, key: Any = None) -> Callable:
    tags = getattr(function, _TAG, [])
    setattr(function, _TAG, tags + [(role, key)])
    return function


def command(name: str | Callable | None = None) -> Callable:
    """Handle the gRPC method ``name`` (default: the function's name, ``add_item`` also matching ``AddItem``)."""
    if callable(name):
        return _tag(name, "command", None)
    return lambda function: _tag(function, "command", name)


def event(message_type: Any = None) -> Callable:
    """Apply events of ``message_type`` (a message class or its full name); bare ``@event`` takes the rest."""
    if inspect.isfunction(message_type):
        return _tag(message_type, "event", None)
    return lambda function: _tag(function, "event", _type_key(message_type))


def snapshot(function: Callable) -> Callable:
    """Return the state to store as a snapshot (a message)."""
    return _tag(function, "snapshot")


def snapshot_handler(function: Callable) -> Callable:
    """Restore the state from a stored snapshot."""
    return _tag(function, "snapshot_handler")


def initial(function: Callable) -> Callable:
    """The state of a new entity: called with the entity id (functions form and CRDT entities)."""
    return _tag(function, "initial")


def _type_key(message_type: Any) -> str | None:
    if message_type is None:
        return None
    if isinstance(message_type, str):
        return message_type
    descriptor = getattr(message_type, "DESCRIPTOR", None)
    if descriptor is None:
        raise TypeError(f"@event takes a message class or a full type name, not {message_type!r}")
    return descriptor.full_name


def snake_to_camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@dataclass
class Definition:
    """The handlers a cell defines, found by their decorators."""

    commands: dict[str, Callable] = field(default_factory=dict)
    events: dict[str | None, Callable] = field(default_factory=dict)
    snapshot: Callable | None = None
    snapshot_handler: Callable | None = None
    initial: Callable | None = None
    state_class: type | None = None

    def new_state(self, entity_id: str) -> Any:
        if self.initial is not None:
            return self.initial(entity_id)
        if self.state_class is not None:
            return self.state_class(entity_id) if accepts(self.state_class, 1) else self.state_class()
        return SimpleNamespace(entity_id=entity_id)

    @property
    def replaces_state(self) -> bool:
        """Functions-form handlers return the new state; class-form handlers change ``self``."""
        return self.state_class is None

    def command_handler(self, name: str) -> Callable | None:
        return self.commands.get(name)

    def event_handler(self, type_name: str) -> Callable | None:
        return self.events.get(type_name, self.events.get(None))

    def crdt_factory(self) -> Any:
        return getattr(self.state_class, "crdt", None) if self.state_class is not None else None


def definition_of(exports: Mapping[str, Any]) -> Definition:
    """Read the entity a cell defines: one decorated class, or decorated top-level functions."""
    classes = [obj for obj in exports.values() if inspect.isclass(obj) and _tagged(vars(obj).values())]
    if len(classes) > 1:
        raise ValueError(f"the cell defines {len(classes)} entity classes ({', '.join(c.__name__ for c in classes)}); "
                         "put one entity per %%cloudstate_entity cell")
    if classes:
        definition = _collect(vars(classes[0]).values())
        definition.state_class = classes[0]
    else:
        definition = _collect(exports.values())
    if not definition.commands:
        raise ValueError("the cell defines no command handler: decorate one with @command")
    return definition


def _tagged(members) -> bool:
    return any(hasattr(_function(m), _TAG) for m in members)


def _function(member: Any) -> Any:
    return member.__func__ if isinstance(member, (staticmethod, classmethod)) else member


def _collect(members) -> Definition:
    definition = Definition()
    for member in members:
        function = _function(member)
        for role, key in getattr(function, _TAG, []):
            if role == "command":
                definition.commands[key or snake_to_camel(function.__name__)] = function
                definition.commands.setdefault(function.__name__, function)
            elif role == "event":
                definition.events[key] = function
            else:
                setattr(definition, role, function)
    return definition


@functools.lru_cache(maxsize=1024)
def accepts(function: Callable, count: int) -> bool:
    """Whether ``function`` takes ``count`` positional arguments (beyond ``self`` for classes); asked per command,
    so remembered per handler (a signature costs more than a trivial handler)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return any(p.kind == p.VAR_POSITIONAL for p in parameters) or len(positional) >= count


def call_handler(function: Callable, *args: Any) -> Any:
    """Call a handler with as many of (state, value, context) as it declares, context last."""
    from ...runner import call_payload

    if not accepts(function, len(args)):
        args = args[:-1]
    return call_payload(function, *args)

