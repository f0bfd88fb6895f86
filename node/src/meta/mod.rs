//! The Raft-replicated cluster metadata group.
//!
//! Every node runs one member of a small raft group (raft-rs) that replicates
//! the cluster's metadata: members and their addresses, the partition
//! ownership map (with compare-and-set moves), and the active model.
//!
//! - [`MetaHandle`]: start a member, feed it network messages, propose
//!   commands, read or watch the applied [`MetaState`].
//! - [`Transport`]: how the member reaches its peers (gRPC in the node, a
//!   simulated network in tests).
//! - [`storage`]: the durable raft log on the member's own RocksDB.
//! - `state`: the deterministic state machine applying [`MetaCommand`]s.
//! - [`logging`]: raft-rs's slog output bridged into `tracing`.

pub mod logging;
mod node;
mod state;
pub mod storage;
mod types;

pub use node::{MetaHandle, PROPOSE_TIMEOUT};
pub use types::{
    ErasureEntry, ErasureStage, MetaCommand, MetaConfig, MetaError, MetaReply, MetaState,
    ModelEntry, NodeInfo, NodeState, PartitionOwner, RaftStatus, SuppressionEntry, SweepMark,
    Transport,
};
