"""The wire module against the fact sheet's recorded vectors (section 10), with no server at all."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from polynb.platforms.kgrid import wire

RUNTIME = "http://127.0.0.1:25001"
ACTIVATOR = "http://127.0.0.1:28081"


def test_registration_body_is_t1_at_start_and_t2_for_heartbeats():
    assert json.dumps(wire.registration(RUNTIME, True)) == \
        '{"engine": "python", "version": "0.1.0", "url": "http://127.0.0.1:25001", "forceUpdate": true}'
    assert wire.registration(RUNTIME, False)["forceUpdate"] is False


def test_endpoint_key_replaces_slashes_dots_and_dashes():
    assert wire.endpoint_key("hello/world/1.0/welcome") == "hello_world_1_0_welcome"
    assert wire.endpoint_key("a-b/c/v1.0-rc/x") == "a_b_c_v1_0_rc_x"


def test_entry_module_cuts_at_the_last_extension_and_truncates_extra_dots():
    assert wire.entry_module("src/hello.py") == "src.hello"
    assert wire.entry_module("a.b.py") == "a"


def test_activation_reply_is_t3():
    entry = {"activated": datetime(2026, 11, 21, 23, 16, 20), "id": "hello/world/1.0/welcome",
             "status": "Activated", "url": f"{RUNTIME}/hello_world_1_0_welcome"}
    assert wire.activation_reply(entry, RUNTIME, "hello_world_1_0_welcome") == {
        "activated": "Sat, 21 Nov 2026 23:16:20 GMT", "baseUrl": RUNTIME, "id": "hello/world/1.0/welcome",
        "status": "Activated", "uri": "hello_world_1_0_welcome", "url": f"{RUNTIME}/hello_world_1_0_welcome"}


def test_result_body_is_t5_as_jsonify_writes_it():
    assert wire.result_body("Welcome to Knowledge Grid, Tom") == '{"result":"Welcome to Knowledge Grid, Tom"}\n'


@pytest.mark.parametrize("value", [float("nan"), {1, 2}, object()])
def test_a_result_json_cannot_carry_is_refused(value):
    with pytest.raises((TypeError, ValueError)):
        wire.result_body(value)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None, "application/json; charset=utf-8"])
def test_json_input_parses_whatever_the_content_type(content_type):
    assert wire.parse_input(content_type, b'{"name":"Tom"}') == {"name": "Tom"}


def test_malformed_json_as_application_json_is_t8():
    with pytest.raises(wire.WireError) as refusal:
        wire.parse_input("application/json", b"{bad json")
    assert refusal.value.status == 400
    assert wire.render(refusal.value.body) == ('{"code": 400, "name": "Bad Request", "description": "The browser '
                                               '(or proxy) sent a request that this server could not understand."}')


def test_malformed_json_as_text_is_t9():
    with pytest.raises(wire.WireError) as refusal:
        wire.parse_input("text/plain", b"{bad json")
    assert refusal.value.status == 500
    assert refusal.value.body == {"code": 500, "name": "JSONDecodeError",
                                  "description": "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}


def test_payload_exceptions_become_t6_and_t10():
    assert wire.render(wire.runtime_error("ValueError", wire.exception_text("ValueError: bad input", "ValueError"))) \
        == '{"code":500,"description":"bad input","name":"ValueError"}\n'
    assert wire.exception_text("KeyError: 'name'", "KeyError") == "'name'"
    assert wire.exception_text("RuntimeError", "RuntimeError") == ""


def test_unknown_key_error_keeps_the_quotes_of_t7():
    error = wire.unknown_endpoint("hello_world_1_0_nope")
    assert str(error) == "'Could not find endpoint hello_world_1_0_nope in python runtime.'"


def test_info_and_root_are_t12_and_t13():
    assert wire.runtime_info(ACTIVATOR, RUNTIME) == {
        "activatorUrl": ACTIVATOR, "app": "kgrid-python-runtime", "engine": "python", "status": "up",
        "url": RUNTIME, "version": "0.1.0"}
    assert wire.root_info(25001) == {
        "Description": "Running Knowledge Objects written in Python", "Endpoints": "http://localhost:25001/endpoints",
        "Info": "http://localhost:25001/info", "Name": "Kgrid Python Runtime", "Version": "0.1.0"}


def test_endpoint_summary_is_t14_without_code_references():
    entry = {"activated": datetime(2026, 11, 21, 23, 16, 20), "checksum": "abc123", "entry": "src.hello",
             "function": "<function welcome>", "function_name": "welcome", "id": "hello/world/1.0/welcome",
             "is_processing": False, "path": "pyshelf.x.src.hello", "status": "Activated",
             "url": f"{RUNTIME}/hello_world_1_0_welcome"}
    assert wire.endpoint_summary(entry) == {
        "activated": "Sat, 21 Nov 2026 23:16:20 GMT", "checksum": "abc123", "function_name": "welcome",
        "id": "hello/world/1.0/welcome", "is_processing": False, "status": "Activated",
        "url": f"{RUNTIME}/hello_world_1_0_welcome"}
    assert "url" not in wire.endpoint_summary({**entry, "url": None})


def test_method_not_allowed_is_t16():
    assert wire.render(wire.METHOD_NOT_ALLOWED) == \
        '{"code": 405, "name": "Method Not Allowed", "description": "The method is not allowed for the requested URL."}'


@pytest.mark.parametrize("interval,enabled", [(-1, False), (0, False), (1, False), (4, False), (5, True), (30, True)])
def test_heartbeat_runs_only_for_intervals_of_five_seconds_or_more(interval, enabled):
    assert wire.heartbeat_enabled(interval) is enabled


def test_one_trailing_slash_of_the_adapter_url_is_dropped():
    assert wire.strip_slash("http://a:8080/") == "http://a:8080"
    assert wire.strip_slash("http://a:8080") == "http://a:8080"


@pytest.mark.parametrize("missing", ["uri", "entry", "function", "artifact", "baseUrl"])
def test_a_descriptor_without_a_required_key_is_a_keyerror_500(missing):
    body = {"artifact": ["src/hello.py"], "engine": "python", "entry": "src/hello.py", "function": "welcome",
            "baseUrl": f"{ACTIVATOR}/proxy/artifacts/hello-world-v1.0/", "uri": "hello/world/1.0/welcome"}
    del body[missing]
    with pytest.raises(wire.WireError) as refusal:
        wire.validate_descriptor(body)
    assert (refusal.value.status, refusal.value.body) == (500, {"code": 500, "description": repr(missing),
                                                                "name": "KeyError"})


def test_the_activator_adds_base_url_with_a_slash_and_uri_to_the_deployment_node():
    node = {"artifact": ["src/hello.py"], "engine": "python", "entry": "src/hello.py", "function": "welcome"}
    sent = wire.descriptor(node, f"{ACTIVATOR}/proxy/artifacts/hello-world-v1.0", "hello/world/1.0/welcome")
    assert sent["baseUrl"] == f"{ACTIVATOR}/proxy/artifacts/hello-world-v1.0/"
    assert sent["uri"] == "hello/world/1.0/welcome" and sent["function"] == "welcome"


def test_the_execution_url_is_the_reply_uri_on_the_reply_base():
    reply = {"baseUrl": RUNTIME, "uri": "hello_world_1_0_welcome"}
    assert wire.execution_url(reply, "http://other") == f"{RUNTIME}/hello_world_1_0_welcome"


def test_the_adapter_unwraps_result_else_keeps_the_json_else_the_text():
    assert wire.unwrap_result('{"result": [1]}') == [1]
    assert wire.unwrap_result('{"other": 1}') == {"other": 1}
    assert wire.unwrap_result("plain words") == "plain words"


@pytest.mark.parametrize("status,mapped", [(400, (400, "Adapter Client Error")), (404, (400, "Adapter Client Error")),
                                           (500, (500, "Adapter Server Error")), (503, (500, "Adapter Server Error"))])
def test_runtime_errors_map_onto_adapter_errors(status, mapped):
    assert wire.adapter_status(status) == mapped


@pytest.mark.parametrize("body,refusal", [
    ({"url": "http://x"}, "Not registered: Runtime failed to specify engine"),
    ({"engine": "python"}, "Not registered: Runtime failed to specify its url"),
    ([], "Not registered: Runtime failed to specify engine"),
    ({"engine": "python", "url": "http://x"}, None),
])
def test_registrations_need_engine_and_url(body, refusal):
    assert wire.validate_registration(body) == refusal
