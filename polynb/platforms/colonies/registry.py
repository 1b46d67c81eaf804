"""The Colonies server's membership rules: colonies, executors, users, functions, and who may do what.

:class:`Registry` holds the server's state (loaded from and written through to the :class:`Store`)
and answers the message types that manage identities. :class:`.rules.Rules` adds processes on top.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from . import crypto
from .store import Store
from .wire import APPROVED, REJECTED, BadRequest, ColoniesError, Forbidden, NotFound, go_time


def _executor_key(colony: str, name: str) -> str:
    return f"{colony}/{name}"


class Registry:
    """The whole server state; every change is written through to the :class:`Store`."""

    def __init__(self, store: Store, server_id: str, allow_reregister: bool = False,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.store = store
        self.server_id = server_id
        self.allow_reregister = allow_reregister
        self.clock = clock
        self.colonies = store.load("colony")
        self.executors = store.load("executor")
        self.users = store.load("user")
        self.functions = store.load("function")
        self.processes = store.load("process")
        self.graphs = store.load("graph")
        self.attributes = store.load("attribute")
        #: called with a process after every state change (wakes long polls, feeds subscriptions)
        self.listeners: list[Callable[[dict], None]] = []

    # -- persistence and notification -------------------------------------------------------------------
    def _save(self, kind: str, table: dict, key: str) -> None:
        self.store.save(kind, key, table[key])

    def _changed(self, process: dict) -> None:
        self._save("process", self.processes, process["processid"])
        for listener in list(self.listeners):
            listener(process)

    # -- who may do what --------------------------------------------------------------------------------
    def _colony(self, name: str) -> dict:
        colony = self.colonies.get(name)
        if colony is None:
            raise ColoniesError(f"Colony with name <{name}> does not exist", 500)
        return colony

    def _server_owner(self, signer: str) -> None:
        if signer != self.server_id:
            raise Forbidden("Access denied, not server owner")

    def _colony_owner(self, signer: str, colony: str) -> None:
        if self._colony(colony)["colonyid"] != signer:
            raise Forbidden(f"Access denied, not owner of Colony with name <{colony}>")

    def executor_of(self, signer: str, colony: str) -> dict | None:
        for executor in self.executors.values():
            if executor["executorid"] == signer and executor["colonyname"] == colony:
                return executor
        return None

    def _member(self, signer: str, colony: str) -> str:
        """The member's name; approved executors and users of the colony are members."""
        executor = self.executor_of(signer, colony)
        if executor is not None and executor["state"] == APPROVED:
            return executor["executorname"]
        for user in self.users.values():
            if user["userid"] == signer and user["colonyname"] == colony:
                return user["name"]
        raise Forbidden(f"Access denied, not a member of Colony with name <{colony}>")

    def _process(self, processid: str) -> dict:
        process = self.processes.get(processid or "")
        if process is None:
            raise NotFound("Failed to get process, process not found")
        return process

    def _assigned(self, signer: str, processid: str) -> dict:
        process = self._process(processid)
        colony = process["spec"]["conditions"]["colonyname"]
        self._member(signer, colony)
        if not process["isassigned"]:
            raise Forbidden("Access denied, process is not assigned")
        if process["assignedexecutorid"] != signer:
            raise Forbidden("Access denied, not the executor assigned to the process")
        return process

    # -- dispatch ---------------------------------------------------------------------------------------
    def handle(self, msgtype: str, signer: str, message: dict) -> Any:
        handler = getattr(self, f"_{msgtype}", None)
        if handler is None or msgtype == "assignprocessmsg":
            raise Forbidden(f"invalid rpcMsg.PayloadType: {msgtype}")
        return handler(signer, message)

    def knows(self, msgtype: str) -> bool:
        """Whether the server has this message type (``assignprocessmsg`` goes to :meth:`assign`)."""
        return msgtype == "assignprocessmsg" or hasattr(self, f"_{msgtype}")

    # -- server ----------------------------------------------------------------------------------------
    def _versionmsg(self, signer: str, message: dict) -> dict:
        return {"buildversion": "polynb-local", "buildtime": ""}

    def _getserverinfomsg(self, signer: str, message: dict) -> dict:
        return {"buildversion": "polynb-local", "buildtime": "", "backends": ["polynb-local"]}

    # -- colonies ----------------------------------------------------------------------------------------
    def _addcolonymsg(self, signer: str, message: dict) -> dict:
        self._server_owner(signer)
        colony = message.get("colony") or {}
        colonyid, name = str(colony.get("colonyid", "")), str(colony.get("name", ""))
        if len(colonyid) != 64:
            raise BadRequest("Failed to add colony, invalid colony id length")
        if not name or name in self.colonies:
            raise BadRequest(f"A Colony with name <{name}> already exists" if name else "Colony name is missing")
        self.colonies[name] = {"colonyid": colonyid, "name": name}
        self._save("colony", self.colonies, name)
        return self.colonies[name]

    def _removecolonymsg(self, signer: str, message: dict) -> dict:
        self._server_owner(signer)
        name = message.get("colonyname", "")
        self._colony(name)
        del self.colonies[name]
        self.store.delete("colony", [name])
        return {}

    def _getcoloniesmsg(self, signer: str, message: dict) -> list | None:
        self._server_owner(signer)
        return list(self.colonies.values()) or None

    def _getcolonymsg(self, signer: str, message: dict) -> dict:
        name = message.get("colonyname", "")
        self._member(signer, name)
        return self._colony(name)

    # -- executors and users -----------------------------------------------------------------------------
    def _addexecutormsg(self, signer: str, message: dict) -> dict:
        given = message.get("executor") or {}
        colony, name = str(given.get("colonyname", "")), str(given.get("executorname", ""))
        self._colony_owner(signer, colony)
        if not name or len(str(given.get("executorid", ""))) != 64 or not given.get("executortype"):
            raise BadRequest("Failed to add executor, executorname, executortype and a 64-char executorid are required")
        key = _executor_key(colony, name)
        if key in self.executors:
            if not self.allow_reregister:
                raise BadRequest(f"Executor with name <{name}> in Colony <{colony}> already exists")
            self._drop_executor(key)
        now = self.clock()
        self.executors[key] = {
            "executorid": given["executorid"], "executortype": given["executortype"], "executorname": name,
            "colonyname": colony, "state": 0, "requirefuncreg": bool(given.get("requirefuncreg", False)),
            "commissiontime": go_time(now), "lastheardfromtime": go_time(now),
            "capabilities": given.get("capabilities") or {"hardware": [], "software": []},
            "allocations": given.get("allocations") or {"projects": {}},
        }
        self._save("executor", self.executors, key)
        return self.executors[key]

    def _named_executor(self, signer: str, message: dict) -> str:
        colony, name = message.get("colonyname", ""), message.get("executorname", "")
        self._colony_owner(signer, colony)
        key = _executor_key(colony, name)
        if key not in self.executors:
            raise ColoniesError(f"Executor with name <{name}> not found", 500)
        return key

    def _set_executor_state(self, signer: str, message: dict, state: int) -> dict:
        key = self._named_executor(signer, message)
        self.executors[key]["state"] = state
        self._save("executor", self.executors, key)
        return {}

    def _approveexecutormsg(self, signer: str, message: dict) -> dict:
        return self._set_executor_state(signer, message, APPROVED)

    def _rejectexecutormsg(self, signer: str, message: dict) -> dict:
        return self._set_executor_state(signer, message, REJECTED)

    def _drop_executor(self, key: str) -> None:
        executor = self.executors.pop(key)
        self.store.delete("executor", [key])
        gone = [fid for fid, fn in self.functions.items()
                if (fn["colonyname"], fn["executorname"]) == (executor["colonyname"], executor["executorname"])]
        for fid in gone:
            del self.functions[fid]
        self.store.delete("function", gone)

    def _removeexecutormsg(self, signer: str, message: dict) -> dict:
        self._drop_executor(self._named_executor(signer, message))
        return {}

    def _getexecutorsmsg(self, signer: str, message: dict) -> list | None:
        colony = message.get("colonyname", "")
        self._member(signer, colony)
        return [e for e in self.executors.values() if e["colonyname"] == colony] or None

    def _getexecutormsg(self, signer: str, message: dict) -> dict:
        colony, name = message.get("colonyname", ""), message.get("executorname", "")
        self._member(signer, colony)
        executor = self.executors.get(_executor_key(colony, name))
        if executor is None:
            raise ColoniesError(f"Executor with name <{name}> not found", 500)
        return executor

    def _addusermsg(self, signer: str, message: dict) -> dict:
        user = dict(message.get("user") or {})
        colony = str(user.get("colonyname", ""))
        self._colony_owner(signer, colony)
        if len(str(user.get("userid", ""))) != 64 or not user.get("name"):
            raise BadRequest("Failed to add user, a name and a 64-char userid are required")
        key = _executor_key(colony, user["name"])
        self.users[key] = {"colonyname": colony, "userid": user["userid"], "name": user["name"],
                           "email": user.get("email", ""), "phone": user.get("phone", "")}
        self._save("user", self.users, key)
        return self.users[key]

    # -- functions ---------------------------------------------------------------------------------------
    def _addfunctionmsg(self, signer: str, message: dict) -> dict:
        fun = message.get("fun") or {}
        colony, name = str(fun.get("colonyname", "")), str(fun.get("executorname", ""))
        self._member(signer, colony)
        executor = self.executors.get(_executor_key(colony, name))
        if executor is None or executor["executorid"] != signer:
            raise Forbidden("Not allowed to add a function to another executor")
        functionid = crypto.sha3_hex(f"{colony}/{name}/{fun.get('funcname', '')}")
        self.functions[functionid] = {
            "functionid": functionid, "executorname": name, "executortype": executor["executortype"],
            "colonyname": colony, "funcname": str(fun.get("funcname", "")), "counter": 0,
            "minwaittime": 0.0, "maxwaittime": 0.0, "minexectime": 0.0, "maxexectime": 0.0,
            "avgwaittime": 0.0, "avgexectime": 0.0,
        }
        self._save("function", self.functions, functionid)
        return self.functions[functionid]

    def _getfunctionsmsg(self, signer: str, message: dict) -> list | None:
        colony, name = message.get("colonyname", ""), message.get("executorname", "")
        self._member(signer, colony)
        return [f for f in self.functions.values()
                if f["colonyname"] == colony and (not name or f["executorname"] == name)] or None

