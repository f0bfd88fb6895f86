//! The abandoned cart on one node with a manual clock: it waits for its
//! hour (reset by a newer cart event), fires once with its entry in the
//! feed, is cancelled by the order with its cart_id, respects the
//! customer's cooldown, expires when found a day late, and a firing
//! interrupted after its claim is completed without a second entry.

use std::sync::Arc;

use kindred_proto::v1 as pb;

use super::{event, person, runtime, Node};
use crate::activity::{ActivityConfig, Catalog};
use crate::cluster::triggers::{Firings, Looked};
use crate::partition::partition_of_entity;
use crate::partition::request::{ClaimFiring, Claimed, FeedAfter};
use crate::segments::triggers::TriggerDef;
use crate::segments::SegmentSet;
use crate::storage::membership::{Change, FeedEntry, Firing};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const NOW: i64 = 1_700_000_000_000;

fn firings(node: &Node) -> Firings {
    firings_with(node, ActivityConfig::default().configured_triggers())
}

/// A firer looking with these definitions (timers are set with the
/// configured ones).
fn firings_with(node: &Node, triggers: Vec<TriggerDef>) -> Firings {
    let catalog = Catalog {
        traits: vec![],
        cuts: None,
        segments: SegmentSet::default(),
        triggers,
    };
    Firings::new(
        node.coordinator.activities.clone(),
        Arc::new(move || catalog.clone()),
    )
}

fn cart_event(r: &pb::Record, id: &str, etype: &str, at_ms: i64, cart: &str) -> pb::Event {
    event(r, id, etype, at_ms, &[("cart_id", cart)])
}

/// Writes a record; its customer's id.
async fn customer(node: &Node, r: &pb::Record) -> u64 {
    node.coordinator.writer.upsert(vec![r.clone()]).await[0]
        .as_ref()
        .unwrap()
        .entity
}

async fn send(node: &Node, e: pb::Event) {
    node.coordinator.activities.send(vec![e], true).await[0]
        .as_ref()
        .unwrap();
}

async fn firings_in_feed(node: &Node) -> Vec<FeedEntry> {
    let router = &node.coordinator.router;
    let mut out = Vec::new();
    for p in 0..router.map().partitions {
        let entries = router
            .call(
                p,
                FeedAfter {
                    after: 0,
                    limit: 1000,
                },
            )
            .await;
        out.extend(
            entries
                .unwrap()
                .into_iter()
                .filter(|e| e.change == Change::Fired),
        );
    }
    out
}

async fn open_carts(node: &Node, id: u64) -> Vec<(String, i64)> {
    let c = &node.coordinator;
    let catalog = Catalog {
        triggers: c.activities.triggers.all(),
        ..Default::default()
    };
    let p = c.activities.profile(id, &catalog).await.unwrap();
    p.open_triggers
        .into_iter()
        .map(|t| (t.match_value, t.due_at_ms))
        .collect()
}

#[test]
fn an_abandoned_cart_fires_once_after_its_hour_unless_ordered_or_cooling_down() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        let f = firings(&node);
        let a = person("a", "Maria", "Sentosa");
        let id = customer(&node, &a).await;
        node.clock.set(NOW);
        send(
            &node,
            cart_event(&a, "e1", "checkout_started", NOW - 10 * MIN, "c1"),
        )
        .await;
        assert_eq!(open_carts(&node, id).await, [("c1".into(), NOW + 50 * MIN)]);
        assert_eq!(
            f.fire_due().await.unwrap(),
            Looked::default(),
            "not due yet"
        );
        // A newer cart event resets the hour.
        send(&node, cart_event(&a, "e2", "cart_updated", NOW, "c1")).await;
        node.clock.set(NOW + 55 * MIN);
        let looked = f.fire_due().await.unwrap();
        assert_eq!((looked.fired, looked.passed), (0, 1), "{looked:?}");
        node.clock.set(NOW + 61 * MIN);
        assert_eq!(f.fire_due().await.unwrap().fired, 1);
        assert!(open_carts(&node, id).await.is_empty());
        let fired = firings_in_feed(&node).await;
        assert_eq!(fired.len(), 1);
        assert_eq!(
            (fired[0].entity, fired[0].segment.as_str()),
            (id, "abandoned_cart")
        );
        let detail = fired[0].fired.clone().unwrap();
        assert_eq!(
            (detail.match_value.as_str(), detail.due_at_ms),
            ("c1", NOW + HOUR)
        );
        // Looking again fires nothing.
        node.clock.set(NOW + 3 * HOUR);
        assert_eq!(f.fire_due().await.unwrap(), Looked::default());
        // The order with the cart's id cancels it.
        send(
            &node,
            cart_event(&a, "e3", "checkout_started", NOW + 3 * HOUR, "c2"),
        )
        .await;
        send(
            &node,
            cart_event(&a, "o3", "order_completed", NOW + 3 * HOUR + MIN, "c2"),
        )
        .await;
        node.clock.set(NOW + 5 * HOUR);
        let looked = f.fire_due().await.unwrap();
        assert_eq!((looked.fired, looked.passed), (0, 1), "{looked:?}");
        // Another cart within the week: the cooldown suppresses it.
        send(
            &node,
            cart_event(&a, "e4", "checkout_started", NOW + 5 * HOUR, "c3"),
        )
        .await;
        node.clock.set(NOW + 7 * HOUR);
        assert_eq!(f.fire_due().await.unwrap().suppressed, 1);
        // After the week, a cart fires again.
        node.clock.set(NOW + 8 * DAY);
        send(
            &node,
            cart_event(&a, "e5", "checkout_started", NOW + 8 * DAY, "c4"),
        )
        .await;
        node.clock.set(NOW + 8 * DAY + 2 * HOUR);
        assert_eq!(f.fire_due().await.unwrap().fired, 1);
        // A cart found more than a day after it fell due (history loaded
        // late) expires silently.
        send(
            &node,
            cart_event(&a, "e6", "checkout_started", NOW + 5 * DAY, "c0"),
        )
        .await;
        assert_eq!(f.fire_due().await.unwrap().expired, 1);
        let carts: Vec<String> = firings_in_feed(&node)
            .await
            .into_iter()
            .map(|e| e.fired.unwrap().match_value)
            .collect();
        assert_eq!(carts, ["c1", "c4"]);
    });
    node.close();
}

#[test]
fn a_timer_set_before_the_definition_grew_its_wait_looks_again_when_due() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        // Timers are set with the configured hour; the definition in force
        // when they are looked at waits two.
        let mut longer = ActivityConfig::default().configured_triggers();
        longer[0].after_ms = 2 * HOUR;
        let f = firings_with(&node, longer);
        let a = person("a", "Maria", "Sentosa");
        customer(&node, &a).await;
        node.clock.set(NOW);
        send(&node, cart_event(&a, "e1", "checkout_started", NOW, "c1")).await;
        node.clock.set(NOW + 61 * MIN);
        let looked = f.fire_due().await.unwrap();
        assert_eq!((looked.fired, looked.passed), (0, 1), "{looked:?}");
        node.clock.set(NOW + 119 * MIN);
        assert_eq!(f.fire_due().await.unwrap(), Looked::default());
        node.clock.set(NOW + 121 * MIN);
        assert_eq!(
            f.fire_due().await.unwrap().fired,
            1,
            "fired at its new time"
        );
        assert_eq!(firings_in_feed(&node).await.len(), 1);
    });
}

#[test]
fn a_timer_set_before_the_definition_shortened_its_wait_fires_at_its_old_time() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        // The timer says an hour; the definition now waits a minute and
        // lets a trigger be 30 minutes late.
        let mut shorter = ActivityConfig::default().configured_triggers();
        shorter[0].after_ms = MIN;
        shorter[0].late_ms = 30 * MIN;
        let f = firings_with(&node, shorter);
        let a = person("a", "Maria", "Sentosa");
        customer(&node, &a).await;
        node.clock.set(NOW);
        send(&node, cart_event(&a, "e1", "checkout_started", NOW, "c1")).await;
        node.clock.set(NOW + 61 * MIN);
        let looked = f.fire_due().await.unwrap();
        assert_eq!((looked.fired, looked.expired), (1, 0), "{looked:?}");
    });
}

#[test]
fn a_firing_interrupted_after_its_claim_completes_once() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        let f = firings(&node);
        let a = person("a", "Maria", "Sentosa");
        let c = &node.coordinator;
        let id = customer(&node, &a).await;
        node.clock.set(NOW);
        send(
            &node,
            cart_event(&a, "e1", "checkout_started", NOW - 2 * HOUR, "c1"),
        )
        .await;
        // A node claimed the firing and stopped before settling it.
        let p = partition_of_entity(id, c.router.map().partitions);
        let claim = ClaimFiring {
            at_ms: NOW,
            entity: id,
            trigger: "abandoned_cart".into(),
            cooldown_ms: 7 * DAY,
            last_fired_ms: 0,
            firing: Firing {
                key: format!("{}\u{1f}{}", a.source, a.record_id),
                match_value: "c1".into(),
                started_at_ms: NOW - 2 * HOUR,
                due_at_ms: NOW - HOUR,
            },
            late: false,
        };
        assert_eq!(
            c.router.call(p, claim.clone()).await.unwrap(),
            Claimed::Fired
        );
        // The next look completes it: no second entry in the feed.
        node.clock.set(NOW + MIN);
        assert_eq!(f.fire_due().await.unwrap().fired, 1);
        assert_eq!(firings_in_feed(&node).await.len(), 1);
        assert_eq!(
            c.router.call(p, claim.clone()).await.unwrap(),
            Claimed::Again
        );
        assert_eq!(f.fire_due().await.unwrap(), Looked::default());
        // A retry found late is still the firing it was, not an expiry.
        let late = ClaimFiring {
            late: true,
            ..claim
        };
        assert_eq!(c.router.call(p, late).await.unwrap(), Claimed::Again);
    });
    node.close();
}

#[test]
fn an_anonymous_cart_waits_for_its_record_and_then_fires() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(dir.path());
    runtime().block_on(async {
        let f = firings(&node);
        let a = person("a", "Maria", "Sentosa");
        node.clock.set(NOW);
        // The cart arrives before anyone knows whose it is.
        send(
            &node,
            cart_event(&a, "e1", "checkout_started", NOW - 2 * HOUR, "c1"),
        )
        .await;
        let looked = f.fire_due().await.unwrap();
        assert_eq!((looked.kept, looked.fired), (1, 0), "{looked:?}");
        // The visitor signs up: the kept timer fires for the new customer.
        let id = customer(&node, &a).await;
        node.clock.set(NOW + MIN);
        assert_eq!(f.fire_due().await.unwrap().fired, 1);
        let fired = firings_in_feed(&node).await;
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].entity, id);
    });
    node.close();
}
