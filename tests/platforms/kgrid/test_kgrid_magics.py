"""``%%kgrid_ko``, ``%kgrid_call`` and ``%kgrid_export`` in a real IPython kernel, with the local activator
it starts by itself (no KGRID_PROXY_ADAPTER_URL)."""
from __future__ import annotations

import json

import httpx
import kgrid_peers
import pytest
from notebook_kernel import NotebookKernel
from support import wait_until

from polynb.platforms.kgrid import ko as kos


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    running = NotebookKernel(tmp_path_factory.mktemp("kgrid-notebook"), "kgrid.ipynb",
                             clean_env=("KGRID_", "POLYNB_JOURNAL_DIR", "PORT"))
    running.ok("%load_ext polynb")
    yield running
    running.stop()


GREETER = """%%kgrid_ko demo/greeter/1.0 --title "A greeter"
def greet(inputs):
    print("greeting", inputs["name"])
    return f"{salutation}, {inputs['name']}"
"""


def test_a_cell_becomes_an_activated_ko_and_answers_through_the_activator(kernel):
    kernel.ok("salutation = 'Hello'")
    shown = kernel.ok(GREETER)
    assert "demo/greeter/1.0/greet" in shown
    assert kernel.ok("%kgrid_call demo/greeter/1.0/greet {\"name\": \"Ada\"}").strip() == "'Hello, Ada'"
    kernel.ok("salutation = 'Hi'")
    assert kernel.ok("from polynb.platforms.kgrid import api\napi.call('demo/greeter/1.0/greet', {'name': 'Bo'})") \
        .strip() == "'Hi, Bo'"
    url = kernel.ok("print(api.activator_url())").strip()
    reply = httpx.post(f"{url}/demo/greeter/1.0/greet", json={"name": "Cy"})
    assert reply.json()["result"] == "Hi, Cy"
    assert reply.json()["info"]["endpoint"]["title"] == "A greeter"


def test_a_python_expression_is_a_valid_call_input(kernel):
    kernel.ok("%%kgrid_ko demo/math/1.0 --endpoint double --function twice\ndef twice(x):\n    return [2 * v for v in x]")
    kernel.ok("values = [1, 2, 3]")
    assert kernel.ok("%kgrid_call demo/math/1.0/double values").strip() == "[2, 4, 6]"


def test_a_failing_call_is_the_activators_error_in_one_line(kernel):
    kernel.ok("%%kgrid_ko demo/fail/1.0\ndef fail(x):\n    raise ValueError('no such patient')")
    content, text = kernel.run("%kgrid_call demo/fail/1.0/fail {}")
    assert content["status"] == "error" and content["ename"] == "KgridCallError"
    assert "500 Adapter Server Error" in content["evalue"] and "no such patient" in content["evalue"]
    assert text.strip().splitlines() == [f"KgridCallError: {content['evalue']}"]
    assert kernel.value("[e.status for e in [__import__('sys').last_value]]") == [500]


def test_a_trailing_comment_is_not_an_argument(kernel, tmp_path):
    kernel.ok("%%kgrid_ko demo/echo/1.0   # the echo KO\ndef echo(x):\n    return x")
    assert kernel.ok('%kgrid_call demo/echo/1.0/echo {"tag": "#1"}   # a # inside a string stays').strip() \
        == "{'tag': '#1'}"
    kernel.ok(f"%kgrid_export demo/echo/1.0 {tmp_path / 'out' / '#1.zip'}        # --format kgrid2 for 2.0")
    assert str(kos.load(tmp_path / "out" / "#1.zip").ark) == "demo/echo/1.0"


def test_a_call_with_no_answer_in_time_ends_in_call_timeout(kernel):
    kernel.ok("%%kgrid_ko demo/slow/1.0\nimport time\ndef slow(x):\n    time.sleep(3)\n    return 1")
    content, _ = kernel.run("import os\nos.environ['POLYNB_CALL_TIMEOUT'] = '0.5'\n"
                            "try:\n    %kgrid_call demo/slow/1.0/slow {}\n"
                            "finally:\n    del os.environ['POLYNB_CALL_TIMEOUT']")
    assert content["status"] == "error" and content["ename"] == "CallTimeout"
    assert content["evalue"].startswith("kgrid: no answer to demo/slow/1.0/slow within 0.5 s; the activator at")


@pytest.mark.parametrize("line,message", [
    ("%%kgrid_ko demo/only-two", "is not NAAN/NAME/VERSION"),
    ("%%kgrid_ko demo/x/1.0 --function a --entry b", "--function and --entry"),
    ("%%kgrid_ko demo/x/1.0 --endpoint 'has space'", "must be letters"),
])
def test_bad_magic_lines_are_usage_errors(kernel, line, message):
    content, _ = kernel.run(f"{line}\ndef f(x):\n    return x")
    assert content["status"] == "error" and message in content["evalue"]


def test_a_cell_with_two_functions_needs_to_name_one(kernel):
    content, _ = kernel.run("%%kgrid_ko demo/two/1.0\ndef a(x):\n    return 1\ndef b(x):\n    return 2")
    assert content["status"] == "error" and "name one with --entry" in content["evalue"]


def test_an_exported_ko_loads_in_a_fresh_activator_and_runs(kernel, tmp_path, start_service):
    kernel.ok("%%kgrid_ko demo/export/1.0 --requirements 'pip'\ndef shout(x):\n    return x['text'].upper()")
    kernel.ok(f"%kgrid_export demo/export/1.0 {tmp_path / 'kos' / 'demo-export'}")
    kernel.ok(f"%kgrid_export demo/export/1.0 {tmp_path / 'zips' / 'demo-export.zip'}")
    assert (tmp_path / "kos" / "demo-export" / "requirements.txt").read_text() == "pip\n"
    assert str(kos.load(tmp_path / "zips" / "demo-export.zip").ark) == "demo/export/1.0"
    with kgrid_peers.local_activator(tmp_path / "fresh-shelf", tmp_path / "kos") as info:
        start_service(info["url"])
        wait_until(lambda: any(
            s["status"] == "Activated" for s in httpx.get(f"{info['url']}/endpoints").json()), 60)
        reply = httpx.post(f"{info['url']}/demo/export/1.0/shout", json={"text": "round trip"})
        assert reply.json()["result"] == "ROUND TRIP"


def test_kgrid2_export_writes_the_package_layout(kernel, tmp_path):
    kernel.ok("%%kgrid_ko demo/pkg/1.0\ndef score(x):\n    return 1")
    shown = kernel.ok(f"%kgrid_export demo/pkg/1.0 {tmp_path / 'pkg'} --format kgrid2")
    assert "kgrid2 layout" in shown
    metadata = json.loads((tmp_path / "pkg" / "metadata.json").read_text())
    assert metadata["dc:identifier"] == "ark:demo/pkg/1.0"
    assert (tmp_path / "pkg" / "demo_pkg" / "score.py").read_text() == "def score(x):\n    return 1\n"


def test_exporting_an_ark_no_cell_defines_is_a_usage_error(kernel, tmp_path):
    content, _ = kernel.run(f"%kgrid_export nobody/here/1.0 {tmp_path / 'x'}")
    assert content["status"] == "error" and "no %%kgrid_ko cell" in content["evalue"]


def test_executions_of_cells_are_in_the_kernels_journal(kernel):
    kernel.ok("%kgrid_call demo/greeter/1.0/greet {\"name\": \"Journal\"}")
    rows = kernel.ok("import polynb\nprint([(r.payload, r.status, r.stdout) for r in "
                     "polynb.records(platform='kgrid', payload='demo/greeter/1.0/greet', limit=1)])")
    assert "('demo/greeter/1.0/greet', 'succeeded', 'greeting Journal\\n')" in rows
