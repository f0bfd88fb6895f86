//! Public types of the metadata group: configuration, commands and replies,
//! errors, status, and the [`Transport`] the raft thread talks through.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// Configuration of one member of the metadata group.
#[derive(Debug, Clone)]
pub struct MetaConfig {
    pub node_id: u64,
    /// Initial voters and their addresses (host:port; may be unresolvable
    /// hostnames, the module does not resolve them). Empty or containing only
    /// this node => a one-node cluster. Ignored if storage already holds state.
    pub peers: BTreeMap<u64, String>,
    /// If true, start with no voters and wait to be added by an existing
    /// cluster (AddNode).
    pub join: bool,
    /// The module owns this directory (its own RocksDB).
    pub data_dir: PathBuf,
    /// Virtual partition count used by Init.
    pub partitions: u32,
    /// Raft tick interval (default 100 ms).
    pub tick: Duration,
    /// Election timeout in ticks (default 10).
    pub election_ticks: usize,
    /// Heartbeat interval in ticks (default 2).
    pub heartbeat_ticks: usize,
    /// Compact the log when applied - snapshot index exceeds this (default 1000).
    pub snapshot_every: u64,
    /// Bounded inbox size (default 1024); network messages are dropped when full.
    pub inbox: usize,
}

impl MetaConfig {
    pub fn new(node_id: u64, data_dir: PathBuf) -> Self {
        MetaConfig {
            node_id,
            peers: BTreeMap::new(),
            join: false,
            data_dir,
            partitions: 64,
            tick: Duration::from_millis(100),
            election_ticks: 10,
            heartbeat_ticks: 2,
            snapshot_every: 1000,
            inbox: 1024,
        }
    }
}

/// How the raft thread sends messages to peers. Implemented over gRPC by the
/// node, and by an in-memory simulated network in tests.
pub trait Transport: Send + Sync + 'static {
    /// Best effort: the raft thread never blocks on it; failures are dropped
    /// (raft retries). `msg` is a `raft::eraftpb::Message` encoded with
    /// protobuf `write_to_bytes`.
    fn send(&self, to: u64, msg: Vec<u8>);
    /// Forwards a proposal to another node (the leader) and returns that
    /// node's result.
    fn forward(
        &self,
        to: u64,
        cmd: MetaCommand,
    ) -> BoxFuture<'static, Result<MetaReply, MetaError>>;
}

/// Raft-level status of one member.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RaftStatus {
    pub id: u64,
    /// "leader", "follower", "candidate" or "pre_candidate".
    pub role: String,
    pub term: u64,
    /// 0 when unknown.
    pub leader: u64,
    pub commit: u64,
    pub applied: u64,
    pub first_index: u64,
    pub last_index: u64,
    pub snapshot_index: u64,
    pub voters: Vec<u64>,
    /// On the leader: matched index per peer.
    pub matched: BTreeMap<u64, u64>,
}

/// Replicated cluster metadata, as applied on this node.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MetaState {
    pub initialized: bool,
    pub partitions: u32,
    pub nodes: BTreeMap<u64, NodeInfo>,
    /// len == partitions once initialized.
    pub owners: Vec<PartitionOwner>,
    /// +1 on every owners change.
    pub map_epoch: u64,
    /// The active model.
    pub model: Option<ModelEntry>,
    pub config_version: u64,
    pub applied_index: u64,
    /// Traits defined through the API, by name.
    #[serde(default)]
    pub traits: BTreeMap<String, crate::activity::TraitDef>,
    /// The published RFM cut points.
    #[serde(default)]
    pub rfm: Option<crate::activity::Cuts>,
    /// Erasure requests by id, with where they stand.
    #[serde(default)]
    pub erasures: BTreeMap<u64, ErasureEntry>,
    /// Suppressed identifiers: hex of their keyed hash → entry (never a value).
    #[serde(default)]
    pub suppressions: BTreeMap<String, SuppressionEntry>,
    /// Segments defined through the API, by name, with their versions.
    #[serde(default)]
    pub segments: BTreeMap<String, kindred_proto::v1::Segment>,
    /// Triggers defined through the API, by name, with their versions.
    #[serde(default)]
    pub triggers: BTreeMap<String, crate::segments::triggers::TriggerDef>,
    /// When a sweep last evaluated every customer's segments on every
    /// partition, as recorded before sweeps were per partition (0: never).
    #[serde(default)]
    pub segments_swept_at_ms: i64,
    /// Each partition's last sweep of the customers whose membership it
    /// keeps (a node sweeps the partitions it owns).
    #[serde(default)]
    pub segment_sweeps: BTreeMap<u32, SweepMark>,
    /// Raised whenever every customer must be evaluated again (a segment
    /// was defined or changed): a partition swept at a lower generation is
    /// swept again at once by its owner.
    #[serde(default)]
    pub sweep_generation: u64,
    /// Each webhook's cursor in the change feed: what its receiver
    /// acknowledged (one sequence number per partition).
    #[serde(default)]
    pub webhook_cursors: BTreeMap<String, Vec<u64>>,
}

/// A partition's last segment sweep.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SweepMark {
    pub at_ms: i64,
    /// The sweep generation it evaluated the definitions of.
    pub generation: u64,
}

/// Where an erasure stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum ErasureStage {
    Received,
    InProgress,
    Done,
    Failed,
}

/// One erasure request as the cluster tracks it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErasureEntry {
    pub id: u64,
    pub stage: ErasureStage,
    pub received_ms: i64,
    pub done_ms: i64,
    /// The caller's name.
    pub by: String,
    pub records: u32,
    pub identifiers: u32,
    /// Why it failed (never a personal value).
    pub error: String,
}

/// A suppressed identifier.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuppressionEntry {
    /// "email", "phone" or "identifier:<kind>".
    pub kind: String,
    pub erasure: u64,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeInfo {
    pub address: String,
    pub state: NodeState,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum NodeState {
    Active,
    Draining,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartitionOwner {
    pub node: u64,
    pub epoch: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelEntry {
    pub version: u64,
    pub json: String,
}

/// A change to the cluster metadata, replicated through the raft log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum MetaCommand {
    /// Proposed automatically by the first leader of a freshly bootstrapped
    /// cluster if !initialized: partitions assigned round-robin over the
    /// initial voters sorted by id (partition p -> voters[p % n]), epoch 1.
    /// Idempotent (no-op if initialized).
    Init {
        partitions: u32,
        nodes: BTreeMap<u64, String>,
    },
    /// Raft conf change AddNode (voter) + records the address. Rejected if the id exists.
    AddNode {
        id: u64,
        address: String,
    },
    /// Raft conf change RemoveNode. Rejected while the node owns partitions.
    RemoveNode {
        id: u64,
    },
    SetDraining {
        id: u64,
        draining: bool,
    },
    /// Compare-and-set ownership: applies only if owners[partition] ==
    /// {from, expected_epoch}; then owner = to, epoch += 1, map_epoch += 1.
    /// Rejected if `to` is unknown.
    MovePartition {
        partition: u32,
        from: u64,
        to: u64,
        expected_epoch: u64,
    },
    SetModel {
        version: u64,
        json: String,
    },
    /// Defines or replaces a trait (validated by the proposer).
    DefineTrait {
        def: crate::activity::TraitDef,
    },
    /// Deletes a trait defined through the API; rejected if unknown.
    DeleteTrait {
        name: String,
    },
    /// Defines a segment (`create`: rejected if the name is taken) or
    /// replaces one (rejected unless it exists and, when
    /// `expected_version` is not 0, is at that version). The version
    /// becomes 1, or the old one + 1; the proposer validated it and set its
    /// time.
    PutSegment {
        segment: Box<kindred_proto::v1::Segment>,
        create: bool,
        expected_version: u64,
    },
    /// Deletes a segment defined through the API; rejected if unknown or
    /// named by another segment's `in_segment`.
    DeleteSegment {
        name: String,
    },
    /// Defines a trigger (`create`: rejected if the name is taken; in force
    /// for start events from `at_ms`) or replaces one (rejected unless it
    /// exists and, when `expected_version` is not 0, is at that version;
    /// it keeps the time it came into force). The proposer validated it.
    PutTrigger {
        def: crate::segments::triggers::TriggerDef,
        create: bool,
        expected_version: u64,
        at_ms: i64,
    },
    /// Every customer must be evaluated again (a node dropped change
    /// notifications): raises the sweep generation, so every node sweeps
    /// its partitions at once.
    RequestSweep,
    /// Deletes a trigger defined through the API; rejected if unknown.
    DeleteTrigger {
        name: String,
    },
    /// A sweep evaluated the segments of every customer whose membership
    /// `partitions` keep, at `at_ms` and for the definitions of sweep
    /// `generation` (each kept if newer). No partitions: every partition
    /// (a command written before sweeps were per partition).
    SegmentsSwept {
        at_ms: i64,
        #[serde(default)]
        partitions: Vec<u32>,
        #[serde(default)]
        generation: u64,
    },
    /// A webhook's receiver acknowledged the feed up to `cursor`; rejected
    /// if it would move any partition's position back (a stale leader).
    WebhookDelivered {
        name: String,
        cursor: Vec<u64>,
    },
    /// Publishes RFM cut points; rejected unless their version is newer
    /// than the published one.
    SetRfm {
        cuts: crate::activity::Cuts,
    },
    /// Records an erasure request (`create`: a new one, rejected if its id
    /// is taken) or its progress (rejected unless it exists).
    PutErasure {
        entry: ErasureEntry,
        create: bool,
    },
    /// Adds suppression entries (hex keyed hash → entry).
    Suppress {
        entries: BTreeMap<String, SuppressionEntry>,
    },
    /// Lifts suppression entries; unknown ids are ignored.
    LiftSuppressions {
        ids: Vec<String>,
    },
}

impl MetaCommand {
    /// True for commands replicated as raft configuration changes.
    pub fn is_conf_change(&self) -> bool {
        matches!(
            self,
            MetaCommand::AddNode { .. } | MetaCommand::RemoveNode { .. }
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum MetaReply {
    Ok,
    Rejected(String),
}

#[derive(Debug, thiserror::Error, Clone, Serialize, Deserialize)]
pub enum MetaError {
    #[error("not the leader (leader: {leader:?})")]
    NotLeader { leader: Option<u64> },
    #[error("no leader elected yet")]
    NoLeader,
    #[error("timed out waiting for the proposal to apply")]
    Timeout,
    #[error("metadata storage: {0}")]
    Storage(String),
    #[error("metadata group is stopped")]
    Stopped,
    #[error("{0}")]
    Raft(String),
    #[error("transport: {0}")]
    Transport(String),
}
