"""One source's websocket to the Vantiq server: handshake, frames in and out, reconnects.

It follows the Python connector SDK's rules: validate, connectExtension with the reconnect secret made once
per source, configureExtension; reconnect at once after a normal end (server close, reconnectRequired), after
the core's :class:`~polynb.backoff.Backoff` after an error (the SDK waits ``0.5 * failures`` s, uncapped);
a rejected token is fatal. Queries are handed to ``on_query``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from typing import Any

import websockets

from ...backoff import Backoff
from . import wire
from .execution import SourceRuntime

log = logging.getLogger("polynb.vantiq")
CONNECTING, CONNECTED, RECONNECTING, REJECTED, CLOSED = "connecting", "connected", "reconnecting", "rejected", "closed"
MAX_STATUS_FRAMES = 10


class ConnectRejected(Exception):
    """The server refused the token: the real connector exits, polynb stops this source and says why."""


class SourceConnection:
    """The websocket of one source; ``on_query(connection, address, object)`` and
    ``on_bad_frame(connection, preview, reason, address)`` are the binding's."""

    def __init__(self, source: str, url: str, token: str | None, secret: str, *, send_pings: bool = False,
                 fail_on_connection_error: bool = False, connect_kwargs: Mapping[str, Any] | None = None,
                 on_query: Callable[[SourceConnection, str | None, Any], None],
                 on_bad_frame: Callable[[SourceConnection, str, str, str | None], None],
                 on_state: Callable[[SourceConnection], None]) -> None:
        self.source, self.url, self.token, self.secret = source, url, token, secret
        self.send_pings, self.fail_on_connection_error = send_pings, fail_on_connection_error
        self.connect_kwargs = dict(connect_kwargs or {})
        self.on_query, self.on_bad_frame, self.on_state = on_query, on_bad_frame, on_state
        self.runtime = SourceRuntime()
        self.state, self.detail = CONNECTING, ""
        self.sessions = 0
        self._socket: Any = None
        self._connected = asyncio.Event()
        self._first = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task | None = None
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def first_handshake(self, timeout: float) -> bool:
        """Wait for the first handshake; False if it has not happened in time, raises if it was refused."""
        try:
            await asyncio.wait_for(asyncio.shield(self._first), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def stop(self) -> None:
        self._stopping = True
        if self._socket is not None:
            await self._socket.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._set_state(CLOSED, "stopped")

    @property
    def is_open(self) -> bool:
        return self._connected.is_set()

    # -- sending ---------------------------------------------------------------------------------------
    def send_threadsafe(self, frame: Mapping[str, Any]) -> concurrent.futures.Future:
        """Send from any thread; encoding happens on the caller's thread, so a big result never stalls the loop."""
        text = wire.encode(frame)
        return asyncio.run_coroutine_threadsafe(self.send_text(text), self._first.get_loop())

    async def send_text(self, text: str) -> None:
        """Send now, or after the next handshake when disconnected (as the SDK does)."""
        while not self._stopping:
            await self._connected.wait()
            try:
                await self._socket.send(text)
                return
            except websockets.ConnectionClosed:
                await asyncio.sleep(0)

    # -- the connect loop ------------------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = Backoff(first=0.5, cap=10.0)
        while not self._stopping:
            try:
                await self._session()
                backoff.reset()
            except ConnectRejected as exc:
                self._fail(REJECTED, str(exc), exc)
                return
            except Exception as exc:  # whatever ends a session, the source reconnects: it never dies of a frame
                if not isinstance(exc, (OSError, websockets.WebSocketException, wire.WireError, asyncio.TimeoutError)):
                    log.exception("vantiq source %s: the session failed", self.source)
                if self.fail_on_connection_error and not self._first.done():
                    reason = f"first connection failed and failOnConnectionError is set: {exc}"
                    self._fail(REJECTED, reason, ConnectionError(reason))
                    return
                delay = backoff.next_delay()
                self._set_state(RECONNECTING, f"{type(exc).__name__}: {exc}; retry in {delay:.2g} s")
                await asyncio.sleep(delay)
        if self.state != CLOSED:
            self._set_state(CLOSED, "the server ended this source (testRequestsClientClose)")

    async def _session(self) -> None:
        options = {"ping_interval": 20 if self.send_pings else None, "ping_timeout": 20 if self.send_pings else None,
                   "max_size": None, **self.connect_kwargs}
        async with websockets.connect(self.url, **options) as socket:
            if not await self._handshake(socket):
                return
            self._socket, self.sessions = socket, self.sessions + 1
            self._connected.set()
            self._set_state(CONNECTED)
            if not self._first.done():
                self._first.set_result(True)
            try:
                async for message in socket:
                    if not await self._dispatch(socket, message):
                        return
            finally:
                self._connected.clear()
                self._socket = None
                if not self._stopping:
                    self._set_state(RECONNECTING, "the server closed the connection")

    async def _handshake(self, socket) -> bool:
        """validate, connectExtension, configureExtension; False when the server asked to start over."""
        await socket.send(wire.encode(wire.validate_frame(self.token)))
        answer = wire.decode(await socket.recv())
        status = answer.get("status")
        if status is not None and status != 200:
            rejection = wire.status_error(answer)
            if rejection is None:
                raise wire.WireError(f"validate answered {status} without a [{{code, message}}] body")
            raise ConnectRejected(f"Connect call failed: {status} :: {rejection[0]}:{rejection[1]}")
        await socket.send(wire.encode(wire.connect_frame(self.source, self.secret)))
        for _ in range(MAX_STATUS_FRAMES + 1):
            frame = wire.decode(await socket.recv())
            if "op" in frame:
                break
            if isinstance(frame.get("status"), int) and frame["status"] >= 300:
                return False
        else:
            raise wire.WireError("no configureExtension after connectExtension")
        if frame.get("op") != "configureExtension":
            raise wire.WireError(f"expected configureExtension, got {frame.get('op')!r}")
        self.runtime.configure(wire.SourceSettings.from_config(wire.server_config(frame)))
        return True

    async def _dispatch(self, socket, message: str | bytes) -> bool:
        """Handle one frame; False ends the session (the loop then reconnects, unless told to stop).

        A frame that cannot be used, or whose handling fails, goes to ``on_bad_frame`` with the reply address
        it names (if any): it is answered and journaled there, and the session goes on."""
        try:
            frame = wire.decode(message)
        except wire.WireError as exc:
            self.on_bad_frame(self, _preview(message), str(exc), wire.salvage_reply_address(message))
            return True
        try:
            return await self._handle(socket, message, frame)
        except websockets.ConnectionClosed:
            raise
        except Exception as exc:
            log.exception("vantiq source %s: a frame failed", self.source)
            self.on_bad_frame(self, _preview(message), f"{type(exc).__name__}: {exc}", wire.reply_address(frame))
            return True

    async def _handle(self, socket, message: str | bytes, frame: dict) -> bool:
        op = frame.get("op")
        if op == "query":
            self.on_query(self, wire.reply_address(frame), frame.get("object"))
        elif op == "reconnectRequired":
            await socket.close()
            return False
        elif op == "testRequestsClientClose":
            self._stopping = True
            await socket.close()
            return False
        elif op == "publish":
            log.info("vantiq source %s: publish is not something a Python Execution source does; ignored",
                     self.source)
        elif op is not None:
            self.on_bad_frame(self, _preview(message), f"unknown op {op!r}", wire.reply_address(frame))
        elif "status" not in frame:
            self.on_bad_frame(self, _preview(message), "a frame with neither op nor status", wire.reply_address(frame))
        elif not isinstance(frame["status"], int) or isinstance(frame["status"], bool):
            self.on_bad_frame(self, _preview(message), f"status {frame['status']!r} is not a number",
                              wire.reply_address(frame))
        elif frame["status"] >= 300:
            log.warning("vantiq source %s: the server sent status %s: %s", self.source, frame["status"],
                        frame.get("body"))
        return True

    # -- state -----------------------------------------------------------------------------------------
    def _set_state(self, state: str, detail: str = "") -> None:
        self.state, self.detail = state, detail
        self.on_state(self)

    def _fail(self, state: str, detail: str, exc: Exception) -> None:
        self._stopping = True
        self._set_state(state, detail)
        if not self._first.done():
            self._first.set_exception(exc)


def _preview(message: str | bytes, limit: int = 500) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"

