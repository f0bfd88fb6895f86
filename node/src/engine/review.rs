//! Review of a trained model before it is used: keeps EM's estimates only
//! where they are sound, and says what it changed and whether the model as
//! a whole is plausible.
//!
//! - **Order by level.** Levels run from the best agreement to the worst,
//!   so a level's match weight log2(m/u) may never exceed a better level's.
//!   Violations (EM fitting noise or a side cluster) are removed by pooling
//!   adjacent violators: the pooled levels share one ratio Σm/Σu, which
//!   keeps Σm (isotonic regression of the likelihood ratio, weighted by u).
//! - **Sign.** An exact agreement must be evidence for a match and the
//!   worst level evidence against it, as in the starting model. A
//!   comparison that breaks this keeps the starting model's m.
//! - **Coverage.** A comparison that no EM session estimated keeps the
//!   starting model's m, and is reported. (Training itself discards a
//!   session that claims more matches than exist in all:
//!   [`TrainWarning::SessionDiscarded`].)
//! - **Plausibility.** The whole model is implausible when records agreeing
//!   on everything would not link, or records disagreeing on everything
//!   would. An implausible model should not be installed.

use super::compare::MAX_COMPARISONS;
use super::model::{probability_to_weight, LevelParams, Model, MIN_PROB};

/// Something training changed or found about a comparison or the model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, thiserror::Error)]
pub enum TrainWarning {
    #[error("{attribute}: no EM session estimated it (too few values, or every rule with pairs constrains it); kept the starting model's m")]
    NotEstimated { attribute: String },
    #[error("{attribute}: match weights were not ordered by level; pooled {levels:?}")]
    Pooled {
        attribute: String,
        levels: Vec<String>,
    },
    #[error("{attribute}: an exact agreement weighed {weight:.2} bits (not evidence for a match); kept the starting model's m")]
    AgreementNotEvidence { attribute: String, weight: f64 },
    #[error("{attribute}: level {level} weighed {weight:+.2} bits (a disagreement counting for a match); kept the starting model's m")]
    DisagreementNotPenalised {
        attribute: String,
        level: String,
        weight: f64,
    },
    #[error("EM on rule {rule}'s pairs found {matches:.0} matches, more than the {total:.0} estimated in all; its estimates were not used")]
    SessionDiscarded {
        rule: String,
        matches: f64,
        total: f64,
    },
    #[error("no blocking rule gave an estimate of the prior; kept {prior:e}")]
    PriorNotEstimated { prior: f64 },
    #[error("households: too few compared pairs share an address to estimate how common households are; {}", kept_household(*.kept))]
    HouseholdsNotEstimated {
        /// The household ratio kept from the base model (None: the class stays off).
        kept: Option<f64>,
    },
    #[error(
        "implausible: two records agreeing exactly on everything score only p = {probability:.3}"
    )]
    AgreementCannotLink { probability: f64 },
    #[error("implausible: two records disagreeing on everything still score p = {probability:.3}")]
    DisagreementLinks { probability: f64 },
}

/// What an unestimated household class was left as, in words.
fn kept_household(kept: Option<f64>) -> String {
    match kept {
        Some(r) => format!("kept the base model's ratio {r}"),
        None => "the household class stays off".to_string(),
    }
}

impl TrainWarning {
    /// True for findings that make the whole model unfit to install.
    pub fn is_implausible(&self) -> bool {
        matches!(
            self,
            TrainWarning::AgreementCannotLink { .. } | TrainWarning::DisagreementLinks { .. }
        )
    }
}

/// A trained model and what training found on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    pub model: Model,
    pub warnings: Vec<TrainWarning>,
}

impl TrainReport {
    /// True when no finding makes the model unfit to install.
    pub fn plausible(&self) -> bool {
        !self.warnings.iter().any(TrainWarning::is_implausible)
    }

    /// The reasons the model is implausible (empty when it is plausible).
    pub fn reasons(&self) -> Vec<String> {
        self.warnings
            .iter()
            .filter(|w| w.is_implausible())
            .map(ToString::to_string)
            .collect()
    }

    /// The model to install: the trained one when it is plausible, else
    /// the reasons it must not replace the current one.
    pub fn into_installable(self) -> Result<Model, ImplausibleModel> {
        if self.plausible() {
            Ok(self.model)
        } else {
            Err(ImplausibleModel {
                reasons: self.reasons(),
            })
        }
    }
}

/// A trained model that should not be installed, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the trained model is implausible: {}", reasons.join("; "))]
pub struct ImplausibleModel {
    pub reasons: Vec<String>,
}

/// Keeps ratios finite without reordering anything a model can hold.
const TINY: f64 = 1e-300;

fn weight(l: &LevelParams) -> f64 {
    (l.m.max(MIN_PROB) / l.u.max(MIN_PROB)).log2()
}

/// Makes the match weights log2(m/u) of `levels` non-increasing by
/// pooling adjacent violators; returns the labels of the levels that were
/// pooled. Works on the probabilities as they are (the scorer's floor of
/// [`MIN_PROB`] only matters for levels matches essentially never reach).
pub fn pool_adjacent_violators(levels: &mut [LevelParams]) -> Vec<String> {
    // Blocks of consecutive levels: (first level, end, Σm, Σu).
    let mut blocks: Vec<(usize, usize, f64, f64)> = Vec::with_capacity(levels.len());
    for (i, l) in levels.iter().enumerate() {
        blocks.push((i, i + 1, l.m.max(TINY), l.u.max(TINY)));
        while blocks.len() >= 2 {
            let (b, a) = (blocks[blocks.len() - 1], blocks[blocks.len() - 2]);
            if a.2 / a.3 >= b.2 / b.3 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (a.0, b.1, a.2 + b.2, a.3 + b.3);
        }
    }
    let mut pooled = Vec::new();
    for (start, end, m, u) in blocks.into_iter().filter(|b| b.1 - b.0 > 1) {
        for l in &mut levels[start..end] {
            l.m = l.u.max(TINY) * m / u;
            pooled.push(l.label.clone());
        }
    }
    pooled
}

/// Reviews `model`, trained from `base`: `estimated[c]` says whether some
/// EM session estimated comparison `c`'s m. Fixes what can be fixed in
/// place (see the module docs) and returns every finding.
pub fn review(
    model: &mut Model,
    base: &Model,
    estimated: &[bool],
    prior_estimated: bool,
    match_probability: f64,
) -> Vec<TrainWarning> {
    let mut out = Vec::new();
    for (c, comparison) in model.comparisons.iter_mut().enumerate() {
        let attribute = comparison.attribute.name();
        let fallback = base
            .comparisons
            .iter()
            .find(|b| b.attribute == comparison.attribute)
            .map(|b| b.levels.iter().map(|l| l.m).collect::<Vec<f64>>());
        if !estimated.get(c).copied().unwrap_or(false) {
            out.push(TrainWarning::NotEstimated { attribute });
            continue;
        }
        let levels = &mut comparison.levels;
        let pooled = pool_adjacent_violators(levels);
        if !pooled.is_empty() {
            out.push(TrainWarning::Pooled {
                attribute: attribute.clone(),
                levels: pooled,
            });
        }
        let sign = sign_problem(&attribute, levels);
        if let (Some(w), Some(m)) = (sign, fallback) {
            out.push(w);
            for (l, m) in levels.iter_mut().zip(m) {
                l.m = m;
            }
            pool_adjacent_violators(levels);
        }
    }
    if !prior_estimated {
        out.push(TrainWarning::PriorNotEstimated { prior: model.prior });
    }
    out.extend(plausibility(model, match_probability));
    out
}

/// A sign problem of one comparison's levels, if any.
fn sign_problem(attribute: &str, levels: &[LevelParams]) -> Option<TrainWarning> {
    let first = levels.first()?;
    let last = levels.last()?;
    if weight(first) <= 0.0 {
        return Some(TrainWarning::AgreementNotEvidence {
            attribute: attribute.to_string(),
            weight: weight(first),
        });
    }
    if weight(last) > 0.0 {
        return Some(TrainWarning::DisagreementNotPenalised {
            attribute: attribute.to_string(),
            level: last.label.clone(),
            weight: weight(last),
        });
    }
    None
}

/// Whether full agreement links and full disagreement does not, at the
/// link threshold `match_probability`.
fn plausibility(model: &Model, match_probability: f64) -> Vec<TrainWarning> {
    let prior = probability_to_weight(model.prior);
    let threshold = probability_to_weight(match_probability);
    let comparisons = model.comparisons.iter().take(MAX_COMPARISONS);
    let best: f64 = comparisons
        .clone()
        .filter_map(|c| c.levels.first())
        .map(weight)
        .sum();
    let worst: f64 = comparisons
        .filter_map(|c| c.levels.last())
        .map(weight)
        .sum();
    let p = super::model::weight_to_probability;
    let mut out = Vec::new();
    if prior + best < threshold {
        out.push(TrainWarning::AgreementCannotLink {
            probability: p(prior + best),
        });
    }
    if prior + worst >= threshold {
        out.push(TrainWarning::DisagreementLinks {
            probability: p(prior + worst),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compare::Attribute;

    fn levels(mu: &[(f64, f64)]) -> Vec<LevelParams> {
        mu.iter()
            .enumerate()
            .map(|(i, &(m, u))| LevelParams {
                label: format!("l{i}"),
                m,
                u,
            })
            .collect()
    }

    #[test]
    fn pooling_orders_weights_and_keeps_total_m() {
        let mut l = levels(&[(0.6, 0.01), (0.05, 0.1), (0.15, 0.1), (0.2, 0.79)]);
        let pooled = pool_adjacent_violators(&mut l);
        assert_eq!(pooled, vec!["l1".to_string(), "l2".to_string()]);
        let w: Vec<f64> = l.iter().map(weight).collect();
        assert!(w.windows(2).all(|p| p[0] >= p[1] - 1e-12), "{w:?}");
        assert!((l[1].m - 0.1).abs() < 1e-12 && (l[2].m - 0.1).abs() < 1e-12);
        let total: f64 = l.iter().map(|x| x.m).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ordered_levels_are_left_alone() {
        let mut l = levels(&[(0.8, 0.01), (0.1, 0.09), (0.1, 0.9)]);
        let before = l.clone();
        assert!(pool_adjacent_violators(&mut l).is_empty());
        assert_eq!(l, before);
    }

    #[test]
    fn a_violation_spanning_several_levels_pools_them_all() {
        let mut l = levels(&[(0.1, 0.5), (0.2, 0.3), (0.7, 0.2)]);
        pool_adjacent_violators(&mut l);
        let w: Vec<f64> = l.iter().map(weight).collect();
        assert!((w[0] - w[2]).abs() < 1e-12, "{w:?}");
    }

    #[test]
    fn a_comparison_with_the_wrong_sign_keeps_the_starting_m() {
        let base = Model::default();
        let mut m = base.clone();
        let dob = m
            .comparisons
            .iter()
            .position(|c| c.attribute == Attribute::DateOfBirth)
            .unwrap();
        // the worst level counting for a match
        for l in &mut m.comparisons[dob].levels {
            l.m = 0.25;
        }
        m.comparisons[dob].levels[3].u = 0.01;
        let estimated = vec![true; m.comparisons.len()];
        let w = review(&mut m, &base, &estimated, true, 0.95);
        assert!(
            w.iter()
                .any(|w| matches!(w, TrainWarning::DisagreementNotPenalised { .. })),
            "{w:?}"
        );
        let kept: Vec<f64> = m.comparisons[dob].levels.iter().map(|l| l.m).collect();
        let want: Vec<f64> = base.comparisons[dob].levels.iter().map(|l| l.m).collect();
        assert_eq!(kept, want);
    }

    #[test]
    fn comparisons_no_session_estimated_are_reported() {
        let base = Model::default();
        let mut m = base.clone();
        let mut estimated = vec![true; m.comparisons.len()];
        estimated[0] = false;
        let w = review(&mut m, &base, &estimated, true, 0.95);
        assert_eq!(
            w,
            vec![TrainWarning::NotEstimated {
                attribute: "given_name".into()
            }]
        );
    }

    #[test]
    fn a_model_that_cannot_link_is_implausible() {
        let base = Model::default();
        let mut m = base.clone();
        for c in &mut m.comparisons {
            for l in &mut c.levels {
                l.u = l.m; // nothing is evidence
            }
        }
        let estimated = vec![false; m.comparisons.len()];
        let report = TrainReport {
            warnings: review(&mut m, &base, &estimated, true, 0.95),
            model: m,
        };
        assert!(!report.plausible());
        assert_eq!(report.reasons().len(), 1, "{:?}", report.warnings);
        let refused = report.clone().into_installable().unwrap_err();
        assert!(refused
            .to_string()
            .contains("agreeing exactly on everything"));
        let ok = TrainReport {
            warnings: review(&mut base.clone(), &base, &[true; 9], true, 0.95),
            model: base,
        };
        assert!(ok.plausible(), "{:?}", ok.warnings);
        assert!(ok.into_installable().is_ok());
    }
}
