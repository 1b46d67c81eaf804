"""GET /polynb/api/journals on a real Jupyter server: each payload comes with its version's signature, what the
panel shows under it."""
from __future__ import annotations

import httpx

from polynb.journal import Journal
from polynb.signature import from_annotation, one

SIGNATURE = one("admit", {"type": "object", "properties": {"age": from_annotation(int)}, "required": ["age"]},
                from_annotation(str), "service.yaml of demo/ward/1.0 (/admit)").as_json()



def test_each_payload_is_listed_with_its_signature_and_none_where_its_platform_has_none(server):
    server.post("/api/sessions", {"path": "work/demo.ipynb", "type": "notebook", "kernel": {"name": "python3"}})
    journal = Journal(server.root / "work" / ".polynb")
    journal.notebook = str((server.root / "work" / "demo.ipynb").resolve())
    try:
        journal.payload_registered("kgrid", "demo/ward/1.0/admit", 1, "d", "admit", "src", {}, None, None,
                                   signature=SIGNATURE)
        journal.payload_registered("aio", "etl", 1, "e", "handler", "src", {}, None, None)
    finally:
        journal.close_db()
    reply = httpx.get(f"{server.url}/polynb/api/journals", headers=server.headers, timeout=30)
    assert reply.status_code == 200, reply.text
    [listed] = [j for j in reply.json()["journals"] if j["notebook"] == "work/demo.ipynb"]
    signatures = {payload["name"]: payload["signature"] for payload in listed["payloads"]}
    assert signatures == {"demo/ward/1.0/admit": SIGNATURE, "etl": None}
    assert SIGNATURE["operations"]["admit"]["summary"] == "admit({age: integer}) -> string"
