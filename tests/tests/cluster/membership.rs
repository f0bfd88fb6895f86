//! Growing and shrinking a live cluster through the CLI: a node started
//! with `--join` is added, `rebalance` gives it an equal share, and
//! `remove-node` drains another; reads through any node see every record
//! with the same clustering throughout.

use std::time::Duration;

use kindred_tests::{
    cluster_status, free_port, import_csv, json, kindred_at, num, partition_of_csv, repo,
    stdout_ok, Node, TestCluster,
};

#[test]
fn add_rebalance_and_remove_keep_every_record_and_the_clustering() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = repo().join("client/data/sample");
    let (csv, mapping) = (sample.join("records.csv"), sample.join("mapping.toml"));
    let c = TestCluster::start(&tmp.path().join("c"), 3, 8);
    stdout_ok(&import_csv(&c.endpoints(), &csv, &mapping));
    let before = stdout_ok(&kindred_at(&c.endpoints(), &["export"]));

    // Node 4 joins empty, then is added as a voter.
    let port = free_port();
    let key_file = c.key_file().display().to_string();
    let node4 = Node::spawn(
        &tmp.path().join("c/node4"),
        port,
        &[
            "--node-id",
            "4",
            "--join",
            "--peers",
            &c.peers,
            "--master-key-file",
            &key_file,
        ],
    );
    let added = json(&kindred_at(
        &c.endpoints(),
        &[
            "--output",
            "json",
            "cluster",
            "add-node",
            "4",
            &node4.internal_addr(),
        ],
    ));
    assert!(added["message"].as_str().unwrap().contains("added"));
    node4.wait_ready(Duration::from_secs(60));

    let plan = json(&kindred_at(
        &c.endpoints(),
        &["--output", "json", "cluster", "rebalance", "--dry-run"],
    ));
    assert_eq!(plan["moves"].as_array().unwrap().len(), 2, "{plan}");
    let done = json(&kindred_at(
        &c.endpoints(),
        &["--output", "json", "cluster", "rebalance"],
    ));
    assert_eq!(done["moves"].as_array().unwrap().len(), 2, "{done}");
    let st = cluster_status(&node4.endpoint());
    let owned_by_4 = st["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| num(&p["owner"]) == Some(4))
        .count();
    assert_eq!(owned_by_4, 2);
    let after = stdout_ok(&kindred_at(&node4.endpoint(), &["export"]));
    assert_eq!(partition_of_csv(&after), partition_of_csv(&before));

    // Node 2 is drained and removed; node 4 serves every read.
    let removed = json(&kindred_at(
        &node4.endpoint(),
        &["--output", "json", "cluster", "remove-node", "2"],
    ));
    assert!(
        !removed["moves"].as_array().unwrap().is_empty(),
        "{removed}"
    );
    let st = cluster_status(&node4.endpoint());
    let members: Vec<u64> = st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| num(&n["node_id"]).unwrap())
        .collect();
    assert_eq!(members, vec![1, 3, 4]);
    assert!(st["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| num(&p["owner"]) != Some(2)));
    let after = stdout_ok(&kindred_at(&node4.endpoint(), &["export"]));
    assert_eq!(partition_of_csv(&after), partition_of_csv(&before));
}
