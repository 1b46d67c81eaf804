"""``polynb status``: each payload with its signature's lines under it, as the journal keeps them."""
from __future__ import annotations

from support import run_polynb

from polynb.journal import Journal
from polynb.signature import from_annotation, one


def test_status_lists_each_payload_with_one_line_per_operation_of_its_signature(tmp_path):
    journal = Journal(tmp_path)
    signature = one("admit", {"type": "object", "properties": {"age": from_annotation(int)}}, from_annotation(str),
                    "service.yaml of demo/ward/1.0 (/admit)")
    journal.payload_registered("kgrid", "demo/ward/1.0/admit", 2, "d", "admit", "src", {}, None, "http://k/admit",
                               signature=signature.as_json())
    journal.payload_registered("aio", "etl", 1, "e", "handler", "src", {}, None, None)
    journal.close_db()
    shown = run_polynb("status", str(tmp_path), check=True).stdout.splitlines()
    assert shown == ["aio etl v1", "kgrid demo/ward/1.0/admit v2 http://k/admit", "  admit({age?: integer}) -> string"]
