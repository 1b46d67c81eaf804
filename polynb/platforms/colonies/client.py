"""An async Colonies client: the part of the message catalogue polynb needs, signed, with timeouts and retries.

Every request has an explicit HTTP timeout (a long-poll ``assign`` gets its own plus a margin), and
requests are retried when the server cannot be reached, so a server restart is a pause, not a crash.
Server errors arrive as the typed exceptions of :mod:`.wire`, carrying the server's message.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import tornado.websocket

from ...backoff import Backoff
from . import crypto
from .wire import ConnectionFailed, decode_reply, encode_request


class ColoniesClient:
    """One server; each call names the private key that signs it (owner, executor and user differ)."""

    def __init__(self, host: str, port: int, tls: bool = False, *, timeout: float = 30.0, retries: int = 3,
                 retry_delay: float = 0.5) -> None:
        """``retries`` more attempts for a server that cannot be reached, the first after ``retry_delay`` s."""
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{host}:{port}/api"
        self.pubsub_url = f"{'wss' if tls else 'ws'}://{host}:{port}/pubsub"
        self.timeout = timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def rpc(self, message: Mapping[str, Any], private_key: str | None, timeout: float | None = None) -> Any:
        """Send one signed message and return the reply's result (retrying only unreachable servers)."""
        body = json.dumps(encode_request(message, private_key))
        backoff = Backoff(first=self.retry_delay, cap=5.0)
        for attempt in range(self.retries + 1):
            try:
                response = await self._http.post(self.url, content=body, timeout=timeout or self.timeout)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if attempt == self.retries:
                    raise ConnectionFailed(f"cannot reach the Colonies server at {self.url}: {exc}") from None
                await backoff.wait()
            except httpx.TimeoutException:
                raise ConnectionFailed(f"the Colonies server at {self.url} did not answer within "
                                       f"{timeout or self.timeout:g} s") from None
            else:
                return decode_reply(response.content)[1]

    # -- colonies, executors, users, functions -------------------------------------------------------------
    async def add_colony(self, colonyid: str, name: str, server_key: str) -> dict:
        return await self.rpc({"msgtype": "addcolonymsg", "colony": {"colonyid": colonyid, "name": name}}, server_key)

    async def add_executor(self, executor_key: str, name: str, executortype: str, colony: str,
                           colony_key: str) -> dict:
        executor = {"executorname": name, "executorid": crypto.identity(executor_key), "colonyname": colony,
                    "executortype": executortype}
        return await self.rpc({"msgtype": "addexecutormsg", "executor": executor}, colony_key)

    async def approve_executor(self, colony: str, name: str, colony_key: str) -> dict:
        return await self.rpc({"msgtype": "approveexecutormsg", "colonyname": colony, "executorname": name},
                              colony_key)

    async def remove_executor(self, colony: str, name: str, colony_key: str) -> dict:
        return await self.rpc({"msgtype": "removeexecutormsg", "colonyname": colony, "executorname": name},
                              colony_key)

    async def get_executors(self, colony: str, key: str) -> list:
        return await self.rpc({"msgtype": "getexecutorsmsg", "colonyname": colony}, key) or []

    async def get_executor(self, colony: str, name: str, key: str) -> dict:
        return await self.rpc({"msgtype": "getexecutormsg", "colonyname": colony, "executorname": name}, key)

    async def add_user(self, colony: str, name: str, user_key: str, colony_key: str) -> dict:
        user = {"colonyname": colony, "userid": crypto.identity(user_key), "name": name, "email": "", "phone": ""}
        return await self.rpc({"msgtype": "addusermsg", "user": user}, colony_key)

    async def add_function(self, colony: str, executor: str, funcname: str, executor_key: str) -> dict:
        fun = {"executorname": executor, "colonyname": colony, "funcname": funcname}
        return await self.rpc({"msgtype": "addfunctionmsg", "fun": fun}, executor_key)

    async def get_functions(self, colony: str, key: str, executor: str = "") -> list:
        return await self.rpc({"msgtype": "getfunctionsmsg", "colonyname": colony, "executorname": executor},
                              key) or []

    # -- processes ----------------------------------------------------------------------------------------
    async def submit(self, spec: Mapping[str, Any], key: str) -> dict:
        return await self.rpc({"msgtype": "submitfuncspecmsg", "spec": dict(spec)}, key)

    async def assign(self, colony: str, timeout: int, key: str) -> dict:
        """Long-poll for a process; :class:`wire.NoProcessAvailable` when none came within ``timeout`` s."""
        message = {"msgtype": "assignprocessmsg", "timeout": timeout, "colonyname": colony}
        return await self.rpc(message, key, timeout=max(timeout, 0) + self.timeout)

    async def close_process(self, processid: str, out: Sequence[Any], key: str) -> dict:
        return await self.rpc({"msgtype": "closesuccessfulmsg", "processid": processid, "out": list(out)}, key)

    async def fail_process(self, processid: str, errors: Sequence[str], key: str) -> dict:
        return await self.rpc({"msgtype": "closefailedmsg", "processid": processid, "errors": list(errors)}, key)

    async def set_output(self, processid: str, out: Sequence[Any], key: str) -> dict:
        return await self.rpc({"msgtype": "setoutputmsg", "processid": processid, "out": list(out)}, key)

    async def add_log(self, processid: str, message: str, key: str) -> dict:
        return await self.rpc({"msgtype": "addlogmsg", "processid": processid, "message": message}, key)

    async def add_attribute(self, processid: str, name: str, value: str, key: str) -> dict:
        attribute = {"key": name, "value": value, "targetid": processid, "attributetype": 1}
        return await self.rpc({"msgtype": "addattributemsg", "attribute": attribute}, key)

    async def get_process(self, processid: str, key: str) -> dict:
        return await self.rpc({"msgtype": "getprocessmsg", "processid": processid}, key)

    async def get_processes(self, colony: str, state: int, key: str, count: int = 100) -> list:
        return await self.rpc({"msgtype": "getprocessesmsg", "colonyname": colony, "count": count,
                               "state": state}, key) or []

    async def get_logs(self, colony: str, processid: str, key: str, since: int = 0, count: int = 500) -> list:
        return await self.rpc({"msgtype": "getlogsmsg", "colonyname": colony, "processid": processid,
                               "executorname": "", "count": count, "since": since, "latest": False}, key) or []

    # -- workflows ----------------------------------------------------------------------------------------
    async def submit_workflow(self, colony: str, specs: Sequence[Mapping[str, Any]], key: str) -> dict:
        workflow = {"colonyname": colony, "functionspecs": [dict(spec) for spec in specs]}
        return await self.rpc({"msgtype": "submitworkflowspecmsg", "spec": workflow}, key)

    async def get_processgraph(self, graph_id: str, key: str) -> dict:
        return await self.rpc({"msgtype": "getprocessgraphmsg", "processgraphid": graph_id}, key)

    # -- subscriptions ------------------------------------------------------------------------------------
    async def subscribe_process(self, process: Mapping[str, Any], state: int, timeout: int, key: str) -> dict | None:
        """Wait over ``/pubsub`` until the process is in ``state``; None when the server drops us at timeout."""
        message = {"msgtype": "subscribeprocessmsg", "colonyname": process["spec"]["conditions"]["colonyname"],
                   "processid": process["processid"],
                   "executortype": process["spec"]["conditions"]["executortype"], "state": state, "timeout": timeout}
        try:
            socket = await tornado.websocket.websocket_connect(self.pubsub_url, connect_timeout=self.timeout)
        except OSError as exc:
            raise ConnectionFailed(f"cannot open {self.pubsub_url}: {exc}") from None
        try:
            await socket.write_message(json.dumps(encode_request(message, key)))
            frame = await asyncio.wait_for(socket.read_message(), timeout + self.timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            socket.close()
        return None if frame is None else decode_reply(frame)[1]
