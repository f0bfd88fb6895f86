//! Estimating how common households are in the data, without labels.
//!
//! The household class of the model ([`super::model::HouseholdParams`])
//! needs one number the data decides: how many pairs of two people of one
//! household there are for each pair of one person's records. Both kinds
//! of pair share an address, so among the compared pairs that agree exactly
//! on street and area, a three-class mixture (same person, same household,
//! unrelated) is fitted by expectation-maximisation of the class shares
//! alone, with every class's level probabilities held fixed (m and u from
//! training, h derived from them). The ratio of the household share to the
//! match share is the estimate. The mixture's likelihood is concave in the
//! shares, so the fit has one optimum and no starting-point luck.

use super::compare::{Attribute, MAX_COMPARISONS};
use super::model::{Model, MIN_PROB};

/// One comparison pattern and how many pairs had it.
pub type WeightedPattern<'a> = (&'a [u8; MAX_COMPARISONS], f64);

/// What the estimate found.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdEstimate {
    /// λ_H / λ_M.
    pub ratio: f64,
    /// Address-sharing pairs the estimate rests on.
    pub pairs: f64,
    /// Their expected split: same person, same household, unrelated.
    pub shares: [f64; 3],
}

/// Fewest address-sharing pairs an estimate is made from.
const MIN_PAIRS: f64 = 30.0;

/// The largest ratio reported: beyond it the data would say that almost
/// every shared address is a household of strangers to each other's
/// records, which no customer base looks like.
pub const MAX_RATIO: f64 = 20.0;

/// Estimates λ_H / λ_M from compared pairs (any pairs: those not agreeing
/// exactly on street and area are skipped). None without a household class,
/// without street and area comparisons, or with too few such pairs.
pub fn estimate_ratio<'a>(
    model: &Model,
    patterns: impl IntoIterator<Item = WeightedPattern<'a>>,
) -> Option<HouseholdEstimate> {
    let h = model.household.as_ref()?;
    let index = |a: Attribute| model.comparisons.iter().position(|c| c.attribute == a);
    let (street, area) = (index(Attribute::Street)?, index(Attribute::Area)?);
    // Per comparison, per level: ln m, ln h, ln u.
    let logs: Vec<Vec<[f64; 3]>> = model
        .comparisons
        .iter()
        .map(|c| {
            let s = h.sharing_of(&c.attribute);
            c.levels
                .iter()
                .map(|l| {
                    let (m, u) = (l.m.max(MIN_PROB), l.u.max(MIN_PROB));
                    [m.ln(), (s * m + (1.0 - s) * u).ln(), u.ln()]
                })
                .collect()
        })
        .collect();
    let lik: Vec<([f64; 3], f64)> = patterns
        .into_iter()
        .filter(|(p, _)| p[street] == 1 && p[area] == 1)
        .map(|(p, n)| (class_log_likelihoods(p, &logs), n))
        .collect();
    let pairs: f64 = lik.iter().map(|(_, n)| n).sum();
    if pairs < MIN_PAIRS {
        return None;
    }
    let shares = fit_shares(&lik);
    let ratio = (shares[1] / shares[0].max(1e-12)).min(MAX_RATIO);
    Some(HouseholdEstimate {
        ratio,
        pairs,
        shares,
    })
}

/// ln P(pattern | class) for the three classes (null levels count for none).
fn class_log_likelihoods(p: &[u8; MAX_COMPARISONS], logs: &[Vec<[f64; 3]>]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (c, per_level) in logs.iter().enumerate() {
        let l = p[c] as usize;
        if let Some(x) = l.checked_sub(1).and_then(|i| per_level.get(i)) {
            for k in 0..3 {
                out[k] += x[k];
            }
        }
    }
    out
}

/// EM over the class shares only.
fn fit_shares(lik: &[([f64; 3], f64)]) -> [f64; 3] {
    let mut shares: [f64; 3] = [1.0 / 3.0; 3];
    for _ in 0..500 {
        let mut acc = [0.0; 3];
        let mut total = 0.0;
        for (l, n) in lik {
            let logs: [f64; 3] = std::array::from_fn(|k| shares[k].max(1e-300).ln() + l[k]);
            let top = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let w = logs.map(|x| (x - top).exp());
            let z: f64 = w.iter().sum();
            for k in 0..3 {
                acc[k] += n * w[k] / z;
            }
            total += n;
        }
        let next = acc.map(|a| a / total);
        let delta = (0..3)
            .map(|k| (next[k] - shares[k]).abs())
            .fold(0.0, f64::max);
        shares = next;
        if delta < 1e-9 {
            break;
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::{HouseholdParams, Model};

    fn model() -> Model {
        Model {
            household: Some(HouseholdParams::default()),
            ..Model::default()
        }
    }

    /// A pattern over the default attributes: given, family, dob, gender,
    /// email, phone, street, area, identifiers.
    fn pattern(given: u8, family: u8, dob: u8) -> [u8; MAX_COMPARISONS] {
        let mut p = [0u8; MAX_COMPARISONS];
        p[..9].copy_from_slice(&[given, family, dob, 0, 0, 0, 1, 1, 0]);
        p
    }

    #[test]
    fn the_ratio_follows_the_share_of_households_among_shared_addresses() {
        let model = model();
        let same_person = pattern(1, 1, 1);
        // Two people of one household: surname shared, first name and date
        // of birth clearly different.
        let household = pattern(7, 1, 4);
        let few = estimate_ratio(&model, [(&same_person, 500.0), (&household, 50.0)]).unwrap();
        let many = estimate_ratio(&model, [(&same_person, 500.0), (&household, 1000.0)]).unwrap();
        assert!(few.ratio < 0.2, "{few:?}");
        assert!(many.ratio > 1.0, "{many:?}");
        let none = estimate_ratio(&model, [(&same_person, 500.0)]).unwrap();
        assert!(none.ratio < 0.01, "{none:?}");
    }

    #[test]
    fn pairs_that_share_no_address_are_not_evidence() {
        let model = model();
        let mut elsewhere = pattern(7, 1, 4);
        elsewhere[6] = 4;
        assert_eq!(estimate_ratio(&model, [(&elsewhere, 1000.0)]), None);
    }

    #[test]
    fn a_model_without_the_household_class_gets_no_estimate() {
        let model = Model {
            household: None,
            ..Model::default()
        };
        assert_eq!(estimate_ratio(&model, [(&pattern(1, 1, 1), 100.0)]), None);
    }
}
