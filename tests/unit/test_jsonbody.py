"""Reading a request body as JSON: bounded depth, expected type, the decoder's own error kept as the cause."""
from __future__ import annotations

import json

import pytest

from polynb import jsonbody
from polynb.jsonbody import BodyRefused


def refusal(body, **options) -> BodyRefused:
    with pytest.raises(BodyRefused) as raised:
        jsonbody.loads(body, **options)
    return raised.value


def test_json_deeper_than_the_limit_is_refused_before_anything_recurses_over_it():
    refused = refusal("[" * 201 + "]" * 201)
    assert (refused.status, refused.reason) == (400, jsonbody.TOO_DEEP)
    assert jsonbody.loads("[" * 200 + "]" * 200, max_depth=200)


def test_json_past_the_decoders_recursion_limit_is_too_deep_not_a_recursion_error():
    refused = refusal(b"[" * 100_000 + b"]" * 100_000)
    assert refused.reason == jsonbody.TOO_DEEP and isinstance(refused.__cause__, RecursionError)


def test_brackets_inside_strings_do_not_count_as_depth():
    assert jsonbody.loads(json.dumps({"text": "[" * 5000})) == {"text": "[" * 5000}


def test_malformed_json_keeps_the_decoders_error_as_its_cause():
    refused = refusal("{nope")
    assert refused.reason == jsonbody.NOT_JSON and isinstance(refused.__cause__, json.JSONDecodeError)
    assert refusal(b"\xff").reason == jsonbody.NOT_JSON


@pytest.mark.parametrize("body, expect, named", [("[1]", dict, "an object"), ("{}", list, "an array"),
                                                  ("true", (int, float), "a number"), ("null", str, "a string")])
def test_a_value_of_another_top_level_type_is_refused_naming_both(body, expect, named):
    refused = refusal(body, expect=expect)
    assert refused.reason == jsonbody.WRONG_TYPE and named in refused.detail


def test_depth_is_counted_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert jsonbody.depth(value) == 100_001
    assert jsonbody.depth(value, stop_after=10) == 11


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8"])
def test_json_media_types_are_accepted_with_parameters(content_type):
    jsonbody.check_media_type(content_type)


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
def test_other_media_types_are_a_415(content_type):
    with pytest.raises(BodyRefused) as raised:
        jsonbody.check_media_type(content_type)
    assert (raised.value.status, raised.value.reason) == (415, jsonbody.MEDIA_TYPE)
