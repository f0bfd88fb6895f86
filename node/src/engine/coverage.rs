//! Blocking coverage: how many true pairs blocking lets the matcher see,
//! and at what cost.
//!
//! Given records and a labelled clustering (evaluation only; the engine
//! never sees labels), [`blocking_coverage`] reports for every blocking
//! rule and for all rules together the share of true pairs that share a
//! *live* key (one held by at most `max_key_size` records, as the engine
//! counts them once all records are in) and the number of distinct
//! candidate pairs per record. A true pair that shares no live key can
//! never be linked directly.

use rustc_hash::FxHashMap;

use super::blocking::{distinct_rule_keys, BlockingConfig, Keys};
use super::features::FeatView;

/// Coverage of one rule, or of all rules together.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleCoverage {
    /// The rule's name, or "all rules".
    pub rule: String,
    /// True pairs that share a live key.
    pub true_pairs_covered: usize,
    /// `true_pairs_covered` over all true pairs.
    pub pair_recall: f64,
    /// Distinct record pairs sharing a live key, per record.
    pub comparisons_per_record: f64,
    /// Keys held by more than `max_key_size` records.
    pub demoted_keys: usize,
}

/// Coverage of every rule and of all of them together.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoverageReport {
    pub records: usize,
    pub true_pairs: usize,
    pub rules: Vec<RuleCoverage>,
    pub total: RuleCoverage,
    /// Records in a true cluster of two or more that share no live key
    /// with any other record of their cluster.
    pub stranded_records: usize,
}

/// Every record's keys per rule, and how many records hold each key.
struct Index {
    /// `keys[record][rule]`, sorted.
    keys: Vec<Vec<Keys>>,
    /// Per rule: key → records holding it.
    blocks: Vec<FxHashMap<u64, Vec<u32>>>,
    /// Key → records holding it, over all rules (what decides demotion).
    holders: FxHashMap<u64, usize>,
    max_key_size: usize,
}

impl Index {
    fn new(cfg: &BlockingConfig, views: &[FeatView<'_>]) -> Index {
        let mut blocks = vec![FxHashMap::<u64, Vec<u32>>::default(); cfg.rules.len()];
        let mut holders = FxHashMap::<u64, usize>::default();
        let mut keys = Vec::with_capacity(views.len());
        for (i, v) in views.iter().enumerate() {
            let mut all = Keys::new();
            let per_rule: Vec<Keys> = cfg
                .rules
                .iter()
                .enumerate()
                .map(|(ri, r)| {
                    let k = distinct_rule_keys(ri, r, v);
                    for &key in &k {
                        blocks[ri].entry(key).or_default().push(i as u32);
                    }
                    all.extend(k.iter().copied());
                    k
                })
                .collect();
            all.sort_unstable();
            all.dedup();
            for k in all {
                *holders.entry(k).or_default() += 1;
            }
            keys.push(per_rule);
        }
        Index {
            keys,
            blocks,
            holders,
            max_key_size: cfg.max_key_size,
        }
    }

    fn live(&self, k: u64) -> bool {
        self.holders
            .get(&k)
            .is_some_and(|&n| n <= self.max_key_size)
    }

    /// True when records `a` and `b` share a live key of one of `rules`.
    fn share(&self, rules: &[usize], a: usize, b: usize) -> bool {
        rules.iter().any(|&r| {
            let kb = &self.keys[b][r];
            self.keys[a][r]
                .iter()
                .any(|k| kb.binary_search(k).is_ok() && self.live(*k))
        })
    }

    /// Distinct pairs sharing a live key of one of `rules`.
    fn candidate_pairs(&self, rules: &[usize]) -> usize {
        let mut total = 0usize;
        let mut cands: Vec<u32> = Vec::new();
        for (i, per_rule) in self.keys.iter().enumerate() {
            cands.clear();
            for &r in rules {
                for k in per_rule[r].iter().filter(|k| self.live(**k)) {
                    let members = &self.blocks[r][k];
                    cands.extend(members.iter().copied().filter(|&c| (c as usize) > i));
                }
            }
            cands.sort_unstable();
            cands.dedup();
            total += cands.len();
        }
        total
    }

    fn demoted(&self, rule: usize) -> usize {
        self.blocks[rule].keys().filter(|k| !self.live(**k)).count()
    }
}

/// The coverage of `cfg`'s rules over `views`, whose true clusters are
/// `cluster[i]` (records with `None` are in no true pair).
pub fn blocking_coverage(
    cfg: &BlockingConfig,
    views: &[FeatView<'_>],
    cluster: &[Option<u64>],
) -> CoverageReport {
    let index = Index::new(cfg, views);
    let mut members: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    for (i, c) in cluster.iter().enumerate().take(views.len()) {
        if let Some(c) = c {
            members.entry(*c).or_default().push(i);
        }
    }
    let groups: Vec<&Vec<usize>> = members.values().filter(|m| m.len() > 1).collect();
    let true_pairs: usize = groups.iter().map(|m| m.len() * (m.len() - 1) / 2).sum();
    let n = views.len().max(1) as f64;
    let coverage = |name: &str, rules: &[usize], demoted: usize| {
        let mut covered = 0usize;
        for m in &groups {
            for (x, &a) in m.iter().enumerate() {
                covered += m[x + 1..]
                    .iter()
                    .filter(|&&b| index.share(rules, a, b))
                    .count();
            }
        }
        RuleCoverage {
            rule: name.to_string(),
            true_pairs_covered: covered,
            pair_recall: covered as f64 / true_pairs.max(1) as f64,
            comparisons_per_record: index.candidate_pairs(rules) as f64 / n,
            demoted_keys: demoted,
        }
    };
    let rules: Vec<RuleCoverage> = cfg
        .rules
        .iter()
        .enumerate()
        .map(|(ri, r)| coverage(&r.name, &[ri], index.demoted(ri)))
        .collect();
    let all: Vec<usize> = (0..cfg.rules.len()).collect();
    let demoted = rules.iter().map(|r| r.demoted_keys).sum();
    let total = coverage("all rules", &all, demoted);
    let stranded_records = groups
        .iter()
        .flat_map(|m| m.iter().map(move |&a| (m, a)))
        .filter(|(m, a)| !m.iter().any(|&b| b != *a && index.share(&all, *a, b)))
        .count();
    CoverageReport {
        records: views.len(),
        true_pairs,
        rules,
        total,
        stranded_records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::blocking::BlockingRule;
    use crate::engine::features::Packed;
    use crate::engine::standardize::StdRecord;

    fn rec(given: &str, family: &str, email: &str) -> Packed {
        Packed::from_std(&StdRecord {
            given: Some(given.into()),
            family: Some(family.into()),
            emails: vec![email.into()],
            ..Default::default()
        })
    }

    fn cfg(max_key_size: usize) -> BlockingConfig {
        BlockingConfig {
            rules: vec![
                serde_json::from_value::<BlockingRule>(
                    serde_json::json!({"name": "email", "parts": ["email"]}),
                )
                .unwrap(),
                serde_json::from_value::<BlockingRule>(
                    serde_json::json!({"name": "names", "parts": ["names_phonetic_sorted"]}),
                )
                .unwrap(),
            ],
            max_key_size,
            ..Default::default()
        }
    }

    #[test]
    fn recall_and_cost_per_rule_and_in_total() {
        let recs = [
            rec("ann", "lee", "a@x.com"),
            rec("ann", "lee", "b@x.com"),
            rec("bob", "ray", "c@x.com"),
            rec("robert", "wu", "c@x.com"),
        ];
        let views: Vec<FeatView<'_>> = recs.iter().map(Packed::view).collect();
        // truth: {0,1} and {2,3}
        let truth = [Some(1), Some(1), Some(2), Some(2)];
        let r = blocking_coverage(&cfg(30), &views, &truth);
        assert_eq!(r.true_pairs, 2);
        assert_eq!(r.rules[0].true_pairs_covered, 1); // the shared email
        assert_eq!(r.rules[1].true_pairs_covered, 1); // the shared names
        assert_eq!(r.total.true_pairs_covered, 2);
        assert!((r.total.pair_recall - 1.0).abs() < 1e-12);
        assert!((r.total.comparisons_per_record - 0.5).abs() < 1e-12);
        assert_eq!(r.stranded_records, 0);
    }

    #[test]
    fn demoted_keys_cover_nothing() {
        let recs = [rec("ann", "lee", "a@x.com"), rec("ann", "lee", "b@x.com")];
        let views: Vec<FeatView<'_>> = recs.iter().map(Packed::view).collect();
        let r = blocking_coverage(&cfg(1), &views, &[Some(1), Some(1)]);
        assert_eq!(r.total.true_pairs_covered, 0);
        assert_eq!(r.rules[1].demoted_keys, 1);
        assert_eq!(r.total.comparisons_per_record, 0.0);
        assert_eq!(r.stranded_records, 2);
    }
}
