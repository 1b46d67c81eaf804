"""The `polynb` command as users and the platform bindings run it: real processes, real signals."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from processes import alive
from support import POLYNB, read_line, run_polynb, stop, taken_port, wait_until, write_notebook


def start(args, cwd=None, env=None):
    return subprocess.Popen(POLYNB + args, cwd=cwd, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_up_json_prints_one_line_per_start_and_stops_on_sigterm():
    process = start(["up", "fake", "--json"])
    try:
        info = json.loads(read_line(process.stdout, 60, "polynb up fake"))
        assert list(info) == ["fake"]
        assert httpx.get(f"{info['fake']['url']}/payloads").json() == {"payloads": {}}
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert rest == ""


def test_up_takes_each_platforms_own_options(standin):
    assert standin("fake", "--fake-greeting", "bonjour").info["greeting"] == "bonjour"


def test_up_env_file_points_a_shell_and_its_kernels_at_the_stand_ins(tmp_path, standin):
    env_file = tmp_path / "platforms.env"
    url = standin("fake", "--env-file", str(env_file)).info["url"]
    sourced = subprocess.run(["bash", "-c", f". {env_file} && echo $FAKE_REGISTRY_URL"], capture_output=True,
                             text=True, check=True, timeout=30).stdout.strip()
    assert sourced == url
    assert oct(env_file.stat().st_mode & 0o777) == oct(0o600)  # it may hold tokens


@pytest.mark.slow
def test_up_stops_on_sigint_too():
    process = start(["up", "--json"], env={"POLYNB_COLONIES_LOCAL_PORT": "0"})  # all stand-ins, on free ports
    try:
        info = json.loads(read_line(process.stdout, 120, "polynb up"))
        assert "fake" in info
    finally:
        code = stop(process, 30, signal.SIGINT)
    assert code == 0


def test_a_stand_in_started_for_a_process_stops_when_that_process_is_killed():
    launcher = subprocess.Popen([sys.executable, "-c", (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-m', 'polynb', 'up', 'fake', '--json'],"
        " env={**os.environ, 'POLYNB_STANDIN_PARENT': str(os.getpid())}, stdout=subprocess.PIPE,"
        " stderr=subprocess.PIPE, start_new_session=True)\n"  # as start_local: its pipes die with it
        "child.stdout.readline()\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n")], stdout=subprocess.PIPE, text=True)
    try:
        stand_in = int(read_line(launcher.stdout, 120, "the launcher of polynb up fake"))
    finally:
        stop(launcher, sig=signal.SIGKILL)  # like a kernel killed without running its cleanup (nbval does this)
    wait_until(lambda: not alive(stand_in), 20, "the orphaned stand-in stopping")


def test_up_refuses_a_platform_without_a_stand_in():
    process = start(["up", "nope"])
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "no local stand-in for nope" in err


def test_journal_prints_records_as_a_table_and_as_json(tmp_path):
    from polynb.journal import Journal

    journal = Journal(tmp_path)
    ok = journal.open("fake", "hello", {"x": 1})
    journal.close(ok, output=2)
    bad = journal.open("fake", "hello", {"x": 0})
    journal.close(bad, error="ZeroDivisionError: division by zero")
    table = run_polynb("journal", str(tmp_path), check=True).stdout
    assert "succeeded" in table and "ZeroDivisionError" in table
    lines = run_polynb("journal", str(tmp_path), "--json", check=True).stdout.splitlines()
    assert [(r["input"], r["status"], r["output"]) for r in map(json.loads, lines)] == [
        ({"x": 0}, "failed", None), ({"x": 1}, "succeeded", 2)]


def test_journal_lists_the_newest_first_and_filters_by_platform_payload_and_status(tmp_path):
    from polynb.journal import Journal

    journal = Journal(tmp_path)
    for platform, payload, error in (("fake", "a", None), ("fake", "b", "boom"), ("vantiq", "a", None),
                                     ("fake", "a", "bang")):
        journal.close(journal.open(platform, payload, {"p": payload}), output=1 if error is None else None,
                      error=error)

    def listed(*options):
        out = run_polynb("journal", str(tmp_path), "--json", *options, check=True).stdout
        return [(r["seq"], r["platform"], r["payload"], r["status"]) for r in map(json.loads, out.splitlines())]

    assert [seq for seq, *_ in listed()] == [4, 3, 2, 1]
    assert listed("--platform", "fake", "--payload", "a") == [(4, "fake", "a", "failed"), (1, "fake", "a", "succeeded")]
    assert listed("--status", "failed", "--limit", "1") == [(4, "fake", "a", "failed")]
    table = run_polynb("journal", str(tmp_path), "--platform", "vantiq", check=True).stdout.splitlines()
    assert len(table) == 2 and table[1].split()[0] == "3" and table[1].split()[2:4] == ["vantiq", "a"]


def test_up_help_lists_the_platforms_it_can_start():
    shown = run_polynb("up", "--help", check=True).stdout
    assert "of: aio, cloudstate, colonies, kgrid, vantiq" in " ".join(shown.split()).replace("fake, ", "")


def test_up_on_a_taken_port_is_one_line_naming_the_port_platform_and_variable():
    with taken_port() as port:
        result = run_polynb("up", "vantiq", timeout=60, env={**os.environ, "VANTIQ_LOCAL_PORT": str(port)})
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"polynb up: vantiq: port {port} is already in use; set VANTIQ_LOCAL_PORT to another port (0: a free one)")
    assert "Traceback" not in result.stderr


def test_journal_reads_a_folder_given_relative_to_the_working_directory(tmp_path):
    from polynb.journal import Journal

    Journal(tmp_path / ".polynb").open("fake", "hello", 1)
    table = run_polynb("journal", ".polynb", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "hello" in table.stdout


def test_journal_of_a_folder_without_one_says_so(tmp_path):
    result = run_polynb("journal", str(tmp_path))
    assert result.returncode == 1
    assert "no journal in" in result.stderr


@pytest.mark.slow
def test_serve_runs_a_notebook_headless_serves_its_payloads_and_drains_on_sigterm(tmp_path, registry):
    path = write_notebook(tmp_path / "worker.ipynb", "%load_ext polynb", "greeting = 'hello'",
                          "%%fake_exec greet\ndef greet(name):\n"
                          "    print('greeting', name)\n    return f'{greeting} {name}'")
    process = start(["serve", str(path)], cwd=tmp_path)
    try:
        line = read_line(process.stdout, 120, "polynb serve").strip()
        platform, name, version, address = line.split()[1:]
        assert (platform, name, version) == ("fake", "greet", "v1")
        assert httpx.post(address, json="ada").json()["output"] == "hello ada"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "draining" in err
    records = run_polynb("journal", str(tmp_path / ".polynb"), "--json", check=True).stdout.splitlines()
    record = json.loads(records[0])
    assert (record["input"], record["output"], record["stdout"]) == ("ada", "hello ada", "greeting ada\n")


@pytest.mark.slow
def test_serve_of_a_notebook_that_only_starts_a_platform_serves_it(tmp_path, registry):
    path = write_notebook(tmp_path / "runtime.ipynb", "%load_ext polynb", "%polynb start fake")
    process = start(["serve", str(path)], cwd=tmp_path)
    try:
        line = read_line(process.stdout, 120, "polynb serve").strip()
        assert line.startswith("serving fake (platform-pushed) http://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == 0


@pytest.mark.slow
def test_serve_stops_with_an_error_when_a_cell_fails(tmp_path, registry):
    path = write_notebook(tmp_path / "broken.ipynb", "%load_ext polynb", "raise ValueError('cell 2 is broken')")
    result = run_polynb("serve", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "cell 2 failed: ValueError: cell 2 is broken" in result.stderr


def test_serve_of_a_missing_notebook_is_a_clear_error(tmp_path):
    result = run_polynb("serve", str(tmp_path / "nope.ipynb"))
    assert result.returncode == 2
    assert "no notebook at" in result.stderr
