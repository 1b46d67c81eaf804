"""``%%vantiq_exec`` (a cell as the named code a source runs) and ``%vantiq_query`` (ask a source)."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from polynb.magics import json_argument, parse_options, register_cell, timeout_argument

from . import api
from .binding import PLATFORM


@magics_class
class VantiqMagics(Magics):
    @cell_magic
    @magic_arguments()
    @argument("name", help="the name a query gives (WITH name = \"NAME\") to run this cell")
    @argument("--source", default=None, help="the source that serves it (default: the first configured source)")
    @argument("--handles-return", action="store_true",
              help="the code answers with connector_connection.send_query_response itself (codeHandlesReturn)")
    @argument("--limit-return-to", default=None, help="comma-separated globals to return (limitReturnTo)")
    @timeout_argument
    def vantiq_exec(self, line: str, cell: str):
        """Register the cell as the code cached under NAME for a source.

        The cell is not run now: it is a script that runs per query, with the query's presetValues as
        globals and the notebook's globals readable. Re-running the cell replaces the code.
        """
        args = parse_options(self.vantiq_exec, line)
        options = {"source": args.source}
        if args.handles_return:
            options["codeHandlesReturn"] = True
        if args.limit_return_to:
            options["limitReturnTo"] = args.limit_return_to
        register_cell(self.shell, PLATFORM, args.name, cell, options=options, run=False,
                      timeout=args.timeout)

    @line_cell_magic
    @magic_arguments()
    @argument("source", help="the source to query")
    @argument("query", nargs="*", help="the query's parameters as JSON, e.g. {\"name\": \"sq\", \"presetValues\": {\"v\": 3}}")
    @argument("--timeout", type=float, default=None,
              help="seconds to wait for the final answer (default: core.call_timeout, POLYNB_CALL_TIMEOUT)")
    def vantiq_query(self, line: str, cell: str | None = None):
        """%vantiq_query SOURCE [JSON] -- with a cell body, the body is the query's code. Returns the rows.

        What the source answers wrong is raised as it is (``VantiqQueryError`` with Vantiq's body, shown as
        one line in Vantiq's words; ``VantiqQueryTimeout``; ``ConnectionError``): only a line that is not a
        query is a usage error.
        """
        args = parse_options(self.vantiq_query, line)
        parameters = json_argument("%vantiq_query", "the query", " ".join(args.query), dict, default={})
        if cell is not None:
            parameters["code"] = cell
        clash = sorted(set(parameters) & {"timeout", "on_row", "source"})
        if clash:
            raise UsageError(f"%vantiq_query: {', '.join(clash)} is not a query parameter; use the magic's options")
        return api.query(args.source, timeout=args.timeout, **parameters)
