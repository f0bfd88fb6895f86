//! `kindred why` explains a link attribute by attribute against the
//! thresholds, and `kindred how` lists the events that built an entity.

use kindred_tests::{json, kindred, num, stdout_ok, Node};

#[test]
fn why_scores_a_link_per_attribute_and_how_lists_the_entity_events() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    for (src, id, given, email) in [
        ("crm", "1", "Elizabeth", "liz@example.org"),
        ("pos", "2", "Liz", "liz@example.org"),
    ] {
        stdout_ok(&kindred(
            &node,
            &[
                "upsert",
                "--source",
                src,
                "--record-id",
                id,
                "--given-name",
                given,
                "--family-name",
                "Nguyen",
                "--dob",
                "1990-02-03",
                "--email",
                email,
            ],
        ));
    }
    let other = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "upsert",
            "--source",
            "crm",
            "--record-id",
            "3",
            "--given-name",
            "Tom",
            "--family-name",
            "Baker",
            "--dob",
            "1950-11-30",
            "--email",
            "tom@example.org",
        ],
    ));

    let why = json(&kindred(
        &node,
        &["--output", "json", "why", "crm:1", "pos:2"],
    ));
    assert_eq!(why["decision"], "DECISION_MATCH", "{why}");
    assert!(why["probability"].as_f64().unwrap() >= why["match_threshold"].as_f64().unwrap());
    assert!(why["same_entity"].as_bool().unwrap());
    let comps = why["comparisons"].as_array().unwrap();
    let given = comps
        .iter()
        .find(|c| c["attribute"] == "given_name")
        .unwrap();
    assert_eq!(given["label"], "nickname");
    let email = comps.iter().find(|c| c["attribute"] == "email").unwrap();
    assert_eq!(email["label"], "exact");
    assert!(email["weight"].as_f64().unwrap() > 0.0);
    let total: f64 = comps
        .iter()
        .map(|c| c["weight"].as_f64().unwrap())
        .sum::<f64>()
        + why["prior_weight"].as_f64().unwrap();
    assert!(
        (total - why["total_weight"].as_f64().unwrap()).abs() < 1e-6,
        "weights add up to the total"
    );

    let no = json(&kindred(
        &node,
        &["--output", "json", "why", "crm:1", "crm:3"],
    ));
    assert_eq!(no["decision"], "DECISION_NON_MATCH", "{no}");
    assert!(!no["same_entity"].as_bool().unwrap());

    let entity = why_entity(&node);
    let vs = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "why",
            "crm:3",
            "--entity",
            &entity.to_string(),
        ],
    ));
    assert!(!vs["member"].as_bool().unwrap());
    assert_ne!(num(&other["entity_id"]).unwrap(), entity);

    let how = json(&kindred(
        &node,
        &["--output", "json", "how", &entity.to_string()],
    ));
    let kinds: Vec<&str> = how["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["created", "joined"], "{how}");
    assert_eq!(how["records"].as_array().unwrap().len(), 2);
}

fn why_entity(node: &Node) -> u64 {
    let p = json(&kindred(
        node,
        &["--output", "json", "profile", "get", "--record", "crm:1"],
    ));
    num(&p["entity_id"]).unwrap()
}
