"""Kindred's gRPC API as seen by a Python grpcio client.

Most tests share one node (the `node` fixture); they use disjoint sources
and people so that they do not depend on each other or on their order.
Tests that need exact counts or a restart start their own node
(`start_node`).
"""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

# Deadline (seconds) of every call and stream.
T = 10.0

KINDRED_SERVICES = {
    "kindred.v1.Records",
    "kindred.v1.Profiles",
    "kindred.v1.Events",
    "kindred.v1.Traits",
    "kindred.v1.Explain",
    "kindred.v1.Admin",
}

# grpcio-reflection ships only the v1alpha proto; the server implements
# grpc.reflection.v1, whose messages are identical on the wire, so the
# v1alpha message classes serve for the v1 method.
REFLECTION_V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"

ROBERT_EMAIL = "robert.smithson@example.com"


def ref(kindred, source, record_id):
    return kindred.pb.RecordRef(source=source, record_id=record_id)


def ref_key(r):
    return (r.source, r.record_id)


def robert_crm(kindred):
    """Robert Smithson as the CRM holds him: every kind of field."""
    R = kindred.records
    return R.Record(
        source="crm",
        record_id="c-1",
        name=R.PersonName(given="Robert", family="Smithson"),
        date_of_birth="1985-07-14",
        gender="M",
        emails=[ROBERT_EMAIL],
        phones=["+61 2 9876 5432"],
        addresses=[
            R.PostalAddress(
                street="12 Harbour St",
                locality="Sydney",
                region="NSW",
                postcode="2000",
                country="AU",
            )
        ],
        identifiers=[R.Identifier(kind="loyalty_number", value="LN-778899")],
        observed_at_ms=1_700_000_000_000,
        attributes={"tier": "gold", "preferred_store": "Sydney CBD"},
    )


def bob_web(kindred):
    """The same person from the web shop: nickname, other date format,
    differently-cased email."""
    R = kindred.records
    return R.Record(
        source="web",
        record_id="w-9",
        name=R.PersonName(full="Bob Smithson"),
        date_of_birth="14/07/1985",
        emails=["Robert.Smithson@Example.com"],
        observed_at_ms=1_700_000_100_000,
        attributes={"newsletter": "yes"},
    )


@pytest.fixture(scope="module")
def robert(node, kindred):
    """Upserts Robert (crm/c-1) then Bob (web/w-9) once; returns both
    records and both UpsertResponses."""
    crm, web = robert_crm(kindred), bob_web(kindred)
    first = node.records.Upsert(kindred.pb.UpsertRequest(record=crm), timeout=T)
    second = node.records.Upsert(kindred.pb.UpsertRequest(record=web), timeout=T)
    return {
        "crm": crm,
        "web": web,
        "first": first.result,
        "second": second.result,
        "entity_id": first.result.entity_id,
        "refs": {("crm", "c-1"), ("web", "w-9")},
    }


def rpc_error(call):
    """Runs `call`, which must fail, and returns its grpc.RpcError."""
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def reflect(channel, request):
    call = channel.stream_stream(
        REFLECTION_V1_METHOD,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    responses = list(call(iter([request]), timeout=T))
    assert len(responses) == 1
    return responses[0]


# ---------------------------------------------------------------- health, reflection


@pytest.mark.parametrize("service", ["", *sorted(KINDRED_SERVICES)])
def test_health_reports_serving(node, service):
    resp = node.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=T)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_health_of_unknown_service_is_not_found(node):
    err = rpc_error(
        lambda: node.health.Check(
            health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=T
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_the_kindred_services(channel):
    resp = reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in resp.list_services_response.service}
    assert KINDRED_SERVICES <= names
    assert "grpc.health.v1.Health" in names


def test_reflection_serves_the_same_kindred_proto_as_the_repo(channel, kindred):
    from google.protobuf import descriptor_pb2

    resp = reflect(
        channel,
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="kindred.v1.Records"),
    )
    files = {}
    for raw in resp.file_descriptor_response.file_descriptor_proto:
        fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
        files[fd.name] = fd
    served = files["kindred/v1/kindred.proto"]

    def methods(file_proto):
        return {
            (s.name, m.name, m.input_type, m.output_type, m.client_streaming, m.server_streaming)
            for s in file_proto.service
            for m in s.method
        }

    local = descriptor_pb2.FileDescriptorProto()
    kindred.pb.DESCRIPTOR.CopyToProto(local)
    assert served.package == "kindred.v1"
    assert methods(served) == methods(local)
    assert {m.name for m in served.message_type} == {m.name for m in local.message_type}


# ---------------------------------------------------------------- upsert


def test_upsert_new_person_creates_entity(robert):
    first = robert["first"]
    assert first.action == 1  # ACTION_CREATED
    assert first.entity_id != 0
    assert ref_key(first.record) == ("crm", "c-1")
    assert not first.replaced


def test_upsert_same_person_from_other_source_joins_entity(robert, kindred):
    second = robert["second"]
    assert kindred.pb.Action.Name(second.action) == "ACTION_JOINED"
    assert second.entity_id == robert["entity_id"]
    assert ref_key(second.record) == ("web", "w-9")
    assert list(second.absorbed) == []


def test_upsert_same_key_again_replaces_record(node, kindred):
    R = kindred.records
    rec = R.Record(
        source="replace-src",
        record_id="r-1",
        name=R.PersonName(given="Ingrid", family="Vasquez-Lindqvist"),
        date_of_birth="1990-02-03",
        emails=["ingrid.vl@example.org"],
    )
    first = node.records.Upsert(kindred.pb.UpsertRequest(record=rec), timeout=T).result
    rec.phones.append("+46 8 123 456 78")
    again = node.records.Upsert(kindred.pb.UpsertRequest(record=rec), timeout=T).result
    assert not first.replaced
    assert again.replaced
    assert again.entity_id == first.entity_id
    stored = node.records.Get(
        kindred.pb.GetRecordRequest(record=ref(kindred, "replace-src", "r-1")), timeout=T
    )
    assert stored.record == rec


def test_get_record_returns_it_as_sent_with_its_entity(node, kindred, robert):
    resp = node.records.Get(
        kindred.pb.GetRecordRequest(record=ref(kindred, "crm", "c-1")), timeout=T
    )
    assert resp.record == robert["crm"]
    assert resp.entity_id == robert["entity_id"]


# ---------------------------------------------------------------- profiles


def _profile_keys(kindred):
    pb = kindred.pb
    return {
        "entity_id": None,  # filled from the fixture
        "record_crm": pb.GetProfileRequest(record=pb.RecordRef(source="crm", record_id="c-1")),
        "record_web": pb.GetProfileRequest(record=pb.RecordRef(source="web", record_id="w-9")),
        "identity_email": pb.GetProfileRequest(
            identity=pb.IdentityLookup(kind="email", value=ROBERT_EMAIL)
        ),
        "identity_email_other_case": pb.GetProfileRequest(
            identity=pb.IdentityLookup(kind="email", value="ROBERT.Smithson@EXAMPLE.COM")
        ),
        "identity_loyalty_number": pb.GetProfileRequest(
            identity=pb.IdentityLookup(kind="loyalty_number", value="LN-778899")
        ),
    }


@pytest.mark.parametrize(
    "key",
    [
        "entity_id",
        "record_crm",
        "record_web",
        "identity_email",
        "identity_email_other_case",
        "identity_loyalty_number",
    ],
)
def test_profile_get_by_each_key_returns_the_entity(node, kindred, robert, key):
    req = _profile_keys(kindred)[key]
    if req is None:
        req = kindred.pb.GetProfileRequest(entity_id=robert["entity_id"])
    profile = node.profiles.Get(req, timeout=T)
    assert profile.entity_id == robert["entity_id"]


@pytest.fixture(scope="module")
def robert_profile(node, kindred, robert):
    return node.profiles.Get(
        kindred.pb.GetProfileRequest(entity_id=robert["entity_id"]), timeout=T
    )


def test_profile_holds_both_source_records_as_sent(robert_profile, robert):
    by_key = {ref_key(r): r for r in robert_profile.records}
    assert set(by_key) == robert["refs"]
    assert by_key[("crm", "c-1")] == robert["crm"]
    assert by_key[("web", "w-9")] == robert["web"]


def test_profile_golden_values_name_their_source_records(robert_profile, robert):
    golden = robert_profile.golden
    fields = [
        "given_name",
        "family_name",
        "date_of_birth",
        "gender",
        "email",
        "phone",
        "address",
    ]
    for f in fields:
        assert golden.HasField(f), f"golden.{f} missing"
        value = getattr(golden, f)
        assert value.value, f"golden.{f} has no value"
        assert ref_key(value.source_record) in robert["refs"], f
        assert value.rule in {"most_recent", "most_frequent", "source_priority"}, f
    assert golden.family_name.value.lower() == "smithson"
    assert golden.date_of_birth.value == "1985-07-14"
    assert golden.email.value == ROBERT_EMAIL
    # Only the CRM record has a phone, an address and a loyalty number.
    assert golden.phone.value == "+61298765432"
    assert ref_key(golden.phone.source_record) == ("crm", "c-1")
    assert ref_key(golden.address.source_record) == ("crm", "c-1")
    loyalty = golden.identifiers["loyalty_number"]
    assert loyalty.value == "LN778899"
    assert ref_key(loyalty.source_record) == ("crm", "c-1")


def test_profile_identities_include_shared_email_with_both_records(robert_profile, robert):
    emails = [i for i in robert_profile.identities if i.kind == "email"]
    assert [i.value for i in emails] == [ROBERT_EMAIL]
    assert {ref_key(r) for r in emails[0].records} == robert["refs"]
    kinds = {i.kind for i in robert_profile.identities}
    assert {"name", "date_of_birth", "phone", "address", "identifier:loyalty_number"} <= kinds


def test_profile_merges_free_attributes_of_all_records(robert_profile):
    assert dict(robert_profile.attributes) == {
        "tier": "gold",
        "preferred_store": "Sydney CBD",
        "newsletter": "yes",
    }


def test_export_profiles_includes_the_entity(node, kindred, robert, robert_profile):
    exported = {
        p.entity_id: p
        for p in node.profiles.ExportProfiles(kindred.pb.ExportRequest(), timeout=T)
    }
    assert exported[robert["entity_id"]] == robert_profile


# ---------------------------------------------------------------- search


def test_search_by_name_and_date_of_birth_finds_the_entity_first(node, kindred, robert):
    R = kindred.records
    query = R.Record(name=R.PersonName(full="Robert Smithson"), date_of_birth="1985-07-14")
    resp = node.profiles.Search(kindred.pb.SearchRequest(query=query, limit=5), timeout=T)
    assert resp.candidates, "no candidates"
    top = resp.candidates[0]
    assert top.entity_id == robert["entity_id"]
    assert 0.0 < top.probability <= 1.0
    assert ref_key(top.best_record) in robert["refs"]
    assert top.golden.email.value == ROBERT_EMAIL
    probabilities = [c.probability for c in resp.candidates]
    assert probabilities == sorted(probabilities, reverse=True)


def test_search_for_an_unknown_person_finds_nothing(node, kindred, robert):
    R = kindred.records
    query = R.Record(
        name=R.PersonName(given="Xanthippe", family="Quartermaine-Zubrowski"),
        date_of_birth="1901-12-31",
    )
    resp = node.profiles.Search(
        kindred.pb.SearchRequest(query=query, min_probability=0.5), timeout=T
    )
    assert list(resp.candidates) == []


# ---------------------------------------------------------------- explain


@pytest.fixture(scope="module")
def why_robert(node, kindred, robert):
    return node.explain.WhyRecords(
        kindred.pb.WhyRecordsRequest(
            a=ref(kindred, "crm", "c-1"), b=ref(kindred, "web", "w-9")
        ),
        timeout=T,
    )


def test_why_records_decides_match_above_threshold(why_robert, kindred):
    assert kindred.pb.Decision.Name(why_robert.decision) == "DECISION_MATCH"
    assert why_robert.probability >= why_robert.match_threshold
    assert 0.0 < why_robert.possible_threshold <= why_robert.match_threshold < 1.0
    assert why_robert.same_entity
    assert ref_key(why_robert.a) == ("crm", "c-1")
    assert ref_key(why_robert.b) == ("web", "w-9")


def test_why_records_explains_each_attribute(why_robert):
    comps = {c.attribute: c for c in why_robert.comparisons}
    email = comps["email"]
    assert email.label == "exact"
    assert email.level == 1
    assert email.weight > 0
    assert comps["date_of_birth"].label == "exact"
    assert comps["date_of_birth"].weight > 0
    # Bob ~ Robert: agreement weaker than exact but still positive.
    assert comps["given_name"].level > 1
    assert comps["given_name"].weight > 0
    # No phone on the web record: missing on one side.
    assert comps["phone"].level == 0
    assert comps["phone"].weight == 0
    total = why_robert.prior_weight + sum(c.weight for c in why_robert.comparisons)
    assert why_robert.total_weight == pytest.approx(total, abs=1e-6)


def test_why_entity_shows_record_is_member(node, kindred, robert):
    resp = node.explain.WhyEntity(
        kindred.pb.WhyEntityRequest(
            record=ref(kindred, "web", "w-9"), entity_id=robert["entity_id"]
        ),
        timeout=T,
    )
    assert resp.member
    assert resp.entity_id == robert["entity_id"]
    assert resp.pairs


def test_how_lists_created_and_joined_events(node, kindred, robert):
    hist = node.explain.How(kindred.pb.HowRequest(entity_id=robert["entity_id"]), timeout=T)
    assert hist.entity_id == robert["entity_id"]
    assert {ref_key(r) for r in hist.records} == robert["refs"]
    by_kind = {}
    for e in hist.events:
        by_kind.setdefault(e.kind, []).append(e)
    assert ref_key(by_kind["created"][0].record) == ("crm", "c-1")
    joined = by_kind["joined"][0]
    assert ref_key(joined.record) == ("web", "w-9")
    assert joined.HasField("via")
    assert {ref_key(joined.via.a), ref_key(joined.via.b)} == robert["refs"]
    steps = [e.step for e in hist.events]
    assert steps == sorted(steps)
    assert by_kind["created"][0].step < joined.step


# ---------------------------------------------------------------- bulk upsert


def _bulk_person(kindred, i, given, family, dob, **extra):
    R = kindred.records
    return R.Record(
        source="bulk",
        record_id=f"b-{i}",
        name=R.PersonName(given=given, family=family),
        date_of_birth=dob,
        emails=[f"{given.lower()}.{family.lower()}@bulk.example.net"],
        **extra,
    )


@pytest.fixture(scope="module")
def bulk(node, kindred):
    """Streams 3 batches (7 records, 2 of them bad) in one BulkUpsert."""
    R = kindred.records
    p = lambda *a, **kw: _bulk_person(kindred, *a, **kw)  # noqa: E731
    batches = [
        [p(0, "Amara", "Okonkwo", "1971-03-09"), p(1, "Thibault", "Marchetti", "1966-11-22")],
        [
            p(2, "Saoirse", "Fitzgerald", "1993-05-17"),
            # Invalid: empty record_id.
            R.Record(source="bulk", record_id="", name=R.PersonName(full="No Id")),
            p(3, "Kenji", "Watanabe", "1988-08-01"),
        ],
        [
            # Oversized: a 100 KB attribute, over the 64 KiB per-record limit.
            p(4, "Ludmila", "Hrabal", "1959-01-30", attributes={"notes": "x" * 100_000}),
            p(5, "Ezekiel", "Abernathy", "2001-12-12"),
        ],
    ]
    requests = [kindred.pb.BulkUpsertRequest(records=b) for b in batches]
    responses = list(node.records.BulkUpsert(iter(requests), timeout=T))
    flat = [r for b in batches for r in b]
    return {"batches": batches, "records": flat, "responses": responses}


def test_bulk_upsert_answers_each_batch_with_one_result_per_record(bulk):
    assert [len(r.results) for r in bulk["responses"]] == [len(b) for b in bulk["batches"]]


def test_bulk_upsert_indexes_results_over_the_whole_stream(bulk):
    results = [it for r in bulk["responses"] for it in r.results]
    assert [it.index for it in results] == list(range(len(bulk["records"])))
    for it, rec in zip(results, bulk["records"]):
        outcome = it.ok if it.WhichOneof("outcome") == "ok" else it.error
        assert ref_key(outcome.record) == ref_key(rec)


def test_bulk_upsert_resolves_the_good_records(bulk, node, kindred):
    results = [it for r in bulk["responses"] for it in r.results]
    good = [results[i] for i in (0, 1, 2, 4, 6)]
    for it in good:
        assert it.WhichOneof("outcome") == "ok", it
        assert it.ok.entity_id != 0
        assert kindred.pb.Action.Name(it.ok.action) == "ACTION_CREATED"
    # Five different people: five different entities.
    assert len({it.ok.entity_id for it in good}) == 5
    got = node.records.Get(
        kindred.pb.GetRecordRequest(record=ref(kindred, "bulk", "b-5")), timeout=T
    )
    assert got.entity_id == results[6].ok.entity_id


def test_bulk_upsert_reports_invalid_record_as_invalid_argument(bulk):
    item = bulk["responses"][1].results[1]
    assert item.index == 3
    assert item.WhichOneof("outcome") == "error"
    err = item.error
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] == 3
    assert err.field == "record_id"
    assert "record_id" in err.message
    assert "empty" in err.message


def test_bulk_upsert_reports_oversized_record_as_resource_exhausted(bulk, node, kindred):
    item = bulk["responses"][2].results[0]
    assert item.index == 5
    assert item.WhichOneof("outcome") == "error"
    err = item.error
    assert err.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0] == 8
    assert ref_key(err.record) == ("bulk", "b-4")
    assert "bulk/b-4" in err.message
    assert "65536" in err.message  # names the limit
    # Rejected records are not stored.
    e = rpc_error(
        lambda: node.records.Get(
            kindred.pb.GetRecordRequest(record=ref(kindred, "bulk", "b-4")), timeout=T
        )
    )
    assert e.code() == grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------- errors


def test_upsert_with_empty_source_is_invalid_argument(node, kindred):
    R = kindred.records
    rec = R.Record(source="", record_id="x-1", name=R.PersonName(full="Nobody"))
    err = rpc_error(lambda: node.records.Upsert(kindred.pb.UpsertRequest(record=rec), timeout=T))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "source" in err.details()


def test_upsert_without_record_is_invalid_argument(node, kindred):
    err = rpc_error(lambda: node.records.Upsert(kindred.pb.UpsertRequest(), timeout=T))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "record" in err.details()


def test_upsert_oversized_record_is_resource_exhausted(node, kindred):
    R = kindred.records
    rec = R.Record(
        source="big",
        record_id="big-1",
        name=R.PersonName(full="Large Person"),
        attributes={"notes": "y" * 100_000},
    )
    err = rpc_error(lambda: node.records.Upsert(kindred.pb.UpsertRequest(record=rec), timeout=T))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "65536" in err.details()


def test_profile_of_missing_entity_is_not_found(node, kindred):
    err = rpc_error(
        lambda: node.profiles.Get(kindred.pb.GetProfileRequest(entity_id=987_654_321), timeout=T)
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_profile_of_unknown_email_is_not_found(node, kindred):
    pb = kindred.pb
    req = pb.GetProfileRequest(
        identity=pb.IdentityLookup(kind="email", value="nobody.at.all@example.com")
    )
    err = rpc_error(lambda: node.profiles.Get(req, timeout=T))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_profile_without_key_is_invalid_argument(node, kindred):
    err = rpc_error(lambda: node.profiles.Get(kindred.pb.GetProfileRequest(), timeout=T))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "key" in err.details()


def test_delete_missing_record_is_not_found(node, kindred):
    err = rpc_error(
        lambda: node.records.Delete(
            kindred.pb.DeleteRequest(record=ref(kindred, "nowhere", "never-1")), timeout=T
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_how_of_missing_entity_is_not_found(node, kindred):
    err = rpc_error(
        lambda: node.explain.How(kindred.pb.HowRequest(entity_id=987_654_321), timeout=T)
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_why_records_without_b_is_invalid_argument(node, kindred):
    err = rpc_error(
        lambda: node.explain.WhyRecords(
            kindred.pb.WhyRecordsRequest(a=ref(kindred, "crm", "c-1")), timeout=T
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "b" in err.details()


# ---------------------------------------------------------------- delete


def _margaret_pair(kindred):
    R = kindred.records
    common = dict(
        date_of_birth="1962-04-28",
        emails=["m.okafor-byrne@example.ie"],
    )
    a = R.Record(
        source="erp",
        record_id="e-7",
        name=R.PersonName(given="Margaret", family="Okafor-Byrne"),
        phones=["+353 1 555 0142"],
        **common,
    )
    b = R.Record(
        source="app",
        record_id="a-3",
        name=R.PersonName(given="Peggy", family="Okafor-Byrne"),
        **common,
    )
    return a, b


def test_delete_record_leaves_profile_with_the_other_record(node, kindred):
    pb = kindred.pb
    a, b = _margaret_pair(kindred)
    ra = node.records.Upsert(pb.UpsertRequest(record=a), timeout=T).result
    rb = node.records.Upsert(pb.UpsertRequest(record=b), timeout=T).result
    assert rb.entity_id == ra.entity_id, "setup: the two records must resolve together"
    before = node.profiles.Get(pb.GetProfileRequest(entity_id=ra.entity_id), timeout=T)
    assert len(before.records) == 2

    resp = node.records.Delete(pb.DeleteRequest(record=ref(kindred, "app", "a-3")), timeout=T)
    assert ra.entity_id in resp.affected_entities

    after = node.profiles.Get(pb.GetProfileRequest(entity_id=ra.entity_id), timeout=T)
    assert [ref_key(r) for r in after.records] == [("erp", "e-7")]
    assert after.records[0] == a
    e = rpc_error(
        lambda: node.records.Get(pb.GetRecordRequest(record=ref(kindred, "app", "a-3")), timeout=T)
    )
    assert e.code() == grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------- export, stats


def _export(node, kindred, chunk_size=0):
    chunks = list(
        node.profiles.ExportAssignments(kindred.pb.ExportRequest(chunk_size=chunk_size), timeout=T)
    )
    return chunks, [(ref_key(a.record), a.entity_id) for c in chunks for a in c.assignments]


def test_export_assignments_streams_every_record_with_its_entity(start_node, kindred):
    fresh = start_node()
    pb, R = kindred.pb, kindred.records
    expected = {}
    for rec in [robert_crm(kindred), bob_web(kindred), *_margaret_pair(kindred)]:
        res = fresh.records.Upsert(pb.UpsertRequest(record=rec), timeout=T).result
        expected[(rec.source, rec.record_id)] = res.entity_id
    loner = R.Record(
        source="pos",
        record_id="p-1",
        name=R.PersonName(given="Oluwaseun", family="Adeyemi"),
        date_of_birth="1979-10-05",
    )
    res = fresh.records.Upsert(pb.UpsertRequest(record=loner), timeout=T).result
    expected[("pos", "p-1")] = res.entity_id

    chunks, rows = _export(fresh, kindred, chunk_size=2)
    assert dict(rows) == expected
    assert len(rows) == len(expected)  # each record exactly once
    assert [len(c.assignments) for c in chunks] == [2, 2, 1]
    # Entities as resolved: Robert/Bob together, Margaret/Peggy together.
    assert expected[("crm", "c-1")] == expected[("web", "w-9")]
    assert expected[("erp", "e-7")] == expected[("app", "a-3")]
    assert len(set(expected.values())) == 3


def test_export_assignments_agrees_with_stats(node, kindred, robert, bulk):
    _, rows = _export(node, kindred)
    stats = node.admin.Stats(kindred.pb.StatsRequest(), timeout=T)
    keys = [k for k, _ in rows]
    assert len(keys) == len(set(keys))
    assert stats.records == len(rows)
    assert stats.entities == len({e for _, e in rows})
    assert (("crm", "c-1"), robert["entity_id"]) in rows
    assert (("web", "w-9"), robert["entity_id"]) in rows


def test_stats_count_records_and_entities(start_node, kindred):
    fresh = start_node()
    pb = kindred.pb

    def stats():
        return fresh.admin.Stats(pb.StatsRequest(), timeout=T)

    empty = stats()
    assert (empty.records, empty.entities) == (0, 0)

    for rec in [robert_crm(kindred), bob_web(kindred), *_margaret_pair(kindred)]:
        fresh.records.Upsert(pb.UpsertRequest(record=rec), timeout=T)
    full = stats()
    assert (full.records, full.entities) == (4, 2)
    assert full.match_edges >= 2
    assert full.comparisons >= 2
    assert full.blocking_keys > 0

    fresh.records.Delete(pb.DeleteRequest(record=ref(kindred, "app", "a-3")), timeout=T)
    after_delete = stats()
    assert (after_delete.records, after_delete.entities) == (3, 2)

    fresh.records.Delete(pb.DeleteRequest(record=ref(kindred, "erp", "e-7")), timeout=T)
    last = stats()
    assert (last.records, last.entities) == (2, 1)


def test_model_is_served_as_json(node, kindred):
    import json

    model = node.admin.GetModel(kindred.pb.GetModelRequest(), timeout=T)
    stats = node.admin.Stats(kindred.pb.StatsRequest(), timeout=T)
    assert model.model_version == stats.model_version
    assert isinstance(json.loads(model.model_json), dict)


# ---------------------------------------------------------------- restart


def test_data_survives_a_graceful_restart(start_node, kindred):
    pb = kindred.pb
    first = start_node()
    a = first.records.Upsert(pb.UpsertRequest(record=robert_crm(kindred)), timeout=T).result
    b = first.records.Upsert(pb.UpsertRequest(record=bob_web(kindred)), timeout=T).result
    first.assert_clean_exit()

    second = start_node(first.data_dir)
    got = second.records.Get(pb.GetRecordRequest(record=ref(kindred, "web", "w-9")), timeout=T)
    assert got.record == bob_web(kindred)
    assert got.entity_id == b.entity_id == a.entity_id
    stats = second.admin.Stats(pb.StatsRequest(), timeout=T)
    assert (stats.records, stats.entities) == (2, 1)
