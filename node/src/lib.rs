//! Kindred node.
//!
//! - [`activity`]: events, traits, lifecycle and RFM on every profile.
//! - [`engine`]: the resolution engine, a library usable without any server.
//! - [`storage`]: the engine's durable store on RocksDB.
//! - [`partition`]: the matching actor that owns an engine and its store.
//! - [`cluster`]: partitions over nodes, the coordinator, node-to-node traffic.
//! - [`server`]: the public gRPC services, served by any node.
//! - [`config`], [`error`]: node configuration and typed errors.
//! - [`clock`]: time sources; partition commands carry the time they were read.
//! - [`eval`]: accuracy evaluation against ground truth.
//! - [`security`]: TLS, callers and roles, the audit log.
//! - [`privacy`]: the master key file, per-record data keys, sealing at rest.
//! - [`meta`]: the Raft-replicated cluster metadata group (members, partition map, model).
//! - [`observe`]: Prometheus metrics, request ids and the logging of every call.
//! - [`segments`]: segment definitions, their validation and membership.

pub mod activity;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod error;
pub mod eval;
pub mod meta;
pub mod observe;
pub mod partition;
pub mod privacy;
pub mod security;
pub mod segments;
pub mod server;
pub mod storage;
pub mod webhooks;
