//! `kindred-eval`: resolve CSV files with the engine alone (no server),
//! write `source,record_id,entity_id`, and score against ground truth.
//!
//! ```text
//! kindred-eval --input dataset3.csv --mapping febrl.toml --truth febrl3_truth.csv
//! ```
//!
//! Without `--model` the model is trained on the input itself (no labels).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::json;

use kindred_node::engine::features::Packed;
use kindred_node::engine::train::{train, TrainOptions};
use kindred_node::engine::{Engine, EngineConfig, Model};
use kindred_node::eval::load::{load_records, Truth};
use kindred_node::eval::metrics::score;
use kindred_proto::mapping::Mapping;

#[derive(Parser, Debug)]
#[command(
    name = "kindred-eval",
    about = "Resolve CSV files with the Kindred engine and score the result"
)]
struct Args {
    /// Input CSV or JSON Lines files (several are resolved together).
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Column mapping (TOML).
    #[arg(long)]
    mapping: PathBuf,
    /// Source name for rows when the mapping has no source column
    /// (defaults to each input file's stem).
    #[arg(long)]
    source: Option<String>,
    /// Ground truth: record_id,cluster_id (or source,record_id,person_id).
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Write `source,record_id,entity_id` here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Use this model file instead of training on the input.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Use the untrained default model.
    #[arg(long, conflicts_with = "model")]
    untrained: bool,
    /// Write the trained model here.
    #[arg(long)]
    model_out: Option<PathBuf>,
    /// Engine configuration (TOML); defaults otherwise.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Shuffle the arrival order with this seed.
    #[arg(long)]
    shuffle: Option<u64>,
    /// Reverse the arrival order.
    #[arg(long)]
    reverse: bool,
    /// Train on at most this many records.
    #[arg(long, default_value_t = 300_000)]
    train_records: usize,
    /// Do not keep the audit history in memory (pure throughput runs).
    #[arg(long)]
    no_history: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mapping =
        Mapping::from_toml(&std::fs::read_to_string(&args.mapping).context("reading mapping")?)?;
    let cfg: EngineConfig = match &args.config {
        Some(p) => toml::from_str(&std::fs::read_to_string(p)?)?,
        None => EngineConfig::default(),
    };
    let t_load = Instant::now();
    let mut records = Vec::new();
    let mut rejected = 0usize;
    for path in &args.input {
        let source = args.source.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default()
        });
        let (r, bad) = load_records(path, &mapping, &source)?;
        for b in bad.iter().take(5) {
            eprintln!("{}:{}: rejected: {}", path.display(), b.line, b.reason);
        }
        rejected += bad.len();
        records.extend(r);
    }
    let load_secs = t_load.elapsed().as_secs_f64();
    if let Some(seed) = args.shuffle {
        records.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    }
    if args.reverse {
        records.reverse();
    }
    let rss_before = rss_bytes();

    // Model: given, default, or trained on the input without labels.
    let t_train = Instant::now();
    let model = if let Some(p) = &args.model {
        Model::from_json(&std::fs::read_to_string(p)?)?
    } else if args.untrained {
        Model::default()
    } else {
        let probe = Engine::in_memory(cfg.clone(), Model::default());
        let packed: Vec<Packed> = records
            .iter()
            .map(|r| Packed::from_std(&probe.standardize(r)))
            .collect();
        let refs: Vec<&Packed> = packed.iter().collect();
        let opts = TrainOptions {
            max_records: args.train_records,
            ..TrainOptions::default()
        };
        train(&refs, &cfg.blocking, &Model::default(), &opts)?
    };
    let train_secs = t_train.elapsed().as_secs_f64();
    if let Some(p) = &args.model_out {
        std::fs::write(p, model.to_json())?;
    }

    // Resolve, one record at a time.
    let mut engine = Engine::in_memory(cfg, model);
    engine.store_mut().keep_history = !args.no_history;
    let n = records.len();
    let keys: Vec<(String, String)> = records
        .iter()
        .map(|r| (r.source.clone(), r.record_id.clone()))
        .collect();
    let rss_loaded = rss_bytes();
    let t_resolve = Instant::now();
    let mut failed = 0usize;
    for r in records {
        if let Err(e) = engine.upsert(r) {
            failed += 1;
            if failed <= 5 {
                eprintln!("upsert failed: {e}");
            }
        }
    }
    let resolve_secs = t_resolve.elapsed().as_secs_f64();
    let rss_after = rss_bytes();
    let stats = engine.stats();

    let mut assignments: Vec<(String, String, u64)> = keys
        .iter()
        .filter_map(|(s, r)| {
            engine
                .entity_of(&kindred_node::engine::resolver::record_key(s, r))
                .map(|e| (s.clone(), r.clone(), e))
        })
        .collect();
    assignments.sort();
    if let Some(p) = &args.out {
        let mut w = std::io::BufWriter::new(std::fs::File::create(p)?);
        writeln!(w, "source,record_id,entity_id")?;
        for (s, r, e) in &assignments {
            writeln!(w, "{s},{r},{e}")?;
        }
    }

    let mut summary = json!({
        "records": n,
        "rejected_rows": rejected,
        "failed_upserts": failed,
        "entities": stats.entities,
        "merges": stats.merges,
        "comparisons": stats.comparisons,
        "comparisons_per_record": stats.comparisons as f64 / n.max(1) as f64,
        "match_edges": stats.match_edges,
        "possible_matches": stats.possible_edges,
        "load_seconds": load_secs,
        "train_seconds": train_secs,
        "resolve_seconds": resolve_secs,
        "records_per_second": n as f64 / resolve_secs.max(1e-9),
        "rss_bytes_before_engine": rss_before,
        "rss_bytes_after": rss_after,
        "engine_bytes_per_record": (rss_after.saturating_sub(rss_loaded)) as f64 / n.max(1) as f64,
        "model_prior": engine.model().prior,
    });
    if let Some(t) = &args.truth {
        let truth = Truth::load(t)?;
        let mut tv = Vec::new();
        let mut pv = Vec::new();
        let mut next_singleton = u64::MAX;
        let pred: std::collections::HashMap<String, u64> = assignments
            .iter()
            .map(|(s, r, e)| (truth.key(s, r), *e))
            .collect();
        for (k, c) in &truth.by_key {
            tv.push(c.clone());
            pv.push(pred.get(k).copied().unwrap_or_else(|| {
                next_singleton -= 1;
                next_singleton
            }));
        }
        let s = score(&tv, &pv);
        summary["accuracy"] = serde_json::to_value(&s)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "records {n}  entities {}  rejected {rejected}  comparisons/record {:.1}",
            stats.entities,
            stats.comparisons as f64 / n.max(1) as f64
        );
        println!(
            "resolve {:.2}s  {:.0} records/s  (train {:.2}s)  engine memory {:.0} B/record",
            resolve_secs,
            n as f64 / resolve_secs.max(1e-9),
            train_secs,
            summary["engine_bytes_per_record"].as_f64().unwrap_or(0.0)
        );
        if let Some(a) = summary.get("accuracy") {
            let g = |x: &str, y: &str| a[x][y].as_f64().unwrap_or(0.0);
            println!(
                "pairwise  P {:.4}  R {:.4}  F1 {:.4}   (true pairs {}, predicted {})",
                g("pairwise", "precision"),
                g("pairwise", "recall"),
                g("pairwise", "f1"),
                a["true_pairs"],
                a["predicted_pairs"]
            );
            println!(
                "b-cubed   P {:.4}  R {:.4}  F1 {:.4}",
                g("bcubed", "precision"),
                g("bcubed", "recall"),
                g("bcubed", "f1")
            );
        }
    }
    Ok(())
}
