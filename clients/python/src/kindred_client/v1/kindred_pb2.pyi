from kindred_client.v1 import record_pb2 as _record_pb2
from kindred_client.v1 import activity_pb2 as _activity_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_UNSPECIFIED: _ClassVar[Action]
    ACTION_CREATED: _ClassVar[Action]
    ACTION_JOINED: _ClassVar[Action]
    ACTION_MERGED: _ClassVar[Action]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_MATCH: _ClassVar[Decision]
    DECISION_POSSIBLE_MATCH: _ClassVar[Decision]
    DECISION_NON_MATCH: _ClassVar[Decision]
ACTION_UNSPECIFIED: Action
ACTION_CREATED: Action
ACTION_JOINED: Action
ACTION_MERGED: Action
DECISION_UNSPECIFIED: Decision
DECISION_MATCH: Decision
DECISION_POSSIBLE_MATCH: Decision
DECISION_NON_MATCH: Decision

class RecordRef(_message.Message):
    __slots__ = ("source", "record_id")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    source: str
    record_id: str
    def __init__(self, source: _Optional[str] = ..., record_id: _Optional[str] = ...) -> None: ...

class StandardizationIssue(_message.Message):
    __slots__ = ("field", "value", "reason")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: str
    reason: str
    def __init__(self, field: _Optional[str] = ..., value: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ResolveResult(_message.Message):
    __slots__ = ("record", "entity_id", "action", "absorbed", "replaced", "issues", "possible_matches")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ABSORBED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_MATCHES_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    entity_id: int
    action: Action
    absorbed: _containers.RepeatedScalarFieldContainer[int]
    replaced: bool
    issues: _containers.RepeatedCompositeFieldContainer[StandardizationIssue]
    possible_matches: int
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ..., entity_id: _Optional[int] = ..., action: _Optional[_Union[Action, str]] = ..., absorbed: _Optional[_Iterable[int]] = ..., replaced: _Optional[bool] = ..., issues: _Optional[_Iterable[_Union[StandardizationIssue, _Mapping]]] = ..., possible_matches: _Optional[int] = ...) -> None: ...

class RecordError(_message.Message):
    __slots__ = ("record", "code", "field", "value", "message")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    code: int
    field: str
    value: str
    message: str
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ..., code: _Optional[int] = ..., field: _Optional[str] = ..., value: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: _record_pb2.Record
    def __init__(self, record: _Optional[_Union[_record_pb2.Record, _Mapping]] = ...) -> None: ...

class UpsertResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ResolveResult
    def __init__(self, result: _Optional[_Union[ResolveResult, _Mapping]] = ...) -> None: ...

class BulkUpsertRequest(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_record_pb2.Record]
    def __init__(self, records: _Optional[_Iterable[_Union[_record_pb2.Record, _Mapping]]] = ...) -> None: ...

class BulkItemResult(_message.Message):
    __slots__ = ("index", "ok", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    ok: ResolveResult
    error: RecordError
    def __init__(self, index: _Optional[int] = ..., ok: _Optional[_Union[ResolveResult, _Mapping]] = ..., error: _Optional[_Union[RecordError, _Mapping]] = ...) -> None: ...

class BulkUpsertResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BulkItemResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BulkItemResult, _Mapping]]] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ("affected_entities",)
    AFFECTED_ENTITIES_FIELD_NUMBER: _ClassVar[int]
    affected_entities: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, affected_entities: _Optional[_Iterable[int]] = ...) -> None: ...

class GetRecordRequest(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ...) -> None: ...

class GetRecordResponse(_message.Message):
    __slots__ = ("record", "entity_id", "issues")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    record: _record_pb2.Record
    entity_id: int
    issues: _containers.RepeatedCompositeFieldContainer[StandardizationIssue]
    def __init__(self, record: _Optional[_Union[_record_pb2.Record, _Mapping]] = ..., entity_id: _Optional[int] = ..., issues: _Optional[_Iterable[_Union[StandardizationIssue, _Mapping]]] = ...) -> None: ...

class IdentityLookup(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    value: str
    def __init__(self, kind: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class GetProfileRequest(_message.Message):
    __slots__ = ("entity_id", "record", "identity")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    entity_id: int
    record: RecordRef
    identity: IdentityLookup
    def __init__(self, entity_id: _Optional[int] = ..., record: _Optional[_Union[RecordRef, _Mapping]] = ..., identity: _Optional[_Union[IdentityLookup, _Mapping]] = ...) -> None: ...

class GoldenValue(_message.Message):
    __slots__ = ("value", "source_record", "rule")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RECORD_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    value: str
    source_record: RecordRef
    rule: str
    def __init__(self, value: _Optional[str] = ..., source_record: _Optional[_Union[RecordRef, _Mapping]] = ..., rule: _Optional[str] = ...) -> None: ...

class GoldenRecord(_message.Message):
    __slots__ = ("given_name", "middle_name", "family_name", "date_of_birth", "gender", "email", "phone", "address", "identifiers")
    class IdentifiersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: GoldenValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[GoldenValue, _Mapping]] = ...) -> None: ...
    GIVEN_NAME_FIELD_NUMBER: _ClassVar[int]
    MIDDLE_NAME_FIELD_NUMBER: _ClassVar[int]
    FAMILY_NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    given_name: GoldenValue
    middle_name: GoldenValue
    family_name: GoldenValue
    date_of_birth: GoldenValue
    gender: GoldenValue
    email: GoldenValue
    phone: GoldenValue
    address: GoldenValue
    identifiers: _containers.MessageMap[str, GoldenValue]
    def __init__(self, given_name: _Optional[_Union[GoldenValue, _Mapping]] = ..., middle_name: _Optional[_Union[GoldenValue, _Mapping]] = ..., family_name: _Optional[_Union[GoldenValue, _Mapping]] = ..., date_of_birth: _Optional[_Union[GoldenValue, _Mapping]] = ..., gender: _Optional[_Union[GoldenValue, _Mapping]] = ..., email: _Optional[_Union[GoldenValue, _Mapping]] = ..., phone: _Optional[_Union[GoldenValue, _Mapping]] = ..., address: _Optional[_Union[GoldenValue, _Mapping]] = ..., identifiers: _Optional[_Mapping[str, GoldenValue]] = ...) -> None: ...

class Identity(_message.Message):
    __slots__ = ("kind", "value", "records")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    value: str
    records: _containers.RepeatedCompositeFieldContainer[RecordRef]
    def __init__(self, kind: _Optional[str] = ..., value: _Optional[str] = ..., records: _Optional[_Iterable[_Union[RecordRef, _Mapping]]] = ...) -> None: ...

class Relationship(_message.Message):
    __slots__ = ("other_entity_id", "record", "other_record", "probability", "weight")
    OTHER_ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    OTHER_RECORD_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    other_entity_id: int
    record: RecordRef
    other_record: RecordRef
    probability: float
    weight: float
    def __init__(self, other_entity_id: _Optional[int] = ..., record: _Optional[_Union[RecordRef, _Mapping]] = ..., other_record: _Optional[_Union[RecordRef, _Mapping]] = ..., probability: _Optional[float] = ..., weight: _Optional[float] = ...) -> None: ...

class Profile(_message.Message):
    __slots__ = ("entity_id", "golden", "identities", "records", "attributes", "possible_matches", "merged_ids", "traits", "lifecycle", "rfm", "recent_events", "consent", "segments", "open_triggers")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    GOLDEN_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_MATCHES_FIELD_NUMBER: _ClassVar[int]
    MERGED_IDS_FIELD_NUMBER: _ClassVar[int]
    TRAITS_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    RFM_FIELD_NUMBER: _ClassVar[int]
    RECENT_EVENTS_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    entity_id: int
    golden: GoldenRecord
    identities: _containers.RepeatedCompositeFieldContainer[Identity]
    records: _containers.RepeatedCompositeFieldContainer[_record_pb2.Record]
    attributes: _containers.ScalarMap[str, str]
    possible_matches: _containers.RepeatedCompositeFieldContainer[Relationship]
    merged_ids: _containers.RepeatedScalarFieldContainer[int]
    traits: _containers.RepeatedCompositeFieldContainer[_activity_pb2.TraitValue]
    lifecycle: _activity_pb2.Lifecycle
    rfm: _activity_pb2.Rfm
    recent_events: _containers.RepeatedCompositeFieldContainer[_activity_pb2.Event]
    consent: _containers.RepeatedCompositeFieldContainer[PurposeConsent]
    segments: _containers.RepeatedScalarFieldContainer[str]
    open_triggers: _containers.RepeatedCompositeFieldContainer[_activity_pb2.OpenTrigger]
    def __init__(self, entity_id: _Optional[int] = ..., golden: _Optional[_Union[GoldenRecord, _Mapping]] = ..., identities: _Optional[_Iterable[_Union[Identity, _Mapping]]] = ..., records: _Optional[_Iterable[_Union[_record_pb2.Record, _Mapping]]] = ..., attributes: _Optional[_Mapping[str, str]] = ..., possible_matches: _Optional[_Iterable[_Union[Relationship, _Mapping]]] = ..., merged_ids: _Optional[_Iterable[int]] = ..., traits: _Optional[_Iterable[_Union[_activity_pb2.TraitValue, _Mapping]]] = ..., lifecycle: _Optional[_Union[_activity_pb2.Lifecycle, _Mapping]] = ..., rfm: _Optional[_Union[_activity_pb2.Rfm, _Mapping]] = ..., recent_events: _Optional[_Iterable[_Union[_activity_pb2.Event, _Mapping]]] = ..., consent: _Optional[_Iterable[_Union[PurposeConsent, _Mapping]]] = ..., segments: _Optional[_Iterable[str]] = ..., open_triggers: _Optional[_Iterable[_Union[_activity_pb2.OpenTrigger, _Mapping]]] = ...) -> None: ...

class PurposeConsent(_message.Message):
    __slots__ = ("purpose", "status", "granted", "decided_at_ms", "decided_by")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    purpose: str
    status: _record_pb2.ConsentStatus
    granted: bool
    decided_at_ms: int
    decided_by: _containers.RepeatedCompositeFieldContainer[RecordConsent]
    def __init__(self, purpose: _Optional[str] = ..., status: _Optional[_Union[_record_pb2.ConsentStatus, str]] = ..., granted: _Optional[bool] = ..., decided_at_ms: _Optional[int] = ..., decided_by: _Optional[_Iterable[_Union[RecordConsent, _Mapping]]] = ...) -> None: ...

class RecordConsent(_message.Message):
    __slots__ = ("record", "purpose", "status", "decided_at_ms")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    purpose: str
    status: _record_pb2.ConsentStatus
    decided_at_ms: int
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ..., purpose: _Optional[str] = ..., status: _Optional[_Union[_record_pb2.ConsentStatus, str]] = ..., decided_at_ms: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("query", "limit", "min_probability")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIN_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    query: _record_pb2.Record
    limit: int
    min_probability: float
    def __init__(self, query: _Optional[_Union[_record_pb2.Record, _Mapping]] = ..., limit: _Optional[int] = ..., min_probability: _Optional[float] = ...) -> None: ...

class SearchCandidate(_message.Message):
    __slots__ = ("entity_id", "probability", "weight", "best_record", "golden")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    BEST_RECORD_FIELD_NUMBER: _ClassVar[int]
    GOLDEN_FIELD_NUMBER: _ClassVar[int]
    entity_id: int
    probability: float
    weight: float
    best_record: RecordRef
    golden: GoldenRecord
    def __init__(self, entity_id: _Optional[int] = ..., probability: _Optional[float] = ..., weight: _Optional[float] = ..., best_record: _Optional[_Union[RecordRef, _Mapping]] = ..., golden: _Optional[_Union[GoldenRecord, _Mapping]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("candidates",)
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[SearchCandidate]
    def __init__(self, candidates: _Optional[_Iterable[_Union[SearchCandidate, _Mapping]]] = ...) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ("chunk_size", "purpose")
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    chunk_size: int
    purpose: str
    def __init__(self, chunk_size: _Optional[int] = ..., purpose: _Optional[str] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("record", "entity_id")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    entity_id: int
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ..., entity_id: _Optional[int] = ...) -> None: ...

class ExportChunk(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ...) -> None: ...

class WhyRecordsRequest(_message.Message):
    __slots__ = ("a", "b")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    a: RecordRef
    b: RecordRef
    def __init__(self, a: _Optional[_Union[RecordRef, _Mapping]] = ..., b: _Optional[_Union[RecordRef, _Mapping]] = ...) -> None: ...

class AttributeComparison(_message.Message):
    __slots__ = ("attribute", "level", "label", "weight", "tf_adjustment")
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    TF_ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    attribute: str
    level: int
    label: str
    weight: float
    tf_adjustment: float
    def __init__(self, attribute: _Optional[str] = ..., level: _Optional[int] = ..., label: _Optional[str] = ..., weight: _Optional[float] = ..., tf_adjustment: _Optional[float] = ...) -> None: ...

class PairExplanation(_message.Message):
    __slots__ = ("a", "b", "comparisons", "prior_weight", "total_weight", "probability", "match_threshold", "possible_threshold", "decision", "names_swapped", "candidates", "same_entity")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    PRIOR_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    MATCH_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    NAMES_SWAPPED_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    SAME_ENTITY_FIELD_NUMBER: _ClassVar[int]
    a: RecordRef
    b: RecordRef
    comparisons: _containers.RepeatedCompositeFieldContainer[AttributeComparison]
    prior_weight: float
    total_weight: float
    probability: float
    match_threshold: float
    possible_threshold: float
    decision: Decision
    names_swapped: bool
    candidates: bool
    same_entity: bool
    def __init__(self, a: _Optional[_Union[RecordRef, _Mapping]] = ..., b: _Optional[_Union[RecordRef, _Mapping]] = ..., comparisons: _Optional[_Iterable[_Union[AttributeComparison, _Mapping]]] = ..., prior_weight: _Optional[float] = ..., total_weight: _Optional[float] = ..., probability: _Optional[float] = ..., match_threshold: _Optional[float] = ..., possible_threshold: _Optional[float] = ..., decision: _Optional[_Union[Decision, str]] = ..., names_swapped: _Optional[bool] = ..., candidates: _Optional[bool] = ..., same_entity: _Optional[bool] = ...) -> None: ...

class WhyEntityRequest(_message.Message):
    __slots__ = ("record", "entity_id")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    entity_id: int
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ..., entity_id: _Optional[int] = ...) -> None: ...

class EntityExplanation(_message.Message):
    __slots__ = ("record", "entity_id", "member", "pairs")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    record: RecordRef
    entity_id: int
    member: bool
    pairs: _containers.RepeatedCompositeFieldContainer[PairExplanation]
    def __init__(self, record: _Optional[_Union[RecordRef, _Mapping]] = ..., entity_id: _Optional[int] = ..., member: _Optional[bool] = ..., pairs: _Optional[_Iterable[_Union[PairExplanation, _Mapping]]] = ...) -> None: ...

class HowRequest(_message.Message):
    __slots__ = ("entity_id",)
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    entity_id: int
    def __init__(self, entity_id: _Optional[int] = ...) -> None: ...

class Via(_message.Message):
    __slots__ = ("a", "b", "weight")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    a: RecordRef
    b: RecordRef
    weight: float
    def __init__(self, a: _Optional[_Union[RecordRef, _Mapping]] = ..., b: _Optional[_Union[RecordRef, _Mapping]] = ..., weight: _Optional[float] = ...) -> None: ...

class HistoryEvent(_message.Message):
    __slots__ = ("step", "at_ms", "entity_id", "kind", "related_entities", "record", "via")
    STEP_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RELATED_ENTITIES_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    step: int
    at_ms: int
    entity_id: int
    kind: str
    related_entities: _containers.RepeatedScalarFieldContainer[int]
    record: RecordRef
    via: Via
    def __init__(self, step: _Optional[int] = ..., at_ms: _Optional[int] = ..., entity_id: _Optional[int] = ..., kind: _Optional[str] = ..., related_entities: _Optional[_Iterable[int]] = ..., record: _Optional[_Union[RecordRef, _Mapping]] = ..., via: _Optional[_Union[Via, _Mapping]] = ...) -> None: ...

class EntityHistory(_message.Message):
    __slots__ = ("entity_id", "records", "events")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    entity_id: int
    records: _containers.RepeatedCompositeFieldContainer[RecordRef]
    events: _containers.RepeatedCompositeFieldContainer[HistoryEvent]
    def __init__(self, entity_id: _Optional[int] = ..., records: _Optional[_Iterable[_Union[RecordRef, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[HistoryEvent, _Mapping]]] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("records", "entities", "merges", "splits", "possible_matches", "match_edges", "comparisons", "blocking_keys", "demoted_keys", "model_version", "reresolving_records", "events", "activity_bytes")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    MERGES_FIELD_NUMBER: _ClassVar[int]
    SPLITS_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_MATCHES_FIELD_NUMBER: _ClassVar[int]
    MATCH_EDGES_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    BLOCKING_KEYS_FIELD_NUMBER: _ClassVar[int]
    DEMOTED_KEYS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RERESOLVING_RECORDS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_BYTES_FIELD_NUMBER: _ClassVar[int]
    records: int
    entities: int
    merges: int
    splits: int
    possible_matches: int
    match_edges: int
    comparisons: int
    blocking_keys: int
    demoted_keys: int
    model_version: int
    reresolving_records: int
    events: int
    activity_bytes: int
    def __init__(self, records: _Optional[int] = ..., entities: _Optional[int] = ..., merges: _Optional[int] = ..., splits: _Optional[int] = ..., possible_matches: _Optional[int] = ..., match_edges: _Optional[int] = ..., comparisons: _Optional[int] = ..., blocking_keys: _Optional[int] = ..., demoted_keys: _Optional[int] = ..., model_version: _Optional[int] = ..., reresolving_records: _Optional[int] = ..., events: _Optional[int] = ..., activity_bytes: _Optional[int] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("max_records", "dry_run", "force")
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    max_records: int
    dry_run: bool
    force: bool
    def __init__(self, max_records: _Optional[int] = ..., dry_run: _Optional[bool] = ..., force: _Optional[bool] = ...) -> None: ...

class TrainResponse(_message.Message):
    __slots__ = ("model_version", "model_json", "records_used", "seconds", "warnings", "implausible", "installed")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_JSON_FIELD_NUMBER: _ClassVar[int]
    RECORDS_USED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    IMPLAUSIBLE_FIELD_NUMBER: _ClassVar[int]
    INSTALLED_FIELD_NUMBER: _ClassVar[int]
    model_version: int
    model_json: str
    records_used: int
    seconds: float
    warnings: _containers.RepeatedScalarFieldContainer[str]
    implausible: bool
    installed: bool
    def __init__(self, model_version: _Optional[int] = ..., model_json: _Optional[str] = ..., records_used: _Optional[int] = ..., seconds: _Optional[float] = ..., warnings: _Optional[_Iterable[str]] = ..., implausible: _Optional[bool] = ..., installed: _Optional[bool] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelResponse(_message.Message):
    __slots__ = ("model_version", "model_json", "reresolving_records")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_JSON_FIELD_NUMBER: _ClassVar[int]
    RERESOLVING_RECORDS_FIELD_NUMBER: _ClassVar[int]
    model_version: int
    model_json: str
    reresolving_records: int
    def __init__(self, model_version: _Optional[int] = ..., model_json: _Optional[str] = ..., reresolving_records: _Optional[int] = ...) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("since_ms", "limit")
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    since_ms: int
    limit: int
    def __init__(self, since_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("at_ms", "node", "caller", "role", "action", "remote", "outcome")
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REMOTE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    at_ms: int
    node: int
    caller: str
    role: str
    action: str
    remote: str
    outcome: str
    def __init__(self, at_ms: _Optional[int] = ..., node: _Optional[int] = ..., caller: _Optional[str] = ..., role: _Optional[str] = ..., action: _Optional[str] = ..., remote: _Optional[str] = ..., outcome: _Optional[str] = ...) -> None: ...

class ListAuditResponse(_message.Message):
    __slots__ = ("entries", "unreachable")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    UNREACHABLE_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    unreachable: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ..., unreachable: _Optional[_Iterable[str]] = ...) -> None: ...
