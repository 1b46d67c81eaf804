"""A KO endpoint's signature: the request and response schemas of its OpenAPI service spec (``service.yaml``).

A cell's endpoint gets them from its function's annotations (the one argument KGrid passes, and the return
value), written into the service spec polynb publishes; the signature is then read back from that spec, as a
client of the activator would read it.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ...signature import Shape, Signature, from_annotation, hints, one, returns
from .ko import KnowledgeObject

MEDIA = "application/json"


def function_shapes(function: Callable) -> tuple[Shape, Shape]:
    """(input, output) schemas of a KGrid function: its first parameter's annotation and its return annotation."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # a builtin or a callable object without a readable signature
        return {}, {}
    first = parameters[0].name if parameters and parameters[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) else None
    hint = hints(function).get(first, inspect.Parameter.empty) if first else inspect.Parameter.empty
    return ({} if hint is inspect.Parameter.empty else from_annotation(hint)), returns(function)


def from_service_spec(ko: KnowledgeObject, endpoint: str) -> Signature:
    """The endpoint's request and ``200`` response JSON schemas, local ``$ref``s resolved."""
    node = ((ko.service.get("paths") or {}).get(f"/{endpoint}") or {})
    operation = node.get("post") or node.get("get") or {}
    request = _schema(operation.get("requestBody"), ko.service)
    responses = operation.get("responses") or {}
    response = _schema(responses.get("200") or responses.get(200), ko.service)  # YAML may read 200 as a number
    return one(endpoint, request, response, f"service.yaml of {ko.ark} (/{endpoint})")


def _schema(body: Any, spec: Mapping[str, Any]) -> Shape:
    content = (body or {}).get("content") or {} if isinstance(body, Mapping) else {}
    media = content.get(MEDIA) or next(iter(content.values()), None) or {}
    return resolve(media.get("schema") or {}, spec) if isinstance(media, Mapping) else {}


def resolve(schema: Any, spec: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """A schema with its ``#/...`` references replaced by what they name (a reference cycle becomes ``{}``)."""
    if isinstance(schema, list):
        return [resolve(item, spec, seen) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    reference = schema.get("$ref")
    if isinstance(reference, str):
        if not reference.startswith("#/") or reference in seen:
            return {}
        target: Any = spec
        for part in reference[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
        return resolve(target, spec, seen | {reference}) if isinstance(target, Mapping) else {}
    return {key: resolve(value, spec, seen) for key, value in schema.items()}
