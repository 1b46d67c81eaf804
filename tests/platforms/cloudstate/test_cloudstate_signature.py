"""A CloudState entity's signature: its service's commands with their proto messages, shown by ``%polynb status``,
and a call whose request does not fit its message refused before it reaches the proxy."""
from __future__ import annotations

import json

import cloudstate_cells
import pytest
from IPython.core.error import UsageError
from notebook_shell import run

import polynb
from polynb.journal import SUCCEEDED
from polynb.platforms.cloudstate.protolib import LIBRARY
from polynb.platforms.cloudstate.signature import of_service
from polynb.signature import InputMismatch

CART = cloudstate_cells.CART_SERVICE
ENTITY = (f"%%cloudstate_entity {CART} --proto shoppingcart/shoppingcart --proto shoppingcart/persistence\n"
          f"{cloudstate_cells.SHOPPING_CART}")
ADD = "AddItem(AddLineItem {user_id?: string, product_id?: string, name?: string, quantity?: integer}) -> Empty {}"


def test_every_command_with_its_messages_is_stored_and_shown_by_polynb_status(ip, capsys):
    run(ip, ENTITY)
    capsys.readouterr()
    run(ip, "%polynb status")
    [payload] = json.loads(capsys.readouterr().out)["payloads"]
    summaries = {name: op["summary"] for name, op in payload["signature"]["operations"].items()}
    assert summaries == {"AddItem": ADD, "RemoveItem": "RemoveItem(RemoveLineItem {user_id?: string, "
                                                        "product_id?: string}) -> Empty {}",
                         "GetCart": "GetCart(GetShoppingCart {user_id?: string}) -> Cart {items?: array of LineItem}"}
    assert payload["signature"]["source"] == f"the proto messages of {CART}"


def test_a_request_that_does_not_fit_its_message_is_refused_before_the_proxy_sees_it(ip):
    run(ip, ENTITY)
    with pytest.raises(InputMismatch) as refused:
        polynb.cloudstate.call(CART, "AddItem", {"user_id": "nb", "product_id": "p", "quantity": "two"})
    assert str(refused.value) == (f"cloudstate {CART}: AddItem.quantity: expected integer, got 'two' (str); "
                                  "nothing was sent")
    with pytest.raises(UsageError, match=r"AddItem\.qty: no such field \(the fields: user_id, product_id, name, "
                                         r"quantity\)"):
        run(ip, f'%cloudstate_call {CART} AddItem {{"userId": "nb", "qty": 2}}')
    assert polynb.records(platform="cloudstate", payload=CART) == []
    polynb.cloudstate.call(CART, "AddItem", {"userId": "nb", "product_id": "p", "name": None, "quantity": 2})
    assert [r.status for r in polynb.records(platform="cloudstate", payload=CART)] == [SUCCEEDED]


def test_maps_enums_wide_integers_and_well_known_types_have_their_json_shapes():
    LIBRARY.add("sigshapes", 'syntax = "proto3";\npackage sig;\nimport "google/protobuf/timestamp.proto";\n'
                             "enum Level { LOW = 0; HIGH = 1; }\n"
                             "message Probe { map<string, int64> counts = 1; Level level = 2; "
                             "google.protobuf.Timestamp at = 3; repeated Probe children = 4; bytes blob = 5; }\n"
                             "service Probes { rpc Send(Probe) returns (Probe); }")
    signature = of_service(LIBRARY.compiled.service("sig.Probes"))
    probe = "Probe {counts?: object of integer|string, level?: Level, at?: string, children?: array of Probe, " \
            "blob?: string}"
    assert signature.lines() == [f"Send({probe}) -> {probe}"]
    signature.validate({"counts": {"a": 1, "b": "2"}, "level": "HIGH", "at": "2024-01-01T00:00:00Z",
                        "children": [{"level": 1}]}, "Send")
    with pytest.raises(InputMismatch, match=r"Send: input\.children\[0\]\.level: expected \"LOW\"\|\"HIGH\"\|0\|1, got 'MID'"):
        signature.validate({"children": [{"level": "MID"}]}, "Send")
