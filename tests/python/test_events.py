"""Events and traits through a Python grpcio client: send one event and a
stream with a bad event in it, read the customer's traits, stage and recent
events on the profile, list events, define a trait, compute RFM.
"""

from __future__ import annotations

import time

import grpc
import pytest

T = 10.0
DAY_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


def order(kindred, record_id, event_id, days_ago, amount, cart=None):
    A = kindred.activity
    props = {}
    if cart:
        props["cart_id"] = A.PropertyValue(string_value=cart)
    return A.Event(
        source="pyshop",
        record_id=record_id,
        event_id=event_id,
        type="order_completed",
        occurred_at_ms=now_ms() - days_ago * DAY_MS,
        amount=amount,
        currency="EUR",
        properties=props,
    )


def traits_of(profile):
    out = {}
    for t in profile.traits:
        which = t.WhichOneof("value")
        out[t.name] = getattr(t, which) if which else None
    return out


@pytest.fixture(scope="module")
def shopper(node, kindred):
    """A shop customer with two orders and a page view."""
    R = kindred.records
    E = kindred.events
    node.records.Upsert(
        kindred.pb.UpsertRequest(
            record=R.Record(
                source="pyshop",
                record_id="s-1",
                name=R.PersonName(given="Priya", family="Raman"),
                emails=["priya.raman@example.com"],
            )
        ),
        timeout=T,
    )
    o1 = order(kindred, "s-1", "o-1", 100, 40.0, cart="c-1")
    first = node.events.Send(E.SendEventRequest(event=o1), timeout=T)
    view = kindred.activity.Event(
        source="pyshop",
        record_id="s-1",
        event_id="v-1",
        type="page_view",
        occurred_at_ms=now_ms() - DAY_MS,
    )
    batches = [
        E.BulkSendRequest(events=[order(kindred, "s-1", "o-2", 10, 60.0), view]),
        E.BulkSendRequest(
            events=[
                kindred.activity.Event(source="pyshop", record_id="s-1", event_id="bad"),
                o1,
            ]
        ),
    ]
    results = [r for resp in node.events.BulkSend(iter(batches), timeout=T) for r in resp.results]
    return first.result, results


def test_send_names_the_customer(shopper):
    first, _ = shopper
    assert first.entity_id > 0
    assert not first.duplicate


def test_bulk_send_answers_each_event_and_a_bad_one_fails_alone(shopper):
    _, results = shopper
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert results[0].WhichOneof("outcome") == "ok"
    bad = results[2]
    assert bad.WhichOneof("outcome") == "error"
    assert bad.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert bad.error.field == "type"
    assert results[3].ok.duplicate, "the same event sent again is stored once"


def test_profile_carries_traits_stage_and_recent_events(node, kindred, shopper):
    profile = node.profiles.Get(
        kindred.pb.GetProfileRequest(
            identity=kindred.pb.IdentityLookup(kind="email", value="priya.raman@example.com")
        ),
        timeout=T,
    )
    traits = traits_of(profile)
    assert traits["orders"] == 2
    assert traits["total_spend"] == pytest.approx(100.0)
    assert traits["average_order_value"] == pytest.approx(50.0)
    assert traits["days_since_last_order"] == 10
    assert traits["preferred_channel"] == "pyshop"
    assert profile.lifecycle.stage == "active"
    assert [e.event_id for e in profile.recent_events] == ["v-1", "o-2", "o-1"]


def test_list_filters_by_type_and_pages(node, kindred, shopper):
    E = kindred.events
    key = kindred.pb.RecordRef(source="pyshop", record_id="s-1")
    page = node.events.List(
        E.ListEventsRequest(record=key, types=["order_completed"], page_size=1), timeout=T
    )
    assert [e.event_id for e in page.events] == ["o-2"]
    assert page.next_page_token
    rest = node.events.List(
        E.ListEventsRequest(
            record=key, types=["order_completed"], page_size=1, page_token=page.next_page_token
        ),
        timeout=T,
    )
    assert [e.event_id for e in rest.events] == ["o-1"]
    assert rest.next_page_token == ""


def test_a_defined_trait_and_rfm_show_on_the_profile(node, kindred, shopper):
    E = kindred.events
    node.traits.Define(
        E.DefineTraitRequest(
            trait=E.TraitDefinition(
                name="cart_orders",
                event_type="order_completed",
                aggregate=E.AGGREGATE_COUNT,
                filters=[E.PropertyFilter(property="cart_id", equals="c-1")],
            )
        ),
        timeout=T,
    )
    names = {t.name for t in node.traits.List(E.ListTraitsRequest(), timeout=T).traits}
    assert {"orders", "cart_orders"} <= names
    cuts = node.traits.ComputeRfm(E.ComputeRfmRequest(), timeout=T)
    assert cuts.version >= 1 and cuts.customers >= 1
    profile = node.profiles.Get(
        kindred.pb.GetProfileRequest(record=kindred.pb.RecordRef(source="pyshop", record_id="s-1")),
        timeout=T,
    )
    assert traits_of(profile)["cart_orders"] == 1
    assert profile.rfm.cuts_version == cuts.version
    assert 1 <= profile.rfm.recency <= 5


def test_an_event_from_the_future_is_invalid_argument(node, kindred):
    A = kindred.activity
    e = A.Event(
        source="pyshop",
        record_id="s-9",
        event_id="f-1",
        type="page_view",
        occurred_at_ms=now_ms() + 10 * DAY_MS,
    )
    with pytest.raises(grpc.RpcError) as err:
        node.events.Send(kindred.events.SendEventRequest(event=e), timeout=T)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "occurred_at_ms" in err.value.details()
