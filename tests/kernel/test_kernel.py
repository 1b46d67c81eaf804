"""polynb in a real IPython kernel driven over ZeroMQ by jupyter_client, as JupyterLab drives it."""
from __future__ import annotations

import json
import threading

import httpx
import pytest
from notebook_kernel import NotebookKernel


@pytest.fixture
def kernel(tmp_path, registry):
    running = NotebookKernel(tmp_path, clean_env=("POLYNB_JOURNAL_DIR",))
    yield running
    running.stop()


PAYLOAD = '''%%fake_exec hello
import logging, sys
def hello(x):
    print("payload stdout", x)
    print("payload stderr", x, file=sys.stderr)
    logging.getLogger("payload").warning("payload log %s", x)
    return x
'''


def test_payload_output_goes_to_its_record_and_never_to_the_running_cell(kernel):
    kernel.ok("%load_ext polynb")
    kernel.ok(PAYLOAD)
    kernel.ok("import polynb")
    address = kernel.value("polynb.get_service().address('fake', 'hello')")
    # A cell that keeps running while executions arrive: ipykernel would route thread output to it.
    waiting = ("import time\n"
               "for _ in range(1000):\n"
               "    if len(polynb.records(status='succeeded')) == 3: break\n"
               "    time.sleep(0.01)\n"
               "print('cell finished')\n")
    result = {}
    cell = threading.Thread(target=lambda: result.update(shown=kernel.ok(waiting)))
    cell.start()
    for i in range(3):
        assert httpx.post(address, json=i).json()["output"] == i
    cell.join(60)
    assert result["shown"] == "cell finished\n"
    records = kernel.value("[(r.input, r.stdout, r.stderr, [l['message'] for l in r.logs]) for r in polynb.records()]")
    for i, stdout, stderr, logs in records:
        assert stdout == f"payload stdout {i}\n"
        assert stderr.startswith(f"payload stderr {i}\n")
        assert logs == [f"payload log {i}"]
    assert sorted(r[0] for r in records) == [0, 1, 2]


def test_the_journal_lives_beside_the_notebook_and_survives_a_kernel_restart(kernel, tmp_path):
    kernel.ok("%load_ext polynb\nimport polynb, threading\ngate = threading.Event()")
    kernel.ok("%%fake_exec hello\ndef hello(x):\n    if x == 'block':\n        gate.wait(60)\n    return x")
    address = kernel.value("polynb.get_service().address('fake', 'hello')")
    assert httpx.post(address, json="done").json()["output"] == "done"

    def blocked_call():
        with pytest.raises(httpx.HTTPError):  # the kernel dies under it
            httpx.post(address, json="block", timeout=30)

    caller = threading.Thread(target=blocked_call)
    caller.start()
    kernel.ok("import time\nwhile not polynb.records(status='running'): time.sleep(0.01)")
    assert (tmp_path / ".polynb" / "journal.sqlite").is_file()
    kernel.restart()
    caller.join(60)
    kernel.ok("import polynb")
    after = kernel.value("[(r.input, r.status) for r in polynb.records(newest_first=False)]")
    assert after == [("done", "succeeded"), ("block", "interrupted")]


def test_serving_reports_payloads_and_platforms_as_json(kernel):
    kernel.ok("%load_ext polynb\nimport polynb")
    kernel.ok("%%fake_exec hello\ndef hello(x):\n    return x")
    serving = json.loads(kernel.value("polynb.serving()"))
    assert [(p["platform"], p["name"], p["version"]) for p in serving["payloads"]] == [("fake", "hello", 1)]
    assert serving["platforms"]["fake"]["state"] == "ready"


def test_a_failing_payload_names_its_cell_and_the_status_line_prints_as_text(kernel):
    """The traceback says ``Cell In[2], line 2`` as IPython does, never ipykernel's temporary file; the
    status widget's text/plain (what nbclient stores and a terminal prints) reads like the widget."""
    kernel.ok("%load_ext polynb\nimport polynb")
    shown = kernel.ok("%%fake_exec hello\ndef hello(x):\n    return 100 // x")
    assert shown.startswith("fake hello v1 · ") and "HTML(" not in shown, shown
    address = kernel.value("polynb.get_service().address('fake', 'hello')")
    assert httpx.post(address, json=0).status_code == 500
    trace = kernel.value("polynb.records()[0].traceback")
    assert "Cell In[2], line 2, in hello" in trace and "ipykernel_" not in trace, trace
    dashboard = kernel.ok("%polynb")
    assert dashboard.startswith("polynb: fake ready") and "VBox(" not in dashboard, dashboard


def test_replay_debug_stops_in_the_debugger_at_the_frame_that_raised(kernel):
    kernel.ok("%load_ext polynb\nimport polynb")
    kernel.ok("%%fake_exec hello\ndef hello(x):\n    scale = 10\n    return scale / x")
    address = kernel.value("polynb.get_service().address('fake', 'hello')")
    failed = httpx.post(address, json=0).json()["record"]
    answers = iter(["p scale, x", "q"])
    prompts: list[str] = []

    def answer(message):
        prompts.append(message["content"]["prompt"])
        kernel.client.input(next(answers))

    outputs: list[dict] = []
    reply = kernel.client.execute_interactive(f"%polynb replay {failed} --debug", allow_stdin=True, timeout=120,
                                              stdin_hook=answer, output_hook=outputs.append)
    shown = "".join(m["content"].get("text", "") + "\n".join(m["content"].get("traceback", [])) for m in outputs)
    assert reply["content"]["status"] == "error"  # after the debugger, the replay's failure as usual
    assert len(prompts) == 2 and "ipdb>" in prompts[0]
    assert "(10, 0)" in shown  # `p scale, x` in the frame of hello that raised
    assert "return scale / x" in shown
