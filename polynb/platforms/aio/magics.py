"""``%%aio_node`` (a cell as a KAI node) and ``%aio_publish`` (one message to a subject)."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ...magics import json_argument, parse_options, payload_arguments, register_cell
from . import api
from .appconfig import RUNNERS
from .node import PLATFORM


def _from_node_map(pairs: list[str]) -> dict[str, str]:
    routes = {}
    for pair in pairs:
        node, sep, function = pair.partition("=")
        if not sep or not node or not function:
            raise UsageError(f"--from-node takes NODE=FUNCTION, not {pair!r}")
        routes[node] = function
    return routes


@magics_class
class AioMagics(Magics):
    shell: InteractiveShell  # IPython makes magics with the shell they are registered with

    @cell_magic
    @magic_arguments()
    @argument("process", help="the KAI process name (lowercase letters, digits, dashes; at most 20)")
    @argument("--runner", choices=RUNNERS, default=None,
              help="the node type (default: app.yaml's metadata.process_type, else task)")
    @argument("--workflow", default=None, help="the workflow (default: setting aio.workflow)")
    @argument("--subscribe", nargs="+", default=[], metavar="P",
              help="processes (or process.channel) whose output this node consumes, unless app.yaml names them")
    @argument("--from-node", action="append", default=[], metavar="NODE=FUNCTION",
              help="handle messages from NODE with FUNCTION (besides handler_<node> by name)")
    @payload_arguments
    def aio_node(self, line: str, cell: str):
        """Run the cell and serve it as a KAI node: handler(sdk, payload), handler_<node>, pre/postprocessor,
        initializer(sdk), finalizer(sdk); a trigger may define runner(trigger, sdk)."""
        args = parse_options(self.aio_node, line)
        options = {"runner": args.runner, "workflow": args.workflow, "subscribe": list(args.subscribe),
                   "from_node": _from_node_map(args.from_node)}
        register_cell(self.shell, PLATFORM, args.process, cell, entry=args.entry, isolated=args.isolated,
                      timeout=args.timeout, options=options)

    @line_magic
    @magic_arguments()
    @argument("subject", help="the full subject, e.g. polynb_v1_0_0_notebook.trig")
    @argument("value", nargs="+", help="JSON, or a Python expression: the payload (bytes as they are with --raw)")
    @argument("--raw", action="store_true", help="publish the bytes as they are, not wrapped in a KaiNatsMessage")
    @argument("--from-node", default="notebook", help="the message's from_node")
    @argument("--request-id", default=None, help="the message's request id (default: a new uuid4)")
    def aio_publish(self, line: str):
        """Publish one message to a subject; prints the request id. A value that cannot travel is a usage
        error; what NATS refuses raises the platform's error (PublishFailed, CallTimeout)."""
        args = parse_options(self.aio_publish, line)
        value = json_argument("%aio_publish", "the value", " ".join(args.value), evaluate=self.shell.ev)
        try:
            request_id = api.publish(args.subject, value, raw=args.raw, from_node=args.from_node,
                                     request_id=args.request_id)
        except TypeError as exc:  # raised before anything is sent
            raise UsageError(f"%aio_publish: {exc}") from None
        print(f"published to {args.subject}" + (f" (request {request_id})" if request_id else ""))
