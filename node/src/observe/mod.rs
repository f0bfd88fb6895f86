//! What a node tells its operators about itself, apart from logs: the
//! Prometheus metrics ([`metrics`]), served on their own port
//! ([`endpoint`]), and a request id, a tracing span, a count and a latency
//! for every call, with every error logged against its request id
//! ([`rpc`]), and OpenTelemetry traces over OTLP when asked ([`traces`]).
//!
//! Metrics are observations, never state: nothing here is read back by a
//! partition's commands, so they may use the wall clock freely.

pub mod endpoint;
pub mod metrics;
pub mod rpc;
pub mod traces;

pub use metrics::{metrics, Metrics, PartitionProbe};
