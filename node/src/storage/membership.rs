//! Segment membership and the change feed of a partition.
//!
//! | CF        | key                               | value |
//! |-----------|-----------------------------------|-------|
//! | `members` | segment 0x1f entity id (u64 BE)   | [`MemberRow`], postcard: when the customer entered and (0: still in) left |
//! | `feed`    | sequence number (u64 BE)          | [`FeedEntry`], postcard: a membership change or a trigger firing |
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
    /// Not a membership change: a trigger (named in `segment`) fired for
    /// the customer (`FeedEntry::fired`).
    Fired,
}

/// What fired, with [`Change::Fired`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// The record whose event opened the trigger.
    pub key: String,
    pub match_value: String,
    pub started_at_ms: i64,
    pub due_at_ms: i64,
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
    /// With `Fired`.
    pub fired: Option<Firing>,
}

/// Rows written, and prefixes dropped, in one batch.
struct Written<V> {
    rows: FxHashMap<Vec<u8>, V>,
    /// Prefixes of dropped rows (before `rows` of the same batch).
    dropped: Vec<Vec<u8>>,
}

impl<V> Default for Written<V> {
    fn default() -> Self {
        Written {
            rows: FxHashMap::default(),
            dropped: Vec::new(),
        }
    }
}

/// Small rows (member rows, trigger claims) written or dropped but perhaps
/// not yet so on disk: the pending batch's and those of the last batches
/// handed to the writer. Reads that decide what to write look here first.
pub struct Overlay<V> {
    pending: Written<V>,
    flushed: VecDeque<Written<V>>,
}

impl<V> Default for Overlay<V> {
    fn default() -> Self {
        Overlay {
            pending: Written::default(),
            flushed: VecDeque::new(),
        }
    }
}

impl<V: Copy> Overlay<V> {
    /// The newest state of a row not surely on disk: `Some(None)` dropped,
    /// `None` as on disk.
    pub(super) fn get(&self, key: &[u8]) -> Option<Option<V>> {
        for w in std::iter::once(&self.pending).chain(self.flushed.iter().rev()) {
            if let Some(r) = w.rows.get(key) {
                return Some(Some(*r));
            }
            if w.dropped.iter().any(|p| key.starts_with(p)) {
                return Some(None);
            }
        }
        None
    }

    /// Whether disk rows under `prefix` may have been dropped since, and
    /// the rows under it written since (newest state of each).
    fn under(&self, prefix: &[u8]) -> (bool, FxHashMap<Vec<u8>, V>) {
        let (mut dropped, mut out) = (false, FxHashMap::default());
        for w in self.flushed.iter().chain(std::iter::once(&self.pending)) {
            if w.dropped.iter().any(|p| p == prefix) {
                dropped = true;
                out.clear();
            }
            for (k, v) in w.rows.iter().filter(|(k, _)| k.starts_with(prefix)) {
                out.insert(k.clone(), *v);
            }
        }
        (dropped, out)
    }

    /// A row written in the pending batch.
    pub(super) fn put(&mut self, key: Vec<u8>, row: V) {
        self.pending.rows.insert(key, row);
    }

    /// The pending batch went to the writer.
    pub fn rotate(&mut self) {
        if self.pending.rows.is_empty()
            && self.pending.dropped.is_empty()
            && self.flushed.is_empty()
        {
            return;
        }
        self.flushed.push_back(std::mem::take(&mut self.pending));
        while self.flushed.len() > IN_FLIGHT {
            self.flushed.pop_front();
        }
    }

    fn drop_prefix(&mut self, prefix: &[u8]) {
        self.pending.rows.retain(|k, _| !k.starts_with(prefix));
        self.pending.dropped.push(prefix.to_vec());
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
            return Ok(r);
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
        self.members_recent.put(key, row);
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
        let (dropped, mut recent) = self.members_recent.under(&prefix);
        let mut out: std::collections::BTreeMap<EntityId, MemberRow> = Default::default();
        let mut current = 0;
        if dropped {
            // The disk rows are dropped in a batch not surely written yet.
            return only_current(recent, prefix.len(), after, limit);
        }
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
        // Rows in flight: those past the scan are cut by the limit.
        for (k, row) in recent {
            let e = entity_of(&k, prefix.len())?;
            if e > after {
                out.insert(e, row);
            }
        }
        Ok(first_current(out, limit))
    }

    /// Drops every row of a segment (it was deleted).
    pub fn drop_segment_rows(&mut self, segment: &str) {
        let prefix = segment_prefix(segment);
        // Every key under the prefix sorts before the name followed by the
        // next byte after the separator.
        let mut end = prefix.clone();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let mut b = std::mem::take(&mut self.pending);
        b.delete_range_cf(self.cf("members"), &prefix, &end);
        self.pending = b;
        self.members_recent.drop_prefix(&prefix);
    }

    /// Reads the feed's last sequence number if not yet known, so that
    /// appending cannot fail.
    pub fn load_feed_seq(&mut self) -> Result<(), StoreError> {
        if self.feed_seq.is_none() {
            self.feed_seq = Some(self.last_feed_seq()?);
        }
        Ok(())
    }

    /// Appends entries to the feed under the next sequence numbers (their
    /// `seq` is set here). Call [`RocksStore::load_feed_seq`] first.
    pub fn append_feed(&mut self, entries: &mut [FeedEntry]) {
        let mut seq = self.feed_seq.unwrap_or(0);
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
    }

    /// The sequence number of the newest feed entry, written or in flight
    /// (0: none).
    pub fn feed_last(&self) -> Result<u64, StoreError> {
        match self.feed_seq {
            Some(s) => Ok(s),
            None => self.last_feed_seq(),
        }
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

    /// Deletes the oldest feed entries on disk that were written before
    /// `before_ms`, at most `limit`, stopping at the first newer one; the
    /// newest entry is always kept, so the sequence goes on after a reopen
    /// and a reader can tell entries were trimmed after its position (the
    /// next one it reads is not the next number). The number deleted.
    pub fn trim_feed(&mut self, before_ms: i64, limit: usize) -> Result<usize, StoreError> {
        let newest = self.last_feed_seq()?;
        let mut doomed = Vec::new();
        for kv in self
            .db
            .iterator_cf(self.cf("feed"), IteratorMode::Start)
            .take(limit)
        {
            let (k, v) = kv.map_err(io)?;
            let e: FeedEntry = postcard::from_bytes(&v).map_err(|_| corrupt("feed entry", &k))?;
            if e.seq >= newest || e.at_ms >= before_ms {
                break;
            }
            doomed.push(k);
        }
        let mut b = std::mem::take(&mut self.pending);
        for k in &doomed {
            b.delete_cf(self.cf("feed"), k);
        }
        self.pending = b;
        Ok(doomed.len())
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

/// The first `limit` current members of rows sorted by entity.
fn first_current(
    rows: std::collections::BTreeMap<EntityId, MemberRow>,
    limit: usize,
) -> Vec<(EntityId, i64)> {
    rows.into_iter()
        .filter(|(_, r)| r.is_in())
        .take(limit)
        .map(|(e, r)| (e, r.entered_at_ms))
        .collect()
}

/// The current members after `after` among rows written since a drop.
fn only_current(
    rows: FxHashMap<Vec<u8>, MemberRow>,
    prefix: usize,
    after: EntityId,
    limit: usize,
) -> Result<Vec<(EntityId, i64)>, StoreError> {
    let mut sorted = std::collections::BTreeMap::new();
    for (k, r) in rows {
        let e = entity_of(&k, prefix)?;
        if e > after {
            sorted.insert(e, r);
        }
    }
    Ok(first_current(sorted, limit))
}

fn entity_of(k: &[u8], prefix: usize) -> Result<EntityId, StoreError> {
    let b: [u8; 8] = k
        .get(prefix..)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| corrupt("member key", k))?;
    Ok(u64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::Store;
    use crate::storage::rocks::StoreOptions;

    fn open(dir: &std::path::Path) -> RocksStore {
        RocksStore::open(dir, &StoreOptions::default())
            .unwrap()
            .store
    }

    fn entered(at: i64) -> MemberRow {
        MemberRow {
            entered_at_ms: at,
            left_at_ms: 0,
        }
    }

    fn entry(segment: &str, entity: EntityId) -> FeedEntry {
        FeedEntry {
            seq: 0,
            change: Change::Entered,
            segment: segment.into(),
            entity,
            into: 0,
            at_ms: 1,
            fired: None,
        }
    }

    #[test]
    fn rows_are_read_back_before_and_after_they_reach_disk() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        s.put_member_row("vip", 7, entered(5));
        // In the pending batch: already what the next command reads.
        assert_eq!(s.member_row("vip", 7).unwrap(), Some(entered(5)));
        assert_eq!(s.members("vip", 0, 10).unwrap(), [(7, 5)]);
        s.flush().unwrap();
        assert_eq!(s.member_row("vip", 7).unwrap(), Some(entered(5)));
        // A segment's prefix never reaches another segment's rows.
        s.put_member_row("vip2", 7, entered(6));
        s.put_member_row("vi", 7, entered(6));
        s.flush().unwrap();
        assert_eq!(s.members("vip", 0, 10).unwrap(), [(7, 5)]);
    }

    #[test]
    fn members_are_paged_in_id_order_without_those_who_left() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        for e in [9, 3, 5, 1, u64::MAX] {
            s.put_member_row("a", e, entered(e as i64 % 100));
        }
        s.flush().unwrap();
        s.put_member_row(
            "a",
            5,
            MemberRow {
                entered_at_ms: 5,
                left_at_ms: 8,
            },
        );
        s.put_member_row("a", 4, entered(4)); // in flight, between disk rows
        let ids = |v: Vec<(EntityId, i64)>| v.into_iter().map(|(e, _)| e).collect::<Vec<_>>();
        assert_eq!(ids(s.members("a", 0, 2).unwrap()), [1, 3]);
        assert_eq!(ids(s.members("a", 3, 2).unwrap()), [4, 9]);
        assert_eq!(ids(s.members("a", 9, 10).unwrap()), [u64::MAX]);
    }

    #[test]
    fn a_dropped_segment_is_empty_at_once_and_on_disk_whatever_its_ids() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        s.put_member_row("a", 2, entered(1));
        s.put_member_row("a", u64::MAX, entered(1));
        s.put_member_row("b", 2, entered(1));
        s.flush().unwrap();
        s.drop_segment_rows("a");
        assert_eq!(s.member_row("a", 2).unwrap(), None);
        assert!(s.members("a", 0, 10).unwrap().is_empty());
        // Written again after the drop, in the same batch.
        s.put_member_row("a", 3, entered(9));
        assert_eq!(s.members("a", 0, 10).unwrap(), [(3, 9)]);
        s.flush().unwrap();
        assert_eq!(s.members("a", 0, 10).unwrap(), [(3, 9)]);
        assert_eq!(s.member_row("a", u64::MAX).unwrap(), None);
        assert_eq!(s.members("b", 0, 10).unwrap(), [(2, 1)]);
    }

    #[test]
    fn trimming_drops_old_entries_in_order_but_keeps_the_newest_and_the_numbering() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = open(dir.path());
            s.load_feed_seq().unwrap();
            let mut e: Vec<FeedEntry> = (1..=5).map(|i| entry("vip", i)).collect();
            for (i, x) in e.iter_mut().enumerate() {
                x.at_ms = [10, 20, 5, 40, 50][i];
            }
            s.append_feed(&mut e);
            s.flush().unwrap();
            // Stops at the first entry not old enough (20), even though a
            // later one (5) is older: what is left stays a suffix.
            assert_eq!(s.trim_feed(15, 100).unwrap(), 1);
            s.flush().unwrap();
            let left: Vec<u64> = s.feed_after(0, 10).unwrap().iter().map(|e| e.seq).collect();
            assert_eq!(left, [2, 3, 4, 5]);
            assert_eq!(s.trim_feed(i64::MAX, 2).unwrap(), 2, "at most the limit");
            s.flush().unwrap();
            assert_eq!(s.trim_feed(i64::MAX, 100).unwrap(), 1, "the newest is kept");
            s.flush().unwrap();
        }
        let mut s = open(dir.path());
        assert_eq!(s.feed_last().unwrap(), 5);
        s.load_feed_seq().unwrap();
        let mut e = vec![entry("vip", 9)];
        s.append_feed(&mut e);
        assert_eq!(e[0].seq, 6, "numbering goes on");
    }

    #[test]
    fn feed_numbers_go_on_after_a_reopen_and_now_counts_entries_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = open(dir.path());
            assert_eq!(s.feed_last().unwrap(), 0);
            s.load_feed_seq().unwrap();
            let mut e = vec![entry("a", 1), entry("a", 2)];
            s.append_feed(&mut e);
            assert_eq!((e[0].seq, e[1].seq), (1, 2));
            assert_eq!(s.feed_last().unwrap(), 2);
            s.flush().unwrap();
        }
        let mut s = open(dir.path());
        assert_eq!(s.feed_last().unwrap(), 2);
        s.load_feed_seq().unwrap();
        let mut e = vec![entry("b", 3)];
        s.append_feed(&mut e);
        assert_eq!(e[0].seq, 3);
        s.flush().unwrap();
        let after1: Vec<u64> = s.feed_after(1, 10).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(after1, [2, 3]);
        assert_eq!(s.feed_after(0, 1).unwrap()[0].entity, 1);
    }
}
