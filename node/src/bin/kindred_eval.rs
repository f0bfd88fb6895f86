//! `kindred-eval`: resolve CSV files with the engine alone (no server),
//! write `source,record_id,entity_id`, and score against ground truth.
//!
//! ```text
//! kindred-eval --input dataset3.csv --mapping febrl.toml --truth febrl3_truth.csv
//! ```
//!
//! Without `--model` the model is trained on the input itself (no labels).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::json;

use kindred_node::engine::features::Packed;
use kindred_node::engine::resolver::split_key;
use kindred_node::engine::train::{train, TrainOptions};
use kindred_node::engine::{Engine, EngineConfig, Model};
use kindred_node::eval::load::{load_records, Truth};
use kindred_node::eval::metrics::{score, Scores};
use kindred_proto::mapping::{header_index, Mapping};

#[derive(Parser, Debug)]
#[command(
    name = "kindred-eval",
    about = "Resolve CSV files with the Kindred engine and score the result"
)]
struct Args {
    /// Input CSV or JSON Lines files (several are resolved together).
    #[arg(long, num_args = 1.., required_unless_present = "score")]
    input: Vec<PathBuf>,
    /// Column mapping (TOML).
    #[arg(long, required_unless_present = "score")]
    mapping: Option<PathBuf>,
    /// Only score an existing `source,record_id,entity_id` file (e.g. from
    /// `kindred export`) against `--truth`; resolve nothing.
    #[arg(long, requires = "truth")]
    score: Option<PathBuf>,
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
    /// Stream rows from the files straight into the engine without holding
    /// them in memory (needs --model or --untrained): resident memory then
    /// measures the engine alone.
    #[arg(long)]
    stream: bool,
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

/// Scores an exported clustering against the truth.
fn score_file(pred: &Path, truth: &Path) -> Result<Scores> {
    let truth = Truth::load(truth)?;
    let mut rdr =
        csv::Reader::from_path(pred).with_context(|| format!("opening {}", pred.display()))?;
    let mut by_key = HashMap::new();
    for row in rdr.records() {
        let row = row?;
        by_key.insert(truth.key(&row[0], &row[1]), row[2].to_string());
    }
    Ok(score_against(&truth, &by_key))
}

fn score_against(truth: &Truth, pred: &HashMap<String, String>) -> Scores {
    let (mut tv, mut pv) = (Vec::new(), Vec::new());
    for (k, c) in &truth.by_key {
        tv.push(c.clone());
        // Records missing from the prediction count as singletons.
        pv.push(
            pred.get(k)
                .cloned()
                .unwrap_or_else(|| format!("missing:{k}")),
        );
    }
    score(&tv, &pv)
}

fn print_scores(s: &Scores) {
    println!(
        "pairwise  P {:.4}  R {:.4}  F1 {:.4}   (true pairs {}, predicted {})",
        s.pairwise.precision, s.pairwise.recall, s.pairwise.f1, s.true_pairs, s.predicted_pairs
    );
    println!(
        "b-cubed   P {:.4}  R {:.4}  F1 {:.4}",
        s.bcubed.precision, s.bcubed.recall, s.bcubed.f1
    );
}

fn source_of(args: &Args, path: &Path) -> String {
    args.source.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(pred), Some(truth)) = (&args.score, &args.truth) {
        let s = score_file(pred, truth)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&s)?);
        } else {
            print_scores(&s);
        }
        return Ok(());
    }
    let mapping_path = args.mapping.as_ref().context("--mapping is required")?;
    let mapping =
        Mapping::from_toml(&std::fs::read_to_string(mapping_path).context("reading mapping")?)?;
    let cfg: EngineConfig = match &args.config {
        Some(p) => toml::from_str(&std::fs::read_to_string(p)?)?,
        None => EngineConfig::default(),
    };
    if args.stream && args.model.is_none() && !args.untrained {
        bail!("--stream needs --model or --untrained (training needs all records in memory)");
    }
    let rss_start = rss_bytes();

    // Input: all in memory (to train, shuffle or reverse), or streamed.
    let t_load = Instant::now();
    let mut records = Vec::new();
    let mut rejected = 0usize;
    if !args.stream {
        for path in &args.input {
            let (r, bad) = load_records(path, &mapping, &source_of(&args, path))?;
            for b in bad.iter().take(5) {
                eprintln!("{}:{}: rejected: {}", path.display(), b.line, b.reason);
            }
            rejected += bad.len();
            records.extend(r);
        }
    }
    let load_secs = t_load.elapsed().as_secs_f64();
    if let Some(seed) = args.shuffle {
        records.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    }
    if args.reverse {
        records.reverse();
    }

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
    let mut failed = 0usize;
    let mut n = 0usize;
    let mut upsert = |engine: &mut Engine, r| {
        n += 1;
        if let Err(e) = engine.upsert(r) {
            failed += 1;
            if failed <= 5 {
                eprintln!("upsert failed: {e}");
            }
        }
    };
    let rss_loaded = rss_bytes();
    let t_resolve = Instant::now();
    if args.stream {
        for path in &args.input {
            let source = source_of(&args, path);
            let mut rdr = csv::ReaderBuilder::new()
                .flexible(true)
                .trim(csv::Trim::All)
                .from_path(path)
                .with_context(|| format!("opening {}", path.display()))?;
            let index = header_index(rdr.headers()?);
            for row in rdr.records() {
                match row.map_err(|e| e.to_string()).and_then(|row| {
                    mapping
                        .csv_record(&index, &row, &source)
                        .map_err(|e| e.to_string())
                }) {
                    Ok(r) => upsert(&mut engine, r),
                    Err(_) => rejected += 1,
                }
            }
        }
    } else {
        for r in records {
            upsert(&mut engine, r);
        }
    }
    let resolve_secs = t_resolve.elapsed().as_secs_f64();
    let rss_after = rss_bytes();
    let stats = engine.stats();

    let mut assignments: Vec<(String, String, u64)> = engine
        .assignments()
        .map(|(k, e)| {
            let (s, r) = split_key(k);
            (s.to_string(), r.to_string(), e)
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
    let base = if args.stream { rss_start } else { rss_loaded };
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
        "demoted_keys": stats.demoted_keys,
        "load_seconds": load_secs,
        "train_seconds": train_secs,
        "resolve_seconds": resolve_secs,
        "records_per_second": n as f64 / resolve_secs.max(1e-9),
        "rss_bytes_after": rss_after,
        "engine_bytes_per_record": rss_after.saturating_sub(base) as f64 / n.max(1) as f64,
        "memory_measured": if args.stream { "resident memory growth over the whole streamed run" } else { "not meaningful without --stream" },
        "model_prior": engine.model().prior,
    });
    let scores = match &args.truth {
        Some(t) => {
            let truth = Truth::load(t)?;
            let pred: HashMap<String, String> = assignments
                .iter()
                .map(|(s, r, e)| (truth.key(s, r), e.to_string()))
                .collect();
            Some(score_against(&truth, &pred))
        }
        None => None,
    };
    if let Some(s) = &scores {
        summary["accuracy"] = serde_json::to_value(s)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "records {n}  entities {}  rejected {rejected}  comparisons/record {:.1}",
            stats.entities,
            stats.comparisons as f64 / n.max(1) as f64
        );
        let mem = if args.stream {
            format!(
                "  engine memory {:.0} B/record",
                summary["engine_bytes_per_record"].as_f64().unwrap_or(0.0)
            )
        } else {
            String::new()
        };
        println!(
            "resolve {:.2}s  {:.0} records/s  (train {:.2}s){mem}",
            resolve_secs,
            n as f64 / resolve_secs.max(1e-9),
            train_secs,
        );
        if let Some(s) = &scores {
            print_scores(s);
        }
    }
    Ok(())
}
