"""``%%cloudstate_proto``, ``%%cloudstate_entity`` and ``%cloudstate_call``: thin, over the shared magic pieces."""
from __future__ import annotations

import re
from pathlib import Path

import grpc
from google.protobuf import json_format
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ...magics import json_argument, parse_options, payload_arguments, register_cell, without_comment
from .binding import KINDS, PLATFORM
from .protolib import LIBRARY, ProtoError, ProtoModule, file_name


def proto_sources(names: list[str]) -> dict[str, str]:
    """The texts an entity's ``--proto`` names: proto cells by name, else files on disk."""
    sources = {}
    for name in names:
        if not LIBRARY.has(name):
            if not Path(name).is_file():
                raise UsageError(f"polynb: no %%cloudstate_proto cell named {name!r} has run, and it is not a file")
            name = LIBRARY.add_path(Path(name))
        sources[file_name(name)] = LIBRARY.source(name)
    return sources


@magics_class
class CloudStateMagics(Magics):
    shell: InteractiveShell  # IPython makes magics with the shell they are registered with

    @cell_magic
    @magic_arguments()
    @argument("name", help="the proto's import path, e.g. shoppingcart or shoppingcart/shoppingcart.proto")
    def cloudstate_proto(self, line: str, cell: str):
        """Compile the cell's .proto text and bind its messages to a variable named after the file."""
        args = parse_options(self.cloudstate_proto, line)
        try:
            LIBRARY.add(args.name, cell)
        except ProtoError as exc:
            raise UsageError(f"polynb: {exc}") from None
        module = ProtoModule(LIBRARY, args.name)
        variable = re.sub(r"\W", "_", Path(file_name(args.name)).stem)
        self.shell.user_ns[variable] = module
        print(f"{file_name(args.name)} → `{variable}`: messages {', '.join(dir(module)) or 'none'}; "
              f"services {', '.join(module.services) or 'none'}")

    @cell_magic
    @magic_arguments()
    @argument("service", help="the full name of the gRPC service the entity implements")
    @argument("--proto", action="append", required=True, help="a %%cloudstate_proto name or a .proto path (repeatable)")
    @argument("--kind", choices=sorted(KINDS), default="event_sourced")
    @argument("--persistence-id", default=None, help="event journal namespace (default: the service name)")
    @argument("--snapshot-every", type=int, default=0, help="snapshot after every N events (0: never)")
    @argument("--passivation-timeout", type=int, default=0, help="ms of idleness before the proxy passivates")
    @payload_arguments
    def cloudstate_entity(self, line: str, cell: str):
        """Register the cell's entity (decorated class or functions) as a CloudState entity."""
        args = parse_options(self.cloudstate_entity, line)
        options = {"kind": args.kind, "persistence_id": args.persistence_id, "snapshot_every": args.snapshot_every,
                   "passivation_timeout_ms": args.passivation_timeout, "protos": proto_sources(args.proto)}
        register_cell(self.shell, PLATFORM, args.service, cell, entry=args.entry, isolated=args.isolated,
                      timeout=args.timeout, options=options)

    @line_magic
    def cloudstate_call(self, line: str):
        """%cloudstate_call SERVICE METHOD {json}: call an entity through the proxy; returns the reply message.

        A refused call raises :class:`CallFailed` with the proxy's status and the failure's description."""
        from .api import CallFailed, call

        parts = without_comment(line).strip().split(None, 2)
        if len(parts) < 2:
            raise UsageError("usage: %cloudstate_call SERVICE METHOD {\"field\": value}")
        body = json_argument("%cloudstate_call", "the request", parts[2] if len(parts) > 2 else None, dict, default={})
        try:
            return call(parts[0], parts[1], body)
        except (ValueError, json_format.ParseError) as exc:  # no such service or method, a field it lacks
            raise UsageError(f"%cloudstate_call: {exc}") from None
        except grpc.RpcError as error:
            raise CallFailed(parts[0], parts[1], error) from None
