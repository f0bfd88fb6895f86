//! Per-record data keys: personal data sealed at rest, and shredded.
//!
//! | CF     | key        | value |
//! |--------|------------|-------|
//! | `keys` | record key | the record's data key, wrapped under the master key ([`crate::privacy::keyring`]) |
//!
//! A record key gets a data key the first time this partition writes
//! something personal for it (the record, or an event that came before
//! it), and keeps it while anything sealed under it remains: the record
//! itself, or events kept for it. Its values (`records` rows, `events`
//! rows) are AES-256-GCM sealed under that key with the row's name as
//! associated data. Deleting the key row *shreds* the record: every copy
//! of its values, in old SST files, the WAL or a checkpoint, is unreadable
//! once no copy of the key row is left ([`RocksStore::purge`] makes sure of
//! that for an erasure).
//!
//! A key created or deleted in a batch not yet written is remembered here
//! ([`DataKeys`]), so the partition thread never reads a stale key row.

use std::collections::VecDeque;
use std::sync::Arc;

use rocksdb::{IteratorMode, WriteBatch};
use rustc_hash::FxHashMap;

use super::rocks::{corrupt, io, RocksStore, IN_FLIGHT};
use crate::engine::store::StoreError;
use crate::privacy::{DataKey, KeyError, Keyring};

/// How a store keeps personal data at rest.
#[derive(Clone, Debug)]
pub enum AtRest {
    /// Sealed under per-record data keys wrapped by the keyring's master key.
    Sealed(Arc<Keyring>),
    /// In plaintext: only for measuring what sealing costs.
    Plaintext,
}

impl AtRest {
    /// The name stored in the data directory, which never changes mode.
    pub fn name(&self) -> &'static str {
        match self {
            AtRest::Sealed(_) => "aes-256-gcm",
            AtRest::Plaintext => "plaintext",
        }
    }
}

type Generation = FxHashMap<Box<str>, Option<DataKey>>;

/// Data keys created or shredded in batches not yet surely written.
pub struct DataKeys {
    pub(super) at_rest: AtRest,
    pending: Generation,
    /// Newest first.
    flushed: VecDeque<Generation>,
}

impl DataKeys {
    pub fn new(at_rest: AtRest) -> Self {
        DataKeys {
            at_rest,
            pending: Generation::default(),
            flushed: VecDeque::new(),
        }
    }

    /// The pending batch was handed to the writer.
    pub fn rotate(&mut self) {
        let done = std::mem::take(&mut self.pending);
        self.flushed.push_front(done);
        self.flushed.truncate(IN_FLIGHT);
    }

    /// Some(Some(key)) or Some(None) (shredded) when a recent batch decided.
    fn recent(&self, record_key: &str) -> Option<Option<&DataKey>> {
        std::iter::once(&self.pending)
            .chain(self.flushed.iter())
            .find_map(|g| g.get(record_key).map(Option::as_ref))
    }
}

fn key_aad(record_key: &str) -> Vec<u8> {
    let mut a = b"keys\0".to_vec();
    a.extend_from_slice(record_key.as_bytes());
    a
}

/// A key error as a store error: a failed random generator is an I/O
/// failure (retry), anything else means the stored bytes do not open.
fn sealing(e: KeyError) -> StoreError {
    match e {
        KeyError::Random | KeyError::File { .. } => StoreError::Io(e.to_string()),
        KeyError::UnknownMasterKey(_) | KeyError::Tampered => StoreError::Corrupt(e.to_string()),
    }
}

impl RocksStore {
    /// The data key of a record key, if it has one.
    fn data_key(&self, record_key: &str) -> Result<Option<DataKey>, StoreError> {
        let AtRest::Sealed(ring) = &self.data_keys.at_rest else {
            return Ok(None);
        };
        if let Some(k) = self.data_keys.recent(record_key) {
            return Ok(k.cloned());
        }
        let Some(wrapped) = self
            .db
            .get_pinned_cf(self.cf("keys"), record_key)
            .map_err(io)?
        else {
            return Ok(None);
        };
        let (k, _) = ring
            .unwrap(&key_aad(record_key), &wrapped)
            .map_err(sealing)?;
        Ok(Some(k))
    }

    /// The data key of a record key, created (in `b`) if it has none.
    fn data_key_for_write(
        &mut self,
        record_key: &str,
        b: &mut WriteBatch,
    ) -> Result<Option<DataKey>, StoreError> {
        let AtRest::Sealed(ring) = &self.data_keys.at_rest else {
            return Ok(None);
        };
        if let Some(k) = self.data_key(record_key)? {
            return Ok(Some(k));
        }
        let ring = ring.clone();
        let (k, wrapped) = ring.new_data_key(&key_aad(record_key)).map_err(sealing)?;
        b.put_cf(self.cf("keys"), record_key, wrapped);
        self.data_keys
            .pending
            .insert(record_key.into(), Some(k.clone()));
        Ok(Some(k))
    }

    /// Seals a value of `record_key` stored under the row `row` (added to
    /// `b` if the record key needs a new data key).
    pub(super) fn seal(
        &mut self,
        record_key: &str,
        row: &[u8],
        plain: &[u8],
        b: &mut WriteBatch,
    ) -> Result<Vec<u8>, StoreError> {
        match self.data_key_for_write(record_key, b)? {
            Some(k) => k.seal(row, plain).map_err(sealing),
            None => Ok(plain.to_vec()),
        }
    }

    /// Opens a value [`RocksStore::seal`] sealed.
    pub(super) fn open_sealed(
        &self,
        record_key: &str,
        row: &[u8],
        stored: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        if let AtRest::Plaintext = self.data_keys.at_rest {
            return Ok(stored.to_vec());
        }
        let k = self
            .data_key(record_key)?
            .ok_or_else(|| corrupt("value without a data key (shredded?)", row))?;
        k.open(row, stored).map_err(sealing)
    }

    /// Deletes a record key's data key (in the pending batch): whatever was
    /// sealed under it can no longer be read.
    pub fn shred(&mut self, record_key: &str) {
        if let AtRest::Plaintext = self.data_keys.at_rest {
            return;
        }
        let mut b = std::mem::take(&mut self.pending);
        b.delete_cf(self.cf("keys"), record_key);
        self.pending = b;
        self.data_keys.pending.insert(record_key.into(), None);
    }

    /// Re-wraps every data key wrapped under an older master key; returns
    /// how many (run when the store opens, before anything else).
    pub(super) fn rewrap_data_keys(&self) -> Result<usize, StoreError> {
        let AtRest::Sealed(ring) = &self.data_keys.at_rest else {
            return Ok(0);
        };
        let cf = self.cf("keys");
        let (mut b, mut n) = (WriteBatch::default(), 0);
        for kv in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = kv.map_err(io)?;
            if ring.is_active(&v) {
                continue;
            }
            let key = std::str::from_utf8(&k).map_err(|_| corrupt("key row", &k))?;
            b.put_cf(cf, &k, ring.rewrap(&key_aad(key), &v).map_err(sealing)?);
            n += 1;
            if b.len() >= 10_000 {
                self.db.write(std::mem::take(&mut b)).map_err(io)?;
            }
        }
        self.db.write(b).map_err(io)?;
        if n > 0 {
            // Old wraps must not linger in the WAL or in older files.
            self.purge(None)?;
        }
        Ok(n)
    }

    /// Makes what was deleted so far unreadable on disk, now: flushes
    /// every memtable (so the WAL that held the deleted rows is retired),
    /// then rewrites the `keys` column family to its bottom level, so no
    /// SST file keeps a shredded key: only the rows of `only` (erased
    /// record keys) when given, else all of it. Erasures purge in the
    /// background instead ([`RocksStore::purge_later`]).
    pub fn purge(&self, only: Option<&[String]>) -> Result<(), StoreError> {
        super::purge::purge_db(&self.db, only)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use kindred_proto::v1::Record;

    use super::*;
    use crate::engine::features::Packed;
    use crate::engine::store::{PutRecord, Step, Store};
    use crate::storage::StoreOptions;

    fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if std::fs::read(&p)
                    .unwrap_or_default()
                    .windows(needle.len())
                    .any(|w| w == needle)
                {
                    out.push(p.display().to_string());
                }
            }
        }
        out
    }

    fn put(store: &mut RocksStore, key: &str, email: &str) {
        let record = Record {
            source: "crm".into(),
            record_id: key.into(),
            emails: vec![email.into()],
            ..Default::default()
        };
        let features = Packed::from_bytes(&crate::engine::hash::tests::PACKED).unwrap();
        let step = Step {
            records_put: vec![PutRecord {
                key: key.into(),
                record,
                features,
            }],
            ..Default::default()
        };
        store.commit(step).unwrap();
        store.flush().unwrap();
    }

    fn opts(ring: Keyring) -> StoreOptions {
        StoreOptions {
            at_rest: AtRest::Sealed(Arc::new(ring)),
            ..StoreOptions::default()
        }
    }

    #[test]
    fn a_shredded_record_key_leaves_no_copy_of_its_data_key_on_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        let mut store = RocksStore::open(&dir, &StoreOptions::default())
            .unwrap()
            .store;
        put(&mut store, "crm\u{1f}1", "erin.example@example.org");
        put(&mut store, "crm\u{1f}2", "other.person@example.org");
        let wrapped = store
            .db
            .get_cf(store.cf("keys"), "crm\u{1f}1")
            .unwrap()
            .expect("a data key row");
        assert_eq!(wrapped.len(), crate::privacy::keyring::WRAPPED_LEN);
        // In the WAL now, and in a table and a checkpoint (a backup) too.
        store.db.flush_cf(store.cf("keys")).unwrap();
        store.checkpoint(&tmp.path().join("backup")).unwrap();
        assert!(!files_holding(&dir, &wrapped).is_empty());
        assert!(files_holding(&dir, b"erin.example").is_empty());

        store
            .commit(Step {
                records_deleted: vec!["crm\u{1f}1".into()],
                ..Default::default()
            })
            .unwrap();
        store.shred("crm\u{1f}1");
        store.flush().unwrap();
        store.purge_later(vec!["crm\u{1f}1".to_string()]).unwrap();
        store.wait_purged();
        assert_eq!(files_holding(&dir, &wrapped), Vec::<String>::new());
        assert!(store.record("crm\u{1f}1").unwrap().is_none());
        // The backup still holds the old key: only its own shredding (or
        // the master key's destruction) makes it unreadable.
        assert!(!files_holding(&tmp.path().join("backup"), &wrapped).is_empty());
        // The other record is untouched.
        let other = store.record("crm\u{1f}2").unwrap().unwrap();
        assert_eq!(other.emails, vec!["other.person@example.org".to_string()]);
    }

    #[test]
    fn a_purge_cut_short_runs_again_when_the_store_opens() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        let key = tmp.path().join("master.key");
        Keyring::generate_file(&key).unwrap();
        let wrapped = {
            let mut store = RocksStore::open(&dir, &opts(Keyring::load(&key).unwrap()))
                .unwrap()
                .store;
            put(&mut store, "crm\u{1f}1", "erin.example@example.org");
            let wrapped = store
                .db
                .get_cf(store.cf("keys"), "crm\u{1f}1")
                .unwrap()
                .unwrap();
            store.db.flush_cf(store.cf("keys")).unwrap();
            store
                .commit(Step {
                    records_deleted: vec!["crm\u{1f}1".into()],
                    ..Default::default()
                })
                .unwrap();
            store.shred("crm\u{1f}1");
            store.flush().unwrap();
            // The erasure asked for its purge, and the node stopped before
            // the purge thread ran it.
            let mut marker = b"purge_pending/".to_vec();
            marker.extend_from_slice(&1u64.to_be_bytes());
            store.db.put_cf(store.cf("meta"), marker, []).unwrap();
            wrapped
        };
        assert!(!files_holding(&dir, &wrapped).is_empty());
        let store = RocksStore::open(&dir, &opts(Keyring::load(&key).unwrap()))
            .unwrap()
            .store;
        assert_eq!(files_holding(&dir, &wrapped), Vec::<String>::new());
        let left = store
            .db
            .prefix_iterator_cf(store.cf("meta"), b"purge_pending/")
            .filter_map(Result::ok)
            .filter(|(k, _)| k.starts_with(b"purge_pending/"))
            .count();
        assert_eq!(left, 0, "the purge's row is gone once it ran");
    }

    #[test]
    fn a_rotated_master_key_rewraps_every_data_key_and_the_old_key_can_go() {
        let tmp = tempfile::tempdir().unwrap();
        let (old, rotated, new_only) = (
            tmp.path().join("old.key"),
            tmp.path().join("rotated.key"),
            tmp.path().join("new.key"),
        );
        Keyring::generate_file(&old).unwrap();
        let dir = tmp.path().join("p");
        {
            let mut store = RocksStore::open(&dir, &opts(Keyring::load(&old).unwrap()))
                .unwrap()
                .store;
            for i in 0..50 {
                put(
                    &mut store,
                    &format!("crm\u{1f}{i}"),
                    &format!("p{i}@example.org"),
                );
            }
        }
        Keyring::rotate_file(&old, &rotated).unwrap();
        {
            let store = RocksStore::open(&dir, &opts(Keyring::load(&rotated).unwrap()))
                .unwrap()
                .store;
            let ring = Keyring::load(&rotated).unwrap();
            for kv in store.db.iterator_cf(store.cf("keys"), IteratorMode::Start) {
                assert!(ring.is_active(&kv.unwrap().1), "every key re-wrapped");
            }
        }
        // The old key line removed: everything still opens.
        let text = std::fs::read_to_string(&rotated).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let last_key = lines.iter().rposition(|l| l.starts_with("key ")).unwrap();
        lines.remove(last_key);
        std::fs::write(&new_only, lines.join("\n")).unwrap();
        let opened = RocksStore::open(&dir, &opts(Keyring::load(&new_only).unwrap())).unwrap();
        assert_eq!(opened.state.records.len(), 50);
        let r = opened.store.record("crm\u{1f}7").unwrap().unwrap();
        assert_eq!(r.emails, vec!["p7@example.org".to_string()]);
        drop(opened);
        // A key file without the key the data was wrapped under cannot open it.
        let stranger = tmp.path().join("stranger.key");
        Keyring::generate_file(&stranger).unwrap();
        let err = RocksStore::open(&dir, &opts(Keyring::load(&stranger).unwrap()))
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("master key"), "{err}");
    }
}
