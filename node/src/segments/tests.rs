//! What segment membership and validation pin: every condition kind, the
//! order segments are evaluated in, customers without a value, and
//! problems named by their path.

use std::collections::BTreeMap;

use kindred_proto::segment_file::parse;
use kindred_proto::v1 as pb;

use super::{builtin, check, Known, SegmentSet};
use crate::activity::event::{Body, Prop, MS_PER_DAY};
use crate::activity::{traits, Activity, DaySummary, StoredEvent, Summary, TraitDef};
use crate::engine::resolver::record_key;

const NOW: i64 = 20_000 * MS_PER_DAY + 3_600_000;

fn seg(toml: &str) -> pb::Segment {
    parse(toml).unwrap()
}

fn event(key: &str, id: &str, etype: &str, days_ago: i64, props: &[(&str, &str)]) -> StoredEvent {
    StoredEvent {
        key: key.into(),
        event_id: id.into(),
        body: Body {
            etype: etype.into(),
            at_ms: NOW - days_ago * MS_PER_DAY,
            amount: None,
            currency: String::new(),
            props: props
                .iter()
                .map(|(k, v)| (k.to_string(), Prop::Str(v.to_string())))
                .collect(),
        },
    }
}

/// A customer with two records (crm and web), a golden record, traits, a
/// stage, RFM, consent, and events whose summaries match them.
fn customer() -> (pb::Profile, Activity) {
    let web = record_key("web", "w1");
    let events = vec![
        event(&web, "c1", "checkout_started", 2, &[("cart_id", "A")]),
        event(&web, "c2", "checkout_started", 20, &[("cart_id", "B")]),
        event(&web, "e1", "email_opened", 1, &[]),
    ];
    let summaries = events
        .iter()
        .map(|e| DaySummary {
            key: e.key.clone(),
            etype: e.body.etype.clone(),
            day: e.body.day(),
            summary: Summary::of(&e.body),
        })
        .collect();
    let golden = pb::GoldenRecord {
        given_name: Some(pb::GoldenValue {
            value: "Maria".into(),
            ..Default::default()
        }),
        email: Some(pb::GoldenValue {
            value: "maria@example.com".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let number = |name: &str, n: f64| pb::TraitValue {
        name: name.into(),
        value: Some(pb::trait_value::Value::Number(n)),
    };
    let profile = pb::Profile {
        entity_id: 7,
        golden: Some(golden),
        records: vec![
            pb::Record {
                source: "crm".into(),
                record_id: "c1".into(),
                ..Default::default()
            },
            pb::Record {
                source: "web".into(),
                record_id: "w1".into(),
                ..Default::default()
            },
        ],
        attributes: [("tier".to_string(), "gold".to_string())].into(),
        traits: vec![
            number("orders", 4.0),
            number("total_spend", 250.5),
            pb::TraitValue {
                name: "last_order".into(),
                value: Some(pb::trait_value::Value::TimestampMs(NOW - 40 * MS_PER_DAY)),
            },
            pb::TraitValue {
                name: "first_order".into(),
                value: None,
            },
        ],
        lifecycle: Some(pb::Lifecycle {
            stage: "active".into(),
            ..Default::default()
        }),
        rfm: Some(pb::Rfm {
            recency: 4,
            frequency: 5,
            monetary: 3,
            group: "loyal".into(),
            ..Default::default()
        }),
        consent: vec![pb::PurposeConsent {
            purpose: "email_marketing".into(),
            granted: true,
            ..Default::default()
        }],
        ..Default::default()
    };
    let activity = Activity {
        summaries,
        events,
        ..Default::default()
    };
    (profile, activity)
}

/// Whether a customer is in a segment of one condition (written in TOML).
fn holds(condition: &str) -> bool {
    let (p, a) = customer();
    let s = seg(&format!("name = \"t\"\ncondition = {condition}\n"));
    SegmentSet::new([s]).memberships(&p, &a, NOW) == ["t"]
}

#[test]
fn fields_and_attributes_compare_as_text_ignoring_case() {
    assert!(holds(
        r#"{ field = { name = "given_name", op = "=", value = "maria" } }"#
    ));
    assert!(holds(
        r#"{ field = { name = "email", op = "contains", value = "@EXAMPLE" } }"#
    ));
    assert!(holds(
        r#"{ field = { name = "attribute:tier", op = "in", any_of = ["silver", "gold"] } }"#
    ));
    assert!(!holds(
        r#"{ field = { name = "family_name", op = "exists" } }"#
    ));
    assert!(holds(
        r#"{ field = { name = "family_name", op = "missing" } }"#
    ));
    // A customer without the value never matches a comparison, not even !=.
    assert!(!holds(
        r#"{ field = { name = "family_name", op = "!=", value = "x" } }"#
    ));
}

#[test]
fn traits_compare_numbers_and_a_time_by_its_age_in_days() {
    assert!(holds(
        r#"{ trait = { name = "total_spend", op = ">=", value = 250.5 } }"#
    ));
    assert!(!holds(
        r#"{ trait = { name = "total_spend", op = ">", value = 250.5 } }"#
    ));
    assert!(holds(
        r#"{ trait = { name = "orders", op = "in", any_of = ["3", "4"] } }"#
    ));
    // The last order was 40 days ago.
    assert!(holds(
        r#"{ trait = { name = "last_order", op = "<=", value = 40 } }"#
    ));
    assert!(!holds(
        r#"{ trait = { name = "last_order", op = "<", value = 40 } }"#
    ));
    assert!(holds(
        r#"{ trait = { name = "first_order", op = "missing" } }"#
    ));
    // Text against a number cannot be ordered: false, not a panic.
    assert!(!holds(
        r#"{ trait = { name = "orders", op = "<", value = "many" } }"#
    ));
}

#[test]
fn stage_rfm_source_and_consent() {
    assert!(holds(r#"{ stage = ["new", "active"] }"#));
    assert!(!holds(r#"{ stage = "lapsed" }"#));
    assert!(holds(
        r#"{ rfm = { groups = ["loyal", "champions"], min_frequency = 5 } }"#
    ));
    assert!(!holds(r#"{ rfm = { min_monetary = 4 } }"#));
    assert!(holds(r#"{ has_source = "crm" }"#));
    assert!(!holds(r#"{ has_source = "pos" }"#));
    assert!(holds(r#"{ has_consent = "email_marketing" }"#));
    assert!(!holds(r#"{ has_consent = "sms_marketing" }"#));
}

#[test]
fn performed_counts_events_in_the_window_with_their_filters() {
    // Checkouts 2 and 20 days ago.
    assert!(holds(
        r#"{ performed = { event = "checkout_started", within_days = 7 } }"#
    ));
    assert!(!holds(
        r#"{ performed = { event = "checkout_started", at_least = 2, within_days = 7 } }"#
    ));
    assert!(holds(
        r#"{ performed = { event = "checkout_started", at_least = 2 } }"#
    ));
    assert!(holds(
        r#"{ performed = { event = "checkout_started", where = { cart_id = "B" } } }"#
    ));
    assert!(!holds(
        r#"{ performed = { event = "checkout_started", where = { cart_id = "B" }, within_days = 7 } }"#
    ));
    assert!(holds(
        r#"{ not_performed = { event = "order_completed", within_days = 7 } }"#
    ));
    assert!(!holds(
        r#"{ not_performed = { event = "email_opened", within_days = 7 } }"#
    ));
}

#[test]
fn all_any_and_not_combine() {
    assert!(holds(
        r#"{ all = [{ stage = "active" }, { has_source = "web" }] }"#
    ));
    assert!(!holds(
        r#"{ all = [{ stage = "active" }, { has_source = "pos" }] }"#
    ));
    assert!(holds(
        r#"{ any = [{ stage = "lapsed" }, { has_source = "web" }] }"#
    ));
    assert!(holds(r#"{ all = [] }"#));
    assert!(!holds(r#"{ any = [] }"#));
    assert!(holds(r#"{ not = { stage = "lapsed" } }"#));
}

#[test]
fn a_segment_naming_another_is_evaluated_after_it_whatever_their_order() {
    let (p, a) = customer();
    let base = seg("name = \"zz_base\"\ncondition = { stage = \"active\" }\n");
    let top = seg("name = \"aa_top\"\ncondition = { in_segment = \"zz_base\" }\n");
    let not_top = seg("name = \"mm\"\ncondition = { not = { in_segment = \"aa_top\" } }\n");
    for order in [
        vec![top.clone(), base.clone(), not_top.clone()],
        vec![not_top.clone(), base.clone(), top.clone()],
    ] {
        assert_eq!(
            SegmentSet::new(order).memberships(&p, &a, NOW),
            ["aa_top", "zz_base"]
        );
    }
}

#[test]
fn abandoned_carts_and_stage_segments_of_the_standard_set() {
    let (p, a) = customer();
    let set = SegmentSet::new(builtin::builtin("order_completed"));
    assert_eq!(set.memberships(&p, &a, NOW), ["abandoned_carts", "active"]);
    // Ten days on, the checkout is older than the window.
    assert_eq!(set.memberships(&p, &a, NOW + 10 * MS_PER_DAY), ["active"]);
}

struct World {
    traits: Vec<TraitDef>,
    purposes: Vec<String>,
    segments: BTreeMap<String, pb::Segment>,
}

fn world(segments: &[&str]) -> World {
    World {
        traits: traits::builtin("order_completed"),
        purposes: vec!["email_marketing".into()],
        segments: segments
            .iter()
            .map(|t| {
                let s = seg(t);
                (s.name.clone(), s)
            })
            .collect(),
    }
}

fn problems(w: &World, toml: &str) -> Vec<(String, String)> {
    let known = Known {
        traits: &w.traits,
        purposes: &w.purposes,
        segments: &w.segments,
    };
    check(&seg(toml), &known)
        .problems
        .into_iter()
        .map(|p| (p.path, p.message))
        .collect()
}

#[test]
fn every_problem_is_named_by_its_path() {
    let w = world(&[]);
    let bad = r#"
name = "Bad Name"
[condition]
all = [
  { trait = { name = "spend", op = ">=", value = 1 } },
  { any = [{ stage = ["active", "sleeping"] }, { has_consent = "fax" }] },
  { field = { name = "shoe_size", op = "exists", value = 3 } },
  { performed = { event = "", within_days = 40000 } },
  { rfm = {} },
]
"#;
    let got: Vec<String> = problems(&w, bad).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        got,
        [
            "name",
            "condition.all[0].trait.name",
            "condition.all[1].any[0].stage[1]",
            "condition.all[1].any[1].has_consent",
            "condition.all[2].field.name",
            "condition.all[2].field.op",
            "condition.all[3].performed.event",
            "condition.all[3].performed.within_days",
            "condition.all[4].rfm",
        ]
    );
    let msgs = problems(&w, bad);
    assert!(msgs[1].1.contains("\"spend\" is not a trait"), "{msgs:?}");
    assert!(msgs[3].1.contains("email_marketing"), "{msgs:?}");
}

#[test]
fn unknown_segments_self_references_and_cycles_are_refused() {
    let w = world(&[
        "name = \"a\"\ncondition = { in_segment = \"b\" }\n",
        "name = \"b\"\ncondition = { stage = \"new\" }\n",
    ]);
    let p = problems(&w, "name = \"c\"\ncondition = { in_segment = \"nope\" }\n");
    assert!(p[0].1.contains("is not a segment"), "{p:?}");
    let p = problems(&w, "name = \"c\"\ncondition = { in_segment = \"c\" }\n");
    assert!(p[0].1.contains("itself"), "{p:?}");
    // b redefined to name a, which names b.
    let p = problems(&w, "name = \"b\"\ncondition = { in_segment = \"a\" }\n");
    assert!(p[0].1.contains("cycle"), "{p:?}");
}

#[test]
fn conditions_are_split_into_realtime_and_time_dependent() {
    let w = world(&["name = \"lapsed_ones\"\ncondition = { stage = \"lapsed\" }\n"]);
    let known = Known {
        traits: &w.traits,
        purposes: &w.purposes,
        segments: &w.segments,
    };
    let c = check(
        &seg(r#"
name = "mix"
[condition]
all = [
  { has_source = "crm" },
  { trait = { name = "orders", op = ">", value = 1 } },
  { trait = { name = "days_since_last_order", op = "<", value = 30 } },
  { performed = { event = "page_view" } },
  { performed = { event = "page_view", within_days = 3 } },
  { in_segment = "lapsed_ones" },
]
"#),
        &known,
    );
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let paths = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        paths(&c.realtime),
        ["condition.all[0]", "condition.all[1]", "condition.all[3]"]
    );
    assert_eq!(
        paths(&c.time),
        ["condition.all[2]", "condition.all[4]", "condition.all[5]"]
    );
}
