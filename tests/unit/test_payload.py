import ast

import pytest

from polynb.payload import Payload, PayloadError, defined_names, materialize, resolve_entry


def payload(source, **kw):
    return Payload("fake", kw.pop("name", "hello"), source, **kw)


def test_the_digest_changes_with_the_source_and_options_and_only_with_them():
    a = payload("def hello(x): return x")
    assert a.digest == payload("def hello(x): return x").digest
    assert a.digest != payload("def hello(x): return x + 1").digest
    assert a.digest != payload("def hello(x): return x", options={"k": 1}).digest
    assert a.digest != payload("def hello(x): return x", isolated=True).digest


def test_defined_names_covers_functions_classes_assignments_and_imports():
    tree = ast.parse("import os.path\nfrom json import dumps as d\nx, (y, z) = 1, (2, 3)\n"
                     "def f(): pass\nclass C: pass\nw: int = 3\n")
    assert defined_names(tree) == ["os", "d", "x", "y", "z", "f", "C", "w"]


def test_the_entry_is_the_only_function_or_the_one_named_like_the_payload():
    assert resolve_entry(payload("def only(x): pass"), "def only(x): pass", True).entry == "only"
    two = "def helper(x): pass\ndef hello(x): pass"
    assert resolve_entry(payload(two), two, True).entry == "hello"


def test_an_ambiguous_entry_is_a_clear_error_naming_the_choices():
    two = "def a(x): pass\ndef b(x): pass"
    with pytest.raises(PayloadError, match="2 functions \\(a, b\\).*--entry"):
        resolve_entry(payload(two), two, True)
    assert resolve_entry(payload(two), two, False).entry is None


def test_a_named_entry_that_the_cell_does_not_define_is_refused():
    with pytest.raises(PayloadError, match="defines no 'missing'"):
        resolve_entry(payload("def a(x): pass", entry="missing"), "def a(x): pass", True)


def test_a_syntax_error_is_a_payload_error():
    with pytest.raises(PayloadError, match="not valid Python"):
        resolve_entry(payload("def (:"), "def (:", True)


def test_a_notebook_payload_sees_the_notebook_globals_live():
    ns = {}
    source = "def hello(x): return x + offset"
    exec(source, ns)
    version = materialize(resolve_entry(payload(source), source, True), source, 1, ns)
    ns["offset"] = 10
    assert version.entry_point()(1) == 11
    ns["offset"] = 20
    assert version.entry_point()(1) == 21


def test_a_version_keeps_the_function_it_was_registered_with():
    ns = {}
    exec("def hello(x): return 1", ns)
    version = materialize(payload("def hello(x): return 1", entry="hello"), "def hello(x): return 1", 1, ns)
    exec("def hello(x): return 2", ns)
    assert version.entry_point()(0) == 1


def test_an_isolated_payload_has_a_namespace_of_its_own():
    ns = {"offset": 5}
    source = "offset = 100\ndef hello(x): return x + offset"
    version = materialize(resolve_entry(payload(source, isolated=True), source, True), source, 1, ns)
    assert version.entry_point()(1) == 101
    assert ns == {"offset": 5}
    assert version.namespace is not ns


def test_a_non_callable_entry_is_refused():
    ns = {"hello": 3}
    with pytest.raises(PayloadError, match="not callable"):
        materialize(payload("hello = 3", entry="hello"), "hello = 3", 1, ns)
