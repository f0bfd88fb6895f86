//! Retention: how long a record may go unobserved before it is erased.
//!
//! `[privacy.retention]` sets a number of days per source (and a default
//! for the others; 0 keeps forever). A record is observed when a source
//! sends it (its `observed_at_ms`, or the time it was written when the
//! source gives none); its events do not count. A sweep on a
//! schedule erases, through the erasure machinery, every record whose
//! last observation is older than its source's limit, and records what it
//! did as an erasure request named `retention`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The node's `[privacy.retention]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days a record of a source not listed in `sources` is kept after it
    /// was last observed (0: forever).
    pub default_days: u32,
    /// Days per source (0: forever).
    pub sources: BTreeMap<String, u32>,
    /// Hours between sweeps.
    pub interval_hours: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            default_days: 0,
            sources: BTreeMap::new(),
            interval_hours: 24,
        }
    }
}

impl RetentionConfig {
    /// True when some source has a limit.
    pub fn enabled(&self) -> bool {
        self.default_days > 0 || self.sources.values().any(|d| *d > 0)
    }

    /// The limit of a source in days (0: none).
    pub fn days_of(&self, source: &str) -> u32 {
        self.sources
            .get(source)
            .copied()
            .unwrap_or(self.default_days)
    }

    /// The time before which a record of `source` last observed is expired
    /// at `now_ms` (None: kept forever).
    pub fn cutoff(&self, source: &str, now_ms: i64) -> Option<i64> {
        match self.days_of(source) {
            0 => None,
            d => Some(now_ms.saturating_sub(i64::from(d) * DAY_MS)),
        }
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if self.enabled() && self.interval_hours == 0 {
            return Err((
                "retention.interval_hours = 0".into(),
                "must be at least 1 when a retention limit is set".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_s_own_limit_overrides_the_default_and_zero_keeps_forever() {
        let cfg = RetentionConfig {
            default_days: 30,
            sources: [("crm".to_string(), 0), ("web".to_string(), 1)].into(),
            interval_hours: 24,
        };
        let now = 100 * DAY_MS;
        assert_eq!(cfg.cutoff("crm", now), None);
        assert_eq!(cfg.cutoff("web", now), Some(99 * DAY_MS));
        assert_eq!(cfg.cutoff("tills", now), Some(70 * DAY_MS));
        assert!(cfg.enabled());
        assert!(!RetentionConfig::default().enabled());
    }
}
