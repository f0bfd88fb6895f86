from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConsentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_STATUS_UNSPECIFIED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_GRANTED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_DENIED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_WITHDRAWN: _ClassVar[ConsentStatus]
    CONSENT_STATUS_CONFLICT: _ClassVar[ConsentStatus]
CONSENT_STATUS_UNSPECIFIED: ConsentStatus
CONSENT_STATUS_GRANTED: ConsentStatus
CONSENT_STATUS_DENIED: ConsentStatus
CONSENT_STATUS_WITHDRAWN: ConsentStatus
CONSENT_STATUS_CONFLICT: ConsentStatus

class PersonName(_message.Message):
    __slots__ = ("full", "given", "middle", "family")
    FULL_FIELD_NUMBER: _ClassVar[int]
    GIVEN_FIELD_NUMBER: _ClassVar[int]
    MIDDLE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    full: str
    given: str
    middle: str
    family: str
    def __init__(self, full: _Optional[str] = ..., given: _Optional[str] = ..., middle: _Optional[str] = ..., family: _Optional[str] = ...) -> None: ...

class PostalAddress(_message.Message):
    __slots__ = ("street", "locality", "region", "postcode", "country")
    STREET_FIELD_NUMBER: _ClassVar[int]
    LOCALITY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSTCODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    street: str
    locality: str
    region: str
    postcode: str
    country: str
    def __init__(self, street: _Optional[str] = ..., locality: _Optional[str] = ..., region: _Optional[str] = ..., postcode: _Optional[str] = ..., country: _Optional[str] = ...) -> None: ...

class Identifier(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    value: str
    def __init__(self, kind: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("source", "record_id", "name", "date_of_birth", "date_formats", "gender", "emails", "phones", "addresses", "identifiers", "observed_at_ms", "attributes", "consents")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    DATE_FORMATS_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    PHONES_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    source: str
    record_id: str
    name: PersonName
    date_of_birth: str
    date_formats: _containers.RepeatedScalarFieldContainer[str]
    gender: str
    emails: _containers.RepeatedScalarFieldContainer[str]
    phones: _containers.RepeatedScalarFieldContainer[str]
    addresses: _containers.RepeatedCompositeFieldContainer[PostalAddress]
    identifiers: _containers.RepeatedCompositeFieldContainer[Identifier]
    observed_at_ms: int
    attributes: _containers.ScalarMap[str, str]
    consents: _containers.RepeatedCompositeFieldContainer[ConsentDecision]
    def __init__(self, source: _Optional[str] = ..., record_id: _Optional[str] = ..., name: _Optional[_Union[PersonName, _Mapping]] = ..., date_of_birth: _Optional[str] = ..., date_formats: _Optional[_Iterable[str]] = ..., gender: _Optional[str] = ..., emails: _Optional[_Iterable[str]] = ..., phones: _Optional[_Iterable[str]] = ..., addresses: _Optional[_Iterable[_Union[PostalAddress, _Mapping]]] = ..., identifiers: _Optional[_Iterable[_Union[Identifier, _Mapping]]] = ..., observed_at_ms: _Optional[int] = ..., attributes: _Optional[_Mapping[str, str]] = ..., consents: _Optional[_Iterable[_Union[ConsentDecision, _Mapping]]] = ...) -> None: ...

class ConsentDecision(_message.Message):
    __slots__ = ("purpose", "status", "decided_at_ms")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    purpose: str
    status: ConsentStatus
    decided_at_ms: int
    def __init__(self, purpose: _Optional[str] = ..., status: _Optional[_Union[ConsentStatus, str]] = ..., decided_at_ms: _Optional[int] = ...) -> None: ...
