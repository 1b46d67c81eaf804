"""8 MiB posted to polynb's KGrid runtime: the payload gets all of it, its record keeps at most
``core.max_record_bytes`` of each field, marked as cut."""
from __future__ import annotations

import sqlite3

import httpx

from polynb import jsonvalue
from polynb.journal import FILENAME, SUCCEEDED
from polynb.payload import Payload

MIB = 1 << 20


def test_a_big_input_reaches_the_payload_whole_and_its_record_is_cut_to_the_limit(activator, start_service):
    ns: dict = {}
    source = "def measure(x):\n    print('.' * len(x['blob']))\n    return {'received': len(x['blob']), 'echo': x['blob']}\n"
    exec(source, ns)
    service = start_service(activator, ns)
    service.register(Payload("kgrid", "nb/big/1.0/measure", source, None,
                             {"ark": "nb/big/1.0", "endpoint": "measure", "requirements": [], "title": None}))
    blob = "x" * (8 * MIB)
    reply = httpx.post(f"{service.statuses()['kgrid'].address}/nb_big_1_0_measure", json={"blob": blob}, timeout=120)
    assert reply.status_code == 200 and reply.json()["result"]["received"] == 8 * MIB
    [record] = service.journal.records(platform="kgrid")
    assert record.status == SUCCEEDED
    assert record.input["bytes"] > 8 * MIB and record.input[jsonvalue.CUT].startswith('{"blob": "xxx')
    assert record.output["bytes"] > 8 * MIB and "polynb cut this field" in record.stdout
    with sqlite3.connect(service.journal.directory / FILENAME) as db:
        sizes = db.execute("SELECT length(CAST(input AS BLOB)), length(CAST(output AS BLOB)),"
                           " length(CAST(stdout AS BLOB)) FROM executions").fetchone()
    assert max(sizes) <= MIB
