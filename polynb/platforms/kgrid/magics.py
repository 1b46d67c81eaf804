"""``%%kgrid_ko`` (a cell as a Knowledge Object), ``%kgrid_call`` and ``%kgrid_export``: thin, as the core wants.

The payload of a cell is named by its endpoint id ``NAAN/NAME/VERSION/ENDPOINT``; cells that share an
ark make one KO with several endpoints.
"""
from __future__ import annotations

import re

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ...magics import json_argument, parse_options, payload_arguments, register_cell, without_comment
from ...payload import Payload, PayloadError, resolve_entry
from . import api
from .ko import Ark, KoError


def _unquote(text: str) -> str:
    """IPython's magic argument parser keeps the quotes around a quoted value; drop one matching pair."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


@magics_class
class KgridMagics(Magics):
    shell: InteractiveShell  # IPython makes magics with the shell they are registered with

    @cell_magic
    @magic_arguments()
    @argument("ark", help="NAAN/NAME/VERSION of the Knowledge Object")
    @argument("--endpoint", default=None, help="the endpoint's name (default: the function's name)")
    @argument("--function", default=None, help="the function the endpoint calls (same as --entry)")
    @argument("--requirements", default="", help='pip requirements of the KO, e.g. "leftpad==0.1.2 numpy"')
    @argument("--title", default=None, help="the KO's title in metadata.json")
    @payload_arguments
    def kgrid_ko(self, line: str, cell: str) -> None:
        """%%kgrid_ko NAAN/NAME/VERSION [--endpoint E] [--function F] [--requirements "..."] [--title T]"""
        args = parse_options(self.kgrid_ko, line)
        try:
            ark = Ark.parse(args.ark)
        except KoError as exc:
            raise UsageError(f"%%kgrid_ko: {exc}") from None
        if args.function and args.entry and args.function != args.entry:
            raise UsageError("%%kgrid_ko: --function and --entry name the same thing; give one")
        function = args.function or args.entry
        if args.endpoint is None:
            source = self.shell.transform_cell(cell)
            try:
                function = resolve_entry(Payload("kgrid", str(ark), source, function), source, True).entry
            except PayloadError as exc:
                raise UsageError(f"%%kgrid_ko: {exc}") from None
        endpoint = args.endpoint or function
        if not re.fullmatch(r"[A-Za-z0-9_-]+", endpoint):
            raise UsageError(f"%%kgrid_ko: endpoint {endpoint!r} must be letters, digits, '_' or '-'")
        register_cell(self.shell, "kgrid", f"{ark}/{endpoint}", cell, entry=function, isolated=args.isolated,
                      timeout=args.timeout, options={"ark": str(ark), "endpoint": endpoint,
                               "requirements": _unquote(args.requirements).split(),
                               "title": _unquote(args.title) if args.title else None})

    @line_magic
    def kgrid_call(self, line: str):
        """%kgrid_call NAAN/NAME/VERSION/ENDPOINT [INPUT]: INPUT is JSON, or a Python expression.

        An error answer is raised as the activator gave it (:class:`KgridCallError`, with its status)."""
        endpoint, _, text = without_comment(line).strip().partition(" ")
        if not endpoint:
            raise UsageError("%kgrid_call NAAN/NAME/VERSION/ENDPOINT [INPUT]")
        if endpoint.strip("/").count("/") != 3:
            raise UsageError(f"%kgrid_call: {endpoint!r} is not NAAN/NAME/VERSION/ENDPOINT")
        return api.call(endpoint, json_argument("%kgrid_call", "INPUT", text, evaluate=self.shell.ev))

    @line_magic
    @magic_arguments()
    @argument("ark", help="NAAN/NAME/VERSION of a KO defined by this kernel's cells")
    @argument("path", help="a folder, or a .zip file")
    @argument("--format", default="kgrid1", choices=("kgrid1", "kgrid2"),
              help="kgrid1: the activator's KO layout (default); kgrid2: the KGrid 2.0 package layout")
    def kgrid_export(self, line: str) -> None:
        """%kgrid_export NAAN/NAME/VERSION PATH [--format kgrid1|kgrid2]"""
        args = parse_options(self.kgrid_export, line)
        try:
            path = api.export(args.ark, args.path, args.format)
        except (KeyError, KoError) as exc:
            raise UsageError(f"%kgrid_export: {exc.args[0]}") from None
        print(f"{args.ark} written to {path} ({args.format} layout)")
