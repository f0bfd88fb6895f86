from kindred_client.v1 import activity_pb2 as _activity_pb2
from kindred_client.v1 import kindred_pb2 as _kindred_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Aggregate(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGGREGATE_UNSPECIFIED: _ClassVar[Aggregate]
    AGGREGATE_COUNT: _ClassVar[Aggregate]
    AGGREGATE_SUM: _ClassVar[Aggregate]
    AGGREGATE_AVERAGE: _ClassVar[Aggregate]
    AGGREGATE_MIN: _ClassVar[Aggregate]
    AGGREGATE_MAX: _ClassVar[Aggregate]
    AGGREGATE_FIRST: _ClassVar[Aggregate]
    AGGREGATE_LAST: _ClassVar[Aggregate]
    AGGREGATE_MOST_FREQUENT: _ClassVar[Aggregate]
    AGGREGATE_DISTINCT_COUNT: _ClassVar[Aggregate]
    AGGREGATE_DAYS_SINCE_LAST: _ClassVar[Aggregate]
AGGREGATE_UNSPECIFIED: Aggregate
AGGREGATE_COUNT: Aggregate
AGGREGATE_SUM: Aggregate
AGGREGATE_AVERAGE: Aggregate
AGGREGATE_MIN: Aggregate
AGGREGATE_MAX: Aggregate
AGGREGATE_FIRST: Aggregate
AGGREGATE_LAST: Aggregate
AGGREGATE_MOST_FREQUENT: Aggregate
AGGREGATE_DISTINCT_COUNT: Aggregate
AGGREGATE_DAYS_SINCE_LAST: Aggregate

class SendEventRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _activity_pb2.Event
    def __init__(self, event: _Optional[_Union[_activity_pb2.Event, _Mapping]] = ...) -> None: ...

class EventResult(_message.Message):
    __slots__ = ("record", "event_id", "duplicate", "entity_id", "record_written")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    record: _kindred_pb2.RecordRef
    event_id: str
    duplicate: bool
    entity_id: int
    record_written: bool
    def __init__(self, record: _Optional[_Union[_kindred_pb2.RecordRef, _Mapping]] = ..., event_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., entity_id: _Optional[int] = ..., record_written: _Optional[bool] = ...) -> None: ...

class SendEventResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: EventResult
    def __init__(self, result: _Optional[_Union[EventResult, _Mapping]] = ...) -> None: ...

class BulkSendRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_activity_pb2.Event]
    def __init__(self, events: _Optional[_Iterable[_Union[_activity_pb2.Event, _Mapping]]] = ...) -> None: ...

class EventError(_message.Message):
    __slots__ = ("record", "event_id", "code", "field", "value", "message")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    record: _kindred_pb2.RecordRef
    event_id: str
    code: int
    field: str
    value: str
    message: str
    def __init__(self, record: _Optional[_Union[_kindred_pb2.RecordRef, _Mapping]] = ..., event_id: _Optional[str] = ..., code: _Optional[int] = ..., field: _Optional[str] = ..., value: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class BulkEventResult(_message.Message):
    __slots__ = ("index", "ok", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    ok: EventResult
    error: EventError
    def __init__(self, index: _Optional[int] = ..., ok: _Optional[_Union[EventResult, _Mapping]] = ..., error: _Optional[_Union[EventError, _Mapping]] = ...) -> None: ...

class BulkSendResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BulkEventResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BulkEventResult, _Mapping]]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("entity_id", "record", "identity", "types", "from_ms", "to_ms", "page_size", "page_token")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    FROM_MS_FIELD_NUMBER: _ClassVar[int]
    TO_MS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entity_id: int
    record: _kindred_pb2.RecordRef
    identity: _kindred_pb2.IdentityLookup
    types: _containers.RepeatedScalarFieldContainer[str]
    from_ms: int
    to_ms: int
    page_size: int
    page_token: str
    def __init__(self, entity_id: _Optional[int] = ..., record: _Optional[_Union[_kindred_pb2.RecordRef, _Mapping]] = ..., identity: _Optional[_Union[_kindred_pb2.IdentityLookup, _Mapping]] = ..., types: _Optional[_Iterable[str]] = ..., from_ms: _Optional[int] = ..., to_ms: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("entity_id", "events", "next_page_token")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entity_id: int
    events: _containers.RepeatedCompositeFieldContainer[_activity_pb2.Event]
    next_page_token: str
    def __init__(self, entity_id: _Optional[int] = ..., events: _Optional[_Iterable[_Union[_activity_pb2.Event, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PropertyFilter(_message.Message):
    __slots__ = ("property", "equals")
    PROPERTY_FIELD_NUMBER: _ClassVar[int]
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    property: str
    equals: str
    def __init__(self, property: _Optional[str] = ..., equals: _Optional[str] = ...) -> None: ...

class TraitDefinition(_message.Message):
    __slots__ = ("name", "event_type", "filters", "aggregate", "property", "window_days", "origin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_FIELD_NUMBER: _ClassVar[int]
    WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    event_type: str
    filters: _containers.RepeatedCompositeFieldContainer[PropertyFilter]
    aggregate: Aggregate
    property: str
    window_days: int
    origin: str
    def __init__(self, name: _Optional[str] = ..., event_type: _Optional[str] = ..., filters: _Optional[_Iterable[_Union[PropertyFilter, _Mapping]]] = ..., aggregate: _Optional[_Union[Aggregate, str]] = ..., property: _Optional[str] = ..., window_days: _Optional[int] = ..., origin: _Optional[str] = ...) -> None: ...

class DefineTraitRequest(_message.Message):
    __slots__ = ("trait",)
    TRAIT_FIELD_NUMBER: _ClassVar[int]
    trait: TraitDefinition
    def __init__(self, trait: _Optional[_Union[TraitDefinition, _Mapping]] = ...) -> None: ...

class ListTraitsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTraitsResponse(_message.Message):
    __slots__ = ("traits",)
    TRAITS_FIELD_NUMBER: _ClassVar[int]
    traits: _containers.RepeatedCompositeFieldContainer[TraitDefinition]
    def __init__(self, traits: _Optional[_Iterable[_Union[TraitDefinition, _Mapping]]] = ...) -> None: ...

class DeleteTraitRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteTraitResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ComputeRfmRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRfmRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RfmCuts(_message.Message):
    __slots__ = ("version", "computed_at_ms", "recency_days", "frequency", "monetary", "customers", "seconds")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RECENCY_DAYS_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MONETARY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    version: int
    computed_at_ms: int
    recency_days: _containers.RepeatedScalarFieldContainer[float]
    frequency: _containers.RepeatedScalarFieldContainer[float]
    monetary: _containers.RepeatedScalarFieldContainer[float]
    customers: int
    seconds: float
    def __init__(self, version: _Optional[int] = ..., computed_at_ms: _Optional[int] = ..., recency_days: _Optional[_Iterable[float]] = ..., frequency: _Optional[_Iterable[float]] = ..., monetary: _Optional[_Iterable[float]] = ..., customers: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...
