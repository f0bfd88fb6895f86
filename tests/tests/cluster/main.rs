//! Clusters of real `kindred-node` processes on loopback ports: 1, 3 and 5
//! nodes give the same clustering, and it survives `kill -9` of a follower
//! and of the Raft leader, partition moves during an import, nodes joining
//! and leaving, and training through one node.

mod erasure;
mod five_nodes;
mod membership;
mod mutual_tls;
mod node_restart;
mod partition_move;
mod segments;
mod size_neutrality;
mod train;
mod triggers;
