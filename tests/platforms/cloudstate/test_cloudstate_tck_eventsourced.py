"""The HEAD TCK's event-sourced model tests (fact sheet 6.3.4), against polynb notebook entities."""
from __future__ import annotations

import itertools

import pytest
from cloudstate_tck import (
    S1,
    S2,
    E,
    Ef,
    F,
    Fw,
    ModelStream,
    discover,
    es_cmd,
    es_fail,
    es_fwd,
    es_init,
    es_reply,
    ev,
    se,
)

ids = (f"entity-{n}" for n in itertools.count(1))


@pytest.fixture
def stream(channel):
    entity_id = next(ids)
    opened = ModelStream(channel, "es")
    opened.entity_id = entity_id
    return opened


def test_discovery_lists_model_services_as_event_sourced_with_persistence_id(channel):
    spec = discover(channel)
    entities = {e.service_name: e for e in spec.entities}
    assert entities[S1].entity_type == entities[S2].entity_type == "cloudstate.eventsourced.EventSourced"
    assert entities[S1].persistence_id == "event-sourced-tck-model"
    from google.protobuf import descriptor_pb2
    files = descriptor_pb2.FileDescriptorSet.FromString(spec.proto).file
    services = {f"{f.package}.{s.name}" for f in files for s in f.service}
    assert {S1, S2} <= services
    assert {"cloudstate/entity_key.proto", "google/api/annotations.proto", "google/api/http.proto",
            "google/protobuf/descriptor.proto"} <= {f.name for f in files}


def test_configured_entity_declares_passivation_timeout(channel):
    entity = {e.service_name: e for e in discover(channel).entities}["cloudstate.tck.model.EventSourcedConfigured"]
    assert entity.persistence_id == "event-sourced-configured"
    assert entity.passivation_strategy.timeout.timeout == 100


def test_initial_empty_state(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [])).expect(es_reply(1, ""))
    stream.close()


def test_single_emitted_event(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A"))).expect(es_reply(1, "A", ["A"]))
    stream.send(es_cmd(i, 2, [])).expect(es_reply(2, "A"))
    stream.close()


def test_multiple_emitted_events(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A", "B", "C"))).expect(es_reply(1, "ABC", ["A", "B", "C"]))
    stream.send(es_cmd(i, 2, [])).expect(es_reply(2, "ABC"))
    stream.close()


def test_multiple_emitted_events_and_snapshots(stream):
    i = stream.entity_id
    stream.send(es_init(i))
    steps = [(E("A"), "A", None), (E("B"), "AB", None), (E("C"), "ABC", None), (E("D"), "ABCD", None),
             (E("E"), "ABCDE", "ABCDE"), (E("F", "G", "H"), "ABCDEFGH", None),
             (E("I", "J"), "ABCDEFGHIJ", "ABCDEFGHIJ"), (E("K"), "ABCDEFGHIJK", None)]
    for number, (actions, state, snapshot) in enumerate(steps, 1):
        events = [a.emit.value for a in actions]
        stream.send(es_cmd(i, number, actions)).expect(es_reply(number, state, events, snapshot))
    stream.send(es_cmd(i, 9, [])).expect(es_reply(9, "ABCDEFGHIJK"))
    stream.close()


def test_initial_snapshot(stream):
    i = stream.entity_id
    stream.send(es_init(i, (5, "ABCDE")), es_cmd(i, 1, [])).expect(es_reply(1, "ABCDE"))
    stream.close()


def test_initial_snapshot_and_events(stream):
    i = stream.entity_id
    stream.send(es_init(i, (5, "ABCDE")), ev(6, "F"), ev(7, "G"), es_cmd(i, 1, [])).expect(es_reply(1, "ABCDEFG"))
    stream.close()


def test_rehydration_after_passivation(channel, stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A", "B", "C"))).expect(es_reply(1, "ABC", "ABC"))
    stream.send(es_cmd(i, 2, E("D", "E"))).expect(es_reply(2, "ABCDE", "DE", "ABCDE"))
    stream.send(es_cmd(i, 3, E("F"))).expect(es_reply(3, "ABCDEF", "F"))
    stream.send(es_cmd(i, 4, E("G"))).expect(es_reply(4, "ABCDEFG", "G"))
    stream.close()
    again = ModelStream(channel, "es")
    again.send(es_init(i, (5, "ABCDE")), ev(6, "F"), ev(7, "G"), es_cmd(i, 1, [])).expect(es_reply(1, "ABCDEFG"))
    again.close()


def test_forward_to_second_service(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A", "B", "C"))).expect(es_reply(1, "ABC", "ABC"))
    stream.send(es_cmd(i, 2, [Fw(i)])).expect(es_fwd(2, i))
    stream.send(es_cmd(i, 3, [])).expect(es_reply(3, "ABC"))
    stream.close()


def test_forward_with_emitted_events(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [*E("A"), Fw(i)])).expect(es_fwd(1, i, ["A"]))
    stream.close()


def test_forward_with_emitted_events_and_snapshot(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A", "B", "C"))).expect(es_reply(1, "ABC", "ABC"))
    stream.send(es_cmd(i, 2, [*E("D", "E"), Fw(i)])).expect(es_fwd(2, i, "DE", "ABCDE"))
    stream.close()


def test_reply_with_side_effect_to_second_service(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A", "B", "C"))).expect(es_reply(1, "ABC", "ABC"))
    stream.send(es_cmd(i, 2, [Ef(i)])).expect(es_reply(2, "ABC", effects=[se(i)]))
    stream.send(es_cmd(i, 3, [])).expect(es_reply(3, "ABC"))
    stream.close()


def test_synchronous_side_effect_to_second_service(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [Ef(i, True)])).expect(es_reply(1, "", effects=[se(i, True)]))
    stream.close()


def test_forward_and_side_effect_to_second_service(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [Ef(i), Fw(i)])).expect(es_fwd(1, i, effects=[se(i)]))
    stream.close()


def test_reply_with_multiple_side_effects(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [Ef("1"), Ef("2"), Ef("3")]))
    stream.expect(es_reply(1, "", effects=[se("1"), se("2"), se("3")]))
    stream.close()


def test_reply_with_multiple_side_effects_events_and_snapshot(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [*E("A", "B", "C", "D", "E"), Ef("1"), Ef("2"), Ef("3")]))
    stream.expect(es_reply(1, "ABCDE", "ABCDE", "ABCDE", effects=[se("1"), se("2"), se("3")]))
    stream.close()


def test_failure_action(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [F("expected failure")])).expect(es_fail(1, "expected failure"))
    stream.close()


def test_connection_after_failure_action(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A"))).expect(es_reply(1, "A", "A"))
    stream.send(es_cmd(i, 2, [F("expected failure")])).expect(es_fail(2, "expected failure"))
    stream.send(es_cmd(i, 3, [])).expect(es_reply(3, "A"))
    stream.close()


def test_failure_actions_do_not_retain_emitted_events(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, E("A", "B", "C"))).expect(es_reply(1, "ABC", "ABC"))
    stream.send(es_cmd(i, 2, [*E("4", "5"), F("failure 1")])).expect(es_fail(2, "failure 1"))
    stream.send(es_cmd(i, 3, E("D"))).expect(es_reply(3, "ABCD", "D"))
    stream.send(es_cmd(i, 4, [*E("6"), F("failure 2"), *E("7")])).expect(es_fail(4, "failure 2"))
    stream.send(es_cmd(i, 5, E("E"))).expect(es_reply(5, "ABCDE", "E", "ABCDE"))
    stream.close()


def test_failure_actions_do_not_allow_side_effects(stream):
    i = stream.entity_id
    stream.send(es_init(i), es_cmd(i, 1, [Ef(i), F("expected failure")])).expect(es_fail(1, "expected failure"))
    stream.close()
