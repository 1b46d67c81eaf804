"""The connector's settings: the real connector's ``server.config`` file, then polynb's own settings.

A drop-in must read the file a Vantiq deployment already has (``serverConfig/server.config`` or
``server.config`` in the working directory, Java-properties syntax). Keys the file holds win, as they do
over ``CONNECTOR_AUTH_TOKEN`` in the real connector; polynb.yaml and ``VANTIQ_*`` variables fill the rest.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...config import ConfigError

#: server.config key -> polynb setting key
FILE_KEYS = {
    "targetServer": "target_server", "authToken": "auth_token", "sources": "sources", "sendPings": "send_pings",
    "failOnConnectionError": "fail_on_connection_error", "reconnectSecret": "reconnect_secret",
    "connectKWArgs": "connect_kwargs", "tcpProbePort": "tcp_probe_port",
}
DEFAULT_SOURCE = "polynb"


def find_server_config(directory: Path) -> Path | None:
    """Where the real connector looks, in its order."""
    for candidate in (directory / "serverConfig" / "server.config", directory / "server.config"):
        if candidate.is_file():
            return candidate
    return None


def parse_properties(text: str) -> dict[str, str]:
    """Java ``.properties``: ``key=value``, ``key: value`` or ``key value``; ``#``/``!`` comments; ``\\`` joins lines."""
    entries: dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if _continues(line):
            logical += line[:-1]
            continue
        logical += line
        key, value = _split_entry(logical)
        entries[_unescape(key)] = _unescape(value)
        logical = ""
    if logical:
        key, value = _split_entry(logical)
        entries[_unescape(key)] = _unescape(value)
    return entries


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _split_entry(line: str) -> tuple[str, str]:
    index, escaped = 0, False
    while index < len(line):
        char = line[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "=: \t":
            break
        index += 1
    key, rest = line[:index], line[index:].lstrip(" \t")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t")
    return key, rest


def _unescape(text: str) -> str:
    out, index = [], 0
    specials = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            nxt = text[index + 1]
            if nxt == "u" and index + 5 < len(text):
                out.append(chr(int(text[index + 2:index + 6], 16)))
                index += 6
                continue
            out.append(specials.get(nxt, nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


@dataclass(frozen=True)
class ConnectorConfig:
    """What the connector runs with, whatever the settings came from."""

    target_server: str | None
    auth_token: str | None
    sources: tuple[str, ...]
    send_pings: bool
    fail_on_connection_error: bool
    reconnect_secret: str | None
    connect_kwargs: Mapping[str, Any]
    reply_timeout: float
    connect_wait: float
    tcp_probe_port: int
    origin: str

    def secret_for(self, source: str) -> str:
        """``<source>_<value>``, or ``<source>_<uuid1>``: made once per source by the caller and reused."""
        return f"{source}_{self.reconnect_secret or uuid.uuid1()}"


def resolve(settings: Mapping[str, Any], directory: Path) -> ConnectorConfig:
    """Merge server.config (when the directory has one) over polynb's settings section."""
    path = find_server_config(directory)
    values = dict(settings)
    if path is not None:
        for file_key, value in parse_properties(path.read_text()).items():
            if file_key in FILE_KEYS:
                values[FILE_KEYS[file_key]] = value
    sources = tuple(name for name in str(values.get("sources") or DEFAULT_SOURCE).replace(" ", "").split(",") if name)
    raw_kwargs = values.get("connect_kwargs") or {}
    if isinstance(raw_kwargs, str):
        try:
            raw_kwargs = json.loads(raw_kwargs)
        except ValueError as exc:
            raise ConfigError(f"connectKWArgs is not valid JSON: {exc}") from None
    if not isinstance(raw_kwargs, dict):
        raise ConfigError("connectKWArgs must be a JSON object of websocket connect arguments")
    return ConnectorConfig(
        target_server=values.get("target_server") or None,
        auth_token=values.get("auth_token"),
        sources=sources or (DEFAULT_SOURCE,),
        # the real connector turns pings on whenever the key is present, "false" included
        send_pings=_present(values.get("send_pings")),
        fail_on_connection_error=_present(values.get("fail_on_connection_error")),
        reconnect_secret=values.get("reconnect_secret") or None,
        connect_kwargs=raw_kwargs,
        reply_timeout=float(values.get("reply_timeout") or 30.0),
        connect_wait=float(values.get("connect_wait") or 10.0),
        tcp_probe_port=int(values.get("tcp_probe_port") or 8000),
        origin=str(path) if path is not None else "polynb settings",
    )


def _present(value: Any) -> bool:
    return value is not None and value != "" and value is not False
