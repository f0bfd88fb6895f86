//! A generator of realistic, noisy, multi-source customer records with
//! ground truth, for demos, accuracy tests and throughput benchmarks.
//!
//! Each generated person gets one or more records, each from a source
//! system (CRM, POS tills, web sign-ups, call centre, loyalty, ...) that
//! captures its own subset of fields in its own formats, with per-record
//! noise (typos, nicknames, swapped day and month, moved house, ...) scaled
//! by [`Difficulty`]. Relatives sharing an address and landline (twins a
//! date of birth too; one relative's record sometimes carrying another's
//! national identifier), recurring common names and placeholder values
//! make precision matter too. [`generate_genealogy`] writes
//! genealogy-style records instead (old dates, sparse fields, families).
//!
//! Output is streamed: records are written as they are made, through a
//! bounded shuffle window so a person's records are not adjacent. The same
//! [`GenConfig`] (seed included) always gives the same bytes.
//!
//! ```no_run
//! use kindred_client::generate::{generate, GenConfig};
//! let cfg = GenConfig { people: 1000, seed: 7, ..GenConfig::default() };
//! let mut records = Vec::new();
//! let mut truth = Vec::new();
//! let stats = generate(&cfg, &mut records, &mut truth).unwrap();
//! assert_eq!(stats.people, 1000);
//! ```

mod events;
mod genealogy;
mod ids;
mod names;
mod noise;
mod output;
mod person;
mod places;
mod sources;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io::{BufWriter, Write};
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use events::{
    events_mapping_toml, format_utc, generate_events, lifecycle_stage, parse_as_of, read_truth,
    EventConfig, EventStats, RecordsByPerson, ACTIVITY_TRUTH_COLUMNS, DEFAULT_EVENTS_PER_PERSON,
    EVENT_COLUMNS,
};
pub use genealogy::generate_genealogy;
pub use output::{COLUMNS, TRUTH_COLUMNS};

use noise::NoiseProfile;
use output::{Entry, Row, Shuffle};
use person::PersonFactory;
use sources::Sources;

/// How much noise duplicates carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Difficulty {
    /// Little noise: most duplicates are easy to spot.
    Easy,
    /// Moderate noise, as in typical operational data.
    #[default]
    Medium,
    /// A lot of noise and more confusable non-duplicates.
    Hard,
}

impl FromStr for Difficulty {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "easy" => Ok(Difficulty::Easy),
            "medium" => Ok(Difficulty::Medium),
            "hard" => Ok(Difficulty::Hard),
            other => Err(format!(
                "unknown difficulty {other:?} (easy, medium or hard)"
            )),
        }
    }
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        })
    }
}

/// The default source systems.
pub const DEFAULT_SOURCES: [&str; 5] = ["crm", "pos", "web", "callcentre", "loyalty"];

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Number of distinct people.
    pub people: usize,
    /// Random seed: the same configuration always gives the same output.
    pub seed: u64,
    /// How noisy duplicates are.
    pub difficulty: Difficulty,
    /// Mean number of extra records per person (Poisson; at most 7 extra).
    pub duplicates_mean: f64,
    /// Source system names. Known names (crm, pos, web, callcentre,
    /// loyalty, support) get their own conventions; others behave like a CRM.
    pub sources: Vec<String>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            people: 1000,
            seed: 42,
            difficulty: Difficulty::Medium,
            duplicates_mean: 1.5,
            sources: DEFAULT_SOURCES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenStats {
    pub people: usize,
    pub records: usize,
}

/// Most records a person can have.
pub const MAX_RECORDS_PER_PERSON: usize = 8;

/// Records held back at most to shuffle the output order.
const SHUFFLE_WINDOW: usize = 1 << 16;

/// Writes records as CSV to `records` (header [`COLUMNS`]) and ground truth
/// to `truth` (header `source,record_id,person_id`).
pub fn generate(
    cfg: &GenConfig,
    records: impl Write,
    truth: impl Write,
) -> anyhow::Result<GenStats> {
    anyhow::ensure!(
        cfg.duplicates_mean.is_finite() && cfg.duplicates_mean >= 0.0,
        "duplicates_mean must be a non-negative number"
    );
    anyhow::ensure!(
        (cfg.people as u64) < 100_000_000,
        "at most 100 million people can be generated"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let noise = NoiseProfile::new(cfg.difficulty);
    let mut factory = PersonFactory::new(cfg.seed, noise.clone());
    let mut sources = Sources::new(&cfg.sources, cfg.seed)?;
    let mut records = BufWriter::with_capacity(1 << 20, records);
    let mut truth = BufWriter::with_capacity(1 << 18, truth);
    output::write_header(&mut records, &COLUMNS)?;
    output::write_header(&mut truth, &TRUTH_COLUMNS)?;

    let mut shuffle = Shuffle::new(SHUFFLE_WINDOW);
    let mut row = Row::default();
    let mut entry = Entry::default();
    let mut people = 0usize;
    let mut written = 0usize;
    while people < cfg.people {
        for person in factory.household(&mut rng) {
            if people == cfg.people {
                break;
            }
            people += 1;
            let n = 1 + poisson(&mut rng, cfg.duplicates_mean, MAX_RECORDS_PER_PERSON - 1);
            for k in 0..n {
                let src = sources.choose(&mut rng, person.loyalty_id.is_some());
                row.clear();
                let scale = if k == 0 { 0.3 } else { 1.0 };
                // The last record of a relative in a household conflict
                // carries the other member's national identifier.
                let shown = match person.relative_national_id {
                    Some(id) if k + 1 == n => std::borrow::Cow::Owned(person::Person {
                        national_id: Some(id),
                        ..person.clone()
                    }),
                    _ => std::borrow::Cow::Borrowed(&person),
                };
                sources.render(src, &shown, &noise, scale, &mut rng, &mut row);
                row.write_csv(&mut entry.line);
                push_truth(
                    &mut entry.truth,
                    &row.f[output::col::SOURCE],
                    &row.f[output::col::RECORD_ID],
                    person.id,
                );
                entry = shuffle.push(entry, &mut rng, &mut records, &mut truth)?;
                written += 1;
            }
        }
    }
    shuffle.finish(&mut rng, &mut records, &mut truth)?;
    records.flush()?;
    truth.flush()?;
    Ok(GenStats {
        people,
        records: written,
    })
}

/// Appends one ground-truth line: `source,record_id,person_id`.
fn push_truth(out: &mut String, source: &str, record_id: &str, person: u64) {
    out.push_str(source);
    out.push(',');
    out.push_str(record_id);
    out.push(',');
    push_u64(out, person);
    out.push('\n');
}

/// Appends a number in decimal.
fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).expect("digits"));
}

/// A Poisson-distributed count with mean `mean`, capped at `cap`
/// (Knuth's multiplication method; the cap bounds the work).
fn poisson<R: Rng>(rng: &mut R, mean: f64, cap: usize) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    let limit = (-mean).exp();
    let mut product: f64 = rng.gen();
    let mut k = 0;
    while product > limit && k < cap {
        k += 1;
        product *= rng.gen::<f64>();
    }
    k
}

/// The TOML column mapping for the generated CSV, for `kindred import
/// --mapping`.
pub fn mapping_toml() -> &'static str {
    MAPPING_TOML
}

const MAPPING_TOML: &str = r#"# Column mapping for records generated by kindred-gen.
record_id = "record_id"
source = "source"

[fields]
full_name = "full_name"
given_name = "given_name"
family_name = "family_name"
# Sources write dates differently (1985-07-14, 14/07/1985, 07/14/1985,
# 19850714), so no fixed format is given.
date_of_birth = { column = "date_of_birth" }
gender = "gender"
email = "email"
phone = "phone"
street = "street"
locality = "locality"
region = "region"
postcode = "postcode"
country = "country"

[identifiers]
national_id = "national_id"
loyalty_id = "loyalty_id"

[attributes]
customer_since = "customer_since"
last_purchase = "last_purchase"

[defaults]
country = "AU"
"#;
