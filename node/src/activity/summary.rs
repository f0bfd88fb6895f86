//! Mergeable summaries of a record's events: one per record, event type
//! and day (count; count, sum, minimum and maximum of the amounts; first
//! and last time). Merging is associative and commutative on integers, so
//! a customer's summary is the same whatever order its events arrived in
//! and however its records are grouped; the store merges them with a
//! RocksDB merge operator, so writing an event never reads.

use serde::{Deserialize, Serialize};

use super::event::Body;

/// Summary of some events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    /// Events that carried an amount.
    pub amounts: u64,
    /// Sum (wide enough never to saturate: merging stays associative),
    /// minimum and maximum of the amounts, in millionths.
    pub sum: i128,
    pub min: i64,
    pub max: i64,
    /// First and last event time (ms since the Unix epoch).
    pub first: i64,
    pub last: i64,
}

impl Summary {
    /// The summary of one event.
    pub fn of(body: &Body) -> Summary {
        let a = body.amount.unwrap_or(0);
        Summary {
            count: 1,
            amounts: u64::from(body.amount.is_some()),
            sum: i128::from(a),
            min: if body.amount.is_some() { a } else { i64::MAX },
            max: if body.amount.is_some() { a } else { i64::MIN },
            first: body.at_ms,
            last: body.at_ms,
        }
    }

    /// Adds another summary to this one.
    pub fn merge(&mut self, o: &Summary) {
        self.count += o.count;
        self.amounts += o.amounts;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }

    /// The empty summary (the identity of `merge`).
    pub fn empty() -> Summary {
        Summary {
            count: 0,
            amounts: 0,
            sum: 0,
            min: i64::MAX,
            max: i64::MIN,
            first: i64::MAX,
            last: i64::MIN,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    pub fn decode(b: &[u8]) -> Option<Summary> {
        postcard::from_bytes(b).ok()
    }
}

/// Separates the parts of activity keys (never part of a source, record
/// id, event id or type).
pub const SEP: u8 = 0x1f;

/// The prefix of every activity row of a record: its key, then SEP.
pub fn record_prefix(record_key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(record_key.len() + 1);
    k.extend_from_slice(record_key.as_bytes());
    k.push(SEP);
    k
}

/// The row of a record's summary of one type on one day.
pub fn summary_key(record_key: &str, etype: &str, day: i32) -> Vec<u8> {
    let mut k = record_prefix(record_key);
    k.extend_from_slice(etype.as_bytes());
    k.push(SEP);
    // Offset so that days sort in byte order.
    k.extend_from_slice(&((day as i64 + (1i64 << 31)) as u32).to_be_bytes());
    k
}

/// (type, day) of a summary row, given its record's prefix length.
pub fn parse_summary_key(k: &[u8], prefix: usize) -> Option<(String, i32)> {
    let rest = k.get(prefix..)?;
    if rest.len() < 5 || rest[rest.len() - 5] != SEP {
        return None;
    }
    let (t, d) = rest.split_at(rest.len() - 5);
    let day = u32::from_be_bytes(d[1..].try_into().ok()?) as i64 - (1i64 << 31);
    Some((String::from_utf8(t.to_vec()).ok()?, day as i32))
}

/// The RocksDB merge operator of the summaries: the merge of the existing
/// value and every operand (a corrupt operand is skipped, not fatal).
pub fn merge_operator(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    let mut acc = existing
        .and_then(Summary::decode)
        .unwrap_or_else(Summary::empty);
    for op in operands {
        if let Some(s) = Summary::decode(op) {
            acc.merge(&s);
        }
    }
    Some(acc.encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn body(at_ms: i64, amount: Option<i64>) -> Body {
        Body {
            etype: "order_completed".into(),
            at_ms,
            amount,
            currency: String::new(),
            props: vec![],
        }
    }

    #[test]
    fn summary_keys_round_trip_and_sort_by_day() {
        let k = summary_key("shop\u{1f}c1", "page_view", -3);
        let p = record_prefix("shop\u{1f}c1").len();
        assert_eq!(parse_summary_key(&k, p), Some(("page_view".into(), -3)));
        assert!(summary_key("s\u{1f}r", "t", 5) < summary_key("s\u{1f}r", "t", 6));
        assert!(summary_key("s\u{1f}r", "t", -1) < summary_key("s\u{1f}r", "t", 0));
    }

    #[test]
    fn events_without_amount_do_not_move_min_and_max() {
        let mut s = Summary::of(&body(10, Some(500)));
        s.merge(&Summary::of(&body(5, None)));
        assert_eq!(
            (s.count, s.amounts, s.sum, s.min, s.max),
            (2, 1, 500, 500, 500)
        );
        assert_eq!((s.first, s.last), (5, 10));
        assert_eq!(Summary::decode(&s.encode()), Some(s));
    }

    proptest! {
        /// Whatever the order and grouping of the events, the merged
        /// summary is the same: activity never depends on arrival order.
        #[test]
        fn merging_is_order_and_grouping_free(
            evs in prop::collection::vec((0i64..1_000_000, prop::option::of(-1000i64..1_000_000)), 1..40),
            cut in 0usize..40,
        ) {
            let all: Vec<Summary> = evs.iter().map(|(t, a)| Summary::of(&body(*t, *a))).collect();
            let mut forward = Summary::empty();
            for s in &all { forward.merge(s); }
            let mut backward = Summary::empty();
            for s in all.iter().rev() { backward.merge(s); }
            let cut = cut.min(all.len());
            let (mut left, mut right) = (Summary::empty(), Summary::empty());
            for s in &all[..cut] { left.merge(s); }
            for s in &all[cut..] { right.merge(s); }
            right.merge(&left);
            prop_assert_eq!(forward, backward);
            prop_assert_eq!(forward, right);
        }
    }
}
