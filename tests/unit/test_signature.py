"""Signatures: shapes from annotations, the one-line refusals of an input that does not fit, the journal's copy."""
from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

import pytest

from polynb.journal import Journal
from polynb.signature import InputMismatch, Operation, Signature, check, describe, from_annotation, one, registered


class Patient(TypedDict):
    name: str
    age: int
    tags: NotRequired[list[str]]


GREET = one("greet", from_annotation(Patient), from_annotation(str), "a test")


@pytest.mark.parametrize("annotation, words", [
    (str, "string"), (int, "integer"), (float, "number"), (bool, "boolean"), (None, "null"),
    (int | None, "integer|null"), (int | str, "integer|string"), (list[float], "array of number"),
    (tuple[int, ...], "array of integer"), (dict[str, bool], "object of boolean"), (dict, "object"),
    (Literal["low", "high"], '"low"|"high"'), (Patient, "Patient {name: string, age: integer, tags?: array of string}"),
    (complex, "any"), (object | None, "any"),
])
def test_an_annotation_becomes_the_shape_of_the_json_it_describes(annotation, words):
    assert describe(from_annotation(annotation)) == words


class Node(TypedDict):
    label: str
    children: list[Node]


def test_a_typeddict_that_contains_itself_is_spelled_out_once():
    assert describe(from_annotation(Node)) == "Node {label: string, children: array of Node}"
    one("walk", from_annotation(Node), None, "t").validate({"label": "a", "children": [{"anything": 1}]})


@pytest.mark.parametrize("value, message", [
    ({"name": 5, "age": 3}, "greet: input.name: expected string, got 5 (int); nothing was sent"),
    ({"age": 3}, "greet: input.name: missing (expected string); nothing was sent"),
    ({"name": "Ada", "age": True}, "input.age: expected integer, got True (bool)"),
    ({"name": "Ada", "age": 3, "tags": ["a", 7]}, "input.tags[1]: expected string, got 7 (int)"),
    ([1, 2], "input: expected Patient {name: string, age: integer, tags?: array of string}, got [1, 2] (list)"),
])
def test_an_input_that_does_not_fit_is_refused_in_one_line_naming_the_field(value, message):
    with pytest.raises(InputMismatch) as refused:
        GREET.validate(value)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value._render_traceback_() == [f"InputMismatch: {refused.value}"]


def test_an_input_that_fits_passes_whole_numbers_and_extra_fields_included():
    GREET.validate({"name": "Ada", "age": 3.0, "tags": [], "ward": "B"})


def test_a_closed_object_names_its_fields_and_takes_aliases_and_nulls_as_absent():
    shape = {"type": "object", "title": "Item", "properties": {"user_id": {"type": "string"}},
             "additionalProperties": False, "x-aliases": {"userId": "user_id"}, "x-null-absent": True}
    signature = one("Add", shape, None, "a test")
    signature.validate({"userId": "u", "user_id": None})
    with pytest.raises(InputMismatch, match=r"Add: input\.qty: no such field \(the fields: user_id\)"):
        signature.validate({"qty": 1})
    with pytest.raises(InputMismatch, match=r"input\.userId: expected string, got 3 \(int\)"):
        signature.validate({"userId": 3})


def test_a_union_and_an_enum_say_every_choice():
    signature = one("f", {"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": True}, None, "t")
    for fits in (1, "1", None):
        signature.validate(fits)
    with pytest.raises(InputMismatch, match=r"expected integer\|string\|null, got 1\.5 \(float\)"):
        signature.validate(1.5)
    with pytest.raises(InputMismatch, match=r'expected "a"\|1, got True \(bool\)'):
        one("g", {"enum": ["a", 1]}, None, "t").validate(True)


def test_an_unknown_operation_is_refused_with_the_ones_it_has():
    signature = Signature({"AddItem": Operation({}), "GetCart": Operation({})}, "t")
    signature.validate({"anything": 1}, "GetCart")
    with pytest.raises(InputMismatch, match=r"no such operation \(it has: AddItem, GetCart\)"):
        signature.validate({}, "Checkout", subject="cloudstate Cart")


def test_a_summary_reads_like_a_call_and_a_functions_parameters_like_python():
    assert GREET.lines() == ["greet(Patient {name: string, age: integer, tags?: array of string}) -> string"]
    parameters = {"type": "object", "properties": {"x": {"type": "integer"}, "y": {}, "z": {"type": "boolean"}},
                  "required": ["x"], "additionalProperties": False, "x-positional": ["x", "y"], "x-varargs": True}
    assert Operation(parameters, {}).summary("f") == "f(x: integer, y?: any, *args, z?: boolean) -> any"
    assert Operation({}).summary("q") == "q(any)"


def test_as_json_keeps_shapes_and_summaries_and_reads_back():
    data = GREET.as_json()
    assert data["source"] == "a test"
    assert data["operations"]["greet"]["summary"] == GREET.lines()[0]
    assert Signature.from_json(data) == GREET


def test_the_journal_keeps_a_versions_signature_and_the_active_one_is_checked(tmp_path):
    journal = Journal(tmp_path / ".polynb")
    try:
        journal.payload_registered("kgrid", "a/b/1/greet", 1, "d1", "greet", "src", {}, None, None,
                                   signature=GREET.as_json())
        assert journal.payload("kgrid", "a/b/1/greet", 1).signature == GREET.as_json()
        with pytest.raises(InputMismatch, match=r"^kgrid a/b/1/greet: input\.name: missing"):
            check(journal, "kgrid", "a/b/1/greet", {"age": 1})
        learned = one("greet", {"type": "object", "required": ["age"]}, None, "learned").as_json()
        journal.payload_signature("kgrid", "a/b/1/greet", 1, learned).result()
        assert registered(journal, "kgrid", "a/b/1/greet").source == "learned"
        journal.payload_registered("kgrid", "a/b/1/greet", 2, "d2", "greet", "src", {}, None, None)
        assert registered(journal, "kgrid", "a/b/1/greet") is None  # v2 declares none: nothing to check
        check(journal, "kgrid", "a/b/1/greet", {"age": "any"})
        journal.payload_unregistered("kgrid", "a/b/1/greet")
        assert registered(journal, "kgrid", "a/b/1/greet") is None
    finally:
        journal.close_db()
