//! `kindred-bench`: service-level benchmarks against a running
//! `kindred-node`.
//!
//! `kindred-bench --endpoint URL latency --records FILE --mapping M.toml
//! --upserts N --lookups N [--warmup 200]` measures, one call at a time:
//!
//! - single-upsert latency: copies of records from FILE, each under a new
//!   record id (same source), so every call is a real insert resolved
//!   against the data already loaded, never a replace;
//! - profile-lookup latency: `Profiles.Get` by record reference of records
//!   from FILE, which must already be loaded.
//!
//! `kindred-bench during --records FILE --mapping M.toml -- COMMAND...`
//! runs COMMAND (say `kindred train`) and, while it runs, alternates one
//! single upsert with one profile lookup, timing both the same way.
//!
//! The records used are rows spread evenly through FILE (deterministic);
//! only those rows are mapped. The result is one JSON object on stdout with
//! count, p50, p90, p99, max and mean in milliseconds for each operation.
//! Percentiles are exact, by nearest rank over the sorted samples.
//!
//! `kindred-bench events --records FILE --mapping M.toml --events N`
//! streams N events over FILE's (loaded) records and then times profiles
//! with their traits (see `events.rs`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use kindred_client::v1::{Action, Record};
use kindred_client::{exit, Client, ClientError};
use kindred_proto::mapping::{header_index, Mapping};
use serde_json::{json, Value};

#[path = "kindred_bench/events.rs"]
mod events;
#[path = "kindred_bench/probe.rs"]
mod probe;

/// Service-level benchmarks of a running kindred-node.
#[derive(Debug, Parser)]
#[command(name = "kindred-bench", version, about)]
struct Cli {
    /// The node's gRPC endpoint.
    #[arg(
        long,
        global = true,
        env = "KINDRED_ENDPOINT",
        default_value = "http://127.0.0.1:7000",
        value_name = "URL"
    )]
    endpoint: String,
    /// Bearer token for every call.
    #[arg(long, global = true, env = "KINDRED_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// PEM CA of the node's certificate (https:// endpoints).
    #[arg(long, global = true, env = "KINDRED_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sequential single-upsert and profile-lookup latency.
    Latency(LatencyArgs),
    /// Runs a command (such as `kindred train`) and, for as long as it
    /// runs, alternates one single upsert (a new record) with one profile
    /// lookup, timing each: what a client sees while the node is busy.
    During(DuringArgs),
    /// Event ingest through BulkSend, then profile-with-traits latency.
    Events(events::EventsArgs),
}

/// The loaded records both measurements sample, and the tag of the new
/// record ids they write.
#[derive(Debug, clap::Args)]
struct Input {
    /// CSV file whose records are already loaded in the node.
    #[arg(long, value_name = "FILE")]
    records: PathBuf,
    /// The TOML column mapping of FILE.
    #[arg(long, value_name = "MAPPING.toml")]
    mapping: PathBuf,
    /// Source of the records when the mapping names no source.
    #[arg(long, value_name = "NAME", default_value = "")]
    source: String,
    /// Part of the new record ids (`<id>-bench-<TAG>-<i>`, or
    /// `<id>-during-<TAG>-<i>`), so that runs against the same node never
    /// replace each other's records (default: the current Unix time in
    /// seconds).
    #[arg(long)]
    tag: Option<String>,
}

impl Input {
    /// `wanted` records spread evenly through the file, mapped.
    fn sample(&self, wanted: usize) -> Result<Vec<Record>> {
        let text = std::fs::read_to_string(&self.mapping)
            .with_context(|| format!("cannot read mapping file {}", self.mapping.display()))?;
        let mapping = Mapping::from_toml(&text)
            .with_context(|| format!("mapping file {}", self.mapping.display()))?;
        sample_records(&self.records, &mapping, &self.source, wanted)
    }

    /// The tag of new record ids.
    fn tag(&self) -> String {
        self.tag.clone().unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                .to_string()
        })
    }
}

#[derive(Debug, clap::Args)]
struct DuringArgs {
    #[command(flatten)]
    input: Input,
    /// Records sampled from FILE (upserted under new ids, looked up by
    /// their own).
    #[arg(long, default_value_t = 5000)]
    sample: usize,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct LatencyArgs {
    #[command(flatten)]
    input: Input,
    /// Measured single upserts (each a new record).
    #[arg(long, default_value_t = 1000)]
    upserts: usize,
    /// Measured profile lookups by record reference.
    #[arg(long, default_value_t = 1000)]
    lookups: usize,
    /// Unmeasured calls of each kind made first.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match options(&cli) {
        Err(e) => Err(e),
        Ok(options) => match cli.command {
            Command::Latency(a) => latency(&cli.endpoint, options, a).await,
            Command::During(a) => during(&cli.endpoint, options, a).await,
            Command::Events(a) => {
                match Client::connect_with(std::slice::from_ref(&cli.endpoint), options).await {
                    Ok(client) => events::run(client, a).await.map(|v| println!("{v}")),
                    Err(e) => Err(e.into()),
                }
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kindred-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Client options from the token and CA flags.
fn options(cli: &Cli) -> Result<kindred_client::ClientOptions> {
    let ca_pem = match &cli.ca {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("CA {}", p.display()))?),
        None => None,
    };
    Ok(kindred_client::ClientOptions {
        token: cli.token.clone(),
        tls: kindred_client::TlsOptions {
            ca_pem,
            ..Default::default()
        },
        ..Default::default()
    })
}

async fn latency(
    endpoint: &str,
    options: kindred_client::ClientOptions,
    a: LatencyArgs,
) -> Result<()> {
    if a.upserts == 0 && a.lookups == 0 {
        bail!("nothing to measure: --upserts and --lookups are both 0");
    }
    let sample = a.input.sample(a.upserts.max(a.lookups) + a.warmup)?;
    eprintln!(
        "kindred-bench: {} records sampled from {}",
        sample.len(),
        a.input.records.display()
    );
    let client = Client::connect_with(&[endpoint.to_string()], options)
        .await
        .with_context(|| format!("cannot connect to {endpoint}"))?;
    let before = client.stats().await.context("stats before the run")?;
    let upserts = time_upserts(&client, &a, &sample).await?;
    let lookups = time_lookups(&client, &a, &sample).await?;
    let after = client.stats().await.context("stats after the run")?;
    let out = json!({
        "endpoint": endpoint,
        "records_file": a.input.records.display().to_string(),
        "sampled_records": sample.len(),
        "warmup": a.warmup,
        "records_before": before.records,
        "records_after": after.records,
        "upsert": upserts,
        "lookup": lookups,
    });
    println!("{out}");
    Ok(())
}

async fn during(
    endpoint: &str,
    options: kindred_client::ClientOptions,
    a: DuringArgs,
) -> Result<()> {
    let sample = a.input.sample(a.sample)?;
    let client = Client::connect_with(&[endpoint.to_string()], options)
        .await
        .with_context(|| format!("cannot connect to {endpoint}"))?;
    let tag = a.input.tag();
    let started = Instant::now();
    let mut child = std::process::Command::new(&a.command[0])
        .args(&a.command[1..])
        .spawn()
        .with_context(|| format!("cannot run {:?}", a.command))?;
    let (mut upsert_ms, mut lookup_ms) = (Vec::new(), Vec::new());
    // (latency, seconds since the start, which call) of the slowest calls.
    let mut slowest: Vec<(f64, f64, &str)> = Vec::new();
    let mut i = 0usize;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let rec = &sample[i % sample.len()];
        let at = started.elapsed().as_secs_f64();
        let (_, took) = upsert(&client, renamed(rec, &format!("during-{tag}-{i}"))).await?;
        upsert_ms.push(ms(took));
        slowest.push((ms(took), at, "upsert"));
        let at = started.elapsed().as_secs_f64();
        if let Some((_, took)) = lookup(&client, rec).await? {
            lookup_ms.push(ms(took));
            slowest.push((ms(took), at, "lookup"));
        }
        if slowest.len() > 64 {
            slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
            slowest.truncate(10);
        }
        i += 1;
    };
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest.truncate(10);
    let out = json!({
        "command": a.command,
        "exit_code": status.code(),
        "command_seconds": round3(started.elapsed().as_secs_f64()),
        "upsert": summary(&mut upsert_ms),
        "lookup": summary(&mut lookup_ms),
        "slowest": slowest
            .iter()
            .map(|(ms, at, call)| json!({"ms": round3(*ms), "at_seconds": round3(*at), "call": call}))
            .collect::<Vec<_>>(),
    });
    println!("{out}");
    if !status.success() {
        bail!("{:?} exited with {status}", a.command);
    }
    Ok(())
}

/// Single upserts, each a new record id, after a warm-up; their latency
/// summary.
async fn time_upserts(client: &Client, a: &LatencyArgs, sample: &[Record]) -> Result<Value> {
    let tag = a.input.tag();
    let warm_upserts = if a.upserts > 0 { a.warmup } else { 0 };
    let mut warm_counts = Counts::default();
    for w in 0..warm_upserts {
        let rec = renamed(&sample[w % sample.len()], &format!("benchwarm-{tag}-{w}"));
        warm_counts.add(&upsert(client, rec).await?.0);
    }
    let mut upsert_ms = Vec::with_capacity(a.upserts);
    let mut counts = Counts::default();
    eprintln!("kindred-bench: {} upserts", a.upserts);
    for i in 0..a.upserts {
        let rec = renamed(
            &sample[(a.warmup + i) % sample.len()],
            &format!("bench-{tag}-{i}"),
        );
        let (result, took) = upsert(client, rec).await?;
        counts.add(&result);
        upsert_ms.push(ms(took));
    }
    if warm_counts.replaced + counts.replaced > 0 {
        eprintln!(
            "kindred-bench: warning: {} upserts replaced an existing record (reused --tag?)",
            warm_counts.replaced + counts.replaced
        );
    }
    let mut upsert_json = summary(&mut upsert_ms);
    upsert_json["replaced"] = json!(counts.replaced);
    upsert_json["actions"] = json!(counts.actions);
    Ok(upsert_json)
}

/// Profile lookups by record reference of loaded records, after a
/// warm-up; their latency summary. Fails when most records are missing
/// (the file was not loaded).
async fn time_lookups(client: &Client, a: &LatencyArgs, sample: &[Record]) -> Result<Value> {
    let warm_lookups = if a.lookups > 0 { a.warmup } else { 0 };
    let mut not_found = 0usize;
    for w in 0..warm_lookups {
        if lookup(client, &sample[w % sample.len()]).await?.is_none() {
            not_found += 1;
        }
    }
    let mut lookup_ms = Vec::with_capacity(a.lookups);
    let mut profile_records = 0u64;
    eprintln!("kindred-bench: {} profile lookups", a.lookups);
    for i in 0..a.lookups {
        match lookup(client, &sample[(a.warmup + i) % sample.len()]).await? {
            Some((n, took)) => {
                lookup_ms.push(ms(took));
                profile_records += n as u64;
            }
            None => not_found += 1,
        }
    }
    let lookups_tried = a.lookups + warm_lookups;
    if a.lookups > 0 && not_found * 100 > lookups_tried {
        bail!(
            "{not_found} of {lookups_tried} profile lookups found no record: \
             load {} into the node before measuring",
            a.input.records.display()
        );
    }
    let mut lookup_json = summary(&mut lookup_ms);
    lookup_json["not_found"] = json!(not_found);
    lookup_json["mean_profile_records"] = json!(if lookup_ms.is_empty() {
        0.0
    } else {
        round3(profile_records as f64 / lookup_ms.len() as f64)
    });
    Ok(lookup_json)
}

/// Reads `wanted` records (fewer if the file has fewer rows) from rows
/// spread evenly through the CSV file. A row the mapping cannot read is
/// replaced by the next one that it can.
fn sample_records(
    path: &Path,
    mapping: &Mapping,
    default_source: &str,
    wanted: usize,
) -> Result<Vec<Record>> {
    let open = || -> Result<csv::Reader<BufReader<File>>> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(BufReader::with_capacity(1 << 20, file)))
    };

    // First pass: count the data rows.
    let mut reader = open()?;
    let mut rows = 0usize;
    let mut byte_row = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut byte_row) {
            Ok(false) => break,
            Ok(true) => rows += 1,
            Err(e) if e.is_io_error() => {
                return Err(e).with_context(|| format!("cannot read {}", path.display()))
            }
            Err(_) => rows += 1,
        }
    }
    if rows == 0 {
        bail!("{} has no data rows", path.display());
    }
    let k = wanted.min(rows).max(1);
    // Row indices spread evenly: floor(j * rows / k), distinct as k <= rows.
    let targets: Vec<usize> = (0..k).map(|j| j * rows / k).collect();

    // Second pass: map the chosen rows.
    let mut reader = open()?;
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read the CSV header of {}", path.display()))?
        .clone();
    let names = kindred_proto::mapping::header_names(&headers);
    mapping
        .check_columns(&names)
        .with_context(|| format!("{} does not fit the mapping", path.display()))?;
    let mut header = header_index(&headers);
    if let Some(first) = names.first() {
        header.insert(first.clone(), 0);
    }
    let mut out = Vec::with_capacity(k);
    let mut row = csv::StringRecord::new();
    let mut index = 0usize;
    let mut unreadable = 0usize;
    while out.len() < k {
        let got = match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => true,
            Err(e) if e.is_io_error() => {
                return Err(e).with_context(|| format!("cannot read {}", path.display()))
            }
            Err(_) => false,
        };
        let i = index;
        index += 1;
        if i < targets[out.len()] {
            continue;
        }
        if !got {
            unreadable += 1;
            continue;
        }
        match mapping.csv_record(&header, &row, default_source) {
            Ok(rec) if !rec.source.is_empty() && !rec.record_id.is_empty() => out.push(rec),
            _ => unreadable += 1,
        }
    }
    if out.is_empty() {
        bail!(
            "no row of {} could be read through the mapping",
            path.display()
        );
    }
    if unreadable > 0 {
        eprintln!("kindred-bench: skipped {unreadable} rows the mapping could not read");
    }
    Ok(out)
}

/// A copy of `rec` under the record id `<id>-<suffix>`.
fn renamed(rec: &Record, suffix: &str) -> Record {
    let mut r = rec.clone();
    r.record_id = format!("{}-{suffix}", rec.record_id);
    r
}

async fn upsert(
    client: &Client,
    rec: Record,
) -> Result<(kindred_client::v1::ResolveResult, Duration)> {
    let id = format!("{}:{}", rec.source, rec.record_id);
    let start = Instant::now();
    let result = client.upsert(rec).await;
    let took = start.elapsed();
    let result = result.with_context(|| format!("upsert of {id}"))?;
    Ok((result, took))
}

/// The number of records in the profile and the call's time, or `None`
/// when the record is unknown.
async fn lookup(client: &Client, rec: &Record) -> Result<Option<(usize, Duration)>> {
    let start = Instant::now();
    let result = client.profile_by_record(&rec.source, &rec.record_id).await;
    let took = start.elapsed();
    match result {
        Ok(p) => Ok(Some((p.records.len(), took))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => {
            Err(e).with_context(|| format!("profile lookup of {}:{}", rec.source, rec.record_id))
        }
    }
}

fn is_not_found(e: &ClientError) -> bool {
    e.exit_code() == exit::NOT_FOUND
}

/// How the measured upserts were resolved.
#[derive(Debug, Default)]
struct Counts {
    replaced: u64,
    actions: BTreeMap<&'static str, u64>,
}

impl Counts {
    fn add(&mut self, r: &kindred_client::v1::ResolveResult) {
        if r.replaced {
            self.replaced += 1;
        }
        let name = match Action::try_from(r.action) {
            Ok(Action::Created) => "created",
            Ok(Action::Joined) => "joined",
            Ok(Action::Merged) => "merged",
            _ => "other",
        };
        *self.actions.entry(name).or_default() += 1;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The nearest-rank percentile `p` (0 < p <= 100) of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// count, p50, p90, p99, max and mean (milliseconds) of the samples.
fn summary(samples: &mut [f64]) -> Value {
    if samples.is_empty() {
        return json!({ "count": 0 });
    }
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    json!({
        "count": samples.len(),
        "p50_ms": round3(percentile(samples, 50.0)),
        "p90_ms": round3(percentile(samples, 90.0)),
        "p99_ms": round3(percentile(samples, 99.0)),
        "max_ms": round3(samples[samples.len() - 1]),
        "mean_ms": round3(mean),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 90.0), 90.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 50.0), 7.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 99.0), 3.0);
    }
}
