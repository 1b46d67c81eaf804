"""What a notebook imports as ``polynb.cloudstate``: decorators, CRDTs, ``call`` and ``endpoints``."""
from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from ... import signature
from ...calls import CallTimeout, PlatformAnswer, call_timeout
from .context import CommandFailed
from .crdts import Flag, GCounter, GSet, LWWRegister, ORMap, ORSet, PNCounter, Vote
from .entities import command, event, initial, snapshot, snapshot_handler
from .protolib import LIBRARY
from .wire import Json

__all__ = ["call", "endpoints", "command", "event", "snapshot", "snapshot_handler", "initial", "CommandFailed", "Json",
           "CallFailed", "GCounter", "PNCounter", "GSet", "ORSet", "LWWRegister", "Flag", "ORMap", "Vote"]


class CallFailed(PlatformAnswer, grpc.RpcError):
    """What ``%cloudstate_call`` raises when the proxy refuses a call: an RpcError with the proxy's status and
    the failure's description (an entity's ``ctx.fail(...)`` text, or why the proxy could not route it)."""

    def __init__(self, service: str, method: str, error: grpc.RpcError) -> None:
        super().__init__(f"{service}/{method}: {error.code().name}: {error.details()}")
        self._code, self._details = error.code(), error.details()

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str | None:
        return self._details



def _binding():
    import polynb

    running = polynb.get_service()
    return running.call(running.binding("cloudstate"), label="cloudstate")


def endpoints() -> dict[str, str]:
    """Where clients reach the entities: the proxy's gRPC address and HTTP base URL, and the user function."""
    binding = _binding()
    return {"grpc": binding.proxy_grpc, "http": binding.proxy_http, "user_function": binding.address}


def call(service: str, method: str, message: Message | dict | None = None, timeout: float | None = None) -> Message:
    """Call an entity's method through the proxy, as a client would; a failed command raises RpcError, no
    answer within ``timeout`` seconds (default ``core.call_timeout``) :class:`~polynb.calls.CallTimeout`.
    A dict that does not fit the registered entity's request message raises
    :class:`~polynb.signature.InputMismatch` before anything is sent."""
    binding = _binding()
    seconds = call_timeout(timeout)
    descriptor = LIBRARY.compiled.service(service).methods_by_name.get(method)
    if descriptor is None:
        raise ValueError(f"{service} has no method {method!r}")
    if not isinstance(message, Message):
        signature.check(binding.service.journal, "cloudstate", service, message or {}, method, root=method)
    request_class = LIBRARY.compiled.message_class(descriptor.input_type.full_name)
    reply_class = LIBRARY.compiled.message_class(descriptor.output_type.full_name)
    request = message if isinstance(message, Message) else json_format.ParseDict(message or {}, request_class())
    with grpc.insecure_channel(binding.proxy_grpc) as channel:
        stub: grpc.UnaryUnaryMultiCallable[Message, Message] = channel.unary_unary(
            f"/{service}/{method}", request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=reply_class.FromString)
        try:
            return stub(request, timeout=seconds)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
        raise CallTimeout("cloudstate", f"{service}/{method}", seconds,
                          f"the proxy at {binding.proxy_grpc} or the entity is busy or stuck; the journal shows "
                          "whether the command reached the entity")


def as_dict(message: Message) -> dict[str, Any]:
    """A reply as the JSON the HTTP API gives (lowerCamelCase, defaults included)."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
