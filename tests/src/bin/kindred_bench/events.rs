//! `kindred-bench events`: event ingest through `Events.BulkSend` and the
//! latency of profiles with their traits once the events are in.
//!
//! Events are spread over records sampled evenly from FILE (which must be
//! loaded), deterministically: event `i` belongs to record `i * 7919 mod
//! keys`, is an order (30 %, with an amount), a page view (50 %) or an
//! email open (20 %), dated within the three years before the run, with a
//! cart id on orders. `--streams` streams run at once, each sending its
//! share in batches of `--batch`.

use std::time::Instant;

use anyhow::{bail, Result};
use futures::StreamExt;
use kindred_client::v1::{
    bulk_event_result, property_value, BulkSendRequest, Event, PropertyValue, Record,
};
use kindred_client::Client;
use serde_json::{json, Value};

use super::probe::{self, Probe};
use super::{ms, round3, summary, Input};

/// Arguments of `kindred-bench events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: Input,
    /// Records of FILE the events are spread over (0: every record).
    #[arg(long, default_value_t = 0)]
    pub keys: usize,
    /// Events to send.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// Events per BulkSend batch.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent BulkSend streams.
    #[arg(long, default_value_t = 2)]
    pub streams: usize,
    /// Profile lookups (with traits) timed after the events are in.
    #[arg(long, default_value_t = 1000)]
    pub lookups: usize,
    /// Also time the change feed during the ingest: probe events enter
    /// their customers into this segment (which must exist), and each is
    /// timed from its acknowledgement to its ENTERED message on `Watch`.
    #[arg(long, default_value = "")]
    pub probe_segment: String,
    /// Probe events sent during the ingest.
    #[arg(long, default_value_t = 300)]
    pub probes: usize,
    /// Milliseconds between probes.
    #[arg(long, default_value_t = 50)]
    pub probe_interval_ms: u64,
}

const DAY: i64 = 86_400_000;

/// Event `i` of the run tagged `tag`, for one of `keys`.
fn event(i: usize, keys: &[Record], tag: &str, now: i64) -> Event {
    let r = &keys[(i.wrapping_mul(7919)) % keys.len()];
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let (etype, amount) = match h % 10 {
        0..=2 => (
            "order_completed",
            Some(5.0 + (h >> 8) as f64 % 39_500.0 / 100.0),
        ),
        3..=7 => ("page_view", None),
        _ => ("email_opened", None),
    };
    let mut properties = std::collections::HashMap::new();
    if amount.is_some() {
        properties.insert(
            "cart_id".to_string(),
            PropertyValue {
                value: Some(property_value::Value::StringValue(format!(
                    "k{}",
                    h % 100_000
                ))),
            },
        );
    }
    Event {
        source: r.source.clone(),
        record_id: r.record_id.clone(),
        event_id: format!("{tag}-{i}"),
        r#type: etype.into(),
        occurred_at_ms: now - ((h >> 20) as i64 % (3 * 365 * DAY)),
        amount,
        currency: if amount.is_some() {
            "EUR".into()
        } else {
            String::new()
        },
        properties,
        identity: None,
    }
}

/// Sends events `from..to` (every `streams`-th batch) over one stream;
/// returns (stored or duplicate, rejected).
async fn one_stream(
    client: &Client,
    a: &EventsArgs,
    keys: &[Record],
    tag: &str,
    now: i64,
    lane: usize,
) -> Result<(u64, u64)> {
    let batches: Vec<(usize, usize)> = (0..a.events)
        .step_by(a.batch)
        .enumerate()
        .filter(|(b, _)| b % a.streams == lane)
        .map(|(_, start)| (start, (start + a.batch).min(a.events)))
        .collect();
    let (keys, tag) = (keys.to_vec(), tag.to_string());
    let reqs = futures::stream::iter(batches).map(move |(s, e)| BulkSendRequest {
        events: (s..e).map(|i| event(i, &keys, &tag, now)).collect(),
    });
    let mut results = client.bulk_send(reqs).await?;
    let (mut ok, mut bad) = (0u64, 0u64);
    while let Some(resp) = results.next().await {
        for item in resp?.results {
            match item.outcome {
                Some(bulk_event_result::Outcome::Ok(_)) => ok += 1,
                _ => bad += 1,
            }
        }
    }
    Ok((ok, bad))
}

/// Runs the benchmark; one JSON object.
pub async fn run(client: Client, a: EventsArgs) -> Result<Value> {
    if a.batch == 0 || a.streams == 0 {
        bail!("--batch and --streams must be positive");
    }
    let keys = a
        .input
        .sample(if a.keys == 0 { usize::MAX } else { a.keys })?;
    let tag = a.input.tag();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let started = Instant::now();
    let lanes = (0..a.streams).map(|lane| one_stream(&client, &a, &keys, &tag, now, lane));
    let probe = Probe {
        segment: a.probe_segment.clone(),
        count: a.probes,
        interval: std::time::Duration::from_millis(a.probe_interval_ms),
    };
    let probing = async {
        if probe.segment.is_empty() {
            return Ok(Value::Null);
        }
        probe::run(&client, &probe, &keys, &tag, now).await
    };
    let ingest = async {
        let all = futures::future::join_all(lanes).await;
        (all, started.elapsed().as_secs_f64())
    };
    let ((lanes, seconds), probed) = tokio::join!(ingest, probing);
    let (mut ok, mut bad) = (0, 0);
    for r in lanes {
        let (o, b) = r?;
        ok += o;
        bad += b;
    }
    let lookups = time_profiles(&client, &keys, a.lookups).await?;
    Ok(json!({
        "events": a.events,
        "records": keys.len(),
        "acknowledged": ok,
        "rejected": bad,
        "seconds": round3(seconds),
        "events_per_second": (a.events as f64 / seconds).round(),
        "profile_with_traits": lookups,
        "ack_to_watch_entered": probed?,
    }))
}

/// Profiles (traits, stage, recent events) of records spread over `keys`.
async fn time_profiles(client: &Client, keys: &[Record], n: usize) -> Result<Value> {
    let mut samples = Vec::with_capacity(n);
    let mut traits = 0usize;
    for j in 0..n.min(keys.len()) {
        let r = &keys[j * keys.len() / n.min(keys.len()).max(1)];
        let t = Instant::now();
        let p = client.profile_by_record(&r.source, &r.record_id).await?;
        samples.push(ms(t.elapsed()));
        traits += p.traits.len();
    }
    let mut s = summary(&mut samples);
    s["traits_per_profile"] = json!(traits / samples.len().max(1));
    Ok(s)
}
