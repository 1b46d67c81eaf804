"""The eight CloudState CRDT kinds as plain Python objects that know their own deltas.

A CRDT is changed locally by its entity's handlers and remotely by the proxy's replicated deltas.
``delta()`` is the net local change since the last ``reset()`` (what a reply's state action carries);
``apply()`` takes a replicated delta silently. Values of sets, registers and map keys are any value
``wire.pack`` accepts (strings become ``p.cloudstate.io/string``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, cast

from google.protobuf import any_pb2

from . import wire
from .protos.gen.cloudstate import crdt_pb2

CLOCKS = {"default": crdt_pb2.DEFAULT, "reverse": crdt_pb2.REVERSE, "custom": crdt_pb2.CUSTOM,
          "custom_auto_increment": crdt_pb2.CUSTOM_AUTO_INCREMENT}


def _primitive_class(name: str):
    raise wire.WireError(f"CRDT values must be primitives or JSON here; got message type {name!r}")


class _Values:
    """Values kept by their wire form, so messages and scalars alike can be set members and map keys."""

    def __init__(self, message_class: Callable[[str], type] = _primitive_class) -> None:
        self.items: dict[tuple[str, bytes], Any] = {}
        self.message_class = message_class

    @staticmethod
    def key(value: Any) -> tuple[str, bytes]:
        packed = wire.pack(value)
        return packed.type_url, packed.value

    def decode(self, packed) -> tuple[tuple[str, bytes], Any]:
        return (packed.type_url, packed.value), wire.unpack(packed, self.message_class)


def _sorted_anys(values) -> list:
    return [wire.pack(v) for v in sorted(values, key=str)]


class Crdt:
    """What every kind shares: a delta since the last reset, and replication."""

    kind: str = ""

    def delta(self) -> crdt_pb2.CrdtDelta | None:
        change = self._change()
        return None if change is None else crdt_pb2.CrdtDelta(**{self.kind: change})

    def empty_delta(self) -> crdt_pb2.CrdtDelta:
        """What a new map entry with no change yet says about itself (``pncounter{}``)."""
        return crdt_pb2.CrdtDelta(**{self.kind: _DELTAS[self.kind]()})

    def apply(self, delta: crdt_pb2.CrdtDelta) -> None:
        which = delta.WhichOneof("delta")
        if which != self.kind:
            raise wire.WireError(f"a {which or 'empty'} delta cannot change a {self.kind}")
        self._apply(getattr(delta, which))

    def _change(self):
        raise NotImplementedError

    def _apply(self, change) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the local change: it has been sent."""
        raise NotImplementedError


class _Counter(Crdt):
    """A number and the local change to it since the last delta: what both counters are, their deltas but
    naming the change differently (``increment``, ``change``)."""

    change_message: ClassVar[Callable[..., Any]]
    change_field: ClassVar[str]

    def __init__(self) -> None:
        self.value = 0
        self._pending = 0

    def _add(self, by: int) -> int:
        self.value += by
        self._pending += by
        return self.value

    def _change(self):
        return self.change_message(**{self.change_field: self._pending}) if self._pending else None

    def _apply(self, change) -> None:
        self.value += getattr(change, self.change_field)

    def reset(self) -> None:
        self._pending = 0


class GCounter(_Counter):
    kind = "gcounter"
    change_message, change_field = crdt_pb2.GCounterDelta, "increment"

    def increment(self, by: int = 1) -> int:
        if by < 0:
            raise ValueError("a GCounter only grows; use a PNCounter to decrement")
        return self._add(by)


class PNCounter(_Counter):
    kind = "pncounter"
    change_message, change_field = crdt_pb2.PNCounterDelta, "change"

    def increment(self, by: int = 1) -> int:
        return self._add(by)

    def decrement(self, by: int = 1) -> int:
        return self._add(-by)


class _Set(Crdt):
    """What both sets answer alike: membership, iteration and size over their values."""

    _values: _Values

    def __contains__(self, value: Any) -> bool:
        return _Values.key(value) in self._values.items

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._values.items.values()))

    def __len__(self) -> int:
        return len(self._values.items)


class GSet(_Set):
    kind = "gset"

    def __init__(self, message_class: Callable[[str], type] = _primitive_class) -> None:
        self._values = _Values(message_class)
        self._added: dict[tuple[str, bytes], Any] = {}

    def add(self, value: Any) -> None:
        key = _Values.key(value)
        if key not in self._values.items:
            self._values.items[key] = value
            self._added[key] = value

    def _change(self):
        return crdt_pb2.GSetDelta(added=_sorted_anys(self._added.values())) if self._added else None

    def _apply(self, change) -> None:
        for packed in change.added:
            key, value = self._values.decode(packed)
            self._values.items[key] = value

    def reset(self) -> None:
        self._added = {}


class ORSet(_Set):
    kind = "orset"

    def __init__(self, message_class: Callable[[str], type] = _primitive_class) -> None:
        self._values = _Values(message_class)
        self._before: dict[tuple[str, bytes], Any] = {}
        self._cleared = False

    def add(self, value: Any) -> None:
        self._values.items.setdefault(_Values.key(value), value)

    def remove(self, value: Any) -> None:
        self._values.items.pop(_Values.key(value), None)

    def clear(self) -> None:
        self._values.items.clear()
        self._cleared = True

    def _change(self):
        now = self._values.items
        if self._cleared:
            return crdt_pb2.ORSetDelta(cleared=True, added=_sorted_anys(now.values()))
        removed = [v for k, v in self._before.items() if k not in now]
        added = [v for k, v in now.items() if k not in self._before]
        if not removed and not added:
            return None
        return crdt_pb2.ORSetDelta(removed=_sorted_anys(removed), added=_sorted_anys(added))

    def _apply(self, change) -> None:
        if change.cleared:
            self._values.items.clear()
        for packed in change.removed:
            self._values.items.pop(self._values.decode(packed)[0], None)
        for packed in change.added:
            key, value = self._values.decode(packed)
            self._values.items[key] = value

    def reset(self) -> None:
        self._before = dict(self._values.items)
        self._cleared = False


class LWWRegister(Crdt):
    """Last-writer-wins value; creating one locally is itself a change (the proxy learns it exists)."""

    kind = "lwwregister"

    def __init__(self, value: Any = "", message_class: Callable[[str], type] = _primitive_class) -> None:
        self.value = value
        self.message_class = message_class
        self._clock, self._custom = crdt_pb2.DEFAULT, 0
        self._changed = True

    def set(self, value: Any, clock: str | int = "default", custom_clock_value: int = 0) -> None:
        # a number as it is: proto3 keeps enum numbers it does not know
        clock_kind = CLOCKS[clock.lower()] if isinstance(clock, str) else cast(crdt_pb2.CrdtClock, int(clock))
        if value == self.value and clock_kind == crdt_pb2.DEFAULT and not self._changed:
            return
        self.value, self._clock, self._custom = value, clock_kind, custom_clock_value
        self._changed = True

    def _change(self):
        if not self._changed:
            return None
        return crdt_pb2.LWWRegisterDelta(value=wire.pack(self.value), clock=self._clock,
                                         custom_clock_value=self._custom)

    def _apply(self, change) -> None:
        self.value = wire.unpack(change.value, self.message_class)

    def reset(self) -> None:
        self._changed = False
        self._clock, self._custom = crdt_pb2.DEFAULT, 0


class Flag(Crdt):
    kind = "flag"

    def __init__(self) -> None:
        self.value = False
        self._changed = False

    def enable(self) -> None:
        if not self.value:
            self.value = self._changed = True

    def _change(self):
        return crdt_pb2.FlagDelta(value=True) if self._changed else None

    def _apply(self, change) -> None:
        self.value = self.value or change.value

    def reset(self) -> None:
        self._changed = False


class Vote(Crdt):
    """This node's vote; the proxy tells how many nodes vote and how many vote for."""

    kind = "vote"

    def __init__(self) -> None:
        self.self_vote, self.votes_for, self.total_voters = False, 0, 1
        self._changed = False

    def vote(self, value: bool) -> None:
        if value != self.self_vote:
            self.self_vote = value
            self.votes_for += 1 if value else -1
            self._changed = True

    def _change(self):
        return crdt_pb2.VoteDelta(self_vote=self.self_vote) if self._changed else None

    def _apply(self, change) -> None:
        self.self_vote, self.votes_for, self.total_voters = change.self_vote, change.votes_for, change.total_voters

    def reset(self) -> None:
        self._changed = False


class ORMap(Crdt):
    """A map of CRDTs; replicated entries are created with the kind their delta names."""

    kind = "ormap"

    def __init__(self, message_class: Callable[[str], type] = _primitive_class) -> None:
        self._values = _Values(message_class)  # key → the key's value
        self._entries: dict[tuple[str, bytes], Crdt] = {}
        self._before: set[tuple[str, bytes]] = set()
        self._cleared = False

    def get_or_create(self, key: Any, factory: Callable[[], Crdt]) -> Crdt:
        packed = _Values.key(key)
        if packed not in self._entries:
            self._values.items[packed] = key
            self._entries[packed] = factory()
        return self._entries[packed]

    def __getitem__(self, key: Any) -> Crdt:
        return self._entries[_Values.key(key)]

    def __contains__(self, key: Any) -> bool:
        return _Values.key(key) in self._entries

    def __delitem__(self, key: Any) -> None:
        packed = _Values.key(key)
        self._entries.pop(packed, None)
        self._values.items.pop(packed, None)

    def remove(self, key: Any) -> None:
        del self[key]

    def clear(self) -> None:
        self._entries.clear()
        self._values.items.clear()
        self._cleared = True

    def items(self) -> list[tuple[Any, Crdt]]:
        return [(self._values.items[k], crdt) for k, crdt in self._entries.items()]

    def keys(self) -> list[Any]:
        return [self._values.items[k] for k in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def _entry_delta(self, key, full: bool) -> crdt_pb2.ORMapEntryDelta | None:
        crdt = self._entries[key]
        delta = crdt.delta()
        if delta is None and not full:
            return None
        return crdt_pb2.ORMapEntryDelta(key=wire.pack(self._values.items[key]), delta=delta or crdt.empty_delta())

    def _change(self):
        ordered = sorted(self._entries, key=lambda k: str(self._values.items[k]))
        if self._cleared:
            return crdt_pb2.ORMapDelta(cleared=True, added=[self._entry_delta(k, True) for k in ordered])
        removed = [k for k in self._before if k not in self._entries]
        added = [self._entry_delta(k, True) for k in ordered if k not in self._before]
        updated = [d for d in (self._entry_delta(k, False) for k in ordered if k in self._before) if d is not None]
        if not (removed or added or updated):
            return None
        removed_anys = [wire.pack(v) for v in sorted((self._removed_value(k) for k in removed), key=str)]
        return crdt_pb2.ORMapDelta(removed=removed_anys, updated=updated, added=added)

    def _removed_value(self, key: tuple[str, bytes]) -> Any:
        return wire.unpack(any_pb2.Any(type_url=key[0], value=key[1]), self._values.message_class)

    def _apply(self, change) -> None:
        if change.cleared:
            self._entries.clear()
            self._values.items.clear()
        for packed in change.removed:
            self._entries.pop(self._values.decode(packed)[0], None)
            self._values.items.pop(self._values.decode(packed)[0], None)
        for entry in list(change.updated) + list(change.added):
            key, value = self._values.decode(entry.key)
            if key not in self._entries:
                self._values.items[key] = value
                self._entries[key] = new_crdt(entry.delta.WhichOneof("delta"), self._values.message_class)
            self._entries[key].apply(entry.delta)

    def reset(self) -> None:
        for crdt in self._entries.values():
            crdt.reset()
        self._before = set(self._entries)
        self._cleared = False


_DELTAS = {"gcounter": crdt_pb2.GCounterDelta, "pncounter": crdt_pb2.PNCounterDelta, "gset": crdt_pb2.GSetDelta,
           "orset": crdt_pb2.ORSetDelta, "lwwregister": crdt_pb2.LWWRegisterDelta, "flag": crdt_pb2.FlagDelta,
           "ormap": crdt_pb2.ORMapDelta, "vote": crdt_pb2.VoteDelta}

KINDS: dict[str, type[Crdt]] = {cls.kind: cls for cls in (GCounter, PNCounter, GSet, ORSet, LWWRegister, Flag,
                                                          ORMap, Vote)}


def new_crdt(kind: str | None, message_class: Callable[[str], type] = _primitive_class) -> Crdt:
    """An empty CRDT of the kind a delta names (what replication creates)."""
    if kind not in KINDS:
        raise wire.WireError(f"unknown CRDT kind {kind!r}")
    cls = KINDS[kind]
    if cls in (GSet, ORSet, ORMap):
        return cls(message_class)
    if cls is LWWRegister:
        return LWWRegister("", message_class)
    return cls()


def from_delta(delta: crdt_pb2.CrdtDelta, message_class: Callable[[str], type] = _primitive_class) -> Crdt:
    """The state an init delta describes, with no pending local change."""
    crdt = new_crdt(delta.WhichOneof("delta"), message_class)
    crdt.apply(delta)
    crdt.reset()
    return crdt
