"""POST /polynb/api/executions/ID/cancel on a real Jupyter server: a cancel request through the record's journal,
behind Jupyter's auth and XSRF check, and a running kernel that acts on it."""
from __future__ import annotations

import threading

import httpx
import pytest
from support import wait_until

from polynb.journal import CANCELLED, Journal
from polynb.server_extension import CANCEL_REASON


@pytest.fixture
def journal(server):
    """The notebook's journal, written by this test process as its kernel would (the record's pid lives)."""
    server.post("/api/sessions", {"path": "work/demo.ipynb", "type": "notebook", "kernel": {"name": "python3"}})
    journal = Journal(server.root / "work" / ".polynb")
    journal.notebook = str((server.root / "work" / "demo.ipynb").resolve())
    yield journal
    journal.close_db()


def cancel(server, record_id: str, **options) -> httpx.Response:
    options.setdefault("headers", server.headers)
    return httpx.post(f"{server.url}/polynb/api/executions/{record_id}/cancel", timeout=30, **options)


def test_cancelling_an_open_execution_asks_its_kernel_through_the_journal(server, journal):
    record_id = journal.open("fake", "slow", 1)
    journal.started(record_id, 1)
    reply = cancel(server, record_id[:8])
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["id"], body["status"], body["payload"], body["notebook"]) == (record_id, "running", "slow",
                                                                              "work/demo.ipynb")
    assert journal.cancel_requests([record_id]) == {record_id: CANCEL_REASON}


def test_a_finished_execution_is_a_404_saying_how_it_ended(server, journal):
    record_id = journal.open("fake", "quick", 1)
    journal.close(record_id, error="ValueError: no")
    reply = cancel(server, record_id)
    assert reply.status_code == 404
    assert f"no open execution {record_id} (it ended failed)" in reply.json()["message"]
    assert journal.cancel_requests([record_id]) == {}


def test_an_unknown_execution_is_a_404(server, journal):
    journal.open("fake", "slow", 1)
    journal.flush()
    assert cancel(server, "feedbeef").status_code == 404


def test_no_cancel_without_the_token(server, journal):
    record_id = journal.open("fake", "slow", 1)
    journal.flush()
    assert cancel(server, record_id, headers={}).status_code == 403
    assert journal.cancel_requests([record_id]) == {}


def test_a_browser_session_needs_the_xsrf_token_to_cancel(server, journal):
    """Logged in by cookie, as JupyterLab is: a POST without the XSRF token (what a cross-site form sends) is
    refused; with it, as JupyterLab's requests carry it, the cancel is asked for."""
    record_id = journal.open("fake", "slow", 1)
    journal.flush()
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert browser.get("/lab/tree", params={"token": server.token}).status_code in (200, 404)
        browser.get("/api/status")  # sets the _xsrf cookie
        xsrf = browser.cookies.get("_xsrf")
        assert xsrf
        assert browser.post(f"/polynb/api/executions/{record_id}/cancel").status_code == 403
        assert journal.cancel_requests([record_id]) == {}
        allowed = browser.post(f"/polynb/api/executions/{record_id}/cancel", headers={"X-XSRFToken": xsrf})
        assert allowed.status_code == 200, allowed.text
    assert record_id in journal.cancel_requests([record_id])


def test_the_kernel_running_the_execution_cancels_it(server):
    with server.notebook_kernel("work/demo.ipynb") as (_, client):
        for code in ("%load_ext polynb\nimport polynb",
                     "%%fake_exec slow\nimport time\ndef slow(x):\n    while True:\n        time.sleep(0.01)",
                     "_address = polynb.get_service().address('fake', 'slow')"):
            assert client.execute_interactive(code, timeout=60)["content"]["status"] == "ok"
        reply = client.execute_interactive("", timeout=60, user_expressions={"a": "_address"})
        address = reply["content"]["user_expressions"]["a"]["data"]["text/plain"].strip("'")
        answers = []
        caller = threading.Thread(target=lambda: answers.append(httpx.post(address, json=1, timeout=120)))
        caller.start()

        def running() -> list:
            journals = server.get("/polynb/api/journals").json()["journals"]
            return [e for e in journals[0]["executions"] if e["status"] == "running"]

        record = wait_until(running, 60, "the execution running")[0]
        assert cancel(server, record["id"]).status_code == 200
        caller.join(timeout=60)
    detail = server.get(f"/polynb/api/executions/{record['id']}").json()
    assert detail["status"] == CANCELLED and CANCEL_REASON in detail["error"]
    assert answers and answers[0].status_code >= 400
