//! The latency of the change feed under load: from an event's
//! acknowledgement to the `Watch` message saying its customer entered a
//! segment.
//!
//! While the ingest runs, one probe every `--probe-interval-ms` sends a
//! single `bench_probe` event (through `Events.Send`) for a record not
//! probed before; a watcher follows the probe segment (the bench script
//! defines it: `performed bench_probe within 1 day`) from "now". A
//! probe's latency is the time from its acknowledgement to the ENTERED
//! message of the customer the acknowledgement names. A probe whose
//! customer was probed already (two records of one customer) is not
//! counted: the customer entered once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::StreamExt;
use kindred_client::v1::{Event, MembershipChange, Record};
use kindred_client::Client;
use serde_json::{json, Value};

use super::{ms, summary};

/// What the probe sends and follows.
#[derive(Debug, Clone)]
pub struct Probe {
    pub segment: String,
    pub count: usize,
    pub interval: Duration,
}

/// When each customer's ENTERED message arrived.
type Arrivals = Arc<Mutex<HashMap<u64, Instant>>>;

/// Sends the probes (spread over `keys`) and times them; one JSON object.
pub async fn run(
    client: &Client,
    p: &Probe,
    keys: &[Record],
    tag: &str,
    now: i64,
) -> Result<Value> {
    let mut feed = client
        .watch_segments(std::slice::from_ref(&p.segment), "now")
        .await
        .context("watching the probe segment")?;
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let follower = tokio::spawn(async move {
        while let Some(Ok(m)) = feed.next().await {
            if m.change() == MembershipChange::Entered {
                let at = Instant::now();
                seen.lock().unwrap().entry(m.entity_id).or_insert(at);
            }
        }
    });
    let mut acks: HashMap<u64, Instant> = HashMap::new();
    let mut repeats = 0usize;
    for j in 0..p.count {
        tokio::time::sleep(p.interval).await;
        let r = &keys[(j.wrapping_mul(6007) + 1) % keys.len()];
        let result = client.send_event(probe_event(r, tag, j, now)).await?;
        let acked = Instant::now();
        if result.entity_id == 0 || acks.contains_key(&result.entity_id) {
            repeats += 1;
            continue;
        }
        acks.insert(result.entity_id, acked);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && arrivals.lock().unwrap().len() < acks.len() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    follower.abort();
    let arrived = arrivals.lock().unwrap().clone();
    let mut samples = Vec::with_capacity(acks.len());
    let mut before_ack = 0usize;
    for (entity, acked) in &acks {
        if let Some(at) = arrived.get(entity) {
            // The message may overtake the acknowledgement on its way back.
            match at.checked_duration_since(*acked) {
                Some(d) => samples.push(ms(d)),
                None => {
                    before_ack += 1;
                    samples.push(0.0);
                }
            }
        }
    }
    let missing = acks.len() - samples.len();
    let mut out = summary(&mut samples);
    out["probes"] = json!(p.count);
    out["repeated_customers"] = json!(repeats);
    out["entered_before_ack"] = json!(before_ack);
    out["never_entered"] = json!(missing);
    Ok(out)
}

fn probe_event(r: &Record, tag: &str, j: usize, now: i64) -> Event {
    Event {
        source: r.source.clone(),
        record_id: r.record_id.clone(),
        event_id: format!("{tag}-probe-{j}"),
        r#type: "bench_probe".into(),
        occurred_at_ms: now,
        ..Default::default()
    }
}
