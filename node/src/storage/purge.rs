//! Purging what an erasure deleted, off the partition's thread.
//!
//! An erasure's deletes (records, events, the data keys they were sealed
//! under) are written at once; making the deleted rows unreadable on disk
//! takes a flush of every memtable (so the write-ahead log that saw them is
//! retired) and a compaction of the `keys` column family down to its bottom
//! level (so no table keeps a shredded data key). That work runs on the
//! store's purge thread, so an erasure is done in well under a second and
//! the partition keeps serving. A `purge_pending` row in `meta` (the
//! sequence number of the last purge asked) survives a crash: a store
//! opening with it purges everything before it serves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use rocksdb::{BottommostLevelCompaction, CompactOptions, DB};

use super::rocks::{io, RocksStore};
use crate::engine::store::StoreError;

/// The `meta` row naming the last purge asked and not yet done.
const MARKER: &str = "purge_pending";

/// The store's purge thread (started by the first purge asked).
#[derive(Default)]
pub(super) struct Purger {
    thread: Option<(Sender<(u64, Vec<String>)>, JoinHandle<()>)>,
    asked: Arc<AtomicU64>,
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
        None => db.compact_range_cf_opt(cf, None::<&[u8]>, None::<&[u8]>, &o),
        Some(keys) => {
            for k in keys {
                // The row of `k` and nothing after it: [k, k 0x00].
                let mut end = k.as_bytes().to_vec();
                end.push(0);
                db.compact_range_cf_opt(cf, Some(k.as_bytes()), Some(&end), &o);
            }
        }
    }
    Ok(())
}

/// The purge thread: purges in order; clears the marker once the last
/// purge asked is done.
fn run(db: Arc<DB>, jobs: std::sync::mpsc::Receiver<(u64, Vec<String>)>) {
    for (seq, keys) in jobs {
        if let Err(e) = purge_db(&db, Some(&keys)) {
            tracing::error!(error = %e, "purging erased data failed; it runs again at the next start");
            continue;
        }
        let Some(meta) = db.cf_handle("meta") else {
            continue;
        };
        if db.get_cf(meta, MARKER).ok().flatten().as_deref() == Some(&seq.to_be_bytes()[..]) {
            let _ = db.delete_cf(meta, MARKER);
        }
    }
}

impl RocksStore {
    /// Purges, in the background, what was written so far (call after
    /// the erasure's writes are flushed): `keys` are the erased record
    /// keys whose data-key rows must leave every table.
    pub fn purge_later(&mut self, keys: Vec<String>) -> Result<(), StoreError> {
        let seq = self.purger.asked.fetch_add(1, Ordering::SeqCst) + 1;
        self.db
            .put_cf(self.cf("meta"), MARKER, seq.to_be_bytes())
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
    pub fn wait_purged(&mut self) {
        self.purger.finish();
    }

    /// A purge cut short (by a crash) runs again, whole, as the store
    /// opens.
    pub(super) fn resume_purge(&self) -> Result<bool, StoreError> {
        let meta = self.cf("meta");
        if self.db.get_cf(meta, MARKER).map_err(io)?.is_none() {
            return Ok(false);
        }
        purge_db(&self.db, None)?;
        self.db.delete_cf(meta, MARKER).map_err(io)?;
        Ok(true)
    }
}
