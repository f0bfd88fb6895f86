//! Events and their summaries in a partition's RocksDB.
//!
//! | CF          | key                                   | value |
//! |-------------|---------------------------------------|-------|
//! | `events`    | record key 0x1f event id              | the event's [`Body`], postcard |
//! | `summaries` | record key 0x1f type 0x1f day (u32 BE)| [`Summary`], merged by a merge operator |
//! | `orphans`   | record key                            | empty: events kept for a record this partition does not hold |
//!
//! A record's rows share the prefix `record key 0x1f` (a record id never
//! contains 0x1f), so deleting a record deletes its activity with two range
//! deletions. Writing an event adds its row and merges its summary into the
//! day's row without reading it. Events go into the same pending batch as
//! every other write of the partition's command, so nothing is
//! acknowledged before it is durable.
//!
//! An event is stored once: a resend (same record, same id) is found in
//! the batches not yet written ([`Recent`]) or on disk, and compared byte
//! for byte with the stored one.

use std::collections::VecDeque;

use rocksdb::{Direction, IteratorMode};
use rustc_hash::FxHashMap;

use super::rocks::{corrupt, io, RocksStore};
use crate::activity::summary::{parse_summary_key, record_prefix, summary_key, SEP};
use crate::activity::{Body, DaySummary, StoredEvent, Summary};
use crate::engine::store::StoreError;

/// Column families of activity.
pub const ACTIVITY_CFS: [&str; 3] = ["events", "summaries", "orphans"];

/// Batches handed to the writer thread that may not be on disk yet: the
/// writer queue holds two and writes a third.
const IN_FLIGHT: usize = 4;

/// Event rows written but perhaps not yet readable from RocksDB: those of
/// the pending batch and of the last batches handed to the writer.
#[derive(Default)]
pub struct Recent {
    pending: FxHashMap<Vec<u8>, Vec<u8>>,
    flushed: VecDeque<FxHashMap<Vec<u8>, Vec<u8>>>,
}

impl Recent {
    fn get(&self, k: &[u8]) -> Option<&Vec<u8>> {
        self.pending
            .get(k)
            .or_else(|| self.flushed.iter().rev().find_map(|m| m.get(k)))
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

    fn forget_prefix(&mut self, prefix: &[u8]) {
        self.pending.retain(|k, _| !k.starts_with(prefix));
        for m in &mut self.flushed {
            m.retain(|k, _| !k.starts_with(prefix));
        }
    }

    /// True when some event of the record may still be in flight.
    fn holds_prefix(&self, prefix: &[u8]) -> bool {
        std::iter::once(&self.pending)
            .chain(self.flushed.iter())
            .any(|m| m.keys().any(|k| k.starts_with(prefix)))
    }
}

/// Whether an event is new to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    New,
    /// Stored before with the same content.
    Duplicate,
    /// Stored before with other content.
    Conflict,
}

fn event_key(record_key: &str, event_id: &str) -> Vec<u8> {
    let mut k = record_prefix(record_key);
    k.extend_from_slice(event_id.as_bytes());
    k
}

/// The end of a record's prefix range.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last = SEP + 1;
    }
    end
}

impl RocksStore {
    /// Whether an event (record key, id, encoded body) is new, a resend,
    /// or a conflicting reuse of its id.
    pub fn event_status(
        &self,
        record_key: &str,
        event_id: &str,
        body: &[u8],
    ) -> Result<EventStatus, StoreError> {
        let k = event_key(record_key, event_id);
        let stored = match self.recent.get(&k) {
            Some(v) => Some(v.clone()),
            None => self.db.get_cf(self.cf("events"), &k).map_err(io)?,
        };
        Ok(match stored {
            None => EventStatus::New,
            Some(v) if v == body => EventStatus::Duplicate,
            Some(_) => EventStatus::Conflict,
        })
    }

    /// Adds an event (checked new) and its summary to the pending batch.
    pub fn put_event(&mut self, record_key: &str, event_id: &str, body: &Body) {
        let k = event_key(record_key, event_id);
        let v = body.encode();
        let summary = Summary::of(body).encode();
        let sk = summary_key(record_key, &body.etype, body.day());
        let mut b = std::mem::take(&mut self.pending);
        let (events, summaries) = (self.cf("events"), self.cf("summaries"));
        b.put_cf(events, &k, &v);
        b.merge_cf(summaries, sk, summary);
        self.pending = b;
        self.recent.pending.insert(k, v);
    }

    /// Deletes a record's events and summaries (pending batch).
    pub fn delete_activity(&mut self, record_key: &str) {
        let prefix = record_prefix(record_key);
        let end = prefix_end(&prefix);
        let mut b = std::mem::take(&mut self.pending);
        let (events, summaries) = (self.cf("events"), self.cf("summaries"));
        b.delete_range_cf(events, &prefix, &end);
        b.delete_range_cf(summaries, &prefix, &end);
        self.pending = b;
        self.recent.forget_prefix(&prefix);
        self.set_orphan(record_key, false);
    }

    /// Marks (or clears) a record key whose events this partition keeps
    /// although it does not hold the record.
    pub fn set_orphan(&mut self, record_key: &str, on: bool) {
        let mut b = std::mem::take(&mut self.pending);
        let cf = self.cf("orphans");
        if on {
            b.put_cf(cf, record_key, []);
        } else {
            b.delete_cf(cf, record_key);
        }
        self.pending = b;
    }

    /// Record keys marked as orphans.
    pub fn orphans(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.iterator_cf(self.cf("orphans"), IteratorMode::Start) {
            let (k, _) = kv.map_err(io)?;
            out.push(String::from_utf8(k.to_vec()).map_err(|_| corrupt("orphan key", &k))?);
        }
        Ok(out)
    }

    /// True when events of the record may be in batches not yet written
    /// (a caller about to read them flushes first).
    pub fn events_in_flight(&self, record_key: &str) -> bool {
        self.recent.holds_prefix(&record_prefix(record_key))
    }

    /// Every stored event of a record.
    pub fn events_of(&self, record_key: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let prefix = record_prefix(record_key);
        let mut out = Vec::new();
        self.scan("events", &prefix, |k, v| match Body::decode(v) {
            Some(body) => {
                out.push(StoredEvent {
                    key: record_key.to_string(),
                    event_id: String::from_utf8_lossy(&k[prefix.len()..]).into_owned(),
                    body,
                });
                Ok(())
            }
            None => Err(corrupt("event", k)),
        })?;
        Ok(out)
    }

    /// Every summary row of a record.
    pub fn summaries_of(&self, record_key: &str) -> Result<Vec<DaySummary>, StoreError> {
        let prefix = record_prefix(record_key);
        let mut out = Vec::new();
        self.scan("summaries", &prefix, |k, v| {
            let (etype, day) =
                parse_summary_key(k, prefix.len()).ok_or_else(|| corrupt("summary key", k))?;
            let summary = Summary::decode(v).ok_or_else(|| corrupt("summary", k))?;
            out.push(DaySummary {
                key: record_key.to_string(),
                etype,
                day,
                summary,
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// Merged summaries of one event type per record key, over the whole
    /// partition (for the RFM cut points).
    pub fn summaries_of_type(&self, etype: &str) -> Result<Vec<(String, Summary)>, StoreError> {
        let mut out: Vec<(String, Summary)> = Vec::new();
        for kv in self
            .db
            .iterator_cf(self.cf("summaries"), IteratorMode::Start)
        {
            let (k, v) = kv.map_err(io)?;
            let Some(cut) = k.iter().position(|&b| b == SEP) else {
                return Err(corrupt("summary key", &k));
            };
            // Skip the record id: the key is source SEP id SEP type SEP day.
            let Some(id_end) = k[cut + 1..].iter().position(|&b| b == SEP) else {
                return Err(corrupt("summary key", &k));
            };
            let prefix = cut + 1 + id_end + 1;
            let Some((t, _)) = parse_summary_key(&k, prefix) else {
                return Err(corrupt("summary key", &k));
            };
            if t != etype {
                continue;
            }
            let s = Summary::decode(&v).ok_or_else(|| corrupt("summary", &k))?;
            let key = String::from_utf8_lossy(&k[..prefix - 1]).into_owned();
            match out.last_mut() {
                Some((last, acc)) if *last == key => acc.merge(&s),
                _ => out.push((key, s)),
            }
        }
        Ok(out)
    }

    /// Calls `f` on every row of a CF under a prefix.
    fn scan(
        &self,
        cf: &str,
        prefix: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let it = self
            .db
            .iterator_cf(self.cf(cf), IteratorMode::From(prefix, Direction::Forward));
        for kv in it {
            let (k, v) = kv.map_err(io)?;
            if !k.starts_with(prefix) {
                break;
            }
            f(&k, &v)?;
        }
        Ok(())
    }
}
