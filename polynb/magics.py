"""``%polynb`` and what every platform's cell magic shares: argument groups and cell registration.

Magics stay thin: parse, build a :class:`Payload`, hand it to the service, show the status widget.
Errors a user can fix (bad cell, bad option, unreachable platform) are one clear line, not a traceback.
"""
from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

import polynb

from . import jsonbody
from .config import ConfigError
from .jsonbody import BodyRefused
from .payload import Payload, PayloadError
from .runner import call_payload, credit_running_cell
from .tables import format_table, journal_rows
from .tracebacks import user_frames


def without_comment(line: str) -> str:
    """The line up to a trailing ``# comment``, as a reader of a copied snippet expects.

    A ``#`` starts a comment only where a new word starts and outside quotes and JSON brackets, so
    ``{"tag": "#1"}`` and ``--title 'a # b'`` keep theirs.
    """
    quote, depth = None, 0
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote and line[index - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "#" and depth == 0 and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line


def parse_options(magic: Callable, line: str) -> Any:
    """``parse_argstring`` of the line without its trailing comment: what every polynb magic parses with."""
    return parse_argstring(magic, without_comment(line))


_JSON_KINDS: dict[type, str] = {list: "list", dict: "object"}


def json_argument(magic: str, what: str, text: str | None, kind: type = object, default: Any = None,
                  evaluate: Callable[[str], Any] | None = None) -> Any:
    """A magic's JSON argument, read alike by every platform: ``default`` when it is empty, a JSON value of
    ``kind`` (``true``/``false`` included), else — with ``evaluate`` — a Python expression; a UsageError
    naming the magic and ``what`` otherwise."""
    text = (text or "").strip()
    if not text:
        return default
    try:
        value = jsonbody.loads(text)
    except BodyRefused as refusal:
        if evaluate is None:
            raise UsageError(f"{magic}: {what} is not JSON: {refusal.__cause__ or refusal}") from None
        value = evaluate(text)
    if not isinstance(value, kind):
        raise UsageError(f"{magic}: {what} must be a JSON {_JSON_KINDS.get(kind, kind.__name__)}")
    return value


def timeout_argument(magic: Callable) -> Callable:
    """``--timeout S``: how long one execution of the payload may run before it is cancelled as timed out."""
    return argument("--timeout", type=float, default=None, metavar="S",
                    help="seconds one execution may run before it is cancelled and recorded as timed out "
                         "(default: core.timeout, POLYNB_TIMEOUT: no limit)")(magic)


def payload_arguments(magic: Callable) -> Callable:
    """The options every payload-registering cell magic shares, so they mean the same everywhere."""
    for decorate in (
        timeout_argument,
        argument("--isolated", action="store_true",
                 help="run the payload in a namespace of its own instead of the notebook's globals"),
        argument("--entry", default=None, help="the function the platform calls (default: the cell's only function)"),
    ):
        magic = decorate(magic)
    return magic


def cell_id(shell) -> str | None:
    """The id JupyterLab sends with the running cell, so the lab panel can jump to it."""
    kernel = getattr(shell, "kernel", None)
    try:
        return kernel.get_parent()["metadata"].get("cellId") if kernel is not None else None
    except (AttributeError, KeyError, TypeError):
        return None


def register_cell(shell, platform: str, name: str, cell: str, *, entry: str | None = None,
                  isolated: bool = False, options: Mapping[str, Any] | None = None, run: bool = True,
                  timeout: float | None = None) -> None:
    """Run the cell in the notebook, register it as a payload, and show its live status widget.

    ``run=False`` is for platforms whose cell is a script run per execution (a Vantiq query's code needs
    the query's presetValues): it is compiled and registered, not run now. ``timeout`` (``--timeout``) is kept
    in the payload's options, where the service reads it.
    """
    from .widgets import CellStatus

    if timeout is not None and timeout <= 0:
        raise UsageError(f"polynb: --timeout must be a number of seconds above 0, not {timeout:g}")
    options = {**(options or {}), **({"timeout": timeout} if timeout is not None else {})}
    source = shell.transform_cell(cell)
    if run and not shell.run_cell(source, store_history=False).success:
        raise UsageError(f"polynb: the cell failed, so {name!r} was not registered on {platform}")
    if run:
        credit_running_cell(shell, source)
    payload = Payload(platform, name, source, entry, options, isolated, cell_id(shell))
    try:
        registration = polynb.get_service().register(payload)
    except (PayloadError, ConfigError, KeyError) as exc:
        raise UsageError(f"polynb: {exc}") from None
    except Exception as exc:  # the platform refused or could not be reached: an error widget and one line
        reason = f"{type(exc).__name__}: {exc}"
        refused = CellStatus(polynb.get_journal(), platform, name, refused=reason)
        polynb.show(("status", payload.cell_id or id(refused)), refused)
        raise UsageError(f"polynb: could not register {name!r} on {platform}: {reason}") from None
    # One widget per display, following its own version: a re-run cell replaces its own widget (its output
    # was cleared), never another cell's; without a cell id (nbclient, IPython) every widget stays.
    status = CellStatus(polynb.get_journal(), platform, name, registration.version.version)
    polynb.show(("status", payload.cell_id or id(status)), status)


@magics_class
class PolynbMagics(Magics):
    """``%polynb``: the dashboard, the journal, replay, configuration and platform control."""

    shell: InteractiveShell  # IPython makes magics with the shell they are registered with

    @line_magic
    def polynb(self, line: str = ""):
        """%polynb [journal|replay ID|cancel ID|config|status|start PLATFORM|stop PLATFORM] -- no argument: the dashboard"""
        words = shlex.split(line)
        command, rest = (words[0], " ".join(shlex.quote(w) for w in words[1:])) if words else ("dashboard", "")
        handler = getattr(self, f"_do_{command}", None)
        if handler is None:
            raise UsageError(f"%polynb: unknown command {command!r}; "
                             "use journal, replay, cancel, config, status, start or stop (or nothing for the dashboard)")
        return handler(rest)

    def _do_dashboard(self, rest: str):
        from .widgets import Dashboard

        def replay_here(record_id: str) -> str:
            return polynb.get_service().replay(record_id).record_id

        polynb.show(("dashboard", cell_id(self.shell)), Dashboard(polynb.get_journal(), replay=replay_here,
                                                                 cancel=lambda rid: polynb.cancel(rid)))

    @magic_arguments()
    @argument("--platform", default=None)
    @argument("--payload", default=None)
    @argument("--status", default=None)
    @argument("--limit", type=int, default=20)
    def _do_journal(self, rest: str):
        """%polynb journal [--platform P] [--payload N] [--status S] [--limit N]"""
        args = parse_options(self._do_journal, rest)
        records = polynb.records(platform=args.platform, payload=args.payload, status=args.status, limit=args.limit)
        print(format_table(journal_rows(records)))

    @magic_arguments()
    @argument("record_id", help="an execution id, or a unique prefix of it")
    @argument("--version", type=int, default=None, help="replay against this version of the payload (default: current)")
    @argument("--debug", action="store_true", help="if it fails, stop in the debugger at the failing frame")
    def _do_replay(self, rest: str):
        """%polynb replay ID [--version N] [--debug]: run a recorded input here, show the result; with --debug a
        failure opens the debugger where it was raised, as %debug does after a cell."""
        args = parse_options(self._do_replay, rest)
        try:
            outcome = polynb.get_service().replay(args.record_id, version=args.version)
        except KeyError as exc:
            raise UsageError(f"polynb: {exc.args[0]}") from None
        record = polynb.get_journal().get(outcome.record_id)
        if record.stdout:
            print(record.stdout, end="")
        if record.stderr:
            print(record.stderr, end="", file=sys.stderr)
        for entry in record.logs:
            print(f"[{entry['level']}] {entry['logger']}: {entry['message']}")
        if outcome.ok:
            return outcome.value
        print(outcome.traceback, file=sys.stderr)
        if args.debug and outcome.exception is not None:
            self._post_mortem(outcome.exception)
        raise UsageError(f"polynb: replay {outcome.record_id[:8]} of {args.record_id} failed: {outcome.error}")

    def _post_mortem(self, exc: BaseException) -> None:
        """IPython's debugger on the replay's failure, from the payload's first frame down to where it raised."""
        sys.last_type, sys.last_value = type(exc), exc
        sys.last_traceback = user_frames(exc, call_payload.__code__) or exc.__traceback__
        self.shell.InteractiveTB.tb = None  # a cell's earlier traceback must not be the one debugged
        self.shell.debugger(force=True)

    @magic_arguments()
    @argument("record_id", help="an execution id, or a unique prefix of it")
    def _do_cancel(self, rest: str):
        """%polynb cancel ID: stop an execution in flight; its record ends cancelled and its platform gets an error."""
        args = parse_options(self._do_cancel, rest)
        try:
            record_id = polynb.cancel(args.record_id)
        except KeyError as exc:
            raise UsageError(f"polynb: {exc.args[0]}") from None
        print(f"cancelling {record_id}")

    def _do_config(self, rest: str):
        """%polynb config: the effective settings, secrets masked."""
        settings = polynb.get_service().settings
        print(f"# from {settings.path or 'environment and defaults (no polynb.yaml)'}")
        print(json.dumps(settings.describe(), indent=2, default=str))

    def _do_status(self, rest: str):
        """%polynb status: what this kernel serves (payloads with their signatures, platforms), as JSON."""
        print(json.dumps(json.loads(polynb.serving()), indent=2))

    @magic_arguments()
    @argument("platform")
    def _do_start(self, rest: str):
        """%polynb start PLATFORM: serve what the platform pushes, with no payload of this notebook's."""
        args = parse_options(self._do_start, rest)
        service = polynb.get_service()
        try:
            binding = service.call(service.binding(args.platform), label=f"starting {args.platform}")
        except KeyError as exc:
            raise UsageError(f"polynb: {exc.args[0]}") from None
        status = binding.status
        print(f"{args.platform}: {status.state}" + (f" at {status.address}" if status.address else ""))

    @magic_arguments()
    @argument("platform")
    def _do_stop(self, rest: str):
        """%polynb stop PLATFORM"""
        args = parse_options(self._do_stop, rest)
        service = polynb.get_service()
        stopped = service.call(service.stop_binding(args.platform), label=f"stopping {args.platform}")
        print(f"{args.platform}: {'stopped' if stopped else 'was not running'}")
