//! What can be asked of one partition, locally or from another node.
//!
//! [`Op`] and [`OpReply`] are plain serde types: the coordinating node
//! sends them to a partition's actor directly when the partition is local,
//! and as bytes through the internal gRPC service when it lives elsewhere,
//! so both paths run the same code. Replies carry wire (`kindred.v1`)
//! types where the public API returns them unchanged.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

use crate::engine::resolver::Stats;
use crate::engine::{EntityId, Outcome};
use crate::error::NodeError;
use crate::storage::Link;

/// A record to probe other partitions with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeItem {
    /// Internal record key (source 0x1f record id).
    pub key: String,
    /// Packed features.
    pub feats: Vec<u8>,
    /// Content hash at its home partition.
    pub hash: u64,
    /// The record's home partition.
    pub home: u32,
}

/// A link found by a probe, from the probed record's side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    pub key: String,
    pub link: Link,
}

/// What an applied record became at its home partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    pub outcome: Outcome,
    pub hash: u64,
    /// The record's entity has cross-partition links: its cluster-wide id
    /// may differ from its local one.
    pub linked: bool,
}

/// A local entity as the cluster layer needs it to build a global one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityView {
    pub entity: EntityId,
    /// Member record keys.
    pub members: Vec<String>,
    /// Links of the members whose own side is still valid.
    pub links: Vec<Found>,
    /// Members carrying strong evidence: (key, full date of birth, strong
    /// identifiers), for merge protection across partitions.
    pub evidence: Vec<Evidence>,
}

/// Strong evidence of one record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    pub key: String,
    pub dob: Option<(u16, u8, u8)>,
    pub strong: Vec<(String, String)>,
}

/// One row of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub entity: EntityId,
}

/// A request to a partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Op {
    /// Upserts records standardised by the coordinator: (record, packed features).
    Apply {
        items: Vec<(pb::Record, Vec<u8>)>,
    },
    /// Finds links from records homed elsewhere to this partition's
    /// records, stores the reverse side, and evicts any listed record this
    /// partition holds although it is no longer its home.
    /// (Shared: one batch is probed by every partition of a node.)
    Probe {
        items: Arc<Vec<ProbeItem>>,
    },
    /// Adds links found for records of this partition.
    PutLinks {
        items: Vec<Found>,
    },
    Delete {
        key: String,
    },
    GetRecord {
        key: String,
    },
    /// Packed features and content hash of a record.
    Features {
        key: String,
    },
    /// The local entity of a record, or of an entity id (following merges).
    Entity {
        key: Option<String>,
        id: Option<EntityId>,
    },
    /// Views of several local entities (ids not found are skipped).
    Entities {
        ids: Vec<EntityId>,
    },
    /// Which of these (key, hash, shared keys) still hold: the record
    /// exists with that hash and one of the keys is live here. Their
    /// entity, or None.
    Check {
        items: Vec<(String, u64, Vec<u64>)>,
    },
    /// Entities holding an identity value.
    Identity {
        kind: String,
        value: String,
    },
    Profiles {
        ids: Vec<EntityId>,
    },
    /// Entity ids > after, ascending, at most limit.
    EntityIds {
        after: EntityId,
        limit: usize,
    },
    Search {
        query: Box<pb::Record>,
        limit: usize,
        min_probability: f64,
    },
    /// Every record with its entity, sorted by key.
    Assignments,
    /// Every link whose own side is still valid, with its record's entity.
    Links,
    WhyRecords {
        a: String,
        b: String,
    },
    /// Explains a local record against a record of another partition.
    WhyForeign {
        local: String,
        foreign: String,
        feats: Vec<u8>,
    },
    WhyEntity {
        key: String,
        entity: EntityId,
    },
    How {
        entity: EntityId,
    },
    Stats,
    /// Packed features of up to `max` records (for training).
    Sample,
    /// Records with key > after, ascending, at most limit, as probe items.
    Records {
        after: String,
        limit: usize,
    },
    /// The model, as JSON.
    Model,
    /// Switches to a model (JSON) and re-resolves.
    SetModel {
        json: String,
    },
}

/// The answer to an [`Op`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OpReply {
    Applied(Vec<Result<Applied, WireError>>),
    Probed {
        found: Vec<Found>,
        evicted: Vec<String>,
        /// Partitions that ran the probe.
        probed: Vec<u32>,
    },
    Done,
    Deleted(Vec<EntityId>),
    Record {
        record: Box<pb::Record>,
        entity: EntityId,
        issues: Vec<pb::StandardizationIssue>,
    },
    Features {
        feats: Vec<u8>,
        hash: u64,
    },
    Entity(EntityView),
    Views(Vec<EntityView>),
    Checked(Vec<Option<EntityId>>),
    Entities(Vec<EntityId>),
    Profiles(Vec<pb::Profile>),
    Hits(Vec<(EntityId, pb::SearchCandidate)>),
    Rows(Vec<Row>),
    Links(Vec<(EntityId, Found)>),
    Pair(Box<pb::PairExplanation>),
    EntityExplanation(Box<pb::EntityExplanation>),
    History(Box<pb::EntityHistory>),
    Stats {
        stats: Stats,
        model_version: u64,
    },
    Sample(Vec<Vec<u8>>),
    Records(Vec<ProbeItem>),
    Model(String),
    /// A partition taken over: bytes streamed, seconds taken.
    Moved {
        bytes: u64,
        seconds: f64,
    },
    /// A node's raft status and (partition, records, entities) it serves.
    Report {
        raft: crate::meta::RaftStatus,
        partitions: Vec<(u32, u64, u64)>,
        /// (internal calls, raft messages) sent since start.
        sent: (u64, u64),
    },
}

/// A [`NodeError`] as it crosses the wire: its gRPC code, message, and the
/// field and value it names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WireError {
    pub code: i32,
    pub message: String,
    pub field: String,
    pub value: String,
}

impl From<&NodeError> for WireError {
    fn from(e: &NodeError) -> Self {
        let (field, value) = e.field_value();
        WireError {
            code: e.code() as i32,
            message: e.to_string(),
            field,
            value,
        }
    }
}

impl From<WireError> for NodeError {
    fn from(w: WireError) -> Self {
        NodeError::Remote {
            code: w.code,
            message: w.message,
            field: w.field,
            value: w.value,
        }
    }
}

impl OpReply {
    /// Names the variant, for "unexpected reply" errors.
    pub fn kind(&self) -> &'static str {
        match self {
            OpReply::Applied(_) => "applied",
            OpReply::Probed { .. } => "probed",
            OpReply::Done => "done",
            OpReply::Deleted(_) => "deleted",
            OpReply::Record { .. } => "record",
            OpReply::Features { .. } => "features",
            OpReply::Entity(_) => "entity",
            OpReply::Views(_) => "views",
            OpReply::Checked(_) => "checked",
            OpReply::Entities(_) => "entities",
            OpReply::Profiles(_) => "profiles",
            OpReply::Hits(_) => "hits",
            OpReply::Rows(_) => "rows",
            OpReply::Links(_) => "links",
            OpReply::Pair(_) => "pair",
            OpReply::EntityExplanation(_) => "entity explanation",
            OpReply::History(_) => "history",
            OpReply::Stats { .. } => "stats",
            OpReply::Sample(_) => "sample",
            OpReply::Records(_) => "records",
            OpReply::Model(_) => "model",
            OpReply::Moved { .. } => "moved",
            OpReply::Report { .. } => "report",
        }
    }
}
