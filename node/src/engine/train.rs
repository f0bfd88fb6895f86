//! Unsupervised estimation of the Fellegi-Sunter model from the data itself.
//!
//! - **u** (level probabilities among non-matches) from comparisons of
//!   random record pairs: almost all random pairs are non-matches.
//! - **m** (level probabilities among matches) by expectation-maximisation
//!   over blocked pairs, one EM session per blocking rule. A session leaves
//!   out the attributes its rule constrains (they agree by construction in
//!   its pairs, which would bias their m), as Splink does; each attribute's
//!   m is the mean over the sessions that estimated it, each session
//!   weighted by its expected matched pairs with a value for the attribute
//!   (a session that saw few matches cannot outvote one that saw many).
//! - **review**: [`super::review`] orders every comparison's weights by
//!   level, keeps the starting m where EM gave an estimate of the wrong
//!   sign or none, and judges whether the model is plausible
//!   ([`train_report`] returns its findings).
//! - **λ**, the prior that two random records match: each session gives the
//!   number of matches among its rule's pairs; dividing by the rule's recall
//!   (the share of the other sessions' matches that the rule also finds)
//!   estimates the total number of matching pairs. The median over rules is
//!   divided by the number of possible pairs.
//! - **households**: how many pairs of two people of one household there
//!   are per pair of one person's records, by a three-class mixture over
//!   the blocked pairs that share an address ([`super::household`]); the
//!   trained model has the household class on with that ratio.
//! - **term frequencies** of names, localities and postcodes.
//!
//! No labels are used anywhere.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::blocking::{distinct_rule_keys, BlockingConfig, BlockingRule, Keys};
use super::compare::{Attribute, Comparator, MAX_COMPARISONS};
use super::features::{FeatView, Packed};
use super::model::{ComparisonParams, Model, SessionInfo, TermFrequencies, TrainingInfo};
use super::review::review;
pub use super::review::{ImplausibleModel, TrainReport, TrainWarning};

/// Training options.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Random pairs compared to estimate u.
    pub random_pairs: usize,
    /// Train on at most this many records (a deterministic random sample).
    pub max_records: usize,
    pub seed: u64,
    pub max_iterations: usize,
    /// EM stops when no m moves by more than this.
    pub tolerance: f64,
    /// Term-frequency tables keep at most this many values per attribute.
    pub tf_max_values: usize,
    /// Identifier kinds held by fewer records than this share no comparison of their own.
    pub min_identifier_records: usize,
    /// The link threshold the model will be used with (for the review of
    /// whether it can link at all).
    pub match_probability: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            random_pairs: 1_000_000,
            max_records: 300_000,
            seed: 42,
            max_iterations: 200,
            tolerance: 1e-6,
            tf_max_values: 20_000,
            min_identifier_records: 20,
            match_probability: 0.95,
        }
    }
}

/// Training errors.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("need at least {need} records to train, have {have}")]
    TooFewRecords { need: usize, have: usize },
}

type Levels = [u8; MAX_COMPARISONS];

/// Pattern counts of one rule's pairs: (levels, rules-shared mask) → count.
type PatternCounts = FxHashMap<(Levels, u64), f64>;

/// Trains a model on the records' features. `base` supplies the starting
/// point (and the values kept for attributes the data says nothing about).
/// See [`train_report`] for what training found; this returns its model
/// even when it is implausible.
pub fn train(
    records: &[&Packed],
    blocking: &BlockingConfig,
    base: &Model,
    opts: &TrainOptions,
) -> Result<Model, TrainError> {
    train_report(records, blocking, base, opts).map(|r| r.model)
}

/// Trains a model and reviews it ([`super::review`]): the report's
/// warnings say what was fixed and why, and [`TrainReport::plausible`]
/// whether the model is fit to install.
pub fn train_report(
    records: &[&Packed],
    blocking: &BlockingConfig,
    base: &Model,
    opts: &TrainOptions,
) -> Result<TrainReport, TrainError> {
    if records.len() < 10 {
        return Err(TrainError::TooFewRecords {
            need: 10,
            have: records.len(),
        });
    }
    // One generator, drawn from in a fixed order: the sample, then u's pairs.
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let sample = canonical_sample(records, opts.max_records, &mut rng);
    let views: Vec<FeatView<'_>> = sample.iter().map(|p| p.view()).collect();
    let attrs = attributes_for(&views, base, opts);
    let comparator = Comparator::new(&attrs);
    let mut model = starting_model(base, &attrs, &views, opts);

    let random = random_pair_levels(&views, &comparator, opts.random_pairs, &mut rng);
    set_u(&mut model, &random.counts);

    let blocked = Blocked::new(&views, blocking).compare(&comparator);
    let mut em = em_per_rule(&blocked, &attrs, &blocking.rules, &model, opts);
    let (prior, mut warnings) = prior_without_excess(&mut em, &blocking.rules, views.len());
    if let Some(prior) = prior {
        model.prior = prior;
    }
    let estimated = set_m(&mut model, &em);
    let start = starting_model(base, &attrs, &[], opts);
    warnings.extend(review(
        &mut model,
        &start,
        &estimated,
        prior.is_some(),
        opts.match_probability,
    ));
    if let Some(w) = estimate_households(&mut model, &blocked) {
        warnings.push(w);
    }
    model.training = Some(TrainingInfo {
        records: views.len(),
        random_pairs: random.draws,
        blocked_pairs: blocked.iter().map(|r| r.pairs).sum(),
        sessions: em.sessions,
    });
    Ok(TrainReport { model, warnings })
}

/// Sets the household class from the blocked pairs, each counted once
/// (under the first rule that finds it). Training turns the class on (with
/// the default sharing probabilities of
/// [`super::model::HouseholdParams`] unless the base model has its own)
/// and sets its ratio to the estimate. The class is only as good as that
/// estimate: when too few pairs share an address to make one, the base
/// model's choice stands (off by default) and a warning says so.
fn estimate_households(model: &mut Model, blocked: &[RulePairs]) -> Option<TrainWarning> {
    let once = blocked.iter().flat_map(|rp| {
        rp.counts
            .iter()
            .filter(move |((_, mask), _)| mask.trailing_zeros() as usize == rp.rule)
            .map(|((levels, _), n)| (levels, *n))
    });
    let base = model.household.take();
    model.household = Some(base.clone().unwrap_or_default());
    match super::household::estimate_ratio(model, once) {
        Some(est) => {
            if let Some(h) = model.household.as_mut() {
                h.ratio = est.ratio;
            }
            None
        }
        None => {
            model.household = base;
            Some(TrainWarning::HouseholdsNotEstimated {
                kept: model.household.as_ref().map(|h| h.ratio),
            })
        }
    }
}

/// Number of distinct pairs among `n` records.
fn pair_count(n: usize) -> usize {
    n * (n - 1) / 2
}

/// The records in a canonical order (by packed bytes), so the model never
/// depends on arrival order; when there are more than `max`, a
/// deterministic random sample of `max` of them, kept in that order.
fn canonical_sample<'a>(
    records: &[&'a Packed],
    max: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<&'a Packed> {
    let mut records: Vec<&Packed> = records.to_vec();
    records.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    if records.len() <= max {
        return records;
    }
    let mut idx: Vec<usize> = (0..records.len()).collect();
    for i in 0..max {
        let j = rng.gen_range(i..idx.len());
        idx.swap(i, j);
    }
    idx.truncate(max);
    idx.sort_unstable();
    idx.into_iter().map(|i| records[i]).collect()
}

/// The model training starts from: the next version, the base model's
/// parameters of each attribute (defaults for attributes it lacks) and the
/// data's term frequencies.
fn starting_model(
    base: &Model,
    attrs: &[Attribute],
    views: &[FeatView<'_>],
    opts: &TrainOptions,
) -> Model {
    Model {
        version: base.version + 1,
        description: format!("trained without labels on {} records", views.len()),
        comparisons: attrs
            .iter()
            .map(|a| {
                base.comparisons
                    .iter()
                    .find(|c| &c.attribute == a)
                    .cloned()
                    .unwrap_or_else(|| ComparisonParams::default_for(a.clone()))
            })
            .collect(),
        term_frequencies: term_frequencies(views, opts.tf_max_values),
        ..base.clone()
    }
}

/// Level counts over random pairs of records.
struct RandomPairs {
    /// Per attribute: how many pairs fell at each level (0: null).
    counts: Vec<Vec<f64>>,
    /// Pairs drawn.
    draws: usize,
}

/// Compares up to `max_pairs` random pairs of distinct records (almost
/// all of them non-matches) and counts each attribute's levels.
fn random_pair_levels(
    views: &[FeatView<'_>],
    comparator: &Comparator,
    max_pairs: usize,
    rng: &mut ChaCha8Rng,
) -> RandomPairs {
    let n = views.len();
    let mut counts = vec![vec![0f64; 8]; comparator.attributes().len()];
    let draws = max_pairs.min(pair_count(n).max(1));
    for _ in 0..draws {
        let i = rng.gen_range(0..n);
        let mut j = rng.gen_range(0..n - 1);
        if j >= i {
            j += 1;
        }
        let p = comparator.compare(&views[i], &views[j]);
        for (c, row) in counts.iter_mut().enumerate() {
            row[p.levels[c] as usize] += 1.0;
        }
    }
    RandomPairs { counts, draws }
}

/// Sets u from random-pair level counts; attributes without evidence keep
/// their prior u.
fn set_u(model: &mut Model, counts: &[Vec<f64>]) {
    for (c, row) in counts.iter().enumerate() {
        let levels = model.comparisons[c].levels.len();
        let total: f64 = row[1..=levels].iter().sum();
        if total < 1.0 {
            continue;
        }
        for (l, level) in model.comparisons[c].levels.iter_mut().enumerate() {
            // Half a pair of smoothing keeps unseen agreements possible but rare.
            level.u = (row[l + 1] + 0.5) / (total + 0.5 * levels as f64);
        }
    }
}

/// The compared pairs of one blocking rule.
struct RulePairs {
    /// Index of the rule.
    rule: usize,
    /// Patterns of its pairs, with the mask of rules sharing a live key.
    counts: PatternCounts,
    pairs: usize,
}

/// The sample's blocking keys, per record and per rule.
struct Blocked<'v, 'a> {
    views: &'v [FeatView<'a>],
    /// `per_rec[record][rule]`: the record's keys under the rule, sorted.
    per_rec: Vec<Vec<Keys>>,
    /// `blocks[rule]`: key → the records holding it.
    blocks: Vec<FxHashMap<u64, Vec<u32>>>,
    max_key_size: usize,
}

impl<'v, 'a> Blocked<'v, 'a> {
    fn new(views: &'v [FeatView<'a>], blocking: &BlockingConfig) -> Self {
        let rules = &blocking.rules;
        let per_rec: Vec<Vec<Keys>> = views
            .iter()
            .map(|v| {
                rules
                    .iter()
                    .enumerate()
                    .map(|(ri, r)| distinct_rule_keys(ri, r, v))
                    .collect()
            })
            .collect();
        let mut blocks: Vec<FxHashMap<u64, Vec<u32>>> = vec![FxHashMap::default(); rules.len()];
        for (i, keys) in per_rec.iter().enumerate() {
            for (ri, ks) in keys.iter().enumerate() {
                for &k in ks {
                    blocks[ri].entry(k).or_default().push(i as u32);
                }
            }
        }
        Blocked {
            views,
            per_rec,
            blocks,
            max_key_size: blocking.max_key_size,
        }
    }

    /// True when key `k` of rule `ri` is held by at most `max_key_size` records.
    fn live(&self, ri: usize, k: u64) -> bool {
        self.blocks[ri]
            .get(&k)
            .is_some_and(|v| v.len() <= self.max_key_size)
    }

    /// Every rule's pairs, compared.
    fn compare(&self, comparator: &Comparator) -> Vec<RulePairs> {
        (0..self.blocks.len())
            .map(|ri| self.rule_pairs(ri, comparator))
            .collect()
    }

    /// Rule `ri`'s pairs, compared: each pair counted once, under its
    /// smallest shared live key.
    fn rule_pairs(&self, ri: usize, comparator: &Comparator) -> RulePairs {
        let mut counts: PatternCounts = FxHashMap::default();
        let mut pairs = 0usize;
        for (&k, members) in &self.blocks[ri] {
            if members.len() < 2 || members.len() > self.max_key_size {
                continue;
            }
            for (x, &a) in members.iter().enumerate() {
                for &b in &members[x + 1..] {
                    let (a, b) = (a as usize, b as usize);
                    if self.first_shared_live_key(ri, a, b) != Some(k) {
                        continue;
                    }
                    let p = comparator.compare(&self.views[a], &self.views[b]);
                    *counts
                        .entry((p.levels, self.rules_shared(a, b)))
                        .or_default() += 1.0;
                    pairs += 1;
                }
            }
        }
        RulePairs {
            rule: ri,
            counts,
            pairs,
        }
    }

    /// The smallest live key of rule `ri` that records `a` and `b` share.
    fn first_shared_live_key(&self, ri: usize, a: usize, b: usize) -> Option<u64> {
        self.per_rec[a][ri]
            .iter()
            .find(|kk| self.live(ri, **kk) && self.per_rec[b][ri].contains(kk))
            .copied()
    }

    /// Bit mask of the rules under which `a` and `b` share a live key.
    fn rules_shared(&self, a: usize, b: usize) -> u64 {
        let mut mask = 0u64;
        for (rj, (ka, kb)) in self.per_rec[a].iter().zip(&self.per_rec[b]).enumerate() {
            if ka.iter().any(|kk| self.live(rj, *kk) && kb.contains(kk)) {
                mask |= 1 << rj;
            }
        }
        mask
    }
}

/// The m one EM session estimated.
struct SessionM {
    /// Per attribute and level.
    m: Vec<Vec<f64>>,
    /// Per attribute: expected matched pairs with a value (0 when the
    /// session left the attribute out or saw too few).
    weight: Vec<f64>,
    /// Set when the session's estimates are not to be used.
    discarded: bool,
}

/// What the EM sessions (one per rule with enough pairs) estimated.
struct EmEstimates {
    /// One per session, in `sessions` order.
    per_session: Vec<SessionM>,
    /// `hits[r][s]`: expected matches among rule r's pairs that rule s
    /// also finds.
    hits: Vec<Vec<f64>>,
    /// Per rule: expected matches among its pairs.
    matched: Vec<f64>,
    sessions: Vec<SessionInfo>,
}

/// Runs EM on the pairs of each rule with at least 10 pairs, leaving out
/// the attributes the rule constrains, and collects the estimates.
fn em_per_rule(
    blocked: &[RulePairs],
    attrs: &[Attribute],
    rules: &[BlockingRule],
    model: &Model,
    opts: &TrainOptions,
) -> EmEstimates {
    let mut est = EmEstimates {
        per_session: Vec::new(),
        hits: vec![vec![0f64; rules.len()]; rules.len()],
        matched: vec![0f64; rules.len()],
        sessions: Vec::new(),
    };
    for rp in blocked.iter().filter(|rp| rp.pairs >= 10) {
        let active: Vec<bool> = attrs
            .iter()
            .map(|a| !rules[rp.rule].constrains(a))
            .collect();
        let em = run_em(&rp.counts, &active, model, opts);
        est.add_session(rp, &active, &em, &rules[rp.rule].name);
    }
    est
}

impl EmEstimates {
    /// Adds one session's m (for the attributes it estimated with evidence)
    /// and its expected matches, per rule sharing a key.
    fn add_session(&mut self, rp: &RulePairs, active: &[bool], em: &EmResult, rule: &str) {
        let weight = active
            .iter()
            .zip(&em.evidence)
            .map(|(act, e)| if *act && *e >= 1.0 { *e } else { 0.0 })
            .collect();
        self.per_session.push(SessionM {
            m: em.m.clone(),
            weight,
            discarded: false,
        });
        let ri = rp.rule;
        for ((_, mask), p_n) in rp.counts.keys().zip(em.posterior_mass.iter()) {
            self.matched[ri] += p_n;
            for (rj, h) in self.hits[ri].iter_mut().enumerate() {
                if mask & (1 << rj) != 0 {
                    *h += p_n;
                }
            }
        }
        self.sessions.push(SessionInfo {
            rule: rule.to_string(),
            pairs: rp.pairs,
            iterations: em.iterations,
            match_share: em.lambda,
            estimated_recall: 0.0,
        });
    }
}

/// Sets each attribute's m to its evidence-weighted mean over the sessions
/// (not discarded) that estimated it (at least 1e-6 per level,
/// renormalised); others keep their m. Returns which were estimated.
fn set_m(model: &mut Model, est: &EmEstimates) -> Vec<bool> {
    let mut estimated = vec![false; model.comparisons.len()];
    for (c, comparison) in model.comparisons.iter_mut().enumerate() {
        let used = || est.per_session.iter().filter(|s| !s.discarded);
        let total: f64 = used().map(|s| s.weight[c]).sum();
        if total <= 0.0 {
            continue;
        }
        estimated[c] = true;
        for (l, level) in comparison.levels.iter_mut().enumerate() {
            let sum: f64 = used().map(|s| s.m[c][l] * s.weight[c]).sum();
            level.m = (sum / total).max(1e-6);
        }
        let s: f64 = comparison.levels.iter().map(|l| l.m).sum();
        comparison.levels.iter_mut().for_each(|l| l.m /= s);
    }
    estimated
}

/// Estimates λ over the `n` records' pairs, then discards the sessions
/// that claim more matches than that estimate allows in all (with a 25%
/// margin): such a session's "match" class is something else (people who
/// merely share a common name, say), and its m would distort the model.
/// λ is then estimated again without them.
fn prior_without_excess(
    est: &mut EmEstimates,
    rules: &[BlockingRule],
    n: usize,
) -> (Option<f64>, Vec<TrainWarning>) {
    let pairs = pair_count(n);
    let Some(first) = estimate_prior(est, rules, pairs) else {
        return (None, Vec::new());
    };
    let total = first * pairs as f64;
    let mut warnings = Vec::new();
    for (k, info) in est.sessions.iter().enumerate() {
        let Some(ri) = rules.iter().position(|r| r.name == info.rule) else {
            continue;
        };
        if est.matched[ri] > 1.25 * total {
            warnings.push(TrainWarning::SessionDiscarded {
                rule: info.rule.clone(),
                matches: est.matched[ri],
                total,
            });
            est.per_session[k].discarded = true;
            est.matched[ri] = 0.0;
            est.hits[ri].iter_mut().for_each(|h| *h = 0.0);
        }
    }
    if warnings.is_empty() {
        return (Some(first), warnings);
    }
    (estimate_prior(est, rules, pairs).or(Some(first)), warnings)
}

/// Sets each session's estimated recall (the share of the other rules'
/// matches its rule also finds) and estimates λ: the median over rules of
/// matches ÷ recall, over all `total_pairs`. None when no rule gives an
/// estimate.
fn estimate_prior(
    est: &mut EmEstimates,
    rules: &[BlockingRule],
    total_pairs: usize,
) -> Option<f64> {
    let mut estimates = Vec::new();
    for info in est.sessions.iter_mut() {
        let Some(ri) = rules.iter().position(|r| r.name == info.rule) else {
            continue;
        };
        let Some(recall) = recall_of(ri, &est.hits, &est.matched) else {
            continue;
        };
        info.estimated_recall = recall;
        if recall > 0.05 && est.matched[ri] > 1.0 {
            estimates.push(est.matched[ri] / recall);
        }
    }
    if estimates.is_empty() || total_pairs == 0 {
        return None;
    }
    estimates.sort_by(f64::total_cmp);
    let total_matches = estimates[estimates.len() / 2];
    Some((total_matches / total_pairs as f64).clamp(1e-12, 0.5))
}

/// The share of the other rules' expected matches that rule `ri` also
/// finds; None when the other rules found none.
fn recall_of(ri: usize, hits: &[Vec<f64>], matched: &[f64]) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for rs in 0..matched.len() {
        if rs != ri && matched[rs] > 0.0 {
            num += hits[rs][ri];
            den += matched[rs];
        }
    }
    (den > 0.0).then(|| num / den)
}

/// The base model's attributes plus an identifier comparison for every
/// identifier kind common enough in the data.
fn attributes_for(views: &[FeatView<'_>], base: &Model, opts: &TrainOptions) -> Vec<Attribute> {
    let mut attrs = base.attributes();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for v in views {
        let mut seen: SmallVec<[&str; 4]> = SmallVec::new();
        for (k, _) in &v.ids {
            if !seen.contains(k) {
                seen.push(k);
                *kinds.entry(k).or_default() += 1;
            }
        }
    }
    let mut common: Vec<(&str, usize)> = kinds
        .into_iter()
        .filter(|(_, c)| *c >= opts.min_identifier_records)
        .collect();
    common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (k, _) in common {
        let a = Attribute::Identifier(k.to_string());
        if attrs.len() < MAX_COMPARISONS && !attrs.contains(&a) {
            attrs.push(a);
        }
    }
    attrs
}

fn term_frequencies(
    views: &[FeatView<'_>],
    max_values: usize,
) -> BTreeMap<String, TermFrequencies> {
    let mut out = BTreeMap::new();
    type Get = for<'a> fn(&FeatView<'a>) -> Option<&'a str>;
    let columns: [(Attribute, Get); 3] = [
        (Attribute::GivenName, |v| v.given.map(|n| n.text)),
        (Attribute::FamilyName, |v| v.family.map(|n| n.text)),
        (Attribute::Area, |v| {
            v.addresses.first().and_then(|a| a.postcode)
        }),
    ];
    for (attr, get) in columns {
        let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
        let mut total = 0usize;
        for v in views {
            if let Some(x) = get(v) {
                *counts.entry(x).or_default() += 1;
                total += 1;
            }
        }
        if total == 0 {
            continue;
        }
        let mut frequent: Vec<(&str, usize)> =
            counts.into_iter().filter(|(_, c)| *c >= 2).collect();
        frequent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        frequent.truncate(max_values);
        let t = total as f64;
        out.insert(
            attr.name(),
            TermFrequencies {
                default: 1.0 / t,
                values: frequent
                    .into_iter()
                    .map(|(k, c)| (k.to_string(), c as f64 / t))
                    .collect(),
                keyed: false,
            },
        );
    }
    out
}

struct EmResult {
    m: Vec<Vec<f64>>,
    lambda: f64,
    iterations: usize,
    /// Per attribute: expected matched pairs with a non-null level.
    evidence: Vec<f64>,
    /// Per pattern (in `counts` iteration order): count × P(match).
    posterior_mass: Vec<f64>,
}

/// EM over one rule's patterns for the active attributes' m and the match
/// share λ, starting from the model's m and holding its u fixed.
fn run_em(counts: &PatternCounts, active: &[bool], model: &Model, opts: &TrainOptions) -> EmResult {
    let pats: Vec<(&Levels, f64)> = counts.iter().map(|((l, _), n)| (l, *n)).collect();
    let mut m: Vec<Vec<f64>> = model
        .comparisons
        .iter()
        .map(|c| c.levels.iter().map(|l| l.m).collect())
        .collect();
    let lu: Vec<Vec<f64>> = model
        .comparisons
        .iter()
        .map(|c| c.levels.iter().map(|l| l.u.max(1e-12).ln()).collect())
        .collect();
    let mut lambda = 0.3f64;
    let mut iterations = 0;
    let mut post = vec![0f64; pats.len()];
    let mut evidence = vec![0f64; active.len()];
    for it in 0..opts.max_iterations {
        iterations = it + 1;
        let e = expectation(&pats, active, &m, &lu, lambda, &mut post);
        let mut delta = maximise_m(&e.acc, active, &mut m, &mut evidence);
        let new_lambda = (e.mass / e.total).clamp(1e-9, 1.0 - 1e-9);
        delta = delta.max((new_lambda - lambda).abs());
        lambda = new_lambda;
        if delta < opts.tolerance {
            break;
        }
    }
    EmResult {
        m,
        lambda,
        iterations,
        evidence,
        posterior_mass: post,
    }
}

/// The expected matches of one E-step.
struct Expectation {
    /// Per attribute and level: expected matched pairs at that level.
    acc: Vec<Vec<f64>>,
    /// Expected matched pairs.
    mass: f64,
    /// All pairs.
    total: f64,
}

/// E-step: each pattern's match probability under m, u (`lu`: log u) and
/// λ; writes count × P(match) of each pattern into `post`.
fn expectation(
    pats: &[(&Levels, f64)],
    active: &[bool],
    m: &[Vec<f64>],
    lu: &[Vec<f64>],
    lambda: f64,
    post: &mut [f64],
) -> Expectation {
    let na = active.len();
    let lm: Vec<Vec<f64>> = m
        .iter()
        .map(|r| r.iter().map(|x| x.max(1e-12).ln()).collect())
        .collect();
    let (l1, l0) = (lambda.ln(), (1.0 - lambda).ln());
    let mut acc = vec![vec![0f64; 8]; na];
    let mut mass = 0.0;
    let mut total = 0.0;
    for (k, (levels, n)) in pats.iter().enumerate() {
        let (mut a, mut b) = (l1, l0);
        for c in 0..na {
            let l = levels[c] as usize;
            if active[c] && l != 0 {
                a += lm[c][l - 1];
                b += lu[c][l - 1];
            }
        }
        let p = 1.0 / (1.0 + (b - a).exp());
        post[k] = p * n;
        mass += p * n;
        total += n;
        for c in 0..na {
            let l = levels[c] as usize;
            if active[c] && l != 0 {
                acc[c][l - 1] += p * n;
            }
        }
    }
    Expectation { acc, mass, total }
}

/// M-step for m: each active attribute's m becomes its levels' shares of
/// its expected matches (at least 1e-6); `evidence` gets those matches.
/// Returns the largest change of any m.
fn maximise_m(acc: &[Vec<f64>], active: &[bool], m: &mut [Vec<f64>], evidence: &mut [f64]) -> f64 {
    let mut delta: f64 = 0.0;
    for c in 0..active.len() {
        if !active[c] {
            continue;
        }
        let s: f64 = acc[c].iter().sum();
        evidence[c] = s;
        if s <= 0.0 {
            continue;
        }
        for l in 0..m[c].len() {
            let v = (acc[c][l] / s).max(1e-6);
            delta = delta.max((v - m[c][l]).abs());
            m[c][l] = v;
        }
    }
    delta
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::standardize::{PartialDate, StdAddress, StdRecord};
    use crate::engine::{Engine, EngineConfig};

    const GIVEN: [&str; 12] = [
        "oliver", "amelia", "jack", "isla", "noah", "mia", "leo", "ava", "henry", "grace", "lucas",
        "chloe",
    ];
    const FAMILY: [&str; 10] = [
        "smith", "jones", "williams", "brown", "wilson", "taylor", "nguyen", "martin", "white",
        "kelly",
    ];

    /// Person `i` of a synthetic population; `copy` > 0 makes a duplicate
    /// with a typo in the family name and without the phone.
    fn person(i: usize, copy: usize) -> Packed {
        Packed::from_std(&std_person(i, copy))
    }

    fn std_person(i: usize, copy: usize) -> StdRecord {
        let mut family = FAMILY[(i * 7 + i / 10) % FAMILY.len()].to_string();
        if copy > 0 {
            family.insert(1, 'x');
        }
        StdRecord {
            given: Some(GIVEN[i % GIVEN.len()].into()),
            family: Some(family),
            dob: Some(PartialDate {
                year: 1950 + (i % 40) as u16,
                month: Some(1 + (i % 12) as u8),
                day: Some(1 + (i * 3 % 28) as u8),
            }),
            emails: vec![format!("p{i}@mail.test")],
            phones: if copy == 0 {
                vec![format!("+614{:08}", i * 7919)]
            } else {
                vec![]
            },
            addresses: vec![StdAddress {
                number: Some((1 + i % 90).to_string()),
                street: Some(format!("{} street", FAMILY[i % 5])),
                locality: None,
                region: None,
                postcode: Some(format!("{}", 2000 + i % 25)),
                country: None,
            }],
            identifiers: if i.is_multiple_of(2) {
                vec![("loyalty".into(), format!("L{i:05}"))]
            } else {
                vec![]
            },
            ..Default::default()
        }
    }

    /// 150 people, every third one with a duplicate.
    fn population() -> Vec<Packed> {
        population_shaped(|_| {})
    }

    /// [`population`] with every record changed by `shape` first.
    fn population_shaped(shape: impl Fn(&mut StdRecord)) -> Vec<Packed> {
        let copies = |i: usize| if i.is_multiple_of(3) { 2 } else { 1 };
        (0..150)
            .flat_map(|i| (0..copies(i)).map(move |c| (i, c)))
            .map(|(i, c)| {
                let mut std = std_person(i, c);
                shape(&mut std);
                Packed::from_std(&std)
            })
            .collect()
    }

    /// Trains with the default blocking and base model, quickly.
    fn report(records: &[Packed]) -> TrainReport {
        let refs: Vec<&Packed> = records.iter().collect();
        train_report(
            &refs,
            &BlockingConfig::default(),
            &Model::default(),
            &quick(),
        )
        .unwrap()
    }

    fn quick() -> TrainOptions {
        TrainOptions {
            random_pairs: 5_000,
            ..TrainOptions::default()
        }
    }

    fn trained(records: &[Packed], opts: &TrainOptions) -> Model {
        let refs: Vec<&Packed> = records.iter().collect();
        train(&refs, &BlockingConfig::default(), &Model::default(), opts).unwrap()
    }

    #[test]
    fn comparisons_no_session_can_estimate_keep_the_starting_m_and_are_reported() {
        let records = population();
        let refs: Vec<&Packed> = records.iter().collect();
        // The only rule constrains both names: no session estimates them.
        let mut blocking = BlockingConfig::default();
        blocking.rules.retain(|r| r.name == "names");
        let base = Model::default();
        let r = train_report(&refs, &blocking, &base, &quick()).unwrap();
        for name in ["given_name", "family_name"] {
            let w = TrainWarning::NotEstimated {
                attribute: name.into(),
            };
            assert!(r.warnings.contains(&w), "{name}: {:?}", r.warnings);
        }
        let m = |model: &Model| -> Vec<f64> {
            model.comparisons[0].levels.iter().map(|l| l.m).collect()
        };
        assert_eq!(m(&r.model), m(&base));
        assert!(r.plausible(), "{:?}", r.reasons());
    }

    #[test]
    fn trained_weights_never_rise_from_a_better_level_to_a_worse_one() {
        let r = report(&population());
        for c in &r.model.comparisons {
            let w: Vec<f64> = c.levels.iter().map(|l| (l.m / l.u).log2()).collect();
            assert!(
                w.windows(2).all(|p| p[0] >= p[1] - 1e-9),
                "{}: {w:?}",
                c.attribute
            );
        }
        assert!(r.plausible(), "{:?}", r.reasons());
    }

    #[test]
    fn training_runs_em_on_the_blocked_pairs() {
        let m = trained(&population(), &quick());
        let info = m.training.expect("training info");
        assert_eq!(info.records, 200);
        assert_eq!(info.random_pairs, 5_000);
        assert!(info.blocked_pairs > 0);
        assert!(!info.sessions.is_empty());
        assert!(info
            .sessions
            .iter()
            .all(|s| s.pairs >= 10 && s.iterations >= 1));
    }

    #[test]
    fn training_does_not_depend_on_record_order() {
        let records = population();
        let model = trained(&records, &quick());
        let mut reversed = records.clone();
        reversed.reverse();
        assert_eq!(trained(&reversed, &quick()), model);
        let mut interleaved: Vec<Packed> = records.iter().step_by(2).cloned().collect();
        interleaved.extend(records.iter().skip(1).step_by(2).cloned());
        assert_eq!(trained(&interleaved, &quick()), model);
    }

    #[test]
    fn m_and_u_of_every_comparison_are_probability_distributions() {
        let m = trained(&population(), &quick());
        for c in &m.comparisons {
            for l in &c.levels {
                assert!(l.m > 0.0 && l.m <= 1.0, "{c:?}");
                assert!(l.u > 0.0 && l.u <= 1.0, "{c:?}");
            }
            let (sm, su): (f64, f64) = (
                c.levels.iter().map(|l| l.m).sum(),
                c.levels.iter().map(|l| l.u).sum(),
            );
            assert!(
                (sm - 1.0).abs() < 1e-9,
                "m of {:?} sums to {sm}",
                c.attribute
            );
            assert!(
                (su - 1.0).abs() < 1e-6,
                "u of {:?} sums to {su}",
                c.attribute
            );
        }
    }

    #[test]
    fn the_trained_model_validates_and_has_the_next_version() {
        let base = Model::default();
        let m = trained(&population(), &quick());
        m.validate().unwrap();
        assert_eq!(m.version, base.version + 1);
        assert!(m.prior > 0.0 && m.prior < 0.5);
        assert_ne!(m.prior, base.prior, "the prior is estimated");
    }

    #[test]
    fn the_trained_model_separates_duplicates_from_other_people() {
        let records = population();
        let m = trained(&records, &quick());
        let e = Engine::in_memory(EngineConfig::default(), m);
        let (a, dup, other) = (person(3, 0), person(3, 1), person(4, 0));
        assert!(e.score(&a.view(), &dup.view()) >= e.match_weight());
        assert!(e.score(&a.view(), &other.view()) < e.possible_weight());
    }

    /// Person `i`'s partner: same address and family name, another given
    /// name, date of birth, email and phone.
    fn partner(i: usize) -> Packed {
        let mut std = std_person(i, 0);
        std.given = Some(GIVEN[(i + 3) % GIVEN.len()].into());
        std.dob = Some(PartialDate {
            year: 1948 + (i % 37) as u16,
            month: Some(1 + ((i + 5) % 12) as u8),
            day: Some(1 + ((i * 5 + 2) % 28) as u8),
        });
        std.emails = vec![format!("partner{i}@mail.test")];
        std.phones = vec![format!("+614{:08}", i * 7919 + 3)];
        std.identifiers.clear();
        Packed::from_std(&std)
    }

    #[test]
    fn training_turns_the_household_class_on_with_the_share_it_estimates() {
        let records = population();
        let alone = trained(&records, &quick());
        let without = alone.household.expect("estimated from shared addresses");
        let mut with_partners = records.clone();
        with_partners.extend((0..150).step_by(2).map(partner));
        let with = trained(&with_partners, &quick())
            .household
            .expect("estimated");
        assert!(without.ratio < 0.05, "no households: {}", without.ratio);
        assert!(with.ratio > 0.3, "75 partners: {}", with.ratio);
    }

    #[test]
    fn without_shared_addresses_the_household_class_stays_off_and_is_reported() {
        let r = report(&population_shaped(|std| std.addresses.clear()));
        assert_eq!(r.model.household, None);
        assert!(r
            .warnings
            .contains(&TrainWarning::HouseholdsNotEstimated { kept: None }));
    }

    #[test]
    fn fewer_than_ten_records_are_refused() {
        let records: Vec<Packed> = (0..9).map(|i| person(i, 0)).collect();
        let refs: Vec<&Packed> = records.iter().collect();
        let err = train(
            &refs,
            &BlockingConfig::default(),
            &Model::default(),
            &quick(),
        );
        assert!(matches!(
            err,
            Err(TrainError::TooFewRecords { need: 10, have: 9 })
        ));
    }

    #[test]
    fn at_most_max_records_are_trained_on_the_same_sample_each_time() {
        let opts = TrainOptions {
            max_records: 60,
            ..quick()
        };
        let records = population();
        let m = trained(&records, &opts);
        assert_eq!(m.training.as_ref().unwrap().records, 60);
        assert_eq!(trained(&records, &opts), m);
    }

    #[test]
    fn identifier_kinds_held_by_enough_records_get_a_comparison() {
        let loyalty = Attribute::Identifier("loyalty".into());
        let m = trained(&population(), &quick());
        assert!(m.attributes().contains(&loyalty));
        let rare = TrainOptions {
            min_identifier_records: 1_000,
            ..quick()
        };
        assert!(!trained(&population(), &rare)
            .attributes()
            .contains(&loyalty));
    }

    /// Twelve records with a given name only, "oliver" three times and
    /// "amelia" twice.
    fn given_names() -> Vec<Packed> {
        [
            "oliver", "oliver", "oliver", "amelia", "amelia", "zoe", "jack", "isla", "noah", "mia",
            "leo", "ava",
        ]
        .iter()
        .map(|g| {
            Packed::from_std(&StdRecord {
                given: Some(g.to_string()),
                ..Default::default()
            })
        })
        .collect()
    }

    #[test]
    fn term_frequencies_are_shares_of_the_records_holding_a_value() {
        let records = given_names();
        let m = trained(&records, &quick());
        let tf = &m.term_frequencies[&Attribute::GivenName.name()];
        assert_eq!(tf.default, 1.0 / 12.0);
        assert_eq!(tf.values["oliver"], 3.0 / 12.0);
        assert_eq!(tf.values["amelia"], 2.0 / 12.0);
        // A value held by one record only is left to the default.
        assert!(!tf.values.contains_key("zoe"));
        // No record has a family name: no table.
        assert!(!m
            .term_frequencies
            .contains_key(&Attribute::FamilyName.name()));
    }

    #[test]
    fn keyed_term_frequencies_hold_no_value_and_score_the_same() {
        use crate::engine::hash::KeySecret;
        use crate::engine::model::Scorer;
        let records = given_names();
        let plain = trained(&records, &quick());
        let secret = KeySecret::keyed([7; 16]);
        let mut keyed = plain.clone();
        keyed.key_term_frequencies(&secret);
        let json = keyed.to_json();
        assert!(
            !json.contains("oliver") && !json.contains("amelia"),
            "{json}"
        );
        // Keying twice changes nothing.
        let mut again = keyed.clone();
        again.key_term_frequencies(&secret);
        assert_eq!(again, keyed);
        let (a, b) = (records[0].view(), records[1].view());
        let pattern = Comparator::new(&plain.attributes()).compare(&a, &b);
        let unkeyed_tf = Scorer::new(plain.clone()).score(&pattern, &a, &b);
        let keyed_tf = Scorer::keyed(keyed.clone(), secret).score(&pattern, &a, &b);
        assert_eq!(unkeyed_tf, keyed_tf);
        // The adjustment is applied: "oliver" is common, so an agreement
        // on it weighs less than the level's plain weight.
        let mut no_tf = plain;
        no_tf.term_frequencies.clear();
        assert!(Scorer::new(no_tf).score(&pattern, &a, &b) != keyed_tf);
    }
}
