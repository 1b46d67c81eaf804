"""``%%aio_node`` and ``%aio_publish`` in a real IPython kernel that starts the local KAI setup by itself."""
from __future__ import annotations

import pytest
from notebook_kernel import NotebookKernel


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    running = NotebookKernel(tmp_path_factory.mktemp("aio-notebook"), "aio.ipynb", clean_env=("KAI_", "POLYNB_JOURNAL_DIR"))
    running.ok("%load_ext polynb\nimport polynb.platforms.aio.api as aio")
    running.ok("%%aio_node entry --runner trigger --subscribe shout\n# requests come from aio.request\n")
    running.ok('%%aio_node shout --runner exit --subscribe entry\n'
               'def handler(sdk, payload):\n    sdk.messaging.send_output(aio.unpack(payload).upper() + suffix)\n')
    yield running
    running.stop()


def test_a_request_through_cells_uses_the_notebook_globals_and_a_rerun_swaps_the_handler(kernel):
    kernel.ok("suffix = '!'")
    assert "'HI!'" in kernel.ok("aio.request('notebook', 'hi')")
    kernel.ok('%%aio_node shout --runner exit --subscribe entry\n'
              'def handler(sdk, payload):\n    sdk.messaging.send_output(aio.unpack(payload).lower())\n')
    assert "'hi'" in kernel.ok("aio.request('notebook', 'HI')")


def test_the_status_line_shows_subjects_and_executions(kernel):
    text = kernel.ok("from polynb.widgets import CellStatus\nimport polynb\n"
                     "print(CellStatus(polynb.get_journal(), 'aio', 'shout').render())")
    assert "polynb_v1_0_0_notebook.entry → polynb_v1_0_0_notebook.shout" in text
    assert 'data-executions="' in text and 'data-executions="0"' not in text


def test_aio_publish_sends_raw_bytes_and_the_node_answers_with_the_parse_error(kernel):
    kernel.ok("import nats, asyncio\nfrom polynb.platforms.aio import wire\n"
              "svc = polynb.get_service(); b = svc.call(svc.binding('aio'))\n"
              "seen = []\n"
              "async def _watch():\n"
              "    async def cb(m): seen.append(m.data)\n"
              "    await b.client.subscribe('polynb_v1_0_0_notebook.shout', cb=cb)\n"
              "svc.call(_watch())")
    assert "published to polynb_v1_0_0_notebook.entry" in kernel.ok(
        "%aio_publish polynb_v1_0_0_notebook.entry b'\\xff\\xff' --raw")
    text = kernel.ok("import time\nfor _ in range(100):\n    if seen: break\n    time.sleep(0.1)\n"
                     "print(wire.decode(seen[0]).error)")
    assert ("error parsing message data coming from subject polynb_v1_0_0_notebook.entry because is not a valid "
            "protobuf: error creating new request message: Error parsing message") in text


@pytest.mark.parametrize("cell, message", [
    ("%%aio_node lonely --runner task\ndef handler(sdk, payload): pass\n", "a task node needs --subscribe"),
    ("%%aio_node Bad_Name --subscribe entry\ndef handler(sdk, payload): pass\n", "is not a KAI process name"),
    ("%%aio_node empty --subscribe entry\nx = 1\n", "needs a handler(sdk, payload) function"),
    ("%%aio_node routed --subscribe entry --from-node etl\ndef handler(sdk, payload): pass\n",
     "--from-node takes NODE=FUNCTION"),
])
def test_a_cell_that_cannot_be_a_node_gets_one_clear_line(kernel, cell, message):
    content, text = kernel.run(cell)
    assert content["status"] == "error" and message in text


def test_a_publish_nats_refuses_is_the_platforms_error_not_a_usage_error(kernel):
    content, text = kernel.run("%aio_publish nowhere.at.all 'x'")
    assert content["status"] == "error" and content["ename"] == "PublishFailed"
    assert "no stream captures nowhere.at.all" in text


def test_a_request_nobody_answers_ends_in_call_timeout(kernel):
    kernel.ok("%%aio_node lonely --runner trigger --workflow quiet --subscribe nobody\n# no exit node answers\n")
    content, text = kernel.run("aio.request('quiet', 'x', timeout=1)")
    assert content["status"] == "error" and content["ename"] == "CallTimeout"
    assert "AIO: no answer to request" in text and "within 1 s" in text
