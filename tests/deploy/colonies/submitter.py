"""A pycolonies 1.0.25 client (run by its own venv's Python) that submits ``shout`` as any Colonies user would.

Environment: the ``COLONIES_*`` variables ``colonies_client()`` reads, ``SHOUT_TYPE`` (the executor type to
submit to) and ``SHOUT_EXECUTORS`` (comma-separated executor ids that must all take a share). It submits
rounds of ten until every one of those executors has run some (at most ten rounds), follows each process
with ``get_process`` (``wait()`` sees only successes) and prints one JSON object: processid -> what ended.
"""
import json
import os
import time

from crypto import Crypto
from pycolonies import colonies_client, func_spec

ROUND, ROUNDS, SETTLE = 10, 10, 60.0

client, colony, colony_key, _, _ = colonies_client()
crypto = Crypto()
key = crypto.prvkey()
name = f"shout-submitter-{crypto.id(key)[:8]}"
client.add_executor({"executorname": name, "executorid": crypto.id(key), "colonyname": colony,
                     "executortype": "shout-submitter"}, colony_key)
client.approve_executor(colony, name, colony_key)

wanted = set(os.environ["SHOUT_EXECUTORS"].split(","))
ended: dict[str, dict] = {}
for _ in range(ROUNDS):
    submitted = [client.submit_func_spec(func_spec("shout", [f"word{len(ended) + i}"], colony, os.environ["SHOUT_TYPE"],
                                                   maxexectime=60, maxretries=3), key).processid
                 for i in range(ROUND)]
    deadline = time.monotonic() + SETTLE
    for processid in submitted:
        process = client.get_process(processid, key)
        while process.state not in (2, 3, 4):
            if time.monotonic() > deadline:
                raise SystemExit(f"process {processid} did not end within {SETTLE:g} s (state {process.state})")
            time.sleep(0.1)
            process = client.get_process(processid, key)
        ended[processid] = {"state": process.state, "args": process.spec.args, "out": process.output,
                            "errors": process.errors, "executor": process.assignedexecutorid}
    if wanted <= {entry["executor"] for entry in ended.values()}:
        break
print(json.dumps(ended))
