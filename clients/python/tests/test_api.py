"""The client's calls against a real kindred-node.

Tests on the shared node use their own sources and people; tests that need
exact counts start their own node.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import grpc
import pytest

from kindred_client import (
    Aborted,
    Action,
    BulkError,
    Decision,
    FailedPrecondition,
    InvalidArgument,
    KindredClient,
    NotFound,
    Record,
    ResourceExhausted,
    UpsertResults,
)
from kindred_client.v1 import segments_pb2

pd = pytest.importorskip("pandas")

JANE_EMAIL = "jane.okafor-whitlam@example.com"


def jane_crm() -> dict[str, Any]:
    return {
        "source": "api-crm",
        "record_id": "C-1",
        "given_name": "Jane",
        "family_name": "Okafor-Whitlam",
        "date_of_birth": "1985-07-14",
        "gender": "F",
        "email": JANE_EMAIL,
        "phone": "+61 2 9876 5432",
        "street": "12 Harbour St",
        "locality": "Sydney",
        "region": "NSW",
        "postcode": "2000",
        "country": "AU",
        "identifiers": {"loyalty_number": "LN-4455667"},
        "attributes": {"tier": "gold"},
        "observed_at": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    }


def jane_web() -> dict[str, Any]:
    return {
        "source": "api-web",
        "record_id": "W-9",
        "full_name": "Jane Okafor-Whitlam",
        "date_of_birth": "14/07/1985",
        "email": JANE_EMAIL.upper(),
        "attributes": {"newsletter": "yes"},
    }


@pytest.fixture(scope="module")
def jane(node: Any) -> dict[str, Any]:
    """Jane upserted from two sources, once for the module."""
    with KindredClient(node.endpoint, options=[("grpc.enable_http_proxy", 0)]) as c:
        first = c.upsert(jane_crm())
        second = c.upsert(jane_web())
    return {"first": first, "second": second, "entity_id": first.entity_id}


# ---------------------------------------------------------------- upsert


def test_upsert_dicts_creates_then_joins(jane: dict[str, Any]) -> None:
    first, second = jane["first"], jane["second"]
    assert first.action == Action.ACTION_CREATED
    assert (first.record.source, first.record.record_id) == ("api-crm", "C-1")
    assert second.action == Action.ACTION_JOINED
    assert second.entity_id == first.entity_id != 0


def test_upsert_same_key_again_replaces_and_get_returns_it_as_sent(client: KindredClient) -> None:
    rec = {
        "source": "api-replace",
        "record_id": "r-1",
        "given_name": "Ingrid",
        "family_name": "Vasquez-Lindqvist",
        "email": "ingrid.vl@example.org",
    }
    first = client.upsert(rec)
    again = client.upsert({**rec, "phone": "+46 8 123 456 78"})
    assert not first.replaced and again.replaced
    assert again.entity_id == first.entity_id
    stored = client.get_record("api-replace:r-1")
    assert list(stored.record.phones) == ["+46 8 123 456 78"]
    assert stored.entity_id == first.entity_id


def test_upsert_a_record_message_with_a_default_source(client: KindredClient) -> None:
    res = client.upsert(Record(record_id="m-1", emails=["msg@example.net"]), source="api-msg")
    assert (res.record.source, res.record.record_id) == ("api-msg", "m-1")


def test_a_value_the_node_cannot_standardise_is_kept_and_reported(client: KindredClient) -> None:
    res = client.upsert(
        {"source": "api-issues", "record_id": "1", "given_name": "Kim", "email": "kim@", "date_of_birth": "garbage"}
    )
    fields = {i.field for i in res.issues}
    assert {"emails[0]", "date_of_birth"} <= fields
    assert list(client.get_record(("api-issues", "1")).record.emails) == ["kim@"]


# ---------------------------------------------------------------- errors


def test_an_empty_source_is_invalid_argument_naming_the_field(client: KindredClient) -> None:
    with pytest.raises(InvalidArgument) as info:
        client.upsert({"source": "", "record_id": "x", "given_name": "Nobody"})
    err = info.value
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert err.field == "source"
    assert err.reason == "must not be empty"
    assert err.attempts == 1  # never retried
    assert err.endpoint == client.current_endpoint
    assert err.request_id is not None and re.fullmatch(r"[0-9a-f]{16}", err.request_id)


def test_a_missing_record_id_is_invalid_argument_naming_it(client: KindredClient) -> None:
    with pytest.raises(InvalidArgument) as info:
        client.upsert({"source": "api-err", "given_name": "Nobody"})
    assert info.value.field == "record_id"


def test_a_profile_lookup_without_a_kind_names_the_field(client: KindredClient) -> None:
    with pytest.raises(InvalidArgument) as info:
        client.profile(identifier=("", "x"))
    assert info.value.field == "identity.kind"


def test_the_client_wants_exactly_one_profile_key(client: KindredClient) -> None:
    with pytest.raises(InvalidArgument, match="exactly one"):
        client.profile(email="a@b.c", phone="1")
    with pytest.raises(InvalidArgument, match="exactly one"):
        client.profile()


def test_unknown_records_customers_and_entities_are_not_found(client: KindredClient) -> None:
    with pytest.raises(NotFound):
        client.get_record("api-none:nothing")
    with pytest.raises(NotFound) as info:
        client.profile(email="nobody-at-all@example.invalid")
    assert isinstance(info.value, LookupError)
    with pytest.raises(NotFound):
        client.how(987_654_321)


def test_a_record_over_the_size_limit_is_resource_exhausted(client: KindredClient) -> None:
    with pytest.raises(ResourceExhausted):
        client.upsert({"source": "api-big", "record_id": "1", "attributes": {"blob": "x" * 100_000}})


def test_delete_then_delete_again_is_not_found(client: KindredClient) -> None:
    client.upsert({"source": "api-del", "record_id": "d-1", "given_name": "Temp", "family_name": "Orary"})
    affected = client.delete("api-del:d-1")
    assert len(affected) >= 1
    with pytest.raises(NotFound):
        client.get_record("api-del:d-1")
    with pytest.raises(NotFound):
        client.delete("api-del:d-1")


# ---------------------------------------------------------------- profiles


@pytest.mark.parametrize(
    "key",
    [
        {"email": JANE_EMAIL},
        {"email": JANE_EMAIL.title()},
        {"phone": "(02) 9876 5432"},
        {"phone": "+61298765432"},
        {"record": "api-crm:C-1"},
        {"record": ("api-web", "W-9")},
        {"identifier": ("loyalty_number", "LN-4455667")},
        {"entity_id": None},
    ],
    ids=lambda k: next(iter(k)),
)
def test_profile_by_each_key(client: KindredClient, jane: dict[str, Any], key: dict[str, Any]) -> None:
    if "entity_id" in key:
        key = {"entity_id": jane["entity_id"]}
    profile = client.profile(**key)
    assert profile.entity_id == jane["entity_id"]


def test_profile_golden_record_and_sources(client: KindredClient, jane: dict[str, Any]) -> None:
    p = client.profile(email=JANE_EMAIL)
    assert {(r.source, r.record_id) for r in p.records} == {("api-crm", "C-1"), ("api-web", "W-9")}
    assert p.golden.date_of_birth.value == "1985-07-14"
    assert p.golden.email.value == JANE_EMAIL
    assert p.golden.phone.value == "+61298765432"
    assert (p.golden.phone.source_record.source, p.golden.phone.source_record.record_id) == ("api-crm", "C-1")
    assert dict(p.attributes) == {"tier": "gold", "newsletter": "yes"}


def test_search_finds_jane_first(client: KindredClient, jane: dict[str, Any]) -> None:
    found = client.search({"full_name": "Jane Okafor-Whitlam", "date_of_birth": "1985-07-14"}, limit=5)
    assert found and found[0].entity_id == jane["entity_id"]


# ---------------------------------------------------------------- explain


def test_why_two_records_match(client: KindredClient, jane: dict[str, Any]) -> None:
    why = client.why("api-crm:C-1", ("api-web", "W-9"))
    assert why.decision == Decision.DECISION_MATCH
    assert why.probability >= why.match_threshold
    assert why.same_entity
    comps = {c.attribute: c for c in why.comparisons}
    assert comps["email"].label == "exact"
    assert why.total_weight == pytest.approx(why.prior_weight + sum(c.weight for c in why.comparisons), abs=1e-6)


def test_why_entity_and_how(client: KindredClient, jane: dict[str, Any]) -> None:
    member = client.why_entity("api-web:W-9", jane["entity_id"])
    assert member.member
    history = client.how(jane["entity_id"])
    assert history.entity_id == jane["entity_id"]
    assert {(r.source, r.record_id) for r in history.records} >= {("api-crm", "C-1"), ("api-web", "W-9")}
    kinds = [e.kind for e in history.events]
    assert "created" in kinds and "joined" in kinds


# ---------------------------------------------------------------- bulk


def test_bulk_upsert_dicts_in_several_batches(client: KindredClient) -> None:
    people = [
        {
            "source": "api-bulk",
            "record_id": f"b-{i}",
            "given_name": f"Person{i}",
            "family_name": "Bulkworth",
            "email": f"p{i}@bulk.example",
        }
        for i in range(1234)
    ]
    result = client.bulk_upsert(people, batch_size=100)
    assert isinstance(result, UpsertResults)
    assert len(result) == 1234 and result.error_count == 0
    assert [it.index for it in result] == list(range(1234))
    assert [it.ok.record.record_id for it in result] == [f"b-{i}" for i in range(1234)]
    actions = result.actions()
    assert "rejected" not in actions and sum(actions.values()) == 1234
    assert client.profile(email="p1000@bulk.example").entity_id == result[1000].ok.entity_id


def test_bulk_upsert_reports_rejected_records_and_stores_the_rest(client: KindredClient) -> None:
    rows: list[Any] = [
        {"source": "api-rej", "record_id": "ok-1", "given_name": "Ada", "family_name": "Byron-King"},
        {"source": "", "record_id": "no-source"},  # rejected by the node
        {"source": "api-rej", "record_id": "when", "observed_at": "not a date"},  # rejected by the client
        {"source": "api-rej", "record_id": "big", "attributes": {"blob": "y" * 100_000}},  # over the size limit
        {"source": "api-rej", "record_id": "ok-2", "given_name": "Charles", "family_name": "Babbage"},
    ]
    with pytest.raises(BulkError) as info:
        client.bulk_upsert(rows)
    result = info.value.result
    assert len(result) == 5 and result.ok_count == 2
    errors = {it.index: it.error for it in result.errors}
    assert sorted(errors) == [1, 2, 3]
    assert errors[1].field == "source" and errors[1].code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert errors[2].field == "observed_at" and errors[2].record.record_id == "when"
    assert errors[3].code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "3 of 5 items rejected" in str(info.value)
    # Every good record was stored all the same.
    assert client.get_record("api-rej:ok-2").record.name.family == "Babbage"
    quiet = client.bulk_upsert(rows, raise_on_error=False)
    assert quiet.error_count == 3


def test_bulk_upsert_a_dataframe_with_gaps_identifiers_and_attributes(client: KindredClient) -> None:
    df = pd.DataFrame(
        {
            "record_id": ["d-1", "d-2", "d-3"],
            "given_name": ["Tamsin", "Rhys", None],
            "family_name": ["Pendleford", "Abernathy-Cole", "Pendleford"],
            "full_name": [None, None, "Tamsin Pendleford"],
            "email": ["tamsin.p@df.example", None, "TAMSIN.P@df.example"],
            "date_of_birth": ["1990-03-04", "1971-12-30", "04/03/1990"],
            "member_no": ["M-1", "M-2", None],
            "ltv": [120.5, None, 99.0],
        },
        index=pd.Index(["row-a", "row-b", "row-c"], name="crm_row"),
    )
    result = client.bulk_upsert(df, source="api-df", identifiers={"member_no": "membership"}, attributes=["ltv"])
    assert result.error_count == 0
    ids = result.entity_ids()
    assert ids[0] == ids[2] != ids[1]  # Tamsin twice, Rhys once
    rec = client.get_record("api-df:d-1").record
    assert [(i.kind, i.value) for i in rec.identifiers] == [("membership", "M-1")]
    assert dict(rec.attributes) == {"ltv": "120.5"}
    assert client.get_record("api-df:d-2").record.attributes == {}
    out = result.to_dataframe()
    assert list(out.index) == ["row-a", "row-b", "row-c"]
    assert list(out["action"]) == ["created", "created", "joined"]
    assert list(out["entity_id"]) == ids
    assert out["error"].isna().all()
    joined = df.join(out[["entity_id"]])
    assert joined.loc["row-c", "entity_id"] == joined.loc["row-a", "entity_id"]


def test_a_dataframe_column_that_is_no_field_is_refused_before_sending(client: KindredClient) -> None:
    df = pd.DataFrame({"record_id": ["x-1"], "surname": ["Nope"]})
    with pytest.raises(InvalidArgument) as info:
        client.bulk_upsert(df, source="api-never")
    assert info.value.field == "surname"
    with pytest.raises(NotFound):
        client.get_record("api-never:x-1")


def test_bulk_upsert_of_nothing_and_of_only_bad_rows(client: KindredClient) -> None:
    assert len(client.bulk_upsert([])) == 0
    bad = client.bulk_upsert(
        [{"source": "api-bad", "record_id": str(i), "observed_at": "never"} for i in range(3)], raise_on_error=False
    )
    assert [it.error.field for it in bad] == ["observed_at"] * 3
    with pytest.raises(TypeError, match="upsert"):
        client.bulk_upsert({"source": "api-bad", "record_id": "1"})  # type: ignore[arg-type]


def test_send_events_from_a_dataframe(client: KindredClient) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    df = pd.DataFrame(
        {
            "source": ["api-ev", "api-ev"],
            "record_id": ["E-1", "E-1"],
            "event_id": ["df-1", "df-2"],
            "type": ["email_opened", "email_opened"],
            "occurred_at": [now - dt.timedelta(days=1), now - dt.timedelta(days=2)],
            "properties.campaign": ["spring", None],
            "identity.email": ["evie.df@events.example", None],  # creates the record
        }
    )
    result = client.send_events(df)
    assert result.ok_count == 2
    out = result.to_dataframe()
    assert list(out["event_id"]) == ["df-1", "df-2"]
    assert bool(out["record_written"].iloc[0])
    entity = client.profile(email="evie.df@events.example").entity_id
    opened = list(client.list_events(record="api-ev:E-1", types=["email_opened"]))
    assert [e.event_id for e in opened] == ["df-1", "df-2"]
    assert opened[0].properties["campaign"].string_value == "spring"
    assert "campaign" not in opened[1].properties
    assert entity == client.get_record("api-ev:E-1").entity_id


def test_iter_bulk_upsert_streams_results_from_a_generator(client: KindredClient) -> None:
    def rows() -> Any:
        for i in range(700):
            yield {"source": "api-gen", "record_id": str(i), "given_name": "Gen", "family_name": f"Erator{i}"}

    seen = 0
    for item in client.iter_bulk_upsert(rows(), batch_size=64):
        assert item.index == seen and item.WhichOneof("outcome") == "ok"
        seen += 1
    assert seen == 700


# ---------------------------------------------------------------- export


def test_export_assignments_and_profiles_to_dataframes(start_node: Any, make_client: Any) -> None:
    c = make_client(start_node().endpoint)  # a node of its own: exact contents
    c.bulk_upsert(
        [
            {
                "source": "crm",
                "record_id": "1",
                "given_name": "Jane",
                "family_name": "Doe",
                "email": "jane.doe@exp.example",
                "date_of_birth": "1985-07-14",
            },
            {
                "source": "web",
                "record_id": "7",
                "full_name": "Jane Doe",
                "email": "jane.doe@exp.example",
                "date_of_birth": "1985-07-14",
            },
            {
                "source": "crm",
                "record_id": "2",
                "given_name": "Omar",
                "family_name": "Haddad",
                "identifiers": {"loyalty_number": "L-9"},
            },
        ]
    )
    assignments = c.export_assignments(chunk_size=2).to_dataframe()
    keys = list(zip(assignments["source"], assignments["record_id"], strict=True))
    assert sorted(keys) == [("crm", "1"), ("crm", "2"), ("web", "7")]
    by_key = dict(zip(keys, assignments["entity_id"], strict=True))
    assert by_key[("crm", "1")] == by_key[("web", "7")] != by_key[("crm", "2")]

    profiles = c.export_profiles().to_dataframe()
    assert len(profiles) == 2
    assert list(profiles.columns[:3]) == ["entity_id", "given_name", "middle_name"]
    jane = profiles[profiles["entity_id"] == by_key[("crm", "1")]].iloc[0]
    assert jane["records"] == 2 and jane["sources"] == ["crm", "web"]
    assert jane["email"] == "jane.doe@exp.example"
    omar = profiles[profiles["entity_id"] == by_key[("crm", "2")]].iloc[0]
    assert omar["identifiers.loyalty_number"] == "L9"  # standardised
    # Iterating gives the messages.
    assert sorted(p.entity_id for p in c.export_profiles()) == sorted(profiles["entity_id"])
    assert c.stats().records == 3


def test_an_export_of_an_empty_node_is_an_empty_dataframe(start_node: Any, make_client: Any) -> None:
    c = make_client(start_node().endpoint)
    df = c.export_assignments().to_dataframe()
    assert list(df.columns) == ["source", "record_id", "entity_id"] and len(df) == 0
    assert len(c.export_profiles().to_dataframe()) == 0


# ---------------------------------------------------------------- events, admin


def test_send_and_list_events(client: KindredClient, jane: dict[str, Any]) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    first = client.send_event(
        {
            "source": "api-crm",
            "record_id": "C-1",
            "event_id": "o-1",
            "type": "order_completed",
            "occurred_at": now - dt.timedelta(days=3),
            "amount": 59.9,
            "currency": "EUR",
            "properties": {"items": 2},
        }
    )
    assert first.entity_id == jane["entity_id"] and not first.duplicate
    again = client.send_event(
        {
            "source": "api-crm",
            "record_id": "C-1",
            "event_id": "o-1",
            "type": "order_completed",
            "occurred_at": now - dt.timedelta(days=3),
            "amount": 59.9,
            "currency": "EUR",
            "properties": {"items": 2},
        }
    )
    assert again.duplicate
    bulk = client.send_events(
        [
            {"record_id": "W-9", "event_id": f"v-{i}", "type": "page_view", "occurred_at": now - dt.timedelta(hours=i)}
            for i in range(5)
        ]
        + [{"record_id": "W-9", "event_id": "bad", "type": "", "occurred_at": now}],
        source="api-web",
        raise_on_error=False,
    )
    assert bulk.ok_count == 5 and bulk.errors[0].error.field == "type"
    events = list(client.list_events(email=JANE_EMAIL, page_size=2))
    assert {e.event_id for e in events} == {"o-1", *(f"v-{i}" for i in range(5))}
    times = [e.occurred_at_ms for e in events]
    assert times == sorted(times, reverse=True)
    orders = list(client.list_events(record="api-crm:C-1", types=["order_completed"]))
    assert [e.event_id for e in orders] == ["o-1"]
    profile = client.profile(email=JANE_EMAIL)
    assert profile.lifecycle.stage == "new"


def test_an_export_stopped_early_is_cancelled(client: KindredClient, jane: dict[str, Any]) -> None:
    with client.export_profiles() as stream:
        first = next(iter(stream))
    assert first.entity_id != 0
    with pytest.raises(RuntimeError, match="only once"):
        list(stream)


def test_train_needs_records_then_a_dry_run_installs_nothing(start_node: Any, make_client: Any) -> None:
    import csv
    from pathlib import Path

    c = make_client(start_node().endpoint)
    c.upsert(jane_crm())
    with pytest.raises(FailedPrecondition, match="need at least"):
        c.train(dry_run=True)
    sample = Path(__file__).resolve().parents[3] / "client" / "data" / "sample" / "records.csv"
    with open(sample, newline="") as f:
        c.bulk_upsert(csv.DictReader(f), identifiers=["national_id", "loyalty_id"], extra="attributes")
    before = c.model().model_version
    resp = c.train(dry_run=True, max_records=500)
    assert not resp.installed and resp.model_json and 0 < resp.records_used <= 500
    assert c.model().model_version == before


def test_stats_model_health_and_cluster_status(client: KindredClient) -> None:
    assert client.health() == "SERVING"
    assert client.stats().records >= 1
    assert client.model().model_json
    status = client.cluster_status()
    assert status.partition_count >= 1 and len(status.nodes) == 1


def test_a_segment_defined_as_a_dict_fills_from_the_records(start_node: Any, make_client: Any) -> None:
    # A node of its own: segments and their members are cluster-wide state.
    c = make_client(start_node().endpoint)
    made = c.create_segment(
        {
            "name": "kiosk_people",
            "description": "Anyone with a kiosk record",
            "condition": {"all": {"of": [{"has_source": "kiosk"}, {"stage": {"any_of": ["prospect"]}}]}},
        }
    )
    assert made.version == 1 and made.origin == "api"
    assert [s for s in made.realtime_conditions if "kiosk" in s]
    assert [s for s in made.time_conditions if "stage" in s]
    names = {s.name for s in c.segments()}
    assert {"kiosk_people", "prospects", "abandoned_carts"} <= names
    entity = c.upsert({"source": "kiosk", "record_id": "K-1", "given_name": "Ola", "family_name": "Berg"}).entity_id
    c.upsert({"source": "crm", "record_id": "C-7", "given_name": "Per", "family_name": "Lund"})
    deadline = time.monotonic() + 30
    while c.segment_members("kiosk_people") != [entity]:
        assert time.monotonic() < deadline, "membership not evaluated within 30 s"
        time.sleep(0.1)
    assert c.segment("kiosk_people").size == 1
    assert "kiosk_people" in c.profile(entity_id=entity).segments
    # A bad definition names its path; a stale update is refused.
    with pytest.raises(InvalidArgument, match=r"condition\.has_consent"):
        c.create_segment({"name": "bad", "condition": {"has_consent": "fax"}})
    with pytest.raises(ValueError, match="not a segment"):
        c.create_segment({"name": "bad", "condition": {"nope": 1}})
    assert c.update_segment(made, expected_version=1).version == 2
    with pytest.raises(Aborted):
        c.update_segment(made, expected_version=1)
    c.delete_segment("kiosk_people")
    with pytest.raises(NotFound):
        c.segment("kiosk_people")


def test_a_trigger_defined_as_a_dict_is_listed_versioned_and_deleted(start_node: Any, make_client: Any) -> None:
    c = make_client(start_node().endpoint)
    browse = {
        "name": "browse_abandon",
        "start_types": ["product_viewed"],
        "cancel_types": ["order_completed"],
        "match_on": "sku",
        "after_seconds": 1800,
        "cooldown_hours": 24,
        "late_hours": 2,
    }
    made = c.create_trigger(browse)
    assert (made.version, made.origin, made.after_seconds) == (1, "api", 1800)
    assert made.active_from_ms > 0
    assert [t.name for t in c.triggers()] == ["abandoned_cart", "browse_abandon"]
    with pytest.raises(InvalidArgument, match=r"trigger\.match_on"):
        c.create_trigger({**browse, "name": "other", "match_on": ""})
    with pytest.raises(ValueError, match="not a trigger"):
        c.create_trigger({"name": "bad", "nope": 1})
    assert c.update_trigger({**browse, "after_seconds": 60}, expected_version=1).version == 2
    with pytest.raises(Aborted):
        c.update_trigger(browse, expected_version=1)
    c.delete_trigger("browse_abandon")
    with pytest.raises(NotFound):
        c.delete_trigger("browse_abandon")


def test_watch_yields_changes_and_resumes_exactly_from_its_cursor(start_node: Any, make_client: Any) -> None:
    c = make_client(start_node().endpoint)
    c.create_segment({"name": "kiosk_people", "condition": {"has_source": "kiosk"}})
    first = c.upsert({"source": "kiosk", "record_id": "K-1", "given_name": "Ola", "family_name": "Berg"}).entity_id
    with c.watch(["kiosk_people"], cursor="start") as feed:
        change = next(iter(feed))
        assert (change.segment, change.entity_id) == ("kiosk_people", first)
        assert change.change == segments_pb2.MEMBERSHIP_CHANGE_ENTERED
        cursor = feed.cursor
        assert cursor == change.cursor and cursor.startswith("c1.")
    second = c.upsert({"source": "kiosk", "record_id": "K-2", "given_name": "Kari", "family_name": "Dahl"}).entity_id
    with c.watch(["kiosk_people"], cursor=cursor) as feed:
        change = next(iter(feed))
        assert change.entity_id == second, "resumes after the first, without repeating it"
    with pytest.raises(InvalidArgument, match="cursor"):
        next(iter(c.watch(cursor="c1.x")))
