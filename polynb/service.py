"""The kernel-side service: one asyncio loop on a named daemon thread that owns the platform bindings.

Bindings receive executions on this loop and hand them to :meth:`Service.execute`, which queues the
execution's record before anything runs and runs the payload on the worker pool, so neither the loop nor the
kernel's main thread ever waits for a payload (nor the loop for SQLite). Cells reach the service with :meth:`Service.call`
(blocking, with progress) or ``await`` :meth:`Service.submit`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from . import capture, platforms, progress
from .config import Settings
from .execution import NOT_FOUND, UNAVAILABLE, Arrival, Outcome
from .generic_env import GenericVariables
from .inflight import InFlight, Stop, Watcher
from .inline import InlinePolicy
from .journal import CANCELLED, FAILED, Journal, default_directory
from .payload import Payload, PayloadVersion, materialize, resolve_entry
from .platforms.base import ERROR, STARTING, STOPPED, Binding, BindingStatus
from .runner import WorkerPool, describe_error, run_queued, run_recorded, settle

log = logging.getLogger("polynb")
T = TypeVar("T")


@dataclass(frozen=True)
class Registration:
    """What registering a cell did."""

    version: PayloadVersion
    address: str | None
    changed: bool


def load_settings() -> Settings:
    """The core's section and each known platform's own, typed by its ``settings.py``."""
    return Settings({name: platform.settings for name, platform in platforms.available().items()})


class Service:
    """Platform bindings, registered payload versions, the worker pool and the journal of one kernel."""

    def __init__(self, settings: Settings | None = None, journal: Journal | None = None,
                 notebook_ns: dict[str, Any] | None = None) -> None:
        self.settings = settings if settings is not None else load_settings()
        core = self.settings.core
        self.journal = journal if journal is not None else Journal(core.journal_dir or default_directory(),
                                                                   max_record_bytes=core.max_record_bytes)
        self.notebook_ns = notebook_ns
        self.generic_variables = GenericVariables()
        self.pool = WorkerPool(core.workers)
        self._inline = InlinePolicy(core.inline_budget)
        self._versions: dict[tuple[str, str], PayloadVersion] = {}
        self._addresses: dict[tuple[str, str], str | None] = {}
        self._bindings: dict[str, Binding[Any]] = {}
        self._binding_locks: dict[str, asyncio.Lock] = {}
        self._inflight: set[concurrent.futures.Future[Any]] = set()
        self._running: dict[str, InFlight] = {}  # by record id, from arrival to close: what cancelling needs
        self._watcher = Watcher(self._running, self.journal.cancel_requests, self._stop_execution,
                                self._record_progress, self._write_off)
        self._answers: list[tuple[asyncio.Future[Outcome], Outcome | BaseException]] = []  # committed outcomes the loop has yet to hand over
        self._answers_lock = threading.Lock()
        self._accepting = True
        self.stopped = False
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="polynb-service", daemon=True)
        capture.install()
        self._thread.start()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    # -- reaching the loop from cells ----------------------------------------------------------------
    def call(self, coro: Coroutine[Any, Any, T], label: str | None = None, timeout: float | None = None) -> T:
        """Run a coroutine on the service loop and wait for it, showing progress after a moment."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("Service.call would deadlock on the service's own thread; await it instead")
        tracker = progress.Progress(label or "polynb")
        future = asyncio.run_coroutine_threadsafe(_tracked(coro, tracker), self.loop)
        return progress.wait(future, tracker, timeout=timeout)

    async def submit(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine that runs on the service loop, from any other event loop (a cell's)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    # -- bindings --------------------------------------------------------------------------------------
    async def binding(self, platform: str) -> Binding[Any]:
        """The platform's binding, started on first need; a start that fails is undone before the error is raised."""
        lock = self._binding_locks.setdefault(platform, asyncio.Lock())
        async with lock:
            if platform not in self._bindings:
                spec = platforms.get(platform)
                binding = spec.binding(self, self.settings[platform])
                progress.report(f"starting {spec.title}")
                binding.set_status(STARTING)
                try:
                    await binding.start()
                except BaseException as exc:
                    await self._undo_start(binding)
                    binding.set_status(ERROR, detail=describe_error(exc))
                    raise
                self._bindings[platform] = binding
            return self._bindings[platform]

    @staticmethod
    async def _undo_start(binding: Binding[Any]) -> None:
        """Release what a failed ``start`` had already started (a local server, a socket)."""
        try:
            await binding.stop()
        except Exception as exc:  # the start's own error is the one the user must see
            log.warning("polynb: cleaning up %s after its failed start: %s", binding.platform, exc)

    def status_changed(self, platform: str, state: str, address: str | None, detail: str | None) -> None:
        """Bindings' states reach the journal, where the widgets and the panel read them."""
        self.journal.platform_state(platform, state, address, detail)

    async def stop_binding(self, platform: str) -> bool:
        """Stop one platform's binding and forget its payloads; False when it was not running."""
        binding = self._bindings.pop(platform, None)
        if binding is None:
            return False
        for key in [key for key in self._versions if key[0] == platform]:
            del self._versions[key]
            self.journal.payload_unregistered(*key)
        try:
            await binding.stop()
        finally:
            binding.set_status(STOPPED)
        return True

    def statuses(self) -> dict[str, BindingStatus]:
        return {name: binding.status for name, binding in self._bindings.items()}

    # -- payloads --------------------------------------------------------------------------------------
    def prepare(self, payload: Payload) -> tuple[PayloadVersion | None, PayloadVersion | None]:
        """(current, new): the new version is None when the cell has not changed.

        Runs on the caller's thread: an isolated payload executes its cell here, never on the loop.
        """
        binding_class = platforms.get(payload.platform).binding
        source = binding_class.python_source(payload)
        payload = resolve_entry(payload, source, binding_class.needs_entry)
        current = self._versions.get((payload.platform, payload.name))
        if current is not None and current.payload.digest == payload.digest:
            return current, None
        number = self._version_number(payload, current)
        return current, materialize(payload, source, number, self.notebook_ns)

    def _version_number(self, payload: Payload, current: PayloadVersion | None) -> int:
        """The number a content has had before in this journal (a kernel restart keeps it), else the next one."""
        earlier = [row for row in self.journal.payloads(active_only=False)
                   if (row.platform, row.name) == (payload.platform, payload.name)]
        for row in reversed(earlier):
            if row.digest == payload.digest:
                return row.version
        return max([current.version if current else 0] + [row.version for row in earlier]) + 1

    async def install(self, version: PayloadVersion) -> str | None:
        """Make a prepared version the one new executions get, and register it with its platform.

        The version is current before the platform hears of it, so an execution the platform delivers while
        registration is still finishing (a NATS consumer starts pushing at once) finds it; a registration that
        fails puts the previous version back.
        """
        binding = await self.binding(version.platform)
        progress.report(f"registering {version.name} v{version.version}")
        key = (version.platform, version.name)
        previous = self._versions.get(key)
        self._versions[key] = version  # one assignment: executions arriving from now on get this version
        try:
            address = await binding.register(version)
        except BaseException:
            if previous is None:
                self._versions.pop(key, None)
            else:
                self._versions[key] = previous
            raise
        self._addresses[key] = address
        payload = version.payload
        signature = binding.signature(version)
        self.journal.payload_registered(payload.platform, payload.name, version.version, payload.digest,
                                        payload.entry, payload.source, dict(payload.options), payload.cell_id,
                                        address, signature=signature.as_json() if signature is not None else None)
        return address

    def register(self, payload: Payload) -> Registration:
        """Register a cell's payload (blocking); an unchanged cell is left as it is."""
        current, new = self.prepare(payload)
        if new is None:
            assert current is not None, "only the current version leaves a cell unchanged"
            return Registration(current, self._addresses.get((current.platform, current.name)), False)
        address = self.call(self.install(new), label=f"{payload.platform}: {payload.name}")
        return Registration(new, address, True)

    async def unregister(self, platform: str, name: str) -> None:
        if self._versions.pop((platform, name), None) is not None:
            await self._bindings[platform].unregister(name)
            self.journal.payload_unregistered(platform, name)

    def current(self, platform: str, name: str) -> PayloadVersion | None:
        return self._versions.get((platform, name))

    def payloads(self) -> list[PayloadVersion]:
        return list(self._versions.values())

    def address(self, platform: str, name: str) -> str | None:
        return self._addresses.get((platform, name))

    # -- executions ------------------------------------------------------------------------------------
    async def execute(self, arrival: Arrival[Any]) -> Outcome:
        """Journal an execution that just arrived, then run it on a worker thread and close its record.

        The record's writes are queued to the journal's writer; the outcome comes back once the close is
        committed (the binding answers its platform only then), while the worker goes on to the next execution
        and the loop never waits for SQLite. A registered payload runs with the version current at arrival,
        through its binding's ``run_payload``; ``arrival.code`` runs as it is. A payload version that has always
        been fast runs on the loop itself (:mod:`polynb.inline`). Refusals (unknown payload, service stopping)
        are failed records too.
        """
        record_id = self.journal.open(arrival.platform, arrival.name, arrival.input, dict(arrival.meta))
        version = None if arrival.code is not None else self._versions.get((arrival.platform, arrival.name))
        if not self._accepting:
            return await self._close_refused(record_id, UNAVAILABLE, "polynb is stopping and takes no new executions")
        if version is not None:
            call: Callable[[], Any] = functools.partial(
                self._bindings[arrival.platform].run_payload, version, arrival.input, arrival.context)
        elif arrival.code is not None:
            call = arrival.code
        else:
            return await self._close_refused(
                record_id, NOT_FOUND, f"no payload named {arrival.name!r} is registered on {arrival.platform}")
        number = version.version if version is not None else None
        answer: asyncio.Future[Outcome] = self.loop.create_future()
        inflight = InFlight(record_id, self._timeout(version, arrival), self._log_channel(arrival), answer)
        self._running[record_id] = inflight
        self._watcher.wake()
        key = (arrival.platform, arrival.name, number)
        timed = self._inline.timed(key, call) if arrival.inline else call
        run = functools.partial(run_queued, self.journal, record_id, number, timed, arrival.encode, inflight)
        if arrival.inline and self._inline.inline(key):  # fast every time so far: no hand-off to a worker and back
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            future.set_running_or_notify_cancel()
            settle(future, run)
        else:
            future = self.pool.submit(run)
            self._inflight.add(future)
            future.add_done_callback(self._inflight.discard)
        future.add_done_callback(lambda ran: self._answer_when_committed(answer, ran, record_id))
        return await answer

    def _timeout(self, version: PayloadVersion | None, arrival: Arrival[Any]) -> float | None:
        """The payload's ``--timeout`` (else ``core.timeout``), or the platform's own limit if that is shorter."""
        own = version.payload.options.get("timeout") if version is not None else None
        limits = [limit for limit in (own if own is not None else self.settings.core.timeout, arrival.timeout)
                  if limit]
        return min(limits) if limits else None

    def _log_channel(self, arrival: Arrival[Any]) -> Callable[[list[str]], None] | None:
        """The platform's log channel, reached on the loop (where the binding's connection lives)."""
        if arrival.log is None:
            return None
        channel = arrival.log

        def forward(lines: list[str]) -> None:
            self.loop.call_soon_threadsafe(channel, lines)
        return forward

    def _answer_when_committed(self, answer: asyncio.Future[Outcome], ran: concurrent.futures.Future[Any],
                               record_id: str) -> None:
        """Once the worker has run it, the outcome waits for its close's commit, then goes to the loop."""
        failure = ran.exception()
        if failure is not None:
            self._forget(record_id)
            self._hand_over(answer, failure)
            return
        if ran.result() is None:  # written off: _write_off has answered
            return
        self._forget(record_id)
        outcome, committed = ran.result()
        committed.add_done_callback(lambda done: self._hand_over(answer, done.exception() or outcome))

    def _forget(self, record_id: str) -> None:
        self._running.pop(record_id, None)

    # -- stopping an execution -------------------------------------------------------------------------
    def cancel(self, record_id: str, reason: str = "cancelled on request") -> str | None:
        """Cancel an execution in flight by its id or a unique prefix; returns its full id.

        One running in this kernel stops here and now; any other open one is asked for through the journal,
        which the kernel that runs it watches. None when no open execution has that id.
        """
        matches = [inflight for key, inflight in list(self._running.items()) if key.startswith(record_id)]
        if len(matches) == 1:
            self._stop_execution(matches[0], Stop(CANCELLED, reason))
            return matches[0].record_id
        record = self.journal.request_cancel(record_id, reason)
        return record.id if record is not None else None

    def _stop_execution(self, inflight: InFlight, stop: Stop) -> bool:
        if not inflight.cancel(stop, self.settings.core.cancel_grace):
            return False
        if inflight.worker is None:  # still queued: it never runs (a worker that takes it now finds it stopped)
            self._close_stopped(inflight, "")
        return True

    def _record_progress(self, inflight: InFlight) -> None:
        """What a running execution printed since the watcher's last look: to its record, and to its platform."""
        captured = inflight.capture
        if captured is not None and captured.changes != inflight.recorded_changes:
            inflight.recorded_changes = captured.changes
            self.journal.progress(inflight.record_id, *captured.snapshot())
        inflight.forward_output()

    def _write_off(self, inflight: InFlight) -> None:
        """A stopped execution outlived its grace: its record is closed and its platform answered now, and its
        thread let go (the pool takes a new one; whatever the old one returns later is dropped)."""
        if inflight.worker is not None:
            self.pool.write_off(inflight.worker)
        grace = self.settings.core.cancel_grace
        self._close_stopped(inflight, f" (it did not stop within {grace:g} s; its worker thread is written off)")

    def _close_stopped(self, inflight: InFlight, note: str) -> None:
        """Close a stopped execution's record without its worker, and answer its platform once that is committed."""
        if not inflight.claim_end() or inflight.stop is None:
            return
        answer = inflight.answer
        self._forget(inflight.record_id)
        error = inflight.stop.error + note
        stdout, stderr, logs = inflight.capture.snapshot() if inflight.capture is not None else ("", "", [])
        inflight.forward_output(final=True)
        committed = self.journal.closing(inflight.record_id, error=error, status=inflight.stop.status,
                                         stdout=stdout, stderr=stderr, logs=logs)
        outcome = Outcome(inflight.record_id, False, error=error, error_type=inflight.stop.error_type,
                          stdout=stdout, stderr=stderr, logs=tuple(logs))
        if answer is not None:
            committed.add_done_callback(lambda done: self._hand_over(answer, done.exception() or outcome))

    def _hand_over(self, answer: asyncio.Future[Outcome], result: Outcome | BaseException) -> None:
        """Queue a result for the loop, waking it once for all that a commit released (not once for each)."""
        with self._answers_lock:
            self._answers.append((answer, result))
            first = len(self._answers) == 1
        if first:
            self.loop.call_soon_threadsafe(self._deliver_answers)

    def _deliver_answers(self) -> None:
        with self._answers_lock:
            ready, self._answers = self._answers, []
        for answer, result in ready:
            if answer.cancelled():
                continue
            if isinstance(result, BaseException):
                answer.set_exception(result)
            else:
                answer.set_result(result)

    async def refuse(self, arrival: Arrival[Any], error: BaseException | str) -> Outcome:
        """Journal what a binding could not run (malformed input, an error the platform reports) as failed."""
        record_id = self.journal.open(arrival.platform, arrival.name, arrival.input, dict(arrival.meta))
        if isinstance(error, BaseException):
            return await self._close_refused(record_id, type(error).__name__, describe_error(error))
        return await self._close_refused(record_id, None, error)

    async def _close_refused(self, record_id: str, error_type: str | None, message: str) -> Outcome:
        """Close a refused record; the loop awaits the commit (the refusal is answered only once it is on disk)."""
        await asyncio.wrap_future(self.journal.closing(record_id, error=message, status=FAILED))
        return Outcome(record_id, False, error=message, error_type=error_type)

    def replay(self, record_id: str, version: int | None = None) -> Outcome:
        """Run a recorded input here in the foreground, as a new record: against the current payload, or against
        its version ``version`` (a fix checked against the input that failed, or the old code against a new input)."""
        record = self.journal.get(record_id)
        if record is None:
            raise KeyError(f"no execution {record_id!r} in {self.journal.path} (or the prefix is ambiguous)")
        current = self._versions.get((record.platform, record.payload))
        binding = self._bindings.get(record.platform)
        if current is None or binding is None:
            raise KeyError(f"{record.platform}:{record.payload} is not registered in this kernel; run its cell first")
        chosen = current if version is None or version == current.version else self._earlier(current, version)
        new_id = self.journal.open(record.platform, record.payload, record.input,
                                   {"replay_of": record.id, "replayed_version": chosen.version})
        context = binding.replay_context(record)
        return run_recorded(self.journal, new_id, chosen.version,
                            lambda: binding.run_payload(chosen, record.input, context), None)

    def _earlier(self, current: PayloadVersion, number: int) -> PayloadVersion:
        """Version ``number`` of a registered payload, brought back from the journal's copy of its cell."""
        row = self.journal.payload(current.platform, current.name, number)
        if row is None:
            known = sorted(r.version for r in self.journal.payloads(active_only=False)
                           if (r.platform, r.name) == (current.platform, current.name))
            raise KeyError(f"{current.platform}:{current.name} has no version {number} in {self.journal.path} "
                           f"(it has {', '.join(map(str, known))})")
        payload = Payload(row.platform, row.name, row.source, row.entry, row.options, current.payload.isolated,
                          row.cell_id)
        source = platforms.get(payload.platform).binding.python_source(payload)
        return materialize(payload, source, number, self.notebook_ns, rerun=True)

    # -- stopping --------------------------------------------------------------------------------------
    def stop(self, timeout: float | None = None) -> int:
        """Stop taking executions, drain those in flight (bounded), stop every binding and the loop.

        Returns how many executions were interrupted because they outlived the drain.
        """
        if self.stopped:
            return 0
        self.stopped = True
        self._accepting = False
        drain = self.settings.core.drain_timeout if timeout is None else timeout
        concurrent.futures.wait(list(self._inflight), timeout=drain)
        interrupted = self.journal.interrupt_open(f"polynb stopped before this execution finished (drained {drain:g} s)")
        if self.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._stop_bindings(), self.loop).result(timeout=max(drain, 1.0) + 1)
            except (concurrent.futures.TimeoutError, Exception) as exc:
                log.warning("polynb: stopping platform bindings failed: %s", exc)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=1)
        self._watcher.stop()
        self.pool.shutdown()
        capture.uninstall()
        return interrupted

    async def _stop_bindings(self) -> None:
        for platform in list(self._bindings):
            try:
                await self.stop_binding(platform)
            except Exception as exc:  # one platform's failure must not keep the others running
                log.warning("polynb: stopping %s failed: %s", platform, exc)


async def _tracked(coro: Awaitable[T], tracker: progress.Progress) -> T:
    with tracker:
        return await coro



__all__ = ["Service", "Registration", "Outcome", "load_settings"]
