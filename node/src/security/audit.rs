//! The audit log: every admin and privacy action and every denied call,
//! with who, what, when, from where and the outcome.
//!
//! Each node keeps its own log in a small RocksDB under its data
//! directory, keyed by time, so that `since` queries are range scans and
//! retention is one range delete. The log holds no customer data: only
//! method names, caller names, addresses and outcomes.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One audited event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The node that recorded it.
    pub node: u64,
    /// Token or certificate name, `anonymous`, or `-` if unauthenticated.
    pub caller: String,
    /// The caller's role, if authenticated.
    pub role: String,
    /// The gRPC method, or `connect` for a refused connection.
    pub action: String,
    /// The caller's address.
    pub remote: String,
    /// `ok`, or the gRPC code and reason of the failure or denial.
    pub outcome: String,
}

/// Audit log errors.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log: {0}")]
    Storage(String),
}

fn storage(e: impl std::fmt::Display) -> AuditError {
    AuditError::Storage(e.to_string())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A node's audit log.
#[derive(Clone)]
pub struct AuditLog {
    db: Arc<rocksdb::DB>,
    node: u64,
    seq: Arc<AtomicU64>,
    retention: Duration,
}

impl AuditLog {
    /// Opens (or creates) the log in `dir`.
    pub fn open(dir: &Path, node: u64, retention_days: u32) -> Result<AuditLog, AuditError> {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        opts.set_keep_log_file_num(2);
        let db = rocksdb::DB::open(&opts, dir).map_err(storage)?;
        let log = AuditLog {
            db: Arc::new(db),
            node,
            seq: Arc::default(),
            retention: Duration::from_secs(u64::from(retention_days) * 86_400),
        };
        log.prune(now_ms())?;
        Ok(log)
    }

    /// Appends an entry (time-ordered key; the sequence number keeps
    /// entries of the same millisecond apart).
    pub fn record(&self, mut e: AuditEntry) {
        e.node = self.node;
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut key = e.at_ms.to_be_bytes().to_vec();
        key.extend_from_slice(&seq.to_be_bytes());
        let written = serde_json::to_vec(&e)
            .map_err(storage)
            .and_then(|v| self.db.put(key, v).map_err(storage));
        if let Err(err) = written {
            tracing::error!(error = %err, action = %e.action, "audit entry not written");
        }
        if seq % 4096 == 4095 {
            let _ = self.prune(now_ms());
        }
    }

    /// Entries at or after `since_ms`, oldest first, at most `limit`.
    pub fn list(&self, since_ms: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let from = since_ms.to_be_bytes();
        let mode = rocksdb::IteratorMode::From(&from, rocksdb::Direction::Forward);
        let mut out = Vec::new();
        for item in self.db.iterator(mode).take(limit) {
            let (_, v) = item.map_err(storage)?;
            out.push(serde_json::from_slice(&v).map_err(storage)?);
        }
        Ok(out)
    }

    /// Deletes entries older than the retention period.
    pub fn prune(&self, now_ms: u64) -> Result<(), AuditError> {
        let cutoff = now_ms.saturating_sub(self.retention.as_millis() as u64);
        let mut batch = rocksdb::WriteBatch::default();
        batch.delete_range(0u64.to_be_bytes(), cutoff.to_be_bytes());
        self.db.write(batch).map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: u64, action: &str) -> AuditEntry {
        AuditEntry {
            at_ms,
            node: 0,
            caller: "ops".into(),
            role: "admin".into(),
            action: action.into(),
            remote: "127.0.0.1:1".into(),
            outcome: "ok".into(),
        }
    }

    #[test]
    fn entries_survive_reopening_and_are_listed_from_a_time_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        {
            let log = AuditLog::open(dir.path(), 3, 30).unwrap();
            log.record(entry(now - 2_000, "/a"));
            log.record(entry(now - 1_000, "/b"));
            log.record(entry(now - 1_000, "/c"));
        }
        let log = AuditLog::open(dir.path(), 3, 30).unwrap();
        let got = log.list(now - 1_500, 10).unwrap();
        let actions: Vec<&str> = got.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["/b", "/c"]);
        assert!(got.iter().all(|e| e.node == 3));
        assert_eq!(log.list(0, 1).unwrap().len(), 1);
    }

    #[test]
    fn entries_older_than_the_retention_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path(), 1, 1).unwrap();
        let now = now_ms();
        log.record(entry(now - 2 * 86_400_000, "/old"));
        log.record(entry(now - 1_000, "/new"));
        log.prune(now).unwrap();
        let got = log.list(0, 10).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].action, "/new");
    }
}
