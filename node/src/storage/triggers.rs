//! Trigger timers and claims in a partition's RocksDB.
//!
//! | CF       | key                                                        | value |
//! |----------|------------------------------------------------------------|-------|
//! | `timers` | due time (i64, order-preserving BE) record key 0x1f trigger 0x1f value | empty |
//! | `fired`  | trigger 0x1f entity id (u64 BE)                            | [`Claim`], postcard |
//!
//! A timer is an index entry, not the truth: it says "look at this
//! record's trigger for this value at this time". What is open, cancelled
//! or settled is read from the customer's events when the entry falls due
//! (`segments::triggers`), so a stale entry (a cart reset, cancelled or
//! settled) is dropped when it is looked at; one whose record or event is
//! not visible (an anonymous cart, a record deleted) is kept until it is
//! too late to fire. Timers are written with the event that opens them, in
//! the same batch.
//!
//! A claim is kept in the partition of the customer's cluster-wide id (like
//! its segment membership): the last firing of a trigger for the customer,
//! so that two firings for one customer are decided in one place, in order.
//! Neither holds a name, contact or identifier value: record keys, trigger
//! names, the matching value (a cart id) and entity ids, in plain text
//! like the keys of every other column family.

use rocksdb::{Direction, IteratorMode};
use serde::{Deserialize, Serialize};

use super::rocks::{corrupt, io, RocksStore};
use crate::engine::store::StoreError;
use crate::engine::EntityId;

/// Column families of triggers.
pub const TRIGGER_CFS: [&str; 2] = ["timers", "fired"];

const SEP: u8 = 0x1f;

/// A timer: a trigger of a record for a value, to look at when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub due_ms: i64,
    /// The record key (`source 0x1f record_id`).
    pub key: String,
    pub trigger: String,
    pub match_value: String,
}

/// The last firing of a trigger for a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub at_ms: i64,
    /// A hash of what fired (record key, trigger and value): a retry of the
    /// same firing is recognised.
    pub firing: u64,
}

/// Sorts like the time it encodes (negative times first).
fn time_bytes(ms: i64) -> [u8; 8] {
    ((ms as u64) ^ (1 << 63)).to_be_bytes()
}

fn timer_key(t: &Timer) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + t.key.len() + t.trigger.len() + t.match_value.len());
    k.extend_from_slice(&time_bytes(t.due_ms));
    k.extend_from_slice(t.key.as_bytes());
    k.push(SEP);
    k.extend_from_slice(t.trigger.as_bytes());
    k.push(SEP);
    k.extend_from_slice(t.match_value.as_bytes());
    k
}

fn parse_timer(k: &[u8]) -> Result<Timer, StoreError> {
    let bad = || corrupt("timer key", k);
    let due: [u8; 8] = k.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
    let rest = std::str::from_utf8(&k[8..]).map_err(|_| bad())?;
    // source, record id and trigger never contain the separator; the
    // value may.
    let mut parts = rest.splitn(4, char::from(SEP));
    let (source, record_id, trigger, value) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
    );
    Ok(Timer {
        due_ms: (u64::from_be_bytes(due) ^ (1 << 63)) as i64,
        key: format!("{source}{}{record_id}", char::from(SEP)),
        trigger: trigger.into(),
        match_value: value.into(),
    })
}

fn claim_key(trigger: &str, entity: EntityId) -> Vec<u8> {
    let mut k = Vec::with_capacity(trigger.len() + 9);
    k.extend_from_slice(trigger.as_bytes());
    k.push(SEP);
    k.extend_from_slice(&entity.to_be_bytes());
    k
}

impl RocksStore {
    /// Writes a timer (pending batch).
    pub fn put_timer(&mut self, t: &Timer) {
        let mut b = std::mem::take(&mut self.pending);
        b.put_cf(self.cf("timers"), timer_key(t), []);
        self.pending = b;
    }

    /// Removes timers (pending batch).
    pub fn drop_timers(&mut self, timers: &[Timer]) {
        let mut b = std::mem::take(&mut self.pending);
        for t in timers {
            b.delete_cf(self.cf("timers"), timer_key(t));
        }
        self.pending = b;
    }

    /// Timers on disk due at `now_ms` or before, soonest first, after
    /// `after` (none: from the first), at most `limit` (those of the batch
    /// in flight are seen at the next look).
    pub fn due_timers(
        &self,
        now_ms: i64,
        after: Option<&Timer>,
        limit: usize,
    ) -> Result<Vec<Timer>, StoreError> {
        let mut out = Vec::new();
        let start = after.map(timer_key);
        let mode = match &start {
            Some(k) => IteratorMode::From(k, Direction::Forward),
            None => IteratorMode::Start,
        };
        let iter = self.db.iterator_cf(self.cf("timers"), mode);
        for kv in iter {
            if out.len() >= limit {
                break;
            }
            let (k, _) = kv.map_err(io)?;
            if start.as_deref() == Some(&k[..]) {
                continue;
            }
            let t = parse_timer(&k)?;
            if t.due_ms > now_ms {
                break;
            }
            out.push(t);
        }
        Ok(out)
    }

    /// How many timers are on disk.
    #[cfg(test)]
    pub fn timer_count(&self) -> Result<usize, StoreError> {
        let iter = self.db.iterator_cf(
            self.cf("timers"),
            IteratorMode::From(&[], Direction::Forward),
        );
        let mut n = 0;
        for kv in iter {
            kv.map_err(io)?;
            n += 1;
        }
        Ok(n)
    }

    /// A customer's last firing of a trigger (written or in flight).
    pub fn claim(&self, trigger: &str, entity: EntityId) -> Result<Option<Claim>, StoreError> {
        let key = claim_key(trigger, entity);
        if let Some(c) = self.claims_recent.get(&key) {
            return Ok(c);
        }
        match self.db.get_cf(self.cf("fired"), &key).map_err(io)? {
            Some(v) => postcard::from_bytes(&v)
                .map(Some)
                .map_err(|_| corrupt("claim", &key)),
            None => Ok(None),
        }
    }

    /// Records a customer's firing of a trigger (pending batch).
    pub fn put_claim(&mut self, trigger: &str, entity: EntityId, claim: Claim) {
        let key = claim_key(trigger, entity);
        let mut b = std::mem::take(&mut self.pending);
        b.put_cf(
            self.cf("fired"),
            &key,
            postcard::to_stdvec(&claim).unwrap_or_default(),
        );
        self.pending = b;
        self.claims_recent.put(key, claim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::Store;
    use crate::storage::rocks::StoreOptions;

    fn timer(due_ms: i64, value: &str) -> Timer {
        Timer {
            due_ms,
            key: "web\u{1f}r1".into(),
            trigger: "abandoned_cart".into(),
            match_value: value.into(),
        }
    }

    #[test]
    fn timers_come_back_due_first_and_only_once_due_whatever_their_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RocksStore::open(dir.path(), &StoreOptions::default())
            .unwrap()
            .store;
        let (late, early, past) = (timer(500, "c\u{1f}2"), timer(100, "c1"), timer(-5, "c0"));
        for t in [&late, &early, &past] {
            s.put_timer(t);
        }
        s.flush().unwrap();
        assert_eq!(
            s.due_timers(100, None, 10).unwrap(),
            [past.clone(), early.clone()]
        );
        assert_eq!(
            s.due_timers(1000, None, 1).unwrap(),
            std::slice::from_ref(&past)
        );
        assert_eq!(
            s.due_timers(1000, Some(&past), 1).unwrap(),
            std::slice::from_ref(&early),
            "paged after a timer"
        );
        assert_eq!(
            s.due_timers(1000, None, 10).unwrap()[2],
            late,
            "a value may hold the separator"
        );
        s.drop_timers(&[past, early]);
        s.flush().unwrap();
        assert_eq!(s.due_timers(1000, None, 10).unwrap(), [late]);
        assert_eq!(s.timer_count().unwrap(), 1);
    }

    #[test]
    fn a_claim_is_read_back_before_and_after_it_reaches_disk() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RocksStore::open(dir.path(), &StoreOptions::default())
            .unwrap()
            .store;
        let c = Claim {
            at_ms: 7,
            firing: 9,
        };
        assert_eq!(s.claim("abandoned_cart", 3).unwrap(), None);
        s.put_claim("abandoned_cart", 3, c);
        assert_eq!(s.claim("abandoned_cart", 3).unwrap(), Some(c));
        s.flush().unwrap();
        assert_eq!(s.claim("abandoned_cart", 3).unwrap(), Some(c));
        assert_eq!(s.claim("abandoned_cart", 4).unwrap(), None);
    }
}
