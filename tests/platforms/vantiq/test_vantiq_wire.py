"""The wire module against the fact sheet's recorded frames and rules (no sockets)."""
from __future__ import annotations

import json
import math

import pytest

from polynb.platforms.vantiq import wire
from polynb.platforms.vantiq.wire import VantiqError


def error_of(obj, **kw) -> dict:
    with pytest.raises(VantiqError) as caught:
        wire.parse_query(obj, **kw)
    return caught.value.body


@pytest.mark.parametrize("target, url", [
    ("http://127.0.0.1:18765", "ws://127.0.0.1:18765/api/v1/wsock/websocket"),
    ("http://127.0.0.1:18765/", "ws://127.0.0.1:18765/api/v1/wsock/websocket"),
    ("https://dev.vantiq.com/some/prefix", "wss://dev.vantiq.com/api/v1/wsock/websocket"),
    ("https://dev.vantiq.com/api/v2/wsock/websocket", "wss://dev.vantiq.com/api/v2/wsock/websocket"),
])
def test_the_websocket_url_follows_the_connectors_rule(target, url):
    assert wire.websocket_url(target) == url


def test_the_rest_base_keeps_scheme_and_host_only():
    assert wire.rest_base("wss://dev.vantiq.com/api/v1/wsock/websocket") == "https://dev.vantiq.com"


def test_handshake_frames_are_the_recorded_ones():
    assert wire.encode(wire.validate_frame("tok-123")) == \
        '{"op": "validate", "resourceName": "system.credentials", "object": "tok-123"}'
    assert wire.encode(wire.connect_frame("pySource1", "pySource1_x")) == (
        '{"op": "connectExtension", "resourceName": "sources", "resourceId": "pySource1", '
        '"parameters": {"reconnectSecret": "pySource1_x"}}')


def test_a_204_response_has_no_body_key_and_keys_keep_the_connectors_order():
    assert wire.encode(wire.response_frame("reply-006", 204)) == '{"status": 204, "headers": {"X-Reply-Address": "reply-006"}}'
    assert list(wire.response_frame("r", 200, {})) == ["status", "headers", "body"]


def test_nan_and_infinity_go_out_as_bare_tokens():
    assert wire.encode({"nan": math.nan, "inf": math.inf}) == '{"nan": NaN, "inf": Infinity}'


@pytest.mark.parametrize("text, reason", [("not json", "not JSON"), ("[1, 2]", "JSON list"), (b"\xff", "not JSON")])
def test_a_frame_that_is_not_a_json_object_is_a_wire_error(text, reason):
    with pytest.raises(wire.WireError, match=reason):
        wire.decode(text)


def test_the_configuration_takes_an_inner_config_and_keeps_runtime_info_unset_when_absent():
    frame = {"op": "configureExtension", "object": {"config": {"config": {"pythonExecConfig": {"general": {
        "codeCacheSize": 2, "returnRuntimeInformation": "Yes"}}}}}}
    assert wire.SourceSettings.from_config(wire.server_config(frame)) == wire.SourceSettings(2, True)
    assert wire.SourceSettings.from_config({}) == wire.SourceSettings(128, None)


@pytest.mark.parametrize("value, expected", [(True, True), ("t", True), ("YES", True), ("1", True), ("false", False),
                                             ("no", False), (1, False), (None, False)])
def test_flags_follow_the_connectors_truthiness(value, expected):
    assert wire.truthy(value) is expected


def test_limit_return_to_strips_list_items_and_removes_spaces_from_a_string():
    assert wire.parse_query({"code": "a", "limitReturnTo": ["a", " c "]}).limit_return_to == ("a", "c")
    assert wire.parse_query({"code": "a", "limitReturnTo": "b, c, missing"}).limit_return_to == ("b", "c", "missing")


def test_recorded_validation_errors():
    assert error_of({"code": "a = 1\n", "limitReturnTo": 5}) == {
        "messageCode": "io.vantiq.pyexecsource.runpython.badreturnvaluesfor",
        "messageTemplate": "The returnValuesFor parameter must be a string or a list, found: {0}", "parameters": ["int"]}
    assert error_of({"code": "a = 1\n", "codeHandlesReturn": True, "limitReturnTo": ["a"]})["messageCode"] == \
        "io.vantiq.pyexecsource.runpython.conflictingreturn"
    assert error_of({"code": "a = 1\n", "presetValues": [1, 2]})["parameters"] == ["presetValues"]
    assert error_of({"code": "a = 1\n", "cache_code": True})["messageCode"] == "io.vantiq.pyexecsource.runpython.nocachename"
    assert error_of({}) == {
        "messageCode": "io.vantiq.pyexecsource.runpython.nocode",
        "messageTemplate": "No code was provided to execute. Message was {0}, but no {1} value was present.",
        "parameters": [{}, "code"]}


def test_validation_runs_in_the_connectors_order():
    assert error_of({"limitReturnTo": 5, "presetValues": [1]})["messageCode"].endswith("badreturnvaluesfor")
    assert error_of({"presetValues": [1], "cache_code": True})["messageCode"].endswith("badglobalpreset")
    assert error_of({"cache_code": True})["messageCode"].endswith("nocachename")


def test_a_non_string_limit_item_is_refused_with_its_type_where_the_real_connector_stays_silent():
    assert error_of({"code": "a", "limitReturnTo": ["a", 5]})["parameters"] == ["int"]


def test_code_wins_over_script_and_the_cache_key_is_the_script_or_the_name():
    both = wire.parse_query({"code": "a = 1", "script": "myDoc.py"})
    assert (both.script, both.key) == (None, None)
    assert wire.parse_query({"script": "myDoc.py", "name": "ignored"}).key == "myDoc.py"
    assert wire.parse_query({"name": "sq", "code": "r = 1"}).cache_code is True


def test_defaults_fill_options_the_query_leaves_out():
    query = wire.parse_query({"name": "cell"}, defaults={"limitReturnTo": "r"})
    assert query.limit_return_to == ("r",)


def test_an_option_present_as_null_counts_as_given_like_on_the_connector():
    assert error_of({"code": "a", "limitReturnTo": None})["parameters"] == ["NoneType"]
    assert error_of({"code": "a", "presetValues": None})["messageCode"].endswith("badglobalpreset")
    assert error_of({"code": "a", "codeHandlesReturn": True, "limitReturnTo": ""})["messageCode"].endswith(
        "conflictingreturn")


def test_empty_code_runs_but_an_empty_name_or_script_gets_the_short_nocode():
    assert wire.parse_query({"code": ""}).code == ""
    for obj in ({"name": ""}, {"script": ""}):
        assert error_of(obj) == {"messageCode": "io.vantiq.pyexecsource.runpython.nocode",
                                 "messageTemplate": "No code was provided to execute.", "parameters": []}


def test_call_results_drop_hidden_and_unserialisable_globals_and_normalise_json():
    namespace = {"__file__": "f", "__name__": "__main__", "connector_context": {}, "connector_connection": object(),
                 "__builtins__": {}, "tup": (1, 2), "intkeys": {1: "a"}, "fn": len, "s": {1}, "ok": "fine"}
    assert wire.call_results(namespace, None) == {"tup": [1, 2], "intkeys": {"1": "a"}, "ok": "fine"}
    assert wire.call_results({"a": 1, "b": 2, "c": 3}, ("c", "a", "missing")) == {"a": 1, "c": 3}


def test_a_circular_result_raises_value_error():
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular"):
        wire.call_results({"l": circular}, None)


def test_runtime_info_keys_come_in_the_connectors_order():
    info = wire.runtime_info(using_cached=True, name="a", new_cache_entry=False, compile_time=None, execution_time=0.1,
                             total_time=0.2, cache_size=1, capacity=2)
    assert list(info) == ["using_cached", "name", "newCacheEntry", "executionTime", "totalTime", "query_time",
                          "currentCacheSize", "cacheCapacity"]


@pytest.mark.parametrize("code, message", [(300, {}), (200, None), (400, {})])
def test_send_query_response_accepts_only_100_200_204_with_a_message_unless_204(code, message):
    with pytest.raises(ValueError):
        wire.check_response(code, message)
    wire.check_response(204, None)


def test_send_query_error_needs_all_three_keys():
    with pytest.raises(ValueError, match="parameters"):
        wire.check_error({"messageCode": "c", "messageTemplate": "t"})


def test_errors_render_as_one_readable_line():
    body = {"messageCode": "my.code", "messageTemplate": "bad {0} in {1}", "parameters": ["thing", [1]]}
    assert wire.render(body) == "my.code: bad thing in [1]"
    assert json.loads(json.dumps(VantiqError("c", "t {0}", ["x"]).body))["parameters"] == ["x"]
