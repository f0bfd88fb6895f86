//! Segment membership across partitions: the sweep moves customers
//! between stages when the clock passes, with the change in the feed; a
//! merge closes the merged customer's rows as merged and never makes the
//! customer it joined leave and re-enter.

use std::sync::Arc;

use kindred_proto::v1 as pb;

use super::{event, runtime, split_pair, Node};
use crate::activity::{ActivityConfig, Catalog};
use crate::cluster::membership::Memberships;
use crate::engine::EntityId;
use crate::segments::{builtin::builtin, SegmentSet};
use crate::storage::membership::{Change, FeedEntry};

const DAY: i64 = 86_400_000;
const NOW: i64 = 1_700_000_000_000;

fn memberships(node: &Node) -> Memberships {
    Memberships::start(
        node.coordinator.activities.clone(),
        Arc::new(|| Catalog {
            traits: ActivityConfig::default().configured_traits(),
            cuts: None,
            segments: SegmentSet::new(builtin("order_completed")),
            triggers: ActivityConfig::default().configured_triggers(),
        }),
    )
}

fn order(r: &pb::Record, id: &str, at_ms: i64) -> pb::Event {
    pb::Event {
        source: r.source.clone(),
        record_id: r.record_id.clone(),
        event_id: id.into(),
        r#type: "order_completed".into(),
        occurred_at_ms: at_ms,
        amount: Some(20.0),
        currency: "EUR".into(),
        ..Default::default()
    }
}

async fn feed(m: &Memberships) -> Vec<FeedEntry> {
    let mut all = Vec::new();
    for p in 0..m.partitions() {
        all.extend(m.feed(p, 0, 1000).await.unwrap());
    }
    all
}

async fn members(m: &Memberships, segment: &str) -> Vec<EntityId> {
    let rows = m.members(segment, 0, usize::MAX).await.unwrap();
    rows.into_iter().map(|(e, _)| e).collect()
}

#[test]
fn the_sweep_moves_a_customer_to_lapsed_when_the_clock_passes() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        let m = memberships(&node);
        let (a, _) = split_pair();
        let c = &node.coordinator;
        let id = c.writer.upsert(vec![a.clone()]).await[0]
            .as_ref()
            .unwrap()
            .entity;
        c.activities
            .send(vec![order(&a, "o1", NOW - 150 * DAY)], true)
            .await[0]
            .as_ref()
            .unwrap();
        m.sweep().await.unwrap();
        assert_eq!(members(&m, "at_risk").await, [id]);
        assert!(members(&m, "lapsed").await.is_empty());
        // Forty days on, nothing was written: only the sweep sees it.
        node.clock.set(NOW + 40 * DAY);
        let swept = m.sweep().await.unwrap();
        assert_eq!((swept.customers, swept.at_ms), (1, NOW + 40 * DAY));
        assert!(members(&m, "at_risk").await.is_empty());
        assert_eq!(members(&m, "lapsed").await, [id]);
        let tail: Vec<(Change, String)> = feed(&m)
            .await
            .into_iter()
            .filter(|e| e.at_ms == NOW + 40 * DAY)
            .map(|e| (e.change, e.segment))
            .collect();
        assert_eq!(
            tail,
            [
                (Change::Left, "at_risk".into()),
                (Change::Entered, "lapsed".into())
            ]
        );
        // A sweep with nothing new changes nothing.
        assert_eq!(m.sweep().await.unwrap().changes, 0);
    });
    node.close();
}

#[test]
fn feed_entries_older_than_the_retention_are_trimmed_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        let m = memberships(&node);
        let (a, _) = split_pair();
        let c = &node.coordinator;
        node.clock.set(NOW);
        c.writer.upsert(vec![a.clone()]).await[0].as_ref().unwrap();
        c.activities
            .send(vec![order(&a, "o1", NOW - 150 * DAY)], true)
            .await[0]
            .as_ref()
            .unwrap();
        m.sweep().await.unwrap();
        let old = feed(&m).await.len();
        assert!(old > 0);
        node.clock.set(NOW + 40 * DAY);
        m.sweep().await.unwrap();
        let before = feed(&m).await;
        let recent: Vec<u64> = before
            .iter()
            .filter(|e| e.at_ms == NOW + 40 * DAY)
            .map(|e| e.seq)
            .collect();
        assert!(!recent.is_empty());
        assert_eq!(m.trim_feed(30 * DAY).await.unwrap(), old as u64);
        let after: Vec<u64> = feed(&m).await.iter().map(|e| e.seq).collect();
        assert_eq!(after, recent, "only the entries of the last 30 days");
        assert_eq!(m.trim_feed(30 * DAY).await.unwrap(), 0);
    });
    node.close();
}

#[test]
fn a_merge_never_makes_the_survivor_leave_and_reenter() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        let m = memberships(&node);
        let (a, b) = split_pair();
        let c = &node.coordinator;
        // Two customers at first (b's identifiers differ), both new buyers.
        let mut b_alone = b.clone();
        b_alone.emails = vec!["someone.else@example.org".into()];
        b_alone.phones.clear();
        b_alone.date_of_birth = "1990-01-01".into();
        let ida = c.writer.upsert(vec![a.clone()]).await[0]
            .as_ref()
            .unwrap()
            .entity;
        let idb = c.writer.upsert(vec![b_alone]).await[0]
            .as_ref()
            .unwrap()
            .entity;
        assert_ne!(ida, idb);
        for (r, id) in [(&a, "oa"), (&b, "ob")] {
            c.activities.send(vec![order(r, id, NOW - DAY)], true).await[0]
                .as_ref()
                .unwrap();
        }
        m.reevaluate(vec![ida, idb]).await.unwrap();
        let mut both = vec![ida, idb];
        both.sort();
        assert_eq!(members(&m, "new_customers").await, both);
        // b now carries a's identifiers: one customer.
        let merged = c.writer.upsert(vec![b.clone()]).await[0]
            .as_ref()
            .unwrap()
            .entity;
        m.reevaluate(vec![ida, idb, merged]).await.unwrap();
        let survivor = c
            .reader
            .entity_of_record(&a.source, &a.record_id)
            .await
            .unwrap();
        assert_eq!(members(&m, "new_customers").await, [survivor]);
        let gone = if survivor == ida { idb } else { ida };
        let changes: Vec<(Change, EntityId, EntityId)> = feed(&m)
            .await
            .into_iter()
            .filter(|e| e.segment == "new_customers")
            .map(|e| (e.change, e.entity, e.into))
            .collect();
        assert!(
            changes.contains(&(Change::Merged, gone, survivor)),
            "{changes:?}"
        );
        assert!(
            !changes
                .iter()
                .any(|(c, e, _)| *e == survivor && *c != Change::Entered)
                && changes.iter().filter(|(_, e, _)| *e == survivor).count() == 1,
            "the survivor entered once and never left: {changes:?}"
        );
    });
    node.close();
}

/// Segments reading each part of a customer: a golden-record field, a
/// source, an event property (which the summaries cannot answer), consent,
/// a trait, and the standard ones.
fn catalog_reading_everything() -> Catalog {
    let own = [
        r#"name = "katarinas"
condition = { field = { name = "given_name", op = "=", value = "katarina" } }"#,
        r#"name = "from_the_web"
condition = { has_source = "web" }"#,
        r#"name = "web_buyers"
condition = { performed = { event = "order_completed", within_days = 30, where = { channel = "web" } } }"#,
        r#"name = "mailable"
condition = { has_consent = "email_marketing" }"#,
        r#"name = "repeat_buyers"
condition = { trait = { name = "orders", op = ">=", value = 2 } }"#,
    ];
    let mut segments = builtin("order_completed");
    segments.extend(
        own.iter()
            .map(|t| kindred_proto::segment_file::parse(t).unwrap()),
    );
    Catalog {
        traits: ActivityConfig::default().configured_traits(),
        cuts: None,
        segments: SegmentSet::new(segments),
        triggers: ActivityConfig::default().configured_triggers(),
    }
}

#[test]
fn a_sweep_reading_only_what_segments_look_at_stores_what_full_profiles_show() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        let catalog = catalog_reading_everything();
        let reads = catalog.membership_reads();
        assert!(reads.records && reads.activity.consents && reads.activity.events.is_some());
        let shown = catalog.clone();
        let m = Memberships::start(
            node.coordinator.activities.clone(),
            Arc::new(move || shown.clone()),
        );
        let c = &node.coordinator;
        // One customer across two partitions, two on their own.
        let (a, b) = split_pair();
        let mut web = super::person("w1", "Jonas", "Lindqvist");
        web.source = "web".into();
        web.emails = vec!["jonas.l@example.net".into()];
        web.phones = vec!["+46 8 555 0199".into()];
        web.date_of_birth = "1988-04-19".into();
        let mut quiet = super::person("q1", "Aino", "Virtanen");
        quiet.emails = vec!["aino.v@example.fi".into()];
        quiet.phones = vec!["+358 9 555 0142".into()];
        quiet.date_of_birth = "1961-09-30".into();
        for r in c
            .writer
            .upsert(vec![a.clone(), b.clone(), web.clone(), quiet])
            .await
        {
            r.unwrap();
        }
        let consent = [("purpose", "email_marketing"), ("status", "granted")];
        let events = vec![
            event(
                &a,
                "o1",
                "order_completed",
                NOW - 3 * DAY,
                &[("channel", "web")],
            ),
            event(
                &b,
                "o2",
                "order_completed",
                NOW - 40 * DAY,
                &[("channel", "store")],
            ),
            event(
                &web,
                "o3",
                "order_completed",
                NOW - 5 * DAY,
                &[("channel", "store")],
            ),
            event(&web, "v1", "cart_updated", NOW - DAY, &[("cart_id", "k1")]),
            event(&b, "k1", "consent", NOW - 9 * DAY, &consent),
        ];
        for r in c.activities.send(events, true).await {
            r.unwrap();
        }
        m.sweep().await.unwrap();
        let customers = c.reader.entities().await.unwrap();
        assert_eq!(customers.len(), 3, "{customers:?}");
        let mut seen_in = std::collections::BTreeSet::new();
        for id in customers.keys() {
            let full = c.activities.profile(*id, &catalog).await.unwrap();
            let mut stored = vec![];
            for s in catalog.segments.iter() {
                if members(&m, &s.name).await.contains(id) {
                    stored.push(s.name.clone());
                }
            }
            stored.sort();
            assert_eq!(stored, full.segments, "customer {id}");
            seen_in.extend(stored);
        }
        // Every kind of read decided some membership.
        for s in [
            "katarinas",
            "from_the_web",
            "web_buyers",
            "mailable",
            "repeat_buyers",
        ] {
            assert!(seen_in.contains(s), "nobody in {s}: {seen_in:?}");
        }
    });
    node.close();
}
