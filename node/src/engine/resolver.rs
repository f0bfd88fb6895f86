//! The incremental, entity-centric resolver.
//!
//! [`Engine::upsert`] standardises a record, indexes its blocking keys,
//! scores it against every record sharing a live key, keeps the pairs that
//! score at least the possible-match threshold as edges, and re-clusters the
//! connected component around it with [`super::cluster::cluster`]. Because
//! entities are a pure function of records and edges, the final clustering
//! does not depend on arrival order or batching. Entity ids are stable: on a
//! merge the oldest id survives, on a split the largest part keeps it.

mod reresolve;

pub use reresolve::ReresolveProgress;

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use smallvec::SmallVec;

use kindred_proto::v1::Record;

use super::blocking::{record_keys, Keys};
use super::cluster::{cluster_by_home, conflicts, Clustering, EdgeIn, Node};
use super::compare::Comparator;
use super::config::EngineConfig;
use super::features::{home_key, FeatView, Packed};
use super::hash::{content_hash, hash64};
use super::model::{probability_to_weight, Model, Scorer};
use super::postings::Postings;
use super::standardize::{standardize_record_at, Issue, StandardizeConfig};
use super::store::{
    Assignment, EdgeChange, EntityId, Event, EventKind, MemoryStore, PutRecord, Step, Store,
    StoreError, Via,
};

/// Engine errors, each naming what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid record: field `{field}` = {value:?}: {reason}")]
    InvalidRecord {
        field: String,
        value: String,
        reason: String,
    },
    #[error("record {0} not found")]
    RecordNotFound(String),
    #[error("entity {0} not found")]
    EntityNotFound(EntityId),
    #[error("no customer has {kind} {value:?}")]
    IdentityNotFound { kind: String, value: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Model(#[from] super::model::ModelError),
}

/// Separates source and record id in internal keys.
pub const KEY_SEP: char = '\u{1f}';

/// The internal key of (source, record_id).
pub fn record_key(source: &str, record_id: &str) -> String {
    let mut k = String::with_capacity(source.len() + record_id.len() + 1);
    k.push_str(source);
    k.push(KEY_SEP);
    k.push_str(record_id);
    k
}

/// Splits an internal key into (source, record_id).
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once(KEY_SEP).unwrap_or(("", key))
}

/// `source/record_id`, for people.
pub fn display_key(key: &str) -> String {
    let (s, r) = split_key(key);
    format!("{s}/{r}")
}

/// `source:record_id`: a record as the CLI and the API take it, for error
/// messages, so that the value named is the value the caller gave.
pub fn ref_key(key: &str) -> String {
    let (s, r) = split_key(key);
    format!("{s}:{r}")
}

/// A record's full date of birth (year, month, day) and strong identifiers
/// (kind, value).
pub type Evidence = (Option<(u16, u8, u8)>, Vec<(String, String)>);

/// An edge from one record to another with its match weight.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Edge {
    other: u32,
    weight: f32,
}

#[derive(Debug)]
struct Slot {
    key: Box<str>,
    feats: Packed,
    entity: EntityId,
    edges: SmallVec<[Edge; 2]>,
}

/// What an upsert did to the record's entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The record started a new entity.
    Created,
    /// The record joined an existing entity.
    Joined,
    /// The record linked several entities, which merged.
    Merged,
}

/// The result of one upsert.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Outcome {
    pub entity: EntityId,
    pub action: Action,
    /// Entity ids absorbed into `entity` by this step.
    pub absorbed: Vec<EntityId>,
    /// The record existed before and was replaced.
    pub replaced: bool,
    /// Values that could not be standardised (kept raw).
    pub issues: Vec<Issue>,
    /// Possible matches (below the link threshold) found for this record.
    pub possible_matches: usize,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Stats {
    pub records: usize,
    pub entities: usize,
    pub merges: u64,
    pub splits: u64,
    pub comparisons: u64,
    pub match_edges: usize,
    pub possible_edges: usize,
    pub blocking_keys: usize,
    pub demoted_keys: usize,
    /// Records still to re-score under a new model.
    pub reresolving: usize,
}

/// A resolved neighbour of a record.
/// A blocking key's count on one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyCount {
    pub key: u64,
    /// Records holding it here.
    pub count: u32,
    /// Demoted cluster-wide.
    pub hot: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    pub key: String,
    pub entity: EntityId,
    pub weight: f64,
    pub is_match: bool,
}

/// A record as a store holds it, for restoring an engine at startup.
#[derive(Debug, Clone)]
pub struct RestoredRecord {
    pub key: String,
    pub features: Packed,
    pub entity: EntityId,
}

/// Everything an engine needs back from a store after a restart.
#[derive(Debug, Clone, Default)]
pub struct RestoredState {
    pub records: Vec<RestoredRecord>,
    /// (key a, key b, weight) of every edge.
    pub edges: Vec<(String, String, f32)>,
    /// Merged-away entity id → the id it was merged into.
    pub redirects: Vec<(EntityId, EntityId)>,
    pub next_entity: EntityId,
    pub step_seq: u64,
    /// Keys demoted cluster-wide.
    pub hot_keys: Vec<u64>,
}

/// Where the time stamped on history events comes from.
///
/// Every state change of a partition is a deterministic command applied in
/// order (the log replication carries), so an engine driven by a partition
/// must not read the wall clock: the actor pins the time carried by each
/// command with [`Engine::set_time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system clock: for library use, evaluation and tests.
    #[default]
    System,
    /// A fixed time in milliseconds since the Unix epoch.
    Fixed(i64),
}

impl Clock {
    /// The current time in milliseconds since the Unix epoch.
    pub fn now_ms(self) -> i64 {
        match self {
            Clock::System => crate::clock::Clock::now_ms(&crate::clock::SystemClock),
            Clock::Fixed(at_ms) => at_ms,
        }
    }
}

/// The resolution engine over a [`Store`].
pub struct Engine<S: Store = MemoryStore> {
    cfg: EngineConfig,
    std_cfg: StandardizeConfig,
    scorer: Scorer,
    comparator: Comparator,
    match_w: f64,
    possible_w: f64,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    index: FxHashMap<u64, u32>,
    index_overflow: FxHashMap<Box<str>, u32>,
    postings: Postings,
    /// Keys demoted cluster-wide: held by more than `max_key_size` records
    /// over every partition, however few hold them here (a cluster's
    /// coordinators decide it from the counts every partition reports;
    /// an engine used alone never has any).
    hot: FxHashSet<u64>,
    entities: FxHashMap<EntityId, Vec<u32>>,
    redirects: FxHashMap<EntityId, EntityId>,
    /// Reverse of `redirects`: survivor → ids merged directly into it.
    absorbed: FxHashMap<EntityId, SmallVec<[EntityId; 1]>>,
    next_entity: EntityId,
    /// Entity ids are `offset + 1 + k * stride`: partitions of a cluster
    /// allocate from disjoint id spaces, and an id names its partition.
    id_offset: u64,
    id_stride: u64,
    step_seq: u64,
    merges: u64,
    splits: u64,
    comparisons: u64,
    /// The next slot to re-score while re-resolving under a new model
    /// (`reresolve`); None when no re-resolution is under way.
    reresolving: Option<reresolve::Reresolution>,
    clock: Clock,
    store: S,
}

impl Engine<MemoryStore> {
    /// An engine on an in-memory store.
    pub fn in_memory(cfg: EngineConfig, model: Model) -> Self {
        Engine::new(cfg, model, MemoryStore::new())
    }
}

impl<S: Store> Engine<S> {
    /// An empty engine.
    pub fn new(cfg: EngineConfig, model: Model, store: S) -> Self {
        let scorer = Scorer::keyed(model, cfg.blocking.secret);
        Engine {
            std_cfg: cfg.standardize.to_config(),
            comparator: Comparator::new(&scorer.model().attributes()),
            match_w: probability_to_weight(cfg.match_probability),
            possible_w: probability_to_weight(cfg.possible_probability),
            scorer,
            cfg,
            slots: Vec::new(),
            free: Vec::new(),
            index: FxHashMap::default(),
            index_overflow: FxHashMap::default(),
            postings: Postings::default(),
            hot: FxHashSet::default(),
            entities: FxHashMap::default(),
            redirects: FxHashMap::default(),
            absorbed: FxHashMap::default(),
            next_entity: 1,
            id_offset: 0,
            id_stride: 1,
            step_seq: 0,
            merges: 0,
            splits: 0,
            comparisons: 0,
            reresolving: None,
            clock: Clock::System,
            store,
        }
    }

    /// Rebuilds an engine from what a store kept. Records without an
    /// entity (never expected after atomic steps) are re-clustered.
    pub fn restore(
        cfg: EngineConfig,
        model: Model,
        store: S,
        state: RestoredState,
    ) -> Result<Self, EngineError> {
        let mut e = Engine::new(cfg, model, store);
        e.next_entity = state.next_entity.max(1);
        e.step_seq = state.step_seq;
        let mut orphans = Vec::new();
        for r in state.records {
            let entity = r.entity;
            let ord = e.allocate(r.key, r.features);
            let keys = e.keys_of(&e.slot(ord).feats.view());
            for k in keys {
                e.postings.add(k, ord);
            }
            if entity == 0 {
                orphans.push(ord);
            } else {
                e.slot_mut(ord).entity = entity;
                e.entities.entry(entity).or_default().push(ord);
                e.next_entity = e.next_entity.max(entity + 1);
            }
        }
        for (a, b, w) in state.edges {
            if let (Some(x), Some(y)) = (e.lookup(&a), e.lookup(&b)) {
                e.slot_mut(x).edges.push(Edge {
                    other: y,
                    weight: w,
                });
                e.slot_mut(y).edges.push(Edge {
                    other: x,
                    weight: w,
                });
            }
        }
        for m in e.entities.values_mut() {
            m.sort_unstable();
        }
        e.hot.extend(state.hot_keys);
        for (old, new) in state.redirects {
            e.redirects.insert(old, new);
            e.absorbed.entry(new).or_default().push(old);
        }
        if !orphans.is_empty() {
            tracing::warn!(
                records = orphans.len(),
                "restored records without an entity; re-clustering them"
            );
            let mut step = Step {
                seq: e.next_seq(),
                ..Step::default()
            };
            e.recluster(&orphans, None, &mut step);
            e.commit(step)?;
            e.store.flush()?;
        }
        Ok(e)
    }

    /// Pins the time stamped on every event of the following steps (the
    /// partition actor calls it with the timestamp each command carries).
    /// An engine whose time was never set uses the system clock.
    pub fn set_time(&mut self, at_ms: i64) {
        self.clock = Clock::Fixed(at_ms);
    }

    /// Where event timestamps come from.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Makes every committed step durable.
    pub fn flush(&mut self) -> Result<(), EngineError> {
        self.store.flush()?;
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// The active model.
    pub fn model(&self) -> &Model {
        self.scorer.model()
    }

    /// The secret of keyed blocking keys and term-frequency tables.
    pub fn key_secret(&self) -> super::hash::KeySecret {
        self.cfg.blocking.secret
    }

    /// The compiled scorer.
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// The comparator.
    pub fn comparator(&self) -> &Comparator {
        &self.comparator
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Mutable access to the store.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Match weight threshold for a link.
    pub fn match_weight(&self) -> f64 {
        self.match_w
    }

    /// Match weight threshold for a possible match.
    pub fn possible_weight(&self) -> f64 {
        self.possible_w
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let (mut m, mut p) = (0, 0);
        for s in self.slots.iter().flatten() {
            for e in &s.edges {
                if f64::from(e.weight) >= self.match_w {
                    m += 1;
                } else {
                    p += 1;
                }
            }
        }
        Stats {
            records: self.index.len() + self.index_overflow.len(),
            entities: self.entities.len(),
            merges: self.merges,
            splits: self.splits,
            comparisons: self.comparisons,
            match_edges: m / 2,
            possible_edges: p / 2,
            blocking_keys: self.postings.keys(),
            demoted_keys: self.demoted_keys(),
            reresolving: self.reresolve_remaining(),
        }
    }

    /// Keys that make no candidates here: held by too many records here,
    /// or demoted cluster-wide (and held here).
    fn demoted_keys(&self) -> usize {
        let max = self.cfg.blocking.max_key_size;
        let hot_only = self
            .hot
            .iter()
            .filter(|&&k| (1..=max).contains(&self.postings.len(k)))
            .count();
        self.postings.count_longer_than(max) + hot_only
    }

    /// The number of records of each entity held here (cheap: no edges
    /// are walked, unlike [`Engine::stats`]).
    pub fn entity_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.entities.values().map(Vec::len)
    }

    /// Record pairs compared since the engine was opened.
    pub fn comparisons(&self) -> u64 {
        self.comparisons
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.index.len() + self.index_overflow.len()
    }

    /// True when the engine holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lookup(&self, key: &str) -> Option<u32> {
        if let Some(&o) = self.index.get(&hash64(key)) {
            if self.slot(o).key.as_ref() == key {
                return Some(o);
            }
        }
        self.index_overflow.get(key).copied()
    }

    fn slot(&self, o: u32) -> &Slot {
        self.slots[o as usize].as_ref().expect("live slot")
    }

    fn slot_mut(&mut self, o: u32) -> &mut Slot {
        self.slots[o as usize].as_mut().expect("live slot")
    }

    /// Features of a record, by internal key.
    pub fn features(&self, key: &str) -> Option<FeatView<'_>> {
        self.lookup(key).map(|o| self.slot(o).feats.view())
    }

    /// What cross-partition clustering needs of a record: its full date of
    /// birth (year, month, day) and its strong identifiers.
    pub fn evidence(&self, key: &str) -> Evidence {
        let Some(v) = self.features(key) else {
            return (None, vec![]);
        };
        let dob = v
            .dob
            .filter(|d| d.is_full())
            .map(|d| (d.year, d.month.unwrap_or(0), d.day.unwrap_or(0)));
        let strong = v
            .ids
            .iter()
            .filter(|(k, _)| self.cfg.strong_identifiers.iter().any(|s| s == k))
            .map(|(k, x)| (k.to_string(), x.to_string()))
            .collect();
        (dob, strong)
    }

    /// Packed features of a record, by internal key.
    pub fn packed_of(&self, key: &str) -> Option<&Packed> {
        self.lookup(key).map(|o| &self.slot(o).feats)
    }

    /// The entity a record belongs to.
    pub fn entity_of(&self, key: &str) -> Option<EntityId> {
        self.lookup(key).map(|o| self.slot(o).entity)
    }

    /// Follows merge redirects: the id that an old entity id now lives on as.
    pub fn resolve_entity(&self, mut id: EntityId) -> Option<EntityId> {
        for _ in 0..64 {
            if self.entities.contains_key(&id) {
                return Some(id);
            }
            id = *self.redirects.get(&id)?;
        }
        None
    }

    /// Internal keys of an entity's records, sorted.
    pub fn members(&self, id: EntityId) -> Option<Vec<String>> {
        let m = self.entities.get(&id)?;
        let mut v: Vec<String> = m.iter().map(|&o| self.slot(o).key.to_string()).collect();
        v.sort();
        Some(v)
    }

    /// All entity ids.
    pub fn entity_ids(&self) -> Vec<EntityId> {
        let mut v: Vec<EntityId> = self.entities.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Every (internal key, entity) pair, in no particular order.
    pub fn assignments(&self) -> impl Iterator<Item = (&str, EntityId)> + '_ {
        self.slots
            .iter()
            .flatten()
            .map(|s| (s.key.as_ref(), s.entity))
    }

    /// Packed features of every record (for training).
    pub fn packed(&self) -> Vec<&Packed> {
        self.slots.iter().flatten().map(|s| &s.feats).collect()
    }

    /// Packed features of up to `limit` records from slot `from` on, in
    /// slot order, and the slot the next page starts at (None: no more).
    pub fn packed_page(&self, from: u32, limit: usize) -> (Vec<&Packed>, Option<u32>) {
        let mut out = Vec::new();
        let mut i = from as usize;
        while i < self.slots.len() && out.len() < limit.max(1) {
            if let Some(s) = &self.slots[i] {
                out.push(&s.feats);
            }
            i += 1;
        }
        (out, (i < self.slots.len()).then_some(i as u32))
    }

    /// Edges of a record: neighbours at or above the possible-match threshold.
    pub fn neighbours(&self, key: &str) -> Vec<Neighbour> {
        let Some(o) = self.lookup(key) else {
            return vec![];
        };
        self.slot(o)
            .edges
            .iter()
            .map(|e| {
                let s = self.slot(e.other);
                Neighbour {
                    key: s.key.to_string(),
                    entity: s.entity,
                    weight: f64::from(e.weight),
                    is_match: f64::from(e.weight) >= self.match_w,
                }
            })
            .collect()
    }

    /// Internal keys of the records holding a blocking key (demoted or not).
    pub fn keys_holding(&self, key: u64) -> Vec<String> {
        self.postings
            .get(key)
            .iter()
            .map(|&o| self.slot(o).key.to_string())
            .collect()
    }

    /// Entity ids that were merged (directly or not) into `id`.
    pub fn merged_into(&self, id: EntityId) -> Vec<EntityId> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(x) = stack.pop() {
            if let Some(olds) = self.absorbed.get(&x) {
                for &o in olds {
                    // An absorbed id may later have been reused as a survivor
                    // only through its own redirect chain, so this terminates.
                    if !out.contains(&o) && o != id {
                        out.push(o);
                        stack.push(o);
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// True when the two records share a live (non-demoted) blocking key.
    pub fn share_live_key(&self, a: &FeatView<'_>, b: &FeatView<'_>) -> bool {
        let (ka, kb) = (self.keys_of(a), self.keys_of(b));
        ka.iter().any(|k| kb.contains(k) && self.live(*k))
    }

    fn keys_of(&self, f: &FeatView<'_>) -> Keys {
        record_keys(&self.cfg.blocking, f)
    }

    fn live(&self, key: u64) -> bool {
        self.postings.len(key) <= self.cfg.blocking.max_key_size && !self.hot.contains(&key)
    }

    /// Standardises a record without storing it.
    /// Two-digit years are read against the engine clock's year, so a
    /// partition (whose clock is each command's time) reads them the same
    /// way on every replica and every replay.
    pub fn standardize(&self, r: &Record) -> super::standardize::StdRecord {
        standardize_record_at(r, &self.std_cfg, self.reference_year())
    }

    /// The year of the engine clock's time (the default reference year if
    /// the time is out of range).
    fn reference_year(&self) -> u16 {
        use chrono::Datelike;
        chrono::DateTime::from_timestamp_millis(self.clock.now_ms())
            .and_then(|t| u16::try_from(t.year()).ok())
            .unwrap_or(super::standardize::DEFAULT_REFERENCE_YEAR)
    }

    /// Scores two feature views: total match weight.
    pub fn score(&self, a: &FeatView<'_>, b: &FeatView<'_>) -> f64 {
        let p = self.comparator.compare(a, b);
        self.scorer.score(&p, a, b)
    }

    pub fn validate(r: &Record) -> Result<(), EngineError> {
        for (field, v) in [("source", &r.source), ("record_id", &r.record_id)] {
            let reason = if v.trim().is_empty() {
                Some("must not be empty")
            } else if v.contains(KEY_SEP) {
                Some("must not contain the control character U+001F")
            } else if v.len() > 256 {
                Some("must be at most 256 bytes")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(EngineError::InvalidRecord {
                    field: field.into(),
                    value: v.chars().take(64).collect(),
                    reason: reason.into(),
                });
            }
        }
        Ok(())
    }

    /// Inserts or replaces a record and re-resolves what it touches.
    pub fn upsert(&mut self, record: Record) -> Result<Outcome, EngineError> {
        Self::validate(&record)?;
        let std = self.standardize(&record);
        let feats = Packed::from_std(&std);
        let mut out = self.upsert_packed(record, feats)?;
        out.issues = std.issues;
        Ok(out)
    }

    /// Like [`Engine::upsert`], for a record standardised elsewhere (a
    /// cluster's coordinating node standardises once and ships the packed
    /// features). The outcome carries no standardisation issues.
    pub fn upsert_packed(&mut self, record: Record, feats: Packed) -> Result<Outcome, EngineError> {
        Self::validate(&record)?;
        let key = record_key(&record.source, &record.record_id);
        let mut step = Step {
            seq: self.next_seq(),
            ..Step::default()
        };
        let mut seeds: Vec<u32> = Vec::new();
        let existing = self.lookup(&key);
        let ord = match existing {
            Some(o) => {
                self.detach(o, &mut seeds, &mut step);
                self.slot_mut(o).feats = feats;
                o
            }
            None => self.allocate(key.clone(), feats),
        };
        seeds.push(ord);
        let keys = self.keys_of(&self.slot(ord).feats.view());
        for &k in &keys {
            if self.postings.add(k, ord) == self.cfg.blocking.max_key_size + 1 {
                self.on_demote(k, &mut seeds, &mut step);
            }
        }
        let possible = self.link(ord, &keys, &mut seeds, &mut step);
        step.records_put.push(PutRecord {
            key,
            record,
            features: self.slot(ord).feats.clone(),
        });
        let outcome = self.recluster(&seeds, Some(ord), &mut step);
        self.commit(step)?;
        let (entity, action, absorbed) = outcome.expect("focus record is clustered");
        Ok(Outcome {
            entity,
            action,
            absorbed,
            replaced: existing.is_some(),
            issues: Vec::new(),
            possible_matches: possible,
        })
    }

    /// Sets the entity id space: ids `offset + 1 + k * stride`. Call right
    /// after [`Engine::new`] or [`Engine::restore`].
    pub fn set_id_space(&mut self, offset: u64, stride: u64) {
        self.id_offset = offset;
        self.id_stride = stride.max(1);
        self.next_entity = self.align_id(self.next_entity);
    }

    /// The smallest id of this engine's id space that is >= `id`.
    fn align_id(&self, id: EntityId) -> EntityId {
        let base = self.id_offset + 1;
        if id <= base {
            return base;
        }
        let k = (id - base).div_ceil(self.id_stride);
        base + k * self.id_stride
    }

    fn new_entity_id(&mut self) -> EntityId {
        let id = self.next_entity;
        self.next_entity = id + self.id_stride;
        id
    }

    /// Records of this engine that share a live blocking key with `feats`
    /// and score at or above the link threshold: (record key, content hash,
    /// weight, the shared live keys), best first. Read-only: a cluster uses
    /// it to find links to records that live in other partitions.
    pub fn probe(&self, key: &str, feats: &FeatView<'_>) -> Vec<(String, u64, f64, Vec<u64>)> {
        self.probe_keys(key, feats, &self.keys_of(feats))
    }

    /// Like [`Engine::probe`], with the record's blocking keys computed by
    /// the caller.
    pub fn probe_keys(
        &self,
        key: &str,
        feats: &FeatView<'_>,
        keys: &[u64],
    ) -> Vec<(String, u64, f64, Vec<u64>)> {
        let mut cands: SmallVec<[(u32, u64); 64]> = SmallVec::new();
        for &k in keys {
            if self.live(k) {
                cands.extend(self.postings.get(k).iter().map(|&o| (o, k)));
            }
        }
        cands.sort_unstable();
        let mut out: Vec<(String, u64, f64, Vec<u64>)> = Vec::new();
        let mut i = 0;
        while i < cands.len() {
            let c = cands[i].0;
            let mut keys = Vec::new();
            while i < cands.len() && cands[i].0 == c {
                keys.push(cands[i].1);
                i += 1;
            }
            keys.dedup();
            let s = self.slot(c);
            if s.key.as_ref() == key {
                continue;
            }
            let w = self.score(feats, &s.feats.view());
            if w >= self.match_w {
                out.push((s.key.to_string(), self.hash_packed(&s.feats), w, keys));
            }
        }
        out.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// True when a blocking key is held by no more records than the
    /// demotion threshold (it produces candidates).
    pub fn key_live(&self, key: u64) -> bool {
        self.live(key)
    }

    /// Content hash of a stored record: its packed features under the
    /// current model. A cross-partition link is valid only while both of
    /// its records still hash to what they hashed to when it was found.
    pub fn content_hash(&self, key: &str) -> Option<u64> {
        self.lookup(key)
            .map(|o| self.hash_packed(&self.slot(o).feats))
    }

    /// Content hash of packed features under the current model.
    pub fn hash_packed(&self, feats: &Packed) -> u64 {
        content_hash(feats, self.scorer.model().version)
    }

    /// Deletes a record; its entity is re-evaluated and may split.
    /// Returns the entities affected (the old entity, and any split-off parts).
    pub fn delete(&mut self, source: &str, record_id: &str) -> Result<Vec<EntityId>, EngineError> {
        let key = record_key(source, record_id);
        let ord = self
            .lookup(&key)
            .ok_or_else(|| EngineError::RecordNotFound(ref_key(&key)))?;
        let mut step = Step {
            seq: self.next_seq(),
            ..Step::default()
        };
        let mut seeds = Vec::new();
        let old_entity = self.slot(ord).entity;
        self.detach(ord, &mut seeds, &mut step);
        // Leave the entity, then free the slot.
        let at_ms = self.clock.now_ms();
        let empty = self.entities.get_mut(&old_entity).is_some_and(|m| {
            m.retain(|&x| x != ord);
            m.is_empty()
        });
        step.events.push(Event {
            step: step.seq,
            at_ms,
            entity: old_entity,
            kind: if empty {
                EventKind::Retired
            } else {
                EventKind::Left
            },
            record: Some(display_key(&key)),
            via: None,
        });
        if empty {
            self.entities.remove(&old_entity);
        } else if let Some(m) = self.entities.get(&old_entity) {
            seeds.extend(m.iter().copied());
        }
        step.assignments.push(Assignment {
            key: key.clone(),
            from: old_entity,
            to: 0,
        });
        self.release(ord, &key);
        step.records_deleted.push(key);
        seeds.retain(|&s| s != ord);
        self.recluster(&seeds, None, &mut step);
        self.commit(step)?;
        let mut affected = vec![old_entity];
        affected.extend(
            seeds
                .iter()
                .filter_map(|&s| self.slots[s as usize].as_ref().map(|x| x.entity)),
        );
        affected.sort_unstable();
        affected.dedup();
        Ok(affected)
    }

    fn next_seq(&mut self) -> u64 {
        self.step_seq += 1;
        self.step_seq
    }

    fn commit(&mut self, mut step: Step) -> Result<(), EngineError> {
        step.next_entity = self.next_entity;
        self.store.commit(step)?;
        Ok(())
    }

    fn allocate(&mut self, key: String, feats: Packed) -> u32 {
        let slot = Slot {
            key: key.as_str().into(),
            feats,
            entity: 0,
            edges: SmallVec::new(),
        };
        let ord = match self.free.pop() {
            Some(o) => {
                self.slots[o as usize] = Some(slot);
                o
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        let h = hash64(&key);
        match self.index.entry(h) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.index_overflow.insert(key.into_boxed_str(), ord);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(ord);
            }
        }
        ord
    }

    fn release(&mut self, ord: u32, key: &str) {
        let h = hash64(key);
        if self.index.get(&h) == Some(&ord) {
            self.index.remove(&h);
        } else {
            self.index_overflow.remove(key);
        }
        self.slots[ord as usize] = None;
        self.free.push(ord);
    }

    /// Removes a record's edges and blocking keys (before an update or delete).
    fn detach(&mut self, ord: u32, seeds: &mut Vec<u32>, step: &mut Step) {
        let edges = std::mem::take(&mut self.slot_mut(ord).edges);
        for e in edges {
            self.slot_mut(e.other).edges.retain(|x| x.other != ord);
            if f64::from(e.weight) >= self.match_w {
                seeds.push(e.other);
            }
            step.edges.push(EdgeChange {
                a: self.slot(ord).key.to_string(),
                b: self.slot(e.other).key.to_string(),
                weight: None,
            });
        }
        let keys = self.keys_of(&self.slot(ord).feats.view());
        for k in keys {
            if self.postings.remove(k, ord) == self.cfg.blocking.max_key_size
                && !self.hot.contains(&k)
            {
                self.on_undemote(k, seeds, step);
            }
        }
    }

    fn add_edge(&mut self, a: u32, b: u32, w: f64, seeds: &mut Vec<u32>, step: &mut Step) {
        let weight = w as f32;
        self.slot_mut(a).edges.push(Edge { other: b, weight });
        self.slot_mut(b).edges.push(Edge { other: a, weight });
        if w >= self.match_w {
            seeds.push(a);
            seeds.push(b);
        }
        step.edges.push(EdgeChange {
            a: self.slot(a).key.to_string(),
            b: self.slot(b).key.to_string(),
            weight: Some(weight),
        });
    }

    fn remove_edge(&mut self, a: u32, b: u32, seeds: &mut Vec<u32>, step: &mut Step) {
        let mut was = None;
        self.slot_mut(a).edges.retain(|x| {
            if x.other == b {
                was = Some(x.weight);
                false
            } else {
                true
            }
        });
        self.slot_mut(b).edges.retain(|x| x.other != a);
        if let Some(w) = was {
            if f64::from(w) >= self.match_w {
                seeds.push(a);
                seeds.push(b);
            }
            step.edges.push(EdgeChange {
                a: self.slot(a).key.to_string(),
                b: self.slot(b).key.to_string(),
                weight: None,
            });
        }
    }

    /// Compares a record with every record sharing one of its live keys and
    /// adds an edge for each pair at or above the possible threshold.
    /// Returns the number of possible (non-link) matches.
    fn link(&mut self, ord: u32, keys: &Keys, seeds: &mut Vec<u32>, step: &mut Step) -> usize {
        let mut cands: SmallVec<[u32; 64]> = SmallVec::new();
        for &k in keys {
            if self.live(k) {
                cands.extend(self.postings.get(k).iter().copied().filter(|&c| c != ord));
            }
        }
        cands.sort_unstable();
        cands.dedup();
        let mut found: SmallVec<[(u32, f64); 8]> = SmallVec::new();
        {
            let a = self.slot(ord).feats.view();
            for &c in &cands {
                let b = self.slot(c).feats.view();
                let w = self.score(&a, &b);
                if w >= self.possible_w {
                    found.push((c, w));
                }
            }
        }
        self.comparisons += cands.len() as u64;
        let mut possible = 0;
        for (c, w) in found {
            if w < self.match_w {
                possible += 1;
            }
            self.add_edge(ord, c, w, seeds, step);
        }
        possible
    }

    /// The blocking keys of packed features.
    pub fn keys_of_view(&self, f: &FeatView<'_>) -> Keys {
        self.keys_of(f)
    }

    /// The blocking keys of a stored record.
    pub fn record_keys_of(&self, key: &str) -> Option<Keys> {
        self.features(key).map(|v| self.keys_of(&v))
    }

    /// How many records here hold each key, and whether it is demoted
    /// cluster-wide.
    pub fn key_counts(&self, keys: &[u64]) -> Vec<KeyCount> {
        keys.iter()
            .map(|&key| KeyCount {
                key,
                count: self.postings.len(key) as u32,
                hot: self.hot.contains(&key),
            })
            .collect()
    }

    /// Internal keys of the records holding a blocking key.
    pub fn holders(&self, key: u64) -> Vec<String> {
        self.postings
            .get(key)
            .iter()
            .map(|&o| self.slot(o).key.to_string())
            .collect()
    }

    /// Demotes keys cluster-wide: they stop producing candidates here even
    /// if few records hold them here, and the edges only they supported go.
    pub fn demote_keys(&mut self, keys: &[u64]) -> Result<(), EngineError> {
        self.change_hot_keys(keys, true)
    }

    /// Lifts a cluster-wide demotion: keys held by few enough records
    /// here produce candidates again, and the pairs they support are
    /// compared.
    pub fn undemote_keys(&mut self, keys: &[u64]) -> Result<(), EngineError> {
        self.change_hot_keys(keys, false)
    }

    fn change_hot_keys(&mut self, keys: &[u64], hot: bool) -> Result<(), EngineError> {
        let mut step = Step {
            seq: self.next_seq(),
            ..Step::default()
        };
        let mut seeds = Vec::new();
        let max = self.cfg.blocking.max_key_size;
        for &k in keys {
            let changed = if hot {
                self.hot.insert(k)
            } else {
                self.hot.remove(&k)
            };
            if !changed {
                continue;
            }
            step.hot_keys.push((k, hot));
            if self.postings.len(k) <= max {
                if hot {
                    self.on_demote(k, &mut seeds, &mut step);
                } else {
                    self.on_undemote(k, &mut seeds, &mut step);
                }
            }
        }
        if step.hot_keys.is_empty() {
            return Ok(());
        }
        self.recluster(&seeds, None, &mut step);
        self.commit(step)
    }

    /// A key just became too common: drop the edges that only it supported.
    fn on_demote(&mut self, key: u64, seeds: &mut Vec<u32>, step: &mut Step) {
        let members: Vec<u32> = self.postings.get(key).to_vec();
        let set: FxHashSet<u32> = members.iter().copied().collect();
        for &a in &members {
            let others: Vec<u32> = self
                .slot(a)
                .edges
                .iter()
                .map(|e| e.other)
                .filter(|b| *b > a && set.contains(b))
                .collect();
            for b in others {
                let supported = {
                    let (va, vb) = (self.slot(a).feats.view(), self.slot(b).feats.view());
                    self.share_live_key(&va, &vb)
                };
                if !supported {
                    self.remove_edge(a, b, seeds, step);
                }
            }
        }
    }

    /// A key is no longer too common: compare the pairs it now supports.
    fn on_undemote(&mut self, key: u64, seeds: &mut Vec<u32>, step: &mut Step) {
        let members: Vec<u32> = self.postings.get(key).to_vec();
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                if self.slot(a).edges.iter().any(|e| e.other == b) {
                    continue;
                }
                let w = {
                    let (va, vb) = (self.slot(a).feats.view(), self.slot(b).feats.view());
                    self.score(&va, &vb)
                };
                self.comparisons += 1;
                if w >= self.possible_w {
                    self.add_edge(a, b, w, seeds, step);
                }
            }
        }
    }

    /// Re-clusters the components around `seeds` and records the changes,
    /// in phases: the component, its canonical clustering, the clusters,
    /// their ids, then applying and recording them. Returns what happened to
    /// `focus` when given.
    fn recluster(
        &mut self,
        seeds: &[u32],
        focus: Option<u32>,
        step: &mut Step,
    ) -> Option<FocusOutcome> {
        if let [only] = seeds {
            if self.stands_alone(*only) {
                let id = self.cluster_alone(*only, step);
                return (Some(*only) == focus).then_some((id, Action::Created, Vec::new()));
            }
        }
        self.regroup(self.component_around(seeds), focus, step)
    }

    /// Re-clusters the component of one record (which need not be new);
    /// returns the component's records.
    fn recluster_component(&mut self, seed: u32, step: &mut Step) -> Vec<u32> {
        let comp = self.component_around(&[seed]);
        let ords = comp.ords.clone();
        self.regroup(comp, None, step);
        ords
    }

    /// The phases of a re-clustering after the component: its canonical
    /// clustering, the clusters, their ids, then applying and recording
    /// them.
    fn regroup(
        &mut self,
        comp: Component,
        focus: Option<u32>,
        step: &mut Step,
    ) -> Option<FocusOutcome> {
        let (edges, clustering) = self.canonical_clustering(&comp);
        let groups = groups_by_label(&clustering.labels);
        let old: Vec<EntityId> = comp.ords.iter().map(|&o| self.slot(o).entity).collect();
        let assignment = self.assign_ids(&groups, &old);
        let plan = Regrouping {
            comp,
            edges,
            clustering,
            groups,
            old,
            assignment,
        };
        let stamp = Stamp {
            step: step.seq,
            at_ms: self.clock.now_ms(),
        };
        let outcome = self.apply_groups(&plan, focus, stamp, step);
        record_splits(&plan, stamp, step);
        outcome
    }

    /// True for a new record without a match edge: it is an entity of its
    /// own, with no need to look further.
    fn stands_alone(&self, ord: u32) -> bool {
        let s = self.slot(ord);
        s.entity == 0 && !s.edges.iter().any(|e| f64::from(e.weight) >= self.match_w)
    }

    /// The fast path for a record that stands alone: a new entity of its
    /// own. Returns the entity's id.
    fn cluster_alone(&mut self, ord: u32, step: &mut Step) -> EntityId {
        let key = self.slot(ord).key.to_string();
        let id = self.new_entity_id();
        self.slot_mut(ord).entity = id;
        self.entities.insert(id, vec![ord]);
        let stamp = Stamp {
            step: step.seq,
            at_ms: self.clock.now_ms(),
        };
        step.events.push(Event {
            record: Some(display_key(&key)),
            ..stamp.event(id, EventKind::Created)
        });
        step.assignments.push(Assignment {
            key,
            from: 0,
            to: id,
        });
        id
    }

    /// The records to re-cluster: everything reachable from the live seeds
    /// over match edges (while fewer than `max_component` records are
    /// seen), plus every member of every entity reached, so that no old
    /// entity is only partly seen.
    fn component_around(&self, seeds: &[u32]) -> Component {
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        let mut queue: VecDeque<u32> = VecDeque::new();
        for &s in seeds {
            if self.slots.get(s as usize).is_some_and(Option::is_some) && seen.insert(s) {
                queue.push_back(s);
            }
        }
        while let Some(x) = queue.pop_front() {
            let slot = self.slot(x);
            let grow = seen.len() < self.cfg.max_component;
            if grow {
                for e in &slot.edges {
                    if f64::from(e.weight) >= self.match_w && seen.insert(e.other) {
                        queue.push_back(e.other);
                    }
                }
            }
            if let Some(m) = self.entities.get(&slot.entity) {
                for &o in m {
                    if seen.insert(o) {
                        queue.push_back(o);
                    }
                }
            }
        }
        if seen.len() >= self.cfg.max_component {
            tracing::warn!(
                records = seen.len(),
                "re-clustering component hit max_component"
            );
        }
        let mut ords: Vec<u32> = seen.into_iter().collect();
        ords.sort_unstable_by(|a, b| self.slot(*a).key.cmp(&self.slot(*b).key));
        let pos = ords.iter().enumerate().map(|(i, &o)| (o, i)).collect();
        Component { ords, pos }
    }

    /// What clustering needs to know about a record: its key and strong
    /// evidence (full date of birth, strong identifiers).
    fn cluster_node(&self, o: u32) -> Node<'_> {
        let strong = &self.cfg.strong_identifiers;
        let s = self.slot(o);
        let v = s.feats.view();
        Node {
            key: &s.key,
            dob: v.dob.filter(|d| d.is_full()),
            strong: v
                .ids
                .iter()
                .filter(|(k, _)| strong.iter().any(|s| s == k))
                .copied()
                .collect(),
        }
    }

    /// The match edges of an entity's members that a cluster-wide
    /// clustering needs besides cross-partition links: those to records
    /// of other local entities (the pair was kept apart here by the size
    /// cap or merge protection), and those inside the entity whose ends
    /// carry conflicting evidence (they vouch for that conflict). Each as
    /// (member key, other key, weight).
    pub fn clustering_edges(&self, members: &[String]) -> Vec<(String, String, f32)> {
        let mut out = Vec::new();
        for m in members {
            let Some(o) = self.lookup(m) else { continue };
            let s = self.slot(o);
            for e in s
                .edges
                .iter()
                .filter(|e| f64::from(e.weight) >= self.match_w)
            {
                let other = self.slot(e.other);
                let keep = if other.entity == s.entity {
                    s.key < other.key
                        && conflicts(&self.cluster_node(o), &self.cluster_node(e.other))
                } else {
                    true
                };
                if keep {
                    out.push((s.key.to_string(), other.key.to_string(), e.weight));
                }
            }
        }
        out
    }

    /// True when a match edge joins a member of the entity to a record of
    /// another local entity: its cluster-wide entity may differ.
    pub fn is_bridged(&self, id: EntityId) -> bool {
        self.entities.get(&id).is_some_and(|members| {
            members.iter().any(|&o| {
                self.slot(o)
                    .edges
                    .iter()
                    .any(|e| f64::from(e.weight) >= self.match_w && self.slot(e.other).entity != id)
            })
        })
    }

    /// Pairs of local entities that a match edge joins although the
    /// clustering kept them apart (each pair once, smaller id first).
    pub fn bridges(&self) -> Vec<(EntityId, EntityId)> {
        let mut out: Vec<(EntityId, EntityId)> = self
            .slots
            .iter()
            .flatten()
            .flat_map(|s| {
                s.edges
                    .iter()
                    .filter(|e| f64::from(e.weight) >= self.match_w)
                    .map(|e| self.slot(e.other).entity)
                    .filter(|&x| x != s.entity)
                    .map(|x| (s.entity.min(x), s.entity.max(x)))
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Clusters a component with the canonical algorithm. Returns the match
    /// edges inside it (node indices are indices into `comp.ords`) and the
    /// clustering over them.
    fn canonical_clustering(&self, comp: &Component) -> (Vec<EdgeIn>, Clustering) {
        let nodes: Vec<Node<'_>> = comp.ords.iter().map(|&o| self.cluster_node(o)).collect();
        let homes: Vec<u64> = comp
            .ords
            .iter()
            .map(|&o| {
                let s = self.slot(o);
                home_key(&s.key, &s.feats.view())
            })
            .collect();
        let edges = self.match_edges_within(comp);
        let clustering = cluster_by_home(
            &nodes,
            &homes,
            &edges,
            self.cfg.max_entity_size,
            self.cfg.cluster_across_home_keys,
        );
        (edges, clustering)
    }

    /// The match edges between records of a component, each once, as
    /// indices into `comp.ords` (a < b).
    fn match_edges_within(&self, comp: &Component) -> Vec<EdgeIn> {
        let mut edges: Vec<EdgeIn> = Vec::new();
        for (i, &o) in comp.ords.iter().enumerate() {
            for e in &self.slot(o).edges {
                if f64::from(e.weight) < self.match_w {
                    continue;
                }
                if let Some(&j) = comp.pos.get(&e.other) {
                    if i < j {
                        edges.push(EdgeIn {
                            weight: e.weight,
                            a: i,
                            b: j,
                        });
                    }
                }
            }
        }
        edges
    }

    /// Entity ids for the clusters: each old id goes to the cluster holding
    /// most of its records (ties: the earliest cluster); a cluster takes the
    /// oldest id it receives, or a new one.
    fn assign_ids(&mut self, groups: &[Vec<usize>], old: &[EntityId]) -> IdAssignment {
        let mut claimed = claims(groups, old);
        let mut ids: Vec<EntityId> = Vec::with_capacity(groups.len());
        for c in &mut claimed {
            c.sort_unstable();
            let id = match c.first() {
                Some(&id) => id,
                None => self.new_entity_id(),
            };
            ids.push(id);
        }
        IdAssignment { ids, claimed }
    }

    /// Applies every cluster in order; returns what happened to `focus`.
    fn apply_groups(
        &mut self,
        plan: &Regrouping,
        focus: Option<u32>,
        stamp: Stamp,
        step: &mut Step,
    ) -> Option<FocusOutcome> {
        let mut outcome = None;
        for g in 0..plan.groups.len() {
            if let Some(o) = self.apply_group(plan, g, focus, stamp, step) {
                outcome = Some(o);
            }
        }
        outcome
    }

    /// Applies cluster `g`: moves its records to its id, records its events
    /// when anything changed, and makes it the entity of that id. Returns
    /// what happened to `focus` when the cluster holds it.
    fn apply_group(
        &mut self,
        plan: &Regrouping,
        g: usize,
        focus: Option<u32>,
        stamp: Stamp,
        step: &mut Step,
    ) -> Option<FocusOutcome> {
        let (id, members) = (plan.assignment.ids[g], &plan.groups[g]);
        let claimed = &plan.assignment.claimed[g];
        let absorbed: Vec<EntityId> = claimed.iter().copied().filter(|&e| e != id).collect();
        let changed = members.iter().any(|&i| plan.old[i] != id) || !absorbed.is_empty();
        self.reassign(plan, members, id, step);
        let focus_here =
            focus.filter(|f| plan.comp.pos.get(f).is_some_and(|p| members.contains(p)));
        if changed {
            self.record_events(plan, g, &absorbed, focus_here, stamp, step);
        }
        let mut member_ords: Vec<u32> = members.iter().map(|&i| plan.comp.ords[i]).collect();
        member_ords.sort_unstable();
        self.entities.insert(id, member_ords);
        focus_here.map(|_| {
            let action = if !absorbed.is_empty() {
                Action::Merged
            } else if claimed.is_empty() {
                Action::Created
            } else {
                Action::Joined
            };
            (id, action, absorbed)
        })
    }

    /// Moves the cluster's records that belonged elsewhere to entity `id`.
    fn reassign(&mut self, plan: &Regrouping, members: &[usize], id: EntityId, step: &mut Step) {
        for &i in members {
            if plan.old[i] != id {
                let o = plan.comp.ords[i];
                self.slot_mut(o).entity = id;
                step.assignments.push(Assignment {
                    key: self.slot(o).key.to_string(),
                    from: plan.old[i],
                    to: id,
                });
            }
        }
    }

    /// Records what happened to cluster `g`, which changed: it was created
    /// or split off from old ids, it absorbed old ids, and `focus` (when
    /// the cluster holds it) joined it.
    fn record_events(
        &mut self,
        plan: &Regrouping,
        g: usize,
        absorbed: &[EntityId],
        focus: Option<u32>,
        stamp: Stamp,
        step: &mut Step,
    ) {
        let (id, members) = (plan.assignment.ids[g], &plan.groups[g]);
        let claimed = &plan.assignment.claimed[g];
        let split_from = plan.split_sources(g, absorbed);
        // The accepted edges inside this cluster: the first justifies a
        // merge, the first touching the focus its joining.
        let accepted = plan.accepted_in(members);
        if claimed.is_empty() && split_from.is_empty() {
            step.events.push(Event {
                record: focus.map(|f| display_key(&self.slot(f).key)),
                ..stamp.event(id, EventKind::Created)
            });
        } else if claimed.is_empty() {
            self.splits += 1;
            let kind = EventKind::SplitFrom { from: split_from };
            step.events.push(stamp.event(id, kind));
        }
        if !absorbed.is_empty() {
            let via = accepted.first().map(|&k| self.via(plan, k));
            self.record_merge(id, absorbed, via, stamp, step);
        }
        if let Some(f) = focus {
            let fp = plan.comp.pos[&f];
            if !claimed.is_empty() && plan.old[fp] != id {
                let via = accepted
                    .iter()
                    .copied()
                    .find(|&k| {
                        let e = plan.accepted_edge(k);
                        e.a == fp || e.b == fp
                    })
                    .map(|k| self.via(plan, k));
                step.events.push(Event {
                    record: Some(display_key(&self.slot(f).key)),
                    via,
                    ..stamp.event(id, EventKind::Joined)
                });
            }
        }
    }

    /// Records entity `id` absorbing old ids, which redirect to it from now on.
    fn record_merge(
        &mut self,
        id: EntityId,
        absorbed: &[EntityId],
        via: Option<Via>,
        stamp: Stamp,
        step: &mut Step,
    ) {
        self.merges += absorbed.len() as u64;
        let kind = EventKind::Merged {
            absorbed: absorbed.to_vec(),
        };
        step.events.push(Event {
            via,
            ..stamp.event(id, kind)
        });
        for &a in absorbed {
            self.entities.remove(&a);
            self.redirects.insert(a, id);
            self.absorbed.entry(id).or_default().push(a);
            step.redirects.push((a, id));
        }
    }

    /// Accepted edge `k` of a re-clustering, as events name it.
    fn via(&self, plan: &Regrouping, k: usize) -> Via {
        let e = plan.accepted_edge(k);
        Via {
            a: display_key(&self.slot(plan.comp.ords[e.a]).key),
            b: display_key(&self.slot(plan.comp.ords[e.b]).key),
            weight: f64::from(e.weight),
        }
    }

    /// Recomputes every edge and entity from scratch (after a model change).
    /// Entity ids are kept wherever the clustering allows.
    pub fn rebuild(&mut self) -> Result<(), EngineError> {
        let live: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&o| self.slots[o as usize].is_some())
            .collect();
        let mut step = Step {
            seq: self.next_seq(),
            ..Step::default()
        };
        for &o in &live {
            let edges = std::mem::take(&mut self.slot_mut(o).edges);
            for e in edges.iter().filter(|e| e.other > o) {
                step.edges.push(EdgeChange {
                    a: self.slot(o).key.to_string(),
                    b: self.slot(e.other).key.to_string(),
                    weight: None,
                });
            }
        }
        let mut seeds = Vec::new();
        for &o in &live {
            let keys = self.keys_of(&self.slot(o).feats.view());
            // Link only with records before this one in the scan: each pair once.
            let mut cands: Vec<u32> = Vec::new();
            for k in keys.iter().filter(|k| self.live(**k)) {
                cands.extend(self.postings.get(*k).iter().copied().filter(|&c| c < o));
            }
            cands.sort_unstable();
            cands.dedup();
            for c in cands {
                let w = {
                    let (a, b) = (self.slot(o).feats.view(), self.slot(c).feats.view());
                    self.score(&a, &b)
                };
                self.comparisons += 1;
                if w >= self.possible_w {
                    self.add_edge(o, c, w, &mut seeds, &mut step);
                }
            }
        }
        self.commit(step)?;
        let mut done: FxHashSet<u32> = FxHashSet::default();
        for &o in &live {
            if done.contains(&o) {
                continue;
            }
            let mut step = Step {
                seq: self.next_seq(),
                ..Step::default()
            };
            self.recluster(&[o], None, &mut step);
            let id = self.slot(o).entity;
            if let Some(m) = self.entities.get(&id) {
                done.extend(m.iter().copied());
            }
            done.insert(o);
            if !step.is_empty() {
                self.commit(step)?;
            }
        }
        // Every edge is new: nothing is left to re-resolve.
        self.reresolving = None;
        Ok(())
    }

    /// Replaces the model and re-resolves everything with it, at once
    /// (a partition does it in steps: [`Engine::begin_model`]).
    pub fn set_model(&mut self, model: Model) -> Result<(), EngineError> {
        self.begin_model(model)?;
        self.finish_reresolve()
    }
}

/// What re-clustering says about the focus record: its entity, what
/// happened to it, and the entity ids absorbed into that entity.
type FocusOutcome = (EntityId, Action, Vec<EntityId>);

/// The step and time stamped on the events of one re-clustering.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    step: u64,
    at_ms: i64,
}

impl Stamp {
    /// An event about `entity`, with no record and no edge.
    fn event(self, entity: EntityId, kind: EventKind) -> Event {
        Event {
            step: self.step,
            at_ms: self.at_ms,
            entity,
            kind,
            record: None,
            via: None,
        }
    }
}

/// The records one re-clustering covers.
struct Component {
    /// Record ordinals, sorted by record key (the canonical order).
    ords: Vec<u32>,
    /// Ordinal → its index in `ords`.
    pos: FxHashMap<u32, usize>,
}

/// The entity id of each cluster of a component.
struct IdAssignment {
    /// Per cluster: its entity id.
    ids: Vec<EntityId>,
    /// Per cluster: the old ids it received, sorted (its id is the first,
    /// when there is one).
    claimed: Vec<Vec<EntityId>>,
}

/// What re-clustering decided for a component; what the phases that apply
/// and record it read. Records are named by their index in `comp.ords`.
struct Regrouping {
    comp: Component,
    /// The match edges inside the component.
    edges: Vec<EdgeIn>,
    clustering: Clustering,
    /// The clusters, ordered by their smallest record key.
    groups: Vec<Vec<usize>>,
    /// Each record's entity before (0: none).
    old: Vec<EntityId>,
    assignment: IdAssignment,
}

impl Regrouping {
    /// The accepted (uniting) edge `k`.
    fn accepted_edge(&self, k: usize) -> EdgeIn {
        self.edges[self.clustering.accepted[k]]
    }

    /// The accepted edges inside the cluster of `members`, in acceptance
    /// order, as indices into `clustering.accepted`.
    fn accepted_in(&self, members: &[usize]) -> Vec<usize> {
        let label = self.clustering.labels[members[0]];
        (0..self.clustering.accepted.len())
            .filter(|&k| self.clustering.labels[self.accepted_edge(k).a] == label)
            .collect()
    }

    /// The old ids that lost records to cluster `g` without being absorbed
    /// by it: the ids it split off from, sorted.
    fn split_sources(&self, g: usize, absorbed: &[EntityId]) -> Vec<EntityId> {
        let id = self.assignment.ids[g];
        let mut from: Vec<EntityId> = self.groups[g]
            .iter()
            .map(|&i| self.old[i])
            .filter(|&e| e != 0 && e != id && !absorbed.contains(&e))
            .collect();
        from.sort_unstable();
        from.dedup();
        from
    }
}

/// Component indices grouped by cluster label; clusters in order of their
/// first member, which (indices following key order) is their smallest key.
fn groups_by_label(labels: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: FxHashMap<usize, usize> = FxHashMap::default();
    for (i, &l) in labels.iter().enumerate() {
        let g = *group_of.entry(l).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

/// Per cluster, the old ids it receives (unsorted): each old id goes to
/// the cluster holding most of its records, the earliest on a tie.
fn claims(groups: &[Vec<usize>], old: &[EntityId]) -> Vec<Vec<EntityId>> {
    let mut counts: FxHashMap<EntityId, Vec<(usize, usize)>> = FxHashMap::default();
    for (g, members) in groups.iter().enumerate() {
        for &i in members.iter().filter(|&&i| old[i] != 0) {
            let c = counts.entry(old[i]).or_default();
            match c.iter_mut().find(|(x, _)| *x == g) {
                Some(x) => x.1 += 1,
                None => c.push((g, 1)),
            }
        }
    }
    let mut claimed: Vec<Vec<EntityId>> = vec![Vec::new(); groups.len()];
    for (&e, c) in &counts {
        let winner = c
            .iter()
            .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0)))
            .map(|x| x.0)
            .unwrap_or(0);
        claimed[winner].push(e);
    }
    claimed
}

/// Records a split on each old id that kept its larger part but lost
/// records to another cluster (one that did not absorb it).
fn record_splits(plan: &Regrouping, stamp: Stamp, step: &mut Step) {
    let ids = &plan.assignment.ids;
    for (g, members) in plan.groups.iter().enumerate() {
        let mut from: Vec<EntityId> = members
            .iter()
            .map(|&i| plan.old[i])
            .filter(|&e| e != 0)
            .collect();
        from.sort_unstable();
        from.dedup();
        for e in from {
            if ids.contains(&e) && ids[g] != e && !plan.assignment.claimed[g].contains(&e) {
                let kind = EventKind::Split { into: vec![ids[g]] };
                step.events.push(stamp.event(e, kind));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_proto::v1::{Identifier, PersonName};

    /// A store that keeps every committed step, to look at what a step recorded.
    struct Recorder {
        steps: Vec<Step>,
        inner: MemoryStore,
    }

    impl Default for Recorder {
        fn default() -> Self {
            Recorder {
                steps: Vec::new(),
                inner: MemoryStore::new(),
            }
        }
    }

    impl Store for Recorder {
        fn commit(&mut self, step: Step) -> Result<(), StoreError> {
            self.steps.push(step.clone());
            self.inner.commit(step)
        }
        fn record(&self, key: &str) -> Result<Option<Record>, StoreError> {
            self.inner.record(key)
        }
        fn history(&self, entity: EntityId) -> Result<Vec<Event>, StoreError> {
            self.inner.history(entity)
        }
    }

    /// An engine scoring with plain Fellegi-Sunter (no household class):
    /// these tests pin the mechanics of merges, splits and redirects on
    /// records that differ by first name only, which the household class
    /// would rightly read as twins (`node/tests/engine/households.rs`).
    fn engine() -> Engine<Recorder> {
        let model = Model {
            household: None,
            ..Model::default()
        };
        Engine::new(EngineConfig::default(), model, Recorder::default())
    }

    /// A McCarthy born 1908-04-19 with the given first name and contacts
    /// (empty: none).
    fn person(id: &str, given: &str, email: &str, phone: &str) -> Record {
        Record {
            source: "crm".into(),
            record_id: id.into(),
            name: Some(PersonName {
                given: given.into(),
                family: "mccarthy".into(),
                ..Default::default()
            }),
            date_of_birth: "1908-04-19".into(),
            emails: [email]
                .iter()
                .filter(|e| !e.is_empty())
                .map(|e| e.to_string())
                .collect(),
            phones: [phone]
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| p.to_string())
                .collect(),
            ..Default::default()
        }
    }

    fn with_national_id(mut r: Record, value: &str) -> Record {
        r.identifiers.push(Identifier {
            kind: "national_id".into(),
            value: value.into(),
        });
        r
    }

    fn entity(e: &Engine<Recorder>, id: &str) -> EntityId {
        e.entity_of(&record_key("crm", id)).expect("record exists")
    }

    /// Every event of every committed step, in order.
    fn events(e: &Engine<Recorder>) -> Vec<Event> {
        e.store()
            .steps
            .iter()
            .flat_map(|s| s.events.clone())
            .collect()
    }

    #[test]
    fn a_first_record_creates_an_entity_of_its_own() {
        let mut e = engine();
        let out = e.upsert(person("a", "harley", "h@x.com", "")).unwrap();
        assert_eq!(out.action, Action::Created);
        assert!(out.absorbed.is_empty() && !out.replaced);
        assert_eq!(e.members(out.entity), Some(vec![record_key("crm", "a")]));
    }

    #[test]
    fn a_duplicate_joins_the_existing_entity() {
        let mut e = engine();
        let a = e.upsert(person("a", "harley", "h@x.com", "")).unwrap();
        let b = e.upsert(person("b", "harley", "h@x.com", "")).unwrap();
        assert_eq!(b.action, Action::Joined);
        assert_eq!(b.entity, a.entity);
        assert_eq!(e.members(a.entity).map(|m| m.len()), Some(2));
    }

    #[test]
    fn different_people_stay_apart() {
        let mut e = engine();
        let a = e.upsert(person("a", "harley", "h@x.com", "")).unwrap();
        let b = e.upsert(person("b", "zed", "z@y.com", "")).unwrap();
        assert_eq!(b.action, Action::Created);
        assert_ne!(a.entity, b.entity);
    }

    #[test]
    fn a_step_records_the_record_its_edge_assignment_and_join_event() {
        let mut e = engine();
        let a = e.upsert(person("a", "harley", "h@x.com", "")).unwrap();
        e.upsert(person("b", "harley", "h@x.com", "")).unwrap();
        let step = e.store().steps.last().unwrap().clone();
        let (ka, kb) = (record_key("crm", "a"), record_key("crm", "b"));
        assert_eq!(step.seq, 2);
        assert_eq!(step.records_put.len(), 1);
        assert_eq!(step.records_put[0].key, kb);
        assert_eq!(step.edges.len(), 1);
        assert_eq!((&step.edges[0].a, &step.edges[0].b), (&kb, &ka));
        assert!(f64::from(step.edges[0].weight.unwrap()) >= e.match_weight());
        assert_eq!(
            step.assignments,
            vec![Assignment {
                key: kb,
                from: 0,
                to: a.entity
            }]
        );
        assert_eq!(step.events.len(), 1);
        let ev = &step.events[0];
        assert_eq!((ev.step, ev.entity), (2, a.entity));
        assert_eq!(ev.kind, EventKind::Joined);
        assert_eq!(ev.record.as_deref(), Some("crm/b"));
        let via = ev.via.as_ref().expect("a join names its edge");
        assert_eq!((via.a.as_str(), via.b.as_str()), ("crm/a", "crm/b"));
        assert_eq!(step.next_entity, a.entity + 1);
    }

    #[test]
    fn a_merge_keeps_the_oldest_id_and_redirects_the_absorbed_one() {
        let mut e = engine();
        let a = e
            .upsert(person("a", "harley", "h@x.com", "0412000001"))
            .unwrap();
        let b = e
            .upsert(person("b", "zed", "z@y.com", "0498765432"))
            .unwrap();
        assert_ne!(a.entity, b.entity);
        // c links to a (email) and to b (phone).
        let c = e
            .upsert(person("c", "harley", "h@x.com", "0498765432"))
            .unwrap();
        assert_eq!(c.action, Action::Merged);
        assert_eq!((c.entity, c.absorbed.clone()), (a.entity, vec![b.entity]));
        assert_eq!(entity(&e, "b"), a.entity);
        assert_eq!(e.resolve_entity(b.entity), Some(a.entity));
        assert_eq!(e.merged_into(a.entity), vec![b.entity]);
        assert_eq!(e.members(b.entity), None);
        let step = e.store().steps.last().unwrap();
        assert_eq!(step.redirects, vec![(b.entity, a.entity)]);
        assert!(step.events.iter().any(|ev| ev.kind
            == EventKind::Merged {
                absorbed: vec![b.entity]
            }
            && ev.entity == a.entity));
        assert_eq!(e.stats().merges, 1);
    }

    #[test]
    fn redirects_follow_ids_merged_more_than_once() {
        let mut e = engine();
        let z = e
            .upsert(person("z", "harley", "h@x.com", "0412000001"))
            .unwrap();
        let x = e
            .upsert(person("x", "zed", "z@y.com", "0498765432"))
            .unwrap();
        let y = e
            .upsert(person("y", "quinn", "q@w.com", "0433111222"))
            .unwrap();
        // y merges into x, then x into z.
        let xy = e
            .upsert(person("xy", "zed", "z@y.com", "0433111222"))
            .unwrap();
        assert_eq!((xy.entity, xy.absorbed), (x.entity, vec![y.entity]));
        let zx = e
            .upsert(person("zx", "harley", "h@x.com", "0498765432"))
            .unwrap();
        assert_eq!((zx.entity, zx.absorbed), (z.entity, vec![x.entity]));
        assert_eq!(e.resolve_entity(y.entity), Some(z.entity));
        assert_eq!(e.merged_into(z.entity), vec![x.entity, y.entity]);
    }

    #[test]
    fn a_conflicting_strong_identifier_is_not_merged_through_a_bridge() {
        let load = |ids: bool| {
            let mut e = engine();
            // x and y are too different to match directly; b matches both.
            let x = person("x", "harley", "h@x.com", "0412000001");
            let y = person("y", "zed", "z@y.com", "0498765432");
            let (x, y) = if ids {
                (
                    with_national_id(x, "7391842"),
                    with_national_id(y, "2650917"),
                )
            } else {
                (x, y)
            };
            e.upsert(x).unwrap();
            e.upsert(y).unwrap();
            e.upsert(person("b", "harley", "h@x.com", "0498765432"))
                .unwrap();
            e
        };
        // Without identifiers the bridge merges x and y.
        let e = load(false);
        assert_eq!(entity(&e, "x"), entity(&e, "y"));
        // With conflicting national ids it still matches both, but joins one.
        let e = load(true);
        let matches_of = |k: &str| {
            e.neighbours(&record_key("crm", k))
                .into_iter()
                .filter(|n| n.is_match)
                .count()
        };
        assert_eq!(
            (matches_of("b"), matches_of("x"), matches_of("y")),
            (2, 1, 1)
        );
        assert_ne!(entity(&e, "x"), entity(&e, "y"));
        assert!(entity(&e, "b") == entity(&e, "x") || entity(&e, "b") == entity(&e, "y"));
    }

    #[test]
    fn deleting_a_bridge_splits_the_entity_and_the_larger_part_keeps_the_id() {
        let mut e = engine();
        // p2 bridges p1 (email) and p3, p4 (phone).
        let p1 = e
            .upsert(person("p1", "harley", "h@x.com", "0412000001"))
            .unwrap();
        e.upsert(person("p2", "harley", "h@x.com", "0498765432"))
            .unwrap();
        e.upsert(person("p3", "zed", "z@y.com", "0498765432"))
            .unwrap();
        e.upsert(person("p4", "zed", "z@y.com", "0498765432"))
            .unwrap();
        let id = p1.entity;
        assert_eq!(e.members(id).map(|m| m.len()), Some(4));
        let affected = e.delete("crm", "p2").unwrap();
        assert_eq!(entity(&e, "p3"), id);
        assert_eq!(entity(&e, "p4"), id);
        let new = entity(&e, "p1");
        assert!(new > id, "the smaller part takes a new id");
        assert_eq!(affected, vec![id, new]);
        assert_eq!(e.stats().splits, 1);
        let step = e.store().steps.last().unwrap();
        let kinds: Vec<(EntityId, &EventKind)> =
            step.events.iter().map(|ev| (ev.entity, &ev.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (id, &EventKind::Left),
                (new, &EventKind::SplitFrom { from: vec![id] }),
                (id, &EventKind::Split { into: vec![new] }),
            ]
        );
    }

    #[test]
    fn deleting_the_last_record_retires_the_entity() {
        let mut e = engine();
        let a = e.upsert(person("a", "harley", "h@x.com", "")).unwrap();
        assert_eq!(e.delete("crm", "a").unwrap(), vec![a.entity]);
        assert_eq!(e.resolve_entity(a.entity), None);
        assert!(e.is_empty());
        assert_eq!(events(&e).last().unwrap().kind, EventKind::Retired);
        assert!(matches!(
            e.delete("crm", "a"),
            Err(EngineError::RecordNotFound(k)) if k == "crm:a"
        ));
    }

    #[test]
    fn an_update_that_no_longer_matches_leaves_the_entity() {
        let mut e = engine();
        let a = e.upsert(person("a", "harley", "h@x.com", "")).unwrap();
        e.upsert(person("b", "harley", "h@x.com", "")).unwrap();
        let b = e.upsert(person("b", "zed", "z@y.com", "")).unwrap();
        assert!(b.replaced);
        assert_ne!(b.entity, a.entity);
        assert_eq!(entity(&e, "a"), a.entity);
    }

    #[test]
    fn invalid_source_or_record_id_is_refused_naming_the_field() {
        let mut e = engine();
        let mut r = person("", "harley", "h@x.com", "");
        assert!(matches!(
            e.upsert(r.clone()),
            Err(EngineError::InvalidRecord { field, .. }) if field == "record_id"
        ));
        r.record_id = "a".into();
        r.source = "a\u{1f}b".into();
        assert!(matches!(
            e.upsert(r),
            Err(EngineError::InvalidRecord { field, .. }) if field == "source"
        ));
        assert!(e.store().steps.is_empty());
    }

    #[test]
    fn pinned_time_stamps_every_event() {
        let mut e = engine();
        e.set_time(1234);
        assert_eq!(e.clock(), Clock::Fixed(1234));
        e.upsert(person("a", "harley", "h@x.com", "0412000001"))
            .unwrap();
        e.upsert(person("b", "zed", "z@y.com", "0498765432"))
            .unwrap();
        e.upsert(person("c", "harley", "h@x.com", "0498765432"))
            .unwrap();
        e.delete("crm", "c").unwrap();
        let evs = events(&e);
        assert!(evs.len() >= 6);
        assert!(evs.iter().all(|ev| ev.at_ms == 1234), "{evs:?}");
    }

    #[test]
    fn events_carry_the_time_of_the_command_that_made_them() {
        let mut e = engine();
        let records = [
            person("a", "harley", "h@x.com", "0412000001"),
            person("b", "zed", "z@y.com", "0498765432"),
            person("c", "harley", "h@x.com", "0498765432"),
        ];
        for (k, r) in records.into_iter().enumerate() {
            e.set_time(5000 + k as i64);
            e.upsert(r).unwrap();
        }
        e.set_time(9000);
        e.delete("crm", "c").unwrap();
        for ev in events(&e) {
            let expected = if ev.step == 4 {
                9000
            } else {
                5000 + ev.step as i64 - 1
            };
            assert_eq!(ev.at_ms, expected, "{ev:?}");
        }
    }

    #[test]
    fn the_same_records_in_two_orders_give_the_same_history_timestamps() {
        let records = vec![
            person("a", "harley", "h@x.com", "0412000001"),
            person("b", "zed", "z@y.com", "0498765432"),
            person("c", "harley", "h@x.com", "0498765432"),
            person("d", "zed", "z@y.com", "0498765432"),
        ];
        let stamps = |rs: Vec<Record>| {
            let mut e = engine();
            e.set_time(1234);
            for r in rs {
                e.upsert(r).unwrap();
            }
            let mut at: Vec<i64> = e
                .entity_ids()
                .into_iter()
                .flat_map(|id| e.store().history(id).unwrap())
                .map(|ev| ev.at_ms)
                .collect();
            at.dedup();
            at
        };
        let mut reversed = records.clone();
        reversed.reverse();
        assert_eq!(stamps(records), vec![1234]);
        assert_eq!(stamps(reversed), vec![1234]);
    }

    #[test]
    fn an_engine_whose_time_was_never_set_uses_the_system_clock() {
        let now = || Clock::System.now_ms();
        let mut e = engine();
        assert_eq!(e.clock(), Clock::System);
        let before = now();
        e.upsert(person("a", "harley", "h@x.com", "")).unwrap();
        let after = now();
        let at = events(&e)[0].at_ms;
        assert!(before <= at && at <= after, "{before} <= {at} <= {after}");
    }
}
