"""A CloudState entity's signature: each command (a method of its gRPC service) with its request and reply
messages, as the shapes of their proto3 JSON form (what ``polynb.cloudstate.call`` takes as a dict).

Fields are named as the .proto names them, and also answer to their JSON names (``userId`` for ``user_id``),
as protobuf's JSON parser does; proto3 fields are all optional, a null one counts as left out, and a message has
no fields but its own.
"""
from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor

from ...signature import Operation, Shape, Signature

_SCALARS: dict[int, Shape] = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    **{kind: {"type": "integer"} for kind in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32,
                                              FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_UINT32,
                                              FieldDescriptor.TYPE_FIXED32)},
}
#: how many times a message that contains itself is spelled out along one path
NESTING = 3
#: 64-bit integers: JSON gives them as numbers or as decimal strings
_WIDE: Shape = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
#: well-known types whose JSON form is not an object of their fields
_WELL_KNOWN: dict[str, Shape] = {
    "google.protobuf.Timestamp": {"type": "string", "title": "Timestamp"},
    "google.protobuf.Duration": {"type": "string", "title": "Duration"},
    "google.protobuf.FieldMask": {"type": "string", "title": "FieldMask"},
    "google.protobuf.Struct": {"type": "object", "title": "Struct"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Any": {"type": "object", "title": "Any"},
    **{f"google.protobuf.{name}Value": {"type": kind, "nullable": True} for name, kind in (
        ("Double", "number"), ("Float", "number"), ("Int32", "integer"), ("UInt32", "integer"),
        ("Bool", "boolean"), ("String", "string"), ("Bytes", "string"))},
    **{f"google.protobuf.{name}Value": {**_WIDE, "nullable": True} for name in ("Int64", "UInt64")},
}


def of_service(service: ServiceDescriptor) -> Signature:
    """Every method of the service, request and reply."""
    return Signature({method.name: Operation(message_shape(method.input_type), message_shape(method.output_type))
                      for method in service.methods}, f"the proto messages of {service.full_name}")


def message_shape(message: Descriptor, seen: tuple[str, ...] = ()) -> Shape:
    """A message's JSON shape; one that contains itself is spelled out to :data:`NESTING` levels, then any object."""
    if message.full_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[message.full_name])
    if seen.count(message.full_name) >= NESTING:
        return {"type": "object", "title": message.name}
    inner = (*seen, message.full_name)
    properties = {field.name: _field_shape(field, inner) for field in message.fields}
    aliases = {field.json_name: field.name for field in message.fields if field.json_name != field.name}
    return {"type": "object", "title": message.name, "properties": properties, "additionalProperties": False,
            "x-null-absent": True, **({"x-aliases": aliases} if aliases else {})}


def _field_shape(field: FieldDescriptor, seen: tuple[str, ...]) -> Shape:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        values = message.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _single(values, seen)}
    single = _single(field, seen)
    return {"type": "array", "items": single} if field.is_repeated else single


def _single(field: FieldDescriptor, seen: tuple[str, ...]) -> Shape:
    if field.message_type is not None:
        return message_shape(field.message_type, seen)
    if field.enum_type is not None:
        values = field.enum_type.values
        return {"enum": [value.name for value in values] + [value.number for value in values],
                "title": field.enum_type.name}
    return dict(_SCALARS.get(field.type, _WIDE))
