"""A magic's JSON argument reads the same on every platform: JSON first, a Python expression where allowed."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from polynb.magics import json_argument


def test_an_empty_argument_is_the_default():
    assert json_argument("%m", "INPUT", "  ", default={}) == {}
    assert json_argument("%m", "INPUT", None) is None


@pytest.mark.parametrize("text, value", [("true", True), ("false", False), ("null", None), ("[1, 2]", [1, 2]),
                                         ('{"a": "#1"}', {"a": "#1"})])
def test_json_values_including_true_and_false(text, value):
    assert json_argument("%m", "INPUT", text) == value


def test_text_that_is_no_json_is_evaluated_where_the_magic_allows_expressions():
    assert json_argument("%m", "INPUT", "True and 7", evaluate=eval) == 7


def test_text_that_is_no_json_is_a_usage_error_naming_the_magic_and_the_argument():
    with pytest.raises(UsageError, match=r"^%colonies_submit: --args is not JSON: Expecting"):
        json_argument("%colonies_submit", "--args", "[1", list)


def test_a_value_of_another_kind_is_a_usage_error_saying_which_kind():
    with pytest.raises(UsageError, match=r"--kwargs must be a JSON object"):
        json_argument("%colonies_submit", "--kwargs", "[1]", dict)
    with pytest.raises(UsageError, match=r"the query must be a JSON object"):
        json_argument("%vantiq_query", "the query", "5", dict, evaluate=eval)
