//! One event as Kindred keeps it: validated, with its amount in exact
//! fixed point and its properties sorted, so that equal events encode to
//! equal bytes (a resend is recognised byte for byte) and every sum over
//! them is the same whatever order they arrived in.

use crate::segments::triggers::RESERVED_PREFIX;
use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

use crate::engine::resolver::record_key;
use crate::error::NodeError;
use crate::privacy::consent;

/// Amounts are kept in millionths of a unit.
pub const MICROS: f64 = 1_000_000.0;
pub const MS_PER_DAY: i64 = 86_400_000;

/// Limits and rules for incoming events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventRules {
    /// Event types whose amount may be negative (refunds, returns).
    pub negative_amount_types: Vec<String>,
    /// How far ahead of the node's clock an event may be dated.
    pub max_future_ms: i64,
    /// Most properties on one event.
    pub max_properties: usize,
    /// Largest encoded properties of one event, in bytes.
    pub max_properties_bytes: usize,
    /// The consent purposes (`[privacy] purposes`, handed over by
    /// `NodeConfig::finish`).
    #[serde(skip)]
    pub consent_purposes: Vec<String>,
}

impl Default for EventRules {
    fn default() -> Self {
        EventRules {
            negative_amount_types: vec!["refund".into(), "order_refunded".into(), "return".into()],
            max_future_ms: MS_PER_DAY,
            max_properties: 64,
            max_properties_bytes: 8 * 1024,
            consent_purposes: crate::privacy::consent::default_purposes(),
        }
    }
}

/// A typed property value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Prop {
    Str(String),
    Num(f64),
    Bool(bool),
    Time(i64),
}

impl Prop {
    /// The value as text, for filters and most-frequent counts.
    pub fn text(&self) -> String {
        match self {
            Prop::Str(s) => s.clone(),
            Prop::Num(n) => format!("{n}"),
            Prop::Bool(b) => b.to_string(),
            Prop::Time(t) => t.to_string(),
        }
    }

    /// The value as a number, when it is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Prop::Num(n) => Some(*n),
            Prop::Time(t) => Some(*t as f64),
            _ => None,
        }
    }
}

/// An event's content: everything but its key (record and event id),
/// which the store keeps in the row key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    pub etype: String,
    pub at_ms: i64,
    /// Millionths of a unit.
    pub amount: Option<i64>,
    pub currency: String,
    /// Sorted by name.
    pub props: Vec<(String, Prop)>,
}

impl Body {
    /// The stored form (postcard: varints, a few dozen bytes).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    pub fn decode(b: &[u8]) -> Option<Body> {
        postcard::from_bytes(b).ok()
    }

    /// The day of the event (days since the Unix epoch, UTC).
    pub fn day(&self) -> i32 {
        day_of(self.at_ms)
    }

    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| &self.props[i].1)
    }
}

/// Days since the Unix epoch of a time (UTC).
pub fn day_of(ms: i64) -> i32 {
    ms.div_euclid(MS_PER_DAY)
        .clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// A validated event: the record it belongs to, its id and content, and
/// the identifying fields it carried, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Internal record key (source 0x1f record id).
    pub key: String,
    pub event_id: String,
    pub body: Body,
    /// Identifying fields for the record (source and record id set).
    pub identity: Option<Box<pb::Record>>,
}

/// A key part: not empty, at most `max` bytes, without the control
/// character U+001F that separates key parts on disk (and, when `strict`,
/// without any control character).
fn check_name(field: &str, v: &str, max: usize, strict: bool) -> Result<(), NodeError> {
    if v.trim().is_empty() {
        Err(NodeError::invalid(field, v, "is required"))
    } else if v.len() > max {
        Err(NodeError::invalid(
            field,
            v,
            format!("must be at most {max} bytes"),
        ))
    } else if v.contains('\u{1f}') || (strict && v.chars().any(char::is_control)) {
        Err(NodeError::invalid(
            field,
            v,
            "must not contain control characters",
        ))
    } else {
        Ok(())
    }
}

impl Event {
    /// Validates a wire event against the rules and the node's clock.
    pub fn from_pb(e: pb::Event, now_ms: i64, rules: &EventRules) -> Result<Event, NodeError> {
        check_name("source", &e.source, 256, false)?;
        check_name("record_id", &e.record_id, 256, false)?;
        check_name("event_id", &e.event_id, 256, true)?;
        check_name("type", &e.r#type, 128, true)?;
        if e.r#type.starts_with(RESERVED_PREFIX) {
            return Err(NodeError::invalid(
                "type",
                &e.r#type,
                format!("event types starting with {RESERVED_PREFIX:?} are Kindred's own"),
            ));
        }
        if e.occurred_at_ms <= 0 {
            return Err(NodeError::invalid(
                "occurred_at_ms",
                e.occurred_at_ms,
                "is required (milliseconds since the Unix epoch)",
            ));
        }
        if e.occurred_at_ms > now_ms.saturating_add(rules.max_future_ms) {
            return Err(NodeError::invalid(
                "occurred_at_ms",
                e.occurred_at_ms,
                format!(
                    "is more than {} ms ahead of the node's clock",
                    rules.max_future_ms
                ),
            ));
        }
        let amount = e
            .amount
            .map(|a| amount_micros(a, &e.r#type, rules))
            .transpose()?;
        let currency = currency(&e.currency)?;
        let props = properties(e.properties, rules)?;
        let key = record_key(&e.source, &e.record_id);
        let identity = e.identity.filter(has_identity).map(|mut r| {
            r.source = e.source.clone();
            r.record_id = e.record_id.clone();
            Box::new(r)
        });
        let body = Body {
            etype: e.r#type,
            at_ms: e.occurred_at_ms,
            amount,
            currency,
            props,
        };
        if body.etype == consent::CONSENT_TYPE {
            consent::check_event(&body, &rules.consent_purposes)?;
        }
        Ok(Event {
            key,
            event_id: e.event_id,
            body,
            identity,
        })
    }

    /// The wire form of a stored event.
    pub fn to_pb(key: &str, event_id: &str, body: &Body) -> pb::Event {
        let (source, record_id) = crate::engine::resolver::split_key(key);
        pb::Event {
            source: source.into(),
            record_id: record_id.into(),
            event_id: event_id.into(),
            r#type: body.etype.clone(),
            occurred_at_ms: body.at_ms,
            amount: body.amount.map(|a| a as f64 / MICROS),
            currency: body.currency.clone(),
            properties: body
                .props
                .iter()
                .map(|(k, v)| (k.clone(), prop_pb(v)))
                .collect(),
            identity: None,
        }
    }
}

/// True when a record carries anything that identifies a person.
fn has_identity(r: &pb::Record) -> bool {
    let name = r
        .name
        .as_ref()
        .is_some_and(|n| !(n.full.is_empty() && n.given.is_empty() && n.family.is_empty()));
    name || !r.emails.is_empty()
        || !r.phones.is_empty()
        || !r.identifiers.is_empty()
        || !r.date_of_birth.is_empty()
        || !r.addresses.is_empty()
}

fn amount_micros(a: f64, etype: &str, rules: &EventRules) -> Result<i64, NodeError> {
    if !a.is_finite() || a.abs() > 1e12 {
        return Err(NodeError::invalid(
            "amount",
            a,
            "must be a finite number below 10^12",
        ));
    }
    if a < 0.0 && !rules.negative_amount_types.iter().any(|t| t == etype) {
        return Err(NodeError::invalid(
            "amount",
            a,
            format!(
                "must not be negative for type {etype:?} (allowed for: {})",
                rules.negative_amount_types.join(", ")
            ),
        ));
    }
    Ok((a * MICROS).round() as i64)
}

fn currency(c: &str) -> Result<String, NodeError> {
    let c = c.trim().to_ascii_uppercase();
    if c.is_empty() || (c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())) {
        Ok(c)
    } else {
        Err(NodeError::invalid(
            "currency",
            c,
            "must be an ISO 4217 code such as EUR",
        ))
    }
}

fn properties(
    props: std::collections::HashMap<String, pb::PropertyValue>,
    rules: &EventRules,
) -> Result<Vec<(String, Prop)>, NodeError> {
    if props.len() > rules.max_properties {
        return Err(NodeError::invalid(
            "properties",
            props.len(),
            format!("at most {} properties", rules.max_properties),
        ));
    }
    // By name, so that the error reported for several bad ones is always
    // the same one.
    let mut props: Vec<(String, pb::PropertyValue)> = props.into_iter().collect();
    props.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::with_capacity(props.len());
    let mut bytes = 0;
    for (name, v) in props {
        let field = format!("properties.{name}");
        check_name(&field, &name, 128, true)?;
        let p = match v.value {
            Some(pb::property_value::Value::StringValue(s)) => Prop::Str(s),
            Some(pb::property_value::Value::NumberValue(n)) if n.is_finite() => Prop::Num(n),
            Some(pb::property_value::Value::NumberValue(n)) => {
                return Err(NodeError::invalid(&field, n, "must be a finite number"))
            }
            Some(pb::property_value::Value::BoolValue(b)) => Prop::Bool(b),
            Some(pb::property_value::Value::TimestampMs(t)) => Prop::Time(t),
            None => return Err(NodeError::invalid(&field, "", "has no value")),
        };
        bytes += name.len() + prop_len(&p);
        out.push((name, p));
    }
    if bytes > rules.max_properties_bytes {
        return Err(NodeError::invalid(
            "properties",
            format!("{bytes} bytes"),
            format!("at most {} bytes of properties", rules.max_properties_bytes),
        ));
    }
    Ok(out)
}

fn prop_len(p: &Prop) -> usize {
    match p {
        Prop::Str(s) => s.len(),
        _ => 8,
    }
}

fn prop_pb(p: &Prop) -> pb::PropertyValue {
    use pb::property_value::Value;
    pb::PropertyValue {
        value: Some(match p {
            Prop::Str(s) => Value::StringValue(s.clone()),
            Prop::Num(n) => Value::NumberValue(*n),
            Prop::Bool(b) => Value::BoolValue(*b),
            Prop::Time(t) => Value::TimestampMs(*t),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000_000;

    fn event() -> pb::Event {
        pb::Event {
            source: "shop".into(),
            record_id: "c1".into(),
            event_id: "o-1".into(),
            r#type: "order_completed".into(),
            occurred_at_ms: NOW - 1000,
            amount: Some(19.99),
            currency: "eur".into(),
            ..Default::default()
        }
    }

    fn rejected(e: pb::Event) -> (String, String) {
        match Event::from_pb(e, NOW, &EventRules::default()) {
            Err(err) => err.field_value(),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn amounts_are_exact_and_currency_is_normalised() {
        let e = Event::from_pb(event(), NOW, &EventRules::default()).unwrap();
        assert_eq!(e.body.amount, Some(19_990_000));
        assert_eq!(e.body.currency, "EUR");
        assert_eq!(e.key, "shop\u{1f}c1");
        let back = Event::to_pb(&e.key, &e.event_id, &e.body);
        assert_eq!(back.amount, Some(19.99));
    }

    #[test]
    fn bad_events_name_the_field() {
        let mut e = event();
        e.r#type.clear();
        assert_eq!(rejected(e).0, "type");
        let mut e = event();
        e.r#type = "kindred.trigger".into();
        assert_eq!(rejected(e), ("type".into(), "kindred.trigger".into()));
        let mut e = event();
        e.occurred_at_ms = 0;
        assert_eq!(rejected(e).0, "occurred_at_ms");
        let mut e = event();
        e.occurred_at_ms = NOW + 2 * MS_PER_DAY;
        assert_eq!(rejected(e).0, "occurred_at_ms");
        let mut e = event();
        e.amount = Some(-5.0);
        assert_eq!(rejected(e), ("amount".into(), "-5".into()));
        let mut e = event();
        e.currency = "euro".into();
        assert_eq!(rejected(e).0, "currency");
        let mut e = event();
        e.event_id = "a\u{1f}b".into();
        assert_eq!(rejected(e).0, "event_id");
        let mut e = event();
        e.properties
            .insert("note".into(), pb::PropertyValue { value: None });
        assert_eq!(rejected(e).0, "properties.note");
        let mut e = event();
        let big = "x".repeat(9000);
        e.properties.insert(
            "blob".into(),
            pb::PropertyValue {
                value: Some(pb::property_value::Value::StringValue(big)),
            },
        );
        assert_eq!(rejected(e).0, "properties");
    }

    #[test]
    fn refunds_may_be_negative() {
        let mut e = event();
        e.r#type = "refund".into();
        e.amount = Some(-5.5);
        let e = Event::from_pb(e, NOW, &EventRules::default()).unwrap();
        assert_eq!(e.body.amount, Some(-5_500_000));
    }

    #[test]
    fn equal_events_encode_equally_whatever_the_property_order() {
        let mut a = event();
        let mut b = event();
        let v = |s: &str| pb::PropertyValue {
            value: Some(pb::property_value::Value::StringValue(s.into())),
        };
        for (k, x) in [("cart_id", "c9"), ("channel", "web"), ("sku", "A1")] {
            a.properties.insert(k.into(), v(x));
        }
        for (k, x) in [("sku", "A1"), ("cart_id", "c9"), ("channel", "web")] {
            b.properties.insert(k.into(), v(x));
        }
        let a = Event::from_pb(a, NOW, &EventRules::default()).unwrap();
        let b = Event::from_pb(b, NOW, &EventRules::default()).unwrap();
        assert_eq!(a.body.encode(), b.body.encode());
        assert_eq!(Body::decode(&a.body.encode()).unwrap(), a.body);
        assert_eq!(a.body.prop("cart_id"), Some(&Prop::Str("c9".into())));
    }

    #[test]
    fn identity_without_identifying_fields_is_ignored() {
        let mut e = event();
        e.identity = Some(pb::Record::default());
        assert!(Event::from_pb(e, NOW, &EventRules::default())
            .unwrap()
            .identity
            .is_none());
        let mut e = event();
        e.identity = Some(pb::Record {
            emails: vec!["a@b.com".into()],
            ..Default::default()
        });
        let id = Event::from_pb(e, NOW, &EventRules::default())
            .unwrap()
            .identity
            .unwrap();
        assert_eq!((id.source.as_str(), id.record_id.as_str()), ("shop", "c1"));
    }
}
