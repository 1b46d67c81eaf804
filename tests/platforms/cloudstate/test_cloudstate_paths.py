"""A ``%%cloudstate_proto`` name is an import path inside the notebook's proto library, never a way out."""
from __future__ import annotations

import tempfile

import pytest
from IPython.core.error import UsageError
from notebook_shell import polynb_shell

PROTO = 'syntax = "proto3";\npackage escape;\nmessage Out { string text = 1; }\n'


@pytest.fixture
def ip(journal_dir, monkeypatch, tmp_path):
    """A shell whose protoc scratch folders are made two levels below ``tmp_path`` (not the conftest's cart shell)."""
    scratch = tmp_path / "one" / "two"
    scratch.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with polynb_shell() as shell:
        yield shell


@pytest.mark.parametrize("name", ["../../escaped", "../escaped.proto", "a/../../escaped"])
def test_a_proto_name_that_leaves_the_library_is_refused_and_writes_nothing(ip, tmp_path, name):
    with pytest.raises(UsageError, match="leads outside"):
        ip.run_cell_magic("cloudstate_proto", name, PROTO)
    assert not list(tmp_path.rglob("escaped*"))
    assert not list(tmp_path.parent.glob("escaped*"))


def test_a_proto_name_in_a_subfolder_still_compiles(ip):
    ip.run_cell_magic("cloudstate_proto", "escape/inside", PROTO)
    assert ip.user_ns["inside"].Out(text="x").text == "x"
