//! Events and their summaries in a partition's RocksDB.
//!
//! | CF          | key                                   | value |
//! |-------------|---------------------------------------|-------|
//! | `events`    | record key 0x1f event id              | the event's [`Body`], postcard, sealed under the record key's data key ([`super::keys`]) |
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

use std::collections::{BTreeMap, VecDeque};

use rocksdb::{Direction, IteratorMode};
use rustc_hash::{FxHashMap, FxHashSet};

use super::rocks::{corrupt, io, RocksStore, IN_FLIGHT};
use crate::activity::summary::{parse_summary_key, record_prefix, summary_key, SEP};
use crate::activity::{Body, DaySummary, StoredEvent, Summary};
use crate::engine::store::StoreError;
use crate::privacy::consent::CONSENT_TYPE;
use crate::segments::triggers::SETTLED_TYPE;

/// Column families of activity.
pub const ACTIVITY_CFS: [&str; 3] = ["events", "summaries", "orphans"];

/// The event rows one batch writes and the rows (record prefixes or event
/// keys) it deletes.
#[derive(Default)]
struct Batch {
    rows: FxHashMap<Vec<u8>, Vec<u8>>,
    deleted: FxHashSet<Vec<u8>>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.deleted.is_empty()
    }
}

/// Event rows written or deleted but perhaps not yet so on disk: those of
/// the pending batch and of the last batches handed to the writer. Reads
/// that decide what to write (is this event new?) and hand-overs look here
/// before RocksDB.
#[derive(Default)]
pub struct Recent {
    pending: Batch,
    /// Oldest first.
    flushed: VecDeque<Batch>,
}

impl Recent {
    /// Newest first.
    fn newest_first(&self) -> impl Iterator<Item = &Batch> {
        std::iter::once(&self.pending).chain(self.flushed.iter().rev())
    }

    /// The latest not surely written state of an event row: `Some(Some)`
    /// written, `Some(None)` deleted, `None`: as on disk.
    fn lookup(&self, key: &[u8], prefix: &[u8]) -> Option<Option<&Vec<u8>>> {
        for b in self.newest_first() {
            if let Some(v) = b.rows.get(key) {
                return Some(Some(v));
            }
            if b.deleted.contains(key) || b.deleted.contains(prefix) {
                return Some(None);
            }
        }
        None
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

    /// Rows under `prefix` (or exactly `key`) are deleted by the pending batch.
    fn delete(&mut self, key: &[u8], is_prefix: bool) {
        let gone = |k: &Vec<u8>| {
            if is_prefix {
                k.starts_with(key)
            } else {
                k == key
            }
        };
        for b in std::iter::once(&mut self.pending).chain(self.flushed.iter_mut()) {
            b.rows.retain(|k, _| !gone(k));
        }
        self.pending.deleted.insert(key.to_vec());
    }

    /// True when some event row of the record may still be in flight.
    fn holds_prefix(&self, prefix: &[u8]) -> bool {
        self.newest_first().any(|b| {
            b.rows.keys().any(|k| k.starts_with(prefix))
                || b.deleted.iter().any(|k| k.starts_with(prefix))
        })
    }

    /// Replays the batches, oldest first, on rows read from disk.
    fn replay(&self, prefix: &[u8], rows: &mut BTreeMap<Vec<u8>, Vec<u8>>) {
        for b in self.flushed.iter().chain(std::iter::once(&self.pending)) {
            if b.deleted.contains(prefix) {
                rows.clear();
            }
            for k in b.deleted.iter().filter(|k| k.starts_with(prefix)) {
                rows.remove(k);
            }
            for (k, v) in b.rows.iter().filter(|(k, _)| k.starts_with(prefix)) {
                rows.insert(k.clone(), v.clone());
            }
        }
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

/// What an `events` value is sealed with: its row.
fn event_aad(row: &[u8]) -> Vec<u8> {
    let mut a = b"events\0".to_vec();
    a.extend_from_slice(row);
    a
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

/// Whether an event has a summary row: consent decisions and trigger
/// settlements are not activity (no trait, no "last seen" counts them).
fn summarised(body: &Body) -> bool {
    body.etype != CONSENT_TYPE && body.etype != SETTLED_TYPE
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
        let prefix = &k[..record_key.len() + 1];
        let stored = match self.recent.lookup(&k, prefix) {
            Some(v) => v.cloned(),
            None => match self.db.get_pinned_cf(self.cf("events"), &k).map_err(io)? {
                Some(v) => Some(self.open_sealed(record_key, &event_aad(&k), &v)?),
                None => None,
            },
        };
        Ok(match stored {
            None => EventStatus::New,
            Some(v) if v == body => EventStatus::Duplicate,
            Some(_) => EventStatus::Conflict,
        })
    }

    /// Adds an event (checked new) and its summary to the pending batch;
    /// `encoded` is `body` as [`Body::encode`] wrote it.
    pub fn put_event(
        &mut self,
        record_key: &str,
        event_id: &str,
        body: &Body,
        encoded: &[u8],
    ) -> Result<(), StoreError> {
        let k = event_key(record_key, event_id);
        let v = encoded.to_vec();
        let mut b = std::mem::take(&mut self.pending);
        let sealed = self.seal(record_key, &event_aad(&k), &v, &mut b);
        if let Ok(sealed) = &sealed {
            b.put_cf(self.cf("events"), &k, sealed);
            if summarised(body) {
                let sk = summary_key(record_key, &body.etype, body.day());
                b.merge_cf(self.cf("summaries"), sk, Summary::of(body).encode());
            }
            self.recent.pending.rows.insert(k, v);
        }
        self.pending = b;
        sealed.map(drop)
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
        self.recent.delete(&prefix, true);
        self.set_orphan(record_key, false);
    }

    /// (estimated number of events, bytes of the events and summaries in
    /// SST files and memtables), from RocksDB's properties.
    pub fn activity_size(&self) -> (u64, u64) {
        let prop = |cf: &str, name: &str| {
            self.db
                .property_int_value_cf(self.cf(cf), name)
                .ok()
                .flatten()
                .unwrap_or(0)
        };
        let events = prop("events", "rocksdb.estimate-num-keys");
        let bytes = ["events", "summaries"]
            .iter()
            .map(|cf| {
                prop(cf, "rocksdb.total-sst-files-size") + prop(cf, "rocksdb.size-all-mem-tables")
            })
            .sum();
        (events, bytes)
    }

    /// Every event of a record as this partition will hold it once its
    /// pending and in-flight batches are written (disk, then those
    /// batches replayed): what a hand-over sends.
    pub fn events_for_handover(&self, record_key: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let prefix = record_prefix(record_key);
        let mut rows: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        self.scan("events", &prefix, |k, v| {
            rows.insert(k.to_vec(), self.open_sealed(record_key, &event_aad(k), v)?);
            Ok(())
        })?;
        self.recent.replay(&prefix, &mut rows);
        rows.into_iter()
            .map(|(k, v)| {
                let body = Body::decode(&v).ok_or_else(|| corrupt("event", &k))?;
                Ok(StoredEvent {
                    key: record_key.to_string(),
                    event_id: String::from_utf8_lossy(&k[prefix.len()..]).into_owned(),
                    body,
                })
            })
            .collect()
    }

    /// Deletes some events of a record (handed over to its home) with point
    /// deletions, and rebuilds the record's summaries from the events left.
    /// Returns how many are left.
    pub fn drop_events(&mut self, record_key: &str, ids: &[String]) -> Result<usize, StoreError> {
        let gone: FxHashSet<&str> = ids.iter().map(String::as_str).collect();
        let all = self.events_for_handover(record_key)?;
        // Every summary row of the record: on disk, or still in flight for
        // one of its events.
        let mut rows: FxHashSet<(String, i32)> = self
            .summaries_of(record_key)?
            .into_iter()
            .map(|s| (s.etype, s.day))
            .collect();
        rows.extend(all.iter().map(|e| (e.body.etype.clone(), e.body.day())));
        let left: Vec<StoredEvent> = all
            .into_iter()
            .filter(|e| !gone.contains(e.event_id.as_str()))
            .collect();
        let mut b = std::mem::take(&mut self.pending);
        let (events_cf, summaries_cf) = (self.cf("events"), self.cf("summaries"));
        for id in ids {
            b.delete_cf(events_cf, event_key(record_key, id));
        }
        for (etype, day) in &rows {
            b.delete_cf(summaries_cf, summary_key(record_key, etype, *day));
        }
        for e in left.iter().filter(|e| summarised(&e.body)) {
            let sk = summary_key(record_key, &e.body.etype, e.body.day());
            b.merge_cf(summaries_cf, sk, Summary::of(&e.body).encode());
        }
        self.pending = b;
        for id in ids {
            self.recent.delete(&event_key(record_key, id), false);
        }
        Ok(left.len())
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

    /// The consent decisions of a record for a purpose recorded through
    /// `kindred.v1.Privacy` or a record's consents (event ids
    /// `consent:<purpose>:...`), written or still in flight.
    pub fn consent_events(
        &self,
        record_key: &str,
        purpose: &str,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let record = record_prefix(record_key);
        let mut prefix = record.clone();
        prefix.extend_from_slice(format!("consent:{purpose}:").as_bytes());
        let mut rows: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        self.scan("events", &prefix, |k, v| {
            rows.insert(k.to_vec(), self.open_sealed(record_key, &event_aad(k), v)?);
            Ok(())
        })?;
        // The record's own prefix: a delete of the whole record in flight
        // is one deleted prefix.
        self.recent.replay(&record, &mut rows);
        rows.retain(|k, _| k.starts_with(&prefix));
        let id_at = record_key.len() + 1;
        rows.into_iter()
            .map(|(k, v)| {
                let body = Body::decode(&v).ok_or_else(|| corrupt("event", &k))?;
                Ok(StoredEvent {
                    key: record_key.to_string(),
                    event_id: String::from_utf8_lossy(&k[id_at..]).into_owned(),
                    body,
                })
            })
            .collect()
    }

    /// True when the record has a stored event (in RocksDB; see
    /// [`RocksStore::events_in_flight`] for those not yet written).
    pub fn has_events(&self, record_key: &str) -> Result<bool, StoreError> {
        let prefix = record_prefix(record_key);
        let mut it = self.db.iterator_cf(
            self.cf("events"),
            IteratorMode::From(&prefix, Direction::Forward),
        );
        match it.next() {
            Some(kv) => Ok(kv.map_err(io)?.0.starts_with(&prefix)),
            None => Ok(false),
        }
    }

    /// Every stored event of a record.
    pub fn events_of(&self, record_key: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let prefix = record_prefix(record_key);
        let mut out = Vec::new();
        self.scan("events", &prefix, |k, v| {
            match Body::decode(&self.open_sealed(record_key, &event_aad(k), v)?) {
                Some(body) => {
                    out.push(StoredEvent {
                        key: record_key.to_string(),
                        event_id: String::from_utf8_lossy(&k[prefix.len()..]).into_owned(),
                        body,
                    });
                    Ok(())
                }
                None => Err(corrupt("event", k)),
            }
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
