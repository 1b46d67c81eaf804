"""polynb as a Colonies executor: the binding that registers cell functions and serves their processes.

Each executor (type + name) long-polls ``assign`` with K concurrent loops. A process runs the function
its ``funcname`` names through the service (journaled, output captured); what it printed and logged
goes to the Colonies logs, and the result closes the process or the exception fails it.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from ... import progress
from ...backoff import Backoff
from ...config import Section
from ...execution import UNAVAILABLE, Arrival, Host, Outcome
from ...local import LocalStandIn, start_local
from ...payload import PayloadVersion
from ...runner import call_payload
from ..base import ERROR, READY, Binding
from . import crypto, keys, wire
from .client import ColoniesClient
from .naming import executor_name

log = logging.getLogger("polynb.colonies")
PLATFORM = "colonies"


class ProcessReassigned(RuntimeError):
    """The server took the process back (maxexectime passed): this result is not delivered."""


@dataclass
class ProcessContext:
    """What a running function's execution knows of its process."""

    process: dict
    taken_back: dict | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take_back(self, current: dict) -> None:
        """The server no longer has this process running on us (seen as ``current``)."""
        with self._lock:
            self.taken_back = current

    def encode(self, value: Any) -> list:
        """The result as Colonies ``out``, unless the server has meanwhile taken the process back."""
        with self._lock:
            current = self.taken_back
        if current is not None:
            raise ProcessReassigned(
                f"process {current['processid'][:12]} outlived maxexectime ({current['spec'].get('maxexectime')} s) "
                f"and the server took it back: it is now {wire.STATE_NAMES.get(current['state'], current['state'])} "
                f"after {current['retries']} retries; this result was not delivered")
        return wire.encode_output(value)


@dataclass
class Connection:
    """Where the colony is and the keys polynb holds for it."""

    client: ColoniesClient
    colony: str
    colony_key: str | None
    address: str


class ExecutorLoop:
    """One registered executor: its key and its long-poll tasks (any registered function runs on any executor)."""

    def __init__(self, binding: ColoniesBinding, name: str, executortype: str, key: str,
                 per_kernel: bool = False) -> None:
        self.binding = binding
        self.name = name
        self.executortype = executortype
        self.key = key
        #: named after this kernel: nobody comes back as it, so it leaves the colony when the kernel stops
        self.per_kernel = per_kernel
        self.id = crypto.identity(key)
        self.tasks: list[asyncio.Task] = []

    @property
    def connection(self) -> Connection:
        return self.binding.connection

    def scale(self, concurrency: int) -> None:
        """Run at least ``concurrency`` long-poll loops (a function asking for more raises the count)."""
        while len(self.tasks) < concurrency:
            self.tasks.append(asyncio.ensure_future(self._poll()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()

    async def _poll(self) -> None:
        client, colony = self.connection.client, self.connection.colony
        timeout = int(self.binding.settings["assign_timeout"])
        backoff = Backoff(first=0.5, cap=10.0)
        while True:
            try:
                process = await client.assign(colony, timeout, self.key)
            except wire.NoProcessAvailable:
                backoff.reset()
                self.binding.connected()
                continue
            except wire.ColoniesError as exc:  # unreachable server, revoked executor: report and keep trying
                self.binding.trouble(f"executor {self.name}: {exc}")
                await backoff.wait()
                continue
            backoff.reset()
            self.binding.connected()
            try:
                await self.run(process)
            except Exception:  # one process's trouble must never end the loop
                log.exception("colonies: executor %s failed handling process %s", self.name, process.get("processid"))

    async def run(self, process: dict) -> None:
        """Execute one assigned process and close or fail it on the server."""
        client, service = self.connection.client, self.binding.service
        processid, spec = process["processid"], process["spec"]
        args, kwargs = wire.process_arguments(process)
        context = ProcessContext(process)
        meta = {"processid": processid, "executor": self.name, "executortype": self.executortype,
                "colony": self.connection.colony, "retries": process["retries"],
                "processgraphid": process.get("processgraphid", "")}
        execution = asyncio.ensure_future(service.execute(Arrival(
            PLATFORM, spec.get("funcname", ""), {"args": args, "kwargs": kwargs}, context, meta=meta,
            encode=context.encode)))
        if not await self._outlasts_assignment(execution, process, context):
            execution.add_done_callback(lambda _: log.info("colonies: %s finished after reassignment", processid))
            return
        outcome = execution.result()
        if outcome.error_type == UNAVAILABLE:
            return  # left running: the server hands it out again after maxexectime
        await self._forward_output(processid, outcome)
        try:
            if outcome.ok:
                await client.close_process(processid, outcome.value, self.key)
            else:
                if outcome.traceback:
                    await client.add_log(processid, outcome.traceback, self.key)
                await client.fail_process(processid, [outcome.error or "failed"], self.key)
        except wire.ColoniesError as exc:
            log.warning("colonies: closing process %s was refused: %s", processid, exc)

    async def _outlasts_assignment(self, execution: asyncio.Future, process: dict, context: ProcessContext) -> bool:
        """Wait for the execution; False when the server took the process away before it ended."""
        limit = process["spec"].get("maxexectime", -1)
        if limit is None or limit <= 0:
            await asyncio.wait({execution})
            return True
        done, _ = await asyncio.wait({execution}, timeout=limit + 1.5)
        while not done:
            try:
                current = await self.connection.client.get_process(process["processid"], self.key)
            except wire.ColoniesError:
                current = None
            if current is not None and (current["state"] != wire.RUNNING or current["assignedexecutorid"] != self.id):
                context.take_back(current)
                return False
            done, _ = await asyncio.wait({execution}, timeout=1.0)
        return True

    async def _forward_output(self, processid: str, outcome: Outcome) -> None:
        """What the function printed and logged, as Colonies log lines (the journal has it too)."""
        lines = [text for text in (outcome.stdout, outcome.stderr) if text]
        lines += [f"[{entry['level']}] {entry['logger']}: {entry['message']}\n" for entry in outcome.logs]
        for line in lines:
            try:
                await self.connection.client.add_log(processid, line, self.key)
            except wire.ColoniesError as exc:
                log.warning("colonies: log of process %s was refused: %s", processid, exc)
                return


class ColoniesBinding(Binding[ProcessContext]):
    """Connects to the colony (or the local server), keeps polynb's executors, serves their processes."""

    def __init__(self, service: Host, settings: Section) -> None:
        super().__init__(service, settings)
        self.local: LocalStandIn | None = None
        self.connection: Connection | None = None
        self.executors: dict[str, ExecutorLoop] = {}
        self._member_key: str | None = None

    async def start(self) -> None:
        settings = self.settings
        if settings["server_host"]:
            host, port, tls = settings["server_host"], settings["server_port"], settings["server_tls"]
            colony, colony_key = settings["colony_name"], settings["colony_prvkey"]
        else:
            self.local = await start_local(PLATFORM, env=self._stand_in_env())
            info = self.local.info
            host, port, tls, colony, colony_key = (info["host"], info["port"], False, info["colony_name"],
                                                   info["colony_prvkey"])
        client = ColoniesClient(host, port, tls, timeout=settings["http_timeout"], retries=settings["retries"])
        self.connection = Connection(client, colony, colony_key, f"{'https' if tls else 'http'}://{host}:{port}")
        self.set_status(READY, self.connection.address)

    def _stand_in_env(self) -> dict[str, str]:
        """The local server listens on a free port and keeps its state beside this kernel's journal."""
        env = {"POLYNB_COLONIES_LOCAL_PORT": "0"}
        if not self.settings["local_state"]:
            env["POLYNB_COLONIES_LOCAL_STATE"] = str(self.service.journal.directory / "colonies" / "server.sqlite")
        return env

    async def stop(self) -> None:
        if self.connection is not None:
            await self._remove_executors(self.connection)
            await self.connection.client.close()
            self.connection = None
        if self.local is not None:
            await self.local.stop()
            self.local = None

    async def _remove_executors(self, connection: Connection) -> None:
        """Stop every executor; a per-kernel one (or any, with ``remove_executor``) leaves the colony too."""
        for executor in list(self.executors.values()):
            await executor.stop()
            if (executor.per_kernel or self.settings["remove_executor"]) and connection.colony_key:
                try:
                    await connection.client.remove_executor(connection.colony, executor.name,
                                                            connection.colony_key)
                except wire.ColoniesError as exc:
                    log.warning("colonies: could not remove executor %s: %s", executor.name, exc)
        self.executors.clear()

    # -- connection state -----------------------------------------------------------------------------
    def connected(self) -> None:
        self.set_status(READY, self.status.address)

    def trouble(self, detail: str) -> None:
        self.set_status(ERROR, self.status.address, detail)

    # -- executors ------------------------------------------------------------------------------------
    def default_executor_name(self, executortype: str, per_kernel: bool) -> str:
        """``COLONIES_EXECUTOR_NAME``, else this kernel's own name, or the notebook's (see :mod:`.naming`)."""
        return self.settings["executor_name"] or executor_name(executortype, per_kernel)

    def _key_for(self, name: str, per_kernel: bool) -> str:
        """A per-kernel executor gets a fresh key; a named one keeps its key file to come back as itself."""
        if self.settings["prvkey"] and name == self.settings["executor_name"]:
            return self.settings["prvkey"]
        if per_kernel:
            return crypto.generate_private_key()
        return keys.load_or_create(self.service.journal.directory, f"executor-{name}")

    async def executor(self, name: str | None, executortype: str) -> ExecutorLoop:
        """The running executor of that name (None: the default), registered and approved first if need be.

        The default is the kernel's own executor when polynb approves it itself (it holds the colony key);
        when the colony owner must approve it, the notebook's, so that the owner approves it once.
        """
        per_kernel = name is None and not self.settings["executor_name"] and bool(self.connection.colony_key)
        name = name or self.default_executor_name(executortype, per_kernel)
        existing = self.executors.get(name)
        if existing is not None:
            if existing.executortype != executortype:
                raise ValueError(f"executor {name!r} already serves type {existing.executortype!r}, "
                                 f"not {executortype!r}; pick another --executorname")
            return existing
        executor = ExecutorLoop(self, name, executortype, self._key_for(name, per_kernel), per_kernel)
        await self._enroll(executor)
        self.executors[name] = executor
        return executor

    async def _enroll(self, executor: ExecutorLoop) -> None:
        client, colony, colony_key = self.connection.client, self.connection.colony, self.connection.colony_key
        if colony_key:
            progress.report(f"registering executor {executor.name}")
            try:
                await client.add_executor(executor.key, executor.name, executor.executortype, colony, colony_key)
            except wire.BadRequest as exc:
                if "already exists" not in exc.message:
                    raise
            await client.approve_executor(colony, executor.name, colony_key)
        await self._await_approval(executor, owner=bool(colony_key))

    async def _await_approval(self, executor: ExecutorLoop, owner: bool) -> None:
        """Wait until the executor is an approved member; without the colony key, say what the owner must run.

        As the owner polynb has just approved the name: if its key is still no member, the name belongs
        to another key, and waiting would never end.
        """
        client, colony = self.connection.client, self.connection.colony
        while True:
            try:
                record = await client.get_executor(colony, executor.name, executor.key)
            except wire.Forbidden:
                record = None
            if record is not None and record["executorid"] == executor.id:
                return
            if record is not None or owner:
                raise ValueError(f"executor name {executor.name!r} is taken in colony {colony!r} by another "
                                 "key; pick another --executorname (or COLONIES_EXECUTOR_NAME)")
            message = approval_instructions(self.connection.address, colony, executor)
            progress.report(message)
            log.warning(message)
            await asyncio.sleep(2.0)

    async def member_key(self) -> str:
        """The key polynb submits with: ``COLONIES_PRVKEY``, or a user of its own the colony owner adds."""
        if self.settings["prvkey"]:
            return self.settings["prvkey"]
        if self._member_key is None:
            key = keys.load_or_create(self.service.journal.directory, "submitter")
            if not self.connection.colony_key:
                raise ValueError("submitting needs a member key: set COLONIES_PRVKEY (an approved executor's or a "
                                 "user's key), or COLONIES_COLONY_PRVKEY so polynb can add its own user")
            name = f"polynb-{socket.gethostname()}-{crypto.identity(key)[:8]}"
            await self.connection.client.add_user(self.connection.colony, name, key, self.connection.colony_key)
            self._member_key = key
        return self._member_key

    # -- payloads -------------------------------------------------------------------------------------
    async def register(self, version) -> str:
        options = version.payload.options
        executortype = options.get("executortype") or self.settings["executor_type"]
        executor = await self.executor(options.get("executorname"), executortype)
        name = executor.name
        progress.report(f"adding function {version.name} to {name}")
        await self.connection.client.add_function(self.connection.colony, name, version.name, executor.key)
        executor.scale(int(options.get("concurrency") or 1))
        return f"{self.connection.address} colony {self.connection.colony}, executor {name} (type {executortype})"

    async def unregister(self, name: str) -> None:
        """Nothing to tell the server: once the service forgets the payload, its processes fail as unknown."""

    def run_payload(self, version: PayloadVersion, input: Any, context: ProcessContext | None) -> Any:
        args, kwargs = wire.checked_arguments((input or {}).get("args", []), (input or {}).get("kwargs", {}))
        function = version.entry_point()
        return call_payload(functools.partial(function, **kwargs) if kwargs else function, *args)


def approval_instructions(address: str, colony: str, executor: ExecutorLoop) -> str:
    """The exact commands a colony owner runs (pycolonies, with their own key) to admit this executor."""
    host, port = address.split("://", 1)[1].rsplit(":", 1)
    tls = address.startswith("https")
    return (f"waiting for approval of executor {executor.name} in colony {colony}; the colony owner runs:\n"
            f"python -c \"import os; from pycolonies import Colonies; c = Colonies('{host}', {port}, tls={tls}); "
            f"k = os.environ['COLONIES_COLONY_PRVKEY']; c.add_executor({{'executorname': '{executor.name}', "
            f"'executorid': '{executor.id}', 'colonyname': '{colony}', 'executortype': '{executor.executortype}'}}, k); "
            f"c.approve_executor('{colony}', '{executor.name}', k)\"")


__all__ = ["ColoniesBinding", "ExecutorLoop", "ProcessContext", "ProcessReassigned", "approval_instructions"]
