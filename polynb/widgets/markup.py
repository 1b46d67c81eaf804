"""Small HTML and text formatting shared by the views (escaping, data attributes, times, durations)."""
from __future__ import annotations

import html
import json
import time
from typing import Any

ERROR_CHARS = 160


def escape(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def data_attributes(attrs: dict[str, Any]) -> str:
    return "".join(f' data-{name}="{escape(value)}"' for name, value in attrs.items())


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= ERROR_CHARS else line[:ERROR_CHARS - 1] + "…"


def clock_time(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def timestamp(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) + f".{int(epoch % 1 * 1000):03d}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=repr)


def logs_text(logs: list) -> str:
    return "\n".join(f"{clock_time(entry.get('time') or 0)} {entry.get('level', '')} "
                     f"{entry.get('logger', '')}: {entry.get('message', '')}" for entry in logs)
