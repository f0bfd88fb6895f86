//! The storage boundary of the engine.
//!
//! The engine keeps its matching working set (packed features, blocking
//! postings, match edges, entity membership) in memory and describes every
//! resolution step as a [`Step`]: the records written or deleted, the
//! entity assignments and edges that changed, and the audit events. A
//! [`Store`] makes a step durable atomically (RocksDB writes it as one
//! `WriteBatch`) and serves what the working set does not hold: raw source
//! records and entity history. [`MemoryStore`] keeps all of it in memory.

use std::collections::BTreeMap;

use prost::Message;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use kindred_proto::v1::Record;

use super::features::Packed;

/// Entity ids are allocated in increasing order, so a smaller id is older.
pub type EntityId = u64;

/// Errors from a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage I/O error: {0}")]
    Io(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// What happened to an entity, for `how(entity)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A record started a new entity.
    Created,
    /// A record joined the entity through a match edge.
    Joined,
    /// Other entities were merged into this one (the oldest id survives).
    Merged { absorbed: Vec<EntityId> },
    /// Part of this entity split off into new entities.
    Split { into: Vec<EntityId> },
    /// This entity was split off from others.
    SplitFrom { from: Vec<EntityId> },
    /// A record left the entity (deleted, or updated and re-resolved elsewhere).
    Left,
    /// The last record left; the entity no longer exists.
    Retired,
}

/// The match edge that justified a link or merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Via {
    pub a: String,
    pub b: String,
    pub weight: f64,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Global sequence number of the resolution step.
    pub step: u64,
    pub at_ms: i64,
    pub entity: EntityId,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The record the event is about (display form `source/record_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
}

/// A change of one edge between two records (weight None: removed).
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeChange {
    pub a: String,
    pub b: String,
    pub weight: Option<f32>,
}

/// A record moved from one entity to another.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub key: String,
    /// The entity it left (0: it had none).
    pub from: EntityId,
    /// The entity it joined (0: the record was deleted).
    pub to: EntityId,
}

/// A record written by a step, with what the store keeps beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct PutRecord {
    pub key: String,
    pub record: Record,
    /// Packed features, so a restart need not standardise again.
    pub features: Packed,
}

/// Everything one resolution step changed; applied atomically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    pub seq: u64,
    /// Records written (upserted).
    pub records_put: Vec<PutRecord>,
    pub records_deleted: Vec<String>,
    /// Records that changed entity (0 = none: new or deleted record).
    pub assignments: Vec<Assignment>,
    pub edges: Vec<EdgeChange>,
    /// Entities merged away: old id → the id that absorbed it.
    pub redirects: Vec<(EntityId, EntityId)>,
    pub events: Vec<Event>,
    /// The next entity id to allocate after this step.
    pub next_entity: EntityId,
    /// Keys demoted (true) or no longer demoted (false) cluster-wide.
    pub hot_keys: Vec<(u64, bool)>,
}

impl Step {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.records_put.is_empty()
            && self.records_deleted.is_empty()
            && self.assignments.is_empty()
            && self.edges.is_empty()
            && self.hot_keys.is_empty()
    }
}

/// Durable storage for resolution steps.
pub trait Store {
    /// Makes a step durable, atomically: all of it or none of it.
    fn commit(&mut self, step: Step) -> Result<(), StoreError>;
    /// The raw record stored under an internal key.
    fn record(&self, key: &str) -> Result<Option<Record>, StoreError>;
    /// The audit events of an entity, oldest first.
    fn history(&self, entity: EntityId) -> Result<Vec<Event>, StoreError>;
    /// Makes everything committed so far durable (group commit). Stores
    /// that write through on `commit` need do nothing.
    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Keeps raw records (protobuf-encoded) and history in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: FxHashMap<Box<str>, Box<[u8]>>,
    history: BTreeMap<EntityId, Vec<Event>>,
    /// Whether to keep the audit history (off for pure throughput runs).
    pub keep_history: bool,
}

impl MemoryStore {
    /// A store that keeps records and history.
    pub fn new() -> Self {
        MemoryStore {
            keep_history: true,
            ..Default::default()
        }
    }
}

impl Store for MemoryStore {
    fn commit(&mut self, step: Step) -> Result<(), StoreError> {
        for k in &step.records_deleted {
            self.records.remove(k.as_str());
        }
        for p in step.records_put {
            self.records.insert(
                p.key.into_boxed_str(),
                p.record.encode_to_vec().into_boxed_slice(),
            );
        }
        if self.keep_history {
            for e in step.events {
                self.history.entry(e.entity).or_default().push(e);
            }
        }
        Ok(())
    }

    fn record(&self, key: &str) -> Result<Option<Record>, StoreError> {
        self.records
            .get(key)
            .map(|b| Record::decode(&b[..]).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    fn history(&self, entity: EntityId) -> Result<Vec<Event>, StoreError> {
        Ok(self.history.get(&entity).cloned().unwrap_or_default())
    }
}
