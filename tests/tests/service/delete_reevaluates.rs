//! Deleting a record re-evaluates its entity: when it was the only link
//! between two groups, the entity splits and the larger part keeps the id.

use kindred_tests::{kindred, partition_of_csv, stdout_ok, Node};

fn upsert(node: &Node, id: &str, given: &str, emails: &[&str], phone: &str) -> serde_json::Value {
    let mut args = vec![
        "--output",
        "json",
        "upsert",
        "--source",
        "crm",
        "--record-id",
        id,
        "--given-name",
        given,
        "--family-name",
        "Okafor",
        "--dob",
        "1971-05-06",
        "--phone",
        phone,
    ];
    for e in emails {
        args.extend(["--email", e]);
    }
    serde_json::from_str(&stdout_ok(&kindred(node, &args))).unwrap()
}

#[test]
fn deleting_the_bridge_record_splits_the_entity_and_the_larger_part_keeps_the_id() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let a = upsert(&node, "a", "Chidi", &["chidi@x.org"], "0411111111");
    upsert(&node, "a2", "Chidi", &["chidi@x.org"], "0411111111");
    let b = upsert(&node, "b", "Zed", &["zed@y.org"], "0499999999");
    assert_ne!(a["entity_id"], b["entity_id"]);
    // c carries the emails of both a and b: it merges them. (Not a shared
    // phone: with the model's household class on, Chidi and Zed Okafor,
    // born the same day and sharing a phone, read as twins.)
    let c = upsert(
        &node,
        "c",
        "Chidi",
        &["chidi@x.org", "zed@y.org"],
        "0499999999",
    );
    assert_eq!(c["action"], "ACTION_MERGED", "{c}");
    let merged = partition_of_csv(&stdout_ok(&kindred(&node, &["export"])));
    assert_eq!(merged.len(), 1);

    let del: serde_json::Value = serde_json::from_str(&stdout_ok(&kindred(
        &node,
        &["--output", "json", "delete", "crm:c"],
    )))
    .unwrap();
    assert!(!del["affected_entities"].as_array().unwrap().is_empty());
    let after = partition_of_csv(&stdout_ok(&kindred(&node, &["export"])));
    assert_eq!(
        after,
        vec![
            vec!["crm/a".to_string(), "crm/a2".to_string()],
            vec!["crm/b".to_string()]
        ]
    );
    // The larger part (a, a2) keeps the surviving id.
    let p: serde_json::Value = serde_json::from_str(&stdout_ok(&kindred(
        &node,
        &["--output", "json", "profile", "get", "--record", "crm:a"],
    )))
    .unwrap();
    assert_eq!(p["entity_id"], c["entity_id"]);
    // The deleted record is gone.
    assert_eq!(kindred(&node, &["get", "crm:c"]).status.code(), Some(3));
}
