//! Activity across partitions: events follow their records through
//! merges, splits, home changes and late arrivals, and a customer's
//! traits, stage and RFM depend only on the records and events, never on
//! their order or the cluster's layout.

use std::collections::BTreeMap;

use kindred_proto::v1 as pb;
use pb::trait_value::Value;
use proptest::prelude::*;

use super::{person, runtime, split_pair, Node, PARTITIONS};
use crate::activity::{ActivityConfig, Catalog, Cuts};
use crate::engine::EngineConfig;

const DAY: i64 = 86_400_000;
/// The harness's clock.
const NOW: i64 = 1_700_000_000_000;

fn ev(r: &pb::Record, id: &str, etype: &str, days_ago: i64, amount: Option<f64>) -> pb::Event {
    pb::Event {
        source: r.source.clone(),
        record_id: r.record_id.clone(),
        event_id: id.into(),
        r#type: etype.into(),
        occurred_at_ms: NOW - days_ago * DAY,
        amount,
        currency: "EUR".into(),
        ..Default::default()
    }
}

fn catalog() -> Catalog {
    Catalog {
        traits: ActivityConfig::default().configured_traits(),
        cuts: None,
        segments: crate::segments::SegmentSet::new(crate::segments::builtin::builtin(
            "order_completed",
        )),
        triggers: ActivityConfig::default().configured_triggers(),
    }
}

fn number(p: &pb::Profile, name: &str) -> Option<f64> {
    p.traits
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| match t.value {
            Some(Value::Number(n)) => Some(n),
            _ => None,
        })
}

async fn profile_of(node: &Node, r: &pb::Record) -> pb::Profile {
    let c = &node.coordinator;
    let id = c
        .reader
        .entity_of_record(&r.source, &r.record_id)
        .await
        .unwrap();
    c.activities.profile(id, &catalog()).await.unwrap()
}

async fn send(node: &Node, events: Vec<pb::Event>) -> Vec<crate::cluster::activity::EventOutcome> {
    node.coordinator
        .activities
        .send(events, true)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn a_merge_combines_activity_and_a_split_separates_it() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let c = &node.coordinator;
        let (a, b) = split_pair();
        c.writer
            .upsert(vec![a.clone()])
            .await
            .pop()
            .unwrap()
            .unwrap();
        send(&node, vec![ev(&a, "o1", "order_completed", 10, Some(20.0))]).await;
        c.writer
            .upsert(vec![b.clone()])
            .await
            .pop()
            .unwrap()
            .unwrap();
        send(
            &node,
            vec![
                ev(&b, "o2", "order_completed", 3, Some(30.5)),
                ev(&b, "v1", "page_view", 1, None),
            ],
        )
        .await;
        let merged = profile_of(&node, &a).await;
        assert_eq!(merged.records.len(), 2, "the duplicates are one customer");
        assert_eq!(number(&merged, "orders"), Some(2.0));
        assert_eq!(number(&merged, "total_spend"), Some(50.5));
        assert_eq!(merged.recent_events.len(), 3);
        assert_eq!(merged.lifecycle.as_ref().unwrap().stage, "new");

        // b becomes someone else: each part keeps exactly its own events.
        let mut other = person("2", "Bartholomew", "Quincey");
        other.emails = vec!["bq@elsewhere.org".into()];
        other.phones.clear();
        other.date_of_birth = "1990-01-01".into();
        c.writer
            .upsert(vec![other.clone()])
            .await
            .pop()
            .unwrap()
            .unwrap();
        let left = profile_of(&node, &a).await;
        let right = profile_of(&node, &other).await;
        assert_ne!(left.entity_id, right.entity_id);
        assert_eq!(number(&left, "orders"), Some(1.0));
        assert_eq!(number(&left, "total_spend"), Some(20.0));
        assert_eq!(number(&right, "orders"), Some(1.0));
        assert_eq!(number(&right, "total_spend"), Some(30.5));
        assert_eq!(right.recent_events.len(), 2);
        node.close();
    });
}

#[test]
fn an_event_sent_before_its_record_joins_the_customer_when_it_arrives() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let (a, b) = split_pair();
        let sent = send(&node, vec![ev(&b, "o1", "order_completed", 2, Some(9.0))]).await;
        assert_eq!(sent[0].entity, 0, "no record yet: no customer yet");
        let c = &node.coordinator;
        c.writer.upsert(vec![a.clone(), b.clone()]).await;
        let p = profile_of(&node, &a).await;
        assert_eq!(number(&p, "orders"), Some(1.0));
        // Sent again once the record exists: still one event.
        let again = send(&node, vec![ev(&b, "o1", "order_completed", 2, Some(9.0))]).await;
        assert!(again[0].duplicate);
        assert_eq!(again[0].entity, p.entity_id);
        assert_eq!(number(&profile_of(&node, &a).await, "orders"), Some(1.0));
        node.close();
    });
}

#[test]
fn events_move_with_a_record_whose_home_changes() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let c = &node.coordinator;
        let (a, b) = split_pair();
        c.writer.upsert(vec![a.clone()]).await;
        send(&node, vec![ev(&a, "o1", "order_completed", 5, Some(12.0))]).await;
        // The same record, renamed so that another partition is its home.
        let mut moved = b.clone();
        moved.record_id = a.record_id.clone();
        c.writer
            .upsert(vec![moved.clone()])
            .await
            .pop()
            .unwrap()
            .unwrap();
        let p = profile_of(&node, &moved).await;
        assert_eq!(number(&p, "orders"), Some(1.0));
        assert_eq!(number(&p, "total_spend"), Some(12.0));
        node.close();
    });
}

#[test]
fn an_event_with_identifying_fields_creates_its_record() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let c = &node.coordinator;
        let known = person("1", "Katarina", "Ferreira");
        c.writer.upsert(vec![known.clone()]).await;
        let mut e = ev(&known, "v1", "page_view", 0, None);
        e.source = "web".into();
        e.record_id = "anon-7".into();
        e.identity = Some(pb::Record {
            emails: known.emails.clone(),
            name: known.name.clone(),
            date_of_birth: known.date_of_birth.clone(),
            ..Default::default()
        });
        let out = send(&node, vec![e]).await;
        assert!(out[0].record_written);
        let p = profile_of(&node, &known).await;
        assert_eq!(
            p.entity_id, out[0].entity,
            "the visitor is stitched to the customer"
        );
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.recent_events.len(), 1);
        node.close();
    });
}

#[test]
fn a_bad_or_conflicting_event_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let a = person("1", "Katarina", "Ferreira");
        node.coordinator.writer.upsert(vec![a.clone()]).await;
        let mut no_type = ev(&a, "x", "", 1, None);
        no_type.r#type.clear();
        let mut future = ev(&a, "f", "page_view", 0, None);
        future.occurred_at_ms = NOW + 3 * DAY;
        let batch = vec![
            ev(&a, "o1", "order_completed", 1, Some(5.0)),
            no_type,
            future,
            ev(&a, "o1", "order_completed", 1, Some(6.0)),
            ev(&a, "o2", "order_completed", 1, Some(7.0)),
        ];
        let out = node.coordinator.activities.send(batch, true).await;
        assert!(out[0].is_ok());
        assert_eq!(out[1].as_ref().unwrap_err().field_value().0, "type");
        assert_eq!(
            out[2].as_ref().unwrap_err().field_value().0,
            "occurred_at_ms"
        );
        let conflict = out[3].as_ref().unwrap_err();
        assert_eq!(conflict.code(), tonic::Code::AlreadyExists);
        assert!(out[4].is_ok());
        let p = profile_of(&node, &a).await;
        assert_eq!(number(&p, "total_spend"), Some(12.0));
        node.close();
    });
}

#[test]
fn deleting_a_record_deletes_its_events() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let c = &node.coordinator;
        let (a, b) = split_pair();
        c.writer.upsert(vec![a.clone(), b.clone()]).await;
        send(
            &node,
            vec![
                ev(&a, "o1", "order_completed", 1, Some(5.0)),
                ev(&b, "o2", "order_completed", 1, Some(7.0)),
            ],
        )
        .await;
        c.writer.delete(&b.source, &b.record_id).await.unwrap();
        let p = profile_of(&node, &a).await;
        assert_eq!(number(&p, "total_spend"), Some(5.0));
        c.writer.upsert(vec![b.clone()]).await;
        let p = profile_of(&node, &a).await;
        assert_eq!(
            number(&p, "total_spend"),
            Some(5.0),
            "the record came back without its deleted events"
        );
        node.close();
    });
}

// ------------------------------------------------- order and layout

/// People with duplicates across sources, and their activity.
fn population() -> (Vec<pb::Record>, Vec<pb::Event>) {
    let names = [
        ("Katarina", "Ferreira", "1975-11-02"),
        ("Tomasz", "Nowak", "1982-04-17"),
        ("Aoife", "Byrne", "1990-09-30"),
        ("Sipho", "Dlamini", "1968-01-08"),
    ];
    let mut records = Vec::new();
    let mut events = Vec::new();
    for (i, (given, family, dob)) in names.iter().enumerate() {
        for (j, source) in ["crm", "shop", "web"].iter().enumerate() {
            let mut r = person(&format!("{i}"), given, family);
            r.source = source.to_string();
            r.date_of_birth = dob.to_string();
            r.emails = vec![format!("{}.{}@example.com", given, family).to_lowercase()];
            r.phones = vec![format!("+44 20 7946 0{i}{j}1")];
            for k in 0..(i + j) {
                let days = (i * 37 + j * 11 + k * 53) as i64 % 400;
                let amount = 10.0 + (i * 7 + k) as f64;
                events.push(ev(
                    &r,
                    &format!("o{k}"),
                    "order_completed",
                    days,
                    Some(amount),
                ));
                events.push(ev(&r, &format!("v{k}"), "page_view", days / 2, None));
            }
            records.push(r);
        }
    }
    (records, events)
}

/// What each record's customer looks like: (record, orders, spend, stage,
/// segments), and the RFM scores of every customer.
type View = (
    Vec<(String, Option<f64>, Option<f64>, String, Vec<String>)>,
    Vec<(u32, u32, u32)>,
);

async fn view(node: &Node, records: &[pb::Record]) -> View {
    let cuts: Cuts = node.coordinator.activities.compute_cuts(1).await.unwrap();
    let catalog = Catalog {
        cuts: Some(cuts),
        ..catalog()
    };
    let mut rows = Vec::new();
    let mut rfm = Vec::new();
    for r in records {
        let c = &node.coordinator;
        let id = c
            .reader
            .entity_of_record(&r.source, &r.record_id)
            .await
            .unwrap();
        let p = c.activities.profile(id, &catalog).await.unwrap();
        rows.push((
            format!("{}:{}", r.source, r.record_id),
            number(&p, "orders"),
            number(&p, "total_spend"),
            p.lifecycle.clone().unwrap().stage,
            p.segments.clone(),
        ));
        if let Some(x) = &p.rfm {
            rfm.push((x.recency, x.frequency, x.monetary));
        }
    }
    (rows, rfm)
}

fn shuffled<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut out = v.to_vec();
    out.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    out
}

/// Loads records and events interleaved in one order, in batches.
async fn load(node: &Node, records: &[pb::Record], events: &[pb::Event], seed: u64) {
    let mut work: Vec<Result<pb::Record, pb::Event>> = records.iter().cloned().map(Ok).collect();
    work.extend(events.iter().cloned().map(Err));
    let work = shuffled(&work, seed);
    for chunk in work.chunks(5) {
        let recs: Vec<pb::Record> = chunk.iter().filter_map(|w| w.clone().ok()).collect();
        let evs: Vec<pb::Event> = chunk.iter().filter_map(|w| w.clone().err()).collect();
        for r in node.coordinator.writer.upsert(recs).await {
            r.unwrap();
        }
        for r in node.coordinator.activities.send(evs, true).await {
            r.unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Traits, stages, RFM scores and segment memberships are the same
    /// whatever the order in which records and events arrive and however
    /// many partitions hold them.
    #[test]
    fn activity_depends_on_neither_order_nor_layout(seed in any::<u64>()) {
        let (records, events) = population();
        let mut views: BTreeMap<String, View> = BTreeMap::new();
        for (label, partitions, order) in [("1 partition", 1, 0), ("4 partitions", PARTITIONS, seed), ("2 partitions", 2, seed ^ 0x5eed)] {
            let dir = tempfile::tempdir().unwrap();
            let v = runtime().block_on(async {
                let node = Node::open_layout(dir.path(), EngineConfig::default(), partitions);
                load(&node, &records, &events, order).await;
                let v = view(&node, &records).await;
                node.close();
                v
            });
            views.insert(label.to_string(), v);
        }
        let first = views.values().next().unwrap().clone();
        prop_assert!(first.0.iter().all(|r| r.1.is_some()));
        for (label, v) in &views {
            prop_assert_eq!(v, &first, "{} differs", label);
        }
    }
}

// ------------------------------------------------- hand-over races

use super::home;
use crate::activity::{Event as Validated, EventRules};
use crate::cluster::activity::EventOutcome;
use crate::engine::resolver::record_key;
use crate::partition::request::{
    ActivityOf, AdoptEvents, DropActivity, EventItem, EventsWanted, OrphanedEvents, PutEvents,
};

/// An event as the coordinator sends it to a partition.
fn item(e: pb::Event) -> EventItem {
    let v = Validated::from_pb(e, NOW, &EventRules::default()).unwrap();
    EventItem {
        key: v.key,
        event_id: v.event_id,
        body: v.body.encode(),
        timers: vec![],
    }
}

/// The events and summaries partition `p` keeps for a record key.
async fn kept_at(node: &Node, p: u32, key: &str) -> crate::activity::Activity {
    let req = ActivityOf {
        ids: vec![],
        keys: vec![key.to_string()],
        events: EventsWanted::All,
        tracked: vec![],
    };
    node.coordinator.router.call(p, req).await.unwrap()
}

fn other_than(p: u32) -> u32 {
    (p + 1) % PARTITIONS
}

#[test]
fn an_event_parked_after_its_record_arrived_is_placed_again() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let c = &node.coordinator;
        let (a, _) = split_pair();
        c.writer.upsert(vec![a.clone()]).await;
        // The event was placed before the record arrived (no partition held
        // it) and reached its parking partition after the probe round that
        // would have handed it over.
        let parking = other_than(home(&a));
        let e = ev(&a, "o1", "order_completed", 3, Some(8.0));
        let stored = c
            .router
            .call(
                parking,
                PutEvents {
                    items: vec![item(e)],
                    linked: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(stored[0].as_ref().unwrap().entity, 0);
        let key = record_key(&a.source, &a.record_id);
        let mut slots = vec![Some(Ok(EventOutcome {
            key: key.clone(),
            event_id: "o1".into(),
            duplicate: false,
            entity: 0,
            record_written: false,
        }))];
        c.activities
            .settle_parked(&[(0, key.clone(), parking)], &mut slots)
            .await
            .unwrap();
        let p = profile_of(&node, &a).await;
        assert_eq!(number(&p, "orders"), Some(1.0));
        assert_eq!(
            slots[0].as_ref().unwrap().as_ref().unwrap().entity,
            p.entity_id
        );
        let left = c
            .router
            .call(parking, OrphanedEvents { keys: vec![key] })
            .await
            .unwrap();
        assert!(left.is_empty(), "the keeper dropped what it handed over");
        node.close();
    });
}

#[test]
fn a_keeper_drops_only_the_events_it_handed_over() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let c = &node.coordinator;
        let (a, _) = split_pair();
        c.writer.upsert(vec![a.clone()]).await;
        let (h, keeper) = (home(&a), other_than(home(&a)));
        let key = record_key(&a.source, &a.record_id);
        let put = |e: pb::Event| PutEvents {
            items: vec![item(e)],
            linked: false,
        };
        c.router
            .call(keeper, put(ev(&a, "o1", "order_completed", 3, Some(8.0))))
            .await
            .unwrap();
        let snapshot = c
            .router
            .call(
                keeper,
                OrphanedEvents {
                    keys: vec![key.clone()],
                },
            )
            .await
            .unwrap();
        // An event reaches the keeper between the snapshot and the drop.
        c.router
            .call(keeper, put(ev(&a, "o2", "order_completed", 2, Some(5.0))))
            .await
            .unwrap();
        c.router
            .call(h, AdoptEvents { items: snapshot })
            .await
            .unwrap();
        c.router
            .call(
                keeper,
                DropActivity {
                    items: vec![(key.clone(), vec!["o1".into()])],
                },
            )
            .await
            .unwrap();
        let kept = kept_at(&node, keeper, &key).await;
        let ids: Vec<&str> = kept.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, vec!["o2"], "the late event stays with the keeper");
        let counted: u64 = kept.summaries.iter().map(|s| s.summary.count).sum();
        assert_eq!(counted, 1, "its summaries were rebuilt from what is left");
        node.close();
    });
}

/// A resend queued right behind the delete of its record (the delete's
/// batch not yet on disk) is new, not a duplicate of the deleted copy.
#[test]
fn an_event_sent_again_right_behind_its_records_delete_is_stored_again() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let c = &node.coordinator;
        let (a, _) = split_pair();
        c.writer.upsert(vec![a.clone()]).await;
        let (h, key) = (home(&a), record_key(&a.source, &a.record_id));
        let e = ev(&a, "o1", "order_completed", 3, Some(8.0));
        let put = || PutEvents {
            items: vec![item(e.clone())],
            linked: false,
        };
        c.router.call(h, put()).await.unwrap();
        let delete = crate::partition::request::Delete {
            at_ms: NOW,
            key: key.clone(),
        };
        let (deleted, again) = tokio::join!(c.router.call(h, delete), c.router.call(h, put()));
        deleted.unwrap();
        assert!(!again.unwrap()[0].as_ref().unwrap().duplicate);
        let kept = kept_at(&node, h, &key).await;
        assert_eq!(kept.events.len(), 1, "the resent event is stored");
        node.close();
    });
}
