//! Requests to a whole node (every partition it owns, or the node itself),
//! each with its own reply type, as partition requests are.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::NodeError;
use crate::meta::RaftStatus;
use crate::partition::request::{mismatched, typed_requests, ProbeItem, Probed};
use crate::security::audit::AuditEntry;

/// A request to a node, with the type of its reply.
pub trait NodeRequest: Send + 'static {
    type Reply: Send + 'static;
    fn into_op(self) -> NodeOp;
    fn wrap(reply: Self::Reply) -> NodeReply;
    fn unwrap(reply: NodeReply) -> Result<Self::Reply, &'static str>;
}

typed_requests! {
    NodeRequest, NodeOp, NodeReply;
    /// Probes every partition the node owns (each skips the records homed
    /// in it).
    ProbeOwned => Probed,
    /// Takes a partition over from its owner (run on the receiving node).
    Receive => Moved,
    /// Releases the write fence of a partition whose move failed.
    Unfence => (),
    /// Raft status and per-partition counts of the node.
    Report => NodeReport,
    /// The node's audit log from a time on.
    AuditQuery => Vec<AuditEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeOwned {
    pub at_ms: i64,
    pub items: Arc<Vec<ProbeItem>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receive {
    pub partition: u32,
    pub from: u64,
    pub epoch: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unfence {
    pub partition: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditQuery {
    pub since_ms: u64,
    pub limit: u32,
}

/// A partition taken over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Moved {
    pub bytes: u64,
    pub seconds: f64,
}

/// A node's Raft status and the partitions it serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeReport {
    pub raft: RaftStatus,
    /// (partition, records, entities).
    pub partitions: Vec<(u32, u64, u64)>,
    /// (internal calls, raft messages) sent since start.
    pub sent: (u64, u64),
}

/// The reply of node request `R` out of its envelope.
pub fn node_reply_of<R: NodeRequest>(reply: NodeReply) -> Result<R::Reply, NodeError> {
    R::unwrap(reply).map_err(mismatched::<R>)
}
