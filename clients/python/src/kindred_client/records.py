"""Building ``kindred.v1`` messages from plain Python values.

A record can be given as a :class:`~kindred_client.v1.record_pb2.Record`
message or as a mapping (a ``dict``, a DataFrame row). The mapping's keys
are the field names of the CLI's column mappings (``kindred import
--mapping``)::

    {
        "source": "crm", "record_id": "C-1042",
        "given_name": "Jane", "family_name": "Doe",    # or "full_name"; also "middle_name"
        "date_of_birth": "1985-07-14",                 # any format the node reads, or a date
        "gender": "F",
        "email": "jane@example.com",                   # a string or a list of strings
        "phone": ["+61 2 9876 5432", "0412 345 678"],
        "street": "12 Harbour St", "locality": "Sydney", "region": "NSW",
        "postcode": "2000", "country": "AU",           # one postal address
        "observed_at": "2024-05-01T10:00:00Z",         # datetime, date or ISO 8601 text
        "identifiers": {"loyalty_number": "LN-7788"},  # or "identifiers.loyalty_number": ...
        "attributes": {"tier": "gold"},                # or "attributes.tier": ...
    }

The message's own field names are accepted as well: ``name`` (a mapping
of ``full``/``given``/``middle``/``family``), ``emails``, ``phones``,
``addresses`` (a list of mappings), ``date_formats``, ``observed_at_ms``,
``identifiers`` as a list of ``{"kind", "value"}``. Missing values —
``None``, empty strings, NaN, ``pandas.NA``, ``NaT`` — are left out, so a
DataFrame with gaps needs no cleaning. Numbers become text (an integral
float such as ``2000.0`` becomes ``"2000"``; read identifier-like columns
as text, e.g. ``pandas.read_csv(..., dtype=str)``, to keep leading zeros).

Values are sent as they are: standardising them (names, dates, phones,
emails, addresses) is the node's job, and what it cannot standardise it
keeps and reports as an issue on the result.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Union

from .errors import InvalidArgument
from .v1 import activity_pb2, kindred_pb2, record_pb2

__all__ = [
    "RecordLike",
    "RecordRefLike",
    "EventLike",
    "RowMapper",
    "to_record",
    "to_record_ref",
    "to_event",
    "is_missing",
]

RecordLike = Union[record_pb2.Record, Mapping[str, Any]]
"""A record: a ``Record`` message or a mapping of field names to values."""

RecordRefLike = Union[kindred_pb2.RecordRef, str, tuple[str, str], Mapping[str, Any]]
"""A record reference: ``"crm:C-1042"`` (split at the first colon), a
``(source, record_id)`` tuple, a ``{"source", "record_id"}`` mapping or a
``RecordRef`` message."""

EventLike = Union[activity_pb2.Event, Mapping[str, Any]]
"""An event: an ``Event`` message or a mapping (see :func:`to_event`)."""

Extra = Literal["error", "attributes", "ignore"]

_NAME_KEYS = {"full_name": "full", "given_name": "given", "middle_name": "middle", "family_name": "family"}
_ADDRESS_KEYS = ("street", "locality", "region", "postcode", "country")
_SCALAR_KEYS = ("source", "record_id", "gender")
_LIST_KEYS = {"email": "emails", "emails": "emails", "phone": "phones", "phones": "phones"}
RECORD_KEYS = frozenset(
    {
        *_NAME_KEYS,
        *_ADDRESS_KEYS,
        *_SCALAR_KEYS,
        *_LIST_KEYS,
        "name",
        "addresses",
        "date_of_birth",
        "date_formats",
        "observed_at",
        "observed_at_ms",
        "identifiers",
        "attributes",
    }
)
"""The keys a record mapping may have (besides ``identifiers.KIND`` and
``attributes.NAME``)."""


def is_missing(value: Any) -> bool:
    """True for values that mean "no value": None, "", NaN, pandas.NA, NaT."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    # pandas.NA, pandas.NaT, numpy.nan and numpy.datetime64("NaT") without
    # importing pandas or numpy.
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)  # NaN-like scalars
    except (TypeError, ValueError):
        return False


def _text(value: Any, field: str) -> str:
    """A scalar as the text sent to the node."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        raise InvalidArgument(
            f"{field}: bytes are not text; decode them first", field=field, value=repr(value), reason="not text"
        )
    if _as_list(value) is not None or isinstance(value, Mapping):
        raise InvalidArgument(
            f"{field}: expected a single value, got {type(value).__name__}",
            field=field,
            value=repr(value),
            reason="expected a single value",
        )
    if hasattr(value, "item"):  # a numpy scalar
        return _text(value.item(), field)
    return str(value).strip()


def _as_list(value: Any) -> list[Any] | None:
    """The items of a list-like value (list, tuple, set, array, Series); None
    for a scalar."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if getattr(value, "ndim", 0) >= 1 and hasattr(value, "tolist"):  # numpy array, pandas Series
        items = value.tolist()
        return items if isinstance(items, list) else [items]
    return None


def _texts(value: Any, field: str) -> list[str]:
    """One value or a list of values, missing ones dropped."""
    items = _as_list(value)
    if items is None:
        return [] if is_missing(value) else [_text(value, field)]
    return [_text(v, f"{field}[{i}]") for i, v in enumerate(items) if not is_missing(v)]


def is_missing_or_empty_list(value: Any) -> bool:
    """True for a missing value (see :func:`is_missing`) or an empty list."""
    items = _as_list(value)
    if items is not None:
        return len(items) == 0
    return is_missing(value)


def _date(value: Any, field: str) -> str:
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        return _date(value.to_pydatetime(), field)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return _text(value, field)


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def timestamp_ms(value: Any, field: str) -> int:
    """Milliseconds since the Unix epoch of a datetime, a date or ISO 8601
    text. Naive datetimes are taken as UTC."""
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        value = value.to_pydatetime()
    if isinstance(value, str):
        text = value.strip()
        iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text  # "Z": Python 3.10's fromisoformat
        try:
            value = _dt.datetime.fromisoformat(iso)
        except ValueError:
            raise InvalidArgument(
                f"{field}: cannot read {text!r} as an ISO 8601 date or date-time",
                field=field,
                value=text,
                reason="not an ISO 8601 date or date-time",
            ) from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        delta: _dt.timedelta = value - _EPOCH
        return delta // _dt.timedelta(milliseconds=1)  # exact, unlike timestamp() * 1000
    if isinstance(value, _dt.date):
        return (_dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc) - _EPOCH) // _dt.timedelta(
            milliseconds=1
        )
    raise InvalidArgument(
        f"{field}: expected a datetime, a date or ISO 8601 text, got {type(value).__name__} "
        f"(give milliseconds since the epoch as {field}_ms)",
        field=field,
        value=repr(value),
        reason="not a date or date-time",
    )


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if hasattr(value, "item"):
            return _int(value.item(), field)
        raise InvalidArgument(
            f"{field}: expected an integer, got {value!r}", field=field, value=repr(value), reason="not an integer"
        )
    f = float(value)
    if not f.is_integer():
        raise InvalidArgument(
            f"{field}: expected an integer, got {value!r}", field=field, value=repr(value), reason="not an integer"
        )
    return int(f)


class RowMapper:
    """Turns mappings (dicts, DataFrame rows) into ``Record`` messages.

    Args:
        source: the source of rows that have none.
        identifiers: columns holding typed identifiers: a list of names (the
            column name is the identifier kind) or a mapping of column to kind.
        attributes: columns kept as free attributes: a list, or a mapping of
            column to attribute name.
        defaults: values for fields a row leaves empty (e.g. ``{"country": "AU"}``).
        extra: what to do with a key that is none of the above: ``"error"``
            (the default: a misspelt column should not vanish silently),
            ``"attributes"`` (keep it as a free attribute) or ``"ignore"``.
    """

    def __init__(
        self,
        *,
        source: str | None = None,
        identifiers: Sequence[str] | Mapping[str, str] | None = None,
        attributes: Sequence[str] | Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        extra: Extra = "error",
    ) -> None:
        if extra not in ("error", "attributes", "ignore"):
            raise ValueError(f"extra must be 'error', 'attributes' or 'ignore', got {extra!r}")
        self.source = source
        self.identifiers = _column_map(identifiers, "identifiers")
        self.attributes = _column_map(attributes, "attributes")
        self.defaults = dict(defaults or {})
        self.extra = extra
        for key in self.defaults:
            if self.classify(key) is None:
                raise InvalidArgument(
                    f"defaults: {key!r} is not a record field", field=f"defaults.{key}", reason="unknown field"
                )

    def classify(self, key: str) -> str | None:
        """How a key is read: 'field', 'identifier', 'attribute', 'ignore'; None if unknown."""
        if key in self.identifiers or key.startswith("identifiers."):
            return "identifier"
        if key in self.attributes or key.startswith("attributes."):
            return "attribute"
        if key in RECORD_KEYS:
            return "field"
        if self.extra == "attributes":
            return "attribute"
        if self.extra == "ignore":
            return "ignore"
        return None

    def check_columns(self, columns: Iterable[Any]) -> None:
        """Raises InvalidArgument naming the first column that is not a record
        field, identifier or attribute (with ``extra="error"``)."""
        for column in columns:
            if not isinstance(column, str):
                raise InvalidArgument(
                    f"column {column!r} is not a string", field=str(column), reason="column names must be strings"
                )
            if self.classify(column) is None:
                raise InvalidArgument(_unknown_message(column), field=column, reason="unknown field")

    def record(self, row: RecordLike) -> record_pb2.Record:
        """The Record for one row; InvalidArgument naming the field if a value
        cannot be read."""
        if isinstance(row, record_pb2.Record):
            if self.source and not row.source:
                copy: record_pb2.Record = _copy(row)
                copy.source = self.source
                return copy
            return row
        if not isinstance(row, Mapping):
            raise InvalidArgument(
                f"a record must be a Record message or a mapping, got {type(row).__name__}",
                field="record",
                reason="not a record",
            )
        values: dict[str, Any] = {}
        for key, value in self.defaults.items():
            values[key] = value
        for key, value in row.items():
            if not is_missing_or_empty_list(value) or key not in values:
                values[key] = value
        return self._build(values)

    def _build(self, values: Mapping[str, Any]) -> record_pb2.Record:
        rec = record_pb2.Record()
        address: dict[str, str] = {}
        for key, value in values.items():
            if not isinstance(key, str):
                raise InvalidArgument(f"key {key!r} is not a string", field=str(key), reason="keys must be strings")
            kind = self.classify(key)
            if kind is None:
                raise InvalidArgument(_unknown_message(key), field=key, reason="unknown field")
            if kind == "ignore" or is_missing_or_empty_list(value):
                continue
            if kind == "identifier":
                if key in self.identifiers:
                    ident_kind = self.identifiers[key]
                elif key.startswith("identifiers."):
                    ident_kind = key[len("identifiers.") :]
                else:  # pragma: no cover - classify() guarantees one of the above
                    ident_kind = key
                for v in _texts(value, key):
                    rec.identifiers.add(kind=ident_kind, value=v)
                continue
            if kind == "attribute":
                name = self.attributes.get(key) or (key[len("attributes.") :] if key.startswith("attributes.") else key)
                rec.attributes[name] = _text(value, key)
                continue
            # Record fields.
            if key in ("source", "record_id", "gender"):
                setattr(rec, key, _text(value, key))
            elif key in _NAME_KEYS:
                setattr(rec.name, _NAME_KEYS[key], _text(value, key))
            elif key == "name":
                if isinstance(value, str):
                    rec.name.full = value.strip()
                elif isinstance(value, Mapping):
                    for part, v in value.items():
                        if part not in ("full", "given", "middle", "family"):
                            raise InvalidArgument(
                                f"name.{part} is not a name part (full, given, middle, family)",
                                field=f"name.{part}",
                                reason="unknown field",
                            )
                        if not is_missing(v):
                            setattr(rec.name, part, _text(v, f"name.{part}"))
                else:
                    raise InvalidArgument(
                        "name must be text or a mapping of name parts",
                        field="name",
                        value=repr(value),
                        reason="not a name",
                    )
            elif key in _LIST_KEYS:
                getattr(rec, _LIST_KEYS[key]).extend(_texts(value, key))
            elif key in _ADDRESS_KEYS:
                address[key] = _text(value, key)
            elif key == "addresses":
                for i, a in enumerate(value):
                    if isinstance(a, record_pb2.PostalAddress):
                        rec.addresses.append(a)
                        continue
                    if not isinstance(a, Mapping):
                        raise InvalidArgument(
                            f"addresses[{i}] must be a mapping", field=f"addresses[{i}]", reason="not an address"
                        )
                    pa = rec.addresses.add()
                    for part, v in a.items():
                        if part not in _ADDRESS_KEYS:
                            raise InvalidArgument(
                                f"addresses[{i}].{part} is not an address field ({', '.join(_ADDRESS_KEYS)})",
                                field=f"addresses[{i}].{part}",
                                reason="unknown field",
                            )
                        if not is_missing(v):
                            setattr(pa, part, _text(v, f"addresses[{i}].{part}"))
            elif key == "date_of_birth":
                rec.date_of_birth = _date(value, key)
            elif key == "date_formats":
                rec.date_formats.extend(_texts(value, key))
            elif key == "observed_at":
                rec.observed_at_ms = timestamp_ms(value, key)
            elif key == "observed_at_ms":
                rec.observed_at_ms = _int(value, key)
            elif key == "identifiers":
                _add_identifiers(rec, value)
            elif key == "attributes":
                if not isinstance(value, Mapping):
                    raise InvalidArgument(
                        "attributes must be a mapping of name to value", field="attributes", reason="not a mapping"
                    )
                for name, v in value.items():
                    if not is_missing(v):
                        rec.attributes[str(name)] = _text(v, f"attributes.{name}")
        if any(address.get(k) for k in ("street", "locality", "region", "postcode")):
            rec.addresses.add(**address)
        if not rec.source and self.source:
            rec.source = self.source
        return rec


def _add_identifiers(rec: record_pb2.Record, value: Any) -> None:
    if isinstance(value, Mapping):
        for kind, v in value.items():
            for text in _texts(v, f"identifiers.{kind}"):
                rec.identifiers.add(kind=str(kind), value=text)
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if isinstance(item, record_pb2.Identifier):
                rec.identifiers.append(item)
            elif isinstance(item, Mapping) and set(item) <= {"kind", "value"}:
                if not is_missing(item.get("value")):
                    rec.identifiers.add(
                        kind=_text(item.get("kind", ""), f"identifiers[{i}].kind"),
                        value=_text(item["value"], f"identifiers[{i}].value"),
                    )
            elif isinstance(item, tuple) and len(item) == 2:
                rec.identifiers.add(
                    kind=_text(item[0], f"identifiers[{i}].kind"), value=_text(item[1], f"identifiers[{i}].value")
                )
            else:
                raise InvalidArgument(
                    f"identifiers[{i}] must be {{'kind': ..., 'value': ...}} or (kind, value)",
                    field=f"identifiers[{i}]",
                    reason="not an identifier",
                )
        return
    raise InvalidArgument(
        "identifiers must be a mapping of kind to value or a list of {'kind', 'value'}",
        field="identifiers",
        reason="not identifiers",
    )


def _unknown_message(key: str) -> str:
    return (
        f"{key!r} is not a record field ({', '.join(sorted(RECORD_KEYS))}); "
        f"name it in identifiers=[...] or attributes=[...], prefix it 'identifiers.' or "
        f"'attributes.', or pass extra='attributes' or extra='ignore'"
    )


def _column_map(spec: Sequence[str] | Mapping[str, str] | None, what: str) -> dict[str, str]:
    if spec is None:
        return {}
    if isinstance(spec, str):
        raise TypeError(f"{what} must be a list of column names or a mapping, not a string")
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    return {str(c): str(c) for c in spec}


def _copy(msg: Any) -> Any:
    new = type(msg)()
    new.CopyFrom(msg)
    return new


def to_record(record: RecordLike, *, source: str | None = None, extra: Extra = "error") -> record_pb2.Record:
    """A ``Record`` message from a message or a mapping (see the module doc).

    ``source`` is used when the record has none.
    """
    return RowMapper(source=source, extra=extra).record(record)


def to_record_ref(ref: RecordRefLike, field: str = "record") -> kindred_pb2.RecordRef:
    """A ``RecordRef`` from ``"source:record_id"``, a tuple, a mapping or a message."""
    if isinstance(ref, kindred_pb2.RecordRef):
        return ref
    if isinstance(ref, str):
        source, sep, record_id = ref.partition(":")
        if not sep:
            raise InvalidArgument(
                f"{field}: record reference {ref!r} must be SOURCE:RECORD_ID (e.g. crm:C-1042)",
                field=field,
                value=ref,
                reason="not SOURCE:RECORD_ID",
            )
        return kindred_pb2.RecordRef(source=source.strip(), record_id=record_id.strip())
    if isinstance(ref, tuple) and len(ref) == 2:
        return kindred_pb2.RecordRef(
            source=_text(ref[0], f"{field}.source"), record_id=_text(ref[1], f"{field}.record_id")
        )
    if isinstance(ref, Mapping):
        return kindred_pb2.RecordRef(
            source=_text(ref.get("source", ""), f"{field}.source"),
            record_id=_text(ref.get("record_id", ""), f"{field}.record_id"),
        )
    if isinstance(ref, record_pb2.Record):
        return kindred_pb2.RecordRef(source=ref.source, record_id=ref.record_id)
    raise InvalidArgument(
        f"{field}: expected 'source:record_id', (source, record_id) or a RecordRef, got {type(ref).__name__}",
        field=field,
        reason="not a record reference",
    )


_EVENT_KEYS = frozenset(
    {
        "source",
        "record_id",
        "event_id",
        "type",
        "occurred_at",
        "occurred_at_ms",
        "amount",
        "currency",
        "properties",
        "identity",
    }
)


def _property(value: Any, field: str) -> activity_pb2.PropertyValue:
    if isinstance(value, activity_pb2.PropertyValue):
        return value
    if isinstance(value, bool):
        return activity_pb2.PropertyValue(bool_value=value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return activity_pb2.PropertyValue(number_value=float(value))
    if isinstance(value, (_dt.datetime, _dt.date)) or hasattr(value, "to_pydatetime"):
        return activity_pb2.PropertyValue(timestamp_ms=timestamp_ms(value, field))
    if hasattr(value, "item"):  # numpy scalar
        return _property(value.item(), field)
    return activity_pb2.PropertyValue(string_value=_text(value, field))


def to_event(event: EventLike, *, source: str | None = None) -> activity_pb2.Event:
    """An ``Event`` message from a message or a mapping::

        {"source": "shop", "record_id": "C-77", "event_id": "o-981",
         "type": "order_completed", "occurred_at": datetime(...),  # or occurred_at_ms
         "amount": 59.90, "currency": "EUR",
         "properties": {"cart_id": "k-12", "items": 3, "gift": False},
         "identity": {"email": "jane@example.com"}}   # a record mapping, optional

    Property values keep their type: text, number, bool, or a timestamp for
    datetimes and dates.
    """
    if isinstance(event, activity_pb2.Event):
        if source and not event.source:
            copy: activity_pb2.Event = _copy(event)
            copy.source = source
            return copy
        return event
    if not isinstance(event, Mapping):
        raise InvalidArgument(
            f"an event must be an Event message or a mapping, got {type(event).__name__}",
            field="event",
            reason="not an event",
        )
    ev = activity_pb2.Event()
    for key, value in event.items():
        if key not in _EVENT_KEYS:
            raise InvalidArgument(
                f"{key!r} is not an event field ({', '.join(sorted(_EVENT_KEYS))})",
                field=str(key),
                reason="unknown field",
            )
        if is_missing_or_empty_list(value):
            continue
        if key in ("source", "record_id", "event_id", "type", "currency"):
            setattr(ev, key, _text(value, key))
        elif key == "occurred_at":
            ev.occurred_at_ms = timestamp_ms(value, key)
        elif key == "occurred_at_ms":
            ev.occurred_at_ms = _int(value, key)
        elif key == "amount":
            if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)) and not hasattr(value, "item"):
                raise InvalidArgument(
                    f"amount: expected a number, got {value!r}",
                    field="amount",
                    value=repr(value),
                    reason="not a number",
                )
            try:
                ev.amount = float(value)
            except (TypeError, ValueError):
                raise InvalidArgument(
                    f"amount: expected a number, got {value!r}",
                    field="amount",
                    value=repr(value),
                    reason="not a number",
                ) from None
        elif key == "properties":
            if not isinstance(value, Mapping):
                raise InvalidArgument("properties must be a mapping", field="properties", reason="not a mapping")
            for name, v in value.items():
                if not is_missing(v):
                    ev.properties[str(name)].CopyFrom(_property(v, f"properties.{name}"))
        elif key == "identity":
            ev.identity.CopyFrom(RowMapper().record(value))
    if not ev.source and source:
        ev.source = source
    return ev
