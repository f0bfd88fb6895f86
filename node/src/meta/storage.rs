//! Durable raft log for the metadata group: [`MetaStorage`] implements
//! [`raft::Storage`] over its own RocksDB database.
//!
//! Layout (one default column family, small keys):
//!
//! | key                     | value                                      |
//! |-------------------------|--------------------------------------------|
//! | `hs`                    | `HardState` (protobuf)                     |
//! | `cs`                    | `ConfState` (protobuf), the applied config |
//! | `snap`                  | `Snapshot` (protobuf: metadata + `MetaState` JSON) |
//! | `e` + index (big-endian)| `Entry` (protobuf)                         |
//!
//! Every write that raft relies on for safety (entries, hard state, snapshot)
//! is one synced `WriteBatch`, so it is durable before the raft loop sends
//! persisted messages or calls `advance`. Reads are served from an in-memory
//! copy of the uncompacted log (the metadata log is small and compacted every
//! `snapshot_every` entries), so `term()` and `entries()` never touch disk.

// Protobuf messages (with hidden bookkeeping fields) are built by mutation.
#![allow(clippy::field_reassign_with_default)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use prost011::Message as PbMessage;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata};
use raft::{GetEntriesContext, RaftState, StorageError};
use rocksdb::{IteratorMode, Options, WriteBatch, WriteOptions, DB};

use super::MetaError;

const KEY_HARD_STATE: &[u8] = b"hs";
const KEY_CONF_STATE: &[u8] = b"cs";
const KEY_SNAPSHOT: &[u8] = b"snap";
const ENTRY_PREFIX: u8 = b'e';
/// Exclusive upper bound of every entry key.
const ENTRY_END: &[u8] = b"f";

fn entry_key(index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = ENTRY_PREFIX;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

fn storage_err(e: impl std::fmt::Display) -> MetaError {
    MetaError::Storage(e.to_string())
}

fn encode<M: PbMessage>(m: &M) -> Result<Vec<u8>, MetaError> {
    Ok(m.encode_to_vec())
}

fn decode<M: PbMessage + Default>(bytes: &[u8]) -> Result<M, MetaError> {
    M::decode(bytes).map_err(storage_err)
}

/// In-memory mirror of what is on disk.
#[derive(Default)]
struct Cache {
    hard_state: HardState,
    conf_state: ConfState,
    snapshot: Snapshot,
    /// Entries `snapshot.index + 1 ..= last`, contiguous.
    entries: Vec<Entry>,
}

impl Cache {
    fn snap_index(&self) -> u64 {
        self.snapshot.get_metadata().index
    }
    fn first_index(&self) -> u64 {
        self.entries
            .first()
            .map_or(self.snap_index() + 1, |e| e.index)
    }
    fn last_index(&self) -> u64 {
        self.entries.last().map_or(self.snap_index(), |e| e.index)
    }
}

struct Inner {
    db: DB,
    cache: RwLock<Cache>,
    sync: WriteOptions,
    /// Set when raft asked for a snapshot the stored one cannot serve.
    snapshot_wanted: AtomicBool,
}

/// The metadata group's raft log on RocksDB. Cheap to clone (shared handle).
#[derive(Clone)]
pub struct MetaStorage {
    inner: Arc<Inner>,
}

impl MetaStorage {
    /// Opens (or creates) the database in `dir` and loads the log into memory.
    pub fn open(dir: &Path) -> Result<Self, MetaError> {
        std::fs::create_dir_all(dir).map_err(storage_err)?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        let db = DB::open(&opts, dir).map_err(storage_err)?;
        let mut cache = Cache::default();
        if let Some(v) = db.get(KEY_HARD_STATE).map_err(storage_err)? {
            cache.hard_state = decode(&v)?;
        }
        if let Some(v) = db.get(KEY_CONF_STATE).map_err(storage_err)? {
            cache.conf_state = decode(&v)?;
        }
        if let Some(v) = db.get(KEY_SNAPSHOT).map_err(storage_err)? {
            cache.snapshot = decode(&v)?;
        }
        let start = entry_key(0);
        for item in db.iterator(IteratorMode::From(&start, rocksdb::Direction::Forward)) {
            let (k, v) = item.map_err(storage_err)?;
            if k.first() != Some(&ENTRY_PREFIX) {
                break;
            }
            let e: Entry = decode(&v)?;
            if e.index <= cache.snap_index() {
                continue; // left over from an interrupted compaction
            }
            if let Some(last) = cache.entries.last() {
                if e.index != last.index + 1 {
                    return Err(MetaError::Storage(format!(
                        "raft log has a gap: {} after {}",
                        e.index, last.index
                    )));
                }
            } else if e.index != cache.snap_index() + 1 {
                return Err(MetaError::Storage(format!(
                    "raft log starts at {} but the snapshot is at {}",
                    e.index,
                    cache.snap_index()
                )));
            }
            cache.entries.push(e);
        }
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        Ok(MetaStorage {
            inner: Arc::new(Inner {
                db,
                cache: RwLock::new(cache),
                sync,
                snapshot_wanted: AtomicBool::new(false),
            }),
        })
    }

    fn rl(&self) -> RwLockReadGuard<'_, Cache> {
        // A poisoned lock only means another thread panicked mid-read; the
        // cache is only mutated after a successful disk write.
        self.inner.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn wl(&self) -> RwLockWriteGuard<'_, Cache> {
        self.inner.cache.write().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self, batch: WriteBatch, sync: bool) -> Result<(), MetaError> {
        if sync {
            self.inner.db.write_opt(batch, &self.inner.sync)
        } else {
            self.inner.db.write(batch)
        }
        .map_err(storage_err)
    }

    /// True if nothing was ever written (no hard state, config, snapshot or entries).
    pub fn is_empty(&self) -> bool {
        let c = self.rl();
        c.hard_state == HardState::default()
            && c.conf_state == ConfState::default()
            && c.snap_index() == 0
            && c.entries.is_empty()
    }

    /// Writes the initial state of a freshly bootstrapped member: a snapshot at
    /// index 1, term 1 whose configuration has `voters`. Every initial member
    /// writes the same thing, and nodes that join later catch up by snapshot.
    pub fn bootstrap(&self, voters: Vec<u64>, data: Vec<u8>) -> Result<(), MetaError> {
        let mut cs = ConfState::default();
        cs.voters = voters;
        let mut snap = Snapshot::default();
        snap.data = data;
        {
            let m = snap.mut_metadata();
            m.index = 1;
            m.term = 1;
            m.set_conf_state(cs.clone());
        }
        let mut hs = HardState::default();
        hs.term = 1;
        hs.commit = 1;
        let mut b = WriteBatch::default();
        b.put(KEY_SNAPSHOT, encode(&snap)?);
        b.put(KEY_CONF_STATE, encode(&cs)?);
        b.put(KEY_HARD_STATE, encode(&hs)?);
        self.write(b, true)?;
        let mut c = self.wl();
        c.snapshot = snap;
        c.conf_state = cs;
        c.hard_state = hs;
        c.entries.clear();
        Ok(())
    }

    pub fn hard_state(&self) -> HardState {
        self.rl().hard_state.clone()
    }

    pub fn conf_state(&self) -> ConfState {
        self.rl().conf_state.clone()
    }

    /// Metadata of the latest snapshot (index 0 if there is none).
    pub fn snapshot_metadata(&self) -> SnapshotMetadata {
        self.rl().snapshot.get_metadata().clone()
    }

    /// The latest snapshot, data included.
    pub fn latest_snapshot(&self) -> Snapshot {
        self.rl().snapshot.clone()
    }

    /// True (once) if raft asked for a snapshot newer than the stored one;
    /// the raft loop then snapshots at its applied index.
    pub fn take_snapshot_wanted(&self) -> bool {
        self.inner.snapshot_wanted.swap(false, Ordering::AcqRel)
    }

    /// Appends entries (truncating any conflicting suffix) and the hard state,
    /// as one synced write.
    pub fn append(&self, entries: &[Entry], hs: Option<&HardState>) -> Result<(), MetaError> {
        if entries.is_empty() && hs.is_none() {
            return Ok(());
        }
        let mut b = WriteBatch::default();
        if let Some(first) = entries.first() {
            let c = self.rl();
            if first.index < c.first_index() {
                return Err(MetaError::Storage(format!(
                    "append at {} overwrites compacted log (first index {})",
                    first.index,
                    c.first_index()
                )));
            }
            if first.index > c.last_index() + 1 {
                return Err(MetaError::Storage(format!(
                    "append at {} leaves a gap after {}",
                    first.index,
                    c.last_index()
                )));
            }
            for w in entries.windows(2) {
                if w[1].index != w[0].index + 1 {
                    return Err(MetaError::Storage(
                        "appended entries are not contiguous".into(),
                    ));
                }
            }
            // Remove the conflicting suffix, then write the new entries.
            b.delete_range(&entry_key(first.index)[..], ENTRY_END);
            for e in entries {
                b.put(entry_key(e.index), encode(e)?);
            }
        }
        if let Some(hs) = hs {
            b.put(KEY_HARD_STATE, encode(hs)?);
        }
        self.write(b, true)?;
        let mut c = self.wl();
        if let Some(first) = entries.first() {
            let keep = (first.index - c.first_index()) as usize;
            c.entries.truncate(keep);
            c.entries.extend_from_slice(entries);
        }
        if let Some(hs) = hs {
            c.hard_state = hs.clone();
        }
        Ok(())
    }

    /// Records a new commit index (from `LightReady`). Not synced: a lost
    /// commit index is recovered from the leader.
    pub fn set_commit(&self, commit: u64) -> Result<(), MetaError> {
        let mut hs = self.hard_state();
        if hs.commit == commit {
            return Ok(());
        }
        hs.commit = commit;
        let mut b = WriteBatch::default();
        b.put(KEY_HARD_STATE, encode(&hs)?);
        self.write(b, false)?;
        self.wl().hard_state = hs;
        Ok(())
    }

    /// Records the configuration after applying a conf change.
    pub fn set_conf_state(&self, cs: &ConfState) -> Result<(), MetaError> {
        let mut b = WriteBatch::default();
        b.put(KEY_CONF_STATE, encode(cs)?);
        self.write(b, true)?;
        self.wl().conf_state = cs.clone();
        Ok(())
    }

    /// Replaces the log with a snapshot received from the leader.
    pub fn apply_snapshot(&self, snap: &Snapshot) -> Result<(), MetaError> {
        let meta = snap.get_metadata();
        let mut hs = self.hard_state();
        {
            let c = self.rl();
            if meta.index < c.snap_index() {
                return Err(MetaError::Storage(format!(
                    "snapshot at {} is older than the stored one at {}",
                    meta.index,
                    c.snap_index()
                )));
            }
        }
        hs.term = hs.term.max(meta.term);
        hs.commit = hs.commit.max(meta.index);
        let cs = meta.get_conf_state().clone();
        let mut b = WriteBatch::default();
        b.delete_range(&entry_key(0)[..], ENTRY_END);
        b.put(KEY_SNAPSHOT, encode(snap)?);
        b.put(KEY_CONF_STATE, encode(&cs)?);
        b.put(KEY_HARD_STATE, encode(&hs)?);
        self.write(b, true)?;
        let mut c = self.wl();
        c.entries.clear();
        c.snapshot = snap.clone();
        c.conf_state = cs;
        c.hard_state = hs;
        Ok(())
    }

    /// Writes a snapshot at `index` (an applied index) holding `data` and the
    /// current configuration, then deletes the entries up to `index`.
    pub fn compact(&self, index: u64, data: Vec<u8>) -> Result<(), MetaError> {
        let (term, cs) = {
            let c = self.rl();
            if index <= c.snap_index() {
                return Ok(());
            }
            if index > c.last_index() {
                return Err(MetaError::Storage(format!(
                    "cannot compact to {} beyond the last index {}",
                    index,
                    c.last_index()
                )));
            }
            let term = c.entries[(index - c.first_index()) as usize].term;
            (term, c.conf_state.clone())
        };
        let mut snap = Snapshot::default();
        snap.data = data;
        {
            let m = snap.mut_metadata();
            m.index = index;
            m.term = term;
            m.set_conf_state(cs);
        }
        let mut b = WriteBatch::default();
        b.put(KEY_SNAPSHOT, encode(&snap)?);
        b.delete_range(&entry_key(0)[..], &entry_key(index + 1)[..]);
        self.write(b, true)?;
        let mut c = self.wl();
        let drop_n = (index + 1 - c.first_index()) as usize;
        let drop_n = drop_n.min(c.entries.len());
        c.entries.drain(..drop_n);
        c.snapshot = snap;
        Ok(())
    }
}

fn store_err(e: StorageError) -> raft::Error {
    raft::Error::Store(e)
}

impl raft::Storage for MetaStorage {
    fn initial_state(&self) -> raft::Result<RaftState> {
        let c = self.rl();
        Ok(RaftState::new(c.hard_state.clone(), c.conf_state.clone()))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        let c = self.rl();
        if low < c.first_index() {
            return Err(store_err(StorageError::Compacted));
        }
        if high > c.last_index() + 1 || low > high {
            return Err(store_err(StorageError::Unavailable));
        }
        let off = c.first_index();
        let slice = &c.entries[(low - off) as usize..(high - off) as usize];
        let max = max_size.into().unwrap_or(u64::MAX);
        let mut out = Vec::new();
        let mut size = 0u64;
        for e in slice {
            size += e.encoded_len() as u64;
            if !out.is_empty() && size > max {
                break;
            }
            out.push(e.clone());
        }
        Ok(out)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        let c = self.rl();
        if idx == c.snap_index() {
            return Ok(c.snapshot.get_metadata().term);
        }
        if idx < c.first_index() {
            return Err(store_err(StorageError::Compacted));
        }
        if idx > c.last_index() {
            return Err(store_err(StorageError::Unavailable));
        }
        Ok(c.entries[(idx - c.first_index()) as usize].term)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.rl().first_index())
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.rl().last_index())
    }

    fn snapshot(&self, request_index: u64, to: u64) -> raft::Result<raft::eraftpb::Snapshot> {
        let c = self.rl();
        let cs = c.snapshot.get_metadata().get_conf_state();
        // A peer added after the stored snapshot would refuse it (it is not
        // in its configuration): ask the raft loop for a fresh one.
        let knows_peer = cs.voters.contains(&to) || cs.learners.contains(&to);
        if c.snap_index() == 0 || c.snap_index() < request_index || !knows_peer {
            self.inner.snapshot_wanted.store(true, Ordering::Release);
            return Err(store_err(StorageError::SnapshotTemporarilyUnavailable));
        }
        Ok(c.snapshot.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::Storage;

    fn ent(index: u64, term: u64) -> Entry {
        let mut e = Entry::default();
        e.index = index;
        e.term = term;
        e.data = vec![b'x'; 10];
        e
    }

    fn fresh() -> (tempfile::TempDir, MetaStorage) {
        let dir = tempfile::tempdir().unwrap();
        let s = MetaStorage::open(dir.path()).unwrap();
        (dir, s)
    }

    fn ctx() -> GetEntriesContext {
        GetEntriesContext::empty(false)
    }

    #[test]
    fn empty_storage_indexes() {
        let (_d, s) = fresh();
        assert!(s.is_empty());
        assert_eq!(s.first_index().unwrap(), 1);
        assert_eq!(s.last_index().unwrap(), 0);
        assert_eq!(s.term(0).unwrap(), 0);
        assert!(matches!(
            s.term(1),
            Err(raft::Error::Store(StorageError::Unavailable))
        ));
        assert!(matches!(
            s.snapshot(0, 2),
            Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable
            ))
        ));
    }

    #[test]
    fn bootstrap_then_append_and_term() {
        let (_d, s) = fresh();
        s.bootstrap(vec![1, 2, 3], b"{}".to_vec()).unwrap();
        assert!(!s.is_empty());
        assert_eq!(s.first_index().unwrap(), 2);
        assert_eq!(s.last_index().unwrap(), 1);
        assert_eq!(s.term(1).unwrap(), 1);
        assert!(matches!(
            s.term(0),
            Err(raft::Error::Store(StorageError::Compacted))
        ));
        s.append(&[ent(2, 2), ent(3, 2), ent(4, 3)], None).unwrap();
        assert_eq!(s.last_index().unwrap(), 4);
        assert_eq!(s.term(4).unwrap(), 3);
        let st = s.initial_state().unwrap();
        assert_eq!(st.conf_state.voters, vec![1, 2, 3]);
        assert_eq!(st.hard_state.commit, 1);
    }

    #[test]
    fn entries_bounds_and_max_size() {
        let (_d, s) = fresh();
        s.bootstrap(vec![1], vec![]).unwrap();
        let ents: Vec<Entry> = (2..=6).map(|i| ent(i, 1)).collect();
        s.append(&ents, None).unwrap();
        assert_eq!(s.entries(2, 7, None, ctx()).unwrap().len(), 5);
        assert_eq!(s.entries(3, 5, None, ctx()).unwrap(), ents[1..3].to_vec());
        // max_size 0 still returns one entry.
        assert_eq!(s.entries(2, 7, 0, ctx()).unwrap().len(), 1);
        let one = ents[0].encoded_len() as u64;
        assert_eq!(s.entries(2, 7, one * 2, ctx()).unwrap().len(), 2);
        assert_eq!(s.entries(2, 7, one * 2 + 1, ctx()).unwrap().len(), 2);
        assert!(matches!(
            s.entries(1, 3, None, ctx()),
            Err(raft::Error::Store(StorageError::Compacted))
        ));
        assert!(matches!(
            s.entries(2, 8, None, ctx()),
            Err(raft::Error::Store(StorageError::Unavailable))
        ));
    }

    #[test]
    fn append_truncates_conflicting_suffix_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = MetaStorage::open(dir.path()).unwrap();
            s.bootstrap(vec![1], vec![]).unwrap();
            s.append(&[ent(2, 1), ent(3, 1), ent(4, 1), ent(5, 1)], None)
                .unwrap();
            // A new leader overwrites from index 3.
            let mut hs = HardState::default();
            hs.term = 2;
            hs.vote = 1;
            hs.commit = 3;
            s.append(&[ent(3, 2), ent(4, 2)], Some(&hs)).unwrap();
            assert_eq!(s.last_index().unwrap(), 4);
            assert_eq!(s.term(3).unwrap(), 2);
            assert_eq!(s.term(2).unwrap(), 1);
            // Gaps and overwriting the compacted log are refused.
            assert!(s.append(&[ent(9, 2)], None).is_err());
            assert!(s.append(&[ent(1, 2)], None).is_err());
        }
        let s = MetaStorage::open(dir.path()).unwrap();
        assert_eq!(s.first_index().unwrap(), 2);
        assert_eq!(s.last_index().unwrap(), 4);
        assert_eq!(s.term(4).unwrap(), 2);
        let hs = s.hard_state();
        assert_eq!((hs.term, hs.vote, hs.commit), (2, 1, 3));
    }

    #[test]
    fn compaction_and_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = MetaStorage::open(dir.path()).unwrap();
            s.bootstrap(vec![1, 2], vec![]).unwrap();
            let ents: Vec<Entry> = (2..=10).map(|i| ent(i, 1 + i / 5)).collect();
            s.append(&ents, None).unwrap();
            s.compact(6, b"state@6".to_vec()).unwrap();
            assert_eq!(s.first_index().unwrap(), 7);
            assert_eq!(s.last_index().unwrap(), 10);
            assert_eq!(s.term(6).unwrap(), 2);
            assert!(matches!(
                s.term(5),
                Err(raft::Error::Store(StorageError::Compacted))
            ));
            assert!(matches!(
                s.entries(5, 8, None, ctx()),
                Err(raft::Error::Store(StorageError::Compacted))
            ));
            let snap = s.snapshot(0, 2).unwrap();
            assert_eq!(snap.get_metadata().index, 6);
            assert_eq!(snap.get_metadata().get_conf_state().voters, vec![1, 2]);
            assert_eq!(&snap.data[..], b"state@6");
            assert!(matches!(
                s.snapshot(7, 2),
                Err(raft::Error::Store(
                    StorageError::SnapshotTemporarilyUnavailable
                ))
            ));
            // Compacting to an older index is a no-op; beyond the log, an error.
            s.compact(4, vec![]).unwrap();
            assert!(s.compact(11, vec![]).is_err());
        }
        let s = MetaStorage::open(dir.path()).unwrap();
        assert_eq!(s.first_index().unwrap(), 7);
        assert_eq!(s.last_index().unwrap(), 10);
        assert_eq!(s.snapshot_metadata().index, 6);
        assert_eq!(s.entries(7, 11, None, ctx()).unwrap().len(), 4);
    }

    #[test]
    fn apply_received_snapshot_replaces_log() {
        let (_d, s) = fresh();
        s.append(&[ent(1, 1), ent(2, 1)], None).unwrap();
        let mut snap = Snapshot::default();
        snap.data = b"x".to_vec();
        snap.mut_metadata().index = 20;
        snap.mut_metadata().term = 4;
        snap.mut_metadata().mut_conf_state().voters = vec![1, 2, 3, 4];
        s.apply_snapshot(&snap).unwrap();
        assert_eq!(s.first_index().unwrap(), 21);
        assert_eq!(s.last_index().unwrap(), 20);
        assert_eq!(s.term(20).unwrap(), 4);
        assert_eq!(s.hard_state().commit, 20);
        assert_eq!(s.conf_state().voters, vec![1, 2, 3, 4]);
        s.append(&[ent(21, 4)], None).unwrap();
        assert_eq!(s.last_index().unwrap(), 21);
    }
}
