"""The KGrid proxy protocol as pure functions: keys, bodies, input parsing and error shapes.

Everything here is checked against the fact sheet's recorded vectors alone; no sockets, no files.
The runtime and the local activator both build their JSON through this module, so the two sides of
polynb speak exactly the shapes the real runtime and activator speak.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, TypedDict
from urllib.parse import urlsplit

from ... import jsonbody
from ...jsonbody import BodyRefused

ENGINE = "python"
RUNTIME_VERSION = "0.1.0"  # the kgrid-python-runtime version polynb is a drop-in for
APP = "kgrid-python-runtime"
MIN_HEARTBEAT = 5
PROCESSING = "Processing"
ACTIVATED = "Activated"
BUSY = "Endpoint is in processing, try again later."


class HttpError(TypedDict):
    """Werkzeug's body for an HTTP error, which the runtime (a Flask app) answers with."""

    code: int
    name: str
    description: str


BAD_REQUEST: HttpError = {"code": 400, "name": "Bad Request",
               "description": "The browser (or proxy) sent a request that this server could not understand."}
NOT_FOUND: HttpError = {"code": 404, "name": "Not Found",
             "description": "The requested URL was not found on the server. If you entered the URL manually "
                            "please check your spelling and try again."}
METHOD_NOT_ALLOWED: HttpError = {"code": 405, "name": "Method Not Allowed",
                      "description": "The method is not allowed for the requested URL."}
TOO_LARGE: HttpError = {"code": 413, "name": "Request Entity Too Large",
             "description": "The data value transmitted exceeds the capacity limit."}
NOT_JSON_MEDIA: HttpError = {"code": 415, "name": "Unsupported Media Type",
                  "description": "Did not attempt to load JSON data because the request Content-Type was not "
                                 "'application/json'."}


class WireError(Exception):
    """A request the runtime answers with an error: the status code and the JSON body to send."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(body.get("description", ""))
        self.status = status
        self.body = dict(body)


# -- keys and names -----------------------------------------------------------------------------------
def endpoint_key(uri: str) -> str:
    """The runtime's key for an endpoint id: shelf folder name and execution path segment."""
    return uri.replace("/", "_").replace(".", "_").replace("-", "_")


def entry_module(entry: str) -> str:
    """``src/hello.py`` -> ``src.hello`` (text before the last extension, as the real runtime cuts it)."""
    return entry.rsplit(".", 2)[0].replace("/", ".")


def endpoint_id(naan: str, name: str, api_version: str, endpoint: str) -> str:
    return f"{naan}/{name}/{api_version}/{endpoint}"


def strip_slash(url: str) -> str:
    """One trailing ``/`` is dropped, as the runtime does with the adapter URL."""
    return url[:-1] if url.endswith("/") else url


def heartbeat_enabled(interval: int) -> bool:
    """The real runtime only starts its heartbeat for intervals of 5 s or more."""
    return interval >= MIN_HEARTBEAT


def http_date(moment: datetime | str) -> str:
    """``Sat, 21 Nov 2026 23:16:20 GMT``, the way Flask renders a datetime (a naive one as if UTC).

    A time read back from context.json is already text and stays as it is.
    """
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


# -- runtime -> activator -----------------------------------------------------------------------------
def registration(url: str, force_update: bool) -> dict[str, Any]:
    """The body a runtime registers with (key order as the real runtime sends it)."""
    return {"engine": ENGINE, "version": RUNTIME_VERSION, "url": url, "forceUpdate": force_update}


def root_info(port: int) -> dict[str, Any]:
    """``GET /``: the real runtime always names ``localhost`` here."""
    return {"Description": "Running Knowledge Objects written in Python",
            "Endpoints": f"http://localhost:{port}/endpoints", "Info": f"http://localhost:{port}/info",
            "Name": "Kgrid Python Runtime", "Version": RUNTIME_VERSION}


def runtime_info(activator_url: str, url: str) -> dict[str, Any]:
    """``GET /info``: ``status`` must be ``up`` or the adapter refuses to activate."""
    return {"activatorUrl": activator_url, "app": APP, "engine": ENGINE, "status": "up", "url": url,
            "version": RUNTIME_VERSION}


# -- activation ---------------------------------------------------------------------------------------
def origin(url: str) -> str:
    """``scheme://host:port`` of a URL (the port written out), what artifact sources are compared by."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def foreign_artifacts(base_url: Any, allowed: tuple[str, ...]) -> dict[str, Any] | None:
    """The runtime's 403 body when a descriptor's ``baseUrl`` is not on an allowed origin, else None.

    The real runtime downloads and imports from any ``baseUrl``: any web page that can POST to it can make it
    run code. polynb fetches artifacts only from the activator's origin unless ``POLYNB_KGRID_ARTIFACT_ORIGINS``
    widens it (``*`` for any)."""
    if "*" in allowed:
        return None
    try:
        source = origin(base_url) if isinstance(base_url, str) else None
    except ValueError:
        source = None
    if source is not None and source in {origin(url) for url in allowed}:
        return None
    return {"code": 403, "name": "Forbidden",
            "description": f"artifacts come only from {', '.join(allowed)}, not from {base_url!r} "
                           "(POLYNB_KGRID_ARTIFACT_ORIGINS widens this)"}


REQUIRED_DESCRIPTOR_KEYS = ("uri", "entry", "function", "artifact", "baseUrl")


def validate_descriptor(body: Any) -> dict[str, Any]:
    """A deployment descriptor the runtime can act on; anything else is a 400 in the runtime's shape."""
    if not isinstance(body, dict):
        raise WireError(400, BAD_REQUEST)
    missing = [key for key in REQUIRED_DESCRIPTOR_KEYS if key not in body]
    if missing:
        raise WireError(500, runtime_error("KeyError", repr(missing[0])))
    if not isinstance(body["artifact"], list) or not all(isinstance(a, str) for a in body["artifact"]):
        raise WireError(500, runtime_error("TypeError", "artifact must be a list of paths"))
    return body


def descriptor(node: Mapping[str, Any], base_url: str, uri: str) -> dict[str, Any]:
    """What the activator posts to ``/endpoints``: the deployment node plus ``baseUrl`` and ``uri``."""
    return {**node, "baseUrl": base_url if base_url.endswith("/") else base_url + "/", "uri": uri}


def activation_reply(entry: Mapping[str, Any], env_url: str, key: str) -> dict[str, Any]:
    """The 200 (or 503 while processing) body of ``POST /endpoints``."""
    return {"activated": http_date(entry["activated"]), "baseUrl": env_url, "id": entry["id"], "status": entry["status"],
            "uri": key, "url": entry["url"]}


def endpoint_summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An endpoint as ``GET /endpoints`` lists it: the context entry without code references."""
    shown = {key: entry.get(key) for key in ("checksum", "function_name", "id", "is_processing",
                                             "status", "url")}
    shown["activated"] = http_date(entry["activated"])
    if shown["url"] is None:
        del shown["url"]
    return shown


def execution_url(reply: Mapping[str, Any], runtime_url: str) -> str:
    """Where the adapter posts executions: the reply's ``uri`` resolved against its ``baseUrl``."""
    base = reply.get("baseUrl") or runtime_url
    return f"{strip_slash(base)}/{reply['uri']}"


# -- execution ----------------------------------------------------------------------------------------
def parse_input(content_type: str | None, body: bytes) -> Any:
    """The payload's one argument, parsed the way the real runtime parses it.

    ``application/json`` exactly: malformed JSON is a 400. Any other type: the body is decoded as UTF-8
    and parsed as JSON anyway, and a failure is a 500 naming the decoder's error.
    JSON nested too deep is malformed JSON too (the real runtime's decoder raises ``RecursionError``).
    """
    media = (content_type or "").split(";")[0].strip().lower()
    try:
        return jsonbody.loads(body if media == "application/json" else body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WireError(500, runtime_error("UnicodeDecodeError", str(exc))) from None
    except BodyRefused as refusal:
        if media == "application/json":
            raise WireError(400, BAD_REQUEST) from None
        cause = refusal.__cause__
        raise WireError(500, runtime_error(type(cause).__name__ if cause else "RecursionError",
                                           str(cause) if cause else refusal.detail)) from None


def runtime_error(name: str, description: str) -> dict[str, Any]:
    """The runtime's 500 body for an exception: its class name and ``str()``."""
    return {"code": 500, "description": description, "name": name}


def exception_text(error: str | None, error_type: str | None) -> str:
    """``str(exc)`` back from the core's ``"Type: text"`` description of a failed execution."""
    text = error or ""
    prefix = f"{error_type}: "
    if error_type and text.startswith(prefix):
        return text[len(prefix):]
    return "" if text == error_type else text


def unknown_endpoint(key: str) -> KeyError:
    """The exception the real runtime raises for an unknown key (its ``str()`` keeps the quotes)."""
    return KeyError(f"Could not find endpoint {key} in python runtime.")


def flask_json(body: Any) -> str:
    """JSON the way the real runtime's ``jsonify`` writes it: compact, keys sorted, a final newline."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False) + "\n"


def werkzeug_json(body: Mapping[str, Any]) -> str:
    """The real runtime's HTTP error bodies (400, 404, 405): key order kept, spaces after separators."""
    return json.dumps(dict(body))


def render(body: Any) -> str:
    """The runtime's text for a reply body: werkzeug's shape for its HTTP errors, jsonify's otherwise."""
    if isinstance(body, Mapping) and body.get("code") in (400, 404, 405, 413, 415):
        return werkzeug_json(body)
    return flask_json(body)


def result_body(value: Any) -> str:
    """``{"result": value}``; raises TypeError/ValueError for a value JSON cannot carry (NaN included)."""
    return flask_json({"result": value})


# -- activator side -----------------------------------------------------------------------------------
def unwrap_result(text: str) -> Any:
    """The adapter's reading of a runtime reply: ``result`` if present, else the JSON, else the text."""
    try:
        parsed = jsonbody.loads(text)
    except ValueError:  # not JSON, or nested deeper than a reply can be read: the text as it is
        return text
    if isinstance(parsed, dict) and "result" in parsed:
        return parsed["result"]
    return parsed


def activator_error(status: int, title: str, detail: str, instance: str, now: datetime | None = None) -> dict[str, Any]:
    """The activator's error body (ActivatorExceptionHandler's fields)."""
    reasons = {400: "Bad Request", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}
    moment = now or datetime.now(timezone.utc)
    return {"Title": title, "Status": f"{status} {reasons.get(status, '')}".strip(), "Detail": detail,
            "Instance": instance, "Time": moment.strftime("%a %b %d %H:%M:%S %Z %Y")}


def adapter_status(runtime_status: int) -> tuple[int, str]:
    """How the adapter maps a runtime error onto the activator's answer."""
    return (400, "Adapter Client Error") if 400 <= runtime_status < 500 else (500, "Adapter Server Error")


def validate_registration(body: Any) -> str | None:
    """Why a registration is refused (the adapter's status text), or None when it is acceptable."""
    if not isinstance(body, dict) or not body.get("engine"):
        return "Not registered: Runtime failed to specify engine"
    if not body.get("url"):
        return "Not registered: Runtime failed to specify its url"
    return None
