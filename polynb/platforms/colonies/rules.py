"""The Colonies server's process rules, without HTTP: the process table, scheduling, deadlines, workflows, logs.

One method per message type takes the recovered signer id and the message and returns the reply
object, or raises the :mod:`wire` error the Go server answers with. The HTTP/websocket layer
(:mod:`.local`) only decodes envelopes, waits for long polls and pushes subscriptions.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from . import crypto
from .registry import Registry
from .wire import (
    CANCELLED,
    EXEC_LIMIT,
    FAILED,
    RUNNING,
    SUCCESS,
    WAIT_LIMIT,
    WAITING,
    BadRequest,
    ColoniesError,
    Forbidden,
    go_time,
)

DAY_NS = 86_400 * 1_000_000_000
_PROCESS_TIMES = ("submissiontime", "starttime", "endtime", "waitdeadline", "execdeadline")
_GRAPH_TIMES = ("submissiontime", "starttime", "endtime")
_PROCESS_FILTERS = (("executortype", lambda p: p["spec"]["conditions"].get("executortype")),
                    ("label", lambda p: p["spec"].get("label")),
                    ("initiator", lambda p: p["initiatorname"]))


class Rules(Registry):
    """The server: :class:`Registry` plus processes, workflows and logs."""

    # -- processes ---------------------------------------------------------------------------------------
    def _new_process(self, spec: Any, initiatorid: str, initiatorname: str, now: int) -> dict:
        if not isinstance(spec, dict) or not isinstance(spec.get("conditions"), dict):
            raise BadRequest("Failed to submit, function spec has no conditions")
        priority = spec.get("priority") or 0
        if not isinstance(priority, int) or not -50000 <= priority <= 50000:
            raise BadRequest("Failed to submit, priority must be between -50000 and 50000")
        spec = {**spec, "args": spec.get("args") or [], "kwargs": spec.get("kwargs") or {},
                "env": spec.get("env") or {}}
        for limit in ("maxexectime", "maxwaittime", "maxretries"):
            if not isinstance(spec.get(limit, 0), int):
                raise BadRequest(f"Failed to submit, {limit} must be an integer")
            spec.setdefault(limit, 0)
        maxwait = spec["maxwaittime"]
        return {
            "processid": crypto.sha3_hex(str(uuid.uuid4())), "initiatorid": initiatorid,
            "initiatorname": initiatorname, "assignedexecutorid": "", "isassigned": False, "state": WAITING,
            "prioritytime": now - priority * DAY_NS, "submissiontime": now, "starttime": 0, "endtime": 0,
            "waitdeadline": now + maxwait * 1_000_000_000 if maxwait > 0 else 0, "execdeadline": 0,
            "retries": 0, "attributes": [{"key": k, "value": str(v), "targetid": "", "attributetype": 3}
                                         for k, v in spec["env"].items()],
            "spec": spec, "waitforparents": False, "parents": [], "children": [], "processgraphid": "",
            "in": [], "out": [], "errors": [],
        }

    def _submitfuncspecmsg(self, signer: str, message: dict) -> dict:
        spec = message.get("spec")
        colony = ((spec or {}).get("conditions") or {}).get("colonyname", "") if isinstance(spec, dict) else ""
        name = self._member(signer, colony)
        process = self._new_process(spec, signer, name, self.clock())
        self.processes[process["processid"]] = process
        self._changed(process)
        return render_process(process)

    def assign(self, signer: str, colony: str) -> dict | None:
        """Hand the signer the next process it may run, or None (the caller long-polls)."""
        self._member(signer, colony)
        executor = self.executor_of(signer, colony)
        if executor is None:
            raise ColoniesError("Failed to assign process, executor not found", 500)
        now = self.clock()
        executor["lastheardfromtime"] = go_time(now)
        candidates = [p for p in self.processes.values()
                      if p["state"] == WAITING and not p["isassigned"] and not p["waitforparents"]
                      and p["spec"]["conditions"].get("colonyname") == colony
                      and p["spec"]["conditions"].get("executortype") == executor["executortype"]
                      and self._names_match(p, executor["executorname"])]
        if not candidates:
            return None
        process = min(candidates, key=lambda p: p["prioritytime"])
        maxexec = process["spec"].get("maxexectime", 0)
        process.update(isassigned=True, state=RUNNING, starttime=now, assignedexecutorid=signer,
                       execdeadline=now + maxexec * 1_000_000_000 if maxexec > 0 else process["execdeadline"])
        if process["parents"]:
            process["in"] = [item for parent in process["parents"] for item in self.processes[parent]["out"]]
        self._changed(process)
        return render_process(process)

    @staticmethod
    def _names_match(process: dict, executorname: str) -> bool:
        names = process["spec"]["conditions"].get("executornames") or []
        return not names or names == ["*"] or executorname in names

    def _getprocessmsg(self, signer: str, message: dict) -> dict:
        process = self._process(message.get("processid", ""))
        self._member(signer, process["spec"]["conditions"]["colonyname"])
        return render_process(process)

    def subscription(self, msgtype: str, signer: str, message: dict) -> Callable[[dict], bool]:
        """What a ``/pubsub`` subscriber will be sent, under the rules of ``getprocessmsg``/``getprocessesmsg``:
        a member of the process's colony only (the subscription's own ``colonyname`` cannot widen that)."""
        state = message.get("state")
        if msgtype == "subscribeprocessmsg":
            process = self._process(message.get("processid", ""))
            self._member(signer, process["spec"]["conditions"]["colonyname"])
            processid = process["processid"]
            return lambda p: p["processid"] == processid and p["state"] == state
        if msgtype == "subscribeprocessesmsg":
            colony, kind = message.get("colonyname", ""), message.get("executortype", "")
            self._member(signer, colony)
            return lambda p: (p["state"] == state and p["spec"]["conditions"].get("executortype") == kind
                              and p["spec"]["conditions"].get("colonyname") == colony)
        raise Forbidden(f"invalid rpcMsg.PayloadType: {msgtype}")

    def _getprocessesmsg(self, signer: str, message: dict) -> list | None:
        colony, count, state = message.get("colonyname", ""), message.get("count", 0), message.get("state", -1)
        self._member(signer, colony)
        if not isinstance(count, int) or count > 100:
            raise BadRequest("Count exceeds max process count (100)")
        if state not in (WAITING, RUNNING, SUCCESS, FAILED, CANCELLED):
            raise BadRequest("Failed to get processes, invalid msg.State")
        found = [p for p in self.processes.values()
                 if p["spec"]["conditions"].get("colonyname") == colony and p["state"] == state]
        for key, field_of in _PROCESS_FILTERS:  # one filter applies, in this precedence (fact sheet 4.4)
            if message.get(key):
                found = [p for p in found if field_of(p) == message[key]]
                break
        found.sort(key=lambda p: p["prioritytime"])
        return [render_process(p) for p in found[:count]] or None

    def _closesuccessfulmsg(self, signer: str, message: dict) -> dict:
        process = self._assigned(signer, message.get("processid", ""))
        if process["state"] in (FAILED, CANCELLED, WAITING):
            raise BadRequest("Tried to set failed process as successful" if process["state"] == FAILED
                             else "Tried to set a process that is not running as successful")
        out = message.get("out")
        if out:
            process["out"] = list(out) if isinstance(out, list) else [out]
        self._finish(process, SUCCESS)
        return {}

    def _closefailedmsg(self, signer: str, message: dict) -> dict:
        process = self._assigned(signer, message.get("processid", ""))
        if process["state"] in (SUCCESS, FAILED, CANCELLED):
            raise BadRequest(f"Tried to set {'successful' if process['state'] == SUCCESS else 'closed'} "
                             "process as failed")
        errors = message.get("errors") or []
        process["errors"] = [str(e) for e in errors] if isinstance(errors, list) else [str(errors)]
        self._finish(process, FAILED)
        return {}

    def _running(self, signer: str, processid: str, action: str) -> dict:
        process = self._process(processid)
        if process["state"] != RUNNING:
            raise Forbidden(f"Failed to {action}, process is not running")
        return self._assigned(signer, processid)

    def _setoutputmsg(self, signer: str, message: dict) -> dict:
        process = self._running(signer, message.get("processid", ""), "set output")
        if message.get("out"):
            process["out"] = list(message["out"])
            self._save("process", self.processes, process["processid"])
        return {}

    def _addattributemsg(self, signer: str, message: dict) -> dict:
        attribute = message.get("attribute") or {}
        process = self._running(signer, attribute.get("targetid", ""), "add attribute")
        kind = attribute.get("attributetype", 1)
        attributeid = crypto.sha3_hex(f"{process['processid']}{attribute.get('key', '')}{kind}")
        if attributeid in self.attributes:
            raise BadRequest(f"Attribute with id <{attributeid}> already exists")
        stored = {"attributeid": attributeid, "targetid": process["processid"],
                  "targetcolonyname": process["spec"]["conditions"]["colonyname"],
                  "targetprocessgraphid": process["processgraphid"], "state": process["state"],
                  "attributetype": kind, "key": str(attribute.get("key", "")), "value": str(attribute.get("value", ""))}
        self.attributes[attributeid] = stored
        self._save("attribute", self.attributes, attributeid)
        process["attributes"].append({k: stored[k] for k in ("key", "value", "targetid", "attributetype")})
        self._save("process", self.processes, process["processid"])
        return stored

    def _getattributemsg(self, signer: str, message: dict) -> dict:
        attribute = self.attributes.get(message.get("attributeid", ""))
        if attribute is None:
            raise ColoniesError("Failed to get attribute, attribute not found", 500)
        self._member(signer, attribute["targetcolonyname"])
        return attribute

    def _removeprocessmsg(self, signer: str, message: dict) -> dict:
        process = self._process(message.get("processid", ""))
        self._member(signer, process["spec"]["conditions"]["colonyname"])
        if process["state"] == RUNNING or process["processgraphid"]:
            raise BadRequest("Failed to remove process, it is running or part of a workflow")
        del self.processes[process["processid"]]
        self.store.delete("process", [process["processid"]])
        return {}

    def _cancelprocessmsg(self, signer: str, message: dict) -> dict:
        process = self._process(message.get("processid", ""))
        self._member(signer, process["spec"]["conditions"]["colonyname"])
        if process["processgraphid"] or process["state"] in (SUCCESS, FAILED):
            raise BadRequest("Failed to cancel process, it is closed or part of a workflow")
        process.update(state=CANCELLED, isassigned=False, endtime=self.clock())
        self._changed(process)
        return {}

    # -- closing, timeouts, workflows ---------------------------------------------------------------------
    def _finish(self, process: dict, state: int) -> None:
        process.update(state=state, endtime=self.clock())
        self._changed(process)
        if process["processgraphid"]:
            self._resolve(process)

    def _resolve(self, closed: dict) -> None:
        """After a graph member closes: release children whose parents all succeeded, or cascade a failure."""
        graph = self.graphs[closed["processgraphid"]]
        members = [self.processes[pid] for pid in graph["processids"] if pid in self.processes]
        if closed["state"] == FAILED and closed["children"]:
            for process in members:
                if process["state"] != FAILED:
                    process.update(state=FAILED, endtime=self.clock())
                    self._changed(process)
        for process in members:
            if process["waitforparents"] and all(self.processes[p]["state"] == SUCCESS for p in process["parents"]):
                process["waitforparents"] = False
                self._changed(process)
        if _graph_state(members) in (SUCCESS, FAILED) and not graph["endtime"]:
            graph["endtime"] = self.clock()
            self._save("graph", self.graphs, graph["processgraphid"])

    def tick(self) -> None:
        """The server's one-second loop: execution and waiting deadlines, retries (§5.3)."""
        now = self.clock()
        for process in list(self.processes.values()):
            spec = process["spec"]
            if process["state"] == RUNNING and spec.get("maxexectime", 0) != -1 and now > process["execdeadline"]:
                if -1 < spec.get("maxretries", 0) <= process["retries"]:
                    process["errors"] = [EXEC_LIMIT]
                    self._finish(process, FAILED)
                else:
                    maxwait = spec.get("maxwaittime", 0)
                    process.update(state=WAITING, isassigned=False, assignedexecutorid="", endtime=now,
                                   retries=process["retries"] + 1, execdeadline=0,
                                   waitdeadline=now + maxwait * 1_000_000_000 if maxwait > 0 else 0)
                    self._changed(process)
            elif process["state"] == WAITING and process["waitdeadline"] and now > process["waitdeadline"]:
                process["errors"] = [WAIT_LIMIT]
                self._finish(process, FAILED)

    def _submitworkflowspecmsg(self, signer: str, message: dict) -> dict:
        workflow = message.get("spec") or {}
        colony = workflow.get("colonyname", "")
        name = self._member(signer, colony)
        specs = workflow.get("functionspecs") or []
        nodenames = [s.get("nodename", "") if isinstance(s, dict) else "" for s in specs]
        if not specs or not all(nodenames):
            raise ColoniesError("Nodename is missing, check function spec for errors", 500)
        duplicates = sorted({n for n in nodenames if nodenames.count(n) > 1})
        if duplicates:
            raise ColoniesError(f"Duplicate nodename: {duplicates[0]}", 500)
        now = self.clock()
        graph_id = crypto.sha3_hex(str(uuid.uuid4()))
        by_node: dict[str, dict] = {}
        for spec in specs:
            spec = {**spec, "conditions": {**(spec.get("conditions") or {}), "colonyname": colony}}
            if spec.get("maxexectime", 0) == 0:
                spec["maxexectime"] = -1
            by_node[spec["nodename"]] = self._new_process(spec, signer, name, now)
        for process in by_node.values():
            for parent_name in process["spec"]["conditions"].get("dependencies") or []:
                if parent_name not in by_node:
                    raise ColoniesError("Failed to submit workflow, invalid dependencies, are you depending on a "
                                        "nodename that does not exits?", 500)
                parent = by_node[parent_name]
                process["parents"].append(parent["processid"])
                parent["children"].append(process["processid"])
        for process in by_node.values():
            process.update(processgraphid=graph_id, waitforparents=bool(process["parents"]))
        self.graphs[graph_id] = {
            "processgraphid": graph_id, "initiatorid": signer, "initiatorname": name, "colonyname": colony,
            "rootprocessids": [p["processid"] for p in by_node.values() if not p["parents"]],
            "submissiontime": now, "starttime": now, "endtime": 0,
            "processids": [p["processid"] for p in by_node.values()],
        }
        self._save("graph", self.graphs, graph_id)
        for process in by_node.values():
            self.processes[process["processid"]] = process
            self._changed(process)
        return self.render_graph(graph_id, submitted=True)

    def _graph(self, signer: str, graph_id: str) -> dict:
        graph = self.graphs.get(graph_id or "")
        if graph is None:
            raise ColoniesError("Failed to get process graph, process graph not found", 500)
        self._member(signer, graph["colonyname"])
        return graph

    def _getprocessgraphmsg(self, signer: str, message: dict) -> dict:
        return self.render_graph(self._graph(signer, message.get("processgraphid", ""))["processgraphid"])

    def _getprocessgraphsmsg(self, signer: str, message: dict) -> list | None:
        colony, state = message.get("colonyname", ""), message.get("state", -1)
        self._member(signer, colony)
        graphs = [self.render_graph(g) for g, v in self.graphs.items() if v["colonyname"] == colony]
        graphs = [g for g in graphs if state in (-1, None) or g["state"] == state]
        return graphs[: max(0, int(message.get("count", 100) or 100))] or None

    def render_graph(self, graph_id: str, submitted: bool = False) -> dict:
        graph = self.graphs[graph_id]
        members = [self.processes[p] for p in graph["processids"] if p in self.processes]
        rendered = {**graph, "state": _graph_state(members)}
        for key in _GRAPH_TIMES:
            rendered[key] = go_time(0 if submitted else graph[key])
        if submitted:
            rendered.update(nodes=[], edges=[])
        else:
            rendered["nodes"] = [{"id": p["processid"], "data": {"label": p["spec"].get("nodename", "")},
                                  "position": {"x": 0, "y": 0}, "type": "default", "style": {}} for p in members]
            rendered["edges"] = [{"id": f"{p['processid']}-{c}", "source": p["processid"], "target": c,
                                  "animated": False} for p in members for c in p["children"]]
        return rendered

    # -- logs --------------------------------------------------------------------------------------------
    def _addlogmsg(self, signer: str, message: dict) -> dict:
        process = self._process(message.get("processid", ""))
        if process["state"] != RUNNING:
            raise Forbidden("Failed to set output, process is not running")
        self._assigned(signer, process["processid"])
        colony = process["spec"]["conditions"]["colonyname"]
        executor = self.executor_of(signer, colony)
        self.store.add_log(process["processid"], colony, executor["executorname"] if executor else "",
                           str(message.get("message", "")), self.clock())
        return {}

    def _getlogsmsg(self, signer: str, message: dict) -> list | None:
        colony, count = message.get("colonyname", ""), message.get("count", 100)
        processid, executorname = message.get("processid", ""), message.get("executorname", "")
        if not executorname:
            colony = self._process(processid)["spec"]["conditions"]["colonyname"]
        self._member(signer, colony)
        if not isinstance(count, int) or count > 500:
            raise Forbidden("Count exceeds max log count (500)")
        return self.store.logs(processid=processid, executorname=executorname, count=count,
                               since=int(message.get("since") or 0), latest=bool(message.get("latest"))) or None


def _graph_state(members: list[dict]) -> int:
    states = [p["state"] for p in members]
    if FAILED in states:
        return FAILED
    if CANCELLED in states:
        return CANCELLED
    if states and all(s == SUCCESS for s in states):
        return SUCCESS
    if SUCCESS in states or RUNNING in states:
        return RUNNING
    return WAITING


def render_process(process: dict) -> dict:
    """The Process JSON of the Go server: RFC 3339 times, lists as ``[]``."""
    rendered = dict(process)
    for key in _PROCESS_TIMES:
        rendered[key] = go_time(process[key])
    return rendered
