//! `kindred generate`: a synthetic dataset (records.csv, truth.csv,
//! mapping.toml) from the generate module, and, for the same people,
//! activity with a known answer (events.csv, events.toml,
//! activity_truth.csv).

use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kindred_client::exit;
use kindred_client::generate::{
    events_mapping_toml, format_utc, generate, generate_events, mapping_toml, parse_as_of,
    read_truth, Difficulty, EventConfig, GenConfig, DEFAULT_EVENTS_PER_PERSON,
};
use serde::Serialize;

use super::{render, CliError, Output};

/// Arguments of `kindred generate`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Number of distinct people.
    #[arg(long, default_value_t = 1000)]
    pub people: usize,
    /// Random seed (the same seed gives the same files).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Noise level: easy, medium or hard.
    #[arg(long, default_value_t = Difficulty::Medium)]
    pub difficulty: Difficulty,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Skip the events (events.csv, events.toml, activity_truth.csv).
    #[arg(long)]
    pub no_events: bool,
    /// Events are dated before this time, and activity_truth.csv holds the
    /// state at it: RFC 3339 or YYYY-MM-DD [default: today, 00:00 UTC].
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    pub as_of: Option<i64>,
    /// Mean number of events per person.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_EVENTS_PER_PERSON)]
    pub events_per_person: usize,
}

#[derive(Debug, Serialize)]
struct GenerateSummary {
    people: usize,
    records: usize,
    difficulty: String,
    seed: u64,
    records_csv: String,
    truth_csv: String,
    mapping_toml: String,
    events: usize,
    events_csv: Option<String>,
    events_toml: Option<String>,
    activity_truth_csv: Option<String>,
    as_of: Option<String>,
    seconds: f64,
}

/// What the events step wrote.
#[derive(Debug, Default)]
struct EventsWritten {
    events: usize,
    events_csv: Option<String>,
    events_toml: Option<String>,
    activity_truth_csv: Option<String>,
    as_of: Option<String>,
}

fn create(p: &Path) -> Result<File, CliError> {
    File::create(p).map_err(|e| CliError::input(format!("cannot create {}: {e}", p.display())))
}

fn write(p: &Path, text: &str) -> Result<(), CliError> {
    fs::write(p, text).map_err(|e| CliError::failure(format!("cannot write {}: {e}", p.display())))
}

/// Today at 00:00 UTC, from the system clock.
fn today_utc_ms() -> i64 {
    const DAY_MS: i64 = 86_400_000;
    chrono::Utc::now().timestamp_millis().div_euclid(DAY_MS) * DAY_MS
}

/// `kindred generate`.
pub fn run(out: &Output, a: GenerateArgs) -> Result<u8, CliError> {
    let cfg = GenConfig {
        people: a.people,
        seed: a.seed,
        difficulty: a.difficulty,
        ..GenConfig::default()
    };
    let start = Instant::now();
    fs::create_dir_all(&a.out)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", a.out.display())))?;
    let paths = [
        a.out.join("records.csv"),
        a.out.join("truth.csv"),
        a.out.join("mapping.toml"),
    ];
    let stats = generate(&cfg, create(&paths[0])?, create(&paths[1])?)
        .map_err(|e| CliError::failure(format!("generating the dataset: {e:#}")))?;
    write(&paths[2], mapping_toml())?;
    let ev = if a.no_events {
        EventsWritten::default()
    } else {
        write_events(&a, &paths[1])?
    };
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let summary = GenerateSummary {
        people: stats.people,
        records: stats.records,
        difficulty: cfg.difficulty.to_string(),
        seed: cfg.seed,
        records_csv: shown[0].clone(),
        truth_csv: shown[1].clone(),
        mapping_toml: shown[2].clone(),
        events: ev.events,
        events_csv: ev.events_csv,
        events_toml: ev.events_toml,
        activity_truth_csv: ev.activity_truth_csv,
        as_of: ev.as_of,
        seconds: start.elapsed().as_secs_f64(),
    };
    out.emit(&summary, || table(&summary))?;
    Ok(exit::OK)
}

/// Writes events.csv, events.toml and activity_truth.csv for the people
/// of the truth file just written.
fn write_events(a: &GenerateArgs, truth: &Path) -> Result<EventsWritten, CliError> {
    let cfg = EventConfig {
        seed: a.seed,
        asof_ms: a.as_of.unwrap_or_else(today_utc_ms),
        events_per_person: a.events_per_person,
    };
    let file = File::open(truth)
        .map_err(|e| CliError::failure(format!("cannot read {}: {e}", truth.display())))?;
    let people = read_truth(BufReader::new(file))
        .map_err(|e| CliError::failure(format!("reading {}: {e:#}", truth.display())))?;
    let paths = [
        a.out.join("events.csv"),
        a.out.join("events.toml"),
        a.out.join("activity_truth.csv"),
    ];
    let stats = generate_events(&cfg, &people, create(&paths[0])?, create(&paths[2])?)
        .map_err(|e| CliError::failure(format!("generating the events: {e:#}")))?;
    write(&paths[1], events_mapping_toml())?;
    let shown = |i: usize| Some(paths[i].display().to_string());
    Ok(EventsWritten {
        events: stats.events,
        events_csv: shown(0),
        events_toml: shown(1),
        activity_truth_csv: shown(2),
        as_of: Some(format_utc(cfg.asof_ms)),
    })
}

/// The summary as a two-column table.
fn table(s: &GenerateSummary) -> String {
    let mut rows = vec![
        ("people", s.people.to_string()),
        ("records", s.records.to_string()),
        ("difficulty", s.difficulty.clone()),
        ("seed", s.seed.to_string()),
        ("records file", s.records_csv.clone()),
        ("truth file", s.truth_csv.clone()),
        ("mapping file", s.mapping_toml.clone()),
    ];
    if let Some(events_csv) = &s.events_csv {
        rows.extend([
            ("events", s.events.to_string()),
            ("events file", events_csv.clone()),
            (
                "events mapping file",
                s.events_toml.clone().unwrap_or_default(),
            ),
            (
                "activity truth file",
                s.activity_truth_csv.clone().unwrap_or_default(),
            ),
            ("as of", s.as_of.clone().unwrap_or_default()),
        ]);
    }
    rows.push(("seconds", format!("{:.2}", s.seconds)));
    render::kv_table(&rows).to_string()
}
