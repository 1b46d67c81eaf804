"""polynb as a Colonies submitter: function specs and workflows, followed until they end.

A :class:`Submission` lives on the service loop: it polls its processes and their logs so a view can
show them live, and waits for the end over the ``/pubsub`` websocket. It knows the wire, not widgets:
views register a callback.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...calls import CallTimeout, PlatformAnswer, call_timeout
from . import wire
from .binding import ColoniesBinding

log = logging.getLogger("polynb.colonies")
FINISHED = (wire.SUCCESS, wire.FAILED, wire.CANCELLED)


class SubmissionFailed(PlatformAnswer, RuntimeError):
    """A submitted process (or a workflow's process) failed; carries the server's errors."""

    def __init__(self, process: Mapping[str, Any]) -> None:
        self.process = dict(process)
        self.errors = list(process.get("errors") or [])
        name = process["spec"].get("nodename") or process["spec"].get("funcname")
        super().__init__(f"Colonies process {name} ({process['processid'][:12]}) "
                         f"{wire.STATE_NAMES.get(process['state'], process['state'])}: "
                         + ("; ".join(self.errors) or "no error message"))



class Submission:
    """One submitted process or workflow, with its latest process records and logs."""

    def __init__(self, binding: ColoniesBinding, key: str, processes: Sequence[dict], graph: dict | None = None,
                 poll_interval: float = 0.5) -> None:
        self.binding = binding
        self.key = key
        self.graph = graph
        self.processes: dict[str, dict] = {p["processid"]: p for p in processes}
        self.logs: dict[str, list[dict]] = {pid: [] for pid in self.processes}
        self.poll_interval = poll_interval
        self._listeners: list[Callable[[Submission], None]] = []
        self._follower: asyncio.Task | None = None
        self._settled: set[str] = set()
        self._refreshing: asyncio.Lock | None = None  # the follower and wait() must not fetch the same lines twice
        #: executor names by id, for showing who runs what
        self.executor_names: dict[str, str] = {}

    @property
    def client(self):
        return self.binding.connection.client

    @property
    def processid(self) -> str:
        return next(iter(self.processes))

    def outputs(self) -> dict[str, list]:
        """Each process's ``out`` by node name."""
        return {p["spec"].get("nodename") or pid: list(p.get("out") or []) for pid, p in self.processes.items()}

    def result(self, timeout: float | None = None) -> Any:
        """Block (from a notebook cell) until it ends: the output, :class:`SubmissionFailed`, or
        :class:`~polynb.calls.CallTimeout` after ``timeout`` seconds (default ``core.call_timeout``)."""
        seconds = call_timeout(timeout)
        return self.binding.service.call(self.wait(seconds), label=f"waiting for {self.processid[:12]}")

    def __repr__(self) -> str:
        states = ", ".join(f"{p['spec'].get('nodename') or p['spec'].get('funcname')}: "
                           f"{wire.STATE_NAMES.get(p['state'], p['state'])}" for p in self.processes.values())
        kind = f"workflow {self.graph['processgraphid'][:12]}" if self.graph else f"process {self.processid[:12]}"
        return f"<Colonies {kind} ({states})>"

    def on_change(self, listener: Callable[[Submission], None]) -> None:
        self._listeners.append(listener)
        listener(self)

    # -- following --------------------------------------------------------------------------------------
    def follow(self) -> None:
        """Start polling processes and logs on the service loop (called on the loop)."""
        if self._follower is None:
            self._follower = asyncio.ensure_future(self._follow())

    async def _follow(self) -> None:
        while True:
            try:
                changed = await self.refresh()
            except wire.ColoniesError as exc:
                log.warning("colonies: following %s: %s", self.processid[:12], exc)
                changed = False
            settled = len(self._settled) == len(self.processes)
            if changed or settled:  # settled: the final state, even when wait() fetched it first
                for listener in list(self._listeners):
                    listener(self)
            if settled:
                return
            await asyncio.sleep(self.poll_interval)

    async def refresh(self) -> bool:
        """Fetch every unsettled process and its new log lines; True when anything changed.

        A finished process is settled after one more fetch: the executor sends its logs before closing.
        """
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        async with self._refreshing:
            return await self._refresh()

    async def _refresh(self) -> bool:
        changed = False
        for pid in [pid for pid in self.processes if pid not in self._settled]:
            current = await self.client.get_process(pid, self.key)
            since = self.logs[pid][-1]["timestamp"] if self.logs[pid] else 0
            new_logs = await self.client.get_logs(current["spec"]["conditions"]["colonyname"], pid, self.key, since)
            changed = changed or bool(new_logs) or current != self.processes[pid]
            self.logs[pid].extend(new_logs)
            self.processes[pid] = current
            if current["assignedexecutorid"] and current["assignedexecutorid"] not in self.executor_names:
                await self._learn_executor_names(current["spec"]["conditions"]["colonyname"])
            if current["state"] in FINISHED:
                self._settled.add(pid)
        return changed

    async def _learn_executor_names(self, colony: str) -> None:
        executors = await self.client.get_executors(colony, self.key)
        self.executor_names.update({e["executorid"]: e["executorname"] for e in executors})

    async def wait(self, timeout: float | None = None) -> Any:
        """Wait over ``/pubsub`` until every process ended: the output, or :class:`SubmissionFailed`.

        After ``timeout`` seconds (default ``core.call_timeout``) :class:`CallTimeout` says what holds it.
        """
        seconds = call_timeout(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        for pid in list(self.processes):
            while self.processes[pid]["state"] not in FINISHED:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise CallTimeout("ColonyOS", f"the {self._describe(pid)}", seconds, await self.stuck_hint())
                await self._await_end(self.processes[pid], remaining)
                self.processes[pid] = await self.client.get_process(pid, self.key)
        await self.refresh()  # the logs the executor sent before closing are there now: hand them out too
        failed = [p for p in self.processes.values() if p["state"] != wire.SUCCESS]
        if failed:
            raise SubmissionFailed(failed[0])
        outputs = self.outputs()
        return next(iter(outputs.values())) if self.graph is None else outputs

    def _describe(self, pid: str) -> str:
        spec = self.processes[pid]["spec"]
        return f"process {spec.get('nodename') or spec.get('funcname')} ({pid[:12]})"

    async def stuck_hint(self) -> str:
        """What holds the first unfinished process, in the words of an operator: who may take it, who has it."""
        for pid in [pid for pid in self.processes if self.processes[pid]["state"] not in FINISHED]:
            self.processes[pid] = await self.client.get_process(pid, self.key)
        unfinished = [p for p in self.processes.values() if p["state"] not in FINISHED]
        if not unfinished:
            return "it has just ended; ask again"
        process = next((p for p in unfinished if not p["waitforparents"]), unfinished[0])
        conditions = process["spec"]["conditions"]
        colony, kind, names = conditions["colonyname"], conditions["executortype"], conditions.get("executornames")
        try:
            known = [e for e in await self.client.get_executors(colony, self.key) if e["executortype"] == kind]
        except wire.ColoniesError as exc:
            return (f"{self._describe(process['processid'])} is {wire.STATE_NAMES[process['state']]}; "
                    f"listing the colony's executors failed: {exc}")
        return explain_stuck(process, known, names or [], time.time())

    async def _await_end(self, process: dict, timeout: float) -> None:
        """The first of SUCCESS, FAILED or CANCELLED pushed for the process, or ``timeout`` seconds."""
        waits = [asyncio.ensure_future(self.client.subscribe_process(process, state, max(1, int(timeout)), self.key))
                 for state in FINISHED]
        try:
            for next_done in asyncio.as_completed(waits, timeout=timeout):
                if await next_done is not None:
                    return
        except asyncio.TimeoutError:
            return
        finally:
            for task in waits:  # cancelled, not awaited: a socket that hangs in closing must not hold the wait
                task.cancel()
                task.add_done_callback(lambda done: done.cancelled() or done.exception())


def _ago(executor: Mapping[str, Any], now: float) -> str:
    heard = wire.go_time_seconds(executor.get("lastheardfromtime", ""))
    return "never heard from" if not heard else f"last heard {max(0, now - heard):.0f} s ago"


def explain_stuck(process: Mapping[str, Any], executors: Sequence[Mapping[str, Any]], names: Sequence[str],
                  now: float) -> str:
    """Why a process has not ended, from its state and the executors of its type the server knows."""
    conditions = process["spec"]["conditions"]
    kind, colony = conditions["executortype"], conditions["colonyname"]
    funcname = process["spec"].get("funcname")
    label = f"process {process['spec'].get('nodename') or funcname} ({process['processid'][:12]})"
    listed = ", ".join(f"{e['executorname']} ({wire.EXECUTOR_STATE_NAMES.get(e['state'], e['state'])}, "
                       f"{_ago(e, now)})" for e in executors) or "none"
    if process["state"] == wire.RUNNING:
        holder = next((e for e in executors if e["executorid"] == process["assignedexecutorid"]), None)
        who = f"{holder['executorname']} ({_ago(holder, now)})" if holder else process["assignedexecutorid"][:12]
        return (f"{label} is running on executor {who}; if its kernel died, the server keeps the process "
                "assigned to it: submit with a maxexectime (--maxexectime S) so the server hands it to another "
                "executor after S seconds")
    if process["waitforparents"]:
        return f"{label} waits for its parents in the workflow"
    targeted = f" named {', '.join(names)}" if names else ""
    eligible = [e for e in executors if not names or e["executorname"] in names]
    if not eligible:
        return (f"{label} is waiting: no executor of type {kind!r}{targeted} is registered on colony {colony!r}; "
                f"run the %%colonies_func cell that serves {funcname!r}, or start an executor of that type "
                f"(executors of type {kind!r}: {listed})")
    return (f"{label} is waiting: no live executor of type {kind!r}{targeted} asked for work; the executors of "
            f"that type the server knows: {listed} (an executor whose kernel died stays registered but never "
            "asks for work)")


async def servers(binding: ColoniesBinding, key: str) -> dict[tuple[str, str], list[str]]:
    """The approved executors that registered each (funcname, executortype), by name.

    The scheduler matches the type only, so a process is sent to the executors that serve its function:
    another notebook's executor of the same type would otherwise take it and fail it as unknown.
    """
    client, colony = binding.connection.client, binding.connection.colony
    approved = {e["executorname"] for e in await client.get_executors(colony, key) if e["state"] == wire.APPROVED}
    found: dict[tuple[str, str], list[str]] = {}
    for function in await client.get_functions(colony, key):
        if function["executorname"] in approved:
            found.setdefault((function["funcname"], function["executortype"]), []).append(function["executorname"])
    return {pair: sorted(set(names)) for pair, names in found.items()}


async def submit_function(binding: ColoniesBinding, funcname: str, args: Sequence[Any] = (),
                          kwargs: Mapping[str, Any] | None = None, **limits: Any) -> Submission:
    """Submit one function spec (limits always explicit, see :func:`wire.function_spec`)."""
    key = await binding.member_key()
    spec = _spec(binding, {"funcname": funcname, "args": list(args), "kwargs": dict(kwargs or {}), **limits},
                 await servers(binding, key))
    process = await binding.connection.client.submit(spec, key)
    return Submission(binding, key, [process])


async def submit_workflow(binding: ColoniesBinding, specs: Sequence[Mapping[str, Any]]) -> Submission:
    """Submit a graph given as specs with ``nodename`` and ``dependencies`` (parent node names)."""
    key = await binding.member_key()
    serving = await servers(binding, key)
    wire_specs = [_spec(binding, dict(spec), serving) for spec in specs]
    client, colony = binding.connection.client, binding.connection.colony
    graph = await client.submit_workflow(colony, wire_specs, key)
    processes = [await client.get_process(pid, key) for pid in graph["processids"]]
    return Submission(binding, key, processes, graph)


SPEC_KEYS = frozenset({"funcname", "args", "kwargs", "executortype", "nodename", "dependencies", "executornames",
                       "priority", "maxexectime", "maxwaittime", "maxretries", "label"})


def _spec(binding: ColoniesBinding, given: dict, serving: Mapping[tuple[str, str], list[str]]) -> dict:
    """The wire spec; without ``executornames`` it names the executors serving the function, if any do."""
    unknown = set(given) - SPEC_KEYS
    if unknown or "funcname" not in given:
        raise ValueError(f"a function spec needs funcname and takes only {', '.join(sorted(SPEC_KEYS))}; "
                         f"got {', '.join(sorted(unknown)) or 'no funcname'}")
    args, kwargs = wire.encode_arguments(given.pop("args", []), given.pop("kwargs", {}) or {})
    funcname = given.pop("funcname")
    executortype = given.pop("executortype", None) or binding.settings.executor_type
    return wire.function_spec(
        funcname, colonyname=binding.connection.colony, args=args, kwargs=kwargs, executortype=executortype,
        nodename=given.pop("nodename", None), dependencies=given.pop("dependencies", ()),
        executornames=given.pop("executornames", None) or serving.get((funcname, executortype)),
        priority=int(given.pop("priority", 0)),
        maxexectime=int(given.pop("maxexectime", -1)), maxwaittime=int(given.pop("maxwaittime", -1)),
        maxretries=int(given.pop("maxretries", 3)), label=given.pop("label", ""))
