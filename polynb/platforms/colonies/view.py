"""The live widget of one submission: state, executor, retries, output, errors and streamed logs."""
from __future__ import annotations

import html
import json

import ipywidgets

from ...journal import FAILED, SUCCEEDED, Record
from ...widgets.display import with_text
from . import wire
from .executor import ProcessReassigned
from .submit import FINISHED, Submission

RECENT_RECORDS = 200  # a followed process's record is among its function's newest records
REASSIGNED = ProcessReassigned.__name__  # a failed record of this name leaves the process to another executor

_COLOURS = {wire.WAITING: "var(--jp-ui-font-color2)", wire.RUNNING: "var(--jp-brand-color1)",
            wire.SUCCESS: "var(--jp-success-color1)", wire.FAILED: "var(--jp-error-color1)",
            wire.CANCELLED: "var(--jp-warn-color1)"}  # JupyterLab's theme: readable in light and dark


class SubmissionView(ipywidgets.HTML):
    """Re-rendered whenever the submission's follower sees a change; its text form is a small table."""

    _text = "Colonies submission"
    _submission: Submission | None = None

    def update(self, submission: Submission) -> None:
        """The submission's listener: called by its follower whenever a fetch changed something."""
        self._submission = submission
        self.refresh()

    def refresh(self) -> None:
        """Render what is known now; the widgets' updater also calls this after journal changes.

        The follower stops without a last call when a concurrent ``result()`` saw the end first, so the
        final state also comes from the journal: the record this folder's executor closed for the process.
        """
        if self._submission is not None:
            processes = known_processes(self._submission)
            self._text = text(self._submission, processes)
            self.value = render(self._submission, processes)

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return with_text(super()._repr_mimebundle_(**kwargs), self._text)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self._text)


def known_processes(submission: Submission) -> dict[str, dict]:
    """The submission's processes, each unfinished one overlaid with the outcome its journal record holds."""
    open_pids = {pid for pid, p in submission.processes.items() if p["state"] not in FINISHED}
    recorded = _records(submission, open_pids)
    return {pid: _with_outcome(process, recorded[pid]) if pid in recorded else process
            for pid, process in submission.processes.items()}


def _records(submission: Submission, pids: set[str]) -> dict[str, Record]:
    """The newest finished journal record of each of ``pids`` (only this folder's executors write them)."""
    journal = getattr(getattr(submission.binding, "service", None), "journal", None)
    if journal is None or not pids:
        return {}
    found: dict[str, Record] = {}
    for funcname in {submission.processes[pid]["spec"].get("funcname", "") for pid in pids}:
        for record in journal.records(platform="colonies", payload=funcname, limit=RECENT_RECORDS):
            pid = record.meta.get("processid")
            if (pid in pids and pid not in found and _delivered(record)
                    and record.meta.get("retries") == submission.processes[pid].get("retries")):
                found[pid] = record  # of this run of the process: a retry would have counted up
    return found


def _delivered(record: Record) -> bool:
    """A finished record whose outcome the executor sent to the server (not one it left for a retry)."""
    if record.status == SUCCEEDED:
        return True
    return record.status == FAILED and not (record.error or "").startswith(REASSIGNED)


def _with_outcome(process: dict, record: Record) -> dict:
    if record.status == SUCCEEDED:
        try:
            return {**process, "state": wire.SUCCESS, "out": wire.encode_output(record.output)}
        except TypeError:  # the executor failed such a process instead; the follower will show that
            return process
    return {**process, "state": wire.FAILED, "errors": [(record.error or "failed").splitlines()[0]]}


def text(submission: Submission, processes: dict[str, dict] | None = None) -> str:
    """The widget as text for terminals and stored notebooks: a title line, then one line per process."""
    lines = [f"Colonies {_title(submission)}"]
    for pid, process in (processes or submission.processes).items():
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


def render(submission: Submission, processes: dict[str, dict] | None = None) -> str:
    rows = []
    for pid, process in (processes or submission.processes).items():
        state = process["state"]
        executor_id = process.get("assignedexecutorid") or ""
        executor = submission.executor_names.get(executor_id, executor_id[:12])
        logs = "".join(entry["message"] for entry in submission.logs.get(pid, []))
        rows.append(
            "<tr>"
            f"<td>{html.escape(_node(process))}</td>"
            f"<td><code>{pid[:12]}</code></td>"
            f"<td style='color:{_COLOURS.get(state, 'inherit')}'><b>{wire.STATE_NAMES.get(state, state)}</b></td>"
            f"<td><code>{html.escape(executor) or '—'}</code></td>"
            f"<td>{process.get('retries', 0)}</td>"
            f"<td><code>{html.escape(json.dumps(process.get('out') or []))}</code></td>"
            f"<td style='color:var(--jp-error-color1)'>{html.escape('; '.join(process.get('errors') or []))}</td>"
            f"<td><pre style='margin:0;max-height:8em;overflow:auto'>{html.escape(logs[-2000:])}</pre></td>"
            "</tr>")
    return (f"<div class='polynb-colonies-submission'><b>Colonies {_title(submission)}</b>"
            "<table><tr><th>node</th><th>process</th><th>state</th><th>executor</th><th>retries</th>"
            "<th>output</th><th>errors</th><th>logs</th></tr>" + "".join(rows) + "</table></div>")
