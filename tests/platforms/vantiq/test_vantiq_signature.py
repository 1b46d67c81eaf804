"""A ``%%vantiq_exec`` cell's signature, learned from the presetValues of the queries it answered: stored, shown by
``%polynb status``, and a query whose presetValues do not fit it refused before it reaches the server."""
from __future__ import annotations

import json

import httpx
import pytest
from notebook_shell import run

import polynb
from polynb.journal import SUCCEEDED
from polynb.platforms.vantiq import api
from polynb.platforms.vantiq.signature import learned
from polynb.signature import InputMismatch


def from_a_vantiq_app(query: dict) -> list:
    """A query straight to the server's REST API, as a Vantiq app's would come (no check of polynb's on the way)."""
    base, token = api.endpoint()
    reply = httpx.post(f"{base}/api/v1/resources/sources/polynb/query", json=query,
                       headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def status(ip, capsys, name: str) -> dict | None:
    capsys.readouterr()
    run(ip, "%polynb status")
    return next(p["signature"] for p in json.loads(capsys.readouterr().out)["payloads"] if p["name"] == name)


def test_the_shape_of_answered_queries_is_learned_stored_and_shown(ip, capsys):
    run(ip, "%%vantiq_exec cube\nresult = side ** 3")
    assert status(ip, capsys, "cube") is None  # nothing seen yet
    assert api.query("polynb", name="cube", presetValues={"side": 2, "label": "a"}) == [
        {"pythonCallResults": {"side": 2, "label": "a", "result": 8}}]
    signature = status(ip, capsys, "cube")
    assert signature["operations"]["cube"]["summary"] == "cube({side: number, label: string})"
    assert signature["source"] == "the presetValues of the queries it answered"
    with pytest.raises(api.VantiqQueryError, match="OverflowError"):
        api.query("polynb", name="cube", presetValues={"side": 1e308, "label": "b", "unit": "cm"})
    assert status(ip, capsys, "cube") == signature  # a query that failed teaches nothing
    assert from_a_vantiq_app({"name": "cube", "presetValues": {"side": 1.5}}) == [
        {"pythonCallResults": {"side": 1.5, "result": 3.375}}]
    assert status(ip, capsys, "cube")["operations"]["cube"]["summary"] == "cube({side: number, label?: string})"
    assert polynb.get_journal().payload("vantiq", "cube").signature == status(ip, capsys, "cube")


def test_presetvalues_that_do_not_fit_are_refused_and_never_reach_the_server(ip):
    run(ip, "%%vantiq_exec square\nresult = side ** 2")
    api.query("polynb", name="square", presetValues={"side": 3})
    before = polynb.records(platform="vantiq", payload="square")
    with pytest.raises(InputMismatch) as refused:
        api.query("polynb", name="square", presetValues={"side": "three"})
    assert str(refused.value) == ("vantiq square: presetValues.side: expected number, got 'three' (str); "
                                  "nothing was sent")
    with pytest.raises(InputMismatch, match=r"presetValues\.side: missing \(expected number\)"):
        run(ip, '%vantiq_query polynb {"name": "square", "presetValues": {"width": 3}}')
    assert polynb.records(platform="vantiq", payload="square") == before
    assert [r.status for r in before] == [SUCCEEDED]
    run(ip, "%%vantiq_exec square\nresult = side * 2")  # a new version: its own queries teach it again
    assert api.query("polynb", name="square", presetValues={"side": "ab"}) == [
        {"pythonCallResults": {"side": "ab", "result": "abab"}}]


def test_a_learned_field_widens_to_every_type_seen_and_a_null_is_kept_apart():
    first = learned("q", None, {"n": 1, "tag": None})
    assert first.lines() == ["q({n: number, tag: null})"]
    wider = learned("q", first, {"n": "one", "tag": "x", "more": [1]})
    assert wider.lines() == ["q({n: number|string, tag: string|null, more?: array})"]
    assert learned("q", wider, {"n": 2, "tag": None, "more": []}) is None  # nothing new: no journal write
