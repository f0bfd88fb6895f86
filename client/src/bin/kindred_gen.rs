//! `kindred-gen`: writes a synthetic multi-source customer dataset with
//! ground truth — `records.csv`, `truth.csv` and `mapping.toml` — into a
//! directory, for demos, accuracy tests and throughput benchmarks.

use std::fs::{self, File};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use kindred_client::generate::{self, Difficulty, GenConfig};

/// Generate realistic, noisy, multi-source person records with ground truth.
#[derive(Debug, Parser)]
#[command(name = "kindred-gen", version)]
struct Args {
    /// Number of distinct people.
    #[arg(long, default_value_t = 1000)]
    people: usize,
    /// Random seed (same seed, same output).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Noise level: easy, medium or hard.
    #[arg(long, default_value_t = Difficulty::Medium)]
    difficulty: Difficulty,
    /// Mean number of extra records per person.
    #[arg(long, default_value_t = 1.5)]
    duplicates_mean: f64,
    /// Comma-separated source systems.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "crm,pos,web,callcentre,loyalty"
    )]
    sources: Vec<String>,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Kind of records: customer (multi-source customer records) or
    /// genealogy (parish registers, censuses and family trees, born
    /// 1600-1920, sparse fields, families with twins).
    #[arg(long, value_enum, default_value_t = Style::Customer)]
    style: Style,
}

/// Kinds of records `kindred-gen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Style {
    Customer,
    Genealogy,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cfg = GenConfig {
        people: args.people,
        seed: args.seed,
        difficulty: args.difficulty,
        duplicates_mean: args.duplicates_mean,
        sources: args.sources,
    };
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let create = |name: &str| {
        let path = args.out.join(name);
        File::create(&path).with_context(|| format!("creating {}", path.display()))
    };
    let start = Instant::now();
    let (records, truth) = (create("records.csv")?, create("truth.csv")?);
    let stats = match args.style {
        Style::Customer => generate::generate(&cfg, records, truth)?,
        Style::Genealogy => generate::generate_genealogy(&cfg, records, truth)?,
    };
    fs::write(args.out.join("mapping.toml"), generate::mapping_toml())
        .context("writing mapping.toml")?;
    println!(
        "kindred-gen: {} people, {} records ({} difficulty, seed {}) -> {} in {:.2}s",
        stats.people,
        stats.records,
        cfg.difficulty,
        cfg.seed,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
