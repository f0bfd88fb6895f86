//! The engine's store on RocksDB.
//!
//! Column families:
//!
//! | CF            | key                              | value                                  |
//! |---------------|----------------------------------|----------------------------------------|
//! | `records`     | source 0x1f record_id            | sealed ([`super::keys`]): u32 LE length + packed features (a restart need not standardise again), then the `kindred.v1.Record`, protobuf |
//! | `keys`        | record key                       | the record key's data key, wrapped: see [`super::keys`] |
//! | `seen`        | record key                       | when the record was last observed: see [`super::seen`] |
//! | `edges`       | key a 0x00 key b (a < b)         | match weight (f32 LE): links and possible matches |
//! | `entities`    | entity id (u64 BE) 0x00 record key | empty: the entity's members (record → entity at restart) |
//! | `entities`    | entity id (u64 BE)               | 0x01 + the id it was merged into       |
//! | `history`     | entity id BE, step BE, index BE  | audit event, JSON                      |
//! | `meta`        | name                             | schema version, model, counters        |
//! | `links`       | record key 0x00 partner key      | a cross-partition link: [`Link`]       |
//! | `events`, `summaries`, `orphans` | see [`super::events`] | a record's events and their per-day summaries |
//! | `members`, `feed` | see [`super::membership`] | segment membership of the customers whose id is homed here, and its change feed |
//!
//! No personal value is written in plaintext: record values and events are
//! sealed under the record's data key; blocking keys (demoted keys, the
//! keys of a link) are keyed hashes; record ids remain in row keys.
//!
//! Every row is written once per record where possible: memtable inserts are
//! the node's main storage cost during imports.
//!
//! Every resolution step is added to one `WriteBatch`. A group commit hands
//! the batch to the store's writer thread, which writes batches strictly in
//! order and only then runs the batch's acknowledgement, so a crash at any
//! moment leaves all of a step or none of it, and nothing is acknowledged
//! before it is written. The partition thread meanwhile resolves the next
//! batch: resolution and the RocksDB write overlap.

use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use prost::Message;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, IteratorMode, Options, WriteBatch,
    WriteOptions, DB,
};

use kindred_proto::v1::Record;

use crate::engine::features::Packed;
use crate::engine::resolver::{RestoredRecord, RestoredState};
use crate::engine::store::{EntityId, Event, Step, Store, StoreError};
use crate::engine::Model;

use super::events::{Recent, ACTIVITY_CFS};
use super::keys::{AtRest, DataKeys};
use super::membership::{Overlay, MEMBERSHIP_CFS};
use super::triggers::TRIGGER_CFS;

/// On-disk layout version; a data directory of another version is refused.
pub const SCHEMA_VERSION: &str = "3";

/// Prefix of the `meta` rows naming keys demoted cluster-wide.
const HOT_PREFIX: &[u8] = b"hot/";

fn hot_key_row(key: u64) -> Vec<u8> {
    let mut k = HOT_PREFIX.to_vec();
    k.extend_from_slice(&key.to_be_bytes());
    k
}

/// The names of the column families of a partition's store.
pub fn column_families() -> &'static [&'static str] {
    &CFS
}

const CFS: [&str; 15] = [
    "records",
    "keys",
    "seen",
    "edges",
    "entities",
    "history",
    "meta",
    "links",
    ACTIVITY_CFS[0],
    ACTIVITY_CFS[1],
    ACTIVITY_CFS[2],
    MEMBERSHIP_CFS[0],
    MEMBERSHIP_CFS[1],
    TRIGGER_CFS[0],
    TRIGGER_CFS[1],
];

/// A link between a record of this partition and a record of another
/// partition of the cluster, as found by a probe. Valid only while both
/// records still have the content hashes it was found with.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    pub partner: String,
    pub partner_partition: u32,
    pub my_hash: u64,
    pub partner_hash: u64,
    pub weight: f32,
    /// The blocking keys the two records share that were live in the
    /// probed partition when the link was found. A link counts only while
    /// one of them is live in both partitions.
    pub keys: Vec<u64>,
}

impl Link {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        v.extend_from_slice(&self.partner_partition.to_le_bytes());
        v.extend_from_slice(&self.my_hash.to_le_bytes());
        v.extend_from_slice(&self.partner_hash.to_le_bytes());
        v.extend_from_slice(&self.weight.to_le_bytes());
        for k in &self.keys {
            v.extend_from_slice(&k.to_le_bytes());
        }
        v
    }

    fn decode(partner: &str, v: &[u8]) -> Option<Link> {
        Some(Link {
            partner: partner.to_string(),
            partner_partition: u32::from_le_bytes(v.get(0..4)?.try_into().ok()?),
            my_hash: u64::from_le_bytes(v.get(4..12)?.try_into().ok()?),
            partner_hash: u64::from_le_bytes(v.get(12..20)?.try_into().ok()?),
            weight: f32::from_le_bytes(v.get(20..24)?.try_into().ok()?),
            keys: v
                .get(24..)?
                .chunks_exact(8)
                .filter_map(|c| c.try_into().ok().map(u64::from_le_bytes))
                .collect(),
        })
    }
}

fn link_prefix(key: &str) -> (Vec<u8>, Vec<u8>) {
    let mut from = key.as_bytes().to_vec();
    from.push(0);
    let mut to = key.as_bytes().to_vec();
    to.push(1);
    (from, to)
}

/// Tuning for the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// fsync every group commit (survives power loss, not only process crashes).
    pub sync: bool,
    /// Block cache size in bytes.
    pub block_cache_bytes: usize,
    /// How personal data is kept at rest.
    pub at_rest: AtRest,
}

impl Default for StoreOptions {
    /// Sealed under the process's ephemeral keyring (tests and tools; a
    /// node passes its own).
    fn default() -> Self {
        StoreOptions {
            sync: false,
            block_cache_bytes: 256 << 20,
            at_rest: AtRest::Sealed(crate::privacy::Keyring::process_ephemeral()),
        }
    }
}

/// The engine's store on RocksDB.
pub struct RocksStore {
    pub(super) db: Arc<DB>,
    writer: Option<(SyncSender<WriteJob>, JoinHandle<()>)>,
    /// The first write error; once set, the store accepts no more writes.
    failure: Arc<Mutex<Option<String>>>,
    pub(super) pending: WriteBatch,
    /// Event rows not yet surely readable from RocksDB.
    pub(super) recent: Recent,
    /// (next entity id, step sequence) of the last step not yet flushed.
    counters: Option<(u64, u64)>,
    /// Data keys decided in batches not yet surely written.
    pub(super) data_keys: DataKeys,
    /// Erasures' purges, off the partition's thread.
    pub(super) purger: super::purge::Purger,
    /// Member rows not surely on disk yet.
    pub(super) members_recent: Overlay<super::membership::MemberRow>,
    pub(super) claims_recent: Overlay<super::triggers::Claim>,
    /// The last sequence number of the change feed (read at first use).
    pub(super) feed_seq: Option<u64>,
}

/// Batches that wait for the writer thread at most.
const WRITER_QUEUE: usize = 2;

/// Batches handed to the writer that may not be on disk yet: those queued,
/// the one being written, and one for good measure. What the partition
/// thread remembers of recent batches (events, data keys) covers them.
pub(super) const IN_FLIGHT: usize = WRITER_QUEUE + 2;

/// Runs after a batch is written (or failed to be).
pub type Ack = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

struct WriteJob {
    batch: WriteBatch,
    ack: Ack,
}

/// The writer thread: writes batches in order, then acknowledges them.
fn spawn_writer(
    db: Arc<DB>,
    opts: WriteOptions,
    failure: Arc<Mutex<Option<String>>>,
) -> Result<(SyncSender<WriteJob>, JoinHandle<()>), StoreError> {
    // WRITER_QUEUE batches wait at most: backpressure on the partition thread.
    let (tx, rx) = sync_channel::<WriteJob>(WRITER_QUEUE);
    let join = std::thread::Builder::new()
        .name("kindred-writer".into())
        .spawn(move || {
            for job in rx {
                let failed = failure.lock().map(|f| f.clone()).unwrap_or(None);
                let res = match failed {
                    Some(why) => Err(StoreError::Io(format!("an earlier write failed: {why}"))),
                    None => db.write_opt(job.batch, &opts).map_err(io),
                };
                if let Err(e) = &res {
                    if let Ok(mut f) = failure.lock() {
                        f.get_or_insert_with(|| e.to_string());
                    }
                }
                (job.ack)(res);
            }
        })
        .map_err(io)?;
    Ok((tx, join))
}

/// A store just opened, with what the engine needs back.
pub struct OpenedStore {
    pub store: RocksStore,
    pub state: RestoredState,
    /// The model the node last used, if any.
    pub model: Option<Model>,
}

pub(super) fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

pub(super) fn corrupt(what: &str, key: &[u8]) -> StoreError {
    StoreError::Corrupt(format!(
        "{what} under key {:?}",
        String::from_utf8_lossy(key)
    ))
}

fn edge_key(a: &str, b: &str) -> Vec<u8> {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    let mut k = Vec::with_capacity(x.len() + y.len() + 1);
    k.extend_from_slice(x.as_bytes());
    k.push(0);
    k.extend_from_slice(y.as_bytes());
    k
}

/// Entity membership row: entity id (BE), 0x00, record key.
fn member_key(entity: EntityId, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + key.len());
    k.extend_from_slice(&entity.to_be_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

/// Splits a `records` value into (packed features, encoded record).
fn split_record_value(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = u32::from_le_bytes(v.get(..4)?.try_into().ok()?) as usize;
    let end = 4usize.checked_add(n)?;
    Some((v.get(4..end)?, v.get(end..)?))
}

/// What a `records` value is sealed with: its row.
fn record_aad(key: &str) -> Vec<u8> {
    let mut a = b"records\0".to_vec();
    a.extend_from_slice(key.as_bytes());
    a
}

fn u64_of(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.try_into().ok()?))
}

impl RocksStore {
    /// Opens (or creates) the store in `dir` and reads back the engine state.
    pub fn open(dir: &Path, opts: &StoreOptions) -> Result<OpenedStore, StoreError> {
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_max_background_jobs(2);
        db_opts.set_bytes_per_sync(1 << 20);
        let cache = Cache::new_lru_cache(opts.block_cache_bytes).map_err(io)?;
        let cf_opts = |point_lookups: bool| {
            let mut o = Options::default();
            let mut t = BlockBasedOptions::default();
            t.set_block_cache(&cache);
            if point_lookups {
                t.set_bloom_filter(10.0, false);
            }
            o.set_block_based_table_factory(&t);
            o.set_compression_type(rocksdb::DBCompressionType::Lz4);
            o
        };
        let cfs = CFS.iter().map(|n| {
            let mut o = cf_opts(*n != "history" && *n != "summaries");
            if *n == "summaries" {
                o.set_merge_operator_associative(
                    "kindred-summary-v1",
                    crate::activity::summary::merge_operator,
                );
            }
            if *n == "events" || *n == "summaries" {
                // The bulk of an activity-heavy partition: compress the
                // last level harder.
                o.set_bottommost_compression_type(rocksdb::DBCompressionType::Zstd);
            }
            ColumnFamilyDescriptor::new(*n, o)
        });
        let db = DB::open_cf_descriptors(&db_opts, dir, cfs).map_err(io)?;
        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(opts.sync);
        let db = Arc::new(db);
        let failure = Arc::new(Mutex::new(None));
        let writer = spawn_writer(db.clone(), write_opts, failure.clone())?;
        let mut store = RocksStore {
            db,
            writer: Some(writer),
            failure,
            pending: WriteBatch::default(),
            recent: Recent::default(),
            counters: None,
            data_keys: DataKeys::new(opts.at_rest.clone()),
            purger: Default::default(),
            members_recent: Overlay::default(),
            claims_recent: Overlay::default(),
            feed_seq: None,
        };
        store.check_at_rest()?;
        if store.resume_purge()? {
            tracing::info!(dir = %dir.display(), "finished a purge a stop had cut short");
        }
        let rewrapped = store.rewrap_data_keys()?;
        if rewrapped > 0 {
            tracing::info!(
                dir = %dir.display(),
                rewrapped,
                "re-wrapped data keys under the new master key"
            );
        }
        let (state, model) = store.load()?;
        Ok(OpenedStore {
            store,
            state,
            model,
        })
    }

    /// The database handle, for readers outside the partition thread
    /// (metrics read RocksDB properties through it).
    pub fn shared_db(&self) -> Arc<DB> {
        self.db.clone()
    }

    pub(super) fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(name)
            .expect("column family created at open")
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get_cf(self.cf("meta"), name).map_err(io)
    }

    /// Refuses a data directory written in the other at-rest mode.
    fn check_at_rest(&self) -> Result<(), StoreError> {
        let want = self.data_keys.at_rest.name();
        match self.meta("at_rest")? {
            None => self
                .db
                .put_cf(self.cf("meta"), "at_rest", want)
                .map_err(io),
            Some(v) if v == want.as_bytes() => Ok(()),
            Some(v) => Err(StoreError::Corrupt(format!(
                "the data directory keeps personal data {:?} at rest; this node is configured for {want:?}",
                String::from_utf8_lossy(&v)
            ))),
        }
    }

    fn load(&self) -> Result<(RestoredState, Option<Model>), StoreError> {
        match self.meta("schema_version")? {
            None => {
                self.db
                    .put_cf(self.cf("meta"), "schema_version", SCHEMA_VERSION)
                    .map_err(io)?;
            }
            Some(v) if v == SCHEMA_VERSION.as_bytes() => {}
            Some(v) => {
                return Err(StoreError::Corrupt(format!(
                    "data directory has schema version {:?}, this build reads {SCHEMA_VERSION:?}",
                    String::from_utf8_lossy(&v)
                )))
            }
        }
        let model = match self.meta("model")? {
            None => None,
            Some(b) => Some(
                Model::from_json(&String::from_utf8_lossy(&b))
                    .map_err(|e| StoreError::Corrupt(format!("stored model: {e}")))?,
            ),
        };
        let mut state = RestoredState {
            next_entity: self
                .meta("next_entity")?
                .and_then(|v| u64_of(&v))
                .unwrap_or(1),
            step_seq: self.meta("step_seq")?.and_then(|v| u64_of(&v)).unwrap_or(0),
            ..RestoredState::default()
        };
        // Record → entity, from the entities' membership rows.
        let mut entity_of: std::collections::HashMap<Box<[u8]>, EntityId> =
            std::collections::HashMap::new();
        let mut redirects = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf("entities"), IteratorMode::Start)
        {
            let (k, v) = item.map_err(io)?;
            if k.len() == 8 {
                if v.first() == Some(&1) {
                    let old = u64_of(&k).ok_or_else(|| corrupt("entity id", &k))?;
                    let new = u64_of(&v[1..]).ok_or_else(|| corrupt("entity redirect", &k))?;
                    redirects.push((old, new));
                }
            } else if k.len() > 9 && k[8] == 0 {
                let id = u64_of(&k[..8]).ok_or_else(|| corrupt("entity id", &k))?;
                entity_of.insert(k[9..].into(), id);
            } else {
                return Err(corrupt("entity row", &k));
            }
        }
        state.redirects = redirects;
        state.hot_keys = self.hot_keys()?;
        for item in self.db.iterator_cf(self.cf("records"), IteratorMode::Start) {
            let (k, v) = item.map_err(io)?;
            let key = String::from_utf8(k.to_vec()).map_err(|_| corrupt("record key", &k))?;
            let v = self.open_sealed(&key, &record_aad(&key), &v)?;
            let features = split_record_value(&v)
                .and_then(|(f, _)| Packed::from_bytes(f))
                .ok_or_else(|| corrupt("record features", &k))?;
            let entity = entity_of.remove(&k[..]).unwrap_or(0);
            state.records.push(RestoredRecord {
                key,
                features,
                entity,
            });
        }
        for item in self.db.iterator_cf(self.cf("edges"), IteratorMode::Start) {
            let (k, v) = item.map_err(io)?;
            let sep = k
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| corrupt("edge key", &k))?;
            let a = String::from_utf8(k[..sep].to_vec()).map_err(|_| corrupt("edge key", &k))?;
            let b =
                String::from_utf8(k[sep + 1..].to_vec()).map_err(|_| corrupt("edge key", &k))?;
            let w = f32::from_le_bytes(v[..].try_into().map_err(|_| corrupt("edge weight", &k))?);
            state.edges.push((a, b, w));
        }
        Ok((state, model))
    }

    /// Group commit without waiting: everything committed so far is written
    /// after every earlier batch, then `ack` runs with the outcome.
    /// True when committed writes wait for the next group commit.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.counters.is_some()
    }

    pub fn flush_then(&mut self, ack: Ack) {
        let mut b = std::mem::take(&mut self.pending);
        self.recent.rotate();
        self.members_recent.rotate();
        self.claims_recent.rotate();
        self.data_keys.rotate();
        // Counters only need their latest values: once per group commit.
        if let Some((next_entity, seq)) = self.counters.take() {
            let meta = self.cf("meta");
            b.put_cf(meta, "next_entity", next_entity.to_be_bytes());
            b.put_cf(meta, "step_seq", seq.to_be_bytes());
        }
        match &self.writer {
            Some((tx, _)) => {
                if let Err(e) = tx.send(WriteJob { batch: b, ack }) {
                    (e.0.ack)(Err(StoreError::Io("the writer thread stopped".into())));
                }
            }
            None => ack(Err(StoreError::Io("the store is closed".into()))),
        }
    }

    /// The first write error, if any: the store then accepts no writes.
    /// Replaces (or, with `replace` false, adds to) a record's
    /// cross-partition links, in the next group commit.
    pub fn put_links(&mut self, key: &str, links: &[Link], replace: bool) {
        let Some(cf) = self.db.cf_handle("links") else {
            return;
        };
        if replace {
            let (from, to) = link_prefix(key);
            self.pending.delete_range_cf(cf, from, to);
        }
        for l in links {
            let mut k = key.as_bytes().to_vec();
            k.push(0);
            k.extend_from_slice(l.partner.as_bytes());
            self.pending.put_cf(cf, k, l.encode());
        }
    }

    /// Deletes an entity's audit history, in the next group commit.
    pub fn delete_history(&mut self, entity: EntityId) {
        let mut b = std::mem::take(&mut self.pending);
        let end = entity.saturating_add(1).to_be_bytes();
        b.delete_range_cf(self.cf("history"), entity.to_be_bytes(), end);
        self.pending = b;
    }

    /// Drops every link of a record, in the next group commit.
    pub fn delete_links(&mut self, key: &str) {
        self.put_links(key, &[], true);
    }

    /// The stored links of a record (as of the last written commit).
    pub fn links_of(&self, key: &str) -> Result<Vec<Link>, StoreError> {
        let cf = self
            .db
            .cf_handle("links")
            .ok_or_else(|| io("no links CF"))?;
        let (from, to) = link_prefix(key);
        let mut out = Vec::new();
        let it = self
            .db
            .iterator_cf(cf, IteratorMode::From(&from, rocksdb::Direction::Forward));
        for kv in it {
            let (k, v) = kv.map_err(io)?;
            if k.as_ref() >= to.as_slice() {
                break;
            }
            let partner = std::str::from_utf8(&k[from.len()..]).map_err(|_| corrupt("link", &k))?;
            out.push(Link::decode(partner, &v).ok_or_else(|| corrupt("link", &k))?);
        }
        Ok(out)
    }

    /// Every stored link: (record key, link).
    pub fn all_links(&self) -> Result<Vec<(String, Link)>, StoreError> {
        let cf = self
            .db
            .cf_handle("links")
            .ok_or_else(|| io("no links CF"))?;
        let mut out = Vec::new();
        for kv in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (k, v) = kv.map_err(io)?;
            let cut = k
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| corrupt("link", &k))?;
            let mine = std::str::from_utf8(&k[..cut]).map_err(|_| corrupt("link", &k))?;
            let partner = std::str::from_utf8(&k[cut + 1..]).map_err(|_| corrupt("link", &k))?;
            out.push((
                mine.to_string(),
                Link::decode(partner, &v).ok_or_else(|| corrupt("link", &k))?,
            ));
        }
        Ok(out)
    }

    /// Writes a consistent copy of the store (hard links where possible)
    /// into `dir`, which must not exist; pending writes are flushed first.
    pub fn checkpoint(&mut self, dir: &Path) -> Result<(), StoreError> {
        self.flush()?;
        let cp = rocksdb::checkpoint::Checkpoint::new(&self.db).map_err(io)?;
        cp.create_checkpoint(dir).map_err(io)
    }

    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Keys demoted cluster-wide (`meta` rows `hot/` + key).
    fn hot_keys(&self) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        let mode = IteratorMode::From(HOT_PREFIX, rocksdb::Direction::Forward);
        for item in self.db.iterator_cf(self.cf("meta"), mode) {
            let (k, _) = item.map_err(io)?;
            let Some(rest) = k.strip_prefix(HOT_PREFIX) else {
                break;
            };
            out.push(u64_of(rest).ok_or_else(|| corrupt("hot key", &k))?);
        }
        Ok(out)
    }

    /// The version of the clustering algorithm the stored entities were
    /// computed with (`engine::cluster::CLUSTERING_VERSION`).
    pub fn clustering_version(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .meta("clustering_version")?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn save_clustering_version(&self, version: &str) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db
            .put_cf_opt(self.cf("meta"), "clustering_version", version, &wo)
            .map_err(io)
    }

    /// True while a re-resolution under the stored model is unfinished
    /// (`Engine::begin_model`): edges scored by the previous model may
    /// remain, so opening the partition resumes it.
    pub fn reresolving(&self) -> Result<bool, StoreError> {
        Ok(self.meta("reresolving")?.is_some())
    }

    /// Marks a re-resolution as under way (before its first step) or done
    /// (once its last step is durable).
    pub fn save_reresolving(&self, on: bool) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let cf = self.cf("meta");
        if on {
            self.db.put_cf_opt(cf, "reresolving", b"1", &wo)
        } else {
            self.db.delete_cf_opt(cf, "reresolving", &wo)
        }
        .map_err(io)
    }

    /// Stores the active model (written at once, durably).
    pub fn save_model(&self, model: &Model) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db
            .put_cf_opt(self.cf("meta"), "model", model.to_json(), &wo)
            .map_err(io)
    }
}

impl Drop for RocksStore {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish every queued batch.
        if let Some((tx, join)) = self.writer.take() {
            drop(tx);
            let _ = join.join();
        }
        self.purger.finish();
    }
}

impl Store for RocksStore {
    fn commit(&mut self, step: Step) -> Result<(), StoreError> {
        let mut b = std::mem::take(&mut self.pending);
        for k in &step.records_deleted {
            b.delete_cf(self.cf("records"), k);
        }
        for p in &step.records_put {
            let f = p.features.as_bytes();
            let mut v = Vec::with_capacity(4 + f.len() + p.record.encoded_len());
            v.extend_from_slice(&(f.len() as u32).to_le_bytes());
            v.extend_from_slice(f);
            p.record.encode(&mut v).map_err(io)?;
            let v = self.seal(&p.key, &record_aad(&p.key), &v, &mut b)?;
            b.put_cf(self.cf("records"), &p.key, v);
        }
        let (edges, entities, history) =
            (self.cf("edges"), self.cf("entities"), self.cf("history"));
        for a in &step.assignments {
            if a.from != 0 {
                b.delete_cf(entities, member_key(a.from, &a.key));
            }
            if a.to != 0 {
                b.put_cf(entities, member_key(a.to, &a.key), []);
            }
        }
        for e in &step.edges {
            let k = edge_key(&e.a, &e.b);
            match e.weight {
                Some(w) => b.put_cf(edges, k, w.to_le_bytes()),
                None => b.delete_cf(edges, k),
            }
        }
        for (old, new) in &step.redirects {
            let mut v = vec![1u8];
            v.extend_from_slice(&new.to_be_bytes());
            b.put_cf(entities, old.to_be_bytes(), v);
        }
        for (i, e) in step.events.iter().enumerate() {
            let mut k = Vec::with_capacity(18);
            k.extend_from_slice(&e.entity.to_be_bytes());
            k.extend_from_slice(&e.step.to_be_bytes());
            k.extend_from_slice(&(i as u16).to_be_bytes());
            b.put_cf(history, k, serde_json::to_vec(e).map_err(io)?);
        }
        for &(key, hot) in &step.hot_keys {
            let k = hot_key_row(key);
            if hot {
                b.put_cf(self.cf("meta"), k, []);
            } else {
                b.delete_cf(self.cf("meta"), k);
            }
        }
        self.pending = b;
        self.counters = Some((step.next_entity, step.seq));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.flush_then(Box::new(move |r| {
            let _ = tx.send(r);
        }));
        rx.recv()
            .unwrap_or_else(|_| Err(StoreError::Io("the writer thread stopped".into())))
    }

    fn record(&self, key: &str) -> Result<Option<Record>, StoreError> {
        self.db
            .get_pinned_cf(self.cf("records"), key)
            .map_err(io)?
            .map(|v| {
                let v = self.open_sealed(key, &record_aad(key), &v)?;
                split_record_value(&v)
                    .and_then(|(_, r)| Record::decode(r).ok())
                    .ok_or_else(|| corrupt("record", key.as_bytes()))
            })
            .transpose()
    }

    fn history(&self, entity: EntityId) -> Result<Vec<Event>, StoreError> {
        let prefix = entity.to_be_bytes();
        let mut out = Vec::new();
        for item in self.db.prefix_iterator_cf(self.cf("history"), prefix) {
            let (k, v) = item.map_err(io)?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(serde_json::from_slice(&v).map_err(|_| corrupt("history event", &k))?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip_and_replace_per_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RocksStore::open(dir.path(), &StoreOptions::default())
            .unwrap()
            .store;
        let link = |partner: &str, keys: Vec<u64>| Link {
            partner: partner.into(),
            partner_partition: 3,
            my_hash: 11,
            partner_hash: u64::MAX,
            weight: 12.5,
            keys,
        };
        store.put_links("s\u{1f}1", &[link("t\u{1f}9", vec![1, u64::MAX])], false);
        store.put_links("s\u{1f}1", &[link("t\u{1f}8", vec![])], false);
        store.put_links("s\u{1f}10", &[link("t\u{1f}7", vec![5])], false);
        store.flush().unwrap();
        let got = store.links_of("s\u{1f}1").unwrap();
        assert_eq!(
            got,
            vec![
                link("t\u{1f}8", vec![]),
                link("t\u{1f}9", vec![1, u64::MAX])
            ]
        );
        // A record's prefix never reaches another record's links.
        assert_eq!(store.links_of("s\u{1f}10").unwrap().len(), 1);
        store.put_links("s\u{1f}1", &[link("t\u{1f}6", vec![2])], true);
        store.flush().unwrap();
        assert_eq!(
            store.links_of("s\u{1f}1").unwrap(),
            vec![link("t\u{1f}6", vec![2])]
        );
        assert_eq!(store.all_links().unwrap().len(), 2);
    }
}
