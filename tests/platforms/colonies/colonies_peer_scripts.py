"""Scripts run by unmodified pycolonies 1.0.25 in its own venv; each prints one JSON line."""
from __future__ import annotations

PRELUDE = """
import json, os, threading, time, requests
from pycolonies import Colonies, colonies_client, func_spec
from crypto import Crypto
from model import Conditions, FuncSpec, Workflow

client, colony, colony_key, _, _ = colonies_client()
crypto = Crypto()

def error_of(call, *args):
    try:
        call(*args)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None

def executor(name, executortype):
    key = crypto.prvkey()
    added = client.add_executor({"executorname": name, "executorid": crypto.id(key), "colonyname": colony,
                                 "executortype": executortype}, colony_key)
    client.approve_executor(colony, name, colony_key)
    return key, added
"""

WHOLE_FLOW = PRELUDE + """
server_key = os.environ["SERVER_PRVKEY"]
result = {}
result["colony_by_non_owner"] = error_of(client.add_colony, {"colonyid": crypto.id(crypto.prvkey()), "name": "x1"}, colony_key)
result["colony_by_owner"] = client.add_colony({"colonyid": crypto.id(crypto.prvkey()), "name": "conf-extra"}, server_key)["name"]
key = crypto.prvkey()
added = client.add_executor({"executorname": "py-exec", "executorid": crypto.id(key), "colonyname": colony,
                             "executortype": "conf"}, colony_key)
result["added_state"] = added["state"]
result["unapproved_assign"] = error_of(client.assign, colony, 1, key)
client.approve_executor(colony, "py-exec", colony_key)
result["function"] = client.add_function(colony, "py-exec", "echo", key)["funcname"]
result["assign_timeout"] = error_of(client.assign, colony, 1, key)

spec = func_spec("echo", ["hello", 42], colony, "conf", maxexectime=30)
submitted = client.submit_func_spec(spec, key)
process = client.assign(colony, 5, key)
result["assigned_same"] = process.processid == submitted.processid
client.add_log(process.processid, "log line 1\\n", key)
client.add_attribute(process.processid, "k", "v", key)
client.set_output(process.processid, ["partial"], key)
result["failed_before"] = client.list_processes(colony, 10, 3, key)
client.close(process.processid, ["hello", 42], key)
closed = client.get_process(process.processid, key)
result["closed"] = [closed.state, closed.output, closed.spec.args]
result["logs"] = [entry["message"] for entry in client.get_process_log(colony, process.processid, 100, 0, key)]
result["successful_listed"] = len(client.list_processes(colony, 10, 2, key))

client.submit_func_spec(func_spec("echo", [], colony, "conf", maxexectime=30), key)
doomed = client.assign(colony, 5, key)
client.fail(doomed.processid, ["boom"], key)
failed = client.get_process(doomed.processid, key)
result["failed"] = [failed.state, failed.errors]

waited_for = client.submit_func_spec(func_spec("echo", ["w"], colony, "conf", maxexectime=30), key)
def finish_later():
    time.sleep(0.5)
    running = client.assign(colony, 5, key)
    client.close(running.processid, ["waited"], key)
threading.Thread(target=finish_later).start()
waited = client.wait(waited_for, 10, key)
result["waited"] = [waited.state, waited.output]

specs = []
for name, deps in (("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])):
    specs.append(FuncSpec(nodename=name, funcname="echo", args=[], maxexectime=30, maxretries=0, maxwaittime=-1,
                          conditions=Conditions(colonyname=colony, executortype="conf", dependencies=deps)))
graph = client.submit_workflow(Workflow(colonyname=colony, functionspecs=specs), key)
inputs = {}
for _ in range(4):
    node = client.assign(colony, 5, key)
    inputs[node.spec.nodename] = node.input
    client.close(node.processid, [node.spec.nodename.upper()], key)
result["diamond_inputs"] = inputs
result["diamond_graph"] = client.get_processgraph(graph.processgraphid, key).state

client.submit_func_spec(func_spec("echo", [], colony, "conf", maxexectime=1, maxretries=1), key)
first = client.assign(colony, 5, key)
while client.get_process(first.processid, key).state != 0:
    time.sleep(0.2)
result["stale_close"] = error_of(client.close, first.processid, ["late"], key)
second = client.assign(colony, 5, key)
result["retries"] = second.retries
while client.get_process(first.processid, key).state != 3:
    time.sleep(0.2)
result["exec_limit"] = client.get_process(first.processid, key).errors

stranger = crypto.prvkey()
result["non_member"] = error_of(client.get_process, first.processid, stranger)
bad = {"payloadtype": "getprocessmsg", "payload": "e30=", "signature": "00" * 65}
reply = requests.post(client.url, data=json.dumps(bad))
result["bad_signature"] = [reply.status_code, json.loads(__import__("base64").b64decode(reply.json()["payload"]))]
print(json.dumps(result))
"""

EXECUTOR_LOOP = PRELUDE + """
name, executortype, count = os.environ["PY_EXECUTOR_NAME"], os.environ["PY_EXECUTOR_TYPE"], int(os.environ["PY_COUNT"])
key, _ = executor(name, executortype)
client.add_function(colony, name, "greet", key)
print(json.dumps({"ready": crypto.id(key)}), flush=True)
done = 0
while done < count:
    try:
        process = client.assign(colony, 2, key)
    except Exception as exc:
        if "No process available" in str(exc):
            continue
        raise
    if process.spec.funcname == "greet":
        client.add_log(process.processid, "greeting " + str(process.spec.args[0]) + "\\n", key)
        client.close(process.processid, ["hello " + str(process.spec.args[0])], key)
    elif process.spec.funcname == "concat":
        client.close(process.processid, list(process.spec.args) + list(process.input or []), key)
    elif process.spec.funcname == "hang":
        time.sleep(3600)
    else:
        client.fail(process.processid, ["unknown function " + process.spec.funcname], key)
    done += 1
print(json.dumps({"served": done}), flush=True)
"""

SUBMIT_AND_WAIT = PRELUDE + """
key, _ = executor(os.environ["PY_SUBMITTER_NAME"], "submitter-only")
spec = func_spec(os.environ["PY_FUNC"], json.loads(os.environ["PY_ARGS"]), colony, os.environ["PY_EXECUTOR_TYPE"],
                 maxexectime=30, maxretries=0)
process = client.submit_func_spec(spec, key)
deadline = time.time() + 60
while client.get_process(process.processid, key).state < 2 and time.time() < deadline:
    time.sleep(0.2)
final = client.get_process(process.processid, key)
logs = client.get_process_log(colony, process.processid, 100, 0, key) or []
print(json.dumps({"state": final.state, "out": final.output, "errors": final.errors,
                  "logs": [entry["message"] for entry in logs]}))
"""

DIAMOND_AND_WAIT = PRELUDE + """
key, _ = executor(os.environ["PY_SUBMITTER_NAME"], "submitter-only")
specs = [FuncSpec(nodename=name, funcname="concat", args=[name], maxexectime=30, maxretries=0, maxwaittime=-1,
                  conditions=Conditions(colonyname=colony, executortype=os.environ["PY_EXECUTOR_TYPE"],
                                        dependencies=deps))
         for name, deps in (("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"]))]
graph = client.submit_workflow(Workflow(colonyname=colony, functionspecs=specs), key)
deadline = time.time() + 60
while client.get_processgraph(graph.processgraphid, key).state not in (2, 3) and time.time() < deadline:
    time.sleep(0.2)
nodes = {}
for processid in graph.processids:
    process = client.get_process(processid, key)
    nodes[process.spec.nodename] = {"state": process.state, "in": process.input, "out": process.output}
print(json.dumps({"graph": client.get_processgraph(graph.processgraphid, key).state, "nodes": nodes}))
"""

SIGNATURES = """
import json, sys
from crypto import Crypto
crypto = Crypto()
cases = json.loads(sys.stdin.read())
print(json.dumps([[crypto.id(key), crypto.sign(message, key)] for key, message in cases]))
"""

WATCH_LOGS_THEN_RELEASE = PRELUDE + """
key, _ = executor(os.environ["PY_SUBMITTER_NAME"], "submitter-only")
gate = os.environ["PY_GATE"]
spec = func_spec(os.environ["PY_FUNC"], [gate], colony, os.environ["PY_EXECUTOR_TYPE"], maxexectime=60, maxretries=0)
process = client.submit_func_spec(spec, key)
deadline = time.time() + 60
seen = None
while seen is None and time.time() < deadline:
    logs = client.get_process_log(colony, process.processid, 100, 0, key) or []
    if logs:
        seen = {"logs": [entry["message"] for entry in logs], "state": client.get_process(process.processid, key).state}
    time.sleep(0.1)
open(gate, "w").close()
while client.get_process(process.processid, key).state < 2 and time.time() < deadline:
    time.sleep(0.1)
final = client.get_process(process.processid, key)
logs = client.get_process_log(colony, process.processid, 100, 0, key) or []
print(json.dumps({"seen": seen, "state": final.state, "out": final.output,
                  "logs": [entry["message"] for entry in logs]}))
"""
