//! When each record was last observed, for retention.
//!
//! | CF     | key        | value |
//! |--------|------------|-------|
//! | `seen` | record key | i64 BE: milliseconds since the Unix epoch |
//!
//! A record is observed when it is written: at the `observed_at_ms` its
//! source gave, else at the time stamped on the write's command (never a
//! clock read here, so every replica writes the same value). The row goes
//! with the record (delete, eviction).

use rocksdb::IteratorMode;

use super::rocks::{corrupt, io, RocksStore};
use crate::engine::store::StoreError;

impl RocksStore {
    /// Records that `record_key` was observed at `at_ms` (pending batch).
    pub fn set_seen(&mut self, record_key: &str, at_ms: i64) {
        let mut b = std::mem::take(&mut self.pending);
        b.put_cf(self.cf("seen"), record_key, at_ms.to_be_bytes());
        self.pending = b;
    }

    /// Drops the observation time of a record leaving (pending batch).
    pub fn forget_seen(&mut self, record_key: &str) {
        let mut b = std::mem::take(&mut self.pending);
        b.delete_cf(self.cf("seen"), record_key);
        self.pending = b;
    }

    /// The record keys `expired(key, last seen)` selects, in key order.
    pub fn expired(
        &self,
        mut expired: impl FnMut(&str, i64) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for kv in self.db.iterator_cf(self.cf("seen"), IteratorMode::Start) {
            let (k, v) = kv.map_err(io)?;
            let key = std::str::from_utf8(&k).map_err(|_| corrupt("seen key", &k))?;
            let at: [u8; 8] = v[..].try_into().map_err(|_| corrupt("seen time", &k))?;
            if expired(key, i64::from_be_bytes(at)) {
                out.push(key.to_string());
            }
        }
        Ok(out)
    }
}
