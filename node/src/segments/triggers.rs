//! Triggers: "A then not B within T, matched on a property". An abandoned
//! cart is a `checkout_started` or `cart_updated` event with a `cart_id`,
//! and no `order_completed` with that `cart_id` within the hour.
//!
//! A trigger's state is a function of the customer's events, like
//! everything else on a profile:
//!
//! - an event of a *start* type carrying the matching property opens the
//!   trigger for that value, due `after` the newest such event (a new cart
//!   event resets it);
//! - an event of a *cancel* type with the same value closes it;
//! - a *settlement* closes it for good: a system event of type
//!   [`SETTLED_TYPE`], stored with the record whose event opened it, with
//!   an id derived from the trigger and the value, so it is stored once
//!   whoever writes it and however often. It says whether the trigger
//!   fired, was suppressed by the customer's cooldown, or expired (found
//!   long after it fell due: history loaded in bulk is not announced).
//!
//! Because settlements are events of their records, they move with the
//! records through merges, splits and partition moves, are erased with
//! them, and the cooldown of a customer is read from its records'
//! settlements. The partition keeps only an index of due times to find the
//! triggers to look at (`storage::timers`).

use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

use crate::activity::event::Prop;
use crate::activity::{Activity, Body, StoredEvent};
use crate::error::NodeError;

/// The event type of a settlement. Types starting with `kindred.` are
/// reserved: clients cannot send them.
pub const SETTLED_TYPE: &str = "kindred.trigger";

/// The prefix of reserved event types.
pub const RESERVED_PREFIX: &str = "kindred.";

/// A trigger definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerDef {
    pub name: String,
    /// Event types that open (or reset) the trigger.
    pub start: Vec<String>,
    /// Event types that cancel it.
    pub cancel: Vec<String>,
    /// The property that ties a cancel event to the start events.
    pub match_on: String,
    /// How long after the newest start event it falls due.
    pub after_ms: i64,
    /// A customer is not fired at twice within this time.
    pub cooldown_ms: i64,
    /// A trigger found more than this after it fell due expires instead of
    /// firing.
    pub late_ms: i64,
    /// 1 when defined through the API, +1 at each update (0: configured).
    #[serde(default)]
    pub version: u64,
    /// "config" or "api".
    #[serde(default)]
    pub origin: String,
    /// Start events that occurred before this do not open it: a trigger
    /// defined through the API does not announce history (0: every event).
    #[serde(default)]
    pub active_from_ms: i64,
}

/// How a trigger was closed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Fired,
    /// The customer's cooldown for the trigger was running.
    Suppressed,
    /// Found too long after it fell due.
    Expired,
}

impl Outcome {
    const ALL: [Outcome; 3] = [Outcome::Fired, Outcome::Suppressed, Outcome::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fired => "fired",
            Outcome::Suppressed => "suppressed",
            Outcome::Expired => "expired",
        }
    }

    /// The outcome a settlement names.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A trigger open on a customer, for one value of its matching property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub trigger: String,
    /// The record whose newest start event opened it.
    pub key: String,
    pub match_value: String,
    pub started_at_ms: i64,
    pub due_at_ms: i64,
}

/// What to do with an open trigger at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    NotDue,
    Expire,
    /// Fire unless the cooldown (counted from the last firing) runs.
    Fire,
}

impl TriggerDef {
    /// The standard abandoned-cart trigger.
    pub fn abandoned_cart(order_type: &str, after_ms: i64, cooldown_ms: i64, late_ms: i64) -> Self {
        TriggerDef {
            name: "abandoned_cart".into(),
            start: vec!["checkout_started".into(), "cart_updated".into()],
            cancel: vec![order_type.into()],
            match_on: "cart_id".into(),
            after_ms,
            cooldown_ms,
            late_ms,
            version: 0,
            origin: "config".into(),
            active_from_ms: 0,
        }
    }

    /// A definition from the API, checked: every problem names its field.
    /// Its version, origin and start are set when it is stored.
    pub fn from_pb(t: pb::Trigger) -> Result<TriggerDef, NodeError> {
        if !crate::activity::traits::valid_name(&t.name) {
            return Err(NodeError::invalid(
                "trigger.name",
                &t.name,
                "must be 1 to 64 lowercase letters, digits or underscores, starting with a letter",
            ));
        }
        check_types("trigger.start_types", &t.start_types)?;
        check_types("trigger.cancel_types", &t.cancel_types)?;
        if let Some(both) = t.start_types.iter().find(|s| t.cancel_types.contains(s)) {
            return Err(NodeError::invalid(
                "trigger.cancel_types",
                both,
                "is also a start type: an event cannot both open and cancel",
            ));
        }
        if t.match_on.is_empty() || t.match_on.len() > 64 {
            return Err(NodeError::invalid(
                "trigger.match_on",
                &t.match_on,
                "must name the property that ties cancel events to start events (1 to 64 characters)",
            ));
        }
        const HOUR_MS: i64 = 3_600_000;
        for (field, v) in [
            ("trigger.after_seconds", t.after_seconds),
            ("trigger.cooldown_hours", t.cooldown_hours),
            ("trigger.late_hours", t.late_hours),
        ] {
            if v == 0 {
                return Err(NodeError::invalid(field, "0", "must be at least 1"));
            }
        }
        Ok(TriggerDef {
            name: t.name,
            start: t.start_types,
            cancel: t.cancel_types,
            match_on: t.match_on,
            after_ms: i64::from(t.after_seconds) * 1000,
            cooldown_ms: i64::from(t.cooldown_hours) * HOUR_MS,
            late_ms: i64::from(t.late_hours) * HOUR_MS,
            version: 0,
            origin: "api".into(),
            active_from_ms: 0,
        })
    }

    /// The definition as the API shows it.
    pub fn to_pb(&self) -> pb::Trigger {
        const HOUR_MS: i64 = 3_600_000;
        let clamp = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        pb::Trigger {
            name: self.name.clone(),
            start_types: self.start.clone(),
            cancel_types: self.cancel.clone(),
            match_on: self.match_on.clone(),
            after_seconds: clamp(self.after_ms / 1000),
            cooldown_hours: clamp(self.cooldown_ms / HOUR_MS),
            late_hours: clamp(self.late_ms / HOUR_MS),
            version: self.version,
            origin: self.origin.clone(),
            active_from_ms: self.active_from_ms,
        }
    }

    /// Every event type the trigger reads.
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.start.iter().chain(&self.cancel).map(String::as_str)
    }

    /// The matching value of an event of one of `types`, if it has one.
    fn value_in<'a>(&self, body: &'a Body, types: &[String]) -> Option<&'a str> {
        if !types.contains(&body.etype) {
            return None;
        }
        match body.prop(&self.match_on)? {
            Prop::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// The matching value of a start event, if the event opens this trigger
    /// (it occurred once the trigger was in force).
    pub fn opened_by<'a>(&self, body: &'a Body) -> Option<&'a str> {
        if body.at_ms < self.active_from_ms {
            return None;
        }
        self.value_in(body, &self.start)
    }

    /// What to do with an open trigger at `now_ms`.
    pub fn verdict(&self, open: &Open, now_ms: i64) -> Verdict {
        if open.due_at_ms > now_ms {
            Verdict::NotDue
        } else if now_ms - open.due_at_ms > self.late_ms {
            Verdict::Expire
        } else {
            Verdict::Fire
        }
    }

    /// The triggers open on a customer: one per matching value whose
    /// newest start event no cancel event or settlement of the same value
    /// followed (one at or after it). So a value opens again with a start
    /// event after it was cancelled or settled: a customer who bought a
    /// product can be reminded of it when viewing it again later, a cart id
    /// reused after its order opens a new cart. `tracked` holds the
    /// customer's events of the trigger's types.
    pub fn open(&self, tracked: &[StoredEvent], settled: &[StoredEvent]) -> Vec<Open> {
        let mut newest: std::collections::BTreeMap<&str, &StoredEvent> = Default::default();
        // Per value, the time of its latest cancel event or settlement.
        let mut closed: std::collections::BTreeMap<&str, i64> = Default::default();
        let mut close = |v, at: i64| {
            let t = closed.entry(v).or_insert(at);
            *t = (*t).max(at);
        };
        for e in tracked {
            if let Some(v) = self.value_in(&e.body, &self.cancel) {
                close(v, e.body.at_ms);
            } else if let Some(v) = self.opened_by(&e.body) {
                let slot = newest.entry(v).or_insert(e);
                if (e.body.at_ms, &e.key, &e.event_id)
                    > (slot.body.at_ms, &slot.key, &slot.event_id)
                {
                    *slot = e;
                }
            }
        }
        for s in settled.iter().filter_map(Settlement::of) {
            if s.trigger == self.name {
                close(s.match_value, s.at_ms);
            }
        }
        newest
            .into_iter()
            .filter(|(v, e)| closed.get(v).is_none_or(|&at| at < e.body.at_ms))
            .map(|(v, e)| Open {
                trigger: self.name.clone(),
                key: e.key.clone(),
                match_value: v.into(),
                started_at_ms: e.body.at_ms,
                due_at_ms: e.body.at_ms.saturating_add(self.after_ms),
            })
            .collect()
    }

    /// When this trigger last fired for the customer (0: never).
    pub fn last_fired(&self, settled: &[StoredEvent]) -> i64 {
        settled
            .iter()
            .filter_map(Settlement::of)
            .filter(|s| s.trigger == self.name && s.outcome == Outcome::Fired)
            .map(|s| s.at_ms)
            .max()
            .unwrap_or(0)
    }
}

/// Event types of a definition: at least one, none empty or reserved.
fn check_types(field: &str, types: &[String]) -> Result<(), NodeError> {
    if types.is_empty() {
        return Err(NodeError::invalid(
            field,
            "",
            "needs at least one event type",
        ));
    }
    for t in types {
        if t.is_empty() || t.len() > 128 {
            return Err(NodeError::invalid(
                field,
                t,
                "an event type has 1 to 128 characters",
            ));
        }
        if t.starts_with(RESERVED_PREFIX) {
            return Err(NodeError::invalid(
                field,
                t,
                format!("types starting with {RESERVED_PREFIX:?} are reserved"),
            ));
        }
    }
    Ok(())
}

/// A settlement read back from its event.
pub struct Settlement<'a> {
    pub trigger: &'a str,
    pub match_value: &'a str,
    pub outcome: Outcome,
    pub at_ms: i64,
}

impl<'a> Settlement<'a> {
    /// Reads a settlement event (None for any other event).
    pub fn of(e: &'a StoredEvent) -> Option<Settlement<'a>> {
        if e.body.etype != SETTLED_TYPE {
            return None;
        }
        let text = |name| match e.body.prop(name) {
            Some(Prop::Str(s)) => Some(s.as_str()),
            _ => None,
        };
        Some(Settlement {
            trigger: text("trigger")?,
            match_value: text("match_value")?,
            outcome: Outcome::parse(text("outcome")?)?,
            at_ms: e.body.at_ms,
        })
    }
}

/// The id of the settlement of a trigger opened for a value by a start
/// event at `started_at_ms`: one per record, trigger, value and opening, so
/// it is stored once however often it is written.
pub fn settlement_id(trigger: &str, match_value: &str, started_at_ms: i64) -> String {
    format!("{SETTLED_TYPE}/{trigger}/{match_value}/{started_at_ms}")
}

/// The body of a settlement.
pub fn settlement(open: &Open, outcome: Outcome, at_ms: i64) -> Body {
    // Sorted by name, as a body's properties are.
    let props = vec![
        ("due_at".to_string(), Prop::Time(open.due_at_ms)),
        (
            "match_value".to_string(),
            Prop::Str(open.match_value.clone()),
        ),
        ("outcome".to_string(), Prop::Str(outcome.as_str().into())),
        ("trigger".to_string(), Prop::Str(open.trigger.clone())),
    ];
    Body {
        etype: SETTLED_TYPE.into(),
        at_ms,
        amount: None,
        currency: String::new(),
        props,
    }
}

/// Every trigger open on a customer, soonest due first.
pub fn open_triggers(defs: &[TriggerDef], activity: &Activity) -> Vec<pb::OpenTrigger> {
    let mut out: Vec<Open> = defs
        .iter()
        .flat_map(|d| d.open(&activity.tracked, &activity.settled))
        .collect();
    out.sort_by(|a, b| {
        (a.due_at_ms, &a.trigger, &a.match_value).cmp(&(b.due_at_ms, &b.trigger, &b.match_value))
    });
    out.into_iter().map(|o| o.to_pb()).collect()
}

impl Open {
    pub fn to_pb(&self) -> pb::OpenTrigger {
        let (source, record_id) = crate::engine::resolver::split_key(&self.key);
        pb::OpenTrigger {
            trigger: self.trigger.clone(),
            source: source.into(),
            record_id: record_id.into(),
            match_value: self.match_value.clone(),
            started_at_ms: self.started_at_ms,
            due_at_ms: self.due_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn cart() -> TriggerDef {
        TriggerDef::abandoned_cart("order_completed", HOUR, 7 * 24 * HOUR, 24 * HOUR)
    }

    fn ev(key: &str, id: &str, etype: &str, at_ms: i64, cart: &str) -> StoredEvent {
        StoredEvent {
            key: key.into(),
            event_id: id.into(),
            body: Body {
                etype: etype.into(),
                at_ms,
                amount: None,
                currency: String::new(),
                props: vec![("cart_id".into(), Prop::Str(cart.into()))],
            },
        }
    }

    fn settled(open: &Open, outcome: Outcome, at: i64) -> StoredEvent {
        StoredEvent {
            key: open.key.clone(),
            event_id: settlement_id(&open.trigger, &open.match_value, open.started_at_ms),
            body: settlement(open, outcome, at),
        }
    }

    #[test]
    fn a_cart_is_open_from_its_newest_event_and_closed_by_the_order_with_its_id() {
        let t = cart();
        let tracked = vec![
            ev("web\u{1f}1", "a", "checkout_started", 10, "c1"),
            ev("web\u{1f}1", "b", "cart_updated", 50, "c1"),
            ev("web\u{1f}1", "c", "cart_updated", 20, "c2"),
            ev("shop\u{1f}2", "d", "order_completed", 30, "c2"),
        ];
        let open = t.open(&tracked, &[]);
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(open[0].match_value, "c1");
        assert_eq!(open[0].started_at_ms, 50, "reset by the newer cart event");
        assert_eq!(open[0].due_at_ms, 50 + HOUR);
        assert_eq!(t.verdict(&open[0], 50 + HOUR - 1), Verdict::NotDue);
        assert_eq!(t.verdict(&open[0], 50 + HOUR), Verdict::Fire);
        assert_eq!(t.verdict(&open[0], 50 + 26 * HOUR), Verdict::Expire);
    }

    #[test]
    fn a_settlement_closes_its_cart_for_good_and_dates_the_cooldown() {
        let t = cart();
        let tracked = vec![ev("web\u{1f}1", "a", "checkout_started", 10, "c1")];
        let open = t.open(&tracked, &[]).remove(0);
        let s = settled(&open, Outcome::Fired, 99);
        assert!(t.open(&tracked, std::slice::from_ref(&s)).is_empty());
        assert_eq!(t.last_fired(&[s]), 99);
        let suppressed = settled(&open, Outcome::Suppressed, 120);
        assert_eq!(
            t.last_fired(&[suppressed]),
            0,
            "only firings start a cooldown"
        );
    }

    #[test]
    fn events_without_the_matching_property_or_of_other_types_open_nothing() {
        let t = cart();
        let mut no_id = ev("web\u{1f}1", "a", "checkout_started", 10, "");
        no_id.body.props.clear();
        let other = ev("web\u{1f}1", "b", "page_view", 10, "c9");
        assert!(t.open(&[no_id, other], &[]).is_empty());
    }

    fn api_trigger() -> pb::Trigger {
        pb::Trigger {
            name: "browse_abandon".into(),
            start_types: vec!["product_viewed".into()],
            cancel_types: vec!["order_completed".into()],
            match_on: "sku".into(),
            after_seconds: 1800,
            cooldown_hours: 24,
            late_hours: 2,
            ..Default::default()
        }
    }

    #[test]
    fn an_api_definition_is_checked_field_by_field_and_shown_back_as_sent() {
        let def = TriggerDef::from_pb(api_trigger()).unwrap();
        assert_eq!(def.after_ms, 1_800_000);
        assert_eq!(def.cooldown_ms, 24 * HOUR);
        assert_eq!(def.origin, "api");
        let shown = def.to_pb();
        assert_eq!(
            (shown.after_seconds, shown.cooldown_hours, shown.late_hours),
            (1800, 24, 2)
        );
        let bad = |f: fn(&mut pb::Trigger)| {
            let mut t = api_trigger();
            f(&mut t);
            match TriggerDef::from_pb(t) {
                Err(NodeError::InvalidArgument { field, .. }) => field,
                other => panic!("accepted: {other:?}"),
            }
        };
        assert_eq!(bad(|t| t.name = "Browse".into()), "trigger.name");
        assert_eq!(bad(|t| t.start_types.clear()), "trigger.start_types");
        assert_eq!(
            bad(|t| t.cancel_types = vec!["kindred.trigger".into()]),
            "trigger.cancel_types"
        );
        assert_eq!(
            bad(|t| t.cancel_types = vec!["product_viewed".into()]),
            "trigger.cancel_types",
            "a type both opens and cancels"
        );
        assert_eq!(bad(|t| t.match_on.clear()), "trigger.match_on");
        assert_eq!(bad(|t| t.after_seconds = 0), "trigger.after_seconds");
        assert_eq!(bad(|t| t.late_hours = 0), "trigger.late_hours");
    }

    #[test]
    fn a_trigger_defined_later_is_not_opened_by_events_that_occurred_before() {
        let mut t = cart();
        t.active_from_ms = 100;
        let tracked = vec![
            ev("web\u{1f}1", "a", "checkout_started", 99, "c1"),
            ev("web\u{1f}1", "b", "checkout_started", 100, "c2"),
        ];
        let open = t.open(&tracked, &[]);
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(open[0].match_value, "c2");
        assert_eq!(t.opened_by(&tracked[0].body), None);
    }

    #[test]
    fn a_value_opens_again_with_a_start_event_after_its_cancel_or_settlement() {
        let t = cart();
        let mut tracked = vec![
            ev("web\u{1f}1", "a", "checkout_started", 10, "c1"),
            ev("web\u{1f}1", "o", "order_completed", 20, "c1"),
        ];
        assert!(t.open(&tracked, &[]).is_empty());
        tracked.push(ev("web\u{1f}1", "b", "checkout_started", 30, "c1"));
        let open = t.open(&tracked, &[]);
        assert_eq!(open.len(), 1, "a start after the cancel reopens it");
        let s = settled(&open[0], Outcome::Fired, 30 + HOUR);
        assert!(t.open(&tracked, std::slice::from_ref(&s)).is_empty());
        tracked.push(ev("web\u{1f}1", "c", "cart_updated", 40 + HOUR, "c1"));
        let again = t.open(&tracked, std::slice::from_ref(&s));
        assert_eq!(again.len(), 1, "and after its settlement");
        assert_ne!(
            settlement_id(&t.name, "c1", again[0].started_at_ms),
            s.event_id,
            "its settlement is another one"
        );
    }
}
