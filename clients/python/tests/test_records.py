"""Turning Python values into kindred.v1 messages, parsing endpoints and
error messages, the retry policy: no node needed."""

from __future__ import annotations

import datetime as dt
import math
import pickle

import grpc
import pytest

from kindred_client import (
    InvalidArgument,
    KindredClient,
    NotFound,
    Record,
    RecordRef,
    RetryPolicy,
    to_event,
    to_record,
    to_record_ref,
)
from kindred_client._transport import parse_endpoint
from kindred_client.errors import error_for_code, parse_field
from kindred_client.records import RowMapper

# ---------------------------------------------------------------- records


def test_flat_mapping_uses_the_column_mapping_field_names() -> None:
    rec = to_record(
        {
            "source": "crm",
            "record_id": "C-1042",
            "given_name": " Jane ",
            "middle_name": "Q",
            "family_name": "Doe",
            "date_of_birth": "14/07/1985",
            "gender": "F",
            "email": "jane@example.com",
            "phone": ["+61 2 9876 5432", "0412 345 678"],
            "street": "12 Harbour St",
            "locality": "Sydney",
            "region": "NSW",
            "postcode": "2000",
            "country": "AU",
            "observed_at": "2024-05-01T10:00:00Z",
            "identifiers": {"loyalty_number": "LN-7788"},
            "attributes": {"tier": "gold", "visits": 3},
        }
    )
    assert (rec.source, rec.record_id) == ("crm", "C-1042")
    assert (rec.name.given, rec.name.middle, rec.name.family, rec.name.full) == ("Jane", "Q", "Doe", "")
    assert rec.date_of_birth == "14/07/1985"
    assert list(rec.emails) == ["jane@example.com"]
    assert list(rec.phones) == ["+61 2 9876 5432", "0412 345 678"]
    assert len(rec.addresses) == 1
    a = rec.addresses[0]
    assert (a.street, a.locality, a.region, a.postcode, a.country) == ("12 Harbour St", "Sydney", "NSW", "2000", "AU")
    assert rec.observed_at_ms == 1_714_557_600_000
    assert [(i.kind, i.value) for i in rec.identifiers] == [("loyalty_number", "LN-7788")]
    assert dict(rec.attributes) == {"tier": "gold", "visits": "3"}


def test_message_shaped_mapping_is_accepted_too() -> None:
    rec = to_record(
        {
            "source": "web",
            "record_id": "w-9",
            "name": {"full": "Bob Smithson"},
            "emails": ["a@x.com", "b@x.com"],
            "addresses": [{"street": "1 Main St", "country": "GB"}, {"locality": "Leeds"}],
            "identifiers": [{"kind": "device_id", "value": "d-1"}, ("cookie_id", "c-2")],
            "observed_at_ms": 1_700_000_000_000,
            "date_formats": ["%Y%m%d"],
        }
    )
    assert rec.name.full == "Bob Smithson"
    assert list(rec.emails) == ["a@x.com", "b@x.com"]
    assert [a.locality for a in rec.addresses] == ["", "Leeds"]
    assert [(i.kind, i.value) for i in rec.identifiers] == [("device_id", "d-1"), ("cookie_id", "c-2")]
    assert rec.observed_at_ms == 1_700_000_000_000
    assert list(rec.date_formats) == ["%Y%m%d"]


def test_missing_values_are_left_out() -> None:
    pd = pytest.importorskip("pandas")
    rec = to_record(
        {
            "source": "pos",
            "record_id": 17,  # numbers become text
            "given_name": None,
            "family_name": float("nan"),
            "email": pd.NA,
            "phone": [None, "", "0400 000 000", math.nan],
            "street": "  ",
            "locality": "",
            "country": "AU",  # a country alone is no address
            "observed_at": pd.NaT,
            "postcode": 2000.0,
        }
    )
    assert rec.record_id == "17"
    assert not rec.HasField("name") or rec.name == Record().name
    assert list(rec.emails) == []
    assert list(rec.phones) == ["0400 000 000"]
    assert [a.postcode for a in rec.addresses] == ["2000"]  # postcode makes an address, with the country
    assert rec.addresses[0].country == "AU"
    assert rec.observed_at_ms == 0


def test_dates_and_datetimes() -> None:
    rec = to_record(
        {
            "source": "s",
            "record_id": "1",
            "date_of_birth": dt.date(1985, 7, 14),
            "observed_at": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        }
    )
    assert rec.date_of_birth == "1985-07-14"
    assert rec.observed_at_ms == 1_714_557_600_000  # 10:00 UTC
    naive = to_record({"source": "s", "record_id": "1", "observed_at": dt.datetime(2024, 5, 1, 10, 0)})
    assert naive.observed_at_ms == 1_714_557_600_000  # naive = UTC
    precise = to_record({"source": "s", "record_id": "1", "observed_at": "2024-05-01T10:00:00.123z"})
    assert precise.observed_at_ms == 1_714_557_600_123  # exact milliseconds
    assert to_record({"source": "s", "record_id": "1", "observed_at": dt.date(1970, 1, 2)}).observed_at_ms == 86_400_000


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"source": "s", "record_id": "1", "surname": "Doe"}, "surname"),
        ({"source": "s", "record_id": "1", "observed_at": "yesterday"}, "observed_at"),
        ({"source": "s", "record_id": "1", "observed_at": 1700000000}, "observed_at"),
        ({"source": "s", "record_id": "1", "given_name": ["a", "b"]}, "given_name"),
        ({"source": "s", "record_id": "1", "name": {"first": "x"}}, "name.first"),
        ({"source": "s", "record_id": "1", "addresses": [{"town": "x"}]}, "addresses[0].town"),
        ({"source": "s", "record_id": "1", "observed_at_ms": 1.5}, "observed_at_ms"),
    ],
)
def test_a_value_that_cannot_be_read_is_invalid_argument_naming_the_field(row: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        to_record(row)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_row_mapper_identifiers_attributes_defaults_and_extra() -> None:
    m = RowMapper(
        source="crm",
        identifiers={"soc_sec_id": "national_id", "loyalty": "loyalty_number"},
        attributes=["ltv"],
        defaults={"country": "AU"},
    )
    rec = m.record(
        {
            "record_id": "1",
            "soc_sec_id": "123",
            "loyalty": None,
            "ltv": 12.5,
            "street": "1 Main St",
            "attributes.segment": "b2c",
        }
    )
    assert rec.source == "crm"
    assert [(i.kind, i.value) for i in rec.identifiers] == [("national_id", "123")]
    assert dict(rec.attributes) == {"ltv": "12.5", "segment": "b2c"}
    assert rec.addresses[0].country == "AU"
    # A row's own value wins over the default; a missing one does not.
    assert m.record({"record_id": "2", "street": "x", "country": "NZ"}).addresses[0].country == "NZ"
    assert m.record({"record_id": "2", "street": "x", "country": None}).addresses[0].country == "AU"
    with pytest.raises(InvalidArgument) as info:
        m.check_columns(["record_id", "soc_sec_id", "nickname"])
    assert info.value.field == "nickname"
    assert "extra=" in str(info.value)
    assert dict(RowMapper(extra="attributes").record({"record_id": "1", "nickname": "JD"}).attributes) == {
        "nickname": "JD"
    }
    assert RowMapper(extra="ignore").record({"record_id": "1", "nickname": "JD"}).attributes == {}
    with pytest.raises(InvalidArgument):
        RowMapper(defaults={"colour": "red"})


def test_a_record_message_passes_through_and_gets_the_default_source() -> None:
    msg = Record(record_id="1")
    out = RowMapper(source="crm").record(msg)
    assert out.source == "crm"
    assert msg.source == ""  # the caller's message is not changed
    same = Record(source="web", record_id="1")
    assert RowMapper(source="crm").record(same) is same


def test_record_refs() -> None:
    assert to_record_ref("web:urn:user:7") == RecordRef(source="web", record_id="urn:user:7")
    assert to_record_ref(("crm", 42)) == RecordRef(source="crm", record_id="42")
    assert to_record_ref({"source": "a", "record_id": "b"}) == RecordRef(source="a", record_id="b")
    with pytest.raises(InvalidArgument) as info:
        to_record_ref("no-colon")
    assert info.value.field == "record"


def test_events_keep_property_types() -> None:
    ev = to_event(
        {
            "source": "shop",
            "record_id": "C-77",
            "event_id": "o-1",
            "type": "order_completed",
            "occurred_at": "2026-01-02T03:04:05Z",
            "amount": 59.9,
            "currency": "EUR",
            "properties": {"cart_id": "k-12", "items": 3, "gift": False, "shipped": dt.date(2026, 1, 3)},
            "identity": {"email": "jane@example.com"},
        }
    )
    assert ev.amount == pytest.approx(59.9)
    assert ev.properties["cart_id"].string_value == "k-12"
    assert ev.properties["items"].number_value == 3
    assert ev.properties["gift"].WhichOneof("value") == "bool_value"
    assert ev.properties["shipped"].timestamp_ms > 0
    assert list(ev.identity.emails) == ["jane@example.com"]
    with pytest.raises(InvalidArgument) as info:
        to_event({"type": "x", "price": 1})
    assert info.value.field == "price"


def test_messages_are_registered_under_the_package_and_pickle() -> None:
    rec = to_record({"source": "s", "record_id": "1", "given_name": "A"})
    assert type(rec).__module__ == "kindred_client.v1.record_pb2"
    assert pickle.loads(pickle.dumps(rec)) == rec
    assert rec.DESCRIPTOR.full_name == "kindred.v1.Record"  # the wire name is unchanged


# ---------------------------------------------------------------- errors


def test_field_is_parsed_from_both_forms_of_the_nodes_messages() -> None:
    assert parse_field('invalid record: field `source` = "": must not be empty') == ("source", "", "must not be empty")
    assert parse_field('invalid argument: identity.kind = "": is required') == ("identity.kind", "", "is required")
    assert parse_field('invalid record: field `emails[0]` = "a\\"b\\u{1b}": bad: really') == (
        "emails[0]",
        'a"b\x1b',
        "bad: really",
    )
    assert parse_field("record a:zz not found") == (None, None, None)


def test_every_status_code_has_its_exception() -> None:
    for code in grpc.StatusCode:
        if code is grpc.StatusCode.OK:
            continue
        cls = error_for_code(code)
        assert cls.default_code == code, code
    assert issubclass(error_for_code(grpc.StatusCode.NOT_FOUND), LookupError)
    assert error_for_code(grpc.StatusCode.NOT_FOUND) is NotFound


# ---------------------------------------------------------------- endpoints


@pytest.mark.parametrize(
    ("text", "tls", "implied", "url", "target", "uses_tls"),
    [
        ("127.0.0.1:7000", None, False, "http://127.0.0.1:7000", "127.0.0.1:7000", False),
        ("http://127.0.0.1:7000", None, False, "http://127.0.0.1:7000", "127.0.0.1:7000", False),
        (
            "https://kindred.example.com:443",
            None,
            False,
            "https://kindred.example.com:443",
            "kindred.example.com:443",
            True,
        ),
        ("kindred-0.kindred:7000", None, True, "https://kindred-0.kindred:7000", "kindred-0.kindred:7000", True),
        ("[::1]:7000", None, False, "http://[::1]:7000", "[::1]:7000", False),
        ("unix:/run/kindred.sock", False, False, "unix:/run/kindred.sock", "unix:/run/kindred.sock", False),
    ],
)
def test_endpoints(text: str, tls: bool | None, implied: bool, url: str, target: str, uses_tls: bool) -> None:
    e = parse_endpoint(text, tls, implied)
    assert (e.url, e.target, e.tls) == (url, target, uses_tls)


@pytest.mark.parametrize("bad", ["127.0.0.1", "http://host", "http://h:1/path", "http://h:99999"])
def test_bad_endpoints_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(bad, None, False)


def test_scheme_and_tls_flag_must_agree() -> None:
    with pytest.raises(ValueError, match="tls=False"):
        parse_endpoint("https://h:1", False, False)


def test_a_token_is_not_sent_in_plaintext_beyond_this_machine() -> None:
    with pytest.raises(ValueError, match="plaintext"):
        KindredClient("10.1.2.3:7000", token="t")
    KindredClient("10.1.2.3:7000", token="t", allow_insecure_token=True).close()
    KindredClient(["127.0.0.1:7000", "localhost:7001"], token="t").close()
    KindredClient("https://10.1.2.3:7000", token="t").close()
    with pytest.raises(ValueError, match="header"):
        KindredClient("127.0.0.1:7000", token="bad\ntoken")


def test_from_env_reads_the_cli_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINDRED_ENDPOINT", "http://127.0.0.1:7000,http://127.0.0.1:7001")
    monkeypatch.setenv("KINDRED_TOKEN", "kdt_x")
    with KindredClient.from_env() as c:
        assert c.endpoints == ["http://127.0.0.1:7000", "http://127.0.0.1:7001"]
    monkeypatch.delenv("KINDRED_ENDPOINT")
    with pytest.raises(ValueError, match="KINDRED_ENDPOINT"):
        KindredClient.from_env()


# ---------------------------------------------------------------- retry policy


def test_backoff_grows_to_the_cap_with_jitter() -> None:
    p = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, multiplier=2.0, jitter=0.2)
    for n, base in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        for _ in range(50):
            assert base * 0.8 - 1e-9 <= p.backoff(n) <= base * 1.2 + 1e-9
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)
    assert RetryPolicy().is_retryable(grpc.StatusCode.UNAVAILABLE)
    assert not RetryPolicy().is_retryable(grpc.StatusCode.INVALID_ARGUMENT)
