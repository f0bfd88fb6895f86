//! Purging what an erasure deleted, off the partition's thread.
//!
//! An erasure's deletes (records, events, the data keys they were sealed
//! under) are written at once; making the deleted rows unreadable on disk
//! takes a flush of every memtable (so the write-ahead log that saw them is
//! retired) and a compaction of the `keys` column family down to its bottom
//! level (so no table keeps a shredded data key). That work runs on the
//! store's purge thread, so an erasure is done in well under a second and
//! the partition keeps serving. Each purge asked leaves a row
//! `purge_pending/<seq>` in `meta`, deleted once that purge is done (a
//! failed one keeps it); a store that opens with such rows (a stop cut a
//! purge short) purges everything before it serves.

use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use rocksdb::{BottommostLevelCompaction, CompactOptions, Direction, IteratorMode, DB};

use super::rocks::{io, RocksStore};
use crate::engine::store::StoreError;

/// The prefix of the `meta` rows of purges asked and not yet done.
const MARKER: &str = "purge_pending/";

/// More erased keys than this: the whole `keys` column family is
/// compacted once rather than range by range.
const MAX_RANGES: usize = 64;

fn marker(seq: u64) -> Vec<u8> {
    let mut k = MARKER.as_bytes().to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// A purge asked: its sequence number and the erased record keys.
type Job = (u64, Vec<String>);

/// The store's purge thread (started by the first purge asked).
#[derive(Default)]
pub(super) struct Purger {
    thread: Option<(Sender<Job>, JoinHandle<()>)>,
    asked: u64,
}

impl Purger {
    /// Waits for every purge asked so far.
    pub(super) fn finish(&mut self) {
        if let Some((tx, join)) = self.thread.take() {
            drop(tx);
            let _ = join.join();
        }
    }
}

/// Flushes every memtable of `db`, then compacts the `keys` rows of `only`
/// (every row when None) to the bottom level.
pub(super) fn purge_db(db: &DB, only: Option<&[String]>) -> Result<(), StoreError> {
    for name in super::rocks::column_families() {
        if let Some(cf) = db.cf_handle(name) {
            db.flush_cf(cf).map_err(io)?;
        }
    }
    let Some(cf) = db.cf_handle("keys") else {
        return Ok(());
    };
    let mut o = CompactOptions::default();
    o.set_bottommost_level_compaction(BottommostLevelCompaction::Force);
    o.set_exclusive_manual_compaction(true);
    match only {
        Some(keys) if keys.len() <= MAX_RANGES => {
            for k in keys {
                // The row of `k` and nothing after it: [k, k 0x00].
                let mut end = k.as_bytes().to_vec();
                end.push(0);
                db.compact_range_cf_opt(cf, Some(k.as_bytes()), Some(&end), &o);
            }
        }
        _ => db.compact_range_cf_opt(cf, None::<&[u8]>, None::<&[u8]>, &o),
    }
    Ok(())
}

/// The purge thread: purges in order; each purge done deletes its own
/// row (a failed one keeps it, for the next start).
fn run(db: Arc<DB>, jobs: std::sync::mpsc::Receiver<Job>) {
    for (seq, keys) in jobs {
        if let Err(e) = purge_db(&db, Some(&keys)) {
            tracing::error!(error = %e, "purging erased data failed; it runs again at the next start");
            continue;
        }
        if let Some(meta) = db.cf_handle("meta") {
            let _ = db.delete_cf(meta, marker(seq));
        }
    }
}

impl RocksStore {
    /// Purges, in the background, what was written so far (call after
    /// the erasure's writes are flushed): `keys` are the erased record
    /// keys whose data-key rows must leave every table.
    pub fn purge_later(&mut self, keys: Vec<String>) -> Result<(), StoreError> {
        self.purger.asked += 1;
        let seq = self.purger.asked;
        self.db
            .put_cf(self.cf("meta"), marker(seq), [])
            .map_err(io)?;
        if self.purger.thread.is_none() {
            let (tx, rx) = channel();
            let db = self.db.clone();
            let join = std::thread::Builder::new()
                .name("kindred-purge".into())
                .spawn(move || run(db, rx))
                .map_err(io)?;
            self.purger.thread = Some((tx, join));
        }
        if let Some((tx, _)) = &self.purger.thread {
            tx.send((seq, keys))
                .map_err(|_| io("the purge thread has stopped"))?;
        }
        Ok(())
    }

    /// Waits until every purge asked so far is done.
    #[cfg(test)]
    pub fn wait_purged(&mut self) {
        self.purger.finish();
    }

    /// Purges cut short (by a stop) run again, as one whole purge, as the
    /// store opens; their sequence then starts after theirs.
    pub(super) fn resume_purge(&mut self) -> Result<bool, StoreError> {
        let meta = self.cf("meta");
        let mut left = Vec::new();
        let from = IteratorMode::From(MARKER.as_bytes(), Direction::Forward);
        for kv in self.db.iterator_cf(meta, from) {
            let (k, _) = kv.map_err(io)?;
            if !k.starts_with(MARKER.as_bytes()) {
                break;
            }
            left.push(k);
        }
        if left.is_empty() {
            return Ok(false);
        }
        purge_db(&self.db, None)?;
        for k in &left {
            self.db.delete_cf(meta, k).map_err(io)?;
        }
        Ok(true)
    }
}
