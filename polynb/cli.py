"""The ``polynb`` command: ``up`` (local platforms), ``serve NOTEBOOK`` (headless worker), ``journal``, ``status``,
``cancel ID``."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, platforms
from .private import private_file

if TYPE_CHECKING:
    from .journal import Journal


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polynb", description="Notebook cells as live workers for execution platforms.")
    parser.add_argument("--version", action="version", version=f"polynb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run local stand-ins of platforms on 127.0.0.1 until SIGINT/SIGTERM")
    up.add_argument("platforms", nargs="*", metavar="PLATFORM",
                    help=f"platforms to start, of: {', '.join(_stand_ins()) or 'none installed'} (default: all)")
    up.add_argument("--json", action="store_true", help="print one JSON line once every platform is ready")
    up.add_argument("--env-file", type=Path, metavar="FILE",
                    help="once ready, write the environment (export lines) that points kernels at these stand-ins")
    up_options = [option for platform in platforms.available().values() for option in platform.up_options]
    for option in up_options:
        if option.kind == "switch":
            up.add_argument(option.flag, dest=option.env, action="store_true", default=None, help=option.help)
        else:
            up.add_argument(option.flag, dest=option.env, metavar="DIR" if option.kind == "path" else "VALUE",
                            help=option.help)

    serve = commands.add_parser("serve", help="execute a notebook headless and serve its payloads")
    serve.add_argument("notebook", type=Path)
    serve.add_argument("--kernel", default="python3", help="kernel name (default python3)")
    serve.add_argument("--cell-timeout", type=float, default=600.0)
    serve.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                       help="serve Prometheus metrics of the executions at http://BIND_HOST:PORT/metrics (0: a free port)")

    journal = commands.add_parser("journal", help="print the records of a journal")
    journal.add_argument("directory", nargs="?", type=Path, help="a .polynb folder (default: ./.polynb)")
    journal.add_argument("--json", action="store_true", help="one JSON object per record")
    journal.add_argument("--platform", default=None, help="only this platform's records")
    journal.add_argument("--payload", default=None, help="only this payload's records")
    journal.add_argument("--status", default=None, help="only records with this status (e.g. failed)")
    journal.add_argument("--limit", type=int, default=None, help="at most N records, the newest")

    status = commands.add_parser("status", help="platforms and payloads a journal knows")
    status.add_argument("directory", nargs="?", type=Path)

    cancel = commands.add_parser("cancel", help="ask the kernel that runs an open execution to cancel it")
    cancel.add_argument("record_id", metavar="ID", type=_execution_id, help="an execution id, or a unique prefix of it")
    cancel.add_argument("--journal", type=Path, metavar="DIR", help="its .polynb folder (default: ./.polynb)")

    args = parser.parse_args(argv)
    if args.command == "up":
        for option in up_options:  # a flag is the stand-in's environment variable, set for this run
            value = getattr(args, option.env)
            if value is not None:
                os.environ[option.env] = (str(Path(value).resolve()) if option.kind == "path"
                                          else "true" if option.kind == "switch" else value)
        return asyncio.run(_up(args.platforms, args.json, args.env_file))
    if args.command == "serve":
        from .serve import serve_notebook

        return serve_notebook(args.notebook, kernel_name=args.kernel, cell_timeout=args.cell_timeout,
                              metrics_port=args.metrics_port)
    if args.command == "journal":
        filters = {"platform": args.platform, "payload": args.payload, "status": args.status, "limit": args.limit}
        return _journal(args.directory, args.json, filters)
    if args.command == "cancel":
        return _cancel(args.journal, args.record_id)
    return _status(args.directory)


def _execution_id(text: str) -> str:
    """An execution id or a prefix of one: hexadecimal, so that it can never match more than it names."""
    if not re.fullmatch(r"[0-9a-f]+", text):
        raise argparse.ArgumentTypeError(f"an execution id is lowercase hexadecimal (a unique prefix will do), "
                                          f"not {text!r}")
    return text


def _stand_ins() -> dict:
    return {name: p for name, p in platforms.available().items() if p.stand_in is not None}


async def _up(names: Sequence[str], as_json: bool, env_file: Path | None = None) -> int:
    from .config import ConfigError
    from .local import stop_when_orphaned
    from .ports import PortInUse
    from .service import load_settings

    known = _stand_ins()
    chosen = list(names) or list(known)
    unknown = [name for name in chosen if name not in known]
    if unknown:
        print(f"polynb up: no local stand-in for {', '.join(unknown)}; available: {', '.join(known) or 'none'}",
              file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except ConfigError as exc:  # a flag's value the stand-in cannot use (e.g. --cluster 9)
        print(f"polynb up: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    orphan_watch = asyncio.ensure_future(stop_when_orphaned(stop))
    started, info = [], {}
    try:
        for name in chosen:
            print(f"starting {known[name].title}...", file=sys.stderr, flush=True)
            stand_in = known[name].stand_in(settings[name])
            started.append(stand_in)
            info[name] = dict(await stand_in.start())
        if env_file is not None:
            _write_env(env_file, {name: known[name] for name in chosen}, info)
        if as_json:
            print(json.dumps(info), flush=True)
        else:
            for name, details in info.items():
                print(f"{name}: {json.dumps(details)}", flush=True)
        print("ready; stop with Ctrl-C", file=sys.stderr, flush=True)
        await stop.wait()
    except PortInUse as exc:
        print(f"polynb up: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        orphan_watch.cancel()
        for stand_in in reversed(started):
            await stand_in.stop()
    return 0


def _write_env(path: Path, chosen: dict, info: dict) -> None:
    """``export`` lines a shell sources so that kernels it starts use these stand-ins (written atomically)."""
    lines = [f"export {key}={shlex.quote(str(value))}"
             for name, platform in chosen.items() if platform.client_env is not None
             for key, value in platform.client_env(info[name]).items()]
    partial = private_file(path.with_name(path.name + ".partial"))  # it may hold a token
    partial.write_text("".join(line + "\n" for line in lines))
    partial.replace(path)


class Refused(Exception):
    """What a command cannot do as asked, in one line for stderr (exit status 1)."""


def _with_journal(directory: Path | None, show: Callable[[Journal], list[str]], readonly: bool = True) -> int:
    """Print the lines ``show`` makes of the journal (read-only unless ``readonly`` is False); a journal that is
    missing or cannot be used (corrupt, not a journal, unreachable) is one line on stderr and exit status 1,
    never a traceback."""
    import sqlite3

    from .journal import FILENAME, Journal, JournalError

    directory = _journal_directory(directory)
    if not (directory / FILENAME).is_file():
        print(f"polynb: no journal in {directory}", file=sys.stderr)
        return 1
    try:
        journal = Journal(directory, readonly=readonly)
        try:
            lines = show(journal)
        finally:
            journal.close_db()
    except (sqlite3.DatabaseError, OSError, JournalError) as exc:
        print(f"polynb: cannot {'read' if readonly else 'write to'} the journal {directory / FILENAME}: {exc}",
              file=sys.stderr)
        return 1
    except Refused as exc:
        print(f"polynb: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def _journal_directory(directory: Path | None) -> Path:
    """The folder given, else the configured ``core.journal_dir``, else ``./.polynb``."""
    from .service import load_settings

    if directory is not None:
        return directory
    configured = load_settings().core.journal_dir
    return Path(configured) if configured else Path.cwd() / ".polynb"


def _journal(directory: Path | None, as_json: bool, filters: dict) -> int:
    """The records, newest first as ``%polynb journal`` shows them."""
    from . import jsonvalue
    from .tables import format_table, journal_rows

    def show(journal: Journal) -> list[str]:
        records = journal.records(**filters)
        if as_json:
            return [jsonvalue.dumps(record.as_dict()) for record in records]
        return [format_table(journal_rows(records))]

    return _with_journal(directory, show)


def _signature_lines(signature: dict | None) -> list[str]:
    """A payload's operations in one line each (``greet({name: string}) -> string``), as its journal row keeps them."""
    return [op.get("summary", name) for name, op in ((signature or {}).get("operations") or {}).items()]


def _status(directory: Path | None) -> int:
    def show(journal: Journal) -> list[str]:
        return ([f"{row.platform}: {row.state}" + (f" at {row.address}" if row.address else "")
                 for row in journal.platforms()] +
                [line for payload in journal.payloads() for line in [
                    f"{payload.platform} {payload.name} v{payload.version}"
                    + (f" {payload.address}" if payload.address else ""),
                    *(f"  {summary}" for summary in _signature_lines(payload.signature))]])

    return _with_journal(directory, show)


def _cancel(directory: Path | None, record_id: str) -> int:
    """Ask, through the journal, the kernel that runs an open execution to cancel it: that kernel watches its
    journal for such requests, so this needs no connection to it."""
    def ask(journal: Journal) -> list[str]:
        record = journal.request_cancel(record_id, "cancelled with polynb cancel")
        if record is None:
            ended = journal.get(record_id)
            raise Refused(f"no open execution {record_id}" + (f" (it ended {ended.status})" if ended else ""))
        return [f"cancel requested for {record.id} {record.platform}:{record.payload}"]

    return _with_journal(directory, ask, readonly=False)

if __name__ == "__main__":
    sys.exit(main())
