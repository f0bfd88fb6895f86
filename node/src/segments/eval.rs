//! Membership of one customer in every segment, from its assembled profile
//! (golden record, traits, stage, RFM, consent, records) and its activity,
//! at a given time. Nothing else is read, so membership is a function of
//! the customer's records and events, the definitions and the time.

use std::cmp::Ordering;

use kindred_proto::v1 as pb;
use kindred_proto::v1::condition::Kind;
use kindred_proto::v1::property_value::Value;
use kindred_proto::v1::Operator;

use super::SegmentSet;
use crate::activity::event::day_of;
use crate::activity::traits::Aggregate;
use crate::activity::{Activity, TraitDef, TraitValue};
use crate::privacy::consent::granted;

/// What conditions are evaluated against.
struct Subject<'a> {
    profile: &'a pb::Profile,
    activity: &'a Activity,
    now_ms: i64,
    /// The segments already found to hold (segments come after those they
    /// name).
    members: Vec<String>,
}

impl SegmentSet {
    /// The names of the segments the customer is in at `now_ms`, sorted.
    pub fn memberships(
        &self,
        profile: &pb::Profile,
        activity: &Activity,
        now_ms: i64,
    ) -> Vec<String> {
        let mut s = Subject {
            profile,
            activity,
            now_ms,
            members: vec![],
        };
        for seg in self.iter() {
            if seg.condition.as_ref().is_some_and(|c| s.holds(c)) {
                s.members.push(seg.name.clone());
            }
        }
        s.members.sort();
        s.members
    }
}

/// A value compared by a condition.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Text(String),
    Num(f64),
}

impl Subject<'_> {
    fn holds(&self, c: &pb::Condition) -> bool {
        let Some(k) = &c.kind else { return false };
        let p = self.profile;
        match k {
            Kind::All(v) => v.of.iter().all(|c| self.holds(c)),
            Kind::Any(v) => v.of.iter().any(|c| self.holds(c)),
            Kind::Not(c) => !self.holds(c),
            Kind::Field(f) => compare(field(p, &f.field), f.op(), f.value.as_ref(), &f.any_of),
            Kind::Trait(t) => compare(
                self.trait_value(&t.name),
                t.op(),
                t.value.as_ref(),
                &t.any_of,
            ),
            Kind::Stage(s) => p
                .lifecycle
                .as_ref()
                .is_some_and(|l| s.any_of.contains(&l.stage)),
            Kind::Rfm(r) => p.rfm.as_ref().is_some_and(|m| {
                (r.groups.is_empty() || r.groups.contains(&m.group))
                    && m.recency >= r.min_recency
                    && m.frequency >= r.min_frequency
                    && m.monetary >= r.min_monetary
            }),
            Kind::Performed(e) => self.count(e) >= u64::from(e.at_least.max(1)),
            Kind::NotPerformed(e) => self.count(e) == 0,
            Kind::HasSource(s) => p.records.iter().any(|r| r.source == *s),
            Kind::InSegment(n) => self.members.contains(n),
            Kind::HasConsent(purpose) => granted(p, purpose),
        }
    }

    /// A trait's value; a time is its age in whole days.
    fn trait_value(&self, name: &str) -> Option<Val> {
        use pb::trait_value::Value as T;
        let t = self.profile.traits.iter().find(|t| t.name == name)?;
        match t.value.as_ref()? {
            T::Number(n) => Some(Val::Num(*n)),
            T::Text(s) => Some(Val::Text(s.clone())),
            T::TimestampMs(ms) => Some(Val::Num(
                f64::from(day_of(self.now_ms)) - f64::from(day_of(*ms)),
            )),
        }
    }

    /// How many events of the condition's type (and filters) fall in its
    /// window.
    fn count(&self, e: &pb::PerformedCondition) -> u64 {
        let def = TraitDef {
            name: String::new(),
            event_type: e.event_type.clone(),
            filters: e
                .filters
                .iter()
                .map(|f| (f.property.clone(), f.equals.clone()))
                .collect(),
            aggregate: Aggregate::Count,
            property: String::new(),
            window_days: e.within_days,
            origin: String::new(),
        };
        match def.evaluate(self.activity, self.now_ms) {
            TraitValue::Number(n) => n as u64,
            _ => 0,
        }
    }
}

/// A golden-record field or free attribute, as text.
fn field(p: &pb::Profile, name: &str) -> Option<Val> {
    let text = |v: Option<&pb::GoldenValue>| {
        v.map(|g| g.value.clone())
            .filter(|s| !s.is_empty())
            .map(Val::Text)
    };
    if let Some(a) = name.strip_prefix("attribute:") {
        return p
            .attributes
            .get(a)
            .filter(|s| !s.is_empty())
            .cloned()
            .map(Val::Text);
    }
    let g = p.golden.as_ref()?;
    if let Some(kind) = name.strip_prefix("identifier:") {
        return text(g.identifiers.get(kind));
    }
    text(match name {
        "given_name" => g.given_name.as_ref(),
        "middle_name" => g.middle_name.as_ref(),
        "family_name" => g.family_name.as_ref(),
        "date_of_birth" => g.date_of_birth.as_ref(),
        "gender" => g.gender.as_ref(),
        "email" => g.email.as_ref(),
        "phone" => g.phone.as_ref(),
        "address" => g.address.as_ref(),
        _ => None,
    })
}

/// The condition's value in the form of the actual value.
fn expected(v: Option<&pb::PropertyValue>) -> Option<Val> {
    Some(match v?.value.as_ref()? {
        Value::StringValue(s) => Val::Text(s.clone()),
        Value::NumberValue(n) => Val::Num(*n),
        Value::BoolValue(b) => Val::Text(b.to_string()),
        Value::TimestampMs(t) => Val::Num(*t as f64),
    })
}

/// Orders an actual value against an expected one: numbers numerically
/// (against text that reads as a number too), text ignoring case. None
/// when they cannot be compared (a number against other text).
fn order(actual: &Val, want: &Val) -> Option<Ordering> {
    match (actual, want) {
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Val::Text(a), Val::Num(b)) => a.trim().parse::<f64>().ok()?.partial_cmp(b),
        (Val::Num(a), Val::Text(b)) => a.partial_cmp(&b.trim().parse::<f64>().ok()?),
        (Val::Text(a), Val::Text(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
    }
}

/// Applies an operator. A customer without the value matches only
/// `missing`.
fn compare(
    actual: Option<Val>,
    op: Operator,
    v: Option<&pb::PropertyValue>,
    any_of: &[String],
) -> bool {
    let Some(actual) = actual else {
        return op == Operator::Missing;
    };
    let want = expected(v);
    let ord = || want.as_ref().and_then(|w| order(&actual, w));
    match op {
        Operator::Unspecified | Operator::Missing => false,
        Operator::Exists => true,
        Operator::In => any_of
            .iter()
            .any(|a| order(&actual, &Val::Text(a.clone())) == Some(Ordering::Equal)),
        Operator::Contains => match (&actual, &want) {
            (Val::Text(a), Some(Val::Text(w))) => a.to_lowercase().contains(&w.to_lowercase()),
            _ => false,
        },
        Operator::Eq => ord() == Some(Ordering::Equal),
        Operator::Ne => ord().is_some_and(|o| o != Ordering::Equal),
        Operator::Lt => ord() == Some(Ordering::Less),
        Operator::Le => ord().is_some_and(|o| o != Ordering::Greater),
        Operator::Gt => ord() == Some(Ordering::Greater),
        Operator::Ge => ord().is_some_and(|o| o != Ordering::Less),
    }
}
