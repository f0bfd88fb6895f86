//! The standard segments, ready to use: one per lifecycle stage, RFM
//! champions and abandoned carts. They are written in the segment file
//! format (README, "Segments"), which they also exercise.

use kindred_proto::segment_file;
use kindred_proto::v1 as pb;

/// The standard segments over `order_type`, the event type of a completed
/// order.
pub fn builtin(order_type: &str) -> Vec<pb::Segment> {
    let stage = |name: &str, stage: &str, what: &str| {
        format!(
            "name = \"{name}\"\ndescription = \"{what}\"\ncondition = {{ stage = \"{stage}\" }}\n"
        )
    };
    let files = [
        stage(
            "prospects",
            "prospect",
            "Customers without a completed order",
        ),
        stage(
            "new_customers",
            "new",
            "First order within the new-customer window",
        ),
        stage("active", "active", "Last order within the active window"),
        stage(
            "at_risk",
            "at_risk",
            "Last order between the active and at-risk windows",
        ),
        stage(
            "lapsed",
            "lapsed",
            "No order for longer than the at-risk window",
        ),
        "name = \"champions\"\n\
         description = \"RFM champions: recent, frequent buyers\"\n\
         condition = { rfm = { groups = [\"champions\"] } }\n"
            .to_string(),
        format!(
            "name = \"abandoned_carts\"\n\
             description = \"Started a checkout or updated a cart in the last 7 days, and \
             completed no order in those 7 days\"\n\
             [condition]\n\
             all = [\n\
               {{ any = [\n\
                   {{ performed = {{ event = \"checkout_started\", within_days = 7 }} }},\n\
                   {{ performed = {{ event = \"cart_updated\", within_days = 7 }} }},\n\
               ] }},\n\
               {{ not_performed = {{ event = \"{order_type}\", within_days = 7 }} }},\n\
             ]\n"
        ),
    ];
    files
        .iter()
        .map(|f| {
            let mut s = segment_file::parse(f).expect("a built-in segment is valid");
            s.origin = "builtin".into();
            s.version = 1;
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::activity::traits;
    use crate::segments::{check, Known};

    #[test]
    fn every_standard_segment_is_valid() {
        let all = builtin("order_completed");
        assert_eq!(all.len(), 7);
        let traits = traits::builtin("order_completed");
        let purposes = vec!["email_marketing".to_string()];
        for s in &all {
            let others: BTreeMap<String, pb::Segment> = all
                .iter()
                .filter(|o| o.name != s.name)
                .map(|o| (o.name.clone(), o.clone()))
                .collect();
            let known = Known {
                traits: &traits,
                purposes: &purposes,
                segments: &others,
            };
            let c = check(s, &known);
            assert!(c.problems.is_empty(), "{}: {:?}", s.name, c.problems);
            // Each depends on time: the sweep keeps them current.
            assert!(!c.time.is_empty(), "{}", s.name);
        }
    }
}
