"""jupyter-server extension: a REST API over the journals of the running kernels' notebooks.

The JupyterLab panel polls it. It reads the SQLite journals directly (WAL lets it read while kernels
write) and never talks to a kernel, so a busy kernel never stalls the panel; its one write, a cancel
request, also goes through the journal. Every handler is authenticated like the rest of jupyter-server.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from . import jsonvalue
from .config import ConfigError
from .journal import FILENAME, OPEN_STATUSES, Journal, JournalError, Record, default_directory
from .metrics import JournalReader, JournalSource, exposition

DEFAULT_LIMIT = 50
MAX_LIMIT = 5000
NOTEBOOK, FOLDER = "notebook", "folder"  # ?scope=: this notebook's executions, or the whole journal folder's
CANCEL_REASON = "cancelled from JupyterLab"
SUMMARY_FIELDS = ("id", "seq", "platform", "payload", "version", "status", "error", "received_at",
                  "started_at", "finished_at")


def summary(record: Record) -> dict[str, Any]:
    """What the panel's list shows of one execution."""
    return {**{name: getattr(record, name) for name in SUMMARY_FIELDS}, "duration": record.duration}


class JournalIndex:
    """Finds the journal of each running notebook session, as the kernels' own config would."""

    def __init__(self, serverapp) -> None:
        self.serverapp = serverapp
        self.root = Path(serverapp.root_dir).resolve()

    async def sessions(self) -> list[dict[str, Any]]:
        """Each session's notebook and journal folder (``core.journal_dir`` honoured, as its kernel does); a
        session whose ``polynb.yaml`` cannot be read says so in ``error``."""
        found = []
        for session in await self.serverapp.session_manager.list_sessions():
            notebook = (self.root / session["path"]).resolve()
            try:
                directory, error = default_directory(notebook.parent), None
            except ConfigError as exc:
                directory, error = notebook.parent / ".polynb", f"cannot find the journal: {exc}"
            found.append({"notebook": session["path"], "absolute": str(notebook),
                          "kernel": (session.get("kernel") or {}).get("id"), "directory": directory,
                          "exists": error is None and (directory / FILENAME).is_file(), "error": error})
        return found


class _Base(APIHandler):
    @property
    def index(self) -> JournalIndex:
        return self.settings["polynb_index"]

    def reply(self, body: dict[str, Any]) -> None:
        """JSON through :mod:`jsonvalue`, so bytes and objects JSON cannot hold never turn a record into a 500."""
        self.set_header("Content-Type", "application/json")
        self.finish(jsonvalue.dumps(body))

    async def find(self, record_id: str) -> tuple[dict[str, Any], Record]:
        """The running notebook whose journal has the record, and the record; 404 when none has it."""
        seen = set()
        for session in await self.index.sessions():
            if not session["exists"] or session["directory"] in seen:
                continue
            seen.add(session["directory"])
            try:
                journal = Journal(session["directory"], readonly=True)
                try:
                    record = journal.get(record_id)
                finally:
                    journal.close_db()
            except sqlite3.DatabaseError:  # an unreadable journal holds nothing we can show; the others may
                continue
            if record is not None:
                return session, record
        raise tornado.web.HTTPError(404, f"no execution {record_id} in the journals of the running notebooks")


class JournalsHandler(_Base):
    """GET /polynb/api/journals: every running notebook with its platforms, payloads and latest executions.

    A journal that cannot be read (corrupt, or a kernel is still creating it) is reported in its own entry's
    ``error``; the other notebooks are served all the same.
    """

    @tornado.web.authenticated
    async def get(self) -> None:
        limit = self.limit()
        filters = {key: self.get_argument(key, None) or None for key in ("platform", "payload", "status")}
        folder = self.scope() == FOLDER
        journals = []
        for session in await self.index.sessions():
            entry = {"notebook": session["notebook"], "kernel": session["kernel"], "error": session["error"],
                     "journal": str(session["directory"]), "platforms": [], "payloads": [], "executions": []}
            if session["exists"]:
                try:
                    entry.update(_read_entry(session, limit, filters, folder))
                except sqlite3.DatabaseError as exc:
                    if not _still_being_created(exc):
                        entry["error"] = f"cannot read the journal {session['directory'] / FILENAME}: {exc}"
            journals.append(entry)
        self.reply({"journals": journals})

    def scope(self) -> str:
        """``?scope=notebook`` (the default: the notebook's own executions, across its kernel restarts, as
        ``polynb.records()`` counts them) or ``?scope=folder`` (every notebook writing the same journal)."""
        scope = self.get_argument("scope", NOTEBOOK)
        if scope not in (NOTEBOOK, FOLDER):
            raise tornado.web.HTTPError(400, f"scope must be {NOTEBOOK!r} or {FOLDER!r}, not {scope!r}")
        return scope

    def limit(self) -> int:
        """``?limit=N``: a whole number from 1 to MAX_LIMIT, else 400."""
        text = self.get_argument("limit", str(DEFAULT_LIMIT))
        if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            raise tornado.web.HTTPError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}, not {text!r}")
        return int(text)


def _read_entry(session: dict[str, Any], limit: int, filters: dict[str, Any], folder: bool) -> dict[str, Any]:
    """A notebook's platforms, payloads (each counting its own version's executions in the scope) and latest
    executions in the scope."""
    journal = Journal(session["directory"], readonly=True)
    try:
        scope = {} if folder else {"notebook": session["absolute"]}
        return {
            "platforms": [vars(row) for row in journal.platforms()],
            "payloads": [{**vars(row), "executions": sum(journal.counts(row.platform, row.name, version=row.version,
                                                                        **scope).values())}
                         for row in journal.payloads(notebook=session["absolute"])],
            "executions": [summary(r) for r in journal.records(limit=limit, **scope, **filters)],
        }
    finally:
        journal.close_db()


def _still_being_created(error: sqlite3.DatabaseError) -> bool:
    """A kernel has made the file but not yet its tables: an empty journal, not an error."""
    return isinstance(error, sqlite3.OperationalError) and "no such table" in str(error)


class ExecutionHandler(_Base):
    """GET /polynb/api/executions/ID: one execution in full, from whichever running notebook's journal has it."""

    @tornado.web.authenticated
    async def get(self, record_id: str) -> None:
        session, record = await self.find(record_id)
        self.reply({**record.as_dict(), "duration": record.duration, "notebook": session["notebook"]})


class CancelHandler(_Base):
    """POST /polynb/api/executions/ID/cancel: ask the kernel that runs an open execution to cancel it.

    The request goes through the record's journal, which that kernel watches (it stops the execution within
    about a second), so no kernel is contacted here. Allowed to whoever may interrupt kernels: the ``write``
    action on Jupyter's ``kernels`` resource, as ``POST /api/kernels/ID/interrupt`` asks.
    """

    auth_resource = "kernels"

    @tornado.web.authenticated
    @authorized
    async def post(self, record_id: str) -> None:
        session, found = await self.find(record_id)
        record: Record | None = found
        if found.status in OPEN_STATUSES:
            # a write waits for SQLite's lock when kernels are busy writing: off the server's loop
            record = await IOLoop.current().run_in_executor(None, _request_cancel, session["directory"], found.id)
        if record is None or record.status not in OPEN_STATUSES:
            ended = f" (it ended {record.status})" if record is not None else ""
            raise tornado.web.HTTPError(404, f"no open execution {record_id}{ended}")
        self.reply({**summary(record), "notebook": session["notebook"]})


def _request_cancel(directory: Path, record_id: str) -> Record | None:
    """The cancel request, written by a journal writer of its own (the reads above open journals read-only)."""
    try:
        journal = Journal(directory)
    except (sqlite3.DatabaseError, OSError, JournalError) as exc:
        raise tornado.web.HTTPError(500, f"cannot write the cancel request to {directory / FILENAME}: {exc}") from exc
    try:
        return journal.request_cancel(record_id, CANCEL_REASON)
    finally:
        journal.close_db()


class MetricsHandler(_Base):
    """GET /polynb/api/metrics: the executions of every running notebook as Prometheus metrics, labelled
    ``notebook`` as the other routes name it, each notebook's records across its kernels' restarts.

    A scrape reads journals (a pass over one the first time, only its newest records after), so it runs on a
    worker thread and the server's loop keeps answering the panel and the kernels meanwhile.
    """

    @tornado.web.authenticated
    async def get(self) -> None:
        sources = {session["notebook"]: JournalSource(session["directory"], session["notebook"],
                                                      {"notebook": session["absolute"]})
                   for session in await self.index.sessions() if session["error"] is None}
        body, content_type = await IOLoop.current().run_in_executor(
            None, exposition, list(sources.values()), self.settings["polynb_metrics"],
            self.request.headers.get("Accept"))
        self.finish(body, set_content_type=content_type)


def _load_jupyter_server_extension(serverapp) -> None:
    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], "polynb", "api")
    web_app.settings["polynb_index"] = JournalIndex(serverapp)
    web_app.settings["polynb_metrics"] = JournalReader()
    web_app.add_handlers(".*$", [
        (url_path_join(base, "journals"), JournalsHandler),
        (url_path_join(base, "executions", r"(\w+)"), ExecutionHandler),
        (url_path_join(base, "executions", r"([0-9a-f]+)", "cancel"), CancelHandler),
        (url_path_join(base, "metrics"), MetricsHandler),
    ])
