"""polynb's connector against the real ``vantiqPythonExecConnector`` 1.3.4: the same queries, the same frames.

Both connect to one local server, each on a source of its own and from a fresh connection, and get the
same ordered steps (every case of the fact sheet's §11). Their frames are compared after masking what the
fact sheet calls random or timing: reply addresses, uuids, the source name, times, and the connector's own
traceback frames. The only differences allowed are polynb's deliberate improvements, listed in IMPROVEMENTS.
"""
from __future__ import annotations

import json
import math
import re
import threading

import pytest
from vantiq_harness import Rest, local_server, peer_connector, polynb_connector

LOOPER = (
    "import asyncio\n"
    "async def main():\n"
    "    for i in range(loop_count - 1):\n"
    "        await connector_connection.send_query_response(connector_context, 100, {'item': f'partial {i}'})\n"
    "    await connector_connection.send_query_response(connector_context, 200, {'item': 'last'})\n"
    "    await connector_connection.send_notification({'note': 'hello from code', 'count': loop_count})\n"
    "asyncio.get_event_loop().create_task(main())\n"
)


def task(call: str) -> str:
    return f"import asyncio\nasyncio.get_event_loop().create_task({call})\n"


UNSERIALISABLE = ("import math\ndef f(): pass\nclass K: pass\ns_set = {1, 2}\nb_bytes = b'abc'\nfn = f\ncls = K\n"
                  "obj = K()\ntup = (1, 2)\nintkeys = {1: 'a', 2: 'b'}\nnan = float('nan')\ninf = float('inf')\n"
                  "ok = 'fine'\nnone_val = None\n")
SQ = "r = v * v\nf = __file__\nn = __name__\n"
SHORT = 2.0  # the server's wait for queries that one side never answers

STEPS = [
    ("query", "presets are globals and come back", {"code": "y = x * 2\nz = [x, y]\nimport math\nw = math.sqrt(16)\n",
                                                    "presetValues": {"x": 21}}),
    ("query", "limitReturnTo list, stripped", {"code": "a = 1\nb = 2\nc = 3\n", "limitReturnTo": ["a", " c "]}),
    ("query", "limitReturnTo order", {"code": "a = 1\nb = 2\nc = 3\n", "limitReturnTo": ["c", "a"]}),
    ("query", "limitReturnTo string", {"code": "a = 1\nb = 2\nc = 3\n", "limitReturnTo": "b, c, missing"}),
    ("query", "limitReturnTo of another type", {"code": "a = 1\n", "limitReturnTo": 5}),
    ("query", "partials, final and notification", {"code": LOOPER, "codeHandlesReturn": True,
                                                   "presetValues": {"loop_count": 3}}),
    ("query", "own 204", {"code": task("connector_connection.send_query_response(connector_context, 204, None)"),
                          "codeHandlesReturn": True}),
    ("query", "own list of rows", {"code": task("connector_connection.send_query_response(connector_context, 200, "
                                                "[{'r': 1}, {'r': 2}])"), "codeHandlesReturn": "true"}),
    ("query", "own error", {"code": task("connector_connection.send_query_error(connector_context, {'messageCode': "
                                         "'my.code', 'messageTemplate': 'bad {0}', 'parameters': ['thing']})"),
                            "codeHandlesReturn": True}),
    ("query", "conflicting return", {"code": "a = 1\n", "codeHandlesReturn": True, "limitReturnTo": ["a"]}),
    ("query", "syntax error", {"code": "x = = 1\n"}),
    ("query", "top-level await", {"code": "import asyncio\nawait asyncio.sleep(0)\n"}),
    ("query", "runtime error", {"code": "a = 1\nb = 1 / 0\n"}),
    ("query", "import error", {"code": "import no_such_module_xyz\n"}),
    ("query", "unserialisable globals dropped", {"code": UNSERIALISABLE}),
    ("query", "circular value", {"code": "l = []\nl.append(l)\n"}),
    ("query", "no code", {}),
    ("query", "unknown name", {"name": "neverSeen"}),
    ("query", "cache without a name", {"code": "a = 1\n", "cache_code": True}),
    ("query", "presets not a dict", {"code": "a = 1\n", "presetValues": [1, 2]}),
    ("query", "named code compiled", {"name": "sq", "code": SQ, "presetValues": {"v": 3}}),
    ("query", "named code cached", {"name": "sq", "code": SQ, "presetValues": {"v": 4}}),
    ("query", "name alone runs the cache", {"name": "sq", "presetValues": {"v": 5}}),
    ("query", "changed code recompiled", {"name": "sq", "code": "r = v + v\nf = __file__\n", "presetValues": {"v": 6}}),
    ("query", "connector globals", {"code": "f = __file__\nn = __name__\nctx = connector_context\n"}),
    ("query", "code wins over script", {"code": "a = 1\n", "script": "myDoc.py"}),
    ("query", "script document", {"script": "myDoc.py", "presetValues": {"base": 41}}),
    ("query", "script cached", {"script": "myDoc.py", "presetValues": {"base": 1}}),
    ("query", "missing document", {"script": "nope.py"}),
    ("query", "empty document", {"script": "emptyDoc.py"}),
    ("query", "empty code runs", {"code": ""}),
    ("query", "code that is not text", {"code": 5}),
    ("query", "empty name", {"name": ""}),
    ("query", "empty script", {"script": ""}),
    ("query", "null limitReturnTo", {"code": "a = 1\n", "limitReturnTo": None}),
    ("query", "null presetValues", {"code": "a = 1\n", "presetValues": None}),
    ("query", "empty limitReturnTo with own return", {"code": "a = 1\n", "codeHandlesReturn": True, "limitReturnTo": ""}),
    ("query", "cache_code given as a false string", {"code": "a = 1\n", "cache_code": "false"}),
    ("query", "code handling its return never replies", {"code": "a = 1\n", "codeHandlesReturn": True}),
    ("query", "non-string limitReturnTo item", {"code": "a = 1\n", "limitReturnTo": ["a", 5]}),
    ("publish", "publish is ignored", {"hello": "world"}),
    ("raw", "query without reply address", {"op": "query", "resourceName": "sources", "object": {"code": "a = 1\n"}}),
    ("configure", "reconnect with a small cache and runtime info",
     {"pythonExecConfig": {"general": {"codeCacheSize": 2, "returnRuntimeInformation": True}}}),
    ("query", "runtime info, unnamed", {"code": "y = 2\n"}),
    ("query", "runtime info with presets", {"code": "y = p + q\n", "presetValues": {"p": 1, "q": 2}}),
    ("query", "runtime info, new entry", {"name": "a", "code": "r = 1\n"}),
    ("query", "runtime info, cached", {"name": "a", "code": "r = 1\n"}),
    ("query", "b.py compiled", {"name": "b.py", "code": "r = 2\nf = __file__\n"}),
    ("query", "b.py cached", {"name": "b.py", "code": "r = 2\nf = __file__\n"}),
    ("query", "c evicts a", {"name": "c", "code": "r = 3\n"}),
    ("query", "a again evicts b.py", {"name": "a", "code": "r = 1\n"}),
    ("query", "b.py was evicted", {"name": "b.py"}),
    ("query", "own return has no runtime info", {"code": LOOPER, "codeHandlesReturn": True,
                                                 "presetValues": {"loop_count": 2}}),
    ("query", "script with runtime info", {"script": "myDoc.py", "presetValues": {"base": 1}}),
    ("query", "script cached with runtime info", {"script": "myDoc.py", "presetValues": {"base": 2}}),
    ("close", "the server closes the socket", None),
    ("configure", "empty configuration keeps runtime info on", {}),
    ("query", "cache reset to the default size", {"code": "k = 1\n"}),
]

#: step label -> (what the real connector sends, what polynb sends), after masking
IMPROVEMENTS = {
    "code handling its return never replies": "polynb answers io.polynb.vantiq.query.noreply; the real one never answers",
    "non-string limitReturnTo item": "polynb answers badreturnvaluesfor; the real one raises and never answers",
    "query without reply address": "polynb answers a 400 with empty headers; the real one sends nothing",
    "code that is not text": "polynb answers compile.exception with the error's text; the real one cannot encode "
                             "the exception object and answers runpython.exception 'not JSON serializable'",
    "runtime info with presets": "connectorRuntimeInfo.name is the code's name; the real one puts the last preset key",
    "script with runtime info": "connectorRuntimeInfo.name is the script; the real one puts the last preset key",
    "script cached with runtime info": "connectorRuntimeInfo.name is the script; the real one puts the last preset key",
}
TIMES = ("compileTime", "executionTime", "totalTime", "query_time")


def mask(value, source: str, address: str | None):
    """The frame with what differs by chance or by clock replaced by placeholders."""
    if isinstance(value, dict):
        masked = {key: mask(item, source, address) for key, item in value.items()}
        for key in TIMES:
            if key in masked and isinstance(value.get(key), float):
                masked[key] = "<seconds>"
        if value.get("messageCode") in ("io.vantiq.pyexecsource.execution.exception",
                                        "io.vantiq.pyexecsource.runpython.exception"):
            masked["parameters"] = [masked["parameters"][0], user_traceback(value["parameters"][1], source)]
        return masked
    if isinstance(value, list):
        return [mask(item, source, address) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return "<NaN>"
    if isinstance(value, str):
        if value == address:
            return "<address>"
        return "<source>" if value == source else masked_filename(value, source)
    return value


def masked_filename(text: str, source: str) -> str:
    return re.sub(rf"code-for-source-{re.escape(source)}-[0-9a-f-]{{36}}", "code-for-source-<source>-<uuid>", text)


def user_traceback(text: str, source: str) -> str:
    """A traceback reduced to the user's frames and the exception line: the connectors' own frames differ."""
    lines = text.rstrip("\n").split("\n")
    kept = [masked_filename(line.strip(), source) for line in lines if "code-for-source-" in line]
    return "\n".join(kept + [lines[-1]])


def run_steps(rest: Rest, source: str) -> list[str]:
    """Drive one connector through STEPS; returns the stand-in's frame log of the source afterwards."""
    sessions = 1
    for kind, label, payload in STEPS:
        if kind == "query":
            quiet = label in ("code handling its return never replies", "non-string limitReturnTo item")
            rest.query(source, payload, timeout=SHORT if quiet else None)
        elif kind == "publish":
            rest.client.post(f"/api/v1/resources/sources/{source}/publish", json=payload)
        elif kind == "raw":
            rest.control(source, "send", json.dumps({**payload, "resourceId": source}))
        else:
            if kind == "configure":
                rest.configure(source, payload)
            else:
                rest.control(source, "close")
            sessions += 1
            rest.wait_for_sessions(source, sessions)
    return rest.frames(source)


def by_step(frames: list, source: str) -> tuple[dict[str, list], list, list]:
    """(c2s frames per step label, notifications and unaddressed frames in order, handshake frames)."""
    labels = iter(label for kind, label, _ in STEPS if kind == "query")
    address_label, per_step, loose, handshakes = {}, {}, [], []
    for direction, text in frames:
        frame = json.loads(text)
        if direction == "s2c":
            if frame.get("op") == "query" and "REPLY_ADDR_HEADER" in frame.get("messageHeaders", {}):
                address_label[frame["messageHeaders"]["REPLY_ADDR_HEADER"]] = next(labels)
            continue
        address = (frame.get("headers") or {}).get("X-Reply-Address")
        if address in address_label:
            per_step.setdefault(address_label[address], []).append(json.dumps(mask(frame, source, address)))
        elif frame.get("op") in ("validate", "connectExtension"):
            handshakes.append(frame)
        else:
            loose.append(json.dumps(mask(frame, source, None)))
    return per_step, loose, handshakes


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Both connectors through the same steps, side by side on one local server."""
    documents = tmp_path_factory.mktemp("documents")
    (documents / "myDoc.py").write_text("doc_result = base + 1\nsrc = 'document'\n")
    (documents / "emptyDoc.py").write_text("")
    with local_server({"VANTIQ_DOCUMENTS": str(documents)}) as info:
        rest = Rest(info["url"], info["token"])
        results = {}
        with peer_connector(tmp_path_factory.mktemp("peer"), info["url"], info["token"], "peerSource"), \
                polynb_connector(tmp_path_factory.mktemp("journal"), info["url"], info["token"], "polySource"):
            rest.wait_for_sessions("peerSource", 1)
            rest.wait_for_sessions("polySource", 1)
            threads = [threading.Thread(target=lambda s=s: results.__setitem__(s, run_steps(Rest(info["url"], info["token"]), s)))
                       for s in ("peerSource", "polySource")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(300)
        yield {source: by_step(frames, source) for source, frames in results.items()}


@pytest.mark.parametrize("label", [label for kind, label, _ in STEPS if kind == "query" and label not in IMPROVEMENTS])
def test_polynb_answers_each_query_with_the_real_connectors_frames(recorded, label):
    real, ours = recorded["peerSource"][0], recorded["polySource"][0]
    assert ours.get(label) == real.get(label)


def test_notifications_and_unaddressed_frames_match_except_the_answer_to_a_query_without_address(recorded):
    real, ours = recorded["peerSource"][1], recorded["polySource"][1]
    unaddressed = [frame for frame in ours if json.loads(frame).get("status") == 400]
    assert [json.loads(frame)["body"]["messageCode"] for frame in unaddressed] == ["io.polynb.vantiq.query.noreplyaddress"]
    assert [frame for frame in ours if frame not in unaddressed] == real


def test_reconnects_repeat_the_handshake_with_the_same_secret_as_the_real_connector(recorded):
    masked = {}
    for source in ("peerSource", "polySource"):
        handshakes = recorded[source][2]
        secrets = {frame["parameters"]["reconnectSecret"] for frame in handshakes if frame["op"] == "connectExtension"}
        assert len(secrets) == 1 and re.fullmatch(rf"{source}_[0-9a-f-]{{36}}", secrets.pop())
        masked[source] = [json.dumps(mask(frame, source, None)).replace(source + "_", "<source>_")
                          for frame in handshakes]
        masked[source] = [re.sub(r"<source>_[0-9a-f-]{36}", "<source>_<uuid1>", text) for text in masked[source]]
    assert [json.loads(text)["op"] for text in masked["polySource"]] == ["validate", "connectExtension"] * 4
    assert masked["polySource"] == masked["peerSource"]


def test_improvements_answer_what_the_real_connector_leaves_unanswered(recorded):
    real, ours = recorded["peerSource"][0], recorded["polySource"][0]
    for label in ("code handling its return never replies", "non-string limitReturnTo item"):
        assert label not in real
    codes = {label: json.loads(ours[label][0])["body"]["messageCode"]
             for label in ("code handling its return never replies", "non-string limitReturnTo item")}
    assert codes == {"code handling its return never replies": "io.polynb.vantiq.query.noreply",
                     "non-string limitReturnTo item": "io.vantiq.pyexecsource.runpython.badreturnvaluesfor"}


def test_code_that_is_not_text_gets_the_compile_error_the_real_connector_fails_to_send(recorded):
    real, ours = (json.loads(recorded[source][0]["code that is not text"][0])["body"]
                  for source in ("peerSource", "polySource"))
    assert real["messageCode"] == "io.vantiq.pyexecsource.runpython.exception"
    assert real["parameters"][1].endswith("TypeError: Object of type TypeError is not JSON serializable")
    assert ours == {"messageCode": "io.vantiq.pyexecsource.compile.exception",
                    "messageTemplate": "Compilation resulted in: {0} :: {1}",
                    "parameters": ["TypeError", "compile() arg 1 must be a string, bytes or AST object"]}


def test_runtime_info_names_the_code_where_the_real_connector_names_the_last_preset(recorded):
    real, ours = recorded["peerSource"][0], recorded["polySource"][0]
    names = {label: (json.loads(real[label][0])["body"]["connectorRuntimeInfo"].get("name"),
                     json.loads(ours[label][0])["body"]["connectorRuntimeInfo"].get("name"))
             for label in ("runtime info with presets", "script with runtime info", "script cached with runtime info")}
    assert names == {"runtime info with presets": ("q", None), "script with runtime info": ("base", "myDoc.py"),
                     "script cached with runtime info": ("base", "myDoc.py")}
    for label in ("script with runtime info", "script cached with runtime info"):
        strip = [json.loads(frame) for frame in real[label] + ours[label]]
        for frame in strip:
            frame["body"]["connectorRuntimeInfo"].pop("name")
        assert strip[0] == strip[1]
