from kindred_client.v1 import activity_pb2 as _activity_pb2
from kindred_client.v1 import events_pb2 as _events_pb2
from kindred_client.v1 import kindred_pb2 as _kindred_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Operator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATOR_UNSPECIFIED: _ClassVar[Operator]
    OPERATOR_EQ: _ClassVar[Operator]
    OPERATOR_NE: _ClassVar[Operator]
    OPERATOR_LT: _ClassVar[Operator]
    OPERATOR_LE: _ClassVar[Operator]
    OPERATOR_GT: _ClassVar[Operator]
    OPERATOR_GE: _ClassVar[Operator]
    OPERATOR_IN: _ClassVar[Operator]
    OPERATOR_EXISTS: _ClassVar[Operator]
    OPERATOR_MISSING: _ClassVar[Operator]
    OPERATOR_CONTAINS: _ClassVar[Operator]

class MembershipChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBERSHIP_CHANGE_UNSPECIFIED: _ClassVar[MembershipChange]
    MEMBERSHIP_CHANGE_ENTERED: _ClassVar[MembershipChange]
    MEMBERSHIP_CHANGE_LEFT: _ClassVar[MembershipChange]
    MEMBERSHIP_CHANGE_MERGED: _ClassVar[MembershipChange]
    MEMBERSHIP_CHANGE_TRIGGER_FIRED: _ClassVar[MembershipChange]
OPERATOR_UNSPECIFIED: Operator
OPERATOR_EQ: Operator
OPERATOR_NE: Operator
OPERATOR_LT: Operator
OPERATOR_LE: Operator
OPERATOR_GT: Operator
OPERATOR_GE: Operator
OPERATOR_IN: Operator
OPERATOR_EXISTS: Operator
OPERATOR_MISSING: Operator
OPERATOR_CONTAINS: Operator
MEMBERSHIP_CHANGE_UNSPECIFIED: MembershipChange
MEMBERSHIP_CHANGE_ENTERED: MembershipChange
MEMBERSHIP_CHANGE_LEFT: MembershipChange
MEMBERSHIP_CHANGE_MERGED: MembershipChange
MEMBERSHIP_CHANGE_TRIGGER_FIRED: MembershipChange

class FieldCondition(_message.Message):
    __slots__ = ("field", "op", "value", "any_of")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    ANY_OF_FIELD_NUMBER: _ClassVar[int]
    field: str
    op: Operator
    value: _activity_pb2.PropertyValue
    any_of: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, field: _Optional[str] = ..., op: _Optional[_Union[Operator, str]] = ..., value: _Optional[_Union[_activity_pb2.PropertyValue, _Mapping]] = ..., any_of: _Optional[_Iterable[str]] = ...) -> None: ...

class TraitCondition(_message.Message):
    __slots__ = ("name", "op", "value", "any_of")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    ANY_OF_FIELD_NUMBER: _ClassVar[int]
    name: str
    op: Operator
    value: _activity_pb2.PropertyValue
    any_of: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., op: _Optional[_Union[Operator, str]] = ..., value: _Optional[_Union[_activity_pb2.PropertyValue, _Mapping]] = ..., any_of: _Optional[_Iterable[str]] = ...) -> None: ...

class StageCondition(_message.Message):
    __slots__ = ("any_of",)
    ANY_OF_FIELD_NUMBER: _ClassVar[int]
    any_of: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, any_of: _Optional[_Iterable[str]] = ...) -> None: ...

class RfmCondition(_message.Message):
    __slots__ = ("groups", "min_recency", "min_frequency", "min_monetary")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    MIN_RECENCY_FIELD_NUMBER: _ClassVar[int]
    MIN_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MIN_MONETARY_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedScalarFieldContainer[str]
    min_recency: int
    min_frequency: int
    min_monetary: int
    def __init__(self, groups: _Optional[_Iterable[str]] = ..., min_recency: _Optional[int] = ..., min_frequency: _Optional[int] = ..., min_monetary: _Optional[int] = ...) -> None: ...

class PerformedCondition(_message.Message):
    __slots__ = ("event_type", "filters", "at_least", "within_days")
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    AT_LEAST_FIELD_NUMBER: _ClassVar[int]
    WITHIN_DAYS_FIELD_NUMBER: _ClassVar[int]
    event_type: str
    filters: _containers.RepeatedCompositeFieldContainer[_events_pb2.PropertyFilter]
    at_least: int
    within_days: int
    def __init__(self, event_type: _Optional[str] = ..., filters: _Optional[_Iterable[_Union[_events_pb2.PropertyFilter, _Mapping]]] = ..., at_least: _Optional[int] = ..., within_days: _Optional[int] = ...) -> None: ...

class Conditions(_message.Message):
    __slots__ = ("of",)
    OF_FIELD_NUMBER: _ClassVar[int]
    of: _containers.RepeatedCompositeFieldContainer[Condition]
    def __init__(self, of: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("all", "any", "field", "trait", "stage", "rfm", "performed", "not_performed", "has_source", "in_segment", "has_consent")
    ALL_FIELD_NUMBER: _ClassVar[int]
    ANY_FIELD_NUMBER: _ClassVar[int]
    NOT_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TRAIT_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    RFM_FIELD_NUMBER: _ClassVar[int]
    PERFORMED_FIELD_NUMBER: _ClassVar[int]
    NOT_PERFORMED_FIELD_NUMBER: _ClassVar[int]
    HAS_SOURCE_FIELD_NUMBER: _ClassVar[int]
    IN_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    HAS_CONSENT_FIELD_NUMBER: _ClassVar[int]
    all: Conditions
    any: Conditions
    field: FieldCondition
    trait: TraitCondition
    stage: StageCondition
    rfm: RfmCondition
    performed: PerformedCondition
    not_performed: PerformedCondition
    has_source: str
    in_segment: str
    has_consent: str
    def __init__(self, all: _Optional[_Union[Conditions, _Mapping]] = ..., any: _Optional[_Union[Conditions, _Mapping]] = ..., field: _Optional[_Union[FieldCondition, _Mapping]] = ..., trait: _Optional[_Union[TraitCondition, _Mapping]] = ..., stage: _Optional[_Union[StageCondition, _Mapping]] = ..., rfm: _Optional[_Union[RfmCondition, _Mapping]] = ..., performed: _Optional[_Union[PerformedCondition, _Mapping]] = ..., not_performed: _Optional[_Union[PerformedCondition, _Mapping]] = ..., has_source: _Optional[str] = ..., in_segment: _Optional[str] = ..., has_consent: _Optional[str] = ..., **kwargs) -> None: ...

class Segment(_message.Message):
    __slots__ = ("name", "description", "condition", "origin", "version", "updated_at_ms", "realtime_conditions", "time_conditions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REALTIME_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    TIME_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    condition: Condition
    origin: str
    version: int
    updated_at_ms: int
    realtime_conditions: _containers.RepeatedScalarFieldContainer[str]
    time_conditions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., condition: _Optional[_Union[Condition, _Mapping]] = ..., origin: _Optional[str] = ..., version: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., realtime_conditions: _Optional[_Iterable[str]] = ..., time_conditions: _Optional[_Iterable[str]] = ...) -> None: ...

class SegmentsCreateRequest(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class SegmentsCreateResponse(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class SegmentsUpdateRequest(_message.Message):
    __slots__ = ("segment", "expected_version")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    expected_version: int
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class SegmentsUpdateResponse(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class SegmentsDeleteRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SegmentsDeleteResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SegmentsListRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SegmentsListResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    def __init__(self, segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ...) -> None: ...

class SegmentsGetRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SegmentsGetResponse(_message.Message):
    __slots__ = ("segment", "size", "swept_at_ms")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SWEPT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    size: int
    swept_at_ms: int
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ..., size: _Optional[int] = ..., swept_at_ms: _Optional[int] = ...) -> None: ...

class SegmentsMembersRequest(_message.Message):
    __slots__ = ("name", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SegmentsMembersResponse(_message.Message):
    __slots__ = ("entity_ids", "next_page_token", "entered_at_ms")
    ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ENTERED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    entity_ids: _containers.RepeatedScalarFieldContainer[int]
    next_page_token: str
    entered_at_ms: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, entity_ids: _Optional[_Iterable[int]] = ..., next_page_token: _Optional[str] = ..., entered_at_ms: _Optional[_Iterable[int]] = ...) -> None: ...

class SegmentsExportRequest(_message.Message):
    __slots__ = ("name", "purpose")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    name: str
    purpose: str
    def __init__(self, name: _Optional[str] = ..., purpose: _Optional[str] = ...) -> None: ...

class SegmentsExportResponse(_message.Message):
    __slots__ = ("profile",)
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    profile: _kindred_pb2.Profile
    def __init__(self, profile: _Optional[_Union[_kindred_pb2.Profile, _Mapping]] = ...) -> None: ...

class SegmentsValidateRequest(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class SegmentProblem(_message.Message):
    __slots__ = ("path", "message")
    PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    path: str
    message: str
    def __init__(self, path: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SegmentsValidateResponse(_message.Message):
    __slots__ = ("problems", "realtime_conditions", "time_conditions")
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    REALTIME_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    TIME_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    problems: _containers.RepeatedCompositeFieldContainer[SegmentProblem]
    realtime_conditions: _containers.RepeatedScalarFieldContainer[str]
    time_conditions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, problems: _Optional[_Iterable[_Union[SegmentProblem, _Mapping]]] = ..., realtime_conditions: _Optional[_Iterable[str]] = ..., time_conditions: _Optional[_Iterable[str]] = ...) -> None: ...

class SegmentsWatchRequest(_message.Message):
    __slots__ = ("segments", "cursor", "triggers")
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedScalarFieldContainer[str]
    cursor: str
    triggers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, segments: _Optional[_Iterable[str]] = ..., cursor: _Optional[str] = ..., triggers: _Optional[_Iterable[str]] = ...) -> None: ...

class TriggerFiring(_message.Message):
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

class SegmentsWatchResponse(_message.Message):
    __slots__ = ("change", "segment", "entity_id", "merged_into", "at_ms", "cursor", "fired")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FIRED_FIELD_NUMBER: _ClassVar[int]
    change: MembershipChange
    segment: str
    entity_id: int
    merged_into: int
    at_ms: int
    cursor: str
    fired: TriggerFiring
    def __init__(self, change: _Optional[_Union[MembershipChange, str]] = ..., segment: _Optional[str] = ..., entity_id: _Optional[int] = ..., merged_into: _Optional[int] = ..., at_ms: _Optional[int] = ..., cursor: _Optional[str] = ..., fired: _Optional[_Union[TriggerFiring, _Mapping]] = ...) -> None: ...

class Trigger(_message.Message):
    __slots__ = ("name", "start_types", "cancel_types", "match_on", "after_seconds", "cooldown_hours", "late_hours", "version", "origin", "active_from_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_TYPES_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TYPES_FIELD_NUMBER: _ClassVar[int]
    MATCH_ON_FIELD_NUMBER: _ClassVar[int]
    AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_HOURS_FIELD_NUMBER: _ClassVar[int]
    LATE_HOURS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FROM_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    start_types: _containers.RepeatedScalarFieldContainer[str]
    cancel_types: _containers.RepeatedScalarFieldContainer[str]
    match_on: str
    after_seconds: int
    cooldown_hours: int
    late_hours: int
    version: int
    origin: str
    active_from_ms: int
    def __init__(self, name: _Optional[str] = ..., start_types: _Optional[_Iterable[str]] = ..., cancel_types: _Optional[_Iterable[str]] = ..., match_on: _Optional[str] = ..., after_seconds: _Optional[int] = ..., cooldown_hours: _Optional[int] = ..., late_hours: _Optional[int] = ..., version: _Optional[int] = ..., origin: _Optional[str] = ..., active_from_ms: _Optional[int] = ...) -> None: ...

class TriggersCreateRequest(_message.Message):
    __slots__ = ("trigger",)
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    trigger: Trigger
    def __init__(self, trigger: _Optional[_Union[Trigger, _Mapping]] = ...) -> None: ...

class TriggersCreateResponse(_message.Message):
    __slots__ = ("trigger",)
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    trigger: Trigger
    def __init__(self, trigger: _Optional[_Union[Trigger, _Mapping]] = ...) -> None: ...

class TriggersUpdateRequest(_message.Message):
    __slots__ = ("trigger", "expected_version")
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    trigger: Trigger
    expected_version: int
    def __init__(self, trigger: _Optional[_Union[Trigger, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class TriggersUpdateResponse(_message.Message):
    __slots__ = ("trigger",)
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    trigger: Trigger
    def __init__(self, trigger: _Optional[_Union[Trigger, _Mapping]] = ...) -> None: ...

class TriggersDeleteRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class TriggersDeleteResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TriggersListRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TriggersListResponse(_message.Message):
    __slots__ = ("triggers",)
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    triggers: _containers.RepeatedCompositeFieldContainer[Trigger]
    def __init__(self, triggers: _Optional[_Iterable[_Union[Trigger, _Mapping]]] = ...) -> None: ...
