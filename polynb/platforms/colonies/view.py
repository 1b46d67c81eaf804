"""The live widget of one submission: state, executor, retries, output, errors and streamed logs."""
from __future__ import annotations

import html
import json

import ipywidgets

from ...widgets.display import with_text
from . import wire
from .submit import Submission

_COLOURS = {wire.WAITING: "#888", wire.RUNNING: "#1f6feb", wire.SUCCESS: "#1a7f37", wire.FAILED: "#cf222e",
            wire.CANCELLED: "#9a6700"}


class SubmissionView(ipywidgets.HTML):
    """Re-rendered whenever the submission's follower sees a change; its text form is a small table."""

    _text = "Colonies submission"

    def update(self, submission: Submission) -> None:
        self._text = text(submission)
        self.value = render(submission)

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return with_text(super()._repr_mimebundle_(**kwargs), self._text)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self._text)


def text(submission: Submission) -> str:
    """The widget as text for terminals and stored notebooks: a title line, then one line per process."""
    lines = [f"Colonies {_title(submission)}"]
    for pid, process in submission.processes.items():
        state = wire.STATE_NAMES.get(process["state"], process["state"])
        executor_id = process.get("assignedexecutorid") or ""
        executor = submission.executor_names.get(executor_id, executor_id[:12])
        line = f"  {_node(process)} {pid[:12]} {state}" + (f" on {executor}" if executor else "")
        if process.get("out"):
            line += f" output {json.dumps(process['out'], default=repr)}"
        if process.get("errors"):
            line += f" errors: {'; '.join(process['errors'])}"
        lines.append(line)
    return "\n".join(lines)


def _title(submission: Submission) -> str:
    return "workflow " + submission.graph["processgraphid"][:12] if submission.graph else "process"


def _node(process: dict) -> str:
    return process["spec"].get("nodename") or process["spec"].get("funcname", "")


def render(submission: Submission) -> str:
    rows = []
    for pid, process in submission.processes.items():
        state = process["state"]
        executor_id = process.get("assignedexecutorid") or ""
        executor = submission.executor_names.get(executor_id, executor_id[:12])
        logs = "".join(entry["message"] for entry in submission.logs.get(pid, []))
        rows.append(
            "<tr>"
            f"<td>{html.escape(_node(process))}</td>"
            f"<td><code>{pid[:12]}</code></td>"
            f"<td style='color:{_COLOURS.get(state, '#000')}'><b>{wire.STATE_NAMES.get(state, state)}</b></td>"
            f"<td><code>{html.escape(executor) or '—'}</code></td>"
            f"<td>{process.get('retries', 0)}</td>"
            f"<td><code>{html.escape(json.dumps(process.get('out') or []))}</code></td>"
            f"<td style='color:#cf222e'>{html.escape('; '.join(process.get('errors') or []))}</td>"
            f"<td><pre style='margin:0;max-height:8em;overflow:auto'>{html.escape(logs[-2000:])}</pre></td>"
            "</tr>")
    return (f"<div class='polynb-colonies-submission'><b>Colonies {_title(submission)}</b>"
            "<table><tr><th>node</th><th>process</th><th>state</th><th>executor</th><th>retries</th>"
            "<th>output</th><th>errors</th><th>logs</th></tr>" + "".join(rows) + "</table></div>")
