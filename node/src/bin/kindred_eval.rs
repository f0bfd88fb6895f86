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

use kindred_node::engine::coverage::{blocking_coverage, CoverageReport};
use kindred_node::engine::features::Packed;
use kindred_node::engine::resolver::{split_key, Stats};
use kindred_node::engine::train::{train_report, TrainOptions};
use kindred_node::engine::{Engine, EngineConfig, Model};
use kindred_node::eval::load::{load_records, Truth};
use kindred_node::eval::metrics::{score, Scores};
use kindred_proto::mapping::{header_index, Mapping};
use kindred_proto::v1::Record;

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
    /// With --untrained: turn the default model's household class on (it
    /// is off until training, which turns it on with a ratio estimated
    /// from the data).
    #[arg(long, requires = "untrained")]
    households: bool,
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
    /// Once every record is in, resolve them all again from scratch (every
    /// pair compared again, every component clustered once): the batch
    /// reference that incremental resolution in any order must equal.
    #[arg(long)]
    batch: bool,
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
    /// With --truth: print, per blocking rule and in total, the share of
    /// true pairs that share a live key and the comparisons per record.
    #[arg(long, requires = "truth")]
    blocking_report: bool,
    /// With --truth: write every wrongly decided pair as JSON Lines here:
    /// linked pairs of different true persons (`false_link`) and pairs of
    /// one person left in different entities (`missed`), each with the
    /// engine's explanation of the pair (levels, weights, candidates).
    #[arg(long, requires = "truth")]
    errors: Option<PathBuf>,
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

/// What a run counted.
#[derive(Default)]
struct Counts {
    /// Records given to the engine.
    records: usize,
    /// Input rows that could not be turned into records.
    rejected: usize,
    /// Records the engine refused.
    failed: usize,
}

/// How long a run's phases took (seconds) and resident memory (bytes).
#[derive(Default)]
struct Measures {
    load_secs: f64,
    train_secs: f64,
    resolve_secs: f64,
    /// Before anything was loaded.
    rss_start: u64,
    /// With the input loaded, the model ready and the engine empty.
    rss_loaded: u64,
    /// After resolving.
    rss_after: u64,
}

impl Measures {
    fn records_per_second(&self, counts: &Counts) -> f64 {
        counts.records as f64 / self.resolve_secs.max(1e-9)
    }

    /// Resident memory grown while resolving, per record: from the start
    /// of the run when streaming (the input never sits in memory), else
    /// from when the input was loaded.
    fn engine_bytes_per_record(&self, counts: &Counts, stream: bool) -> f64 {
        let base = if stream {
            self.rss_start
        } else {
            self.rss_loaded
        };
        self.rss_after.saturating_sub(base) as f64 / counts.records.max(1) as f64
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(pred), Some(truth)) = (&args.score, &args.truth) {
        return score_only(pred, truth, args.json);
    }
    let (mapping, cfg) = read_settings(&args)?;
    let mut m = Measures {
        rss_start: rss_bytes(),
        ..Measures::default()
    };
    let mut counts = Counts::default();

    let t_load = Instant::now();
    let records = load_input(&args, &mapping, &mut counts)?;
    m.load_secs = t_load.elapsed().as_secs_f64();
    let records = in_arrival_order(records, &args);
    if args.blocking_report {
        if let Some(t) = &args.truth {
            blocking_report(&cfg, &records, t, args.json)?;
        }
    }

    let t_train = Instant::now();
    let model = model_for(&args, &cfg, &records)?;
    m.train_secs = t_train.elapsed().as_secs_f64();
    if let Some(p) = &args.model_out {
        std::fs::write(p, model.to_json())?;
    }

    let mut engine = Engine::in_memory(cfg, model);
    engine.store_mut().keep_history = !args.no_history;
    m.rss_loaded = rss_bytes();
    let t_resolve = Instant::now();
    resolve(&args, &mapping, &mut engine, records, &mut counts)?;
    if args.batch {
        engine.rebuild()?;
    }
    m.resolve_secs = t_resolve.elapsed().as_secs_f64();
    m.rss_after = rss_bytes();

    let assignments = sorted_assignments(&engine);
    if let Some(p) = &args.out {
        write_assignments(p, &assignments)?;
    }
    let scores = match &args.truth {
        Some(t) => Some(score_assignments(&assignments, t)?),
        None => None,
    };
    if let (Some(out), Some(t)) = (&args.errors, &args.truth) {
        write_errors(&engine, &assignments, t, out)?;
    }
    report(&args, &engine, &counts, &m, scores.as_ref())
}

/// `--blocking-report`: the blocking coverage of the records against the
/// truth (records missing from the truth are in no true pair).
fn blocking_report(cfg: &EngineConfig, records: &[Record], truth: &Path, json: bool) -> Result<()> {
    let truth = Truth::load(truth)?;
    let probe = Engine::in_memory(cfg.clone(), Model::default());
    let packed: Vec<Packed> = records
        .iter()
        .map(|r| Packed::from_std(&probe.standardize(r)))
        .collect();
    let views: Vec<_> = packed.iter().map(Packed::view).collect();
    let mut ids: HashMap<&str, u64> = HashMap::new();
    let cluster: Vec<Option<u64>> = records
        .iter()
        .map(|r| {
            let c = truth.by_key.get(&truth.key(&r.source, &r.record_id))?;
            let next = ids.len() as u64;
            Some(*ids.entry(c.as_str()).or_insert(next))
        })
        .collect();
    let report = blocking_coverage(&cfg.blocking, &views, &cluster);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_coverage(&report);
    }
    Ok(())
}

fn print_coverage(r: &CoverageReport) {
    println!(
        "blocking: {} records, {} true pairs, {} records share no live key with their cluster",
        r.records, r.true_pairs, r.stranded_records
    );
    println!(
        "{:<28} {:>12} {:>10} {:>12} {:>8}",
        "rule", "pairs found", "recall", "comp/record", "demoted"
    );
    for c in r.rules.iter().chain(std::iter::once(&r.total)) {
        println!(
            "{:<28} {:>12} {:>10.4} {:>12.2} {:>8}",
            c.rule, c.true_pairs_covered, c.pair_recall, c.comparisons_per_record, c.demoted_keys
        );
    }
}

/// `--score`: scores an existing clustering and prints the scores.
fn score_only(pred: &Path, truth: &Path, json: bool) -> Result<()> {
    let s = score_file(pred, truth)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print_scores(&s);
    }
    Ok(())
}

/// The column mapping and the engine configuration; refuses `--stream`
/// without a model to use.
fn read_settings(args: &Args) -> Result<(Mapping, EngineConfig)> {
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
    Ok((mapping, cfg))
}

/// The input, all in memory (to train, shuffle or reverse); nothing when
/// streaming. Counts rejected rows and prints the first five of each file.
fn load_input(args: &Args, mapping: &Mapping, counts: &mut Counts) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    if args.stream {
        return Ok(records);
    }
    for path in &args.input {
        let (r, bad) = load_records(path, mapping, &source_of(args, path))?;
        for b in bad.iter().take(5) {
            eprintln!("{}:{}: rejected: {}", path.display(), b.line, b.reason);
        }
        counts.rejected += bad.len();
        records.extend(r);
    }
    Ok(records)
}

/// The records in the order they will arrive: shuffled with `--shuffle`'s
/// seed, then reversed with `--reverse`.
fn in_arrival_order(mut records: Vec<Record>, args: &Args) -> Vec<Record> {
    if let Some(seed) = args.shuffle {
        records.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    }
    if args.reverse {
        records.reverse();
    }
    records
}

/// The model: `--model`'s, the default with `--untrained`, or trained on
/// the input without labels. Training's findings are printed; an
/// implausible trained model is not used (the default is, as a node would
/// keep its current model).
fn model_for(args: &Args, cfg: &EngineConfig, records: &[Record]) -> Result<Model> {
    if let Some(p) = &args.model {
        return Ok(Model::from_json(&std::fs::read_to_string(p)?)?);
    }
    let base = Model {
        household: args
            .households
            .then(kindred_node::engine::model::HouseholdParams::default),
        ..Model::default()
    };
    if args.untrained {
        return Ok(base);
    }
    let probe = Engine::in_memory(cfg.clone(), Model::default());
    let packed: Vec<Packed> = records
        .iter()
        .map(|r| Packed::from_std(&probe.standardize(r)))
        .collect();
    let refs: Vec<&Packed> = packed.iter().collect();
    let opts = TrainOptions {
        max_records: args.train_records,
        match_probability: cfg.match_probability,
        ..TrainOptions::default()
    };
    let report = train_report(&refs, &cfg.blocking, &base, &opts)?;
    for w in &report.warnings {
        eprintln!("train: {w}");
    }
    match report.into_installable() {
        Ok(model) => Ok(model),
        Err(e) => {
            eprintln!("train: {e}; using the default model");
            Ok(base)
        }
    }
}

/// Resolves the records one at a time, or with `--stream` the input files'
/// rows as they are read.
fn resolve(
    args: &Args,
    mapping: &Mapping,
    engine: &mut Engine,
    records: Vec<Record>,
    counts: &mut Counts,
) -> Result<()> {
    if args.stream {
        for path in &args.input {
            stream_file(path, &source_of(args, path), mapping, engine, counts)?;
        }
    } else {
        for r in records {
            resolve_one(engine, r, counts);
        }
    }
    Ok(())
}

/// Resolves a CSV file's rows as they are read; rows that cannot be read
/// or mapped count as rejected.
fn stream_file(
    path: &Path,
    source: &str,
    mapping: &Mapping,
    engine: &mut Engine,
    counts: &mut Counts,
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let index = header_index(rdr.headers()?);
    for row in rdr.records() {
        match row.map_err(|e| e.to_string()).and_then(|row| {
            mapping
                .csv_record(&index, &row, source)
                .map_err(|e| e.to_string())
        }) {
            Ok(r) => resolve_one(engine, r, counts),
            Err(_) => counts.rejected += 1,
        }
    }
    Ok(())
}

/// Resolves one record, counting it and whether the engine refused it
/// (the first five refusals are printed).
fn resolve_one(engine: &mut Engine, r: Record, counts: &mut Counts) {
    counts.records += 1;
    if let Err(e) = engine.upsert(r) {
        counts.failed += 1;
        if counts.failed <= 5 {
            eprintln!("upsert failed: {e}");
        }
    }
}

/// Every record's entity as `(source, record_id, entity_id)`, sorted.
fn sorted_assignments(engine: &Engine) -> Vec<(String, String, u64)> {
    let mut assignments: Vec<(String, String, u64)> = engine
        .assignments()
        .map(|(k, e)| {
            let (s, r) = split_key(k);
            (s.to_string(), r.to_string(), e)
        })
        .collect();
    assignments.sort();
    assignments
}

/// Writes the assignments as `source,record_id,entity_id` CSV.
fn write_assignments(path: &Path, assignments: &[(String, String, u64)]) -> Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "source,record_id,entity_id")?;
    for (s, r, e) in assignments {
        writeln!(w, "{s},{r},{e}")?;
    }
    Ok(())
}

/// Scores the assignments against the ground truth in `truth`.
fn score_assignments(assignments: &[(String, String, u64)], truth: &Path) -> Result<Scores> {
    let truth = Truth::load(truth)?;
    let pred: HashMap<String, String> = assignments
        .iter()
        .map(|(s, r, e)| (truth.key(s, r), e.to_string()))
        .collect();
    Ok(score_against(&truth, &pred))
}

/// `--errors`: every pair of records whose link decision disagrees with
/// the truth, explained. Pairs are enumerated within each predicted entity
/// (false links) and each true cluster (missed), so the cost is the sum of
/// their squared sizes.
fn write_errors(
    engine: &Engine,
    assignments: &[(String, String, u64)],
    truth: &Path,
    out: &Path,
) -> Result<()> {
    let truth = Truth::load(truth)?;
    let cluster_of = |s: &str, r: &str| truth.by_key.get(&truth.key(s, r)).cloned();
    let mut by_entity: HashMap<u64, Vec<(&str, &str)>> = HashMap::new();
    let mut by_cluster: HashMap<String, Vec<(&str, &str, u64)>> = HashMap::new();
    for (s, r, e) in assignments {
        by_entity.entry(*e).or_default().push((s, r));
        if let Some(c) = cluster_of(s, r) {
            by_cluster.entry(c).or_default().push((s, r, *e));
        }
    }
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut write = |kind: &str, a: (&str, &str), b: (&str, &str)| -> Result<()> {
        let why = engine.why(a, b)?;
        let line = json!({"error": kind, "a_cluster": cluster_of(a.0, a.1),
            "b_cluster": cluster_of(b.0, b.1), "why": why});
        writeln!(w, "{line}")?;
        Ok(())
    };
    for members in by_entity.values() {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                if cluster_of(a.0, a.1) != cluster_of(b.0, b.1) {
                    write("false_link", *a, *b)?;
                }
            }
        }
    }
    for members in by_cluster.values() {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                if a.2 != b.2 {
                    write("missed", (a.0, a.1), (b.0, b.1))?;
                }
            }
        }
    }
    Ok(())
}

/// Prints the run's summary: as JSON with `--json`, else as text.
fn report(
    args: &Args,
    engine: &Engine,
    counts: &Counts,
    m: &Measures,
    scores: Option<&Scores>,
) -> Result<()> {
    let stats = engine.stats();
    if args.json {
        let mut summary = json!({
            "records": counts.records,
            "rejected_rows": counts.rejected,
            "failed_upserts": counts.failed,
            "entities": stats.entities,
            "merges": stats.merges,
            "comparisons": stats.comparisons,
            "comparisons_per_record": stats.comparisons as f64 / counts.records.max(1) as f64,
            "match_edges": stats.match_edges,
            "possible_matches": stats.possible_edges,
            "demoted_keys": stats.demoted_keys,
            "load_seconds": m.load_secs,
            "train_seconds": m.train_secs,
            "resolve_seconds": m.resolve_secs,
            "records_per_second": m.records_per_second(counts),
            "rss_bytes_after": m.rss_after,
            "engine_bytes_per_record": m.engine_bytes_per_record(counts, args.stream),
            "memory_measured": if args.stream { "resident memory growth over the whole streamed run" } else { "not meaningful without --stream" },
            "model_prior": engine.model().prior,
        });
        if let Some(s) = scores {
            summary["accuracy"] = serde_json::to_value(s)?;
        }
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&stats, counts, m, args.stream);
        if let Some(s) = scores {
            print_scores(s);
        }
    }
    Ok(())
}

/// The text summary: counts, then speed (and engine memory when streaming).
fn print_summary(stats: &Stats, counts: &Counts, m: &Measures, stream: bool) {
    println!(
        "records {}  entities {}  rejected {}  comparisons/record {:.1}",
        counts.records,
        stats.entities,
        counts.rejected,
        stats.comparisons as f64 / counts.records.max(1) as f64
    );
    let mem = if stream {
        format!(
            "  engine memory {:.0} B/record",
            m.engine_bytes_per_record(counts, true)
        )
    } else {
        String::new()
    };
    println!(
        "resolve {:.2}s  {:.0} records/s  (train {:.2}s){mem}",
        m.resolve_secs,
        m.records_per_second(counts),
        m.train_secs,
    );
}
