"""polynb in a real IPython kernel driven over ZeroMQ by jupyter_client, as JupyterLab drives it."""
from __future__ import annotations

import ast
import json
import os
import threading

import httpx
import pytest
from jupyter_client.manager import KernelManager


class Kernel:
    """A real kernel whose working folder and session path are a notebook's in a temp folder."""

    def __init__(self, folder, env):
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(folder), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> tuple[dict, list[dict]]:
        outputs: list[dict] = []
        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok", reply["content"]
        return reply, outputs

    def value(self, expression: str):
        reply = self.client.execute_interactive("", user_expressions={"v": expression}, timeout=60)
        return ast.literal_eval(reply["content"]["user_expressions"]["v"]["data"]["text/plain"])

    def restart(self) -> None:
        self.manager.restart_kernel(now=True)
        self.client.wait_for_ready(timeout=60)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(tmp_path, registry):
    env = {**os.environ, "JPY_SESSION_NAME": str(tmp_path / "demo.ipynb")}
    env.pop("POLYNB_JOURNAL_DIR", None)
    running = Kernel(tmp_path, env)
    yield running
    running.stop()


def streams(outputs: list[dict]) -> str:
    return "".join(m["content"]["text"] for m in outputs if m["header"]["msg_type"] == "stream")


PAYLOAD = '''%%fake_exec hello
import logging, sys
def hello(x):
    print("payload stdout", x)
    print("payload stderr", x, file=sys.stderr)
    logging.getLogger("payload").warning("payload log %s", x)
    return x
'''


def test_payload_output_goes_to_its_record_and_never_to_the_running_cell(kernel):
    kernel.run("%load_ext polynb")
    kernel.run(PAYLOAD)
    kernel.run("import polynb")
    address = kernel.value("polynb.get_service().address('fake', 'hello')")
    # A cell that keeps running while executions arrive: ipykernel would route thread output to it.
    waiting = ("import time\n"
               "for _ in range(1000):\n"
               "    if len(polynb.records(status='succeeded')) == 3: break\n"
               "    time.sleep(0.01)\n"
               "print('cell finished')\n")
    result = {}
    cell = threading.Thread(target=lambda: result.update(outputs=kernel.run(waiting)[1]))
    cell.start()
    for i in range(3):
        assert httpx.post(address, json=i).json()["output"] == i
    cell.join(60)
    text = streams(result["outputs"])
    assert text == "cell finished\n"
    records = kernel.value("[(r.input, r.stdout, r.stderr, [l['message'] for l in r.logs]) for r in polynb.records()]")
    for i, stdout, stderr, logs in records:
        assert stdout == f"payload stdout {i}\n"
        assert stderr.startswith(f"payload stderr {i}\n")
        assert logs == [f"payload log {i}"]
    assert sorted(r[0] for r in records) == [0, 1, 2]


def test_the_journal_lives_beside_the_notebook_and_survives_a_kernel_restart(kernel, tmp_path):
    kernel.run("%load_ext polynb\nimport polynb, threading\ngate = threading.Event()")
    kernel.run("%%fake_exec hello\ndef hello(x):\n    if x == 'block':\n        gate.wait(60)\n    return x")
    address = kernel.value("polynb.get_service().address('fake', 'hello')")
    assert httpx.post(address, json="done").json()["output"] == "done"

    def blocked_call():
        with pytest.raises(httpx.HTTPError):  # the kernel dies under it
            httpx.post(address, json="block", timeout=30)

    caller = threading.Thread(target=blocked_call)
    caller.start()
    kernel.run("import time\nwhile not polynb.records(status='running'): time.sleep(0.01)")
    assert (tmp_path / ".polynb" / "journal.sqlite").is_file()
    kernel.restart()
    caller.join(60)
    kernel.run("import polynb")
    after = kernel.value("[(r.input, r.status) for r in polynb.records(newest_first=False)]")
    assert after == [("done", "succeeded"), ("block", "interrupted")]


def test_serving_reports_payloads_and_platforms_as_json(kernel):
    kernel.run("%load_ext polynb\nimport polynb")
    kernel.run("%%fake_exec hello\ndef hello(x):\n    return x")
    serving = json.loads(kernel.value("polynb.serving()"))
    assert [(p["platform"], p["name"], p["version"]) for p in serving["payloads"]] == [("fake", "hello", 1)]
    assert serving["platforms"]["fake"]["state"] == "ready"
