"""``%%colonies_func`` (a cell's function served by polynb's executor) and ``%colonies_submit``."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ...magics import json_argument, parse_options, payload_arguments, register_cell
from . import api


@magics_class
class ColoniesMagics(Magics):
    @cell_magic
    @magic_arguments()
    @argument("funcname", help="the Colonies function name processes ask for")
    @argument("--executortype", default=None, help="executor type (default COLONIES_EXECUTOR_TYPE or polynb)")
    @argument("--executorname", default=None, help="executor name (default COLONIES_EXECUTOR_NAME or NOTEBOOK-KERNELID-TYPE)")
    @argument("--concurrency", type=int, default=1, help="processes this executor runs at once")
    @payload_arguments
    def colonies_func(self, line: str, cell: str):
        """Serve the cell's function as a Colonies function, on an executor polynb registers and approves."""
        args = parse_options(self.colonies_func, line)
        if args.concurrency < 1:
            raise UsageError("%%colonies_func: --concurrency must be at least 1")
        options = {key: value for key, value in (("executortype", args.executortype),
                                                 ("executorname", args.executorname),
                                                 ("concurrency", args.concurrency)) if value is not None}
        register_cell(self.shell, "colonies", args.funcname, cell, entry=args.entry, isolated=args.isolated,
                      timeout=args.timeout, options=options)

    @line_magic
    @magic_arguments()
    @argument("funcname")
    @argument("--args", default=None, help="JSON list of positional arguments")
    @argument("--kwargs", default=None, help="JSON object of keyword arguments")
    @argument("--executortype", default=None)
    @argument("--maxexectime", type=int, default=-1, help="seconds before the server reassigns it (-1: no limit)")
    @argument("--maxwaittime", type=int, default=-1, help="seconds it may wait for an executor (-1: no limit)")
    @argument("--maxretries", type=int, default=3, help="re-runs after maxexectime (-1: unlimited)")
    @argument("--priority", type=int, default=0)
    @argument("--wait", action="store_true", help="block and return the output; raise on failure")
    @argument("--follow", action="store_true", help="show the live widget (default unless --wait)")
    @argument("--timeout", type=float, default=None, help="seconds --wait waits (default POLYNB_CALL_TIMEOUT, 60)")
    def colonies_submit(self, line: str):
        """Submit a function spec to the colony and follow it live.

        What the platform answers is raised as the platform's error: a failed process as
        :class:`SubmissionFailed` with its errors, a server refusal as ``ColoniesError``, no end in time
        as ``CallTimeout``; only options polynb refuses before sending are a ``UsageError``.
        """
        args = parse_options(self.colonies_submit, line)
        positional = json_argument("%colonies_submit", "--args", args.args, list, default=[])
        keywords = json_argument("%colonies_submit", "--kwargs", args.kwargs, dict, default={})
        try:
            return api.submit(args.funcname, positional, keywords, executortype=args.executortype,
                              maxexectime=args.maxexectime, maxwaittime=args.maxwaittime,
                              maxretries=args.maxretries, priority=args.priority, wait=args.wait,
                              follow=args.follow or not args.wait, timeout=args.timeout)
        except ValueError as exc:  # refused before anything was sent (a limit of 0, no member key)
            raise UsageError(f"%colonies_submit {args.funcname}: {exc}") from None
