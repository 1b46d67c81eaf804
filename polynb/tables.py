"""Plain-text tables of journal records, shared by ``%polynb journal`` and ``polynb journal``."""
from __future__ import annotations

from datetime import datetime

JOURNAL_COLUMNS = ("seq", "id", "platform", "payload", "version", "status", "received", "duration", "error")


def journal_rows(records: list) -> list[dict]:
    return [{
        "seq": r.seq, "id": r.id[:8], "platform": r.platform, "payload": r.payload, "version": r.version,
        "status": r.status, "received": datetime.fromtimestamp(r.received_at).strftime("%H:%M:%S"),
        "duration": f"{r.duration * 1000:.0f} ms" if r.duration is not None else "",
        "error": (r.error or "").splitlines()[0][:60] if r.error else "",
    } for r in records]


def format_table(rows: list[dict], columns=JOURNAL_COLUMNS) -> str:
    """Plain-text table, shared by ``%polynb journal`` and ``polynb journal``."""
    if not rows:
        return "(no executions)"
    widths = {c: max(len(c), *(len(str(row[c])) for row in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(row[c]).ljust(widths[c]) for c in columns) for row in rows]
    return "\n".join(line.rstrip() for line in lines)
