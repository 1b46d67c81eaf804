"""The shopping cart on the official ``cloudstate`` 0.1.1 library; run with the peer venv's Python.

Usage: ``python cloudstate_peer_cart.py DESCRIPTORS.pb`` with HOST and PORT set. The descriptor set (compiled
by polynb's protoc from the same .proto files) is loaded into protobuf's default pool, which the library
looks message types up in. Written against the library's public API; no code of the library copied.
"""

import sys
from pathlib import Path

import cloudstate.entity_key_pb2  # noqa: F401
import google.api.annotations_pb2  # noqa: F401 - the cart's imports must be in the pool first
import google.api.httpbody_pb2  # noqa: F401
from cloudstate.cloudstate import CloudState
from cloudstate.event_sourced_context import EventSourcedCommandContext
from cloudstate.event_sourced_entity import EventSourcedEntity
from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2, symbol_database

pool = descriptor_pool.Default()
symbols = symbol_database.Default()
for proto in descriptor_pb2.FileDescriptorSet.FromString(Path(sys.argv[1]).read_bytes()).file:
    try:
        pool.FindFileByName(proto.name)
    except KeyError:
        pool.AddSerializedFile(proto.SerializeToString())


def message(name: str):
    return symbols.GetPrototype(pool.FindMessageTypeByName(name))


AddLineItem, RemoveLineItem, GetShoppingCart, LineItem, Cart = (
    message(f"com.example.shoppingcart.{n}") for n in ("AddLineItem", "RemoveLineItem", "GetShoppingCart",
                                                       "LineItem", "Cart"))
ItemAdded, ItemRemoved, DomainItem = (message(f"com.example.shoppingcart.persistence.{n}")
                                      for n in ("ItemAdded", "ItemRemoved", "LineItem"))


class CartState(dict):
    """product id -> [name, quantity], in first-added order."""


entity = EventSourcedEntity(pool.FindServiceByName("com.example.shoppingcart.ShoppingCart"),
                            [pool.FindFileByName("shoppingcart/shoppingcart.proto")], lambda entity_id: CartState())


@entity.command_handler("AddItem")
def add_item(state: CartState, item: AddLineItem, ctx: EventSourcedCommandContext):
    if item.quantity <= 0:
        ctx.fail(f"Cannot add a quantity of {item.quantity} of {item.product_id}: it must be positive")
    else:
        ctx.emit(ItemAdded(item=DomainItem(productId=item.product_id, name=item.name, quantity=item.quantity)))
    return empty_pb2.Empty()


@entity.command_handler("RemoveItem")
def remove_item(state: CartState, item: RemoveLineItem, ctx: EventSourcedCommandContext):
    if item.product_id not in state:
        ctx.fail(f"Cannot remove item {item.product_id} because it is not in the cart.")
    else:
        ctx.emit(ItemRemoved(productId=item.product_id))
    return empty_pb2.Empty()


@entity.command_handler("GetCart")
def get_cart(state: CartState):
    return Cart(items=[LineItem(product_id=p, name=v[0], quantity=v[1]) for p, v in state.items()])


@entity.event_handler(ItemAdded)
def item_added(state: CartState, event: ItemAdded):
    line = state.setdefault(event.item.productId, [event.item.name, 0])
    line[1] += event.item.quantity


@entity.event_handler(ItemRemoved)
def item_removed(state: CartState, event: ItemRemoved):
    del state[event.productId]


CloudState().register_event_sourced_entity(entity).start()
