"""The REST API under /polynb/api/ on a real Jupyter server, reading the journal of a real kernel session."""
from __future__ import annotations

import ast

import httpx
import nbformat
import pytest
from jupyter_client import BlockingKernelClient


def run(client: BlockingKernelClient, code: str):
    reply = client.execute_interactive(code, timeout=60, user_expressions={"v": "_polynb_value"})
    assert reply["content"]["status"] == "ok", reply["content"]
    value = reply["content"]["user_expressions"]["v"]
    return ast.literal_eval(value["data"]["text/plain"]) if value["status"] == "ok" else None


def test_the_api_lists_a_running_notebook_with_its_payloads_and_executions(server):
    with server.notebook_kernel("work/demo.ipynb") as (session, client):
        run(client, "%load_ext polynb\nimport polynb")
        run(client, "%%fake_exec hello\ndef hello(x):\n    print('hi', x)\n    return 100 // x")
        address = run(client, "_polynb_value = polynb.get_service().address('fake', 'hello')")
        assert httpx.post(address, json=4).json()["output"] == 25
        assert httpx.post(address, json=0).status_code == 500

    journals = server.get("/polynb/api/journals").json()["journals"]
    assert len(journals) == 1
    journal = journals[0]
    assert journal["notebook"] == "work/demo.ipynb"
    assert journal["kernel"] == session["kernel"]["id"]
    assert [(p["platform"], p["state"]) for p in journal["platforms"]] == [("fake", "ready")]
    assert [(p["name"], p["version"], p["executions"]) for p in journal["payloads"]] == [("hello", 1, 2)]
    assert [(e["status"], e["payload"]) for e in journal["executions"]] == [("failed", "hello"), ("succeeded", "hello")]

    failed = server.get("/polynb/api/journals", params={"status": "failed"}).json()["journals"][0]["executions"]
    assert len(failed) == 1
    detail = server.get(f"/polynb/api/executions/{failed[0]['id']}").json()
    assert detail["input"] == 0 and "ZeroDivisionError" in detail["traceback"] and detail["stdout"] == "hi 0\n"
    assert detail["notebook"] == "work/demo.ipynb"
    assert detail["duration"] == detail["finished_at"] - detail["started_at"]


def test_an_unknown_execution_is_a_404(server):
    assert server.get("/polynb/api/executions/feedbeef").status_code == 404


def test_nothing_is_served_without_the_token(server):
    assert httpx.get(f"{server.url}/polynb/api/journals").status_code == 403
    assert httpx.get(f"{server.url}/polynb/api/journals", params={"token": server.token}).status_code == 200


class Opaque:
    def __repr__(self):
        return "<Opaque 1>"


def test_every_record_renders_whatever_its_values_hold(server, tmp_path):
    """Bytes, nested bytes, keys and objects JSON cannot hold: the detail and the list answer 200, marked."""
    from polynb.journal import Journal

    session = server.post("/api/sessions", {"path": "work/demo.ipynb", "type": "notebook",
                                            "kernel": {"name": "python3"}}).json()
    journal = Journal(tmp_path / "root" / "work" / ".polynb")
    journal.notebook = str((tmp_path / "root" / "work" / "demo.ipynb").resolve())
    values = {"bytes": b"\x00\xff", "nested": {"frames": [b"a", {"deep": b"b"}]},
              "object": Opaque(), "keys": {(1, 2): b"c"}}
    ids = {}
    for name, value in values.items():
        ids[name] = journal.open("cloudstate", name, value, meta={"raw": value})
        journal.close(ids[name], output=value)
    journal.payload_registered("cloudstate", "cart", 1, "d", None, "src", {"blob": b"\x01"}, None, None)
    journal.close_db()

    details = {name: server.get(f"/polynb/api/executions/{record_id}") for name, record_id in ids.items()}
    assert {name: r.status_code for name, r in details.items()} == dict.fromkeys(values, 200)
    assert details["bytes"].json()["input"] == {"$bytes": "AP8="}
    assert details["nested"].json()["output"] == {"frames": [{"$bytes": "YQ=="}, {"deep": {"$bytes": "Yg=="}}]}
    assert details["object"].json()["meta"]["raw"] == {"$repr": "<Opaque 1>"}
    assert details["keys"].json()["input"] == {"(1, 2)": {"$bytes": "Yw=="}}
    listing = server.get("/polynb/api/journals")
    assert listing.status_code == 200
    entry = listing.json()["journals"][0]
    assert entry["kernel"] == session["kernel"]["id"]
    assert entry["payloads"][0]["options"] == {"blob": {"$bytes": "AQ=="}}
    assert len(entry["executions"]) == len(values)


def test_a_corrupt_journal_is_reported_in_its_own_entry_and_the_others_are_served(server, tmp_path):
    from polynb.journal import Journal

    root = tmp_path / "root"
    (root / "broken" / ".polynb").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), root / "broken" / "other.ipynb")
    (root / "broken" / ".polynb" / "journal.sqlite").write_bytes(b"not a database, " * 512)
    journal = Journal(root / "work" / ".polynb")
    journal.notebook = str((root / "work" / "demo.ipynb").resolve())
    record_id = journal.open("fake", "hello", 1)
    journal.close_db()
    for path in ("work/demo.ipynb", "broken/other.ipynb"):
        server.post("/api/sessions", {"path": path, "type": "notebook", "kernel": {"name": "python3"}})

    listing = server.get("/polynb/api/journals")
    assert listing.status_code == 200, listing.text
    entries = {entry["notebook"]: entry for entry in listing.json()["journals"]}
    assert entries["work/demo.ipynb"]["error"] is None
    assert [e["id"] for e in entries["work/demo.ipynb"]["executions"]] == [record_id]
    assert "cannot read the journal" in entries["broken/other.ipynb"]["error"]
    assert server.get(f"/polynb/api/executions/{record_id}").status_code == 200


def test_a_journal_a_kernel_is_still_creating_reads_as_empty(server, tmp_path):
    import sqlite3

    (tmp_path / "root" / "work" / ".polynb").mkdir()
    sqlite3.connect(tmp_path / "root" / "work" / ".polynb" / "journal.sqlite").close()  # the file, no tables yet
    server.post("/api/sessions", {"path": "work/demo.ipynb", "type": "notebook", "kernel": {"name": "python3"}})
    entry = server.get("/polynb/api/journals").json()["journals"][0]
    assert (entry["error"], entry["executions"], entry["platforms"]) == (None, [], [])


@pytest.mark.parametrize("limit", ["abc", "-1", "0", "1.5", "100000"])
def test_a_limit_that_is_no_whole_number_in_range_is_a_400(server, limit):
    reply = server.get("/polynb/api/journals", params={"limit": limit})
    assert reply.status_code == 400
    assert "limit must be a whole number" in reply.text


def test_the_journal_folder_set_in_polynb_yaml_is_the_one_served(server, tmp_path):
    from polynb.journal import Journal

    root = tmp_path / "root"
    (root / "work" / "polynb.yaml").write_text("core:\n  journal_dir: elsewhere/journal\n")
    journal = Journal(root / "work" / "elsewhere" / "journal")
    journal.notebook = str((root / "work" / "demo.ipynb").resolve())
    record_id = journal.open("fake", "hello", 1)
    journal.close_db()
    server.post("/api/sessions", {"path": "work/demo.ipynb", "type": "notebook", "kernel": {"name": "python3"}})

    entry = server.get("/polynb/api/journals").json()["journals"][0]
    assert entry["journal"] == str(root / "work" / "elsewhere" / "journal")
    assert [e["id"] for e in entry["executions"]] == [record_id]


def test_an_unreadable_polynb_yaml_is_reported_in_its_own_entry(server, tmp_path):
    (tmp_path / "root" / "work" / "polynb.yaml").write_text("core: [not, a, mapping\n")
    server.post("/api/sessions", {"path": "work/demo.ipynb", "type": "notebook", "kernel": {"name": "python3"}})
    listing = server.get("/polynb/api/journals")
    assert listing.status_code == 200
    assert "cannot find the journal" in listing.json()["journals"][0]["error"]


def test_counts_are_the_notebooks_own_executions_of_each_version_and_the_folder_is_a_choice(server, tmp_path):
    """Two notebooks share a folder's journal; a payload was registered twice. The panel counts what the record
    scope counts: this notebook's executions of the listed version, unless it asks for the whole folder."""
    from polynb.journal import Journal

    work = tmp_path / "root" / "work"
    journal = Journal(work / ".polynb")
    for notebook, runs in (("other.ipynb", {2: 5}), ("demo.ipynb", {1: 2, 2: 3})):
        journal.notebook = str((work / notebook).resolve())
        for version, count in runs.items():
            if notebook == "demo.ipynb":  # the other notebook ran the same content, registered here
                journal.payload_registered("fake", "hello", version, f"d{version}", "hello", "src", {}, None, None)
            for _ in range(count):
                record_id = journal.open("fake", "hello", 1)
                journal.started(record_id, version)
                journal.close(record_id, output=1)
    journal.close_db()
    server.post("/api/sessions", {"path": "work/demo.ipynb", "type": "notebook", "kernel": {"name": "python3"}})

    mine = server.get("/polynb/api/journals").json()["journals"][0]
    assert [(p["version"], p["executions"]) for p in mine["payloads"]] == [(2, 3)]
    assert len(mine["executions"]) == 5
    folder = server.get("/polynb/api/journals", params={"scope": "folder"}).json()["journals"][0]
    assert [(p["version"], p["executions"]) for p in folder["payloads"]] == [(2, 8)]
    assert len(folder["executions"]) == 10
    assert server.get("/polynb/api/journals", params={"scope": "everything"}).status_code == 400
