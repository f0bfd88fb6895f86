//! Segments: named groups of customers, defined by a condition tree over
//! what a profile shows (golden record, traits, stage, RFM, events, sources,
//! consent, other segments).
//!
//! Membership is evaluated from a customer's profile and activity when the
//! profile is assembled, so it is a function of the records, their events,
//! the definitions and the time only: it follows merges and splits exactly
//! and is the same on every cluster layout.
//!
//! - [`check`]: validation of a definition against what the cluster knows,
//!   every problem named by its path, and which conditions depend on time;
//! - [`eval`]: membership of one customer in every segment;
//! - [`builtin`]: the standard segments shipped ready to use;
//! - [`triggers`]: "A then not B within T" (the abandoned cart), open and
//!   settled as a function of the customer's events.

pub mod builtin;
pub mod check;
pub mod eval;
pub mod triggers;

use std::collections::{BTreeMap, BTreeSet};

use kindred_proto::v1 as pb;
use kindred_proto::v1::condition::Kind;

pub use check::{check, Checked, Known, Problem};

/// The segments in force, in an order where every segment comes after the
/// segments its `in_segment` conditions name.
#[derive(Debug, Clone, Default)]
pub struct SegmentSet {
    ordered: Vec<pb::Segment>,
}

impl SegmentSet {
    /// Orders the segments by their `in_segment` references. A segment in a
    /// reference cycle (validation refuses them) or naming an unknown one is
    /// kept last and its references are false.
    pub fn new(segments: impl IntoIterator<Item = pb::Segment>) -> SegmentSet {
        let mut left: BTreeMap<String, pb::Segment> =
            segments.into_iter().map(|s| (s.name.clone(), s)).collect();
        let mut ordered = Vec::with_capacity(left.len());
        let mut placed: BTreeSet<String> = BTreeSet::new();
        loop {
            let ready: Vec<String> = left
                .iter()
                .filter(|(_, s)| {
                    references(s)
                        .iter()
                        .all(|r| placed.contains(r) || !left.contains_key(r))
                })
                .map(|(n, _)| n.clone())
                .collect();
            if ready.is_empty() {
                break;
            }
            for n in ready {
                placed.insert(n.clone());
                ordered.extend(left.remove(&n));
            }
        }
        ordered.extend(left.into_values());
        SegmentSet { ordered }
    }

    pub fn iter(&self) -> impl Iterator<Item = &pb::Segment> {
        self.ordered.iter()
    }

    pub fn get(&self, name: &str) -> Option<&pb::Segment> {
        self.ordered.iter().find(|s| s.name == name)
    }

    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// True when some segment counts events with property filters (the
    /// per-day summaries cannot answer those).
    pub fn needs_events(&self) -> bool {
        self.ordered
            .iter()
            .any(|s| s.condition.as_ref().is_some_and(needs_events))
    }

    /// True when some segment reads the customer's records: a golden-record
    /// field or attribute, or the sources it has records from.
    pub fn needs_records(&self) -> bool {
        self.any_condition(|k| matches!(k, Kind::Field(_) | Kind::HasSource(_)))
    }

    /// True when some segment reads the customer's consent.
    pub fn needs_consent(&self) -> bool {
        self.any_condition(|k| matches!(k, Kind::HasConsent(_)))
    }

    fn any_condition(&self, f: impl Fn(&Kind) -> bool) -> bool {
        let mut any = false;
        for c in self.ordered.iter().filter_map(|s| s.condition.as_ref()) {
            walk(c, &mut |k| any |= f(k));
        }
        any
    }
}

/// The segments a segment's `in_segment` conditions name.
pub fn references(s: &pb::Segment) -> Vec<String> {
    let mut out = vec![];
    if let Some(c) = &s.condition {
        walk(c, &mut |k| {
            if let Kind::InSegment(n) = k {
                out.push(n.clone());
            }
        });
    }
    out
}

/// The trait names a segment's conditions use.
pub fn traits_used(s: &pb::Segment) -> Vec<String> {
    let mut out = vec![];
    if let Some(c) = &s.condition {
        walk(c, &mut |k| {
            if let Kind::Trait(t) = k {
                out.push(t.name.clone());
            }
        });
    }
    out
}

fn needs_events(c: &pb::Condition) -> bool {
    let mut any = false;
    walk(c, &mut |k| {
        if let Kind::Performed(p) | Kind::NotPerformed(p) = k {
            any |= !p.filters.is_empty();
        }
    });
    any
}

/// Calls `f` on every condition of the tree, depth first.
pub fn walk(c: &pb::Condition, f: &mut impl FnMut(&Kind)) {
    let Some(k) = &c.kind else { return };
    f(k);
    match k {
        Kind::All(v) | Kind::Any(v) => v.of.iter().for_each(|c| walk(c, f)),
        Kind::Not(c) => walk(c, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
