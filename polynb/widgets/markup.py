"""Small HTML and text formatting shared by the views (escaping, data attributes, times, durations)."""
from __future__ import annotations

import html
import json
import time
from typing import Any

from ..journal import CANCELLED, FAILED, GONE, INTERRUPTED, RECEIVED, RUNNING, STOPPED, SUCCEEDED, TIMED_OUT

ERROR_CHARS = 160

# An execution's status or a platform's state: an icon and a tone, always with the word (never colour alone).
# What ended without a result wears the failure's tone; its icon tells how it ended (crashed, stopped, too slow).
LOOKS = {SUCCEEDED: ("✓", "ok"), "ready": ("✓", "ok"), FAILED: ("✗", "bad"), "error": ("✗", "bad"),
         INTERRUPTED: ("■", "bad"), CANCELLED: ("⊗", "bad"), TIMED_OUT: ("◷", "bad"), RUNNING: ("▶", "busy"),
         "starting": ("▶", "busy"), RECEIVED: ("○", "busy"), STOPPED: ("■", "idle"), GONE: ("⊘", "idle")}

# The tones in JupyterLab's theme variables only, so the light and dark themes both read well.
TONE_STYLE = """
.polynb-badge { white-space: nowrap; font-weight: 600; }
.polynb-tone-ok { color: var(--jp-success-color1); }
.polynb-tone-bad { color: var(--jp-error-color1); }
.polynb-tone-busy { color: var(--jp-brand-color1); }
.polynb-tone-warn { color: var(--jp-warn-color1); }
.polynb-tone-idle { color: var(--jp-ui-font-color2); }
"""


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


def badge(word: str, title: str = "", text: str | None = None, tone: str | None = None) -> str:
    """A status or state as icon, tone and word; ``title`` (a tooltip) says more, such as an error's reason;
    ``text`` and ``tone`` replace the word shown and its tone (``3 failed``, dimmed when there are none)."""
    icon, own_tone = LOOKS.get(word, ("○", "idle"))
    tip = f' title="{escape(title)}"' if title else ""
    return (f'<span class="polynb-badge polynb-tone-{tone or own_tone}" data-word="{escape(word)}"{tip}>'
            f'<span aria-hidden="true">{icon}</span> {escape(word if text is None else text)}</span>')


def version_label(version: int | None) -> str:
    """``v2``; nothing at all when the version is not known (never ``v?`` or ``None``)."""
    return f"v{version}" if version is not None else ""
