from google.protobuf import any_pb2 as _any_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNDEFINED: _ClassVar[MessageType]
    OK: _ClassVar[MessageType]
    ERROR: _ClassVar[MessageType]
    EARLY_REPLY: _ClassVar[MessageType]
    EARLY_EXIT: _ClassVar[MessageType]
UNDEFINED: MessageType
OK: MessageType
ERROR: MessageType
EARLY_REPLY: MessageType
EARLY_EXIT: MessageType

class KaiNatsMessage(_message.Message):
    __slots__ = ("request_id", "payload", "error", "from_node", "message_type")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FROM_NODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    payload: _any_pb2.Any
    error: str
    from_node: str
    message_type: MessageType
    def __init__(self, request_id: _Optional[str] = ..., payload: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., error: _Optional[str] = ..., from_node: _Optional[str] = ..., message_type: _Optional[_Union[MessageType, str]] = ...) -> None: ...
