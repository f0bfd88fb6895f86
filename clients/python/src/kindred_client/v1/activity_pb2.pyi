from kindred_client.v1 import record_pb2 as _record_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PropertyValue(_message.Message):
    __slots__ = ("string_value", "number_value", "bool_value", "timestamp_ms")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    number_value: float
    bool_value: bool
    timestamp_ms: int
    def __init__(self, string_value: _Optional[str] = ..., number_value: _Optional[float] = ..., bool_value: _Optional[bool] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("source", "record_id", "event_id", "type", "occurred_at_ms", "amount", "currency", "properties", "identity")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PropertyValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PropertyValue, _Mapping]] = ...) -> None: ...
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    source: str
    record_id: str
    event_id: str
    type: str
    occurred_at_ms: int
    amount: float
    currency: str
    properties: _containers.MessageMap[str, PropertyValue]
    identity: _record_pb2.Record
    def __init__(self, source: _Optional[str] = ..., record_id: _Optional[str] = ..., event_id: _Optional[str] = ..., type: _Optional[str] = ..., occurred_at_ms: _Optional[int] = ..., amount: _Optional[float] = ..., currency: _Optional[str] = ..., properties: _Optional[_Mapping[str, PropertyValue]] = ..., identity: _Optional[_Union[_record_pb2.Record, _Mapping]] = ...) -> None: ...

class TraitValue(_message.Message):
    __slots__ = ("name", "number", "text", "timestamp_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    number: float
    text: str
    timestamp_ms: int
    def __init__(self, name: _Optional[str] = ..., number: _Optional[float] = ..., text: _Optional[str] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...

class Lifecycle(_message.Message):
    __slots__ = ("stage", "first_order_ms", "last_order_ms")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    FIRST_ORDER_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ORDER_MS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    first_order_ms: int
    last_order_ms: int
    def __init__(self, stage: _Optional[str] = ..., first_order_ms: _Optional[int] = ..., last_order_ms: _Optional[int] = ...) -> None: ...

class Rfm(_message.Message):
    __slots__ = ("recency", "frequency", "monetary", "group", "cuts_version", "cuts_computed_at_ms")
    RECENCY_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MONETARY_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    CUTS_VERSION_FIELD_NUMBER: _ClassVar[int]
    CUTS_COMPUTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    recency: int
    frequency: int
    monetary: int
    group: str
    cuts_version: int
    cuts_computed_at_ms: int
    def __init__(self, recency: _Optional[int] = ..., frequency: _Optional[int] = ..., monetary: _Optional[int] = ..., group: _Optional[str] = ..., cuts_version: _Optional[int] = ..., cuts_computed_at_ms: _Optional[int] = ...) -> None: ...

class OpenTrigger(_message.Message):
    __slots__ = ("trigger", "source", "record_id", "match_value", "started_at_ms", "due_at_ms")
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_VALUE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_MS_FIELD_NUMBER: _ClassVar[int]
    trigger: str
    source: str
    record_id: str
    match_value: str
    started_at_ms: int
    due_at_ms: int
    def __init__(self, trigger: _Optional[str] = ..., source: _Optional[str] = ..., record_id: _Optional[str] = ..., match_value: _Optional[str] = ..., started_at_ms: _Optional[int] = ..., due_at_ms: _Optional[int] = ...) -> None: ...
