//! Segment membership and the change feed of a partition.
//!
//! | CF        | key                               | value |
//! |-----------|-----------------------------------|-------|
//! | `members` | segment 0x1f entity id (u64 BE)   | [`MemberRow`], postcard: when the customer entered and (0: still in) left |
//! | `feed`    | sequence number (u64 BE)          | [`FeedEntry`], postcard |
//!
//! The membership of a customer lives in the partition of its cluster-wide
//! id (`partition_of_entity`), so it is decided in one place whatever the
//! layout. Rows hold entity ids and segment names, no personal value.
//! Every change of membership appends an entry to the feed under the next
//! sequence number; entries are written in order, so a reader that has
//! seen sequence number `n` has seen every entry before it.

use std::collections::VecDeque;

use rocksdb::{Direction, IteratorMode};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::rocks::{corrupt, io, RocksStore, IN_FLIGHT};
use crate::engine::store::StoreError;
use crate::engine::EntityId;

/// Column families of segment membership.
pub const MEMBERSHIP_CFS: [&str; 2] = ["members", "feed"];

/// When a customer entered a segment, and left it (0: still in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub entered_at_ms: i64,
    pub left_at_ms: i64,
}

impl MemberRow {
    pub fn is_in(&self) -> bool {
        self.left_at_ms == 0
    }
}

/// What happened to a customer's membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    Entered,
    Left,
    /// The customer was merged into another (`into`): it is gone, and the
    /// customer it joined keeps its own membership.
    Merged,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEntry {
    pub seq: u64,
    pub change: Change,
    pub segment: String,
    pub entity: EntityId,
    /// With `Merged`: the customer it was merged into.
    pub into: EntityId,
    pub at_ms: i64,
}

/// Member rows written but perhaps not yet on disk: the pending batch's
/// and those of the last batches handed to the writer. Reads that decide
/// what to write look here first.
#[derive(Default)]
pub struct Overlay {
    pending: FxHashMap<Vec<u8>, MemberRow>,
    flushed: VecDeque<FxHashMap<Vec<u8>, MemberRow>>,
}

impl Overlay {
    fn get(&self, key: &[u8]) -> Option<MemberRow> {
        std::iter::once(&self.pending)
            .chain(self.flushed.iter().rev())
            .find_map(|m| m.get(key).copied())
    }

    /// Rows under `prefix`, newest state of each.
    fn under(&self, prefix: &[u8]) -> FxHashMap<Vec<u8>, MemberRow> {
        let mut out = FxHashMap::default();
        for m in self.flushed.iter().chain(std::iter::once(&self.pending)) {
            for (k, v) in m.iter().filter(|(k, _)| k.starts_with(prefix)) {
                out.insert(k.clone(), *v);
            }
        }
        out
    }

    /// The pending batch went to the writer.
    pub fn rotate(&mut self) {
        if self.pending.is_empty() && self.flushed.is_empty() {
            return;
        }
        self.flushed.push_back(std::mem::take(&mut self.pending));
        while self.flushed.len() > IN_FLIGHT {
            self.flushed.pop_front();
        }
    }

    fn forget(&mut self, prefix: &[u8]) {
        for m in std::iter::once(&mut self.pending).chain(self.flushed.iter_mut()) {
            m.retain(|k, _| !k.starts_with(prefix));
        }
    }
}

fn segment_prefix(segment: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(segment.len() + 9);
    k.extend_from_slice(segment.as_bytes());
    k.push(0x1f);
    k
}

fn member_key(segment: &str, entity: EntityId) -> Vec<u8> {
    let mut k = segment_prefix(segment);
    k.extend_from_slice(&entity.to_be_bytes());
    k
}

fn decode_row(k: &[u8], v: &[u8]) -> Result<MemberRow, StoreError> {
    postcard::from_bytes(v).map_err(|_| corrupt("member row", k))
}

impl RocksStore {
    /// A customer's row for a segment (written or in flight).
    pub fn member_row(
        &self,
        segment: &str,
        entity: EntityId,
    ) -> Result<Option<MemberRow>, StoreError> {
        let key = member_key(segment, entity);
        if let Some(r) = self.members_recent.get(&key) {
            return Ok(Some(r));
        }
        match self.db.get_cf(self.cf("members"), &key).map_err(io)? {
            Some(v) => decode_row(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Writes a customer's row for a segment (pending batch).
    pub fn put_member_row(&mut self, segment: &str, entity: EntityId, row: MemberRow) {
        let key = member_key(segment, entity);
        let value = postcard::to_stdvec(&row).unwrap_or_default();
        let mut b = std::mem::take(&mut self.pending);
        b.put_cf(self.cf("members"), &key, value);
        self.pending = b;
        self.members_recent.pending.insert(key, row);
    }

    /// Current members of a segment after `after`, ascending, at most
    /// `limit`, with when they entered.
    pub fn members(
        &self,
        segment: &str,
        after: EntityId,
        limit: usize,
    ) -> Result<Vec<(EntityId, i64)>, StoreError> {
        let prefix = segment_prefix(segment);
        let start = member_key(segment, after.saturating_add(1));
        let mut recent = self.members_recent.under(&prefix);
        let mut out: std::collections::BTreeMap<EntityId, MemberRow> = Default::default();
        let mut current = 0;
        let iter = self.db.iterator_cf(
            self.cf("members"),
            IteratorMode::From(&start, Direction::Forward),
        );
        for kv in iter {
            let (k, v) = kv.map_err(io)?;
            if !k.starts_with(&prefix) || current >= limit {
                break;
            }
            let row = recent
                .remove(&k[..])
                .map_or_else(|| decode_row(&k, &v), Ok)?;
            current += usize::from(row.is_in());
            out.insert(entity_of(&k, prefix.len())?, row);
        }
        // Rows in flight: those past the scan are cut by `take` below.
        for (k, row) in recent {
            let e = entity_of(&k, prefix.len())?;
            if e > after {
                out.insert(e, row);
            }
        }
        Ok(out
            .into_iter()
            .filter(|(_, r)| r.is_in())
            .take(limit)
            .map(|(e, r)| (e, r.entered_at_ms))
            .collect())
    }

    /// Drops every row of a segment (it was deleted).
    pub fn drop_segment_rows(&mut self, segment: &str) {
        let prefix = segment_prefix(segment);
        let mut end = prefix.clone();
        end.push(0xff);
        let mut b = std::mem::take(&mut self.pending);
        b.delete_range_cf(self.cf("members"), &prefix, &end);
        self.pending = b;
        self.members_recent.forget(&prefix);
    }

    /// Appends entries to the feed under the next sequence numbers (their
    /// `seq` is set here).
    pub fn append_feed(&mut self, entries: &mut [FeedEntry]) -> Result<(), StoreError> {
        let mut seq = match self.feed_seq {
            Some(s) => s,
            None => self.last_feed_seq()?,
        };
        let mut b = std::mem::take(&mut self.pending);
        for e in entries.iter_mut() {
            seq += 1;
            e.seq = seq;
            b.put_cf(
                self.cf("feed"),
                seq.to_be_bytes(),
                postcard::to_stdvec(e).unwrap_or_default(),
            );
        }
        self.pending = b;
        self.feed_seq = Some(seq);
        Ok(())
    }

    /// The sequence number of the newest feed entry on disk (0: none).
    pub fn feed_last(&self) -> Result<u64, StoreError> {
        self.last_feed_seq()
    }

    fn last_feed_seq(&self) -> Result<u64, StoreError> {
        match self
            .db
            .iterator_cf(self.cf("feed"), IteratorMode::End)
            .next()
        {
            None => Ok(0),
            Some(kv) => {
                let (k, _) = kv.map_err(io)?;
                let b: [u8; 8] = k[..].try_into().map_err(|_| corrupt("feed key", &k))?;
                Ok(u64::from_be_bytes(b))
            }
        }
    }

    /// Feed entries after `after` that are on disk, oldest first.
    pub fn feed_after(&self, after: u64, limit: usize) -> Result<Vec<FeedEntry>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        let iter = self.db.iterator_cf(
            self.cf("feed"),
            IteratorMode::From(&start, Direction::Forward),
        );
        for kv in iter.take(limit) {
            let (k, v) = kv.map_err(io)?;
            out.push(postcard::from_bytes(&v).map_err(|_| corrupt("feed entry", &k))?);
        }
        Ok(out)
    }
}

fn entity_of(k: &[u8], prefix: usize) -> Result<EntityId, StoreError> {
    let b: [u8; 8] = k
        .get(prefix..)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| corrupt("member key", k))?;
    Ok(u64::from_be_bytes(b))
}
