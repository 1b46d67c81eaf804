"""The CloudState magics in an IPython shell, with the local proxy the binding starts: what a user types."""
from __future__ import annotations

import cloudstate_cells
import grpc
import pytest
from IPython.core.error import UsageError
from notebook_shell import run

import polynb
from polynb.calls import CallTimeout

CART = cloudstate_cells.CART_SERVICE
ENTITY_LINE = f"%%cloudstate_entity {CART} --proto shoppingcart/shoppingcart --proto shoppingcart/persistence"


def test_proto_cell_binds_its_messages(ip):
    assert ip.user_ns["shoppingcart"].services == [CART]
    assert ip.user_ns["shoppingcart"].AddLineItem(quantity=2).quantity == 2
    assert "ItemAdded" in dir(ip.user_ns["persistence"])


def test_a_proto_that_does_not_compile_is_one_clear_error(ip):
    with pytest.raises(UsageError, match=r"protoc could not compile broken.proto.*: broken.proto:2:9: Expected message name"):
        ip.run_cell_magic("cloudstate_proto", "broken", "syntax = \"proto3\";\nmessage {")


def test_entity_cell_registers_and_commands_are_journaled(ip):
    run(ip, f"{ENTITY_LINE}\n{cloudstate_cells.SHOPPING_CART}")
    run(ip, f"%cloudstate_call {CART} AddItem {{\"user_id\": \"nb\", \"product_id\": \"p\", \"name\": \"P\", \"quantity\": 2}}")
    cart = run(ip, f"%cloudstate_call {CART} GetCart {{\"user_id\": \"nb\"}}")
    assert [(i.product_id, i.quantity) for i in cart.items] == [("p", 2)]
    add = [r for r in polynb.records(platform="cloudstate", payload=CART) if r.input.get("name") == "AddItem"]
    assert add and add[0].status == "succeeded" and add[0].output["events"][0]["item"]["quantity"] == 2
    [get] = [r for r in polynb.records(platform="cloudstate", payload=CART) if r.input.get("name") == "GetCart"]
    assert get.output["reply"] == {"@type": "com.example.shoppingcart.Cart",
                                   "items": [{"product_id": "p", "name": "P", "quantity": 2}]}


def test_rerunning_the_cell_reregisters_and_the_proxy_rediscovers(ip):
    run(ip, f"{ENTITY_LINE}\n{cloudstate_cells.SHOPPING_CART}")
    run(ip, f"{ENTITY_LINE} --snapshot-every 2\n{cloudstate_cells.SHOPPING_CART}")
    assert polynb.get_service().current("cloudstate", CART).version == 2
    cart = run(ip, f"%cloudstate_call {CART} GetCart {{\"user_id\": \"again\"}}")
    assert list(cart.items) == []


def test_a_handler_for_no_method_of_the_service_is_refused(ip):
    cell = "from polynb.platforms.cloudstate.api import command\n@command\ndef checkout(state, request):\n    pass\n"
    with pytest.raises(UsageError, match="ShoppingCart has no method Checkout"):
        ip.run_cell_magic("cloudstate_entity", f"{CART} --proto shoppingcart/shoppingcart", cell)


def test_failed_command_is_the_platforms_failure_in_one_line(ip):
    run(ip, f"{ENTITY_LINE}\n{cloudstate_cells.SHOPPING_CART}")
    with pytest.raises(grpc.RpcError) as failure:
        run(ip, f"%cloudstate_call {CART} RemoveItem {{\"user_id\": \"nb2\", \"product_id\": \"zzz\"}}")
    assert failure.value.details() == "Cannot remove item zzz because it is not in the cart."
    assert failure.value._render_traceback_() == [
        f"CallFailed: {CART}/RemoveItem: UNKNOWN: Cannot remove item zzz because it is not in the cart."]


def test_a_call_with_no_answer_in_time_ends_in_call_timeout(ip, monkeypatch):
    run(ip, "%%cloudstate_proto sleeper\nsyntax = \"proto3\";\npackage slow;\n"
            "import \"cloudstate/entity_key.proto\";\n"
            "message Nap { string id = 1 [(.cloudstate.entity_key) = true]; double seconds = 2; }\n"
            "service Sleeper { rpc Sleep(Nap) returns (Nap); }")
    run(ip, "%%cloudstate_entity slow.Sleeper --proto sleeper\nimport time\nfrom polynb.cloudstate import command\n\n"
            "@command\ndef sleep(state, nap):\n    time.sleep(nap.seconds)\n    return nap")
    monkeypatch.setenv("POLYNB_CALL_TIMEOUT", "0.5")
    with pytest.raises(CallTimeout, match=r"^cloudstate: no answer to slow.Sleeper/Sleep within 0.5 s; the proxy at "):
        run(ip, '%cloudstate_call slow.Sleeper Sleep {"id": "a", "seconds": 1.5}')


def test_unknown_proto_name_is_a_usage_error(ip):
    with pytest.raises(UsageError, match="no %%cloudstate_proto cell named 'nope'"):
        ip.run_cell_magic("cloudstate_entity", f"{CART} --proto nope", "x = 1")
