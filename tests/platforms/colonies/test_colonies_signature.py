"""A ``%%colonies_func`` function's signature: its parameters, shown by ``%polynb status``, and a spec whose
args the function would not take refused before it reaches the colony."""
from __future__ import annotations

import asyncio
import json

import pytest
from colonies_harness import enroll
from IPython.core.error import UsageError
from notebook_shell import polynb_shell, run

import polynb
from polynb.platforms.colonies import crypto
from polynb.platforms.colonies.signature import named, of_function
from polynb.signature import InputMismatch

CELL = "%%colonies_func scale --executortype sig-t\ndef scale(x: int, unit: str = 'cm') -> str:\n    return f'{x * 2} {unit}'"


@pytest.fixture
def ip(journal_dir, server, monkeypatch):
    for name, value in {**server.env_vars(), "POLYNB_COLONIES_ASSIGN_TIMEOUT": "2"}.items():
        monkeypatch.setenv(name, value)
    with polynb_shell(forget=("scale",)) as shell:
        yield shell


def processes(server) -> int:
    """How many processes the colony has ever been given (waiting, running, succeeded or failed)."""
    async def count() -> int:
        client = server.client()
        try:
            observer = await enroll(client, server, f"observer-{crypto.generate_private_key()[:8]}")
            return sum([len(await client.get_processes(server.colony, state, observer)) for state in range(4)])
        finally:
            await client.close()

    return asyncio.run(count())


def test_the_functions_parameters_are_stored_and_shown_by_polynb_status(ip, capsys):
    run(ip, CELL)
    capsys.readouterr()
    run(ip, "%polynb status")
    [payload] = json.loads(capsys.readouterr().out)["payloads"]
    assert payload["signature"]["operations"]["scale"]["summary"] == "scale(x: integer, unit?: string) -> string"
    assert payload["signature"]["source"] == "the parameters of scale()"


def test_a_spec_the_function_would_not_take_is_refused_and_never_submitted(ip, server):
    run(ip, CELL)
    before = processes(server)
    with pytest.raises(InputMismatch, match=r"^colonies scale: x: expected integer, got '3' \(str\); nothing was sent$"):
        polynb.colonies.submit("scale", ["3"], wait=True, follow=False, timeout=30)
    with pytest.raises(InputMismatch, match=r"x: expected integer, got '1.5' \(str\) \(1.5 travels as text: a spec "
                                            r"carries args as str or int"):
        polynb.colonies.submit("scale", [1.5], wait=True, follow=False, timeout=30)
    with pytest.raises(UsageError, match=r"colonies scale: args: 3 given, but it takes at most 2 by position"):
        run(ip, "%colonies_submit scale --args [1,2,3] --executortype sig-t --wait")
    with pytest.raises(InputMismatch, match=r"colonies scale: units: no such parameter \(the parameters: x, unit\)"):
        polynb.colonies.workflow([{"funcname": "scale", "nodename": "a", "args": [1], "kwargs": {"units": "m"}}])
    assert processes(server) == before and polynb.records(platform="colonies") == []
    assert polynb.colonies.submit("scale", [3], {"unit": "m"}, executortype="sig-t", wait=True, follow=False,
                                  timeout=30) == ["6 m"]
    assert len(polynb.records(platform="colonies")) == 1


def test_args_bind_to_parameters_as_python_binds_them():
    def f(a: str, b: int = 0, *rest: int, c: bool = False) -> None: ...

    shape = of_function("f", f).operations["f"].input
    assert named(shape, ["x", 1, 2, 3], {"c": True}, "f") == {"a": "x", "b": 1, "c": True}
    with pytest.raises(InputMismatch, match="kwargs.a: given by position already"):
        named(shape, ["x"], {"a": "y"}, "f")
    assert of_function("f", f).lines() == ["f(a: string, b?: integer, *args, c?: boolean) -> null"]
    assert of_function("len", len).lines() == ["len(obj: any) -> any"]
