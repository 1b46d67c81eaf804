"""The CRDT kinds alone: net deltas since the last reset, and replication that is not a local change."""
from __future__ import annotations

import pytest

from polynb.platforms.cloudstate import crdts, wire
from polynb.platforms.cloudstate.protos.gen.cloudstate import crdt_pb2


def test_gcounter_only_grows():
    with pytest.raises(ValueError, match="only grows"):
        crdts.GCounter().increment(-1)


def test_orset_add_then_remove_in_one_command_is_no_change():
    orset = crdts.ORSet()
    orset.reset()
    orset.add("x")
    orset.remove("x")
    assert orset.delta() is None


def test_orset_delta_lists_removed_and_added_sorted():
    orset = crdts.ORSet()
    for value in "cab":
        orset.add(value)
    orset.reset()
    orset.remove("b")
    orset.add("z")
    orset.add("d")
    delta = orset.delta().orset
    assert [wire.unpack(a, None) for a in delta.added] == ["d", "z"]
    assert [wire.unpack(a, None) for a in delta.removed] == ["b"]


def test_replicated_delta_is_applied_without_becoming_a_local_change():
    counter = crdts.PNCounter()
    counter.apply(crdt_pb2.CrdtDelta(pncounter=crdt_pb2.PNCounterDelta(change=-5)))
    counter.reset()
    assert counter.value == -5 and counter.delta() is None


def test_a_delta_of_another_kind_is_refused():
    with pytest.raises(wire.WireError, match="a gcounter delta cannot change a flag"):
        crdts.Flag().apply(crdt_pb2.CrdtDelta(gcounter=crdt_pb2.GCounterDelta(increment=1)))


def test_lwwregister_same_value_with_default_clock_is_no_change():
    register = crdts.from_delta(crdt_pb2.CrdtDelta(lwwregister=crdt_pb2.LWWRegisterDelta(value=wire.pack("a"))))
    register.set("a")
    assert register.delta() is None
    register.set("a", "custom", 7)
    assert register.delta().lwwregister.custom_clock_value == 7


def test_ormap_creates_replicated_entries_of_the_delta_kind():
    ormap = crdts.ORMap()
    entry = crdt_pb2.ORMapEntryDelta(key=wire.pack("votes"), delta=crdt_pb2.CrdtDelta(
        vote=crdt_pb2.VoteDelta(votes_for=2, total_voters=3)))
    ormap.apply(crdt_pb2.CrdtDelta(ormap=crdt_pb2.ORMapDelta(added=[entry])))
    assert isinstance(ormap["votes"], crdts.Vote) and ormap["votes"].votes_for == 2


def test_unknown_crdt_kind_is_a_wire_error():
    with pytest.raises(wire.WireError, match="unknown CRDT kind None"):
        crdts.from_delta(crdt_pb2.CrdtDelta())
