"""The live widget of one submission: state, executor, retries, output, errors and streamed logs."""
from __future__ import annotations

import html
import json

import ipywidgets

from . import wire
from .submit import Submission

_COLOURS = {wire.WAITING: "#888", wire.RUNNING: "#1f6feb", wire.SUCCESS: "#1a7f37", wire.FAILED: "#cf222e",
            wire.CANCELLED: "#9a6700"}


class SubmissionView(ipywidgets.HTML):
    """Re-rendered whenever the submission's follower sees a change."""

    def update(self, submission: Submission) -> None:
        self.value = render(submission)


def render(submission: Submission) -> str:
    rows = []
    for pid, process in submission.processes.items():
        state = process["state"]
        executor_id = process.get("assignedexecutorid") or ""
        executor = submission.executor_names.get(executor_id, executor_id[:12])
        logs = "".join(entry["message"] for entry in submission.logs.get(pid, []))
        rows.append(
            "<tr>"
            f"<td>{html.escape(process['spec'].get('nodename') or process['spec'].get('funcname', ''))}</td>"
            f"<td><code>{pid[:12]}</code></td>"
            f"<td style='color:{_COLOURS.get(state, '#000')}'><b>{wire.STATE_NAMES.get(state, state)}</b></td>"
            f"<td><code>{html.escape(executor) or '—'}</code></td>"
            f"<td>{process.get('retries', 0)}</td>"
            f"<td><code>{html.escape(json.dumps(process.get('out') or []))}</code></td>"
            f"<td style='color:#cf222e'>{html.escape('; '.join(process.get('errors') or []))}</td>"
            f"<td><pre style='margin:0;max-height:8em;overflow:auto'>{html.escape(logs[-2000:])}</pre></td>"
            "</tr>")
    title = "workflow " + submission.graph["processgraphid"][:12] if submission.graph else "process"
    return (f"<div class='polynb-colonies-submission'><b>Colonies {title}</b>"
            "<table><tr><th>node</th><th>process</th><th>state</th><th>executor</th><th>retries</th>"
            "<th>output</th><th>errors</th><th>logs</th></tr>" + "".join(rows) + "</table></div>")
