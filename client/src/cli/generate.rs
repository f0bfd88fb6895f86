//! `kindred generate`: a synthetic dataset (records.csv, truth.csv,
//! mapping.toml) from the generate module.

use std::fs::{self, File};
use std::path::PathBuf;
use std::time::Instant;

use kindred_client::exit;
use kindred_client::generate::{generate, mapping_toml, Difficulty, GenConfig};
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
    seconds: f64,
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
    let create = |p: &PathBuf| {
        File::create(p).map_err(|e| CliError::input(format!("cannot create {}: {e}", p.display())))
    };
    let stats = generate(&cfg, create(&paths[0])?, create(&paths[1])?)
        .map_err(|e| CliError::failure(format!("generating the dataset: {e:#}")))?;
    fs::write(&paths[2], mapping_toml())
        .map_err(|e| CliError::failure(format!("cannot write {}: {e}", paths[2].display())))?;
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let summary = GenerateSummary {
        people: stats.people,
        records: stats.records,
        difficulty: cfg.difficulty.to_string(),
        seed: cfg.seed,
        records_csv: shown[0].clone(),
        truth_csv: shown[1].clone(),
        mapping_toml: shown[2].clone(),
        seconds: start.elapsed().as_secs_f64(),
    };
    out.emit(&summary, || {
        render::kv_table(&[
            ("people", summary.people.to_string()),
            ("records", summary.records.to_string()),
            ("difficulty", summary.difficulty.clone()),
            ("seed", summary.seed.to_string()),
            ("records file", summary.records_csv.clone()),
            ("truth file", summary.truth_csv.clone()),
            ("mapping file", summary.mapping_toml.clone()),
            ("seconds", format!("{:.2}", summary.seconds)),
        ])
        .to_string()
    })?;
    Ok(exit::OK)
}
