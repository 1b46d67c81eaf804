"""The magics in an IPython shell, with the fake platform: what a notebook user types."""
from __future__ import annotations

import httpx
import pytest
from IPython.core.error import UsageError
from notebook_shell import polynb_shell, run

import polynb
from polynb.magics import without_comment


@pytest.fixture
def ip(journal_dir, registry):
    with polynb_shell(forget=("hello", "counter", "total", "offset")) as shell:
        yield shell



def test_load_ext_registers_polynb_and_every_platform_magic(ip):
    magics = ip.magics_manager.lsmagic()
    assert "polynb" in magics["line"]
    assert "fake_exec" in magics["cell"]


def test_load_ext_makes_polynb_importable_by_name_in_the_notebook(ip):
    assert ip.user_ns["polynb"] is polynb


def test_a_registering_cell_also_runs_in_the_notebook(ip):
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return x + 1\nloaded = True")
    assert ip.user_ns["hello"](1) == 2
    assert ip.user_ns["loaded"] is True
    address = polynb.get_service().address("fake", "hello")
    assert httpx.post(address, json=41).json()["output"] == 42


def test_executions_see_notebook_state_set_after_registration(ip):
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return x * factor")
    run(ip, "factor = 7")
    address = polynb.get_service().address("fake", "hello")
    assert httpx.post(address, json=6).json()["output"] == 42


def test_an_isolated_payload_does_not_see_the_notebook_globals(ip):
    run(ip, "offset = 1000")
    run(ip, "%%fake_exec hello --isolated\noffset = 1\ndef hello(x):\n    return x + offset")
    address = polynb.get_service().address("fake", "hello")
    assert httpx.post(address, json=1).json()["output"] == 2
    assert ip.user_ns["offset"] == 1  # the cell still ran in the notebook too


def test_a_cell_that_fails_registers_nothing_and_says_so(ip):
    with pytest.raises(UsageError, match="the cell failed, so 'hello' was not registered on fake"):
        run(ip, "%%fake_exec hello\ndef hello(x):\n    return x\nraise RuntimeError('broken cell')")
    assert polynb.get_service().current("fake", "hello") is None


def test_an_ambiguous_cell_is_a_one_line_usage_error(ip):
    with pytest.raises(UsageError, match="needs an entry point.*--entry"):
        run(ip, "%%fake_exec hello\ndef a(x): pass\ndef b(x): pass")


def test_rerunning_a_cell_unchanged_keeps_its_version_and_a_change_makes_a_new_one(ip):
    cell = "%%fake_exec hello\ndef hello(x):\n    return 'one'"
    run(ip, cell)
    run(ip, cell)
    assert polynb.get_service().current("fake", "hello").version == 1
    run(ip, cell.replace("'one'", "'two'"))
    assert polynb.get_service().current("fake", "hello").version == 2


def test_polynb_journal_lists_executions(ip, capsys):
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return 1 / x")
    address = polynb.get_service().address("fake", "hello")
    httpx.post(address, json=1)
    httpx.post(address, json=0)
    capsys.readouterr()
    ip.run_line_magic("polynb", "journal --status failed")
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out
    assert out.count("fake") == 1


def test_polynb_replay_reruns_a_failed_input_against_the_fixed_payload(ip):
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return 10 / x")
    address = polynb.get_service().address("fake", "hello")
    failed = httpx.post(address, json=0).json()["record"]
    with pytest.raises(UsageError, match="ZeroDivisionError"):
        ip.run_line_magic("polynb", f"replay {failed}")
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return 10 / (x + 1)")
    assert ip.run_line_magic("polynb", f"replay {failed[:8]}") == 10
    assert polynb.records(limit=1)[0].meta == {"replay_of": failed, "replayed_version": 2}


def test_polynb_replay_against_an_earlier_version_runs_that_version_s_code(ip):
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return 10 / x")
    address = polynb.get_service().address("fake", "hello")
    failed = httpx.post(address, json=0).json()["record"]
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return 10 / (x + 1)")
    with pytest.raises(UsageError, match="ZeroDivisionError"):
        ip.run_line_magic("polynb", f"replay {failed} --version 1")
    assert polynb.records(limit=1)[0].meta == {"replay_of": failed, "replayed_version": 1}
    assert ip.user_ns["hello"](0) == 10  # bringing v1 back did not redefine the notebook's hello
    assert ip.run_line_magic("polynb", f"replay {failed} --version 2") == 10
    with pytest.raises(UsageError, match="fake:hello has no version 7 .*it has 1, 2"):
        ip.run_line_magic("polynb", f"replay {failed} --version 7")


def test_polynb_replay_of_an_unknown_record_is_a_usage_error(ip):
    with pytest.raises(UsageError, match="no execution 'feedbeef'"):
        ip.run_line_magic("polynb", "replay feedbeef")


def test_polynb_config_shows_settings_with_secrets_masked(ip, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_TOKEN", "hunter2")
    polynb.shutdown()
    ip.run_line_magic("polynb", "config")
    out = capsys.readouterr().out
    assert '"token": "********"' in out
    assert "hunter2" not in out
    assert '"bind_host": "127.0.0.1"' in out


def test_polynb_start_and_stop_a_platform_without_payloads(ip, capsys):
    ip.run_line_magic("polynb", "start fake")
    assert "fake: ready at http://127.0.0.1:" in capsys.readouterr().out
    ip.run_line_magic("polynb", "stop fake")
    assert "fake: stopped" in capsys.readouterr().out
    with pytest.raises(UsageError, match="unknown platform 'nope'"):
        ip.run_line_magic("polynb", "start nope")


def test_an_unknown_polynb_command_names_the_known_ones(ip):
    with pytest.raises(UsageError, match="use journal, replay, cancel, config, status, start or stop"):
        ip.run_line_magic("polynb", "frobnicate")


def test_the_dashboard_and_status_widgets_are_shown(ip, capsys):
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return x")
    assert capsys.readouterr().out.startswith("fake hello v1 · ready · ")  # the status line, as a terminal shows it
    ip.run_line_magic("polynb", "")
    assert capsys.readouterr().out.startswith("polynb: fake ready at ")


def test_unload_ext_stops_the_service(ip):
    run(ip, "%%fake_exec hello\ndef hello(x):\n    return x")
    service = polynb.get_service()
    ip.run_line_magic("unload_ext", "polynb")
    assert service.stopped
    assert not service._thread.is_alive()
    ip.run_line_magic("load_ext", "polynb")


@pytest.mark.parametrize("line, options", [
    ("demo/bmi/1.0 out.zip        # --format kgrid2 for 2.0", "demo/bmi/1.0 out.zip"),
    ('polynb {"tag": "#1", "n": [1, 2]}  # the source', 'polynb {"tag": "#1", "n": [1, 2]}'),
    ("--title 'Body # mass' x", "--title 'Body # mass' x"),
    ("issue#12 --flag", "issue#12 --flag"),
    ("demo/x/1.0 out/#1.zip", "demo/x/1.0 out/#1.zip"),
    ("# only a comment", ""),
])
def test_a_trailing_comment_is_not_taken_for_options(line, options):
    assert without_comment(line) == options
