//! Genealogy-style records: baptism registers, censuses and family trees
//! of English parishes, people born 1600..=1920.
//!
//! Records are sparse (a census gives a name, a birth year reckoned from
//! the age, and a parish; a family tree often no date at all), dates are
//! old and written in several ways ("12 Mar 1788", "12/03/1788", "1788",
//! "1788-03-12"), and families make hard non-matches: siblings share the
//! surname and the parish, twins the date of birth too, and given names
//! repeat across generations.

use std::io::{BufWriter, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::noise::{phonetic_misspell, typo, NoiseProfile};
use super::output::{self, col, Entry, Row, Shuffle, COLUMNS, TRUTH_COLUMNS};
use super::person::{chance, pick, Date, Weighted};
use super::places::GB_LOCALITIES;
use super::{names, poisson, push_truth, GenConfig, GenStats, MAX_RECORDS_PER_PERSON};

/// Birth years covered.
pub const FIRST_YEAR: u16 = 1600;
pub const LAST_YEAR: u16 = 1920;

/// Record sources, each with its own habits.
const SOURCES: [&str; 3] = ["parish", "census", "tree"];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One person in the past.
#[derive(Debug, Clone)]
struct Ancestor {
    id: u64,
    given: &'static str,
    family: &'static str,
    male: bool,
    dob: Date,
    /// Index into [`GB_LOCALITIES`].
    parish: usize,
}

/// Draws families of ancestors.
struct Families {
    male: Vec<&'static str>,
    female: Vec<&'static str>,
    family: Vec<&'static str>,
    given_w: Weighted,
    family_w: Weighted,
    next_id: u64,
}

impl Families {
    fn new() -> Self {
        let male = names::parse_list(names::MALE_GIVEN);
        let female = names::parse_list(names::FEMALE_GIVEN);
        let family = names::parse_list(names::FAMILY);
        Families {
            // Old naming pools were small: a steep Zipf over few names.
            given_w: Weighted::zipf(male.len().min(female.len()).min(60), 1.1, 2.0),
            family_w: Weighted::zipf(family.len(), 1.0, 12.0),
            male,
            female,
            family,
            next_id: 1,
        }
    }

    /// A family of one to four children: one surname and parish, birth
    /// years a few apart, twins sometimes, and no given name twice.
    fn family<R: Rng>(&mut self, rng: &mut R, noise: &NoiseProfile) -> Vec<Ancestor> {
        let family = self.family[self.family_w.sample(rng)];
        let parish = rng.gen_range(0..GB_LOCALITIES.len());
        let first = rng.gen_range(FIRST_YEAR..=LAST_YEAR - 12);
        let size = if chance(rng, noise.household * 10.0) {
            rng.gen_range(2..=4)
        } else {
            1
        };
        let mut out: Vec<Ancestor> = Vec::with_capacity(size);
        let mut year = first;
        while out.len() < size {
            let twin = !out.is_empty() && chance(rng, 0.15);
            let dob = match out.last() {
                Some(prev) if twin => prev.dob,
                _ => Date::random_in_year(rng, year),
            };
            let male = chance(rng, 0.5);
            let pool = if male { &self.male } else { &self.female };
            let given = pool[self.given_w.sample(rng)];
            if out.iter().any(|a| a.given == given) {
                continue;
            }
            out.push(Ancestor {
                id: self.next_id,
                given,
                family,
                male,
                dob,
                parish,
            });
            self.next_id += 1;
            year = (year + rng.gen_range(1..=3)).min(LAST_YEAR);
        }
        out
    }
}

/// A name as a record shows it: sometimes misspelt.
fn spelt<R: Rng>(name: &str, rng: &mut R, noise: &NoiseProfile) -> String {
    if chance(rng, noise.phonetic * 5.0) {
        phonetic_misspell(name, rng)
    } else if chance(rng, noise.name_typo) {
        typo(name, rng)
    } else {
        name.to_string()
    }
}

/// The date of birth as `source` writes it, or nothing.
fn written_dob<R: Rng>(source: &str, dob: Date, rng: &mut R, out: &mut String) {
    let Date { year, month, day } = dob;
    match source {
        "parish" => match rng.gen_range(0..3u8) {
            0 => out.push_str(&format!("{day} {} {year}", MONTHS[month as usize - 1])),
            1 => out.push_str(&format!("{day:02}/{month:02}/{year}")),
            _ => out.push_str(&format!("{year}-{month:02}-{day:02}")),
        },
        // A census gives an age: the year, one off when the birthday had
        // not come yet.
        "census" => {
            let y = if chance(rng, 0.3) { year - 1 } else { year };
            out.push_str(&y.to_string());
        }
        _ => match rng.gen_range(0..4u8) {
            0 => {}
            1 => out.push_str(&year.to_string()),
            2 => out.push_str(&format!("{} {year}", MONTHS[month as usize - 1])),
            _ => out.push_str(&format!("{year}-{month:02}-{day:02}")),
        },
    }
}

/// Fills `row` with one record of `a` from `source`.
fn render<R: Rng>(
    a: &Ancestor,
    source: &str,
    n: usize,
    rng: &mut R,
    noise: &NoiseProfile,
    row: &mut Row,
) {
    row.clear();
    row.f[col::SOURCE].push_str(source);
    row.f[col::RECORD_ID].push_str(&format!("{source}-{n}"));
    let (given, family) = (spelt(a.given, rng, noise), spelt(a.family, rng, noise));
    if source == "tree" {
        row.f[col::FULL_NAME] = format!("{given} {family}");
    } else {
        row.f[col::GIVEN] = given;
        row.f[col::FAMILY] = family;
    }
    if !chance(rng, noise.missing * 2.0) {
        written_dob(source, a.dob, rng, &mut row.f[col::DOB]);
    }
    if source != "tree" || chance(rng, 0.5) {
        row.f[col::GENDER].push_str(if a.male { "M" } else { "F" });
    }
    if !chance(rng, noise.missing * 3.0) {
        let p = &GB_LOCALITIES[a.parish];
        row.f[col::LOCALITY].push_str(p.name);
        row.f[col::REGION].push_str(p.region);
    }
    row.f[col::COUNTRY].push_str("GB");
}

/// Writes genealogy-style records as CSV (the same [`COLUMNS`] as
/// [`super::generate`]) and their ground truth.
pub fn generate_genealogy(
    cfg: &GenConfig,
    records: impl Write,
    truth: impl Write,
) -> anyhow::Result<GenStats> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x6765_6e65_616c_6f67);
    let noise = NoiseProfile::new(cfg.difficulty);
    let mut families = Families::new();
    let mut records = BufWriter::with_capacity(1 << 20, records);
    let mut truth = BufWriter::with_capacity(1 << 18, truth);
    output::write_header(&mut records, &COLUMNS)?;
    output::write_header(&mut truth, &TRUTH_COLUMNS)?;
    let mut shuffle = Shuffle::new(1 << 16);
    let (mut row, mut entry) = (Row::default(), Entry::default());
    let (mut people, mut written) = (0usize, 0usize);
    while people < cfg.people {
        for a in families.family(&mut rng, &noise) {
            if people == cfg.people {
                break;
            }
            people += 1;
            let n = 1 + poisson(&mut rng, cfg.duplicates_mean, MAX_RECORDS_PER_PERSON - 1);
            for _ in 0..n {
                let source = pick(&mut rng, &SOURCES);
                render(&a, source, written, &mut rng, &noise, &mut row);
                row.write_csv(&mut entry.line);
                push_truth(&mut entry.truth, source, &row.f[col::RECORD_ID], a.id);
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
