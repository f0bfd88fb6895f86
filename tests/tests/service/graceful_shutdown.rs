//! SIGTERM stops the node cleanly (exit 0) and a restart serves the same
//! records and entities from disk.

use kindred_tests::{kindred, partition_of_csv, repo, stdout_ok, Node};

#[test]
fn sigterm_exits_zero_and_a_restart_serves_the_same_entities_and_history() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut node = Node::start(&data);
    let sample = repo().join("client/data/sample");
    stdout_ok(&kindred(
        &node,
        &[
            "import",
            sample.join("records.csv").to_str().unwrap(),
            "--mapping",
            sample.join("mapping.toml").to_str().unwrap(),
            "--no-progress",
        ],
    ));
    let before = partition_of_csv(&stdout_ok(&kindred(&node, &["export"])));
    let how_before = stdout_ok(&kindred(&node, &["--output", "json", "how", "1"]));
    assert_eq!(node.stop(), Some(0), "graceful shutdown exits 0");

    let node = Node::start(&data);
    let after = partition_of_csv(&stdout_ok(&kindred(&node, &["export"])));
    assert_eq!(before, after);
    let how_after = stdout_ok(&kindred(&node, &["--output", "json", "how", "1"]));
    assert_eq!(how_before, how_after, "history survives a restart");
}
