//! Computed traits: named aggregates over a customer's events (orders,
//! total spend, last seen, preferred channel, ...), evaluated when a
//! profile is read from the activity of its records. Traits that only
//! count, sum or bound amounts and times are answered from the per-day
//! summaries; traits with property filters or over property values read
//! the events themselves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

use super::event::{day_of, Body, MICROS};
use super::summary::Summary;
use crate::engine::resolver::split_key;
use crate::error::NodeError;

/// How a trait combines the events it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Count,
    Sum,
    Average,
    Min,
    Max,
    First,
    Last,
    MostFrequent,
    DistinctCount,
    DaysSinceLast,
}

/// The pseudo-property naming the channel (the source of the event's record).
pub const SOURCE: &str = "source";

/// A trait definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraitDef {
    pub name: String,
    /// Empty: every type.
    #[serde(default)]
    pub event_type: String,
    /// (property, value): only events whose property equals the value.
    #[serde(default)]
    pub filters: Vec<(String, String)>,
    pub aggregate: Aggregate,
    /// Empty: the amount (or the event time for first and last).
    #[serde(default)]
    pub property: String,
    /// Only the last N days, today included (0: all time).
    #[serde(default)]
    pub window_days: u32,
    /// "builtin", "config" or "api" (set by whoever defines it).
    #[serde(default)]
    pub origin: String,
}

/// A trait's value on one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TraitValue {
    None,
    Number(f64),
    Text(String),
    Time(i64),
}

/// One summary row of a customer's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaySummary {
    pub key: String,
    pub etype: String,
    pub day: i32,
    pub summary: Summary,
}

/// One stored event of a customer's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub key: String,
    pub event_id: String,
    pub body: Body,
}

/// A customer's activity, gathered from its records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub summaries: Vec<DaySummary>,
    /// Every event, when some trait needs them; else only the most recent.
    /// Consent decisions are not among them.
    pub events: Vec<StoredEvent>,
    /// Every consent decision of the records.
    #[serde(default)]
    pub consents: Vec<StoredEvent>,
    /// Every event of the types triggers read (asked for by type), whether
    /// or not `events` holds it too.
    #[serde(default)]
    pub tracked: Vec<StoredEvent>,
    /// Every trigger settlement of the records (`segments::triggers`).
    #[serde(default)]
    pub settled: Vec<StoredEvent>,
}

impl Activity {
    /// Adds the activity of more records.
    pub fn absorb(&mut self, other: Activity) {
        self.summaries.extend(other.summaries);
        self.events.extend(other.events);
        self.consents.extend(other.consents);
        self.tracked.extend(other.tracked);
        self.settled.extend(other.settled);
    }
}

/// True for a valid trait or segment name: 1 to 64 lowercase letters,
/// digits or underscores, starting with a letter.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl TraitDef {
    /// A trait over one event type, without filters.
    pub fn simple(name: &str, event_type: &str, aggregate: Aggregate, property: &str) -> TraitDef {
        TraitDef {
            name: name.into(),
            event_type: event_type.into(),
            filters: vec![],
            aggregate,
            property: property.into(),
            window_days: 0,
            origin: "builtin".into(),
        }
    }

    /// Checks the definition, naming the field at fault.
    pub fn validate(&self) -> Result<(), NodeError> {
        if !valid_name(&self.name) {
            return Err(NodeError::invalid(
                "trait.name",
                &self.name,
                "must be 1 to 64 lowercase letters, digits or underscores, starting with a letter",
            ));
        }
        if matches!(
            self.aggregate,
            Aggregate::MostFrequent | Aggregate::DistinctCount
        ) && self.property.is_empty()
        {
            return Err(NodeError::invalid(
                "trait.property",
                "",
                "is required for most_frequent and distinct_count",
            ));
        }
        if self.window_days > 36_500 {
            return Err(NodeError::invalid(
                "trait.window_days",
                self.window_days.to_string(),
                "must be at most 36500",
            ));
        }
        if let Some((p, _)) = self.filters.iter().find(|(p, _)| p.is_empty()) {
            return Err(NodeError::invalid(
                "trait.filters.property",
                p,
                "is required",
            ));
        }
        Ok(())
    }

    /// True when the per-day summaries cannot answer this trait.
    pub fn needs_events(&self) -> bool {
        let by_source = self.property == SOURCE
            && matches!(
                self.aggregate,
                Aggregate::MostFrequent | Aggregate::DistinctCount
            );
        !self.filters.is_empty() || (!self.property.is_empty() && !by_source)
    }

    fn selects(&self, etype: &str, day: i32, today: i32) -> bool {
        (self.event_type.is_empty() || self.event_type == etype)
            && (self.window_days == 0 || day > today - self.window_days as i32)
    }

    /// The trait's value for a customer at time `now_ms`.
    pub fn evaluate(&self, a: &Activity, now_ms: i64) -> TraitValue {
        if self.needs_events() {
            self.by_events(a, now_ms)
        } else {
            self.by_summaries(a, now_ms)
        }
    }

    fn by_summaries(&self, a: &Activity, now_ms: i64) -> TraitValue {
        let today = day_of(now_ms);
        let rows = a
            .summaries
            .iter()
            .filter(|r| self.selects(&r.etype, r.day, today));
        if matches!(
            self.aggregate,
            Aggregate::MostFrequent | Aggregate::DistinctCount
        ) {
            let mut by_source: BTreeMap<&str, u64> = BTreeMap::new();
            for r in rows {
                *by_source.entry(split_key(&r.key).0).or_default() += r.summary.count;
            }
            return counted(self.aggregate, by_source.into_iter());
        }
        let mut s = Summary::empty();
        for r in rows {
            s.merge(&r.summary);
        }
        summary_value(self.aggregate, &s, today)
    }

    fn by_events(&self, a: &Activity, now_ms: i64) -> TraitValue {
        let today = day_of(now_ms);
        let mut picked: Vec<&StoredEvent> = a
            .events
            .iter()
            .filter(|e| self.selects(&e.body.etype, e.body.day(), today))
            .filter(|e| {
                self.filters
                    .iter()
                    .all(|(p, v)| prop_text(e, p).as_deref() == Some(v.as_str()))
            })
            .collect();
        // Time order, ties by record and id: first and last are well defined.
        picked.sort_by(|x, y| {
            (x.body.at_ms, &x.key, &x.event_id).cmp(&(y.body.at_ms, &y.key, &y.event_id))
        });
        match self.aggregate {
            Aggregate::MostFrequent | Aggregate::DistinctCount => {
                let mut counts: BTreeMap<String, u64> = BTreeMap::new();
                for e in &picked {
                    if let Some(t) = prop_text(e, &self.property) {
                        *counts.entry(t).or_default() += 1;
                    }
                }
                counted(self.aggregate, counts.iter().map(|(k, v)| (k.as_str(), *v)))
            }
            Aggregate::First | Aggregate::Last if !self.property.is_empty() => {
                let mut with = picked.iter().filter_map(|e| prop_text(e, &self.property));
                let v = if self.aggregate == Aggregate::First {
                    with.next()
                } else {
                    with.next_back()
                };
                v.map_or(TraitValue::None, TraitValue::Text)
            }
            agg => {
                let mut s = Summary::empty();
                for e in &picked {
                    s.merge(&self.event_summary(e));
                }
                summary_value(agg, &s, today)
            }
        }
    }

    /// An event's summary, with the trait's property as its amount.
    fn event_summary(&self, e: &StoredEvent) -> Summary {
        if self.property.is_empty() {
            return Summary::of(&e.body);
        }
        let mut b = e.body.clone();
        b.amount = e
            .body
            .prop(&self.property)
            .and_then(|p| p.number())
            .map(|n| (n * MICROS).round() as i64);
        Summary::of(&b)
    }
}

/// A property of an event as text; `source` is always the record's
/// source (the channel), never a property of that name, so that a trait
/// over it answers alike from summaries and from events.
fn prop_text(e: &StoredEvent, name: &str) -> Option<String> {
    if name == SOURCE {
        return Some(split_key(&e.key).0.to_string());
    }
    e.body.prop(name).map(|p| p.text())
}

/// Most frequent value (ties: the smallest) or number of distinct values.
fn counted<'a>(agg: Aggregate, counts: impl Iterator<Item = (&'a str, u64)>) -> TraitValue {
    let counts: Vec<(&str, u64)> = counts.filter(|(_, n)| *n > 0).collect();
    if agg == Aggregate::DistinctCount {
        return TraitValue::Number(counts.len() as f64);
    }
    let mut best: Option<(&str, u64)> = None;
    for (v, n) in counts {
        if best.is_none_or(|(_, b)| n > b) {
            best = Some((v, n));
        }
    }
    best.map_or(TraitValue::None, |(v, _)| TraitValue::Text(v.to_string()))
}

fn summary_value(agg: Aggregate, s: &Summary, today: i32) -> TraitValue {
    let money = |m: i128| TraitValue::Number(m as f64 / MICROS);
    match agg {
        Aggregate::Count => TraitValue::Number(s.count as f64),
        Aggregate::Sum => money(s.sum),
        _ if s.count == 0 => TraitValue::None,
        Aggregate::Average if s.amounts > 0 => {
            TraitValue::Number(s.sum as f64 / s.amounts as f64 / MICROS)
        }
        Aggregate::Min if s.amounts > 0 => money(i128::from(s.min)),
        Aggregate::Max if s.amounts > 0 => money(i128::from(s.max)),
        Aggregate::First => TraitValue::Time(s.first),
        Aggregate::Last => TraitValue::Time(s.last),
        Aggregate::DaysSinceLast => TraitValue::Number((today - day_of(s.last)).max(0) as f64),
        _ => TraitValue::None,
    }
}

/// The traits every profile carries unless configured otherwise, over the
/// configured order event type.
pub fn builtin(order_type: &str) -> Vec<TraitDef> {
    use Aggregate as A;
    vec![
        TraitDef::simple("orders", order_type, A::Count, ""),
        TraitDef::simple("total_spend", order_type, A::Sum, ""),
        TraitDef::simple("average_order_value", order_type, A::Average, ""),
        TraitDef::simple("first_order", order_type, A::First, ""),
        TraitDef::simple("last_order", order_type, A::Last, ""),
        TraitDef::simple("days_since_last_order", order_type, A::DaysSinceLast, ""),
        TraitDef::simple("last_seen", "", A::Last, ""),
        TraitDef::simple("preferred_channel", "", A::MostFrequent, SOURCE),
    ]
}

// ------------------------------------------------------------ wire forms

impl TraitDef {
    pub fn to_pb(&self) -> pb::TraitDefinition {
        pb::TraitDefinition {
            name: self.name.clone(),
            event_type: self.event_type.clone(),
            filters: self
                .filters
                .iter()
                .map(|(p, v)| pb::PropertyFilter {
                    property: p.clone(),
                    equals: v.clone(),
                })
                .collect(),
            aggregate: aggregate_pb(self.aggregate) as i32,
            property: self.property.clone(),
            window_days: self.window_days,
            origin: self.origin.clone(),
        }
    }

    /// A definition from the API (origin "api"), validated.
    pub fn from_pb(d: pb::TraitDefinition) -> Result<TraitDef, NodeError> {
        let aggregate = match pb::Aggregate::try_from(d.aggregate) {
            Ok(a) => aggregate_of(a),
            Err(_) => None,
        }
        .ok_or_else(|| {
            NodeError::invalid("trait.aggregate", d.aggregate.to_string(), "is required")
        })?;
        let def = TraitDef {
            name: d.name,
            event_type: d.event_type,
            filters: d
                .filters
                .into_iter()
                .map(|f| (f.property, f.equals))
                .collect(),
            aggregate,
            property: d.property,
            window_days: d.window_days,
            origin: "api".into(),
        };
        def.validate()?;
        Ok(def)
    }
}

fn aggregate_pb(a: Aggregate) -> pb::Aggregate {
    use pb::Aggregate as P;
    match a {
        Aggregate::Count => P::Count,
        Aggregate::Sum => P::Sum,
        Aggregate::Average => P::Average,
        Aggregate::Min => P::Min,
        Aggregate::Max => P::Max,
        Aggregate::First => P::First,
        Aggregate::Last => P::Last,
        Aggregate::MostFrequent => P::MostFrequent,
        Aggregate::DistinctCount => P::DistinctCount,
        Aggregate::DaysSinceLast => P::DaysSinceLast,
    }
}

fn aggregate_of(a: pb::Aggregate) -> Option<Aggregate> {
    use pb::Aggregate as P;
    Some(match a {
        P::Unspecified => return None,
        P::Count => Aggregate::Count,
        P::Sum => Aggregate::Sum,
        P::Average => Aggregate::Average,
        P::Min => Aggregate::Min,
        P::Max => Aggregate::Max,
        P::First => Aggregate::First,
        P::Last => Aggregate::Last,
        P::MostFrequent => Aggregate::MostFrequent,
        P::DistinctCount => Aggregate::DistinctCount,
        P::DaysSinceLast => Aggregate::DaysSinceLast,
    })
}

impl TraitValue {
    pub fn to_pb(&self, name: &str) -> pb::TraitValue {
        use pb::trait_value::Value;
        pb::TraitValue {
            name: name.into(),
            value: match self {
                TraitValue::None => None,
                TraitValue::Number(n) => Some(Value::Number(*n)),
                TraitValue::Text(t) => Some(Value::Text(t.clone())),
                TraitValue::Time(t) => Some(Value::TimestampMs(*t)),
            },
        }
    }
}

#[cfg(test)]
mod tests;
