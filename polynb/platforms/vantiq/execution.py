"""Running one Vantiq query's Python the way the Python Execution Connector does, on a worker thread.

The real connector execs on its event loop, so a slow query stalls the connection; polynb runs each
query on the core's worker pool inside an event loop of the query's own, so ``asyncio.get_event_loop()``
and ``create_task`` in user code behave as they do there, while the service loop stays free.
Frames leave through ``send``, a thread-safe function the connection provides.
"""
from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from ...runner import call_payload, format_traceback
from ...tracebacks import user_frames
from . import wire
from .wire import VantiqError

Send = Callable[[dict], concurrent.futures.Future]
#: (script, cached signature) -> (signature, text, or None when the cached text is still current)
FetchDocument = Callable[[str, "str | None"], "tuple[str, str | None]"]


@dataclass(frozen=True)
class CacheEntry:
    code: CodeType
    signature: str  # SHA-256 of pushed code, or a document's modification date


class CodeCache:
    """The connector's LRU of compiled code, keyed by name or script; safe across worker threads."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> CacheEntry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class SourceRuntime:
    """What a configureExtension sets for one source: a fresh cache every time, the sticky runtime-info flag."""

    def __init__(self) -> None:
        self.cache = CodeCache(128)
        self.runtime_info = False

    def configure(self, settings: wire.SourceSettings) -> None:
        self.cache = CodeCache(settings.code_cache_size)
        if settings.return_runtime_information is not None:
            self.runtime_info = settings.return_runtime_information


class NotebookFallback(dict):
    """``__builtins__`` for query code: the builtins, then the notebook's globals, read-only and live."""

    def __init__(self, notebook: Mapping[str, Any]) -> None:
        super().__init__(vars(builtins))
        self.notebook = notebook

    def __missing__(self, name: str) -> Any:
        try:
            return self.notebook[name]
        except KeyError:
            raise KeyError(name) from None


class UserConnection:
    """``connector_connection`` in query code: the SDK's sending calls, from the query's own thread."""

    def __init__(self, source: str, send: Send) -> None:
        self.source_name = source
        self._send = send
        self.finals: set[str] = set()

    async def send_query_response(self, context: Mapping[str, Any], code: int, message: Any = None) -> None:
        wire.check_response(code, message)
        await self._deliver(context, wire.response_frame(context["response_address"], code, message), code)

    async def send_query_error(self, context: Mapping[str, Any], error: Mapping[str, Any]) -> None:
        wire.check_error(error)
        await self._deliver(context, wire.response_frame(context["response_address"], wire.ERROR, dict(error)),
                            wire.ERROR)

    async def send_notification(self, message: Any) -> None:
        await asyncio.wrap_future(self._send(wire.notification_frame(self.source_name, message)))

    async def _deliver(self, context: Mapping[str, Any], frame: dict, code: int) -> None:
        if code in wire.FINAL_CODES:
            self.finals.add(context["response_address"])
        await asyncio.wrap_future(self._send(frame))


@dataclass(frozen=True)
class ObtainedCode:
    """Code ready to run, and how it was obtained (what connectorRuntimeInfo reports)."""

    code: CodeType
    file: str  # the run's __file__
    using_cached: bool
    new_entry: bool = False
    compile_time: float | None = None


@dataclass
class QueryRun:
    """One query, from validation to its answer; :meth:`run` is what the worker thread calls."""

    source: str
    address: str | None
    request: Any
    runtime: SourceRuntime
    send: Send
    fetch_document: FetchDocument | None = None
    reply_timeout: float = 30.0
    notebook: Mapping[str, Any] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    answer: dict | None = None  # the final frame polynb answers on the code's behalf, if any

    def run(self, cell: CodeType | None = None, cell_name: str | None = None) -> Any:
        """Answer the query; returns what was answered, raises (after answering) when the query failed."""
        started = time.perf_counter()
        try:
            if self.address is None:  # the real connector runs it and fails to reply; polynb refuses up front
                raise wire.no_reply_address(self.source)
            query = wire.parse_query(self.request, defaults=self.defaults)
        except VantiqError as exc:
            self._answer(wire.ERROR, exc.body)
            raise
        if cell is not None and query.code is None and not query.script:
            obtained = ObtainedCode(cell, cached_file(cell_name or query.cache_name), using_cached=True)
        else:
            obtained = self._code_for(query)
        connection = UserConnection(self.source, self.send)
        context = {"source_name": self.source, "response_address": self.address}
        namespace = {"__file__": obtained.file, "__name__": "__main__", "connector_connection": connection,
                     "connector_context": dict(context), **query.presets}
        namespace["__builtins__"] = NotebookFallback(self.notebook) if self.notebook is not None else builtins
        return call_payload(on_thread_loop, self._serve, query, obtained, namespace, connection, started,
                            query.key or cell_name)

    # -- code ------------------------------------------------------------------------------------------
    def _code_for(self, query: wire.Query) -> ObtainedCode:
        """The query's code by the connector's cache rules."""
        cache = self.runtime.cache
        if query.script:
            return self._script_code(query.script)
        if query.code is None:
            entry = cache.get(query.cache_name)
            if entry is None:
                error = wire.no_cache(query.cache_name)
                self._answer(wire.ERROR, error.body)
                raise error
            return ObtainedCode(entry.code, cached_file(query.cache_name), using_cached=True)
        signature = hashlib.sha256(str(query.code).encode()).hexdigest()
        if query.cache_code:
            entry = cache.get(query.cache_name)
            if entry is not None and entry.signature == signature:
                return ObtainedCode(entry.code, cached_file(query.cache_name), using_cached=True)
            cache.discard(query.cache_name)
        filename = f"code-for-source-{self.source}-{uuid.uuid4()}"
        code, compile_time = self._compile(query.code, filename)
        if query.cache_code:
            cache.put(query.cache_name, CacheEntry(code, signature))
        return ObtainedCode(code, filename, False, query.cache_code, compile_time)

    def _script_code(self, script: str) -> ObtainedCode:
        cache = self.runtime.cache
        entry = cache.get(script)
        try:
            if self.fetch_document is None:
                raise VantiqError("io.vantiq.pyexecsource.vantiqconnectfail",
                                  "No Vantiq REST endpoint is known, so document {0} cannot be fetched.", [script])
            signature, text = self.fetch_document(script, entry.signature if entry else None)
        except VantiqError as exc:
            self._answer(wire.ERROR, exc.body)
            raise
        if text is None and entry is not None:
            return ObtainedCode(entry.code, script, using_cached=True)
        code, compile_time = self._compile(text or "", script)
        cache.put(script, CacheEntry(code, signature))
        return ObtainedCode(code, script, False, True, compile_time)

    def _compile(self, source: Any, filename: str) -> tuple[CodeType, float]:
        started = time.perf_counter()
        try:
            code = compile(source, filename, "exec")
        except SyntaxError as exc:
            self._answer(wire.ERROR, wire.syntax_error(exc).body)
            raise
        except Exception as exc:
            self._answer(wire.ERROR, wire.compile_error(exc).body)
            raise
        return code, time.perf_counter() - started

    # -- running ---------------------------------------------------------------------------------------
    async def _serve(self, query: wire.Query, obtained: ObtainedCode, namespace: dict, connection: UserConnection,
                     started: float, name: str | None) -> Any:
        """exec synchronously in this query's loop, as the connector does; tasks it starts run afterwards."""
        executed = time.perf_counter()
        self._exec(obtained.code, namespace)
        execution_time = time.perf_counter() - executed
        if query.handles_return:
            return self._settle_own_reply(connection, *await _settle(self.reply_timeout))
        try:
            body: dict[str, Any] = {"pythonCallResults": wire.call_results(namespace, query.limit_return_to)}
        except Exception as exc:
            self._answer(wire.ERROR, wire.connector_error(type(exc).__name__, user_traceback(exc)).body)
            raise
        if self.runtime.runtime_info:
            body["connectorRuntimeInfo"] = wire.runtime_info(
                using_cached=obtained.using_cached, name=name, new_cache_entry=obtained.new_entry,
                compile_time=obtained.compile_time, execution_time=execution_time,
                total_time=time.perf_counter() - started, cache_size=len(self.runtime.cache),
                capacity=self.runtime.cache.capacity)
        await _settle(self.reply_timeout)  # tasks the code started still run, as on the connector's loop
        self._answer(wire.DONE, body)
        return body

    def _exec(self, code: CodeType, namespace: dict) -> None:
        try:
            exec(code, namespace)
        except BaseException as exc:
            self._answer(wire.ERROR, wire.execution_error(exc, user_traceback(exc)).body)
            raise

    def _settle_own_reply(self, connection: UserConnection, finished: bool, failures: list[BaseException]) -> Any:
        """Code that handles its return must end the query; polynb answers for it when it did not."""
        if self.address in connection.finals:
            return {"answeredBy": "code"}
        if failures:
            self._answer(wire.ERROR, wire.execution_error(failures[0], user_traceback(failures[0])).body)
            raise failures[0]
        error = wire.no_reply() if finished else wire.reply_timeout(self.reply_timeout)
        self._answer(wire.ERROR, error.body)
        raise error

    # -- answering -------------------------------------------------------------------------------------
    def _answer(self, status: int, body: Any) -> None:
        """Decide polynb's answer; the binding sends it once the journal record is closed."""
        self.answer = wire.response_frame(self.address, status, body)

    def encoded_answer(self, _result: Any = None) -> str | None:
        """The answer as text, made on the worker thread (a 10 MB result never stalls the service loop)."""
        return wire.encode(self.answer) if self.answer is not None else None


_worker = threading.local()


def on_thread_loop(coroutine_function: Callable[..., Any], *args: Any) -> Any:
    """Run a coroutine on this worker thread's own event loop, made once per thread (a loop per query,
    as ``asyncio.run`` makes, costs more than a small query itself)."""
    loop = getattr(_worker, "loop", None)
    if loop is None:
        loop = _worker.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop.run_until_complete(coroutine_function(*args))


async def _settle(timeout: float) -> tuple[bool, list[BaseException]]:
    """Wait (bounded) for every task the code started, and tasks they start; cancel what outlives it.

    Returns whether all finished in time, and the exceptions tasks died of.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    failures: list[BaseException] = []
    while True:
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        if not pending:
            return True, failures
        remaining = deadline - loop.time()
        if remaining <= 0:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            return False, failures
        done, _ = await asyncio.wait(pending, timeout=remaining)
        failures.extend(exc for task in done if not task.cancelled() and (exc := task.exception()) is not None)


def cached_file(name: str) -> str:
    """``__file__`` of cached code: the name, with ``.py`` added unless it has it."""
    return name if name.endswith(".py") else f"{name}.py"


def user_traceback(exc: BaseException) -> str:
    """The traceback from the user's code on, without polynb's frames above it."""
    return format_traceback(exc, user_frames(exc))
