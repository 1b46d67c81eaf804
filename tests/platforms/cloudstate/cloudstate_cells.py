"""Notebook cells the tests register: the TCK model entities and the shopping cart, as a user writes them.

Each constant is the text of one ``%%cloudstate_entity`` cell (the proto cells are the .proto files in
``protos/``); ``ENTITIES`` says how each is registered.
"""
from __future__ import annotations

from pathlib import Path

PROTOS = Path(__file__).resolve().parent / "protos"

EVENT_SOURCED_MODEL = '''
from polynb.platforms.cloudstate.api import command, event, snapshot, snapshot_handler

TWO = "cloudstate.tck.model.EventSourcedTwo"

class TckModel:
    def __init__(self):
        self.state = ""

    @command
    def Process(self, request, ctx):
        for action in request.actions:
            kind = action.WhichOneof("action")
            if kind == "emit":
                ctx.emit(tck_eventsourced.Persisted(value=action.emit.value))
            elif kind == "forward":
                ctx.forward(TWO, "Call", tck_eventsourced.Request(id=action.forward.id))
            elif kind == "effect":
                ctx.effect(TWO, "Call", tck_eventsourced.Request(id=action.effect.id), action.effect.synchronous)
            elif kind == "fail":
                ctx.fail(action.fail.message)
        return tck_eventsourced.Response(message=self.state)

    @event
    def persisted(self, event):
        self.state += event.value

    @snapshot
    def to_snapshot(self):
        return tck_eventsourced.Persisted(value=self.state)

    @snapshot_handler
    def from_snapshot(self, snapshot):
        self.state = snapshot.value
'''

EVENT_SOURCED_TWO = '''
from polynb.platforms.cloudstate.api import command

@command
def Call(state, request):
    return tck_eventsourced.Response()
'''

CRDT_MODEL = '''
from polynb.platforms.cloudstate.api import (command, initial, GCounter, PNCounter, GSet, ORSet, LWWRegister,
                                             Flag, ORMap, Vote)

KINDS = {"GCounter": GCounter, "PNCounter": PNCounter, "GSet": GSet, "ORSet": ORSet,
         "LWWRegister": LWWRegister, "Flag": Flag, "ORMap": ORMap, "Vote": Vote}
CRDT_TWO = "cloudstate.tck.model.crdt.CrdtTwo"

def kind_of(key):
    return KINDS[key.split("-")[0]]

@initial
def new_crdt(entity_id):
    return kind_of(entity_id)()

def apply(crdt, update):
    which = update.WhichOneof("update")
    change = getattr(update, which)
    if which == "gcounter":
        crdt.increment(change.increment)
    elif which == "pncounter":
        crdt.increment(change.change)
    elif which == "gset":
        crdt.add(change.add)
    elif which == "lwwregister":
        crdt.set(change.value, change.clock.clockType, change.clock.customClockValue)
    elif which == "flag":
        crdt.enable()
    elif which == "vote":
        crdt.vote(change.self_vote)
    elif which == "orset":
        action = change.WhichOneof("action")
        if action == "add":
            crdt.add(change.add)
        elif action == "remove":
            crdt.remove(change.remove)
        else:
            crdt.clear()
    else:
        action = change.WhichOneof("action")
        if action == "add":
            crdt.get_or_create(change.add, kind_of(change.add))
        elif action == "update":
            apply(crdt.get_or_create(change.update.key, kind_of(change.update.key)), change.update.update)
        elif action == "remove":
            crdt.remove(change.remove)
        else:
            crdt.clear()

def state_of(crdt):
    m = tck_crdt
    if isinstance(crdt, GCounter):
        return m.State(gcounter=m.GCounterValue(value=crdt.value))
    if isinstance(crdt, PNCounter):
        return m.State(pncounter=m.PNCounterValue(value=crdt.value))
    if isinstance(crdt, GSet):
        return m.State(gset=m.GSetValue(elements=sorted(crdt)))
    if isinstance(crdt, ORSet):
        return m.State(orset=m.ORSetValue(elements=sorted(crdt)))
    if isinstance(crdt, LWWRegister):
        return m.State(lwwregister=m.LWWRegisterValue(value=crdt.value))
    if isinstance(crdt, Flag):
        return m.State(flag=m.FlagValue(value=crdt.value))
    if isinstance(crdt, Vote):
        return m.State(vote=m.VoteValue(self_vote=crdt.self_vote, votes_for=crdt.votes_for,
                                        total_voters=crdt.total_voters))
    entries = [m.ORMapEntryValue(key=key, value=state_of(value)) for key, value in sorted(crdt.items(), key=lambda kv: kv[0])]
    return m.State(ormap=m.ORMapValue(entries=entries))

@command
def Process(crdt, request, ctx):
    for action in request.actions:
        kind = action.WhichOneof("action")
        if kind == "update":
            apply(crdt, action.update)
            ctx.write_consistency = action.update.write_consistency
        elif kind == "delete":
            ctx.delete()
        elif kind == "forward":
            ctx.forward(CRDT_TWO, "Call", tck_crdt.Request(id=action.forward.id))
        elif kind == "fail":
            ctx.fail(action.fail.message)
        else:
            ctx.effect(CRDT_TWO, "Call", tck_crdt.Request(id=action.effect.id), action.effect.synchronous)
    return tck_crdt.Response(state=state_of(crdt))

@command
def ProcessStreamed(crdt, request, ctx):
    if request.HasField("initial_update"):
        apply(crdt, request.initial_update)
    if ctx.streamed:
        def changed(stream):
            if request.HasField("end_state") and state_of(stream.state) == request.end_state:
                stream.end()
            for effect in request.effects:
                stream.effect(CRDT_TWO, "Call", tck_crdt.Request(id=effect.id), effect.synchronous)
            return None if request.empty else tck_crdt.Response(state=state_of(stream.state))

        def cancelled(stream):
            if request.HasField("cancel_update"):
                apply(stream.state, request.cancel_update)

        ctx.on_change(changed)
        ctx.on_cancel(cancelled)
    return None if request.empty else tck_crdt.Response(state=state_of(crdt))
'''

CRDT_TWO = '''
from polynb.platforms.cloudstate.api import command, initial, Flag

@initial
def untouched(entity_id):
    return Flag()

@command
def Call(crdt, request, ctx):
    if any(action.HasField("delete") for action in request.actions):
        ctx.delete()
    return tck_crdt.Response()
'''

FAULTY = '''
from polynb.platforms.cloudstate.api import command, event

class Faulty:
    """Counts what happened; misbehaves when asked to."""

    def __init__(self):
        self.count = 0

    @command
    def Do(self, order, ctx):
        if order.what == "raise":
            ctx.emit(faults.Happened(what="lost"))
            1 / 0
        if order.what == "unserialisable":
            return {1, 2}
        if order.what == "spin":
            while True:
                pass
        if order.what == "restart":
            ctx.fail("asked to restart", restart=True)
        ctx.emit(faults.Happened(what=order.what))
        return faults.Done(count=self.count)

    @event
    def happened(self, event):
        if event.what == "crash":
            raise RuntimeError("the event handler broke")
        self.count += 1
'''

ES_OPTIONS = {"kind": "event_sourced", "protos": ["tck_eventsourced"]}
CRDT_OPTIONS = {"kind": "crdt", "protos": ["tck_crdt"]}

ENTITIES = [
    ("cloudstate.tck.model.EventSourcedTckModel", EVENT_SOURCED_MODEL,
     {**ES_OPTIONS, "persistence_id": "event-sourced-tck-model", "snapshot_every": 5}),
    ("cloudstate.tck.model.EventSourcedTwo", EVENT_SOURCED_TWO, ES_OPTIONS),
    ("cloudstate.tck.model.EventSourcedConfigured", EVENT_SOURCED_TWO,
     {**ES_OPTIONS, "persistence_id": "event-sourced-configured", "passivation_timeout_ms": 100}),
    ("cloudstate.tck.model.crdt.CrdtTckModel", CRDT_MODEL, CRDT_OPTIONS),
    ("polynb.test.Faulty", FAULTY, {"kind": "event_sourced", "protos": ["faults"]}),
    ("cloudstate.tck.model.crdt.CrdtTwo", CRDT_TWO, CRDT_OPTIONS),
    ("cloudstate.tck.model.crdt.CrdtConfigured", CRDT_TWO, {**CRDT_OPTIONS, "passivation_timeout_ms": 100}),
]

SHOPPING_CART = '''
from polynb.platforms.cloudstate.api import command, event, snapshot, snapshot_handler

domain = persistence

class ShoppingCart:
    """One user's cart: product id -> line item, in the order products were first added."""

    def __init__(self, user_id):
        self.items = {}

    @command
    def add_item(self, item, ctx):
        if item.quantity <= 0:
            ctx.fail(f"Cannot add a quantity of {item.quantity} of {item.product_id}: it must be positive")
        ctx.emit(domain.ItemAdded(item=domain.LineItem(productId=item.product_id, name=item.name,
                                                       quantity=item.quantity)))

    @command
    def remove_item(self, item, ctx):
        if item.product_id not in self.items:
            ctx.fail(f"Cannot remove item {item.product_id} because it is not in the cart.")
        ctx.emit(domain.ItemRemoved(productId=item.product_id))

    @command
    def get_cart(self, request):
        return shoppingcart.Cart(items=[shoppingcart.LineItem(product_id=i.productId, name=i.name, quantity=i.quantity)
                                        for i in self.items.values()])

    @event(domain.ItemAdded)
    def item_added(self, added):
        line = self.items.setdefault(added.item.productId, domain.LineItem(productId=added.item.productId,
                                                                            name=added.item.name))
        line.quantity += added.item.quantity

    @event(domain.ItemRemoved)
    def item_removed(self, removed):
        del self.items[removed.productId]

    @snapshot
    def to_snapshot(self):
        return domain.Cart(items=list(self.items.values()))

    @snapshot_handler
    def from_snapshot(self, cart):
        self.items = {i.productId: i for i in cart.items}
'''

CART_SERVICE = "com.example.shoppingcart.ShoppingCart"
CART_PROTOS = ["shoppingcart/shoppingcart", "shoppingcart/persistence"]
