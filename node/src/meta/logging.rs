//! Bridges raft-rs's `slog` logging into `tracing`: [`TracingDrain`] turns
//! each slog record into a tracing event at the matching level, with the
//! record's key-value pairs appended to the message.

use std::fmt::{self, Write as _};

use slog::{Drain, Level, OwnedKVList, Record, KV};

const TARGET: &str = "kindred::meta::raft";

/// A slog drain that forwards every record to `tracing` (target `kindred::meta::raft`).
pub struct TracingDrain;

/// Collects slog key-value pairs as ` key=value` text.
struct KvText(String);

impl slog::Serializer for KvText {
    fn emit_arguments(&mut self, key: slog::Key, val: &fmt::Arguments<'_>) -> slog::Result {
        let _ = write!(self.0, " {key}={val}");
        Ok(())
    }
}

impl Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        // Skip formatting entirely when tracing would discard the event.
        let enabled = match record.level() {
            Level::Critical | Level::Error => {
                tracing::enabled!(target: TARGET, tracing::Level::ERROR)
            }
            Level::Warning => tracing::enabled!(target: TARGET, tracing::Level::WARN),
            Level::Info => tracing::enabled!(target: TARGET, tracing::Level::INFO),
            Level::Debug => tracing::enabled!(target: TARGET, tracing::Level::DEBUG),
            Level::Trace => tracing::enabled!(target: TARGET, tracing::Level::TRACE),
        };
        if !enabled {
            return Ok(());
        }
        let mut kv = KvText(String::new());
        let _ = record.kv().serialize(record, &mut kv);
        let _ = values.serialize(record, &mut kv);
        let msg = record.msg();
        let kv = kv.0;
        match record.level() {
            Level::Critical | Level::Error => {
                tracing::error!(target: TARGET, "{msg}{kv}")
            }
            Level::Warning => tracing::warn!(target: TARGET, "{msg}{kv}"),
            Level::Info => tracing::info!(target: TARGET, "{msg}{kv}"),
            Level::Debug => tracing::debug!(target: TARGET, "{msg}{kv}"),
            Level::Trace => tracing::trace!(target: TARGET, "{msg}{kv}"),
        }
        Ok(())
    }
}

/// A slog logger for raft-rs that logs through `tracing`, tagged with the node id.
pub fn raft_logger(node_id: u64) -> slog::Logger {
    slog::Logger::root(TracingDrain.fuse(), slog::o!("meta_node" => node_id))
}
