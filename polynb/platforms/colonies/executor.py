"""polynb as a Colonies executor: the loops that serve one executor's processes (the binding keeps them).

Each executor (type + name) long-polls ``assign`` with K concurrent loops. A process runs the function
its ``funcname`` names through the service (journaled, output captured); what it printed and logged
goes to the Colonies logs, and the result closes the process or the exception fails it.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...backoff import Backoff
from ...execution import UNAVAILABLE, Arrival
from . import crypto, wire
from .client import ColoniesClient

if TYPE_CHECKING:
    from .binding import ColoniesBinding

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
        timeout = int(self.binding.settings.assign_timeout)
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
        limit = spec.get("maxexectime", -1)
        meta = {"processid": processid, "executor": self.name, "executortype": self.executortype,
                "colony": self.connection.colony, "retries": process["retries"],
                "processgraphid": process.get("processgraphid", ""), "maxexectime": limit}
        logs = ProcessLog(client, processid, self.key)
        execution = asyncio.ensure_future(service.execute(Arrival(
            PLATFORM, spec.get("funcname", ""), {"args": args, "kwargs": kwargs}, context, meta=meta,
            encode=context.encode, timeout=limit if limit and limit > 0 else None, log=logs.add)))
        if not await self._outlasts_assignment(execution, process, context):
            execution.add_done_callback(lambda _: log.info("colonies: %s finished after reassignment", processid))
            return
        outcome = execution.result()
        if outcome.error_type == UNAVAILABLE:
            return  # left running: the server hands it out again after maxexectime
        await logs.sent()
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



class ProcessLog:
    """A process's Colonies log, line by line while its function runs (``addlog`` needs it RUNNING, so every
    line is sent before the process is closed); in order, one request at a time."""

    def __init__(self, client: ColoniesClient, processid: str, key: str) -> None:
        self.client, self.processid, self.key = client, processid, key
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._sender: asyncio.Task | None = None
        self._refused = False

    def add(self, lines: list[str]) -> None:
        """Queue lines (called on the loop by the service as the function writes them)."""
        for line in lines:
            self._lines.put_nowait(line)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send())

    async def sent(self) -> None:
        """Return once every queued line has been sent (or refused)."""
        await self._lines.join()

    async def _send(self) -> None:
        while not self._lines.empty():
            line = self._lines.get_nowait()
            try:
                if not self._refused:
                    await self.client.add_log(self.processid, line, self.key)
            except wire.ColoniesError as exc:  # taken back, or gone: the journal keeps every line anyway
                log.warning("colonies: log of process %s was refused: %s", self.processid, exc)
                self._refused = True
            finally:
                self._lines.task_done()


def approval_instructions(address: str, colony: str, executor: ExecutorLoop) -> str:
    """The exact commands a colony owner runs (pycolonies, with their own key) to admit this executor."""
    host, port = address.split("://", 1)[1].rsplit(":", 1)
    tls = address.startswith("https")
    return (f"waiting for approval of executor {executor.name} in colony {colony}; the colony owner runs:\n"
            f"python -c \"import os; from pycolonies import Colonies; c = Colonies('{host}', {port}, tls={tls}); "
            f"k = os.environ['COLONIES_COLONY_PRVKEY']; c.add_executor({{'executorname': '{executor.name}', "
            f"'executorid': '{executor.id}', 'colonyname': '{colony}', 'executortype': '{executor.executortype}'}}, k); "
            f"c.approve_executor('{colony}', '{executor.name}', k)\"")


__all__ = ["Connection", "ExecutorLoop", "ProcessContext", "ProcessLog", "ProcessReassigned", "approval_instructions"]
