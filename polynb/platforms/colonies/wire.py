"""The Colonies RPC wire format: signed envelopes, replies, error shapes, Go-like JSON and type limits.

Pure functions and exception types only, so the fact sheet's recorded vectors test them alone. Both
sides use them: the client and executor (what polynb sends) and the local stand-in (what it answers).
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ... import jsonbody
from ...calls import PlatformAnswer
from ...jsonbody import BodyRefused
from . import crypto

WAITING, RUNNING, SUCCESS, FAILED, CANCELLED = 0, 1, 2, 3, 4
STATE_NAMES = {WAITING: "waiting", RUNNING: "running", SUCCESS: "successful", FAILED: "failed", CANCELLED: "cancelled"}
PENDING, APPROVED, REJECTED = 0, 1, 2
EXECUTOR_STATE_NAMES = {PENDING: "pending", APPROVED: "approved", REJECTED: "rejected", 3: "unregistered"}
UNSIGNED = frozenset({"versionmsg", "getserverinfomsg"})
ZERO_TIME = "0001-01-01T00:00:00Z"
NO_PROCESS = "No process available for assignment"
EXEC_LIMIT = "Maximum execution time limit exceeded"
WAIT_LIMIT = "Maximum waiting time limit exceeded"


class ColoniesError(PlatformAnswer):
    """An error reply of a Colonies server: its HTTP status and its message, verbatim."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.message} (Colonies {self.status})"



class BadRequest(ColoniesError):
    status = 400


class Forbidden(ColoniesError):
    status = 403


class NotFound(ColoniesError):
    status = 404


class NoProcessAvailable(NotFound):
    """A long-poll assign that timed out: executors loop on it."""


class AssignmentsPaused(ColoniesError):
    status = 408


class ConnectionFailed(ColoniesError):
    """The server could not be reached, or its answer was not a Colonies reply."""

    status = 0


_BY_STATUS = {400: BadRequest, 403: Forbidden, 404: NotFound, 408: AssignmentsPaused, 503: AssignmentsPaused}


def error_for(status: int, message: str) -> ColoniesError:
    """The typed exception of an error reply."""
    if status == 404 and message == NO_PROCESS:
        return NoProcessAvailable(message, 404)
    return _BY_STATUS.get(status, ColoniesError)(message, status)


# -- envelopes -------------------------------------------------------------------------------------------
def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def encode_request(message: Mapping[str, Any], private_key: str | None) -> dict[str, str]:
    """The envelope of a request; JSON formatted like pycolonies (Python defaults), signed over the base64."""
    payload = _b64(json.dumps(dict(message)))
    envelope = {"payloadtype": message["msgtype"], "payload": payload}
    envelope["signature"] = crypto.sign(payload, private_key) if private_key else ""
    return envelope


def parse_envelope(body: bytes | str) -> dict[str, str]:
    """The envelope of a request (stand-in side); :class:`BadRequest` when it is not one."""
    try:
        envelope = jsonbody.loads(body)
    except BodyRefused as refusal:
        raise BadRequest(f"Failed to parse RPC message: {refusal.__cause__ or refusal}") from None
    if not isinstance(envelope, dict) or not all(isinstance(envelope.get(key, ""), str)
                                                  for key in ("payloadtype", "payload", "signature")):
        raise BadRequest("Failed to parse RPC message: expected payloadtype, payload and signature strings")
    return {key: envelope.get(key, "") for key in ("payloadtype", "payload", "signature")}


def signer_of(envelope: Mapping[str, str]) -> str:
    """The id that signed an envelope; :class:`Forbidden` like the Go server when there is none."""
    try:
        return crypto.recover(envelope["payload"], envelope["signature"])
    except crypto.SignatureError as exc:
        raise Forbidden(str(exc)) from None


def open_payload(envelope: Mapping[str, str]) -> dict[str, Any]:
    """The message inside an envelope, checked against its payload type (400 otherwise)."""
    try:
        text = base64.b64decode(envelope["payload"], validate=True).decode()
        message = jsonbody.loads(text)
    except BodyRefused as refusal:
        raise BadRequest(f"Failed to parse {envelope['payloadtype']}: {refusal.__cause__ or refusal}") from None
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"Failed to parse {envelope['payloadtype']}: {exc}") from None
    if not isinstance(message, dict):
        raise BadRequest(f"Failed to parse {envelope['payloadtype']}: not a JSON object")
    if message.get("msgtype") != envelope["payloadtype"]:
        raise BadRequest(f"Failed to parse {envelope['payloadtype']}, msgtype {message.get('msgtype')!r} does "
                         "not match payloadtype")
    return message


def encode_reply(msgtype: str, result: Any) -> str:
    """A successful reply body (replies are not signed)."""
    payload = _b64(json.dumps(result, separators=(",", ":")))
    return json.dumps({"payloadtype": msgtype, "payload": payload, "error": False}, separators=(",", ":"))


def encode_error(error: ColoniesError) -> str:
    """An error reply body; the HTTP status is ``error.status``."""
    payload = _b64(json.dumps({"status": error.status, "message": error.message}, separators=(",", ":")))
    return json.dumps({"payloadtype": "error", "payload": payload, "error": True}, separators=(",", ":"))


def decode_reply(body: bytes | str) -> tuple[str, Any]:
    """(payloadtype, result) of a reply; an error reply raises its typed :class:`ColoniesError`."""
    try:
        reply = jsonbody.loads(body, expect=dict)
        result = jsonbody.loads(base64.b64decode(reply["payload"]).decode()) if reply.get("payload") else None
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ConnectionFailed(f"not a Colonies reply: {exc}: {str(body)[:200]}") from None
    if reply.get("error"):
        if not isinstance(result, dict):
            raise ConnectionFailed(f"malformed Colonies error reply: {str(body)[:200]}")
        raise error_for(int(result.get("status", 500)), str(result.get("message", "")))
    return reply.get("payloadtype", ""), result


# -- Go-like values ------------------------------------------------------------------------------------
def go_time(ns: int) -> str:
    """RFC 3339 in UTC with up to 9 fractional digits, Go's zero time for 0."""
    if not ns:
        return ZERO_TIME
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{text}.{digits}Z" if digits else f"{text}Z"


def go_time_seconds(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time as Go writes it (0.0 for Go's zero time)."""
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text or "")
    if found is None or text.startswith("0001-"):
        return 0.0
    stamp, fraction, zone = found.groups()
    parsed = datetime.fromisoformat(stamp + (zone if zone != "Z" else "+00:00")).timestamp()
    return parsed + (float(fraction) if fraction else 0.0)


def function_spec(funcname: str, *, colonyname: str, executortype: str, args: Sequence[Any] = (),
                  kwargs: Mapping[str, Any] | None = None, nodename: str | None = None,
                  dependencies: Sequence[str] = (), executornames: Sequence[str] | None = None,
                  priority: int = 0, maxexectime: int = -1, maxwaittime: int = -1, maxretries: int = -1,
                  label: str = "") -> dict[str, Any]:
    """A function spec with every limit explicit: a ``maxexectime`` of 0 fails or loops a process (§5.3)."""
    for name, value in (("maxexectime", maxexectime), ("maxwaittime", maxwaittime)):
        if value == 0:
            raise ValueError(f"{name} 0 makes the Colonies server treat the process as overdue; "
                             "use -1 for no limit or a number of seconds")
    return {
        "nodename": nodename or funcname, "funcname": funcname, "args": list(args), "kwargs": dict(kwargs or {}),
        "priority": priority, "maxwaittime": maxwaittime, "maxexectime": maxexectime, "maxretries": maxretries,
        "conditions": {"colonyname": colonyname, "executornames": list(executornames) if executornames else None,
                       "executortype": executortype, "dependencies": list(dependencies), "nodes": 0, "cpu": "",
                       "processes": 0, "processespernode": 0, "mem": "", "storage": "",
                       "gpu": {"name": "", "mem": "", "count": 0, "nodecount": 0}, "walltime": 0},
        "label": label, "fs": None, "env": {},
    }


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and not (
        isinstance(value, float) and not math.isfinite(value))


def encode_output(value: Any) -> list[Any]:
    """A payload's result as a Colonies ``out`` list that pycolonies can parse (str, int, float only).

    None is no output; a scalar is one element; a list or tuple gives its elements; anything else
    (dicts, bools, nested lists) travels as JSON text. An unserialisable value raises TypeError.
    """
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    return [item if _scalar(item) else json.dumps(item, allow_nan=False) for item in items]


def encode_arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Submission arguments within pycolonies' limits: args str/int, kwargs values str or list of str."""
    wire_args = [a if isinstance(a, (str, int)) and not isinstance(a, bool) else json.dumps(a) for a in args]
    wire_kwargs = {str(k): v if isinstance(v, str) or (isinstance(v, list) and all(isinstance(i, str) for i in v))
                   else json.dumps(v) for k, v in kwargs.items()}
    return wire_args, wire_kwargs


class BadArguments(ValueError):
    """A process whose args or kwargs no Python function can be called with: it fails, with this reason."""


def process_arguments(process: Mapping[str, Any]) -> tuple[Any, Any]:
    """(args, kwargs) a function is called with: the spec's args, then the parents' outputs (``in``).

    Values of the wrong shape are passed on as they came, so that the execution's record holds them and
    :func:`checked_arguments` fails it with the reason.
    """
    spec = process.get("spec") or {}
    args, parents = spec.get("args") or [], process.get("in") or []
    if isinstance(args, list) and isinstance(parents, list):
        args = args + parents
    return args, spec.get("kwargs") or {}


def checked_arguments(args: Any, kwargs: Any) -> tuple[list[Any], dict[str, Any]]:
    """``args`` as a list and ``kwargs`` as a dict of names, or :class:`BadArguments` saying what is wrong."""
    if not isinstance(args, list):
        raise BadArguments(f"args must be a JSON array, not {json.dumps(args, default=str)[:80]}")
    if not isinstance(kwargs, dict) or not all(isinstance(key, str) for key in kwargs):
        raise BadArguments(f"kwargs must be a JSON object of names, not {json.dumps(kwargs, default=str)[:80]}")
    return args, kwargs
