//! Consent: each record's decisions per purpose, and the rule that
//! combines a customer's records' decisions on its profile.
//!
//! A decision is an event of its record, of type [`CONSENT_TYPE`], with the
//! properties `purpose` and `status`, dated when the person decided. It is
//! therefore stored, sealed, handed over, deleted and erased with its
//! record like every event, and a split gives each part its records'
//! decisions back with no work. Decisions are not summarised (they are not
//! activity for traits such as "last seen").
//!
//! The profile's rule never widens consent:
//! 1. a record's decision for a purpose is its latest one; two decisions of
//!    one record at the same time resolve to the more restrictive
//!    (withdrawn, then denied, then granted);
//! 2. the customer's decision is the latest of its records' decisions; when
//!    the records that decided at that latest time disagree, it is a
//!    conflict, which is not granted;
//! 3. a purpose nobody decided is unspecified, which is not granted.
//!
//! Each step takes a maximum, so the result does not depend on the order
//! in which decisions or records arrived.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

use crate::activity::event::Prop;
use crate::activity::{Body, StoredEvent};
use crate::engine::resolver::split_key;
use crate::error::NodeError;

/// The event type of a consent decision.
pub const CONSENT_TYPE: &str = "consent";

/// The purposes a node knows unless configured otherwise.
pub fn default_purposes() -> Vec<String> {
    [
        "email_marketing",
        "sms_marketing",
        "profiling",
        "third_party_sharing",
    ]
    .map(String::from)
    .to_vec()
}

/// A decision's status. The order is restrictiveness: a later variant
/// wins a tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Granted,
    Denied,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Granted => "granted",
            Status::Denied => "denied",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "granted" => Some(Status::Granted),
            "denied" => Some(Status::Denied),
            "withdrawn" => Some(Status::Withdrawn),
            _ => None,
        }
    }

    pub fn from_pb(s: i32) -> Option<Status> {
        match pb::ConsentStatus::try_from(s).ok()? {
            pb::ConsentStatus::Granted => Some(Status::Granted),
            pb::ConsentStatus::Denied => Some(Status::Denied),
            pb::ConsentStatus::Withdrawn => Some(Status::Withdrawn),
            _ => None,
        }
    }

    pub fn to_pb(self) -> pb::ConsentStatus {
        match self {
            Status::Granted => pb::ConsentStatus::Granted,
            Status::Denied => pb::ConsentStatus::Denied,
            Status::Withdrawn => pb::ConsentStatus::Withdrawn,
        }
    }
}

fn check_purpose(field: &str, purpose: &str, purposes: &[String]) -> Result<(), NodeError> {
    if purposes.iter().any(|p| p == purpose) {
        Ok(())
    } else {
        Err(NodeError::invalid(
            field,
            purpose,
            format!(
                "is not a configured purpose ([privacy] purposes: {})",
                purposes.join(", ")
            ),
        ))
    }
}

/// Checks a `consent` event: a configured purpose, a known status, no
/// amount.
pub fn check_event(body: &Body, purposes: &[String]) -> Result<(), NodeError> {
    let text = |name: &str| match body.prop(name) {
        Some(Prop::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    let purpose = text("purpose").ok_or_else(|| {
        NodeError::invalid("properties.purpose", "", "a consent event needs a purpose")
    })?;
    check_purpose("properties.purpose", purpose, purposes)?;
    let status = text("status").unwrap_or_default();
    if Status::parse(status).is_none() {
        return Err(NodeError::invalid(
            "properties.status",
            status,
            "must be granted, denied or withdrawn",
        ));
    }
    if body.amount.is_some() {
        return Err(NodeError::invalid(
            "amount",
            "",
            "a consent event has no amount",
        ));
    }
    Ok(())
}

/// The event that records a decision against a record. `default_at` dates
/// a decision sent without a time.
pub fn decision_event(
    source: &str,
    record_id: &str,
    d: &pb::ConsentDecision,
    default_at: i64,
    purposes: &[String],
) -> Result<pb::Event, NodeError> {
    check_purpose("consents.purpose", &d.purpose, purposes)?;
    let status = Status::from_pb(d.status).ok_or_else(|| {
        NodeError::invalid(
            "consents.status",
            d.status,
            "must be GRANTED, DENIED or WITHDRAWN",
        )
    })?;
    let (at, undated) = if d.decided_at_ms > 0 {
        (d.decided_at_ms, false)
    } else {
        (default_at, true)
    };
    let text = |v: &str| pb::PropertyValue {
        value: Some(pb::property_value::Value::StringValue(v.into())),
    };
    let mut properties: std::collections::HashMap<String, pb::PropertyValue> = [
        ("purpose".to_string(), text(&d.purpose)),
        ("status".to_string(), text(status.as_str())),
    ]
    .into();
    if undated {
        properties.insert(
            UNDATED.into(),
            pb::PropertyValue {
                value: Some(pb::property_value::Value::BoolValue(true)),
            },
        );
    }
    Ok(pb::Event {
        source: source.into(),
        record_id: record_id.into(),
        event_id: format!("consent:{}:{at}:{}", d.purpose, status.as_str()),
        r#type: CONSENT_TYPE.into(),
        occurred_at_ms: at,
        properties,
        ..Default::default()
    })
}

/// The property marking a decision sent without its time (dated when it
/// arrived): one that repeats its record's latest decision for the purpose
/// is not stored again, so a file re-imported every night adds nothing.
pub const UNDATED: &str = "undated";

/// The purpose and status of a consent event.
pub fn purpose_and_status(body: &Body) -> Option<(&str, Status)> {
    let text = |name: &str| match body.prop(name) {
        Some(Prop::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    Some((text("purpose")?, Status::parse(text("status")?)?))
}

/// True for a consent decision sent without its time.
pub fn is_undated(body: &Body) -> bool {
    body.etype == CONSENT_TYPE && matches!(body.prop(UNDATED), Some(Prop::Bool(true)))
}

/// One record's decision for one purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub key: String,
    pub purpose: String,
    pub status: Status,
    pub at_ms: i64,
}

impl Decision {
    fn of(e: &StoredEvent) -> Option<Decision> {
        let (purpose, status) = purpose_and_status(&e.body)?;
        Some(Decision {
            key: e.key.clone(),
            purpose: purpose.to_string(),
            status,
            at_ms: e.body.at_ms,
        })
    }

    pub fn to_pb(&self) -> pb::RecordConsent {
        let (source, record_id) = split_key(&self.key);
        pb::RecordConsent {
            record: Some(pb::RecordRef {
                source: source.into(),
                record_id: record_id.into(),
            }),
            purpose: self.purpose.clone(),
            status: self.status.to_pb() as i32,
            decided_at_ms: self.at_ms,
        }
    }
}

/// True for a consent decision (an event of type [`CONSENT_TYPE`]).
pub fn is_consent(e: &StoredEvent) -> bool {
    e.body.etype == CONSENT_TYPE
}

/// Each record's latest decision per purpose (rule 1), by record then
/// purpose.
pub fn record_decisions(events: &[StoredEvent]) -> Vec<Decision> {
    let mut latest: BTreeMap<(String, String), Decision> = BTreeMap::new();
    for d in events
        .iter()
        .filter(|e| is_consent(e))
        .filter_map(Decision::of)
    {
        let slot = latest
            .entry((d.key.clone(), d.purpose.clone()))
            .or_insert_with(|| d.clone());
        if (d.at_ms, d.status) > (slot.at_ms, slot.status) {
            *slot = d;
        }
    }
    latest.into_values().collect()
}

/// The customer's consent for every configured purpose, by rules 2 and 3
/// (decisions for a purpose no longer configured are left out).
pub fn combine(events: &[StoredEvent], purposes: &[String]) -> Vec<pb::PurposeConsent> {
    let mut by_purpose: BTreeMap<&str, Vec<Decision>> =
        purposes.iter().map(|p| (p.as_str(), vec![])).collect();
    let decisions = record_decisions(events);
    for d in &decisions {
        if let Some(v) = by_purpose.get_mut(d.purpose.as_str()) {
            v.push(d.clone());
        }
    }
    by_purpose
        .into_iter()
        .map(|(purpose, ds)| purpose_consent(purpose, &ds))
        .collect()
}

fn purpose_consent(purpose: &str, ds: &[Decision]) -> pb::PurposeConsent {
    let Some(at) = ds.iter().map(|d| d.at_ms).max() else {
        return pb::PurposeConsent {
            purpose: purpose.into(),
            ..Default::default()
        };
    };
    let latest: Vec<&Decision> = ds.iter().filter(|d| d.at_ms == at).collect();
    let first = latest[0].status;
    let status = if latest.iter().all(|d| d.status == first) {
        first.to_pb()
    } else {
        pb::ConsentStatus::Conflict
    };
    pb::PurposeConsent {
        purpose: purpose.into(),
        status: status as i32,
        granted: status == pb::ConsentStatus::Granted,
        decided_at_ms: at,
        decided_by: latest.iter().map(|d| d.to_pb()).collect(),
    }
}

/// True when a profile's consent for `purpose` is granted.
pub fn granted(profile: &pb::Profile, purpose: &str) -> bool {
    profile
        .consent
        .iter()
        .any(|c| c.purpose == purpose && c.granted)
}

/// The node's `[privacy]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// The purposes consent is recorded for.
    pub purposes: Vec<String>,
    pub retention: super::retention::RetentionConfig,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            purposes: default_purposes(),
            retention: Default::default(),
        }
    }
}

impl PrivacyConfig {
    /// Checks the purposes' names: `[a-z0-9_]`, 1 to 64 bytes, no repeats.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut seen = std::collections::HashSet::new();
        for p in &self.purposes {
            let ok = !p.is_empty()
                && p.len() <= 64
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err((p.clone(), "a purpose is 1 to 64 of a-z, 0-9 and _".into()));
            }
            if !seen.insert(p) {
                return Err((p.clone(), "is listed twice".into()));
            }
        }
        self.retention.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(key: &str, purpose: &str, status: &str, at: i64, id: &str) -> StoredEvent {
        StoredEvent {
            key: key.into(),
            event_id: id.into(),
            body: Body {
                etype: CONSENT_TYPE.into(),
                at_ms: at,
                amount: None,
                currency: String::new(),
                props: vec![
                    ("purpose".into(), Prop::Str(purpose.into())),
                    ("status".into(), Prop::Str(status.into())),
                ],
            },
        }
    }

    fn status_of(out: &[pb::PurposeConsent], purpose: &str) -> (pb::ConsentStatus, bool) {
        let c = out.iter().find(|c| c.purpose == purpose).unwrap();
        (c.status(), c.granted)
    }

    fn purposes() -> Vec<String> {
        default_purposes()
    }

    #[test]
    fn the_latest_decision_of_any_record_wins() {
        let evs = vec![
            decision("crm\u{1f}1", "email_marketing", "granted", 100, "a"),
            decision("web\u{1f}9", "email_marketing", "withdrawn", 200, "b"),
            decision("crm\u{1f}1", "sms_marketing", "denied", 100, "c"),
            decision("web\u{1f}9", "sms_marketing", "granted", 300, "d"),
        ];
        let out = combine(&evs, &purposes());
        assert_eq!(
            status_of(&out, "email_marketing"),
            (pb::ConsentStatus::Withdrawn, false)
        );
        assert_eq!(
            status_of(&out, "sms_marketing"),
            (pb::ConsentStatus::Granted, true)
        );
        assert_eq!(
            status_of(&out, "profiling"),
            (pb::ConsentStatus::Unspecified, false)
        );
    }

    #[test]
    fn sources_disagreeing_at_the_same_time_are_a_conflict_and_not_granted() {
        let evs = vec![
            decision("crm\u{1f}1", "profiling", "granted", 500, "a"),
            decision("web\u{1f}9", "profiling", "denied", 500, "b"),
        ];
        let out = combine(&evs, &purposes());
        assert_eq!(
            status_of(&out, "profiling"),
            (pb::ConsentStatus::Conflict, false)
        );
        let c = out.iter().find(|c| c.purpose == "profiling").unwrap();
        assert_eq!(c.decided_by.len(), 2);
    }

    #[test]
    fn agreeing_sources_at_the_same_time_are_not_a_conflict() {
        let evs = vec![
            decision("crm\u{1f}1", "profiling", "granted", 500, "a"),
            decision("web\u{1f}9", "profiling", "granted", 500, "b"),
        ];
        let out = combine(&evs, &purposes());
        assert_eq!(
            status_of(&out, "profiling"),
            (pb::ConsentStatus::Granted, true)
        );
    }

    #[test]
    fn one_record_at_one_time_keeps_the_more_restrictive_decision_in_any_order() {
        let a = decision("crm\u{1f}1", "profiling", "granted", 500, "a");
        let b = decision("crm\u{1f}1", "profiling", "withdrawn", 500, "b");
        for evs in [vec![a.clone(), b.clone()], vec![b, a]] {
            let out = combine(&evs, &purposes());
            assert_eq!(
                status_of(&out, "profiling"),
                (pb::ConsentStatus::Withdrawn, false)
            );
        }
    }

    #[test]
    fn a_record_s_own_later_grant_replaces_its_earlier_withdrawal() {
        let evs = vec![
            decision("crm\u{1f}1", "profiling", "withdrawn", 100, "a"),
            decision("crm\u{1f}1", "profiling", "granted", 900, "b"),
        ];
        let d = record_decisions(&evs);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].status, d[0].at_ms), (Status::Granted, 900));
    }

    #[test]
    fn a_consent_event_names_a_configured_purpose_and_a_known_status() {
        let ok = decision("k", "profiling", "granted", 1, "a").body;
        assert!(check_event(&ok, &purposes()).is_ok());
        let e = check_event(
            &decision("k", "telepathy", "granted", 1, "a").body,
            &purposes(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("telepathy"), "{e}");
        let e = check_event(
            &decision("k", "profiling", "maybe", 1, "a").body,
            &purposes(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("maybe"), "{e}");
    }

    #[test]
    fn a_decision_becomes_an_idempotent_event() {
        let d = pb::ConsentDecision {
            purpose: "email_marketing".into(),
            status: pb::ConsentStatus::Granted as i32,
            decided_at_ms: 0,
        };
        let e = decision_event("crm", "1", &d, 42, &purposes()).unwrap();
        assert_eq!(e.event_id, "consent:email_marketing:42:granted");
        assert_eq!(e.occurred_at_ms, 42);
        let bad = pb::ConsentDecision {
            status: pb::ConsentStatus::Conflict as i32,
            ..d
        };
        assert!(decision_event("crm", "1", &bad, 42, &purposes()).is_err());
    }
}
