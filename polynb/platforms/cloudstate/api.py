"""What a notebook imports (``polynb.cloudstate`` once the lead re-exports it): decorators, CRDTs, ``call``."""
from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from .context import CommandFailed
from .crdts import GCounter, GSet, LWWRegister, ORMap, ORSet, PNCounter, Flag, Vote
from .entities import command, event, initial, snapshot, snapshot_handler
from .protolib import LIBRARY
from .wire import Json

__all__ = ["call", "endpoints", "command", "event", "snapshot", "snapshot_handler", "initial", "CommandFailed", "Json",
           "GCounter", "PNCounter", "GSet", "ORSet", "LWWRegister", "Flag", "ORMap", "Vote"]


def _binding():
    import polynb

    running = polynb.get_service()
    return running.call(running.binding("cloudstate"), label="cloudstate")


def endpoints() -> dict[str, str]:
    """Where clients reach the entities: the proxy's gRPC address and HTTP base URL, and the user function."""
    binding = _binding()
    return {"grpc": binding.proxy_grpc, "http": binding.proxy_http, "user_function": binding.address}


def call(service: str, method: str, message: Message | dict | None = None, timeout: float = 30.0) -> Message:
    """Call an entity's method through the proxy, as a client would; a failed command raises RpcError."""
    binding = _binding()
    descriptor = LIBRARY.compiled.service(service).methods_by_name.get(method)
    if descriptor is None:
        raise ValueError(f"{service} has no method {method!r}")
    request_class = LIBRARY.compiled.message_class(descriptor.input_type.full_name)
    reply_class = LIBRARY.compiled.message_class(descriptor.output_type.full_name)
    request = message if isinstance(message, Message) else json_format.ParseDict(message or {}, request_class())
    with grpc.insecure_channel(binding.proxy_grpc) as channel:
        stub = channel.unary_unary(f"/{service}/{method}", request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=reply_class.FromString)
        return stub(request, timeout=timeout)


def as_dict(message: Message) -> dict[str, Any]:
    """A reply as the JSON the HTTP API gives (lowerCamelCase, defaults included)."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
