//! Lifecycle stages and RFM scores: where a customer is with the business
//! and what they are worth, from their orders.
//!
//! The stage needs only the customer's own orders and the time of reading.
//! RFM scores compare a customer with every other: the quintile cut points
//! are a cluster-wide computation ([`Cuts::compute`]), published with a
//! version through the metadata group so that every node scores alike.

use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

use super::event::{day_of, MICROS};
use super::summary::Summary;

/// Day windows of the lifecycle stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// New: within this many days of the first order.
    pub new_days: u32,
    /// Active: the last order within this many days.
    pub active_days: u32,
    /// At risk: the last order within this many days (and not active);
    /// lapsed after.
    pub at_risk_days: u32,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            new_days: 30,
            active_days: 90,
            at_risk_days: 180,
        }
    }
}

/// A customer's orders, summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orders {
    pub count: u64,
    /// Total spend in millionths.
    pub spend: i128,
    pub first_ms: i64,
    pub last_ms: i64,
}

impl Orders {
    /// From the merged summary of the customer's order events.
    pub fn of(s: &Summary) -> Option<Orders> {
        (s.count > 0).then_some(Orders {
            count: s.count,
            spend: s.sum,
            first_ms: s.first,
            last_ms: s.last,
        })
    }

    /// Whole days from the last order to `now_ms`.
    pub fn recency_days(&self, now_ms: i64) -> i64 {
        (day_of(now_ms) as i64 - day_of(self.last_ms) as i64).max(0)
    }
}

/// Every lifecycle stage, as [`LifecycleConfig::stage`] names them.
pub const STAGES: &[&str] = &["prospect", "new", "active", "at_risk", "lapsed"];

/// Every RFM group, as [`group`] names them.
pub const RFM_GROUPS: &[&str] = &[
    "champions",
    "loyal",
    "potential_loyalists",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
];

impl LifecycleConfig {
    /// The stage at `now_ms`: prospect, new, active, at_risk or lapsed.
    pub fn stage(&self, orders: Option<&Orders>, now_ms: i64) -> &'static str {
        let Some(o) = orders else {
            return "prospect";
        };
        let today = day_of(now_ms) as i64;
        let since_first = today - day_of(o.first_ms) as i64;
        let since_last = o.recency_days(now_ms);
        if since_first <= i64::from(self.new_days) {
            "new"
        } else if since_last <= i64::from(self.active_days) {
            "active"
        } else if since_last <= i64::from(self.at_risk_days) {
            "at_risk"
        } else {
            "lapsed"
        }
    }

    pub fn to_pb(&self, orders: Option<&Orders>, now_ms: i64) -> pb::Lifecycle {
        pb::Lifecycle {
            stage: self.stage(orders, now_ms).into(),
            first_order_ms: orders.map_or(0, |o| o.first_ms),
            last_order_ms: orders.map_or(0, |o| o.last_ms),
        }
    }
}

/// Quintile cut points of recency (days), frequency (orders) and monetary
/// value (spend), with the version they were published under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cuts {
    pub version: u64,
    pub computed_at_ms: i64,
    pub recency_days: Vec<f64>,
    pub frequency: Vec<f64>,
    pub monetary: Vec<f64>,
    pub customers: u64,
}

/// The 20th, 40th, 60th and 80th percentiles (nearest rank) of values.
pub fn quintiles(mut values: Vec<f64>) -> Vec<f64> {
    if values.is_empty() {
        return vec![];
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (1..5)
        .map(|q| values[((q * n).div_ceil(5)).clamp(1, n) - 1])
        .collect()
}

/// 1 + the number of cut points strictly below `v`: 1 to 5.
fn score_up(v: f64, cuts: &[f64]) -> u32 {
    1 + cuts.iter().filter(|&&c| v > c).count() as u32
}

impl Cuts {
    /// The cut points over every customer's orders at `now_ms`.
    pub fn compute(customers: &[Orders], now_ms: i64, version: u64) -> Cuts {
        Cuts {
            version,
            computed_at_ms: now_ms,
            recency_days: quintiles(
                customers
                    .iter()
                    .map(|o| o.recency_days(now_ms) as f64)
                    .collect(),
            ),
            frequency: quintiles(customers.iter().map(|o| o.count as f64).collect()),
            monetary: quintiles(customers.iter().map(|o| o.spend as f64 / MICROS).collect()),
            customers: customers.len() as u64,
        }
    }

    /// (recency, frequency, monetary) scores, 5 the best: recent, frequent
    /// and high spending.
    pub fn scores(&self, o: &Orders, now_ms: i64) -> (u32, u32, u32) {
        let r = 6 - score_up(o.recency_days(now_ms) as f64, &self.recency_days);
        let f = score_up(o.count as f64, &self.frequency);
        let m = score_up(o.spend as f64 / MICROS, &self.monetary);
        (r, f, m)
    }

    pub fn to_pb(&self, seconds: f64) -> pb::RfmCuts {
        pb::RfmCuts {
            version: self.version,
            computed_at_ms: self.computed_at_ms,
            recency_days: self.recency_days.clone(),
            frequency: self.frequency.clone(),
            monetary: self.monetary.clone(),
            customers: self.customers,
            seconds,
        }
    }

    /// A customer's RFM on the profile.
    pub fn rfm_pb(&self, o: &Orders, now_ms: i64) -> pb::Rfm {
        let (r, f, m) = self.scores(o, now_ms);
        pb::Rfm {
            recency: r,
            frequency: f,
            monetary: m,
            group: group(r, f).into(),
            cuts_version: self.version,
            cuts_computed_at_ms: self.computed_at_ms,
        }
    }
}

/// The usual named group of a recency and frequency score.
pub fn group(r: u32, f: u32) -> &'static str {
    match r {
        5.. => match f {
            4.. => "champions",
            2..=3 => "potential_loyalists",
            _ => "new_customers",
        },
        4 => match f {
            4.. => "loyal",
            2..=3 => "potential_loyalists",
            _ => "promising",
        },
        3 => match f {
            4.. => "loyal",
            3 => "need_attention",
            _ => "about_to_sleep",
        },
        _ => match f {
            5.. => "cannot_lose",
            3..=4 => "at_risk",
            _ if r == 2 => "hibernating",
            _ => "lost",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 20_000 * DAY;

    fn orders(count: u64, first_days_ago: i64, last_days_ago: i64) -> Orders {
        Orders {
            count,
            spend: i128::from(count) * 25_000_000,
            first_ms: NOW - first_days_ago * DAY,
            last_ms: NOW - last_days_ago * DAY,
        }
    }

    #[test]
    fn stages_follow_the_configured_windows() {
        let c = LifecycleConfig::default();
        assert_eq!(c.stage(None, NOW), "prospect");
        assert_eq!(c.stage(Some(&orders(1, 10, 10)), NOW), "new");
        assert_eq!(c.stage(Some(&orders(3, 300, 60)), NOW), "active");
        assert_eq!(c.stage(Some(&orders(3, 300, 91)), NOW), "at_risk");
        assert_eq!(c.stage(Some(&orders(3, 300, 180)), NOW), "at_risk");
        assert_eq!(c.stage(Some(&orders(3, 400, 181)), NOW), "lapsed");
        let short = LifecycleConfig {
            active_days: 30,
            ..c
        };
        assert_eq!(short.stage(Some(&orders(3, 300, 60)), NOW), "at_risk");
    }

    #[test]
    fn quintiles_are_nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quintiles(v), vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(quintiles(vec![7.0]), vec![7.0; 4]);
        assert!(quintiles(vec![]).is_empty());
    }

    #[test]
    fn scores_rank_recent_frequent_big_spenders_highest() {
        let all: Vec<Orders> = (0..100i64)
            .map(|i| orders(1 + i as u64 / 10, 400, i * 3))
            .collect();
        let cuts = Cuts::compute(&all, NOW, 1);
        let best = orders(20, 400, 0);
        let worst = orders(1, 400, 399);
        assert_eq!(cuts.scores(&best, NOW), (5, 5, 5));
        assert_eq!(cuts.scores(&worst, NOW), (1, 1, 1));
        assert_eq!(group(5, 5), "champions");
        assert_eq!(group(1, 1), "lost");
        assert_eq!(group(2, 1), "hibernating");
        assert_eq!(group(1, 5), "cannot_lose");
        assert_eq!(group(2, 3), "at_risk");
        assert_eq!(group(5, 1), "new_customers");
    }

    /// The grid reaches every group the API documents, and no other.
    #[test]
    fn every_cell_of_the_grid_has_a_group() {
        let mut seen = std::collections::BTreeSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                assert!(!group(r, f).is_empty());
                seen.insert(group(r, f));
            }
        }
        assert_eq!(seen, RFM_GROUPS.iter().copied().collect());
    }
}
