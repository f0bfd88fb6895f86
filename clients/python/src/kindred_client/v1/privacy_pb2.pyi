from kindred_client.v1 import activity_pb2 as _activity_pb2
from kindred_client.v1 import kindred_pb2 as _kindred_pb2
from kindred_client.v1 import record_pb2 as _record_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErasureState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERASURE_STATE_UNSPECIFIED: _ClassVar[ErasureState]
    ERASURE_STATE_RECEIVED: _ClassVar[ErasureState]
    ERASURE_STATE_IN_PROGRESS: _ClassVar[ErasureState]
    ERASURE_STATE_DONE: _ClassVar[ErasureState]
    ERASURE_STATE_FAILED: _ClassVar[ErasureState]
ERASURE_STATE_UNSPECIFIED: ErasureState
ERASURE_STATE_RECEIVED: ErasureState
ERASURE_STATE_IN_PROGRESS: ErasureState
ERASURE_STATE_DONE: ErasureState
ERASURE_STATE_FAILED: ErasureState

class IdentifierValue(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    value: str
    def __init__(self, kind: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class PersonRef(_message.Message):
    __slots__ = ("email", "phone", "identifier", "entity_id", "record")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    email: str
    phone: str
    identifier: IdentifierValue
    entity_id: int
    record: _kindred_pb2.RecordRef
    def __init__(self, email: _Optional[str] = ..., phone: _Optional[str] = ..., identifier: _Optional[_Union[IdentifierValue, _Mapping]] = ..., entity_id: _Optional[int] = ..., record: _Optional[_Union[_kindred_pb2.RecordRef, _Mapping]] = ...) -> None: ...

class EraseRequest(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: PersonRef
    def __init__(self, person: _Optional[_Union[PersonRef, _Mapping]] = ...) -> None: ...

class Erasure(_message.Message):
    __slots__ = ("id", "state", "received_at_ms", "done_at_ms", "requested_by", "records_erased", "identifiers_suppressed", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DONE_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    RECORDS_ERASED_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: int
    state: ErasureState
    received_at_ms: int
    done_at_ms: int
    requested_by: str
    records_erased: int
    identifiers_suppressed: int
    error: str
    def __init__(self, id: _Optional[int] = ..., state: _Optional[_Union[ErasureState, str]] = ..., received_at_ms: _Optional[int] = ..., done_at_ms: _Optional[int] = ..., requested_by: _Optional[str] = ..., records_erased: _Optional[int] = ..., identifiers_suppressed: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class EraseResponse(_message.Message):
    __slots__ = ("erasure",)
    ERASURE_FIELD_NUMBER: _ClassVar[int]
    erasure: Erasure
    def __init__(self, erasure: _Optional[_Union[Erasure, _Mapping]] = ...) -> None: ...

class ListErasuresRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListErasuresResponse(_message.Message):
    __slots__ = ("erasures",)
    ERASURES_FIELD_NUMBER: _ClassVar[int]
    erasures: _containers.RepeatedCompositeFieldContainer[Erasure]
    def __init__(self, erasures: _Optional[_Iterable[_Union[Erasure, _Mapping]]] = ...) -> None: ...

class Suppression(_message.Message):
    __slots__ = ("id", "kind", "erasure_id", "at_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ERASURE_ID_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    erasure_id: int
    at_ms: int
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., erasure_id: _Optional[int] = ..., at_ms: _Optional[int] = ...) -> None: ...

class ListSuppressionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSuppressionsResponse(_message.Message):
    __slots__ = ("suppressions",)
    SUPPRESSIONS_FIELD_NUMBER: _ClassVar[int]
    suppressions: _containers.RepeatedCompositeFieldContainer[Suppression]
    def __init__(self, suppressions: _Optional[_Iterable[_Union[Suppression, _Mapping]]] = ...) -> None: ...

class LiftSuppressionRequest(_message.Message):
    __slots__ = ("email", "phone", "identifier", "id")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    email: str
    phone: str
    identifier: IdentifierValue
    id: str
    def __init__(self, email: _Optional[str] = ..., phone: _Optional[str] = ..., identifier: _Optional[_Union[IdentifierValue, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class LiftSuppressionResponse(_message.Message):
    __slots__ = ("lifted",)
    LIFTED_FIELD_NUMBER: _ClassVar[int]
    lifted: int
    def __init__(self, lifted: _Optional[int] = ...) -> None: ...

class RecordDecision(_message.Message):
    __slots__ = ("record", "decision")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    record: _kindred_pb2.RecordRef
    decision: _record_pb2.ConsentDecision
    def __init__(self, record: _Optional[_Union[_kindred_pb2.RecordRef, _Mapping]] = ..., decision: _Optional[_Union[_record_pb2.ConsentDecision, _Mapping]] = ...) -> None: ...

class SetConsentRequest(_message.Message):
    __slots__ = ("decisions",)
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    decisions: _containers.RepeatedCompositeFieldContainer[RecordDecision]
    def __init__(self, decisions: _Optional[_Iterable[_Union[RecordDecision, _Mapping]]] = ...) -> None: ...

class ConsentResult(_message.Message):
    __slots__ = ("record", "purpose", "duplicate", "entity_id", "error", "code")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    record: _kindred_pb2.RecordRef
    purpose: str
    duplicate: bool
    entity_id: int
    error: str
    code: int
    def __init__(self, record: _Optional[_Union[_kindred_pb2.RecordRef, _Mapping]] = ..., purpose: _Optional[str] = ..., duplicate: _Optional[bool] = ..., entity_id: _Optional[int] = ..., error: _Optional[str] = ..., code: _Optional[int] = ...) -> None: ...

class SetConsentResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ConsentResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ConsentResult, _Mapping]]] = ...) -> None: ...

class PrivacyExportRequest(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: PersonRef
    def __init__(self, person: _Optional[_Union[PersonRef, _Mapping]] = ...) -> None: ...

class PrivacyExportResponse(_message.Message):
    __slots__ = ("exported_at_ms", "profile", "events", "consent_decisions", "history", "links", "segments")
    EXPORTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    CONSENT_DECISIONS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    exported_at_ms: int
    profile: _kindred_pb2.Profile
    events: _containers.RepeatedCompositeFieldContainer[_activity_pb2.Event]
    consent_decisions: _containers.RepeatedCompositeFieldContainer[_kindred_pb2.RecordConsent]
    history: _kindred_pb2.EntityHistory
    links: _containers.RepeatedCompositeFieldContainer[_kindred_pb2.PairExplanation]
    segments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, exported_at_ms: _Optional[int] = ..., profile: _Optional[_Union[_kindred_pb2.Profile, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_activity_pb2.Event, _Mapping]]] = ..., consent_decisions: _Optional[_Iterable[_Union[_kindred_pb2.RecordConsent, _Mapping]]] = ..., history: _Optional[_Union[_kindred_pb2.EntityHistory, _Mapping]] = ..., links: _Optional[_Iterable[_Union[_kindred_pb2.PairExplanation, _Mapping]]] = ..., segments: _Optional[_Iterable[str]] = ...) -> None: ...

class ApplyRetentionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ApplyRetentionResponse(_message.Message):
    __slots__ = ("erasure",)
    ERASURE_FIELD_NUMBER: _ClassVar[int]
    erasure: Erasure
    def __init__(self, erasure: _Optional[_Union[Erasure, _Mapping]] = ...) -> None: ...
