"""A ``%%kgrid_ko`` endpoint's signature: its function's annotations in the KO's service spec, shown by
``%polynb status``, and a call whose input does not fit it refused before it reaches the activator."""
from __future__ import annotations

import json
import os

import pytest
import yaml
from notebook_shell import polynb_shell, run

import polynb
from polynb.journal import SUCCEEDED
from polynb.platforms.kgrid import ko as kos
from polynb.platforms.kgrid.signature import from_service_spec
from polynb.signature import InputMismatch

CELL = """%%kgrid_ko demo/ward/1.0 --endpoint admit
from typing import TypedDict

class Admission(TypedDict):
    name: str
    age: int

def admit(patient: Admission) -> str:
    return f"{patient['name']} ({patient['age']}) admitted"
"""
SUMMARY = "admit(Admission {name: string, age: integer}) -> string"


@pytest.fixture
def ip(journal_dir, kgrid_env, standin, tmp_path):
    """A notebook shell whose KGrid binding publishes to `polynb up kgrid` (the local activator)."""
    activator = standin("kgrid", env={**os.environ, "KGRID_ACTIVATOR_SHELF": str(tmp_path / "shelf")})
    kgrid_env.setenv("KGRID_PROXY_ADAPTER_URL", activator.info["url"])
    with polynb_shell(forget=("admit", "Admission", "TypedDict")) as shell:
        yield shell


def test_the_signature_is_in_the_service_spec_the_journal_and_polynb_status(ip, capsys, tmp_path):
    run(ip, CELL)
    capsys.readouterr()
    run(ip, "%polynb status")
    [payload] = json.loads(capsys.readouterr().out)["payloads"]
    assert payload["name"] == "demo/ward/1.0/admit"
    assert payload["signature"]["operations"]["admit"]["summary"] == SUMMARY
    assert payload["signature"]["source"] == "service.yaml of demo/ward/1.0 (/admit)"
    assert polynb.get_journal().payload("kgrid", "demo/ward/1.0/admit").signature == payload["signature"]
    run(ip, f"%kgrid_export demo/ward/1.0 {tmp_path / 'ko'}")
    spec = yaml.safe_load((tmp_path / "ko" / "service.yaml").read_text())
    request = spec["paths"]["/admit"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request["required"] == ["name", "age"] and request["properties"]["age"] == {"type": "integer"}
    assert from_service_spec(kos.load(tmp_path / "ko"), "admit").lines() == [SUMMARY]


def test_a_call_that_does_not_fit_is_refused_and_never_reaches_the_activator(ip):
    run(ip, CELL)
    with pytest.raises(InputMismatch) as refused:
        polynb.kgrid.call("demo/ward/1.0/admit", {"name": "Ada", "age": "ten"})
    assert str(refused.value) == ("kgrid demo/ward/1.0/admit: input.age: expected integer, got 'ten' (str); "
                                  "nothing was sent")
    with pytest.raises(InputMismatch, match=r"input\.name: missing \(expected string\)"):
        run(ip, '%kgrid_call demo/ward/1.0/admit {"age": 3}')
    assert polynb.records(platform="kgrid") == []
    assert polynb.kgrid.call("demo/ward/1.0/admit", {"name": "Ada", "age": 10}) == "Ada (10) admitted"
    assert [record.status for record in polynb.records(platform="kgrid")] == [SUCCEEDED]


def test_an_endpoint_without_annotations_takes_any_input(ip):
    run(ip, "%%kgrid_ko demo/echo/1.0\ndef echo(x):\n    return x")
    assert polynb.get_journal().payload("kgrid", "demo/echo/1.0/echo").signature["operations"]["echo"]["summary"] \
        == "echo(any) -> any"
    assert polynb.kgrid.call("demo/echo/1.0/echo", [1, "two"]) == [1, "two"]
