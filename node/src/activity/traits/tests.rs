use proptest::prelude::*;

use super::*;
use crate::activity::event::Prop;

const DAY: i64 = 86_400_000;
const NOW: i64 = 20_000 * DAY + 3_600_000;

fn ev(key: &str, id: &str, etype: &str, at_ms: i64, amount: Option<i64>) -> StoredEvent {
    StoredEvent {
        key: key.into(),
        event_id: id.into(),
        body: Body {
            etype: etype.into(),
            at_ms,
            amount,
            currency: String::new(),
            props: vec![],
        },
    }
}

/// The activity a store would hold for these events: every event, and
/// one summary per record, type and day.
fn activity(events: Vec<StoredEvent>) -> Activity {
    let mut rows: BTreeMap<(String, String, i32), Summary> = BTreeMap::new();
    for e in &events {
        rows.entry((e.key.clone(), e.body.etype.clone(), e.body.day()))
            .or_insert_with(Summary::empty)
            .merge(&Summary::of(&e.body));
    }
    Activity {
        summaries: rows
            .into_iter()
            .map(|((key, etype, day), summary)| DaySummary {
                key,
                etype,
                day,
                summary,
            })
            .collect(),
        events,
        ..Default::default()
    }
}

fn value(defs: &[TraitDef], name: &str, a: &Activity) -> TraitValue {
    defs.iter()
        .find(|d| d.name == name)
        .unwrap()
        .evaluate(a, NOW)
}

#[test]
fn builtin_traits_of_a_customer_with_two_channels() {
    let a = activity(vec![
        ev(
            "shop\u{1f}1",
            "o1",
            "order_completed",
            NOW - 40 * DAY,
            Some(10_000_000),
        ),
        ev(
            "shop\u{1f}1",
            "o2",
            "order_completed",
            NOW - 3 * DAY,
            Some(30_000_000),
        ),
        ev("web\u{1f}9", "v1", "page_view", NOW - DAY, None),
        ev("web\u{1f}9", "v2", "page_view", NOW - 2 * DAY, None),
        ev("web\u{1f}9", "v3", "page_view", NOW - 2 * DAY, None),
    ]);
    let defs = builtin("order_completed");
    assert_eq!(value(&defs, "orders", &a), TraitValue::Number(2.0));
    assert_eq!(value(&defs, "total_spend", &a), TraitValue::Number(40.0));
    assert_eq!(
        value(&defs, "average_order_value", &a),
        TraitValue::Number(20.0)
    );
    assert_eq!(
        value(&defs, "first_order", &a),
        TraitValue::Time(NOW - 40 * DAY)
    );
    assert_eq!(
        value(&defs, "last_order", &a),
        TraitValue::Time(NOW - 3 * DAY)
    );
    assert_eq!(
        value(&defs, "days_since_last_order", &a),
        TraitValue::Number(3.0)
    );
    assert_eq!(value(&defs, "last_seen", &a), TraitValue::Time(NOW - DAY));
    assert_eq!(
        value(&defs, "preferred_channel", &a),
        TraitValue::Text("web".into())
    );
}

#[test]
fn a_prospect_has_counts_of_zero_and_no_dates() {
    let defs = builtin("order_completed");
    let a = activity(vec![]);
    assert_eq!(value(&defs, "orders", &a), TraitValue::Number(0.0));
    assert_eq!(value(&defs, "total_spend", &a), TraitValue::Number(0.0));
    assert_eq!(value(&defs, "last_order", &a), TraitValue::None);
    assert_eq!(value(&defs, "preferred_channel", &a), TraitValue::None);
}

#[test]
fn windows_filters_and_property_aggregates() {
    let mut tagged = ev("shop\u{1f}1", "t1", "support_ticket", NOW - 5 * DAY, None);
    tagged.body.props = vec![("topic".into(), Prop::Str("delivery".into()))];
    let mut other = ev("shop\u{1f}1", "t2", "support_ticket", NOW - 50 * DAY, None);
    other.body.props = vec![("topic".into(), Prop::Str("billing".into()))];
    let mut third = ev("call\u{1f}4", "t3", "support_ticket", NOW - 6 * DAY, None);
    third.body.props = vec![("topic".into(), Prop::Str("delivery".into()))];
    let a = activity(vec![tagged, other, third]);
    let mut recent = TraitDef::simple("tickets_30d", "support_ticket", Aggregate::Count, "");
    recent.window_days = 30;
    assert_eq!(recent.evaluate(&a, NOW), TraitValue::Number(2.0));
    let mut delivery = TraitDef::simple("delivery", "support_ticket", Aggregate::Count, "");
    delivery.filters = vec![("topic".into(), "delivery".into())];
    assert!(delivery.needs_events());
    assert_eq!(delivery.evaluate(&a, NOW), TraitValue::Number(2.0));
    let topic = TraitDef::simple("topic", "support_ticket", Aggregate::MostFrequent, "topic");
    assert_eq!(topic.evaluate(&a, NOW), TraitValue::Text("delivery".into()));
    let topics = TraitDef::simple("topics", "", Aggregate::DistinctCount, "topic");
    assert_eq!(topics.evaluate(&a, NOW), TraitValue::Number(2.0));
    let last_topic = TraitDef::simple("last_topic", "", Aggregate::Last, "topic");
    assert_eq!(
        last_topic.evaluate(&a, NOW),
        TraitValue::Text("delivery".into())
    );
    let mut by_channel = TraitDef::simple("calls", "", Aggregate::Count, "");
    by_channel.filters = vec![(SOURCE.into(), "call".into())];
    assert_eq!(by_channel.evaluate(&a, NOW), TraitValue::Number(1.0));
}

#[test]
fn definitions_are_validated_naming_the_field() {
    let mut d = TraitDef::simple("Bad Name", "", Aggregate::Count, "");
    assert_eq!(d.validate().unwrap_err().field_value().0, "trait.name");
    d.name = "ok".into();
    d.aggregate = Aggregate::MostFrequent;
    assert_eq!(d.validate().unwrap_err().field_value().0, "trait.property");
    let pb = pb::TraitDefinition {
        name: "x".into(),
        ..Default::default()
    };
    assert_eq!(
        TraitDef::from_pb(pb).unwrap_err().field_value().0,
        "trait.aggregate"
    );
}

fn arb_events() -> impl Strategy<Value = Vec<StoredEvent>> {
    let one = (
        0usize..3,
        0usize..3,
        0i64..400,
        prop::option::of(0i64..500_000_000),
    )
        .prop_map(|(k, t, days, amount)| {
            let key = ["shop\u{1f}1", "web\u{1f}2", "call\u{1f}3"][k];
            let etype = ["order_completed", "page_view", "refund"][t];
            (key, etype, NOW - days * DAY - 1000, amount)
        });
    prop::collection::vec(one, 0..30).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (k, t, at, a))| ev(k, &format!("e{i}"), t, at, a))
            .collect()
    })
}

proptest! {
    /// A trait answered from the per-day summaries has exactly the value
    /// computed from the events themselves.
    #[test]
    fn summaries_answer_as_the_events_would(
        events in arb_events(),
        window in prop::sample::select(vec![0u32, 1, 7, 30, 365]),
    ) {
        let a = activity(events);
        for mut d in builtin("order_completed") {
            d.window_days = window;
            prop_assert_eq!(d.by_summaries(&a, NOW), d.by_events(&a, NOW), "{}", d.name);
        }
    }

    /// Traits do not depend on the order of events or of summary rows.
    #[test]
    fn traits_ignore_order(events in arb_events(), seed in any::<u64>()) {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let a = activity(events.clone());
        let mut shuffled = events;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        shuffled.shuffle(&mut rng);
        let mut b = activity(shuffled);
        b.summaries.shuffle(&mut rng);
        for d in builtin("order_completed") {
            prop_assert_eq!(d.evaluate(&a, NOW), d.evaluate(&b, NOW));
        }
    }
}
