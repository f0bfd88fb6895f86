//! Consent decisions reach their records: those a record carries when it
//! is upserted, and those sent on their own (`Privacy.SetConsent`). Each
//! becomes a `consent` event of its record ([`crate::privacy::consent`]),
//! sent through the activity path, so it lives and dies with the record.

use kindred_proto::v1 as pb;

use super::activity::{Activities, EventOutcome};
use crate::engine::resolver::Outcome;
use crate::error::NodeError;
use crate::privacy::consent::decision_event;

/// Takes a record's consent decisions out of it (a record is stored and
/// matched without them) as the events that record them. A decision
/// without a time takes the record's `observed_at_ms`, else `now_ms`.
pub fn take_consents(
    record: &mut pb::Record,
    now_ms: i64,
    purposes: &[String],
) -> Result<Vec<pb::Event>, NodeError> {
    let decisions = std::mem::take(&mut record.consents);
    let at = if record.observed_at_ms > 0 {
        record.observed_at_ms
    } else {
        now_ms
    };
    decisions
        .iter()
        .map(|d| decision_event(&record.source, &record.record_id, d, at, purposes))
        .collect()
}

/// The consent events of a batch of records, by the records' positions
/// (taken out with [`take_consents`]; a record whose decisions are invalid
/// is refused before it is written).
pub struct BatchConsents {
    events: Vec<Vec<pb::Event>>,
}

impl BatchConsents {
    /// The events of each record kept, in their order.
    pub fn of(events: Vec<Vec<pb::Event>>) -> BatchConsents {
        BatchConsents { events }
    }

    pub fn is_empty(&self) -> bool {
        self.events.iter().all(Vec::is_empty)
    }

    /// Records the decisions of the records that were written (`results`,
    /// in the order of the kept records). A record whose decisions could
    /// not be stored gets their error: sending it again is harmless.
    pub async fn record(self, activities: &Activities, results: &mut [Result<Outcome, NodeError>]) {
        if self.is_empty() {
            return;
        }
        let mut owner = Vec::new();
        let mut events = Vec::new();
        for (i, evs) in self.events.into_iter().enumerate() {
            if results.get(i).is_some_and(|r| r.is_ok()) {
                owner.extend(std::iter::repeat_n(i, evs.len()));
                events.extend(evs);
            }
        }
        for (i, out) in owner.into_iter().zip(activities.send(events, false).await) {
            if let Err(e) = out {
                results[i] = Err(e);
            }
        }
    }
}

impl Activities {
    /// Records decisions sent on their own, one result per decision.
    pub async fn set_consent(
        &self,
        decisions: Vec<pb::RecordDecision>,
    ) -> Vec<Result<EventOutcome, NodeError>> {
        let now = self.now_ms();
        let purposes = &self.cfg.events.consent_purposes;
        let mut slots: Vec<Option<Result<EventOutcome, NodeError>>> = Vec::new();
        let mut events = Vec::new();
        for d in decisions {
            match decision_of(&d, now, purposes) {
                Ok(e) => {
                    slots.push(None);
                    events.push(e);
                }
                Err(e) => slots.push(Some(Err(e))),
            }
        }
        let mut sent = self.send(events, true).await.into_iter();
        slots
            .into_iter()
            .map(|s| {
                s.unwrap_or_else(|| {
                    sent.next()
                        .unwrap_or_else(|| Err(NodeError::Unavailable("no result".into())))
                })
            })
            .collect()
    }
}

fn decision_of(
    d: &pb::RecordDecision,
    now_ms: i64,
    purposes: &[String],
) -> Result<pb::Event, NodeError> {
    let r = d
        .record
        .as_ref()
        .ok_or_else(|| NodeError::missing("record"))?;
    let decision = d
        .decision
        .as_ref()
        .ok_or_else(|| NodeError::missing("decision"))?;
    decision_event(&r.source, &r.record_id, decision, now_ms, purposes)
}
