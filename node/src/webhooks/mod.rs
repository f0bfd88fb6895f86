//! Webhook sinks: the change feed (segment entries and exits, trigger
//! firings) posted as JSON to systems that cannot hold a `Segments.Watch`
//! stream.
//!
//! Each `[[webhooks]]` entry of the configuration is delivered by the
//! metadata leader, batch by batch, from a cursor kept in the metadata
//! group (`MetaCommand::WebhookDelivered`), so a new leader resumes where
//! the last one was acknowledged. A batch is posted until the receiver
//! answers 2xx, retrying with exponential backoff (1 s doubling to 60 s);
//! only then does the cursor move. Delivery is at least once: a node
//! retries its batch unchanged (same `Kindred-Delivery` header, same
//! body); after a leader change the batch may be cut differently, so each
//! change carries its `partition` and `seq`, which a receiver keeps the
//! highest of per partition to drop repeats.
//!
//! - [`http`]: the POST itself, over TCP or TLS.

pub mod http;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cluster::membership::{cursor_text, FeedFilter, Memberships};
use crate::cluster::Cluster;
use crate::meta::MetaCommand;
use crate::storage::membership::{Change, FeedEntry};

/// A configuration problem: the setting, its value and why.
pub type Problem = (&'static str, String, String);

/// One `[[webhooks]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Names the sink (its cursor is kept under this name).
    pub name: String,
    /// `https://...` (verified against `ca_file` or the system's CAs) or
    /// `http://...`.
    pub url: String,
    /// Segments whose entries and exits to post; with `triggers` both
    /// empty, everything.
    pub segments: Vec<String>,
    /// Triggers whose firings to post.
    pub triggers: Vec<String>,
    /// Changes per POST (1 to 1000).
    pub batch: usize,
    /// A file holding a token sent as `Authorization: Bearer <token>`.
    pub token_file: Option<PathBuf>,
    /// A PEM CA bundle for `https` receivers (default: the system's).
    pub ca_file: Option<PathBuf>,
    /// Seconds a receiver has to answer a POST.
    pub timeout_seconds: u64,
    /// Where a new sink starts: "now" (changes from its first start on) or
    /// "start" (every change the feed keeps).
    pub from: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            name: String::new(),
            url: String::new(),
            segments: vec![],
            triggers: vec![],
            batch: 100,
            token_file: None,
            ca_file: None,
            timeout_seconds: 10,
            from: "now".into(),
        }
    }
}

impl WebhookConfig {
    /// Checks the entry: (setting, value, reason) of the first problem.
    pub fn validate(&self) -> Result<(), Problem> {
        let bad = |s: &'static str, v: &str, r: &str| Err((s, v.to_string(), r.to_string()));
        if !crate::activity::traits::valid_name(&self.name) {
            return bad(
                "webhooks.name",
                &self.name,
                "must be 1 to 64 lowercase letters, digits or underscores, starting with a letter",
            );
        }
        let roots = match http::roots(self.ca_file.as_deref()) {
            Ok(r) => r,
            Err(reason) => {
                let file = self.ca_file.as_deref().unwrap_or(http::SYSTEM_CAS.as_ref());
                return bad("webhooks.ca_file", &file.display().to_string(), &reason);
            }
        };
        if let Err(reason) = http::Target::parse(&self.url, roots) {
            return bad("webhooks.url", &self.url, &reason);
        }
        if !(1..=1000).contains(&self.batch) {
            return bad(
                "webhooks.batch",
                &self.batch.to_string(),
                "must be 1 to 1000",
            );
        }
        if self.from != "now" && self.from != "start" {
            return bad("webhooks.from", &self.from, "must be \"now\" or \"start\"");
        }
        if self.timeout_seconds == 0 {
            return bad("webhooks.timeout_seconds", "0", "must be at least 1");
        }
        if let Some(f) = &self.token_file {
            if let Err(e) = std::fs::read_to_string(f) {
                return bad(
                    "webhooks.token_file",
                    &f.display().to_string(),
                    &e.to_string(),
                );
            }
        }
        Ok(())
    }
}

/// Checks every entry and that names are unique.
pub fn validate_all(hooks: &[WebhookConfig]) -> Result<(), Problem> {
    let mut seen = std::collections::BTreeSet::new();
    for h in hooks {
        h.validate()?;
        if !seen.insert(&h.name) {
            return Err(("webhooks.name", h.name.clone(), "is used twice".into()));
        }
    }
    Ok(())
}

/// A sink being delivered.
struct Sink {
    cfg: WebhookConfig,
    target: http::Target,
    token: Option<String>,
    filter: FeedFilter,
    /// The batch posted and not yet acknowledged: posted again, unchanged,
    /// while the stored cursor is still where it started.
    pending: Option<Batch>,
    /// The partition the next batch starts reading at (turns, so that a
    /// busy partition does not hold up the others).
    first: usize,
}

/// A batch of changes between two cursors, as posted.
struct Batch {
    from: Vec<u64>,
    to: Vec<u64>,
    delivery: String,
    /// Empty when no change in the range was wanted (nothing to post).
    body: Vec<u8>,
}

/// Delivers a webhook for as long as the node runs (on the metadata leader
/// only). Configuration was validated at start.
pub async fn deliver_forever(cluster: Cluster, m: Memberships, cfg: WebhookConfig) {
    let target =
        http::roots(cfg.ca_file.as_deref()).and_then(|roots| http::Target::parse(&cfg.url, roots));
    let target = match target {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(webhook = %cfg.name, error = %e, "webhook not started");
            return;
        }
    };
    let token = cfg
        .token_file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .map(|t| t.trim().to_string());
    let mut sink = Sink {
        pending: None,
        first: 0,
        filter: FeedFilter {
            segments: cfg.segments.clone(),
            triggers: cfg.triggers.clone(),
        },
        target,
        token,
        cfg,
    };
    let mut backoff = Duration::from_secs(1);
    loop {
        if cluster.raft_status().role != "leader" {
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        match sink.step(&cluster, &m).await {
            Ok(true) => backoff = Duration::from_secs(1),
            Ok(false) => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(e) => {
                tracing::warn!(webhook = %sink.cfg.name, error = %e, retry_in = ?backoff, "webhook delivery failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

impl Sink {
    /// Delivers the next batch; false when there was nothing new.
    async fn step(&mut self, cluster: &Cluster, m: &Memberships) -> Result<bool, String> {
        let n = m.partitions() as usize;
        let stored = cluster
            .meta
            .state()
            .webhook_cursors
            .get(&self.cfg.name)
            .cloned();
        let from = match stored {
            Some(c) if c.len() == n => c,
            // First start.
            _ if self.cfg.from == "start" => vec![0; n],
            _ => {
                let now = m.feed_now().await.map_err(|e| e.to_string())?;
                self.advance(cluster, now).await?;
                return Ok(false);
            }
        };
        if self.pending.as_ref().is_none_or(|b| b.from != from) {
            self.pending = self.collect(m, from).await?;
        }
        let Some(batch) = &self.pending else {
            return Ok(false);
        };
        if !batch.body.is_empty() {
            self.post(batch).await?;
        }
        let to = batch.to.clone();
        self.advance(cluster, to).await?;
        self.pending = None;
        Ok(true)
    }

    /// The next batch of wanted changes after `from` (None: nothing new);
    /// its end is past the unwanted entries read too.
    async fn collect(&mut self, m: &Memberships, from: Vec<u64>) -> Result<Option<Batch>, String> {
        let n = from.len();
        let mut cursor = from.clone();
        let mut changes = Vec::new();
        self.first = (self.first + 1) % n.max(1);
        for p in (0..n).map(|i| (self.first + i) % n) {
            if changes.len() >= self.cfg.batch {
                break;
            }
            let entries = m
                .feed(p as u32, cursor[p], self.cfg.batch)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(first) = entries.first() {
                if cursor[p] > 0 && first.seq > cursor[p] + 1 {
                    // Its receiver was behind longer than the feed is kept.
                    tracing::warn!(
                        webhook = %self.cfg.name,
                        partition = p,
                        lost = first.seq - cursor[p] - 1,
                        "feed entries the webhook had not delivered were trimmed by the feed's retention"
                    );
                }
            }
            for e in entries {
                if changes.len() >= self.cfg.batch {
                    break;
                }
                cursor[p] = e.seq;
                if self.filter.wants(&e) {
                    changes.push(change_json(&e, p as u32));
                }
            }
        }
        if cursor == from {
            return Ok(None);
        }
        let delivery = format!("{}:{}", self.cfg.name, cursor_text(&cursor));
        let body = if changes.is_empty() {
            Vec::new()
        } else {
            json!({
                "webhook": self.cfg.name,
                "delivery": delivery,
                "cursor": cursor_text(&cursor),
                "changes": changes,
            })
            .to_string()
            .into_bytes()
        };
        Ok(Some(Batch {
            from,
            to: cursor,
            delivery,
            body,
        }))
    }

    async fn post(&self, batch: &Batch) -> Result<(), String> {
        let mut headers = vec![("kindred-delivery", batch.delivery.clone())];
        if let Some(t) = &self.token {
            headers.push(("authorization", format!("Bearer {t}")));
        }
        let timeout = Duration::from_secs(self.cfg.timeout_seconds);
        self.target
            .post(batch.body.clone(), &headers, timeout)
            .await
            .map_err(|e| e.to_string())
    }

    async fn advance(&self, cluster: &Cluster, cursor: Vec<u64>) -> Result<(), String> {
        let cmd = MetaCommand::WebhookDelivered {
            name: self.cfg.name.clone(),
            cursor,
        };
        cluster.propose(cmd).await.map_err(|e| e.to_string())
    }
}

/// One change as the receiver gets it. `partition` and `seq` name it for
/// good: a receiver that keeps the highest `seq` seen per partition drops
/// every repeat.
fn change_json(e: &FeedEntry, partition: u32) -> serde_json::Value {
    let change = match e.change {
        Change::Entered => "entered",
        Change::Left => "left",
        Change::Merged => "merged",
        Change::Fired => "trigger_fired",
    };
    let mut v = json!({
        "change": change,
        "entity_id": e.entity.to_string(),
        "at_ms": e.at_ms,
        "partition": partition,
        "seq": e.seq,
    });
    match (&e.change, &e.fired) {
        (Change::Fired, Some(f)) => {
            let (source, record_id) = crate::engine::resolver::split_key(&f.key);
            v["trigger"] = json!(e.segment);
            v["fired"] = json!({
                "source": source,
                "record_id": record_id,
                "match_value": f.match_value,
                "started_at_ms": f.started_at_ms,
                "due_at_ms": f.due_at_ms,
            });
        }
        _ => v["segment"] = json!(e.segment),
    }
    if e.change == Change::Merged {
        v["merged_into"] = json!(e.into.to_string());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(name: &str, url: &str) -> WebhookConfig {
        WebhookConfig {
            name: name.into(),
            url: url.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_bad_entry_names_its_setting_and_value() {
        assert!(validate_all(&[hook("crm", "http://127.0.0.1:9/x")]).is_ok());
        let setting = |h: WebhookConfig| validate_all(&[h]).unwrap_err();
        assert_eq!(setting(hook("crm", "ftp://x/")).0, "webhooks.url");
        assert_eq!(setting(hook("crm", "not a url")).1, "not a url");
        assert_eq!(setting(hook("crm", "https://u:pw@h/")).0, "webhooks.url");
        let mut h = hook("crm", "https://h/");
        h.ca_file = Some("/nonexistent/ca.pem".into());
        assert_eq!(setting(h).0, "webhooks.ca_file");
        assert_eq!(setting(hook("CRM!", "http://h/")).0, "webhooks.name");
        let mut h = hook("crm", "http://h/");
        h.batch = 0;
        assert_eq!(setting(h).0, "webhooks.batch");
        let mut h = hook("crm", "http://h/");
        h.from = "yesterday".into();
        assert_eq!(
            setting(h),
            (
                "webhooks.from",
                "yesterday".into(),
                "must be \"now\" or \"start\"".into()
            )
        );
        let twice = [hook("crm", "http://h/"), hook("crm", "http://g/")];
        assert_eq!(validate_all(&twice).unwrap_err().0, "webhooks.name");
    }

    #[test]
    fn a_firing_is_posted_with_its_trigger_and_cart() {
        let e = FeedEntry {
            seq: 4,
            change: Change::Fired,
            segment: "abandoned_cart".into(),
            entity: 12,
            into: 0,
            at_ms: 99,
            fired: Some(crate::storage::membership::Firing {
                key: "web\u{1f}r1".into(),
                match_value: "c1".into(),
                started_at_ms: 1,
                due_at_ms: 2,
            }),
        };
        let v = change_json(&e, 3);
        assert_eq!(
            (v["partition"].as_u64(), v["seq"].as_u64()),
            (Some(3), Some(4))
        );
        assert_eq!(v["change"], "trigger_fired");
        assert_eq!(v["trigger"], "abandoned_cart");
        assert_eq!(v["entity_id"], "12");
        assert_eq!(v["fired"]["record_id"], "r1");
        assert_eq!(v["fired"]["match_value"], "c1");
        assert!(v.get("segment").is_none());
    }
}
