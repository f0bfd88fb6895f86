//! Bridges raft-rs's `slog` logging into `tracing`: [`TracingDrain`] turns
//! each slog record into a tracing event at the matching level, with the
//! record's key-value pairs as fields of the event (see [`RaftFields`]).

use std::fmt::{self, Write as _};

use slog::{Drain, Level, OwnedKVList, Record, KV};

const TARGET: &str = "kindred::meta::raft";

/// A slog drain that forwards every record to `tracing` (target `kindred::meta::raft`).
pub struct TracingDrain;

/// The key-value pairs of one raft-rs record. raft-rs's common keys become
/// fields of their own (numbers as numbers), so that JSON logs can be
/// queried by term, index or peer; any other pair is kept, as
/// `key=value` text, in the `raft_kv` field.
#[derive(Default)]
struct RaftFields {
    meta_node: Option<u64>,
    raft_id: Option<u64>,
    term: Option<u64>,
    index: Option<u64>,
    commit: Option<u64>,
    applied: Option<u64>,
    from: Option<u64>,
    to: Option<u64>,
    vote: Option<u64>,
    last_index: Option<u64>,
    last_term: Option<u64>,
    log_index: Option<u64>,
    log_term: Option<u64>,
    msg_term: Option<u64>,
    msg_type: Option<String>,
    state: Option<String>,
    error: Option<String>,
    other: String,
}

impl RaftFields {
    fn set(&mut self, key: &str, val: String) {
        let num = |v: &str| v.parse::<u64>().ok();
        let slot = match key {
            "meta_node" => &mut self.meta_node,
            "raft_id" => &mut self.raft_id,
            "term" => &mut self.term,
            "index" | "idx" => &mut self.index,
            "commit" | "committed" => &mut self.commit,
            "applied" => &mut self.applied,
            "from" => &mut self.from,
            "to" => &mut self.to,
            "vote" => &mut self.vote,
            "last_index" | "last index" => &mut self.last_index,
            "last_term" | "last term" => &mut self.last_term,
            "log_index" => &mut self.log_index,
            "log_term" | "logterm" => &mut self.log_term,
            "msg term" | "message_term" => &mut self.msg_term,
            "msg type" | "type" => {
                self.msg_type = Some(val);
                return;
            }
            "state" => {
                self.state = Some(val);
                return;
            }
            "error" | "err" => {
                self.error = Some(val);
                return;
            }
            _ => return self.push_other(key, &val),
        };
        match num(&val) {
            Some(n) if slot.is_none() => *slot = Some(n),
            _ => self.push_other(key, &val),
        }
    }

    fn push_other(&mut self, key: &str, val: &str) {
        if !self.other.is_empty() {
            self.other.push(' ');
        }
        let _ = write!(self.other, "{}={val}", key.replace(' ', "_"));
    }
}

impl slog::Serializer for RaftFields {
    fn emit_arguments(&mut self, key: slog::Key, val: &fmt::Arguments<'_>) -> slog::Result {
        self.set(key, val.to_string());
        Ok(())
    }
}

/// One tracing event at a level, with every field of [`RaftFields`].
macro_rules! raft_event {
    ($level:expr, $f:expr, $msg:expr) => {{
        let f = $f;
        let other = (!f.other.is_empty()).then_some(f.other.as_str());
        tracing::event!(
            target: TARGET,
            $level,
            meta_node = f.meta_node,
            raft_id = f.raft_id,
            term = f.term,
            index = f.index,
            commit = f.commit,
            applied = f.applied,
            from = f.from,
            to = f.to,
            vote = f.vote,
            last_index = f.last_index,
            last_term = f.last_term,
            log_index = f.log_index,
            log_term = f.log_term,
            msg_term = f.msg_term,
            msg_type = f.msg_type.as_deref(),
            state = f.state.as_deref(),
            error = f.error.as_deref(),
            raft_kv = other,
            "{}",
            $msg
        )
    }};
}

impl Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        use tracing::Level as L;
        let level = match record.level() {
            Level::Critical | Level::Error => L::ERROR,
            Level::Warning => L::WARN,
            Level::Info => L::INFO,
            Level::Debug => L::DEBUG,
            Level::Trace => L::TRACE,
        };
        // Skip collecting the fields when tracing would discard the event.
        let enabled = match level {
            L::ERROR => tracing::enabled!(target: TARGET, L::ERROR),
            L::WARN => tracing::enabled!(target: TARGET, L::WARN),
            L::INFO => tracing::enabled!(target: TARGET, L::INFO),
            L::DEBUG => tracing::enabled!(target: TARGET, L::DEBUG),
            _ => tracing::enabled!(target: TARGET, L::TRACE),
        };
        if !enabled {
            return Ok(());
        }
        let mut f = RaftFields::default();
        let _ = record.kv().serialize(record, &mut f);
        let _ = values.serialize(record, &mut f);
        let msg = record.msg();
        match level {
            L::ERROR => raft_event!(L::ERROR, &f, msg),
            L::WARN => raft_event!(L::WARN, &f, msg),
            L::INFO => raft_event!(L::INFO, &f, msg),
            L::DEBUG => raft_event!(L::DEBUG, &f, msg),
            _ => raft_event!(L::TRACE, &f, msg),
        }
        Ok(())
    }
}

/// A slog logger for raft-rs that logs through `tracing`, tagged with the node id.
pub fn raft_logger(node_id: u64) -> slog::Logger {
    slog::Logger::root(TracingDrain.fuse(), slog::o!("meta_node" => node_id))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer that keeps what the JSON formatter writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn raft_key_values_become_json_fields_and_the_rest_is_kept_as_text() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let log = raft_logger(3);
            slog::info!(log, "became leader"; "term" => 7, "raft_id" => 3, "msg type" => "MsgHeartbeat", "remaining ticks" => 2);
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).expect(&text);
        let f = &line["fields"];
        assert_eq!(f["message"], "became leader", "{line}");
        assert_eq!(f["term"], 7, "{line}");
        assert_eq!(f["raft_id"], 3, "{line}");
        assert_eq!(f["meta_node"], 3, "{line}");
        assert_eq!(f["msg_type"], "MsgHeartbeat", "{line}");
        assert_eq!(f["raft_kv"], "remaining_ticks=2", "{line}");
        assert!(
            f.get("index").is_none(),
            "absent keys are not written: {line}"
        );
    }
}
