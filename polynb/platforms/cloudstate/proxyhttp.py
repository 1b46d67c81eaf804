"""HTTP/JSON transcoding for the local proxy, from ``google.api.http`` rules: routes, requests, responses.

Pure: no server here. JSON follows proto3's mapping (lowerCamelCase names, defaults printed, int64 as
strings), as the CloudState proxy answers.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, json_format
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

HTTP_OPTION = 72295728  # google.api.http on MethodOptions
ENTITY_KEY_OPTION = 1080  # cloudstate.entity_key on FieldOptions
_VERBS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Route:
    verb: str
    pattern: re.Pattern
    service: str
    method: str
    body: str
    response_body: str


def option_values(options: Message, number: int) -> list[Any]:
    """Values of an extension the options carry as an unknown field (the proxy's pool need not know it)."""
    fields = UnknownFieldSet(options)  # a sequence: iterated by __getitem__, which mypy does not follow
    return [field.data for field in fields if field.field_number == number]  # type: ignore[attr-defined]


def entity_key_fields(message: descriptor_pb2.DescriptorProto) -> list[str]:
    return [f.name for f in message.field if any(option_values(f.options, ENTITY_KEY_OPTION))]


def template_regex(template: str) -> re.Pattern:
    """``/cart/{user_id}/items`` → a regex with one named group per path variable."""
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(f"(?P<{p[1:-1].split('=')[0].replace('.', '__')}>[^/]+)" if p.startswith("{") else re.escape(p)
                    for p in parts)
    return re.compile(f"^{regex}$")


def routes_of(service: str, method: descriptor_pb2.MethodDescriptorProto, rule_class: type[Message] | None) -> list[Route]:
    """The rule's bindings plus the generic ``POST /<service>/<method>`` every method has."""
    routes = [Route("post", template_regex(f"/{service}/{method.name}"), service, method.name, "*", "")]
    if rule_class is None:
        return routes
    for raw in option_values(method.options, HTTP_OPTION):
        rule: Any = rule_class.FromString(raw)  # google.api.HttpRule, compiled at run time: its fields are unknown here
        for binding in [rule, *rule.additional_bindings]:
            verb = binding.WhichOneof("pattern")
            if verb in _VERBS:
                routes.append(Route(verb, template_regex(getattr(binding, verb)), service, method.name,
                                    binding.body, binding.response_body))
    return routes


def body_type(route: Route) -> type | tuple[type, ...]:
    """The JSON a route's body must hold: an object for ``body: "*"``, any value for one field."""
    return dict if route.body == "*" else object


def request_message(route: Route, match: re.Match, body: Any, query: dict[str, list[bytes]],
                    input_class: type[Message]) -> Message:
    """The method's input from the path variables, the parsed body (per the rule's ``body``; None when there
    is none) and the query; a value the message cannot take (unknown field, wrong type) is a ``ValueError``."""
    message = input_class()
    try:
        if route.body and body is not None:
            json_format.ParseDict(body if route.body == "*" else {route.body: body}, message)
        if not route.body:
            for name, values in query.items():
                json_format.ParseDict({name: values[-1].decode(errors="replace")}, message, ignore_unknown_fields=True)
        for name, value in match.groupdict().items():
            json_format.ParseDict({name.replace("__", "."): value}, message)
    except (json_format.ParseError, TypeError, AttributeError, RecursionError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    return message


def response_json(route: Route, reply: Message) -> str:
    document = json_format.MessageToDict(reply, always_print_fields_with_no_presence=True)
    if route.response_body:
        field = reply.DESCRIPTOR.fields_by_name[route.response_body]
        document = document[field.json_name]
    return json.dumps(document, separators=(",", ":"))
