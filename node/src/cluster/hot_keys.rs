//! Cluster-wide demotion of blocking keys.
//!
//! A blocking key held by more than `max_key_size` records stops producing
//! candidates. On one engine that is a local count; in a cluster the count
//! must be the cluster's, or the partition count would decide which pairs
//! are compared. Every write already reaches every partition (the probe
//! runs on all of them after the apply at the record's home), and each
//! reports how many of its records hold the record's keys. The coordinator sums them: a key
//! above the threshold is demoted at every partition that holds it and has
//! not demoted it yet (`DemoteKeys`, a command in each partition's log).
//! Of the writes of one key, the last applied sees every other one in its
//! counts, so a key held by too many records ends up demoted wherever it is
//! held, whatever the order. When an update or delete releases a demoted
//! key, the coordinator counts it everywhere again; back within the
//! threshold, it is lifted everywhere (`UndemoteKeys`) and the records
//! holding it are probed again, so that the pairs it supports are found as
//! if the removed records had never been there. Writes are not serialised
//! across coordinators, so each demotion is followed by a recount (a
//! delete may have raced with the counts) and each lifting too (an insert
//! may have seen the key still demoted and left it to us).

use std::collections::BTreeMap;

use futures::future::join_all;

use super::write::Writer;
use crate::engine::resolver::KeyCount;
use crate::error::NodeError;
use crate::partition::request::{DemoteKeys, Holders, KeyCounts, UndemoteKeys};

/// One key's reports: per partition, the largest count reported and
/// whether the partition has demoted it.
type Reports = Vec<(u32, u32, bool)>;

/// The reports grouped by key, in key order.
fn tally(counts: &[(u32, KeyCount)]) -> Vec<(u64, Reports)> {
    let mut v: Vec<(u64, u32, u32, bool)> = counts
        .iter()
        .map(|&(p, c)| (c.key, p, c.count, c.hot))
        .collect();
    v.sort_unstable();
    let mut out: Vec<(u64, Reports)> = Vec::new();
    for (key, p, n, hot) in v {
        if out.last().is_none_or(|(k, _)| *k != key) {
            out.push((key, Vec::new()));
        }
        let reports = &mut out.last_mut().expect("pushed above").1;
        match reports.last_mut() {
            Some(last) if last.0 == p => {
                last.1 = last.1.max(n);
                last.2 |= hot;
            }
            _ => reports.push((p, n, hot)),
        }
    }
    out
}

fn total(reports: &Reports) -> usize {
    reports.iter().map(|&(_, n, _)| n as usize).sum()
}

impl Writer {
    /// Demotes, where they are held and not yet demoted, the keys that the
    /// partitions' counts put above the threshold; then counts those keys
    /// again, in case a delete raced with the counts.
    pub(super) async fn settle_hot_keys(
        &self,
        at_ms: i64,
        counts: &[(u32, KeyCount)],
    ) -> Result<(), NodeError> {
        let demoted = self.demote_where_held(at_ms, counts).await?;
        if !demoted.is_empty() {
            self.lift_if_within(at_ms, demoted).await?;
        }
        Ok(())
    }

    /// Counts demoted keys that fewer records hold now; those back within
    /// the threshold are lifted everywhere and their holders probed again.
    /// The lifted keys are then counted again, in case an insert raced with
    /// the counts (its own probe saw them still demoted).
    pub(super) async fn release_hot_keys(
        &self,
        at_ms: i64,
        keys: Vec<u64>,
    ) -> Result<(), NodeError> {
        let lifted = self.lift_if_within(at_ms, keys).await?;
        if !lifted.is_empty() {
            let counts = self.count_everywhere(lifted).await?;
            self.demote_where_held(at_ms, &counts).await?;
        }
        Ok(())
    }

    /// Every partition's count of some keys.
    async fn count_everywhere(
        &self,
        mut keys: Vec<u64>,
    ) -> Result<Vec<(u32, KeyCount)>, NodeError> {
        keys.sort_unstable();
        keys.dedup();
        let mut counts = Vec::new();
        if keys.is_empty() {
            return Ok(counts);
        }
        for (p, r) in self.assembler.router.all(KeyCounts { keys }).await {
            counts.extend(r?.into_iter().map(|c| (p, c)));
        }
        Ok(counts)
    }

    /// Demotes the keys above the threshold where they are held and not
    /// demoted yet. Returns the keys demoted anywhere.
    async fn demote_where_held(
        &self,
        at_ms: i64,
        counts: &[(u32, KeyCount)],
    ) -> Result<Vec<u64>, NodeError> {
        let max = self.assembler.max_key_size;
        let mut demote: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        let mut keys = Vec::new();
        for (key, parts) in tally(counts) {
            if total(&parts) <= max {
                continue;
            }
            for (p, n, hot) in parts {
                if n > 0 && !hot {
                    demote.entry(p).or_default().push(key);
                    keys.push(key);
                }
            }
        }
        let calls = demote
            .into_iter()
            .map(|(p, keys)| self.assembler.router.call(p, DemoteKeys { at_ms, keys }));
        for r in join_all(calls).await {
            r?;
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    /// Lifts, where they are demoted, the keys whose count over the whole
    /// cluster is within the threshold, and probes their holders again.
    /// Returns the keys lifted anywhere.
    async fn lift_if_within(&self, at_ms: i64, keys: Vec<u64>) -> Result<Vec<u64>, NodeError> {
        let counts = self.count_everywhere(keys).await?;
        let router = &self.assembler.router;
        let mut lift: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        let mut holders: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        let mut lifted = Vec::new();
        for (key, parts) in tally(&counts) {
            if total(&parts) > self.assembler.max_key_size {
                continue;
            }
            for (p, n, hot) in parts {
                if hot {
                    lift.entry(p).or_default().push(key);
                    lifted.push(key);
                }
                if n > 0 {
                    holders.entry(p).or_default().push(key);
                }
            }
        }
        if lifted.is_empty() {
            return Ok(lifted);
        }
        let calls = lift
            .into_iter()
            .map(|(p, keys)| router.call(p, UndemoteKeys { at_ms, keys }));
        for r in join_all(calls).await {
            r?;
        }
        let mut items = Vec::new();
        for (p, keys) in holders {
            items.extend(router.call(p, Holders { keys }).await?);
        }
        if !items.is_empty() {
            self.probe_and_link(items).await?;
        }
        lifted.sort_unstable();
        lifted.dedup();
        Ok(lifted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(key: u64, count: u32, hot: bool) -> KeyCount {
        KeyCount { key, count, hot }
    }

    #[test]
    fn a_partition_counts_once_with_its_largest_report() {
        // Partition 1 reported key 7 twice in one batch (3, then 4).
        let t = tally(&[
            (2, c(7, 5, true)),
            (1, c(7, 3, false)),
            (1, c(9, 1, false)),
            (1, c(7, 4, false)),
        ]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0], (7, vec![(1, 4, false), (2, 5, true)]));
        assert_eq!(total(&t[0].1), 9);
    }
}
