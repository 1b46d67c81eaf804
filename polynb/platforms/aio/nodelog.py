"""KAI's log channel: a node's log is JSON lines on its process's stdout (the runner's logger, with the request id
bound), which the cluster collects. What a handler prints and logs goes there too, line by line as it is written,
besides its journal record."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TextIO


def handler_lines(process: str, request_id: str, stream: TextIO | None = None) -> Callable[[list[str]], None]:
    """What the service calls with a running handler's new lines: one JSON log line each, on the real stdout
    (``sys.__stdout__``: in a kernel ``sys.stdout`` is the notebook's)."""
    def write(lines: list[str]) -> None:
        out = stream or sys.__stdout__
        if out is None:
            return
        for line in lines:
            out.write(json.dumps({"level": "INFO", "ts": time.time(), "logger": process,
                                  "msg": line.rstrip("\r\n"), "request_id": request_id}) + "\n")
        out.flush()
    return write
