//! The metadata group (members, partition map, model version) as a Raft
//! group: N members in this one process, each with its own temporary data
//! directory, talking through a simulated transport (`common`) that can
//! isolate members, split them into groups, drop and delay messages.
//! Election, leader loss, partitions, log compaction, membership changes,
//! restarts from disk and a lossy network.

mod common;

mod drops;
mod election;
mod leader_loss;
mod log_compaction;
mod membership;
mod minority_partition;
mod restart;
