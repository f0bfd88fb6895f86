//! Conversions between engine results and wire messages.

use std::collections::BTreeSet;

use kindred_proto::v1 as pb;

use crate::cluster::explain::GroupHistory;
use crate::engine::explain::{Decision, EntityExplanation, EntityHistory, PairExplanation};
use crate::engine::resolver::{display_key, Action, Outcome, Stats};
use crate::engine::standardize::Issue;
use crate::engine::store::{Event, EventKind};
use crate::error::NodeError;

/// `source/record_id` (as explanations print it) back into a reference.
pub fn ref_from_display(s: &str) -> pb::RecordRef {
    let (source, record_id) = s.split_once('/').unwrap_or(("", s));
    pb::RecordRef {
        source: source.into(),
        record_id: record_id.into(),
    }
}

/// A reference's parts, both required.
pub fn ref_parts(r: Option<&pb::RecordRef>, field: &str) -> Result<(String, String), NodeError> {
    let r = r.ok_or_else(|| NodeError::missing(field))?;
    if r.source.is_empty() {
        return Err(NodeError::missing(&format!("{field}.source")));
    }
    if r.record_id.is_empty() {
        return Err(NodeError::missing(&format!("{field}.record_id")));
    }
    Ok((r.source.clone(), r.record_id.clone()))
}

pub fn issues(v: &[Issue]) -> Vec<pb::StandardizationIssue> {
    v.iter()
        .map(|i| pb::StandardizationIssue {
            field: i.field.clone(),
            value: i.value.clone(),
            reason: i.reason.clone(),
        })
        .collect()
}

pub fn resolve_result(source: &str, record_id: &str, o: &Outcome) -> pb::ResolveResult {
    pb::ResolveResult {
        record: Some(pb::RecordRef {
            source: source.into(),
            record_id: record_id.into(),
        }),
        entity_id: o.entity,
        action: match o.action {
            Action::Created => pb::Action::Created,
            Action::Joined => pb::Action::Joined,
            Action::Merged => pb::Action::Merged,
        } as i32,
        absorbed: o.absorbed.clone(),
        replaced: o.replaced,
        issues: issues(&o.issues),
        possible_matches: o.possible_matches as u32,
    }
}

pub fn record_error(source: &str, record_id: &str, e: &NodeError) -> pb::RecordError {
    let (field, value) = e.field_value();
    pb::RecordError {
        record: Some(pb::RecordRef {
            source: source.into(),
            record_id: record_id.into(),
        }),
        code: e.code() as i32,
        field,
        value,
        message: e.to_string(),
    }
}

pub fn pair(p: &PairExplanation) -> pb::PairExplanation {
    pb::PairExplanation {
        a: Some(ref_from_display(&p.a)),
        b: Some(ref_from_display(&p.b)),
        comparisons: p
            .contributions
            .iter()
            .map(|c| pb::AttributeComparison {
                attribute: c.attribute.clone(),
                level: u32::from(c.level),
                label: c.label.clone(),
                weight: c.weight,
                tf_adjustment: c.tf_adjustment,
            })
            .collect(),
        prior_weight: p.prior_weight,
        total_weight: p.total_weight,
        probability: p.probability,
        match_threshold: p.match_threshold,
        possible_threshold: p.possible_threshold,
        decision: match p.decision {
            Decision::Match => pb::Decision::Match,
            Decision::PossibleMatch => pb::Decision::PossibleMatch,
            Decision::NonMatch => pb::Decision::NonMatch,
        } as i32,
        names_swapped: p.names_swapped,
        candidates: p.candidates,
        same_entity: p.same_entity,
    }
}

pub fn entity_explanation(e: &EntityExplanation) -> pb::EntityExplanation {
    pb::EntityExplanation {
        record: Some(ref_from_display(&e.record)),
        entity_id: e.entity,
        member: e.member,
        pairs: e.pairs.iter().map(pair).collect(),
    }
}

fn event(e: &Event) -> pb::HistoryEvent {
    let (kind, related) = match &e.kind {
        EventKind::Created => ("created", vec![]),
        EventKind::Joined => ("joined", vec![]),
        EventKind::Merged { absorbed } => ("merged", absorbed.clone()),
        EventKind::Split { into } => ("split", into.clone()),
        EventKind::SplitFrom { from } => ("split_from", from.clone()),
        EventKind::Left => ("left", vec![]),
        EventKind::Retired => ("retired", vec![]),
    };
    pb::HistoryEvent {
        step: e.step,
        at_ms: e.at_ms,
        entity_id: e.entity,
        kind: kind.into(),
        related_entities: related,
        record: e.record.as_deref().map(ref_from_display),
        via: e.via.as_ref().map(|v| pb::Via {
            a: Some(ref_from_display(&v.a)),
            b: Some(ref_from_display(&v.b)),
            weight: v.weight,
        }),
    }
}

pub fn history(h: &EntityHistory) -> pb::EntityHistory {
    pb::EntityHistory {
        entity_id: h.entity,
        records: h.records.iter().map(|r| ref_from_display(r)).collect(),
        events: h.events.iter().map(event).collect(),
    }
}

pub fn stats(s: &Stats, model_version: u64) -> pb::StatsResponse {
    pb::StatsResponse {
        records: s.records as u64,
        entities: s.entities as u64,
        merges: s.merges,
        splits: s.splits,
        possible_matches: s.possible_edges as u64,
        match_edges: s.match_edges as u64,
        comparisons: s.comparisons,
        blocking_keys: s.blocking_keys as u64,
        demoted_keys: s.demoted_keys as u64,
        model_version,
        reresolving_records: s.reresolving as u64,
        ..pb::StatsResponse::default()
    }
}

/// One history from the histories of a cluster-wide entity's parts, in
/// time order, with an event for each cross-partition link that joins them.
pub fn group_history(g: &GroupHistory) -> pb::EntityHistory {
    let global = g.entity;
    let mut records = Vec::new();
    let mut events = Vec::new();
    for h in g.parts.iter().map(history) {
        records.extend(h.records);
        events.extend(h.events);
    }
    let mut seen = BTreeSet::new();
    for f in &g.links {
        let (a, b) = if f.key <= f.link.partner {
            (&f.key, &f.link.partner)
        } else {
            (&f.link.partner, &f.key)
        };
        if seen.insert((a.clone(), b.clone())) {
            events.push(pb::HistoryEvent {
                step: 0,
                at_ms: 0,
                entity_id: global,
                kind: "linked_across_partitions".into(),
                related_entities: vec![],
                record: Some(ref_from_display(&display_key(a))),
                via: Some(pb::Via {
                    a: Some(ref_from_display(&display_key(a))),
                    b: Some(ref_from_display(&display_key(b))),
                    weight: f64::from(f.link.weight),
                }),
            });
        }
    }
    events.sort_by_key(|e| (e.at_ms, e.step));
    records.sort_by(|a, b| (&a.source, &a.record_id).cmp(&(&b.source, &b.record_id)));
    records.dedup();
    pb::EntityHistory {
        entity_id: global,
        records,
        events,
    }
}
