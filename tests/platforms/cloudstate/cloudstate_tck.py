"""The TCK driver's model side: streams straight to a user function, and the fact sheet's message shorthands.

``ModelStream`` plays the proxy on one ``handle`` stream: ``send`` a message, ``expect`` the next reply
to equal a whole message (the TCK's protobuf equality), ``close`` half-closes and requires a normal end.
"""
from __future__ import annotations

import pathlib
import queue
import threading

import grpc
from google.protobuf import any_pb2, wrappers_pb2

from polynb.platforms.cloudstate.protolib import ProtoLibrary
from polynb.platforms.cloudstate.protos.gen.cloudstate import (
    crdt_pb2,
    crdt_pb2_grpc,
    entity_pb2,
    entity_pb2_grpc,
    event_sourced_pb2,
    event_sourced_pb2_grpc,
)

PROTOS = pathlib.Path(__file__).resolve().parent / "protos"
#: the driver's own compilation of the model protos, apart from the notebook's
DRIVER_PROTOS = ProtoLibrary()
for _name in ("tck_eventsourced", "tck_crdt"):
    DRIVER_PROTOS.add(_name, (PROTOS / f"{_name}.proto").read_text())

TCK_PROXY_INFO = entity_pb2.ProxyInfo(
    protocol_major_version=0, protocol_minor_version=2, proxy_name="polynb-tck", proxy_version="0",
    supported_entity_types=["cloudstate.action.ActionProtocol", "cloudstate.valueentity.ValueEntity",
                            "cloudstate.eventsourced.EventSourced", "cloudstate.crdt.Crdt"])
END = object()


def pack(message) -> any_pb2.Any:
    return any_pb2.Any(type_url="type.googleapis.com/" + message.DESCRIPTOR.full_name, value=message.SerializeToString())


def string_any(text: str) -> any_pb2.Any:
    return any_pb2.Any(type_url="p.cloudstate.io/string", value=wrappers_pb2.StringValue(value=text).SerializeToString())


def message(full_name: str, **fields):
    return DRIVER_PROTOS.compiled.message_class(full_name)(**fields)


class ModelStream:
    """One ``handle`` stream to the user function."""

    def __init__(self, channel: grpc.Channel, kind: str) -> None:
        self._requests: queue.Queue = queue.Queue()
        stub = event_sourced_pb2_grpc.EventSourcedStub(channel) if kind == "es" else crdt_pb2_grpc.CrdtStub(channel)
        self._responses = stub.handle(iter(self._requests.get, END), timeout=20)
        self._received: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for response in self._responses:
                self._received.put(response)
            self._received.put(END)
        except grpc.RpcError as error:
            self._received.put(error)

    def send(self, *messages) -> ModelStream:
        for item in messages:
            self._requests.put(item)
        return self

    def next(self, wait: float = 15.0):
        return self._received.get(timeout=wait)

    def expect(self, expected) -> None:
        received = self.next()
        assert received == expected, f"expected:\n{expected}\nreceived:\n{received}"

    def expect_nothing(self, wait: float = 0.3) -> None:
        try:
            extra = self._received.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected message: {extra}")

    def close(self) -> None:
        """Half-close; the user function must end the stream normally with nothing more to say."""
        self._requests.put(END)
        ending = self.next()
        assert ending is END, f"expected a normal end of stream, got {ending}"

    def failed(self) -> grpc.RpcError:
        """The stream's error status, after it ended with one."""
        while True:
            item = self.next()
            if isinstance(item, grpc.RpcError):
                return item
            assert item is not END, "the stream ended normally"


def discover(channel: grpc.Channel) -> entity_pb2.EntitySpec:
    return entity_pb2_grpc.EntityDiscoveryStub(channel).discover(TCK_PROXY_INFO, timeout=10)


# -- event-sourced shorthands (fact sheet 6.3.4) ------------------------------------------------------------
ES = "cloudstate.tck.model"
S1, S2 = f"{ES}.EventSourcedTckModel", f"{ES}.EventSourcedTwo"


def es_init(entity_id: str, snapshot: tuple[int, str] | None = None, service: str = S1):
    init = event_sourced_pb2.EventSourcedInit(service_name=service, entity_id=entity_id)
    if snapshot is not None:
        init.snapshot.CopyFrom(event_sourced_pb2.EventSourcedSnapshot(snapshot_sequence=snapshot[0],
                                                                      snapshot=P(snapshot[1])))
    return event_sourced_pb2.EventSourcedStreamIn(init=init)


def P(value: str) -> any_pb2.Any:
    return pack(message(f"{ES}.Persisted", value=value))


def R(text: str) -> any_pb2.Any:
    return pack(message(f"{ES}.Response", message=text))


def ev(sequence: int, value: str):
    return event_sourced_pb2.EventSourcedStreamIn(event=event_sourced_pb2.EventSourcedEvent(sequence=sequence,
                                                                                         payload=P(value)))


def E(*values: str) -> list:
    return [message(f"{ES}.RequestAction", emit=message(f"{ES}.Emit", value=v)) for v in values]


def Fw(target: str):
    return message(f"{ES}.RequestAction", forward=message(f"{ES}.Forward", id=target))


def Ef(target: str, synchronous: bool = False):
    return message(f"{ES}.RequestAction", effect=message(f"{ES}.Effect", id=target, synchronous=synchronous))


def F(text: str):
    return message(f"{ES}.RequestAction", fail=message(f"{ES}.Fail", message=text))


def es_cmd(entity_id: str, command_id: int, actions: list, name: str = "Process"):
    request = message(f"{ES}.Request", id=entity_id, actions=actions)
    return event_sourced_pb2.EventSourcedStreamIn(command=entity_pb2.Command(
        entity_id=entity_id, id=command_id, name=name, payload=pack(request)))


def se(target: str, synchronous: bool = False) -> entity_pb2.SideEffect:
    return entity_pb2.SideEffect(service_name=S2, command_name="Call",
                                 payload=pack(message(f"{ES}.Request", id=target)), synchronous=synchronous)


def es_reply(command_id: int, text: str, events=(), snapshot: str | None = None, effects=()):
    reply = event_sourced_pb2.EventSourcedReply(
        command_id=command_id, client_action=entity_pb2.ClientAction(reply=entity_pb2.Reply(payload=R(text))),
        side_effects=list(effects), events=[P(e) for e in events])
    if snapshot is not None:
        reply.snapshot.CopyFrom(P(snapshot))
    return event_sourced_pb2.EventSourcedStreamOut(reply=reply)


def es_fwd(command_id: int, target: str, events=(), snapshot: str | None = None, effects=()):
    out = es_reply(command_id, "", events, snapshot, effects)
    out.reply.client_action.CopyFrom(entity_pb2.ClientAction(forward=entity_pb2.Forward(
        service_name=S2, command_name="Call", payload=pack(message(f"{ES}.Request", id=target)))))
    return out


def es_fail(command_id: int, description: str, restart: bool = False):
    return event_sourced_pb2.EventSourcedStreamOut(reply=event_sourced_pb2.EventSourcedReply(
        command_id=command_id, client_action=entity_pb2.ClientAction(failure=entity_pb2.Failure(
            command_id=command_id, description=description, restart=restart))))


# -- CRDT shorthands (fact sheet 6.3.7) --------------------------------------------------------------------
CM = "cloudstate.tck.model.crdt"
C1, C2 = f"{CM}.CrdtTckModel", f"{CM}.CrdtTwo"


def m(name: str, **fields):
    return message(f"{CM}.{name}", **fields)


def crdt_init(entity_id: str, delta=None, service: str = C1):
    init = crdt_pb2.CrdtInit(service_name=service, entity_id=entity_id)
    if delta is not None:
        init.delta.CopyFrom(delta)
    return crdt_pb2.CrdtStreamIn(init=init)


def delta_in(delta):
    return crdt_pb2.CrdtStreamIn(delta=delta)


DELETE_IN = crdt_pb2.CrdtStreamIn(delete=crdt_pb2.CrdtDelete())


def crdt_cmd(entity_id: str, command_id: int, actions=(), name: str = "Process", request=None, streamed=False):
    request = request if request is not None else m("Request", id=entity_id, actions=list(actions))
    return crdt_pb2.CrdtStreamIn(command=entity_pb2.Command(entity_id=entity_id, id=command_id, name=name,
                                                             payload=pack(request), streamed=streamed))


def cancel_in(entity_id: str, command_id: int):
    return crdt_pb2.CrdtStreamIn(stream_cancelled=entity_pb2.StreamCancelled(entity_id=entity_id, id=command_id))


# updates (request actions)
def update(consistency: int = 0, **change):
    return m("RequestAction", update=m("Update", write_consistency=consistency, **change))


def inc(n: int, consistency: int = 0):
    return update(consistency, gcounter=m("GCounterUpdate", increment=n))


def pn(n: int):
    return update(pncounter=m("PNCounterUpdate", change=n))


def gs_add(value: str):
    return update(gset=m("GSetUpdate", add=value))


def or_add(value: str):
    return update(orset=m("ORSetUpdate", add=value))


def or_remove(value: str):
    return update(orset=m("ORSetUpdate", remove=value))


def or_clear():
    return update(orset=m("ORSetUpdate", clear=True))


def lww_set(value: str, clock: int = 0, custom: int = 0):
    return update(lwwregister=m("LWWRegisterUpdate", value=value,
                                clock=m("LWWRegisterClock", clockType=clock, customClockValue=custom)))


def enable():
    return update(flag=m("FlagUpdate"))


def vote(value: bool):
    return update(vote=m("VoteUpdate", self_vote=value))


def om_add(key: str):
    return update(ormap=m("ORMapUpdate", add=key))


def om_update(key: str, action):
    return update(ormap=m("ORMapUpdate", update=m("ORMapEntryUpdate", key=key, update=action.update)))


def om_remove(key: str):
    return update(ormap=m("ORMapUpdate", remove=key))


def om_clear():
    return update(ormap=m("ORMapUpdate", clear=True))


def delete():
    return m("RequestAction", delete=m("Delete"))


def forward(target: str):
    return m("RequestAction", forward=m("Forward", id=target))


def fail(text: str):
    return m("RequestAction", fail=m("Fail", message=text))


def effect(target: str, synchronous: bool = False):
    return m("RequestAction", effect=m("Effect", id=target, synchronous=synchronous))


# deltas
def d_gc(n):
    return crdt_pb2.CrdtDelta(gcounter=crdt_pb2.GCounterDelta(increment=n))


def d_pn(n):
    return crdt_pb2.CrdtDelta(pncounter=crdt_pb2.PNCounterDelta(change=n))


def d_gs(*values):
    return crdt_pb2.CrdtDelta(gset=crdt_pb2.GSetDelta(added=[string_any(v) for v in values]))


def d_or(add=(), rm=(), cl=False):
    return crdt_pb2.CrdtDelta(orset=crdt_pb2.ORSetDelta(cleared=cl, removed=[string_any(v) for v in rm],
                                                        added=[string_any(v) for v in add]))


def d_lww(value, clock=0, custom=0):
    return crdt_pb2.CrdtDelta(lwwregister=crdt_pb2.LWWRegisterDelta(value=string_any(value), clock=clock,
                                                                    custom_clock_value=custom))


def d_fl(value):
    return crdt_pb2.CrdtDelta(flag=crdt_pb2.FlagDelta(value=value))


def d_vo(self_vote, votes_for=0, total=0):
    return crdt_pb2.CrdtDelta(vote=crdt_pb2.VoteDelta(self_vote=self_vote, votes_for=votes_for, total_voters=total))


def d_om(add=(), upd=(), rm=(), cl=False):
    entry = lambda kv: crdt_pb2.ORMapEntryDelta(key=string_any(kv[0]), delta=kv[1])  # noqa: E731
    return crdt_pb2.CrdtDelta(ormap=crdt_pb2.ORMapDelta(cleared=cl, removed=[string_any(k) for k in rm],
                                                        updated=[entry(kv) for kv in upd],
                                                        added=[entry(kv) for kv in add]))


# states (what Process replies)
def st(**value):
    return m("Response", state=m("State", **value))


def st_gc(n):
    return st(gcounter=m("GCounterValue", value=n))


def st_pn(n):
    return st(pncounter=m("PNCounterValue", value=n))


def st_gs(*values):
    return st(gset=m("GSetValue", elements=list(values)))


def st_or(*values):
    return st(orset=m("ORSetValue", elements=list(values)))


def st_lww(value):
    return st(lwwregister=m("LWWRegisterValue", value=value))


def st_fl(value):
    return st(flag=m("FlagValue", value=value))


def st_vo(self_vote, votes_for, total):
    return st(vote=m("VoteValue", self_vote=self_vote, votes_for=votes_for, total_voters=total))


def state_value(response):
    return response.state


def st_om(**entries):
    """ORMap state; values are Response messages of the entries' kinds (their ``state``)."""
    return st(ormap=m("ORMapValue", entries=[m("ORMapEntryValue", key=k.replace("_", "-"), value=v.state)
                                             for k, v in sorted(entries.items())]))


def crdt_reply(command_id, state=None, up=None, delete=False, effects=(), consistency=0, streamed=False,
               forward_to=None):
    reply = crdt_pb2.CrdtReply(command_id=command_id, side_effects=list(effects), streamed=streamed)
    if forward_to is not None:
        reply.client_action.forward.CopyFrom(entity_pb2.Forward(service_name=C2, command_name="Call",
                                                                payload=pack(m("Request", id=forward_to))))
    elif state is not None:
        reply.client_action.reply.payload.CopyFrom(pack(state))
    if delete:
        reply.state_action.delete.SetInParent()
        reply.state_action.write_consistency = consistency
    elif up is not None:
        reply.state_action.update.CopyFrom(up)
        reply.state_action.write_consistency = consistency
    return crdt_pb2.CrdtStreamOut(reply=reply)


def crdt_fail(command_id, description):
    return crdt_pb2.CrdtStreamOut(reply=crdt_pb2.CrdtReply(command_id=command_id, client_action=entity_pb2.ClientAction(
        failure=entity_pb2.Failure(command_id=command_id, description=description))))


def streamed(command_id, state=None, effects=(), end=False):
    out = crdt_pb2.CrdtStreamedMessage(command_id=command_id, side_effects=list(effects), end_stream=end)
    if state is not None:
        out.client_action.reply.payload.CopyFrom(pack(state))
    return crdt_pb2.CrdtStreamOut(streamed_message=out)


def cancelled(command_id, up=None):
    response = crdt_pb2.CrdtStreamCancelledResponse(command_id=command_id)
    if up is not None:
        response.state_action.update.CopyFrom(up)
    return crdt_pb2.CrdtStreamOut(stream_cancelled_response=response)


def c2_effect(target, synchronous=False):
    return entity_pb2.SideEffect(service_name=C2, command_name="Call", payload=pack(m("Request", id=target)),
                                 synchronous=synchronous)
