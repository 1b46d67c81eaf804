"""The HEAD TCK's CRDT model tests (fact sheet 6.3.7), against the polynb notebook CRDT model entity."""
from __future__ import annotations

import itertools

import pytest
from cloudstate_tck import (
    C1,
    C2,
    DELETE_IN,
    ModelStream,
    c2_effect,
    cancel_in,
    cancelled,
    crdt_cmd,
    crdt_fail,
    crdt_init,
    crdt_reply,
    d_fl,
    d_gc,
    d_gs,
    d_lww,
    d_om,
    d_or,
    d_pn,
    d_vo,
    delete,
    delta_in,
    discover,
    effect,
    enable,
    fail,
    forward,
    gs_add,
    inc,
    lww_set,
    m,
    om_add,
    om_clear,
    om_remove,
    om_update,
    or_add,
    or_clear,
    or_remove,
    pn,
    st_fl,
    st_gc,
    st_gs,
    st_lww,
    st_om,
    st_or,
    st_pn,
    st_vo,
    streamed,
    vote,
)

counter = itertools.count(1)


class Conversation:
    """One model connection: commands numbered from 1, as the TCK numbers them."""

    def __init__(self, channel, entity_id: str) -> None:
        self.stream = ModelStream(channel, "crdt")
        self.id = entity_id
        self.next_id = 1

    def init(self, delta=None) -> Conversation:
        self.stream.send(crdt_init(self.id, delta))
        return self

    def delta(self, *deltas) -> Conversation:
        self.stream.send(*[delta_in(d) for d in deltas])
        return self

    def cmd(self, actions, state=None, *, also=(), **reply) -> Conversation:
        number = self.next_id
        self.next_id += 1
        self.stream.send(crdt_cmd(self.id, number, actions))
        self.stream.expect(crdt_reply(number, state, **reply))
        for extra in also:
            self.stream.expect(extra)
        return self

    def close(self) -> None:
        self.stream.close()


def new(channel, kind: str) -> Conversation:
    return Conversation(channel, f"{kind}-{next(counter)}").init()


def test_discovery_lists_crdt_model_services(channel):
    entities = {e.service_name: e for e in discover(channel).entities}
    assert entities[C1].entity_type == entities[C2].entity_type == "cloudstate.crdt.Crdt"
    configured = entities["cloudstate.tck.model.crdt.CrdtConfigured"]
    assert configured.entity_type == "cloudstate.crdt.Crdt"
    assert configured.passivation_strategy.timeout.timeout == 100


@pytest.mark.parametrize("kind,empty", [("GCounter", st_gc(0)), ("PNCounter", st_pn(0)), ("GSet", st_gs()),
                                        ("ORSet", st_or()), ("Flag", st_fl(False)), ("ORMap", st_om()),
                                        ("Vote", st_vo(False, 0, 1))])
def test_initial_empty_state(channel, kind, empty):
    new(channel, kind).cmd([], empty).close()


def test_lwwregister_initial_empty_state_counts_creation_as_a_change(channel):
    new(channel, "LWWRegister").cmd([], st_lww(""), up=d_lww("")).close()


@pytest.mark.parametrize("kind,change,state", [("GCounter", inc(42), st_gc(42)), ("PNCounter", pn(42), st_pn(42)),
                                               ("GSet", gs_add("x"), st_gs("x")), ("ORSet", or_add("x"), st_or("x")),
                                               ("Flag", enable(), st_fl(True)),
                                               ("Vote", vote(True), st_vo(True, 1, 1))])
def test_delete_action_received_from_entity(channel, kind, change, state):
    conversation = new(channel, kind)
    conversation.stream.send(crdt_cmd(conversation.id, 1, [change]))
    conversation.stream.next()
    conversation.cmd([delete()], state, delete=True).close()


@pytest.mark.parametrize("kind", ["GCounter", "ORSet", "ORMap", "Vote"])
def test_delete_action_sent_to_entity_ends_the_stream_normally(channel, kind):
    conversation = new(channel, kind)
    conversation.stream.send(DELETE_IN)
    conversation.stream.close()


def test_gcounter_lifecycle(channel):
    new(channel, "GCounter").cmd([inc(42)], st_gc(42), up=d_gc(42)).cmd([inc(1), inc(2), inc(3)], st_gc(48),
                                                                         up=d_gc(6)).close()
    Conversation(channel, f"GCounter-{next(counter)}").init(d_gc(42)).cmd([inc(123)], st_gc(165), up=d_gc(123)).close()
    new(channel, "GCounter").delta(d_gc(42)).cmd([inc(123)], st_gc(165), up=d_gc(123)).close()
    (new(channel, "GCounter").cmd([inc(1)], st_gc(1), up=d_gc(1)).delta(d_gc(2), d_gc(3)).cmd([], st_gc(6))
     .cmd([inc(4)], st_gc(10), up=d_gc(4)).delta(d_gc(5)).cmd([inc(6)], st_gc(21), up=d_gc(6)).close())


def test_gcounter_rehydration_after_passivation(channel):
    entity = f"GCounter-{next(counter)}"
    (Conversation(channel, entity).init().cmd([inc(1)], st_gc(1), up=d_gc(1)).delta(d_gc(2)).cmd([], st_gc(3))
     .cmd([inc(3)], st_gc(6), up=d_gc(3)).close())
    (Conversation(channel, entity).init(d_gc(6)).cmd([], st_gc(6)).delta(d_gc(4))
     .cmd([inc(5)], st_gc(15), up=d_gc(5)).close())


def test_pncounter_lifecycle(channel):
    (new(channel, "PNCounter").cmd([pn(1), pn(-2), pn(3)], st_pn(2), up=d_pn(2))
     .cmd([pn(-4), pn(5), pn(-6)], st_pn(-3), up=d_pn(-5)).close())
    Conversation(channel, f"PNCounter-{next(counter)}").init(d_pn(42)).cmd([pn(-123)], st_pn(-81), up=d_pn(-123)).close()
    new(channel, "PNCounter").delta(d_pn(-42)).cmd([pn(123)], st_pn(81), up=d_pn(123)).close()
    (new(channel, "PNCounter").cmd([pn(1)], st_pn(1), up=d_pn(1)).delta(d_pn(-2), d_pn(3)).cmd([], st_pn(2))
     .cmd([pn(-4)], st_pn(-2), up=d_pn(-4)).delta(d_pn(5)).cmd([pn(-6)], st_pn(-3), up=d_pn(-6)).close())


def test_gset_lifecycle(channel):
    (new(channel, "GSet").cmd([gs_add("a"), gs_add("b")], st_gs("a", "b"), up=d_gs("a", "b"))
     .cmd([gs_add("b"), gs_add("c")], st_gs("a", "b", "c"), up=d_gs("c"))
     .cmd([gs_add("c"), gs_add("a")], st_gs("a", "b", "c")).close())
    (Conversation(channel, f"GSet-{next(counter)}").init(d_gs("a", "b", "c"))
     .cmd([gs_add("c"), gs_add("d"), gs_add("e")], st_gs(*"abcde"), up=d_gs("d", "e")).close())
    (new(channel, "GSet").cmd([gs_add("a")], st_gs("a"), up=d_gs("a")).delta(d_gs("a"), d_gs("b"), d_gs("c"))
     .cmd([], st_gs(*"abc")).cmd([gs_add("c"), gs_add("d"), gs_add("e")], st_gs(*"abcde"), up=d_gs("d", "e"))
     .delta(d_gs("f")).cmd([gs_add("g"), gs_add("d"), gs_add("b")], st_gs(*"abcdefg"), up=d_gs("g")).close())


def test_orset_state_changes(channel):
    (new(channel, "ORSet").cmd([or_add("a"), or_add("b")], st_or("a", "b"), up=d_or(add="ab"))
     .cmd([or_add("b"), or_add("c")], st_or(*"abc"), up=d_or(add="c"))
     .cmd([or_add("c"), or_add("a")], st_or(*"abc"))
     .cmd([or_remove("b"), or_remove("d")], st_or("a", "c"), up=d_or(rm="b"))
     .cmd([or_remove("c"), or_remove("d"), or_add("b"), or_add("c")], st_or(*"abc"), up=d_or(add="b"))
     .cmd([or_clear()], st_or(), up=d_or(cl=True))
     .cmd([or_add("a"), or_clear(), or_add("x")], st_or("x"), up=d_or(cl=True, add="x")).close())


def test_orset_mix_of_local_and_replicated_changes(channel):
    (new(channel, "ORSet").cmd([or_add("a")], st_or("a"), up=d_or(add="a"))
     .delta(d_or(add="ab"), d_or(add="cd"), d_or(rm="bd")).cmd([], st_or("a", "c"))
     .cmd([or_add("c"), or_add("d"), or_add("e")], st_or(*"acde"), up=d_or(add="de"))
     .delta(d_or(rm="ac", add="f")).cmd([or_add("g"), or_remove("a"), or_remove("d")], st_or(*"efg"),
                                        up=d_or(rm="d", add="g"))
     .delta(d_or(cl=True, add="xyz")).cmd([or_add("q"), or_add("x"), or_remove("z")], st_or(*"qxy"),
                                          up=d_or(rm="z", add="q"))
     .delta(d_or(rm="xy", add="rp")).cmd([or_add("s")], st_or(*"pqrs"), up=d_or(add="s"))
     .delta(d_or(add="abc")).cmd([or_clear(), or_add("abc")], st_or("abc"), up=d_or(cl=True, add=["abc"])).close())


def test_lwwregister_changes_and_replication(channel):
    (new(channel, "LWWRegister").cmd([lww_set("one")], st_lww("one"), up=d_lww("one"))
     .cmd([lww_set("two")], st_lww("two"), up=d_lww("two")).close())
    Conversation(channel, f"LWWRegister-{next(counter)}").init(d_lww("one")).cmd([], st_lww("one")).close()
    (new(channel, "LWWRegister").cmd([lww_set("A")], st_lww("A"), up=d_lww("A")).delta(d_lww("B"), d_lww("C"))
     .cmd([], st_lww("C")).cmd([lww_set("D")], st_lww("D"), up=d_lww("D")).delta(d_lww("D"))
     .cmd([lww_set("E")], st_lww("E"), up=d_lww("E")).close())


def test_lwwregister_clock_settings(channel):
    conversation = new(channel, "LWWRegister").cmd([lww_set("A", 1)], st_lww("A"), up=d_lww("A", 1))
    for clock, custom in ((2, 123), (3, 456)):  # the TCK sends command id 2 twice
        conversation.stream.send(crdt_cmd(conversation.id, 2, [lww_set("A", clock, custom)]))
        conversation.stream.expect(crdt_reply(2, st_lww("A"), up=d_lww("A", clock, custom)))
    conversation.close()


def test_flag_lifecycle(channel):
    new(channel, "Flag").cmd([enable()], st_fl(True), up=d_fl(True)).close()
    Conversation(channel, f"Flag-{next(counter)}").init(d_fl(True)).cmd([], st_fl(True)).close()
    (new(channel, "Flag").delta(d_fl(True)).cmd([], st_fl(True)).cmd([enable()], st_fl(True))
     .delta(d_fl(True), d_fl(False)).cmd([], st_fl(True)).close())


def test_vote_lifecycle(channel):
    (new(channel, "Vote").cmd([vote(True)], st_vo(True, 1, 1), up=d_vo(True)).cmd([vote(True)], st_vo(True, 1, 1))
     .cmd([vote(False)], st_vo(False, 0, 1), up=d_vo(False)).cmd([vote(False)], st_vo(False, 0, 1)).close())
    (Conversation(channel, f"Vote-{next(counter)}").init(d_vo(True, 2, 3)).cmd([], st_vo(True, 2, 3))
     .cmd([vote(False)], st_vo(False, 1, 3), up=d_vo(False)).close())
    (new(channel, "Vote").delta(d_vo(False, 2, 4)).cmd([], st_vo(False, 2, 4))
     .cmd([vote(True)], st_vo(True, 3, 4), up=d_vo(True)).delta(d_vo(True, 5, 7), d_vo(True, 4, 6))
     .cmd([vote(False)], st_vo(False, 3, 6), up=d_vo(False)).close())


def test_ormap_state_changes(channel):
    c = new(channel, "ORMap")
    c.cmd([om_add("PNCounter-1"), om_add("ORSet-1")], st_om(ORSet_1=st_or(), PNCounter_1=st_pn(0)),
          up=d_om(add=[("ORSet-1", d_or()), ("PNCounter-1", d_pn(0))]))
    c.cmd([om_add("ORSet-1"), om_update("LWWRegister-1", lww_set("zero"))],
          st_om(LWWRegister_1=st_lww("zero"), ORSet_1=st_or(), PNCounter_1=st_pn(0)),
          up=d_om(add=[("LWWRegister-1", d_lww("zero"))]))
    c.cmd([om_update("PNCounter-1", pn(42)), om_update("LWWRegister-1", lww_set("one"))],
          st_om(LWWRegister_1=st_lww("one"), ORSet_1=st_or(), PNCounter_1=st_pn(42)),
          up=d_om(upd=[("LWWRegister-1", d_lww("one")), ("PNCounter-1", d_pn(42))]))
    c.cmd([om_update("ORSet-1", or_add(x)) for x in "abc"],
          st_om(LWWRegister_1=st_lww("one"), ORSet_1=st_or(*"abc"), PNCounter_1=st_pn(42)),
          up=d_om(upd=[("ORSet-1", d_or(add="abc"))]))
    c.cmd([om_update("ORSet-1", or_remove("b")), om_update("ORSet-1", or_add("d")), om_update("PNCounter-1", pn(-123)),
           om_update("LWWRegister-1", lww_set("two"))],
          st_om(LWWRegister_1=st_lww("two"), ORSet_1=st_or(*"acd"), PNCounter_1=st_pn(-81)),
          up=d_om(upd=[("LWWRegister-1", d_lww("two")), ("ORSet-1", d_or(rm="b", add="d")),
                       ("PNCounter-1", d_pn(-123))]))
    c.cmd([om_remove("ORSet-1")], st_om(LWWRegister_1=st_lww("two"), PNCounter_1=st_pn(-81)),
          up=d_om(rm=["ORSet-1"]))
    c.cmd([om_remove("LWWRegister-1"), om_update("Flag-1", enable())], st_om(Flag_1=st_fl(True), PNCounter_1=st_pn(-81)),
          up=d_om(rm=["LWWRegister-1"], add=[("Flag-1", d_fl(True))]))
    c.cmd([om_clear()], st_om(), up=d_om(cl=True))
    c.cmd([om_add("PNCounter-2"), om_clear(), om_update("GCounter-1", inc(123))], st_om(GCounter_1=st_gc(123)),
          up=d_om(cl=True, add=[("GCounter-1", d_gc(123))]))
    c.close()


def test_ormap_initial_and_replicated_deltas(channel):
    init = d_om(add=[("PNCounter-1", d_pn(123)), ("LWWRegister-1", d_lww("one")), ("GSet-1", d_gs(*"abc"))])
    (Conversation(channel, f"ORMap-{next(counter)}").init(init)
     .cmd([], st_om(GSet_1=st_gs(*"abc"), LWWRegister_1=st_lww("one"), PNCounter_1=st_pn(123)))
     .cmd([om_remove("LWWRegister-1"), om_update("PNCounter-1", pn(-42))],
          st_om(GSet_1=st_gs(*"abc"), PNCounter_1=st_pn(81)),
          up=d_om(rm=["LWWRegister-1"], upd=[("PNCounter-1", d_pn(-42))])).close())
    (new(channel, "ORMap").delta(d_om(add=[("GCounter-1", d_gc(42)), ("ORSet-1", d_or(add="abc")),
                                           ("Flag-1", d_fl(False))]))
     .cmd([], st_om(Flag_1=st_fl(False), GCounter_1=st_gc(42), ORSet_1=st_or(*"abc"))).close())


def test_ormap_nested_map_updates(channel):
    c = new(channel, "ORMap").cmd([om_add("PNCounter-1")], st_om(PNCounter_1=st_pn(0)), up=d_om(add=[("PNCounter-1", d_pn(0))]))
    c.delta(d_om(rm=["LWWRegister-2"], add=[("ORMap-1", d_om(add=[("PNCounter-1", d_pn(123))]))]))
    c.cmd([om_update("ORMap-1", om_update("PNCounter-1", pn(-456)))],
          st_om(ORMap_1=st_om(PNCounter_1=st_pn(-333)), PNCounter_1=st_pn(0)),
          up=d_om(upd=[("ORMap-1", d_om(upd=[("PNCounter-1", d_pn(-456))]))]))
    c.cmd([om_update("Flag-1", enable()), delete()], st_om(Flag_1=st_fl(True), ORMap_1=st_om(PNCounter_1=st_pn(-333)),
                                                          PNCounter_1=st_pn(0)), delete=True)
    c.close()


def test_forward_to_second_service(channel):
    c = new(channel, "GCounter").cmd([inc(42)], st_gc(42), up=d_gc(42))
    c.cmd([forward(f"X-{c.id}")], forward_to=f"X-{c.id}").cmd([], st_gc(42)).close()


def test_forward_with_state_changes(channel):
    c = new(channel, "PNCounter")
    c.cmd([pn(-42), forward(f"X-{c.id}")], forward_to=f"X-{c.id}", up=d_pn(-42)).close()


def test_side_effects_synchronous_and_multiple(channel):
    c = new(channel, "GSet").cmd([gs_add("one")], st_gs("one"), up=d_gs("one"))
    c.cmd([effect(f"X-{c.id}")], st_gs("one"), effects=[c2_effect(f"X-{c.id}")]).cmd([], st_gs("one")).close()
    c = new(channel, "ORSet")
    c.cmd([effect(f"X-{c.id}", True)], st_or(), effects=[c2_effect(f"X-{c.id}", True)]).close()
    c = new(channel, "Flag")
    c.cmd([effect("1"), effect("2"), effect("3")], st_fl(False), effects=[c2_effect(n) for n in "123"]).close()


def test_forward_and_side_effect_creates_the_register(channel):
    c = new(channel, "LWWRegister")
    c.cmd([effect(f"B-{c.id}"), forward(f"A-{c.id}")], forward_to=f"A-{c.id}", effects=[c2_effect(f"B-{c.id}")],
          up=d_lww("")).close()


def test_multiple_side_effects_and_state_changes(channel):
    c = new(channel, "ORMap")
    c.cmd([om_add("PNCounter-1"), *[om_update("GSet-1", gs_add(x)) for x in "abc"], effect("1"), effect("2"),
           effect("3")], st_om(GSet_1=st_gs(*"abc"), PNCounter_1=st_pn(0)),
          up=d_om(add=[("GSet-1", d_gs(*"abc")), ("PNCounter-1", d_pn(0))]), effects=[c2_effect(n) for n in "123"]).close()


def test_failure_action_keeps_the_connection(channel):
    c = new(channel, "PNCounter").cmd([pn(42)], st_pn(42), up=d_pn(42))
    c.stream.send(crdt_cmd(c.id, 2, [pn(5), fail("expected failure")]))
    c.stream.expect(crdt_fail(2, "expected failure"))
    c.next_id = 3
    c.cmd([], st_pn(42)).close()


def test_streamed_responses(channel):
    c = new(channel, "GCounter")
    c.stream.send(crdt_cmd(c.id, 1, name="ProcessStreamed", request=m("StreamedRequest", id=c.id), streamed=True))
    c.stream.expect(crdt_reply(1, st_gc(0), streamed=True))
    c.next_id = 2
    c.cmd([inc(1)], st_gc(1), up=d_gc(1), also=[streamed(1, st_gc(1))])
    c.cmd([inc(2)], st_gc(3), up=d_gc(2), also=[streamed(1, st_gc(3))])
    c.close()


def test_streamed_responses_with_stream_ending_action(channel):
    c = new(channel, "GCounter")
    request = m("StreamedRequest", id=c.id, end_state=st_gc(3).state)
    c.stream.send(crdt_cmd(c.id, 1, name="ProcessStreamed", request=request, streamed=True))
    c.stream.expect(crdt_reply(1, st_gc(0), streamed=True))
    c.next_id = 2
    c.cmd([inc(1)], st_gc(1), up=d_gc(1), also=[streamed(1, st_gc(1))])
    c.cmd([inc(2)], st_gc(3), up=d_gc(2), also=[streamed(1, st_gc(3), end=True)])
    c.cmd([inc(3)], st_gc(6), up=d_gc(3))
    c.stream.expect_nothing()
    c.close()


def test_streamed_responses_with_cancellation(channel):
    c = new(channel, "PNCounter")
    request = m("StreamedRequest", id=c.id, cancel_update=pn(-42).update)
    c.stream.send(crdt_cmd(c.id, 1, name="ProcessStreamed", request=request, streamed=True))
    c.stream.expect(crdt_reply(1, st_pn(0), streamed=True))
    c.next_id = 2
    c.cmd([pn(10)], st_pn(10), up=d_pn(10), also=[streamed(1, st_pn(10))])
    c.stream.send(cancel_in(c.id, 1))
    c.stream.expect(cancelled(1, d_pn(-42)))
    c.cmd([], st_pn(-32)).cmd([pn(30)], st_pn(-2), up=d_pn(30)).close()


def test_empty_streamed_responses_with_cancellation(channel):
    c = new(channel, "PNCounter").cmd([pn(10)], st_pn(10), up=d_pn(10))
    request = m("StreamedRequest", id=c.id, cancel_update=pn(-42).update, empty=True)
    c.stream.send(crdt_cmd(c.id, 2, name="ProcessStreamed", request=request, streamed=True))
    c.stream.expect(crdt_reply(2, streamed=True))
    c.stream.send(cancel_in(c.id, 2))
    c.stream.expect(cancelled(2, d_pn(-42)))
    c.next_id = 3
    c.cmd([], st_pn(-32)).close()


def test_streamed_responses_with_side_effects(channel):
    c = new(channel, "GSet")
    request = m("StreamedRequest", id=c.id, effects=[m("Effect", id="one"), m("Effect", id="two", synchronous=True)])
    c.stream.send(crdt_cmd(c.id, 1, name="ProcessStreamed", request=request, streamed=True))
    c.stream.expect(crdt_reply(1, st_gs(), streamed=True))
    c.next_id = 2
    effects = [c2_effect("one"), c2_effect("two", True)]
    c.cmd([gs_add("a")], st_gs("a"), up=d_gs("a"), also=[streamed(1, st_gs("a"), effects)])
    c.cmd([gs_add("b")], st_gs("a", "b"), up=d_gs("b"), also=[streamed(1, st_gs("a", "b"), effects)])
    c.close()


def test_write_consistency_can_be_configured(channel):
    (new(channel, "GCounter").cmd([inc(1, 0)], st_gc(1), up=d_gc(1)).cmd([inc(2, 1)], st_gc(3), up=d_gc(2), consistency=1)
     .cmd([inc(3, 2)], st_gc(6), up=d_gc(3), consistency=2).close())
