"""What a notebook calls directly: send a request through a workflow, publish a message (``polynb.aio``)."""
from __future__ import annotations

from typing import Any

from ...calls import CallTimeout, call_timeout
from . import wire
from .binding import PublishFailed, RequestFailed
from .node import PLATFORM
from .wire import pack, unpack

__all__ = ["request", "publish", "pack", "unpack", "RequestFailed", "PublishFailed", "CallTimeout"]


def _binding():
    import polynb

    service = polynb.get_service()
    return service, service.call(service.binding(PLATFORM), label="starting AIO")


def request(workflow: str | None = None, payload: Any = None, timeout: float | None = None) -> Any:
    """Send ``payload`` through the workflow's trigger node and return the exit node's answer.

    A plain value travels as the matching protobuf well-known type and comes back as a plain value; an ERROR
    answer raises :class:`RequestFailed` with the node's error text, no answer within ``timeout`` seconds
    (default: the ``request_timeout`` setting, else ``core.call_timeout``) raises :class:`CallTimeout`.
    """
    service, binding = _binding()
    wait = call_timeout(timeout if timeout is not None else binding.settings.request_timeout)
    return service.call(binding.request(workflow, payload, wait), label=f"AIO request to {workflow or 'workflow'}")


def publish(subject: str, value: Any, *, raw: bool = False, from_node: str = "notebook",
            request_id: str | None = None, timeout: float | None = None) -> str:
    """Publish one message to a subject: ``value`` as a KaiNatsMessage, or, with ``raw``, bytes as they are.

    Returns the request id used (empty for raw bytes). A subject no stream captures raises
    :class:`PublishFailed`; no PubAck within ``timeout`` (default ``core.call_timeout``) raises :class:`CallTimeout`.
    """
    service, binding = _binding()
    if raw:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError("a raw publish needs bytes")
        data, request_id = bytes(value), ""
    else:
        request_id = request_id or wire.new_request_id()
        data = wire.ok_message(request_id, pack(value), from_node).SerializeToString()
    service.call(binding.publish_raw(subject, data, call_timeout(timeout)), label=f"publishing to {subject}")
    return request_id
