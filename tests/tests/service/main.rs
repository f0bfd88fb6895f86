//! One real `kindred-node` per test, on its own loopback port and
//! temporary data directory, driven through the `kindred` CLI and the Rust
//! client: import and export, profile lookups, bad input, `why`/`how`,
//! deletes, events and traits, consent, `kill -9` recovery and graceful shutdown,
//! metrics, request ids and structured errors; segments, their members and
//! audiences; webhook deliveries.

mod activity;
mod bad_input;
mod consent;
mod crash_recovery;
mod delete_reevaluates;
mod encryption_at_rest;
mod erasure;
mod explain_and_history;
mod graceful_shutdown;
mod import_export;
mod observability;
mod profile_queries;
mod security;
mod segments;
mod triggers;
mod webhooks;
