"""A local Vantiq server for connectors (``polynb up vantiq``): the websocket and REST of the fact sheet's §9.

It checks the token, accepts a connector for any source name, sends each source its configuration,
fans a query out to the source's connectors and collects their rows until a final status or the
query's timeout, keeps the notifications per source, and serves documents for ``script`` queries.
Queries come in over REST as on Vantiq (``POST /api/v1/resources/sources/SOURCE/query``).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import tornado.httpserver
import tornado.ioloop
import tornado.iostream
import tornado.web
import tornado.websocket

from ... import jsonbody
from ...jsonbody import BodyRefused
from ...jsonhandler import JsonHandler
from . import wire

log = logging.getLogger("polynb.vantiq.server")
DEFAULT_CONFIG = {"pythonExecConfig": {"general": {"codeCacheSize": 128, "returnRuntimeInformation": False}}}
FRAME_LOG = 10_000  # frames a log keeps at most (a source's frames, the unrouted ones, a socket's before its handshake)
FRAME_LOG_BYTES = 32 << 20  # characters of frame text a log keeps at most: the oldest frames go first
FRAME_TEXT = 4 << 20  # characters a logged frame keeps (its JSON stays whole up to that); a longer one is cut, and says so
MAX_MESSAGE = 1 << 30


class FrameLog:
    """The last frames a peer sent or got, bounded in count (``FRAME_LOG``) and in text (``FRAME_LOG_BYTES``, each
    frame cut to ``FRAME_TEXT``): whatever a client sends, malformed or huge, the stand-in's memory stays bounded.
    An entry is the frame's text, or ``[direction, text]``."""

    def __init__(self) -> None:
        self._entries: deque[tuple[str | None, str]] = deque()
        self._size = 0

    def append(self, text: str, direction: str | None = None) -> None:
        if len(text) > FRAME_TEXT:
            text = text[:FRAME_TEXT] + f"\n[the stand-in cut this frame: it held {len(text)} characters]"
        self._entries.append((direction, text))
        self._size += len(text)
        while len(self._entries) > FRAME_LOG or self._size > FRAME_LOG_BYTES:
            self._size -= len(self._entries.popleft()[1])

    def extend(self, other: FrameLog) -> None:
        for direction, text in other._entries:
            self.append(text, direction)

    def entries(self) -> list:
        return [text if direction is None else [direction, text] for direction, text in self._entries]


def vantiq_error(code: str, message: str, params: list | None = None) -> list:
    """Vantiq's REST and handshake error shape: a list of ``{code, message, params}``."""
    return [{"code": code, "message": message, "params": params or []}]


@dataclass
class Document:
    content: bytes
    created: str
    modified: str
    incomplete: bool = False  # Vantiq marks a document whose upload has not finished


@dataclass
class PendingQuery:
    """Rows collected from the connectors a query went to, until each has ended it."""

    source: str
    waiting: int
    rows: list = field(default_factory=list)
    error: Any = None
    updates: asyncio.Queue = field(default_factory=asyncio.Queue)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self, status: int, body: Any) -> None:
        if self.finished.is_set():
            return
        if status >= 300:
            self.error = body if body is not None else {"messageCode": "io.polynb.vantiq.standin.error",
                                                        "messageTemplate": "status {0}", "parameters": [status]}
            self._finish()
            return
        if status != wire.EMPTY and body is not None:
            for row in (body if isinstance(body, list) else [body]):
                self.rows.append(row)
                self.updates.put_nowait(row)
        if status in (wire.DONE, wire.EMPTY):
            self.waiting -= 1
            if self.waiting <= 0:
                self._finish()

    def fail(self, error: Any) -> None:
        if not self.finished.is_set():
            self.error = error
            self._finish()

    def _finish(self) -> None:
        self.finished.set()
        self.updates.put_nowait(None)


class VantiqServer:
    """The state of the stand-in: sources, connectors, queries in flight, notifications, documents."""

    def __init__(self, token: str, query_timeout: float) -> None:
        self.token, self.query_timeout = token, query_timeout
        self.configs: dict[str, dict] = {}
        self.connectors: dict[str, list[ConnectorSocket]] = defaultdict(list)
        self.pending: dict[str, PendingQuery] = {}
        #: (connector id, object), the last FRAME_LOG of each source
        self.notifications: dict[str, deque[tuple[str | None, Any]]] = defaultdict(lambda: deque(maxlen=FRAME_LOG))
        self.documents: dict[str, Document] = {}
        self.frames: dict[str, FrameLog] = defaultdict(FrameLog)
        self.unrouted = FrameLog()
        self._addresses = itertools.count(1)

    def config_for(self, source: str) -> dict:
        return self.configs.get(source, DEFAULT_CONFIG)

    def put_document(self, name: str, content: bytes, incomplete: bool = False) -> Document:
        """Keep a document; a name that is no document name is a :class:`wire.VantiqError`."""
        wire.document_name(name)
        now = datetime.now(timezone.utc).isoformat()
        previous = self.documents.get(name)
        self.documents[name] = Document(content, previous.created if previous else now, now, incomplete)
        return self.documents[name]

    def load_documents(self, directory: Path) -> None:
        for path in sorted(directory.iterdir()):
            if path.is_file():
                self.put_document(path.name, path.read_bytes())

    def start_query(self, source: str, request: Any, timeout: float | None = None,
                    connector: str | None = None) -> PendingQuery:
        """Send the query to the connector it names, else to every connector of the source; the caller waits
        on the returned rows."""
        sockets = self.sockets_for(source, connector)
        pending = PendingQuery(source, len(sockets))
        if not sockets:
            pending.fail({"messageCode": "io.polynb.vantiq.standin.noconnector",
                          "messageTemplate": "No connector is connected for source {0}.", "parameters": [source]})
            return pending
        address = f"reply-{next(self._addresses):06d}-{secrets.token_hex(4)}"
        self.pending[address] = pending
        for socket in sockets:
            socket.send(wire.query_frame(source, address, request))
        seconds = self.query_timeout if timeout is None else timeout
        asyncio.get_running_loop().call_later(seconds, self._expire, address, seconds)
        return pending

    def sockets_for(self, source: str, connector: str | None) -> list[ConnectorSocket]:
        """The named connector's sockets when it is connected (a notebook asking its own), else all of them."""
        sockets = list(self.connectors.get(source, ()))
        named = [socket for socket in sockets if connector is not None and socket.connector == connector]
        return named or sockets

    def notifications_of(self, source: str, connector: str | None = None) -> list:
        return [message for sender, message in self.notifications.get(source, ())
                if connector is None or sender == connector]

    def _expire(self, address: str, seconds: float) -> None:
        pending = self.pending.pop(address, None)
        if pending is not None and not pending.finished.is_set():
            pending.fail({"messageCode": wire.QUERY_TIMEOUT_CODE,
                          "messageTemplate": "The query to source {0} had no final answer within {1} seconds.",
                          "parameters": [pending.source, seconds]})

    def route(self, frame: dict, text: str) -> None:
        address = (frame.get("headers") or {}).get(wire.REPLY_ADDRESS) if isinstance(frame.get("headers"), dict) else None
        pending = self.pending.get(address) if address else None
        if pending is None or not address or not isinstance(frame.get("status"), int):
            self.unrouted.append(text)
            return
        pending.take(frame["status"], frame.get("body"))
        if pending.finished.is_set():
            self.pending.pop(address, None)

    def broadcast(self, source: str, frame: dict | str | bytes) -> int:
        sockets = list(self.connectors.get(source, ()))
        for socket in sockets:
            socket.send(frame)
        return len(sockets)


class ConnectorSocket(tornado.websocket.WebSocketHandler):
    """One connector: validate, connectExtension, then query responses and notifications."""

    def initialize(self, server: VantiqServer) -> None:
        self.server, self.validated = server, False
        self.source: str | None = None  # the source it connected as (connectExtension)
        self.connector: str | None = None  # the hash of its reconnect secret: which kernel's connector it is
        self.early = FrameLog()  # frames before the source is known, logged under it once it is

    def _record_frame(self, direction: str, text: str) -> None:
        (self.server.frames[self.source] if self.source is not None else self.early).append(text, direction)

    def check_origin(self, origin: str) -> bool:
        return True

    def send(self, frame: dict | str | bytes) -> None:
        """A frame as JSON text; bytes go out as they are, in a binary frame."""
        data = frame if isinstance(frame, (str, bytes)) else wire.encode(frame)
        self._record_frame("s2c", data.decode(errors="replace") if isinstance(data, bytes) else data)
        try:
            self.write_message(data, binary=isinstance(data, bytes))
        except tornado.websocket.WebSocketClosedError:
            pass

    def on_message(self, message: str | bytes) -> None:
        text = message.decode(errors="replace") if isinstance(message, bytes) else message
        self._record_frame("c2s", text)
        try:
            frame = wire.decode(text)
        except wire.WireError as exc:
            log.warning("vantiq stand-in: ignored a frame: %s", exc)
            return
        if not self.validated:
            self._validate(frame)
        elif self.source is None:
            self._connect(frame)
        elif frame.get("op") == "notification":
            self.server.notifications[self.source].append((self.connector, frame.get("object")))
            self.send({"status": 200})
        else:
            self.server.route(frame, text)

    def _validate(self, frame: dict) -> None:
        if frame.get("op") == "validate" and frame.get("object") == self.server.token:
            self.validated = True
            self.send({"status": 200, "body": {"userInfo": {"username": "polynb"}}})
            return
        self.send({"status": 401, "body": vantiq_error(
            "io.vantiq.authentication.failed", "Authentication failed")})
        self.close(1008, "authentication failed")

    def _connect(self, frame: dict) -> None:
        source = frame.get("resourceId")
        if frame.get("op") != "connectExtension" or frame.get("resourceName") != wire.SOURCES or not source:
            self.send({"status": 400, "body": vantiq_error(
                "io.polynb.vantiq.standin.expected.connect", "Expected connectExtension for a source, got {0}",
                [frame.get("op")])})
            return
        self.source = str(source)
        parameters = frame.get("parameters")
        self.connector = wire.connector_id(parameters.get("reconnectSecret") if isinstance(parameters, dict) else None)
        self.server.frames[self.source].extend(self.early)
        self.server.connectors[self.source].append(self)
        self.send(wire.configure_frame(self.source, self.server.config_for(self.source)))

    def on_close(self) -> None:
        if self.source is not None and self in self.server.connectors.get(self.source, ()):
            self.server.connectors[self.source].remove(self)


class _Api(JsonHandler):
    """Bearer-token REST with Vantiq's error shape."""

    def initialize(self, server: VantiqServer) -> None:
        self.server = server

    def prepare(self) -> None:
        super().prepare()
        if self.request.headers.get("Authorization") != f"Bearer {self.server.token}":
            self.fail(401, "io.vantiq.authentication.failed", "Authentication failed")

    def fail(self, status: int, code: str, message: str, params: list | None = None) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(vantiq_error(code, message, params)))

    def request_json(self, expect: type | tuple[type, ...] = object) -> Any:
        """The body's JSON (None for no body); a refused body raises, and :meth:`answer_error` says why."""
        return self.json_body(expect) if self.body.strip() else None

    def answer_error(self, status: int, message: str, error: BaseException | None) -> None:
        if isinstance(error, BodyRefused):
            code = "toolarge" if error.reason == jsonbody.TOO_LARGE else "badjson"
            self.fail(status, f"io.polynb.vantiq.standin.{code}", "The request body was refused: {0}", [message])
        else:
            self.fail(status, "io.polynb.vantiq.standin.error", "The request failed: {0}", [message])

    def reply(self, value: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(value))


class DocumentMeta(_Api):
    def get(self, name: str) -> None:
        document = self.server.documents.get(name)
        if document is None:
            return self.fail(404, "io.vantiq.resource.not.found",
                             "The requested instance ({0}) of the {1} resource could not be found.", [name, "documents"])
        self.reply({"name": name, "contentSize": len(document.content), "content": f"/docs/{quote(name)}",
                    "fileType": "text/x-python", "isIncomplete": document.incomplete,
                    "ars_createdAt": document.created, "ars_modifiedAt": document.modified})


class DocumentUpload(_Api):
    def post(self) -> None:
        body = self.request_json()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not isinstance(body.get("content"), str):
            return self.fail(400, "io.polynb.vantiq.standin.baddocument", "A document needs a name and a text content.")
        try:
            document = self.server.put_document(body["name"], body["content"].encode(), bool(body.get("isIncomplete")))
        except wire.VantiqError as exc:
            return self.fail(400, exc.body["messageCode"], exc.body["messageTemplate"], exc.body["parameters"])
        self.reply({"name": body["name"], "contentSize": len(document.content), "ars_modifiedAt": document.modified})


class DocumentContent(_Api):
    def get(self, name: str) -> None:
        document = self.server.documents.get(name)
        if document is None:
            return self.fail(404, "io.vantiq.resource.not.found",
                             "The requested instance ({0}) of the {1} resource could not be found.", [name, "documents"])
        self.finish(document.content)


class SourceQuery(_Api):
    """A query as VAIL's SELECT would send it; ``Accept: application/x-ndjson`` streams rows as they come."""

    async def post(self, source: str) -> None:
        request = self.request_json(dict)
        try:
            timeout = float(self.get_argument("timeout")) if self.get_argument("timeout", None) else None
        except ValueError:
            return self.fail(400, "io.polynb.vantiq.standin.badtimeout", "The timeout must be seconds, not {0}.",
                             [self.get_argument("timeout")])
        pending = self.server.start_query(source, {} if request is None else request, timeout,
                                          self.get_argument("connector", None))
        if "application/x-ndjson" in self.request.headers.get("Accept", ""):
            self.set_header("Content-Type", "application/x-ndjson")
            while (row := await pending.updates.get()) is not None:
                self.write(json.dumps({"row": row}) + "\n")
                try:
                    await self.flush()
                except tornado.iostream.StreamClosedError:
                    return  # the client went away; the connector's later frames are dropped at expiry
            self.finish(json.dumps({"error": pending.error} if pending.error is not None else {"done": True}) + "\n")
            return
        await pending.finished.wait()
        if pending.error is not None:
            error = pending.error if isinstance(pending.error, dict) else {"messageCode": str(pending.error)}
            return self.fail(400, error.get("messageCode", ""), error.get("messageTemplate", ""),
                             list(error.get("parameters") or []))
        self.reply(pending.rows)


class SourceResource(_Api):
    def get(self, source: str) -> None:
        self.reply({"name": source, "type": "PYTHONEXECUTION", "config": self.server.config_for(source),
                    "connectors": len(self.server.connectors.get(source, ()))})

    def put(self, source: str) -> None:
        """New configuration; connected connectors are asked to reconnect, which sends it to them."""
        body = self.request_json()
        if not isinstance(body, dict) or not isinstance(body.get("config"), dict):
            return self.fail(400, "io.polynb.vantiq.standin.badconfig", "A source update needs a config object.")
        self.server.configs[source] = body["config"]
        self.reply({"reconnected": self.server.broadcast(source, wire.source_frame("reconnectRequired", source))})


class SourceNotifications(_Api):
    def get(self, source: str) -> None:
        self.reply(self.server.notifications_of(source, self.get_argument("connector", None)))


class SourcePublish(_Api):
    def post(self, source: str) -> None:
        body = self.request_json()
        self.reply({"sent": self.server.broadcast(source, wire.source_frame("publish", source, body))})


class StandInControl(_Api):
    """What tests and the notebook drive beyond Vantiq's API: raw frames, closes, the frame log."""

    def get(self, source: str, action: str) -> None:
        if action == "frames":
            return self.reply(self.server.frames[source].entries() if source in self.server.frames else [])
        if action == "unrouted":
            return self.reply(self.server.unrouted.entries())
        self.fail(404, "io.polynb.vantiq.standin.noaction", "No action {0}.", [action])

    def post(self, source: str, action: str) -> None:
        if action == "send":  # ?binary=1 sends the body's bytes as they are, in a binary frame
            frame = bytes(self.body) if self.get_argument("binary", None) else self.body.decode(errors="replace")
            return self.reply({"sent": self.server.broadcast(source, frame)})
        if action in ("reconnectRequired", "testRequestsClientClose"):
            return self.reply({"sent": self.server.broadcast(source, wire.source_frame(action, source))})
        if action == "close":
            sockets = list(self.server.connectors.get(source, ()))
            for socket in sockets:
                socket.close(1000, "closed by the stand-in")
            return self.reply({"closed": len(sockets)})
        self.fail(404, "io.polynb.vantiq.standin.noaction", "No action {0}.", [action])


def application(server: VantiqServer) -> tornado.web.Application:
    args = {"server": server}
    return tornado.web.Application([
        (r"/api/v\d+/wsock/websocket", ConnectorSocket, args),
        (r"/api/v1/resources/documents", DocumentUpload, args),
        (r"/api/v1/resources/documents/(.+)", DocumentMeta, args),
        (r"/docs/(.+)", DocumentContent, args),
        (r"/api/v1/resources/sources/([^/]+)/query", SourceQuery, args),
        (r"/api/v1/resources/sources/([^/]+)/notifications", SourceNotifications, args),
        (r"/api/v1/resources/sources/([^/]+)/publish", SourcePublish, args),
        (r"/api/v1/resources/sources/([^/]+)", SourceResource, args),
        (r"/polynb/sources/([^/]+)/(\w+)", StandInControl, args),
    ], websocket_max_message_size=MAX_MESSAGE)

