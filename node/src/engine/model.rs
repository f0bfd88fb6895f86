//! The Fellegi-Sunter match model: m and u probabilities per comparison
//! level, the prior probability that two random records match, and
//! term-frequency tables for common values.
//!
//! Besides "same person" and "unrelated", a pair can be two people of one
//! household, who share an address by definition and often a surname or a
//! phone: [`HouseholdParams`] is that third class. Its evidence is derived
//! from each attribute's m and u and a documented sharing probability, so
//! that an address agreement never stands in for evidence about the person.
//!
//! A model is a versioned, human-readable JSON file. [`Model::default`] holds
//! sound defaults so the engine works before training;
//! [`super::train`] estimates a model from the data without labels.
//! [`Scorer`] is the compiled form used on the hot path.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::compare::{Attribute, Pattern};
use super::features::FeatView;
use super::hash::{Fnv64, KeySecret};

/// Format tag written in every model file.
pub const MODEL_FORMAT: &str = "kindred-model/1";

/// Smallest probability a level may have (keeps weights finite).
pub const MIN_PROB: f64 = 1e-7;

/// m and u of one comparison level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    pub label: String,
    /// P(level | records match).
    pub m: f64,
    /// P(level | records do not match).
    pub u: f64,
}

/// The levels of one comparison, in [`Attribute::levels`] order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParams {
    pub attribute: Attribute,
    pub levels: Vec<LevelParams>,
}

/// Frequencies of the values of one attribute in the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TermFrequencies {
    /// Frequency used for values not listed (rare or unseen values).
    pub default: f64,
    /// Value → share of records (with the attribute) that hold it. When
    /// `keyed`, each value is its keyed hash ([`TermFrequencies::key_of`]):
    /// names and areas are personal values, never stored.
    pub values: BTreeMap<String, f64>,
    /// The values are keyed hashes (16 hex digits).
    #[serde(default)]
    pub keyed: bool,
}

impl TermFrequencies {
    /// The keyed hash of a value (FNV of `tf 0x1f value`, then keyed).
    pub fn hash_of(value: &str, secret: &KeySecret) -> u64 {
        let mut h = Fnv64::default();
        h.write(b"tf\x1f");
        h.write(value.as_bytes());
        secret.apply(h.finish())
    }

    /// The stored form of a value in a keyed table: 16 hex digits of its
    /// keyed hash.
    pub fn key_of(value: &str, secret: &KeySecret) -> String {
        format!("{:016x}", TermFrequencies::hash_of(value, secret))
    }
}

/// How a model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainingInfo {
    pub records: usize,
    pub random_pairs: usize,
    pub blocked_pairs: usize,
    /// One entry per EM session (one per blocking rule).
    pub sessions: Vec<SessionInfo>,
}

/// One EM session, on the pairs of one blocking rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SessionInfo {
    pub rule: String,
    pub pairs: usize,
    pub iterations: usize,
    /// Share of this rule's pairs that EM judged to be matches.
    pub match_share: f64,
    /// Estimated share of all true matches this rule finds.
    pub estimated_recall: f64,
}

/// A Fellegi-Sunter model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: String,
    /// Increases every time the model is retrained.
    pub version: u64,
    pub description: String,
    /// Prior probability that two records drawn at random match (λ).
    pub prior: f64,
    pub comparisons: Vec<ComparisonParams>,
    /// Attribute name → term frequencies.
    #[serde(default)]
    pub term_frequencies: BTreeMap<String, TermFrequencies>,
    #[serde(default)]
    pub training: Option<TrainingInfo>,
    /// The household class, off unless a model file sets it (see
    /// [`HouseholdParams`] for why it is not on by default yet).
    #[serde(default)]
    pub household: Option<HouseholdParams>,
}

/// The third class of pairs: two different people of one household.
///
/// Fellegi-Sunter weighs "same person" against "unrelated". Two people who
/// live together agree on the address exactly as one person's two records
/// do, so for them every address agreement counts as identity evidence and
/// a clear difference of first name and date of birth cannot outweigh it
/// (twins, a father and his son of the same name, or a household member's
/// record that carries the other's details). With this class the odds of a
/// match are `λ_M·m / (λ_U·u + λ_H·h)`, where for every attribute
/// `h = s·m + (1 − s)·u`: two people of one household hold the same value as
/// one person's records would with the sharing probability `s`, and values
/// as unrelated as strangers' otherwise. The address is shared (`s = 1`),
/// so it cancels out of `h/m`, and only evidence about the person decides.
///
/// Off in the untrained default model, which cannot know whether the data
/// holds households: on data without them (Febrl) a prior ratio costs
/// recall, 1.2 points on Febrl 3 (0.9972 to 0.9849) even at 0.05. Training turns it on
/// with the ratio it estimates from the data ([`super::train`]); a model
/// file's `household` entry turns it on by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdParams {
    /// λ_H / λ_M: pairs of two people of one household per pair of one
    /// person's records. Training estimates it ([`super::household`]);
    /// the default, for a class turned on by hand, is 0.25.
    pub ratio: f64,
    /// Attribute name → the sharing probability `s`. Attributes not listed
    /// (gender) have `s = 0`; `identifier:*` applies to every identifier
    /// kind without an entry of its own.
    pub sharing: BTreeMap<String, f64>,
}

impl Default for HouseholdParams {
    fn default() -> Self {
        let sharing = [
            // Living together is what the class means.
            ("street", 1.0),
            ("area", 1.0),
            // Spouses and children mostly share the surname.
            ("family_name", 0.6),
            // A landline or a family mobile.
            ("phone", 0.3),
            // A family mailbox.
            ("email", 0.02),
            // Twins and other multiple births.
            ("date_of_birth", 0.01),
            // A son named after his father ("junior").
            ("given_name", 0.01),
            // One member's record carrying another's identifier (a data
            // error: identifiers are personal).
            ("identifier:*", 0.001),
        ];
        HouseholdParams {
            ratio: 0.25,
            sharing: sharing
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }
}

impl HouseholdParams {
    /// The sharing probability of an attribute (0 for personal ones).
    pub fn sharing_of(&self, a: &Attribute) -> f64 {
        self.sharing
            .get(&a.name())
            .or_else(|| match a {
                Attribute::Identifier(_) => self.sharing.get("identifier:*"),
                _ => None,
            })
            .copied()
            .unwrap_or(0.0)
    }
}

/// Errors loading or validating a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported model format {0:?} (expected {MODEL_FORMAT:?})")]
    Format(String),
    #[error("comparison {attribute}: expected levels {expected:?}, found {found:?}")]
    Levels {
        attribute: String,
        expected: Vec<String>,
        found: Vec<String>,
    },
    #[error(
        "comparison {attribute}, level {label}: {what} = {value} is not a probability in (0, 1]"
    )]
    Probability {
        attribute: String,
        label: String,
        what: &'static str,
        value: f64,
    },
    #[error("prior = {0} is not a probability in (0, 1)")]
    Prior(f64),
    #[error("too many comparisons: {0} (at most {max})", max = super::compare::MAX_COMPARISONS)]
    TooMany(usize),
    #[error("household.{what} = {value} is out of range ({range})")]
    Household {
        what: String,
        value: f64,
        range: &'static str,
    },
}

/// Default (m, u) per level, before any training. They encode ordinary
/// knowledge of person data (names agree for most true matches and for few
/// random pairs; identifiers almost never agree by chance).
fn default_levels(a: &Attribute) -> &'static [(f64, f64)] {
    match a {
        Attribute::GivenName => &[
            (0.80, 0.006),
            (0.05, 0.0008),
            (0.06, 0.003),
            (0.04, 0.03),
            (0.01, 0.01),
            (0.03, 0.30),
            (0.01, 0.65),
        ],
        Attribute::FamilyName => &[
            (0.85, 0.002),
            (0.06, 0.001),
            (0.04, 0.01),
            (0.035, 0.25),
            (0.015, 0.737),
        ],
        Attribute::DateOfBirth => &[
            (0.88, 0.00005),
            (0.06, 0.0008),
            (0.03, 0.004),
            (0.03, 0.995),
        ],
        Attribute::Gender => &[(0.97, 0.5), (0.03, 0.5)],
        Attribute::Email => &[(0.70, 0.000001), (0.05, 0.00001), (0.25, 0.999989)],
        Attribute::Phone => &[(0.70, 0.000001), (0.05, 0.00002), (0.25, 0.999979)],
        Attribute::Street => &[
            (0.70, 0.00002),
            (0.08, 0.0001),
            (0.04, 0.003),
            (0.18, 0.99688),
        ],
        Attribute::Area => &[
            (0.75, 0.003),
            (0.08, 0.004),
            (0.05, 0.02),
            (0.07, 0.2),
            (0.05, 0.773),
        ],
        Attribute::Identifier(_) => &[(0.90, 0.0000001), (0.04, 0.000001), (0.06, 0.9999989)],
    }
}

impl ComparisonParams {
    /// The untrained defaults for an attribute.
    pub fn default_for(attribute: Attribute) -> Self {
        let levels = attribute
            .levels()
            .iter()
            .zip(default_levels(&attribute))
            .map(|(label, &(m, u))| LevelParams {
                label: (*label).to_string(),
                m,
                u,
            })
            .collect();
        ComparisonParams { attribute, levels }
    }
}

impl Default for Model {
    fn default() -> Self {
        Model {
            format: MODEL_FORMAT.into(),
            version: 0,
            description: "untrained defaults".into(),
            prior: 1e-4,
            comparisons: Attribute::defaults()
                .into_iter()
                .map(ComparisonParams::default_for)
                .collect(),
            term_frequencies: BTreeMap::new(),
            training: None,
            household: None,
        }
    }
}

impl Model {
    /// Keys the term-frequency tables under `secret` (nothing without a
    /// secret, or for a table keyed already), so that the names and areas
    /// they list never reach the disk or the Raft log.
    pub fn key_term_frequencies(&mut self, secret: &KeySecret) {
        if !secret.is_keyed() {
            return;
        }
        for t in self.term_frequencies.values_mut().filter(|t| !t.keyed) {
            t.values = std::mem::take(&mut t.values)
                .into_iter()
                .map(|(v, f)| (TermFrequencies::key_of(&v, secret), f))
                .collect();
            t.keyed = true;
        }
    }

    /// Parses and validates a model file (upgrading one written before
    /// the given name's "clearly_different" level, see [`Model::upgrade`]).
    pub fn from_json(s: &str) -> Result<Self, ModelError> {
        let mut m: Model = serde_json::from_str(s)?;
        m.upgrade();
        m.validate()?;
        Ok(m)
    }

    /// Brings a model of an earlier level layout to the current one without
    /// changing any pair's score: a name comparison whose last level is
    /// "different" (no "clearly_different" yet) has that level split in two
    /// halves of its m and u, which keep its weight log2(m/u).
    pub fn upgrade(&mut self) {
        for c in &mut self.comparisons {
            let expected = c.attribute.levels();
            let n = c.levels.len();
            let old_layout = n + 1 == expected.len()
                && c.levels.iter().zip(expected).all(|(l, e)| l.label == *e);
            let name = matches!(c.attribute, Attribute::GivenName | Attribute::FamilyName);
            if name && old_layout {
                if let Some(last) = c.levels.last_mut() {
                    last.m /= 2.0;
                    last.u /= 2.0;
                    let mut split = last.clone();
                    split.label = expected[n].to_string();
                    c.levels.push(split);
                }
            }
        }
    }

    /// Pretty JSON for the model file.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks format, level labels and probabilities.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.format != MODEL_FORMAT {
            return Err(ModelError::Format(self.format.clone()));
        }
        if !(self.prior > 0.0 && self.prior < 1.0) {
            return Err(ModelError::Prior(self.prior));
        }
        if self.comparisons.len() > super::compare::MAX_COMPARISONS {
            return Err(ModelError::TooMany(self.comparisons.len()));
        }
        if let Some(h) = &self.household {
            h.validate()?;
        }
        for c in &self.comparisons {
            let expected: Vec<String> =
                c.attribute.levels().iter().map(|s| s.to_string()).collect();
            let found: Vec<String> = c.levels.iter().map(|l| l.label.clone()).collect();
            if expected != found {
                return Err(ModelError::Levels {
                    attribute: c.attribute.name(),
                    expected,
                    found,
                });
            }
            for l in &c.levels {
                for (what, value) in [("m", l.m), ("u", l.u)] {
                    if !(value > 0.0 && value <= 1.0) {
                        return Err(ModelError::Probability {
                            attribute: c.attribute.name(),
                            label: l.label.clone(),
                            what,
                            value,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The attributes compared, in pattern order.
    pub fn attributes(&self) -> Vec<Attribute> {
        self.comparisons
            .iter()
            .map(|c| c.attribute.clone())
            .collect()
    }
}

impl HouseholdParams {
    fn validate(&self) -> Result<(), ModelError> {
        if !(self.ratio.is_finite() && self.ratio >= 0.0) {
            return Err(ModelError::Household {
                what: "ratio".into(),
                value: self.ratio,
                range: "a finite number >= 0",
            });
        }
        for (k, &v) in &self.sharing {
            if !(0.0..=1.0).contains(&v) || Attribute::parse(k).is_none() {
                return Err(ModelError::Household {
                    what: format!("sharing.{k}"),
                    value: v,
                    range: "a probability, for a known attribute",
                });
            }
        }
        Ok(())
    }
}

/// The smallest postcode that both records hold (on any of their
/// addresses): the value an exact area agreement is on.
fn shared_postcode<'r>(a: &'r FeatView<'_>, b: &'r FeatView<'_>) -> Option<&'r str> {
    a.addresses
        .iter()
        .filter_map(|x| x.postcode)
        .filter(|pc| b.addresses.iter().any(|y| y.postcode == Some(*pc)))
        .min()
}

/// Converts a probability into a match weight threshold: log2(p / (1 - p)).
pub fn probability_to_weight(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).log2()
}

/// Converts a match weight into a probability.
pub fn weight_to_probability(w: f64) -> f64 {
    let x = w.exp2();
    x / (1.0 + x)
}

/// One attribute's contribution to a pair's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub attribute: String,
    pub level: u8,
    pub label: String,
    pub weight: f64,
    /// The term-frequency adjustment included in `weight` (0 if none).
    pub tf_adjustment: f64,
}

/// A compiled term-frequency table: value → frequency, the default
/// frequency, and the m of the exact level.
/// A compiled term-frequency table: frequencies by value (or, keyed, by
/// the value's keyed hash), the default frequency, the m of the exact
/// level.
#[derive(Debug, Clone)]
struct TfTable {
    plain: FxHashMap<Box<str>, f64>,
    keyed: Option<FxHashMap<u64, f64>>,
    default: f64,
    m: f64,
}

impl TfTable {
    fn new(t: &TermFrequencies, m: f64) -> TfTable {
        let keyed = t.keyed.then(|| {
            t.values
                .iter()
                .filter_map(|(k, v)| Some((u64::from_str_radix(k, 16).ok()?, *v)))
                .collect()
        });
        let plain = if t.keyed {
            FxHashMap::default()
        } else {
            t.values
                .iter()
                .map(|(k, v)| (k.as_str().into(), *v))
                .collect()
        };
        TfTable {
            plain,
            keyed,
            default: t.default,
            m,
        }
    }
}

/// The compiled model used to score pairs.
#[derive(Debug, Clone)]
pub struct Scorer {
    /// Per comparison, per level (0 = null): log2(m/u).
    weights: Vec<Vec<f64>>,
    /// Per comparison: the term-frequency table and the m of the exact level.
    tf: Vec<Option<TfTable>>,
    prior_weight: f64,
    /// The household class compiled: λ_H / λ_M and, per comparison, per
    /// level (0 = null), log2(h/m).
    household: Option<(f64, Vec<Vec<f64>>)>,
    /// The secret of keyed term-frequency tables.
    secret: KeySecret,
    model: Model,
}

impl Scorer {
    /// Compiles a validated model (its term-frequency tables unkeyed).
    pub fn new(model: Model) -> Self {
        Scorer::keyed(model, KeySecret::default())
    }

    /// Compiles a validated model whose term-frequency tables are (or are
    /// now made) keyed under `secret`.
    pub fn keyed(mut model: Model, secret: KeySecret) -> Self {
        model.key_term_frequencies(&secret);
        let weights = model
            .comparisons
            .iter()
            .map(|c| {
                std::iter::once(0.0)
                    .chain(
                        c.levels
                            .iter()
                            .map(|l| (l.m.max(MIN_PROB) / l.u.max(MIN_PROB)).log2()),
                    )
                    .collect()
            })
            .collect();
        let tf = model
            .comparisons
            .iter()
            .map(|c| {
                if !c.attribute.term_frequency() {
                    return None;
                }
                let t = model.term_frequencies.get(&c.attribute.name())?;
                Some(TfTable::new(t, c.levels[0].m))
            })
            .collect();
        let household = model.household.as_ref().map(|h| {
            let per_level = model
                .comparisons
                .iter()
                .map(|c| {
                    let s = h.sharing_of(&c.attribute);
                    std::iter::once(0.0)
                        .chain(c.levels.iter().map(|l| {
                            let (m, u) = (l.m.max(MIN_PROB), l.u.max(MIN_PROB));
                            ((s * m + (1.0 - s) * u) / m).log2()
                        }))
                        .collect()
                })
                .collect();
            (h.ratio, per_level)
        });
        Scorer {
            weights,
            tf,
            prior_weight: probability_to_weight(model.prior),
            household,
            secret,
            model,
        }
    }

    /// Σ log2(h/m) over the pattern's levels: how much better the pair fits
    /// two people of one household than one person.
    fn household_weight(&self, p: &Pattern) -> f64 {
        let Some((_, per_level)) = &self.household else {
            return 0.0;
        };
        per_level
            .iter()
            .enumerate()
            .map(|(i, lw)| lw.get(p.levels[i] as usize).copied().unwrap_or(0.0))
            .sum()
    }

    /// The match weight once the household class is weighed in: from
    /// odds O = λ_M·m / λ_U·u, the odds λ_M·m / (λ_U·u + λ_H·h), i.e.
    /// `-log2(2^-w + ratio · 2^household)`.
    fn with_household(&self, w: f64, p: &Pattern) -> f64 {
        match &self.household {
            Some((ratio, _)) if *ratio > 0.0 => {
                let hh = self.household_weight(p);
                -((-w).exp2() + ratio * hh.exp2()).log2()
            }
            _ => w,
        }
    }

    /// The model this scorer was compiled from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// log2(λ / (1 - λ)).
    pub fn prior_weight(&self) -> f64 {
        self.prior_weight
    }

    /// The term-frequency-adjusted weight of an exact agreement on `value`,
    /// or None when the comparison has no term frequencies.
    fn tf_weight(&self, i: usize, value: &str) -> Option<f64> {
        let t = self.tf[i].as_ref()?;
        let found = match &t.keyed {
            Some(map) => map.get(&TermFrequencies::hash_of(value, &self.secret)),
            None => t.plain.get(value),
        };
        let f = found.copied().unwrap_or(t.default).max(MIN_PROB);
        Some((t.m.max(MIN_PROB) / f).log2())
    }

    /// The value an exact agreement was on, for term-frequency adjustment.
    /// A function of the unordered pair, so that a pair scores the same
    /// whichever record is compared with which.
    fn exact_value<'r>(
        attr: &Attribute,
        p: &Pattern,
        a: &'r FeatView<'_>,
        b: &'r FeatView<'_>,
    ) -> Option<&'r str> {
        match attr {
            Attribute::GivenName if p.names_swapped => None,
            Attribute::GivenName => a.given.map(|n| n.text),
            Attribute::FamilyName if p.names_swapped => None,
            Attribute::FamilyName => a.family.map(|n| n.text),
            // Multi-valued: the smallest postcode both records hold.
            Attribute::Area => shared_postcode(a, b),
            _ => None,
        }
    }

    /// Total match weight of a compared pair: prior + Σ level weights,
    /// then the household class weighed in.
    pub fn score(&self, p: &Pattern, a: &FeatView<'_>, b: &FeatView<'_>) -> f64 {
        let mut w = self.prior_weight;
        for (i, lw) in self.weights.iter().enumerate() {
            let l = p.levels[i] as usize;
            w += self.level_weight(i, l, p, (a, b), lw);
        }
        self.with_household(w, p)
    }

    fn level_weight(
        &self,
        i: usize,
        l: usize,
        p: &Pattern,
        (a, b): (&FeatView<'_>, &FeatView<'_>),
        lw: &[f64],
    ) -> f64 {
        if l == 1 && self.tf[i].is_some() {
            let attr = &self.model.comparisons[i].attribute;
            if let Some(tw) = Self::exact_value(attr, p, a, b).and_then(|v| self.tf_weight(i, v)) {
                return tw;
            }
        }
        lw.get(l).copied().unwrap_or(0.0)
    }

    /// Every attribute's contribution, for explanations, then (with a
    /// household class) the weight the household alternative takes off,
    /// as a contribution named `household`: the prior weight plus every
    /// contribution is the pair's score.
    pub fn contributions(
        &self,
        p: &Pattern,
        a: &FeatView<'_>,
        b: &FeatView<'_>,
    ) -> Vec<Contribution> {
        let mut out = self.attribute_contributions(p, a, b);
        if self.household.is_some() {
            let w = self.prior_weight + out.iter().map(|c| c.weight).sum::<f64>();
            out.push(Contribution {
                attribute: "household".into(),
                level: 0,
                label: "two_people_of_one_household".into(),
                weight: self.with_household(w, p) - w,
                tf_adjustment: 0.0,
            });
        }
        out
    }

    fn attribute_contributions(
        &self,
        p: &Pattern,
        a: &FeatView<'_>,
        b: &FeatView<'_>,
    ) -> Vec<Contribution> {
        self.weights
            .iter()
            .enumerate()
            .map(|(i, lw)| {
                let l = p.levels[i] as usize;
                let c = &self.model.comparisons[i];
                let weight = self.level_weight(i, l, p, (a, b), lw);
                Contribution {
                    attribute: c.attribute.name(),
                    level: l as u8,
                    label: if l == 0 {
                        "null".into()
                    } else {
                        c.levels
                            .get(l - 1)
                            .map(|x| x.label.clone())
                            .unwrap_or_default()
                    },
                    weight,
                    tf_adjustment: weight - lw.get(l).copied().unwrap_or(0.0),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_model_is_valid_and_round_trips_through_json() {
        let m = Model::default();
        m.validate().unwrap();
        let back = Model::from_json(&m.to_json()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn invalid_models_are_rejected_with_the_reason() {
        let mut m = Model::default();
        m.comparisons[0].levels[0].m = 0.0;
        assert!(matches!(m.validate(), Err(ModelError::Probability { .. })));
        let mut m = Model::default();
        m.comparisons[1].levels.pop();
        assert!(matches!(m.validate(), Err(ModelError::Levels { .. })));
        let m = Model {
            prior: 1.5,
            ..Model::default()
        };
        assert!(matches!(m.validate(), Err(ModelError::Prior(_))));
        assert!(matches!(Model::from_json("{"), Err(ModelError::Json(_))));
    }

    #[test]
    fn a_model_without_the_clearly_different_level_is_upgraded_keeping_its_weights() {
        let mut old = Model::default();
        old.comparisons[0].levels.pop();
        old.comparisons[0].levels[5].m = 0.04;
        old.comparisons[0].levels[5].u = 0.95;
        old.comparisons[1].levels.pop();
        let m = Model::from_json(&old.to_json()).unwrap();
        let given = &m.comparisons[0].levels;
        assert_eq!(given.len(), 7);
        assert_eq!(given[6].label, "clearly_different");
        let w = |l: &LevelParams| (l.m / l.u).log2();
        let old_w = (0.04f64 / 0.95).log2();
        assert!((w(&given[5]) - old_w).abs() < 1e-12 && (w(&given[6]) - old_w).abs() < 1e-12);
        assert_eq!(m.comparisons[1].levels[4].label, "clearly_different");
        m.validate().unwrap();
        let total: f64 = given.iter().map(|l| l.m).sum();
        let old_total: f64 = old.comparisons[0].levels.iter().map(|l| l.m).sum();
        assert!((total - old_total).abs() < 1e-12);
    }

    #[test]
    fn agreement_weighs_positive_and_disagreement_negative() {
        let s = Scorer::new(Model::default());
        for lw in &s.weights {
            assert!(lw[1] > 0.0);
            assert!(*lw.last().unwrap() <= 0.0);
        }
    }

    #[test]
    fn probability_weight_conversions_are_inverse() {
        for p in [0.01, 0.5, 0.95, 0.999] {
            assert!((weight_to_probability(probability_to_weight(p)) - p).abs() < 1e-9);
        }
    }
}
