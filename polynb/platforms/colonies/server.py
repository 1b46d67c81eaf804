"""The local Colonies server that ``polynb up colonies`` runs: tornado on ``core.bind_host``, state in SQLite.

It speaks the real server's protocol: every envelope's signer is recovered and authorized by
:mod:`.rules`, ``assign`` long-polls, a one-second loop enforces deadlines and ``/pubsub`` pushes
process state changes over a websocket.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import tornado.httpserver
import tornado.ioloop
import tornado.web
import tornado.websocket

from ...jsonhandler import JsonHandler
from .rules import Rules, render_process
from .wire import (
    UNSIGNED,
    BadRequest,
    ColoniesError,
    Forbidden,
    NoProcessAvailable,
    encode_error,
    encode_reply,
    open_payload,
    parse_envelope,
    signer_of,
)

log = logging.getLogger("polynb.colonies.server")

class ColoniesServer:
    """The rules plus what HTTP needs around them: long-poll wake-ups and subscriptions."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._work = asyncio.Event()
        rules.listeners.append(self._process_changed)

    def _process_changed(self, process: dict) -> None:
        self._work.set()
        self._work = asyncio.Event()

    async def assign(self, signer: str, message: dict, gone: asyncio.Event | None = None) -> dict:
        """Long-poll assign: 0 is refused, negative tries once, positive waits up to that many seconds.

        ``gone`` is set when the executor hung up: like the Go server (whose wait is bound to the request's
        context), nothing is assigned to a request nobody will read, so a killed kernel swallows no process.
        """
        timeout = message.get("timeout")
        if not isinstance(timeout, int) or isinstance(timeout, bool):
            raise BadRequest("Invalid timeout value, timeout must be an integer")
        if timeout == 0:
            raise BadRequest("Invalid timeout value, timeout cannot be zero")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        gone = gone or asyncio.Event()
        while not gone.is_set():
            work = self._work
            process = self.rules.assign(signer, message.get("colonyname", ""))
            if process is not None:
                return process
            remaining = deadline - loop.time()
            if timeout < 0 or remaining <= 0:
                break
            waits = {asyncio.ensure_future(work.wait()), asyncio.ensure_future(gone.wait())}
            _, pending = await asyncio.wait(waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for waiting in pending:
                waiting.cancel()
        raise NoProcessAvailable("No process available for assignment")


class ApiHandler(JsonHandler):
    """The RPC endpoint; every answer, a refused body included, is a Colonies error envelope."""

    def initialize(self, server: ColoniesServer) -> None:
        self.server = server
        self.gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self.gone.set()

    async def post(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        body = self.body  # one above the limit raises here: answer_error refuses it as a Colonies error
        try:
            envelope = parse_envelope(body)
            msgtype = envelope["payloadtype"]
            signer = "" if msgtype in UNSIGNED else signer_of(envelope)
            if not self.server.rules.knows(msgtype):
                raise Forbidden(f"invalid rpcMsg.PayloadType: {msgtype}")
            message = open_payload(envelope)
            if msgtype == "assignprocessmsg":
                result = await self.server.assign(signer, message, self.gone)
            else:
                result = self.server.rules.handle(msgtype, signer, message)
        except ColoniesError as error:
            return self.answer_error(error.status, error.message, error)
        except Exception as exc:  # a stand-in bug must still be an answer, not a dropped request
            log.exception("colonies stand-in failed on a request")
            return self.answer_error(500, f"internal error: {type(exc).__name__}: {exc}", exc)
        self.finish(encode_reply(msgtype, result))

    def answer_error(self, status: int, message: str, error: BaseException | None) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(encode_error(ColoniesError(message, status)))


class HealthHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_status(200)


class PubSubHandler(tornado.websocket.WebSocketHandler):
    """One subscription per socket: frames on matching transitions, then a dropped connection at timeout."""

    def initialize(self, server: ColoniesServer) -> None:
        self.server = server
        self._listener: Callable[[dict], None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def on_message(self, text: str | bytes) -> None:
        try:
            envelope = parse_envelope(text)
            signer = signer_of(envelope)
            message = open_payload(envelope)
            matches = self.server.rules.subscription(envelope["payloadtype"], signer, message)
        except ColoniesError as error:
            self.write_message(encode_error(error))
            return
        msgtype = envelope["payloadtype"]

        def listener(process: dict) -> None:
            if matches(process) and self.ws_connection is not None:
                self.write_message(encode_reply(msgtype, render_process(process)))

        self._forget()
        self._listener = listener
        self.server.rules.listeners.append(listener)
        timeout = message.get("timeout", 0)
        if isinstance(timeout, (int, float)) and timeout > 0:
            self._timer = asyncio.get_running_loop().call_later(timeout, self._drop)
        process = self.server.rules.processes.get(message.get("processid", ""))
        if msgtype == "subscribeprocessmsg" and process is not None:
            listener(process)

    def _drop(self) -> None:
        """Like the Go server: close the TCP connection without a websocket close frame."""
        self._forget()
        if self.ws_connection is not None and self.ws_connection.stream is not None:
            self.ws_connection.stream.close()

    def _forget(self) -> None:
        if self._listener is not None and self._listener in self.server.rules.listeners:
            self.server.rules.listeners.remove(self._listener)
        self._listener = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def on_close(self) -> None:
        self._forget()

    def check_origin(self, origin: str) -> bool:
        return True


def make_app(server: ColoniesServer) -> tornado.web.Application:
    return tornado.web.Application([
        (r"/api", ApiHandler, {"server": server}),
        (r"/health", HealthHandler),
        (r"/pubsub", PubSubHandler, {"server": server}),
    ])


__all__ = ["ColoniesServer", "make_app"]
