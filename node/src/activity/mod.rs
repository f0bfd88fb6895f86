//! Activity: what customers do.
//!
//! Events from every channel belong to a source record and are stored with
//! it, in the record's partition (`storage::events`), together with
//! mergeable per-day summaries ([`summary`]). A customer's activity is the
//! union of its records' activity, gathered when a profile is read; traits
//! ([`traits`]), the lifecycle stage and RFM scores ([`lifecycle`]) are
//! computed from it then. Merges and splits therefore move activity with
//! the records, exactly, and nothing depends on arrival order.
//!
//! - [`event`]: validation and the stored form of an event;
//! - [`summary`]: per record, type and day summaries and their merge;
//! - [`traits`]: trait definitions and their evaluation;
//! - [`lifecycle`]: stages, RFM cut points and scores.

pub mod event;
pub mod lifecycle;
pub mod summary;
pub mod traits;

use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

pub use event::{Body, Event, EventRules};
pub use lifecycle::{Cuts, LifecycleConfig, Orders};
pub use summary::Summary;
pub use traits::{Activity, DaySummary, StoredEvent, TraitDef, TraitValue};

use crate::partition::request::{EventsWanted, Reads};
use crate::segments::triggers::TriggerDef;

/// The node's `[activity]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityConfig {
    /// The event type of a completed order (orders, spend, stage, RFM).
    pub order_type: String,
    pub events: EventRules,
    pub lifecycle: LifecycleConfig,
    /// Traits defined in the configuration (besides the built-in ones).
    pub traits: Vec<TraitDef>,
    /// Carry the built-in traits (orders, total spend, ...).
    pub builtin_traits: bool,
    /// Events shown on a profile, newest first.
    pub recent_events: usize,
    /// Hours between scheduled RFM computations (0: only on demand).
    pub rfm_interval_hours: u32,
    /// Carry the standard segments (prospects, new_customers, active,
    /// at_risk, lapsed, champions, abandoned_carts).
    pub builtin_segments: bool,
    /// Minutes between sweeps that re-evaluate every customer's segments
    /// (time moves customers between stages and out of windows; 0: never).
    pub segment_sweep_minutes: u32,
    /// Carry the standard abandoned-cart trigger.
    pub builtin_triggers: bool,
    /// Seconds after the newest cart or checkout event without an order
    /// with its `cart_id` that the abandoned cart fires.
    pub abandoned_cart_seconds: u32,
    /// Hours within which a trigger fires at most once per customer.
    pub trigger_cooldown_hours: u32,
    /// A trigger found more than this many hours after it fell due (history
    /// loaded in bulk, a cluster long down) expires instead of firing.
    pub trigger_late_hours: u32,
    /// Seconds between two looks for triggers that fell due (0: never).
    pub trigger_tick_seconds: u32,
    /// Days the change feed keeps its entries (0: forever). A watcher or
    /// webhook further behind than this misses what was deleted: `Watch`
    /// refuses its cursor with OUT_OF_RANGE.
    pub feed_retention_days: u32,
}

impl Default for ActivityConfig {
    fn default() -> Self {
        ActivityConfig {
            order_type: "order_completed".into(),
            events: EventRules::default(),
            lifecycle: LifecycleConfig::default(),
            traits: vec![],
            builtin_traits: true,
            recent_events: 10,
            rfm_interval_hours: 24,
            builtin_segments: true,
            segment_sweep_minutes: 60,
            builtin_triggers: true,
            abandoned_cart_seconds: 3600,
            trigger_cooldown_hours: 7 * 24,
            trigger_late_hours: 24,
            trigger_tick_seconds: 10,
            feed_retention_days: 30,
        }
    }
}

impl ActivityConfig {
    /// The configured traits: built-in ones first, then the configuration's
    /// (a configured trait replaces a built-in one of the same name).
    pub fn configured_traits(&self) -> Vec<TraitDef> {
        let mut out: Vec<TraitDef> = if self.builtin_traits {
            traits::builtin(&self.order_type)
        } else {
            vec![]
        };
        for t in &self.traits {
            let mut t = t.clone();
            t.origin = "config".into();
            out.retain(|b| b.name != t.name);
            out.push(t);
        }
        out
    }

    /// The configured triggers: the standard abandoned cart, unless
    /// `builtin_triggers` is off.
    pub fn configured_triggers(&self) -> Vec<TriggerDef> {
        if !self.builtin_triggers {
            return vec![];
        }
        const HOUR_MS: i64 = 3_600_000;
        vec![TriggerDef::abandoned_cart(
            &self.order_type,
            i64::from(self.abandoned_cart_seconds) * 1000,
            i64::from(self.trigger_cooldown_hours) * HOUR_MS,
            i64::from(self.trigger_late_hours) * HOUR_MS,
        )]
    }

    /// Checks the configured traits and the trigger settings: a trigger
    /// must be allowed to be late by at least an hour (else every look
    /// would find carts expired) and its cooldown must be at least an hour
    /// (a claim remembers a customer's last firing only).
    pub fn validate(&self) -> Result<(), crate::error::NodeError> {
        for (field, hours) in [
            ("trigger_late_hours", self.trigger_late_hours),
            ("trigger_cooldown_hours", self.trigger_cooldown_hours),
        ] {
            if hours == 0 {
                return Err(crate::error::NodeError::InvalidArgument {
                    field: format!("activity.{field}"),
                    value: "0".into(),
                    reason: "must be at least 1".into(),
                });
            }
        }
        self.traits.iter().try_for_each(TraitDef::validate)
    }
}

/// What profiles are computed with: every trait definition in force, the
/// published RFM cut points, the segments and the triggers in force.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub traits: Vec<TraitDef>,
    pub cuts: Option<Cuts>,
    pub segments: crate::segments::SegmentSet,
    pub triggers: Vec<TriggerDef>,
}

impl Catalog {
    /// True when some trait or segment needs every event rather than the
    /// summaries.
    pub fn needs_events(&self) -> bool {
        self.traits.iter().any(TraitDef::needs_events) || self.segments.needs_events()
    }

    /// The event types triggers read (every event of them is gathered).
    pub fn tracked_types(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .triggers
            .iter()
            .flat_map(|t| t.types().map(String::from))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn trigger(&self, name: &str) -> Option<&TriggerDef> {
        self.triggers.iter().find(|t| t.name == name)
    }

    /// What a profile shown to a user reads of a customer: everything, with
    /// the newest `recent` events (every event when a trait or segment
    /// needs them).
    pub fn profile_reads(&self, recent: usize) -> ProfileReads {
        ProfileReads {
            records: true,
            activity: Reads {
                events: Some(if self.needs_events() {
                    EventsWanted::All
                } else {
                    EventsWanted::Newest(recent)
                }),
                tracked: self.tracked_types(),
                consents: true,
            },
        }
    }

    /// What deciding a customer's segments reads: its records only when a
    /// segment looks at a field or a source, its events only when a trait
    /// or segment cannot be answered from the summaries, its consent only
    /// when a segment asks for it. Membership read this way equals
    /// membership read from the full profile.
    pub fn membership_reads(&self) -> ProfileReads {
        ProfileReads {
            records: self.segments.needs_records(),
            activity: Reads {
                events: self.needs_events().then_some(EventsWanted::All),
                tracked: vec![],
                consents: self.segments.needs_consent(),
            },
        }
    }

    /// What an audience export reads of each member: what its segments
    /// need, with the records (the contact fields), and consent when the
    /// audience is for a purpose.
    pub fn audience_reads(&self, for_purpose: bool) -> ProfileReads {
        let mut reads = self.membership_reads();
        reads.records = true;
        reads.activity.consents |= for_purpose;
        reads
    }
}

/// What building many profiles at once reads of each customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileReads {
    /// The records (golden record, sources, attributes); without them the
    /// profile carries only what its activity gives.
    pub records: bool,
    pub activity: Reads,
}

/// The merged summary of the customer's orders.
pub fn orders_of(a: &Activity, order_type: &str) -> Option<Orders> {
    let mut s = Summary::empty();
    for r in a.summaries.iter().filter(|r| r.etype == order_type) {
        s.merge(&r.summary);
    }
    Orders::of(&s)
}

/// Adds traits, lifecycle, RFM and recent events to a profile, from the
/// activity of its records at time `now_ms`.
pub fn decorate(
    profile: &mut pb::Profile,
    activity: &Activity,
    catalog: &Catalog,
    cfg: &ActivityConfig,
    now_ms: i64,
) {
    profile.traits = catalog
        .traits
        .iter()
        .map(|d| d.evaluate(activity, now_ms).to_pb(&d.name))
        .collect();
    let orders = orders_of(activity, &cfg.order_type);
    profile.lifecycle = Some(cfg.lifecycle.to_pb(orders.as_ref(), now_ms));
    profile.rfm = match (&catalog.cuts, &orders) {
        (Some(c), Some(o)) => Some(c.rfm_pb(o, now_ms)),
        _ => None,
    };
    profile.recent_events = newest(&activity.events, cfg.recent_events)
        .into_iter()
        .map(|e| Event::to_pb(&e.key, &e.event_id, &e.body))
        .collect();
    profile.consent =
        crate::privacy::consent::combine(&activity.consents, &cfg.events.consent_purposes);
    profile.open_triggers = crate::segments::triggers::open_triggers(&catalog.triggers, activity);
    // Last: segments read the traits, stage, RFM and consent above.
    profile.segments = catalog.segments.memberships(profile, activity, now_ms);
}

/// The `n` newest events (ties: by record and id, for a stable order).
pub fn newest(events: &[StoredEvent], n: usize) -> Vec<&StoredEvent> {
    let mut v: Vec<&StoredEvent> = events.iter().collect();
    v.sort_by(|a, b| (b.body.at_ms, &b.key, &b.event_id).cmp(&(a.body.at_ms, &a.key, &a.event_id)));
    v.truncate(n);
    v
}
