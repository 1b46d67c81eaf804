"""The Vantiq extension-source wire format: frames, query options, results and error bodies.

Pure functions and data, no sockets: what the Python Execution Connector sends and expects, as the
fact sheet (``shared/protocols/vantiq.md``) records it, so it is testable with the recorded vectors alone.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ... import jsonbody
from ...paths import PathEscape, inside

SOURCES = "sources"
REPLY_ADDR_HEADER = "REPLY_ADDR_HEADER"
REPLY_ADDRESS = "X-Reply-Address"
PARTIAL, DONE, EMPTY, ERROR = 100, 200, 204, 400
RESPONSE_CODES = (PARTIAL, DONE, EMPTY)
FINAL_CODES = (DONE, EMPTY, ERROR)
WEBSOCKET_PATH = "/api/v1/wsock/websocket"
DOCUMENTS = PurePosixPath("/api/v1/resources/documents")
_WEBSOCKET_PATH_RULE = re.compile(r".*/api/v[0-9]+/wsock/websocket")
_TRUE_WORDS = {"yes", "true", "t", "1"}
#: globals the connector puts in every run and never returns
QUERY_TIMEOUT_CODE = "io.polynb.vantiq.standin.query.timeout"  # the local server's: no final answer in time
HIDDEN_GLOBALS = frozenset({"__file__", "__name__", "connector_context", "connector_connection", "__builtins__"})


class WireError(ValueError):
    """A frame polynb cannot use (it has no reply address to answer, so it is logged and journaled)."""


class VantiqError(Exception):
    """A query error in Vantiq's own shape (the body of a status-400 response)."""

    def __init__(self, code: str, template: str, parameters: list[Any]) -> None:
        self.body: dict[str, Any] = {"messageCode": code, "messageTemplate": template, "parameters": parameters}
        super().__init__(render(self.body))


def render(body: Mapping[str, Any]) -> str:
    """A Vantiq error as one readable line: the template with its parameters filled in."""
    text = str(body.get("messageTemplate", ""))
    for index, value in enumerate(body.get("parameters") or []):
        text = text.replace(f"{{{index}}}", value if isinstance(value, str) else json.dumps(value, default=str))
    return f"{body.get('messageCode')}: {text}"


# -- URLs ---------------------------------------------------------------------------------------------
def websocket_url(target_server: str) -> str:
    """The connector's websocket URL: ws(s) scheme, and the path replaced unless it is already a wsock path."""
    parts = urlsplit(target_server)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if _WEBSOCKET_PATH_RULE.fullmatch(parts.path or "") else WEBSOCKET_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def rest_base(target_server: str) -> str:
    """The REST base (scheme and host:port only) for fetching documents."""
    parts = urlsplit(target_server)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


# -- frames -------------------------------------------------------------------------------------------
def encode(frame: Mapping[str, Any]) -> str:
    """A frame as text; NaN and Infinity go out as bare tokens, as the real connector sends them."""
    return json.dumps(frame)


def decode(text: str | bytes) -> dict[str, Any]:
    """A received frame; anything but a JSON object (nested at most ``jsonbody.MAX_DEPTH`` deep) is a
    :class:`WireError`, never a ``RecursionError`` further on."""
    try:
        frame = jsonbody.loads(text)
    except jsonbody.BodyRefused as exc:
        cause = exc.__cause__ if exc.reason == jsonbody.NOT_JSON else exc.detail
        raise WireError(f"frame is {'not JSON' if exc.reason == jsonbody.NOT_JSON else 'too deep'}: {cause}") from None
    if not isinstance(frame, dict):
        raise WireError(f"frame is a JSON {type(frame).__name__}, not an object")
    return frame


_REPLY_ADDRESS_TEXT = re.compile(r'"REPLY_ADDR_HEADER"\s*:\s*("(?:[^"\\]|\\.)*")')


def salvage_reply_address(message: str | bytes) -> str | None:
    """The reply address written in a frame too broken or too deep to decode, so that query still gets its
    error instead of waiting out its timeout on the server."""
    text = message.decode("utf-8", errors="replace") if isinstance(message, bytes) else message
    found = _REPLY_ADDRESS_TEXT.search(text)
    if found is None:
        return None
    try:
        address = json.loads(found.group(1))
    except ValueError:
        return None
    return address if isinstance(address, str) and address else None


def connector_id(reconnect_secret: Any) -> str | None:
    """A public name for one connector: its reconnect secret (made once per connector process) hashed, so a
    notebook can name its own connector to the local server without sending the secret itself."""
    if not isinstance(reconnect_secret, str) or not reconnect_secret:
        return None
    return hashlib.sha256(reconnect_secret.encode()).hexdigest()[:16]


def validate_frame(token: str | None) -> dict[str, Any]:
    return {"op": "validate", "resourceName": "system.credentials", "object": token}


def connect_frame(source: str, reconnect_secret: str) -> dict[str, Any]:
    return {"op": "connectExtension", "resourceName": SOURCES, "resourceId": source,
            "parameters": {"reconnectSecret": reconnect_secret}}


def configure_frame(source: str, config: Mapping[str, Any]) -> dict[str, Any]:
    return {"op": "configureExtension", "resourceName": SOURCES, "resourceId": source, "object": {"config": config}}


def query_frame(source: str, reply_address: str, query: Any) -> dict[str, Any]:
    return {"messageHeaders": {REPLY_ADDR_HEADER: reply_address}, "op": "query", "resourceName": SOURCES,
            "resourceId": source, "contentType": "application/json", "object": query}


def source_frame(op: str, source: str, obj: Any = None) -> dict[str, Any]:
    """publish, reconnectRequired, testRequestsClientClose: server frames addressed to a source."""
    frame = {"op": op, "resourceName": SOURCES, "resourceId": source}
    if obj is not None:
        frame["object"] = obj
    return frame


def response_frame(reply_address: str | None, status: int, body: Any = None) -> dict[str, Any]:
    """A query response; 204 carries no body key. A query without an address gets empty headers."""
    frame: dict[str, Any] = {"status": status, "headers": {REPLY_ADDRESS: reply_address} if reply_address else {}}
    if status != EMPTY:
        frame["body"] = body
    return frame


def notification_frame(source: str, message: Any) -> dict[str, Any]:
    return {"op": "notification", "resourceName": SOURCES, "resourceId": source, "object": message}


def status_error(frame: Mapping[str, Any]) -> tuple[str, str] | None:
    """(code, message) of a rejecting status frame in the ``[{code, message}]`` shape, else None."""
    body = frame.get("body")
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("code")), str(body[0].get("message"))
    return None


def reply_address(frame: Mapping[str, Any]) -> str | None:
    headers = frame.get("messageHeaders")
    address = headers.get(REPLY_ADDR_HEADER) if isinstance(headers, dict) else None
    return address if isinstance(address, str) and address else None


def server_config(frame: Mapping[str, Any]) -> dict[str, Any]:
    """``object.config`` of a configureExtension (an inner ``config`` key wins, as in the connector)."""
    obj = frame.get("object")
    config = obj.get("config") if isinstance(obj, dict) else None
    if not isinstance(config, dict):
        raise WireError("configureExtension carries no object.config")
    inner = config.get("config")
    return inner if isinstance(inner, dict) else config


@dataclass(frozen=True)
class SourceSettings:
    """``pythonExecConfig.general`` of a configureExtension; runtime info stays as it was when absent."""

    code_cache_size: int = 128
    return_runtime_information: bool | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SourceSettings:
        general = ((config.get("pythonExecConfig") or {}).get("general") or {}) if isinstance(config, dict) else {}
        size = general.get("codeCacheSize", 128)
        runtime = general.get("returnRuntimeInformation") if "returnRuntimeInformation" in general else None
        return cls(size if isinstance(size, int) and size > 0 else 128, None if runtime is None else truthy(runtime))


# -- queries ------------------------------------------------------------------------------------------
def truthy(value: Any) -> bool:
    """The connector's flag rule: a bool as it is, a string if yes/true/t/1 (any case), anything else false."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


@dataclass(frozen=True)
class Query:
    """A query's options, validated in the connector's order."""

    code: Any  # the source text when given; any other JSON value fails to compile, as on the connector
    script: str | None
    name: str | None
    presets: dict[str, Any] = field(default_factory=dict)
    handles_return: bool = False
    limit_return_to: tuple[str, ...] | None = None
    cache_code: bool = False

    @property
    def key(self) -> str | None:
        """The cache key: the script when there is one, else the name."""
        return self.script or self.name

    @property
    def cache_name(self) -> str:
        """The name of the cached code it runs or caches (:func:`parse_query` refuses such a query without one)."""
        if self.name is None:
            raise ValueError("the query names no cached code")
        return self.name


def parse_query(obj: Any, *, defaults: Mapping[str, Any] | None = None) -> Query:
    """Validate a query object; raises :class:`VantiqError` with the connector's code for each refusal.

    Options count when their key is present, null included, as on the connector. ``defaults`` fill keys
    the query leaves out (a registered cell's ``--handles-return`` ...).
    """
    if not isinstance(obj, dict):
        raise VantiqError("io.polynb.vantiq.query.malformed",
                          "The query object must be a VAIL object (a dict at the connector), found: {0}",
                          [type(obj).__name__])
    options = {**(defaults or {}), **obj}
    limit = _limit_return_to(options["limitReturnTo"]) if "limitReturnTo" in options else None
    handles_return = truthy(options.get("codeHandlesReturn", False))
    if handles_return and limit is not None:
        raise VantiqError("io.vantiq.pyexecsource.runpython.conflictingreturn",
                          "This query stated that the code will generate the return value and specified"
                          "The returnValuesFor list. These items are in conflict.", [])
    presets = options.get("presetValues", {})
    if not isinstance(presets, dict):
        raise VantiqError("io.vantiq.pyexecsource.runpython.badglobalpreset",
                          "The{0} entry must be VAIL object (a dict at the connector).", ["presetValues"])
    code, script, name = options.get("code"), options.get("script"), options.get("name")
    cache_code = truthy(options["cache_code"]) if "cache_code" in options else name is not None
    if cache_code and name is None:
        raise VantiqError("io.vantiq.pyexecsource.runpython.nocachename",
                          "A request was made to cache the code but no name was provided.", [])
    if code is None and script is None and name is None:
        raise VantiqError("io.vantiq.pyexecsource.runpython.nocode",
                          "No code was provided to execute. Message was {0}, but no {1} value was present.",
                          [obj, "code"])
    if code is None and not script and not name:  # present but empty: the connector's second, shorter refusal
        raise VantiqError("io.vantiq.pyexecsource.runpython.nocode", "No code was provided to execute.", [])
    return Query(code, None if code is not None else script, name, presets, handles_return, limit, cache_code)


def _limit_return_to(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for part in value.replace(" ", "").split(",") if part)
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                # the real connector raises inside its handler and never answers; polynb says why
                raise bad_return_values_for(item)
        return tuple(item.strip() for item in value)
    raise bad_return_values_for(value)


def bad_return_values_for(value: Any) -> VantiqError:
    return VantiqError("io.vantiq.pyexecsource.runpython.badreturnvaluesfor",
                       "The returnValuesFor parameter must be a string or a list, found: {0}", [type(value).__name__])


def no_cache(name: str) -> VantiqError:
    return VantiqError("io.vantiq.pyexecsource.runpython.nocache", "No cached code was found for name: {0}.", [name])


def not_open(source: str) -> VantiqError:
    return VantiqError("io.vantiq.pyexec.query.not.open", "Connection to source {0} is current closed.", [source])


def document_name(name: str) -> str:
    """A document (or script) name as it is, if it names a document: never ``..`` or a path to another resource."""
    try:
        inside(DOCUMENTS, name)
    except PathEscape:
        raise VantiqError("io.polynb.vantiq.document.badname",
                          "The document name {0} leads outside the documents resource.", [name]) from None
    return name


def bad_frame(source: str, reason: str) -> VantiqError:
    """What the connector answers a frame it cannot use (addressed when the frame named where to)."""
    return VantiqError("io.polynb.vantiq.frame.unusable",
                       "The connector for source {0} could not use a frame from the server: {1}", [source, reason])


def no_reply_address(source: str) -> VantiqError:
    return VantiqError("io.polynb.vantiq.query.noreplyaddress",
                       "A query for source {0} carried no REPLY_ADDR_HEADER, so its result cannot be routed.",
                       [source])


def reply_timeout(seconds: float) -> VantiqError:
    return VantiqError("io.polynb.vantiq.query.noreply",
                       "The code handles its own return but sent no final response within {0} seconds.", [seconds])


def no_reply() -> VantiqError:
    return VantiqError("io.polynb.vantiq.query.noreply",
                       "The code handles its own return but finished without sending a final response "
                       "(200, 204 or an error).", [])


def syntax_error(exc: SyntaxError) -> VantiqError:
    return VantiqError("io.vantiq.pyexecsource.compile.syntaxerror",
                       "Compilation resulted in: {0} :: file {1}, line {2}, offset {3} -- {4}",
                       [type(exc).__name__, exc.filename, exc.lineno, exc.offset, exc.text])


def compile_error(exc: Exception) -> VantiqError:
    kind = "importerror" if isinstance(exc, ImportError) else "importwarning" if isinstance(exc, ImportWarning) \
        else "exception"
    return VantiqError(f"io.vantiq.pyexecsource.compile.{kind}", "Compilation resulted in: {0} :: {1}",
                       [type(exc).__name__, str(exc)])


def execution_error(exc: BaseException, traceback_text: str) -> VantiqError:
    """What running the code raised: import problems by message, anything else with its traceback."""
    if isinstance(exc, ImportError):
        return VantiqError("io.vantiq.pyexecsource.execution.importerror", "Execution raised exception: {0} :: {1}",
                           [type(exc).__name__, exc.msg])
    if isinstance(exc, ImportWarning):
        return VantiqError("io.vantiq.pyexecsource.execution.importwarning",
                           "Executing code raised exception: {0} :: {1}", [type(exc).__name__, str(exc)])
    return VantiqError("io.vantiq.pyexecsource.execution.exception", "Executing code raised exception: {0} :: {1}",
                       [type(exc).__name__, traceback_text])


def connector_error(type_name: str | None, text: str | None) -> VantiqError:
    """A failure of the connector's own handling (results that cannot be encoded, a refused execution)."""
    return VantiqError("io.vantiq.pyexecsource.runpython.exception",
                       "Executing python code in connector resulted in an exception: {0} :: {1}", [type_name, text])


# -- results ------------------------------------------------------------------------------------------
def call_results(namespace: Mapping[str, Any], limit: tuple[str, ...] | None) -> dict[str, Any]:
    """``pythonCallResults``: every returnable global, JSON-normalised; unserialisable ones are left out.

    A circular value raises ValueError, which the connector reports as ``runpython.exception``.
    """
    results = {}
    for name, value in namespace.items():
        if name in HIDDEN_GLOBALS or (limit is not None and name not in limit):
            continue
        try:
            text = json.dumps(value)
        except (TypeError, OverflowError):
            continue
        results[name] = json.loads(text)
    return results


def runtime_info(*, using_cached: bool, name: str | None, new_cache_entry: bool, compile_time: float | None,
                 execution_time: float, total_time: float, cache_size: int, capacity: int) -> dict[str, Any]:
    """``connectorRuntimeInfo`` with the connector's keys in its order (times in seconds)."""
    info: dict[str, Any] = {"using_cached": using_cached}
    if name:
        info["name"] = name
    info["newCacheEntry"] = new_cache_entry
    if compile_time is not None:
        info["compileTime"] = compile_time
    info.update(executionTime=execution_time, totalTime=total_time, query_time=total_time,
                currentCacheSize=cache_size, cacheCapacity=capacity)
    return info


def check_response(code: Any, message: Any) -> None:
    """What ``send_query_response`` accepts: 100, 200 or 204, and a message unless 204."""
    if code not in RESPONSE_CODES:
        raise ValueError(f"a query response code must be 100, 200 or 204, not {code!r}")
    if message is None and code != EMPTY:
        raise ValueError(f"a query response with code {code} needs a message (only 204 goes without)")


def check_error(body: Any) -> None:
    """What ``send_query_error`` accepts: a dict with messageCode, messageTemplate and parameters."""
    missing = [key for key in ("messageCode", "messageTemplate", "parameters")
               if not isinstance(body, dict) or key not in body]
    if missing:
        raise ValueError(f"a query error needs {', '.join(missing)}")
