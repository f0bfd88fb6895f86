//! A pair scores the same whichever record is compared with which: the
//! comparison levels, the term-frequency adjustment and the total weight
//! are functions of the unordered pair. Arrival order decides which record
//! is "new" in a comparison, so any asymmetry would make entities depend on
//! it (a street typo such as "69x6 pach ct" against "6926 peach ct" once
//! scored 6.2 higher one way round than the other).

use proptest::prelude::*;

use kindred_node::engine::features::Packed;
use kindred_node::engine::{Engine, EngineConfig, Model};
use kindred_proto::v1::{Identifier, PersonName, PostalAddress, Record};

/// Values drawn from small pools, with corruptions of each other (typos,
/// truncations, digits in words, swapped dates, initials, nicknames), so
/// that every comparison level is reached.
fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(pool).prop_map(str::to_string)
}

fn address() -> impl Strategy<Value = PostalAddress> {
    let streets: &'static [&'static str] = &[
        "6926 Peach Ct",
        "69x6 Pach Ct",
        "6926 Peach Court",
        "12 King Street",
        "12 Kent Street",
        "o014y HighjPl",
        "8014 High Pl",
        "Unit 4 12 Wattle Street",
        "",
    ];
    let postcodes: &'static [&'static str] = &["60601", "60610", "2119", ""];
    let localities: &'static [&'static str] = &["Tucson", "Tuzon", "Sydney", ""];
    (pick(streets), pick(postcodes), pick(localities)).prop_map(|(street, postcode, locality)| {
        PostalAddress {
            street,
            postcode,
            locality,
            ..Default::default()
        }
    })
}

fn record() -> impl Strategy<Value = Record> {
    let given: &'static [&'static str] = &[
        "Wyatt", "Wya", "W", "Bob", "Robert", "Rbt", "Tl", "Tyler", "x1", "",
    ];
    let family: &'static [&'static str] = &["Haas", "gHtas", "Smith", "Smyth", "", "Tyler"];
    let middle: &'static [&'static str] = &["", "Logan", "LOIN", "Robert"];
    let dobs: &'static [&'static str] = &[
        "1969-06-24",
        "1969-24-06",
        "24/06/1969",
        "06/04/1969",
        "04/06/1969",
        "1969-19-05",
        "1969",
        "",
    ];
    let emails: &'static [&'static str] = &["w@x.com", "Wyatt <w@x.com>", "w@y.com", ""];
    let ids: &'static [&'static str] = &["123-45-6789", "123-45-6798", "987-65-4321", ""];
    (
        (pick(given), pick(family), pick(middle), pick(dobs)),
        (pick(emails), pick(ids)),
        proptest::collection::vec(address(), 0..3),
    )
        .prop_map(|((g, f, m, d), (email, id), addresses)| Record {
            source: "s".into(),
            record_id: "r".into(),
            name: Some(PersonName {
                given: g,
                family: f,
                middle: m,
                ..Default::default()
            }),
            date_of_birth: d,
            emails: [email].into_iter().filter(|e| !e.is_empty()).collect(),
            identifiers: [id]
                .into_iter()
                .filter(|v| !v.is_empty())
                .map(|value| Identifier {
                    kind: "national_id".into(),
                    value,
                })
                .collect(),
            addresses,
            ..Default::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_pair_scores_the_same_both_ways(a in record(), b in record()) {
        let e = Engine::in_memory(EngineConfig::default(), Model::default());
        let (pa, pb) = (
            Packed::from_std(&e.standardize(&a)),
            Packed::from_std(&e.standardize(&b)),
        );
        let (x, y) = (e.score(&pa.view(), &pb.view()), e.score(&pb.view(), &pa.view()));
        prop_assert!((x - y).abs() < 1e-9, "{x} one way, {y} the other");
    }
}
