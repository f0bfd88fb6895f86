//! Two people of one household are not one person: the household class of
//! the model weighs "two people who live together" against "one person's
//! two records", so an address agreement never stands in for evidence about
//! the person. Twins, a father and his son of the same name, and the same
//! person with a typo are told apart with the class on (it is off by
//! default, see `HouseholdParams`); with it off, plain Fellegi-Sunter links
//! the twins (the class, not some other change, is what separates them).

use kindred_node::engine::explain::Decision;
use kindred_node::engine::model::HouseholdParams;
use kindred_node::engine::{Engine, EngineConfig, Model};
use kindred_proto::v1::{PersonName, PostalAddress, Record};

fn person(id: &str, given: &str, dob: &str) -> Record {
    Record {
        source: "crm".into(),
        record_id: id.into(),
        name: Some(PersonName {
            given: given.into(),
            family: "Okafor".into(),
            ..Default::default()
        }),
        date_of_birth: dob.into(),
        addresses: vec![PostalAddress {
            street: "14 Wattle Street".into(),
            locality: "Newtown".into(),
            postcode: "2042".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn decision(model: Model, a: Record, b: Record) -> Decision {
    let mut e = Engine::in_memory(EngineConfig::default(), model);
    e.upsert(a).unwrap();
    e.upsert(b).unwrap();
    e.why(("crm", "a"), ("crm", "b")).unwrap().decision
}

/// The default model with the household class on (it is off by default).
fn households() -> Model {
    Model {
        household: Some(HouseholdParams::default()),
        ..Model::default()
    }
}

fn plain() -> Model {
    Model {
        household: None,
        ..Model::default()
    }
}

#[test]
fn twins_at_one_address_are_two_people() {
    let (a, b) = (
        person("a", "Chidi", "1990-03-14"),
        person("b", "Ngozi", "1990-03-14"),
    );
    assert_ne!(
        decision(households(), a.clone(), b.clone()),
        Decision::Match
    );
    assert_eq!(
        decision(plain(), a, b),
        Decision::Match,
        "plain Fellegi-Sunter links them"
    );
}

#[test]
fn a_father_and_his_son_of_the_same_name_are_two_people() {
    let (a, b) = (
        person("a", "Emeka", "1961-07-02"),
        person("b", "Emeka", "1993-11-20"),
    );
    assert_ne!(decision(households(), a, b), Decision::Match);
}

#[test]
fn the_same_person_with_a_typo_is_still_one_person() {
    let (a, b) = (
        person("a", "Chidi", "1990-03-14"),
        person("b", "Chidl", "1990-03-14"),
    );
    assert_eq!(decision(households(), a, b), Decision::Match);
}

#[test]
fn evidence_about_the_person_outweighs_the_household() {
    let (mut a, mut b) = (
        person("a", "Chidi", "1990-03-14"),
        person("b", "Ngozi", "1990-03-14"),
    );
    // Known by a second first name, with the same personal email.
    a.emails = vec!["c.okafor@example.com".into()];
    b.emails = vec!["c.okafor@example.com".into()];
    assert_eq!(decision(households(), a, b), Decision::Match);
}

#[test]
fn the_explanation_shows_what_the_household_takes_off() {
    let mut e = Engine::in_memory(EngineConfig::default(), households());
    e.upsert(person("a", "Chidi", "1990-03-14")).unwrap();
    e.upsert(person("b", "Ngozi", "1990-03-14")).unwrap();
    let why = e.why(("crm", "a"), ("crm", "b")).unwrap();
    let household = why
        .contributions
        .iter()
        .find(|c| c.attribute == "household")
        .expect("a household contribution");
    assert!(household.weight < -1.0, "{household:?}");
    let sum: f64 = why.prior_weight + why.contributions.iter().map(|c| c.weight).sum::<f64>();
    assert!(
        (sum - why.total_weight).abs() < 1e-9,
        "{sum} != {}",
        why.total_weight
    );
}
