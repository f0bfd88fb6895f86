//! Clustering metrics: pairwise precision/recall/F1 and B-cubed
//! (Bagga & Baldwin 1998), computed from the contingency table of truth
//! clusters × predicted entities, so the cost is linear in the records,
//! never in the pairs.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Self {
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// All metrics of one clustering against the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub records: usize,
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub true_positive_pairs: u64,
    pub pairwise: Prf,
    pub bcubed: Prf,
}

fn c2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Scores `pred` against `truth`, aligned by position (`truth[i]` and
/// `pred[i]` are the same record's cluster and entity).
pub fn score<T: Hash + Eq, P: Hash + Eq>(truth: &[T], pred: &[P]) -> Scores {
    assert_eq!(
        truth.len(),
        pred.len(),
        "truth and prediction must be aligned"
    );
    let n = truth.len();
    let mut t_size: HashMap<&T, u64> = HashMap::new();
    let mut p_size: HashMap<&P, u64> = HashMap::new();
    let mut cell: HashMap<(&T, &P), u64> = HashMap::new();
    for (t, p) in truth.iter().zip(pred) {
        *t_size.entry(t).or_default() += 1;
        *p_size.entry(p).or_default() += 1;
        *cell.entry((t, p)).or_default() += 1;
    }
    let tp: u64 = cell.values().map(|&x| c2(x)).sum();
    let true_pairs: u64 = t_size.values().map(|&x| c2(x)).sum();
    let pred_pairs: u64 = p_size.values().map(|&x| c2(x)).sum();
    let pairwise = Prf::new(
        if pred_pairs == 0 {
            1.0
        } else {
            tp as f64 / pred_pairs as f64
        },
        if true_pairs == 0 {
            1.0
        } else {
            tp as f64 / true_pairs as f64
        },
    );
    let (mut bp, mut br) = (0.0, 0.0);
    for ((t, p), &x) in &cell {
        let x = x as f64;
        bp += x * x / p_size[p] as f64;
        br += x * x / t_size[t] as f64;
    }
    let nf = n.max(1) as f64;
    Scores {
        records: n,
        true_pairs,
        predicted_pairs: pred_pairs,
        true_positive_pairs: tp,
        pairwise,
        bcubed: Prf::new(bp / nf, br / nf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_clustering_scores_one() {
        let s = score(&[1, 1, 2, 3, 3, 3], &["a", "a", "b", "c", "c", "c"]);
        assert_eq!(s.pairwise.f1, 1.0);
        assert_eq!(s.bcubed.f1, 1.0);
        assert_eq!(s.true_pairs, 4);
    }

    #[test]
    fn known_small_example() {
        // truth {0,1,2} {3}; predicted {0,1} {2,3}
        let s = score(&[1, 1, 1, 2], &[1, 1, 2, 2]);
        assert_eq!(s.true_pairs, 3);
        assert_eq!(s.predicted_pairs, 2);
        assert_eq!(s.true_positive_pairs, 1);
        assert!((s.pairwise.precision - 0.5).abs() < 1e-12);
        assert!((s.pairwise.recall - 1.0 / 3.0).abs() < 1e-12);
        // B-cubed precision: (1 + 1 + 0.5 + 0.5) / 4; recall: (2/3 + 2/3 + 1/3 + 1) / 4
        assert!((s.bcubed.precision - 0.75).abs() < 1e-12);
        assert!((s.bcubed.recall - (8.0 / 3.0) / 4.0).abs() < 1e-12);
    }

    #[test]
    fn all_singletons_have_perfect_precision_and_zero_recall() {
        let s = score(&[1, 1, 2], &[1, 2, 3]);
        assert_eq!(s.pairwise.precision, 1.0);
        assert_eq!(s.pairwise.recall, 0.0);
        assert_eq!(s.pairwise.f1, 0.0);
    }
}
