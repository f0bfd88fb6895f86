//! `kill -9` of a follower and then of the Raft leader during an import:
//! the cluster elects a new leader, the restarted nodes catch up, the
//! import completes, and the export equals a one-node cluster's.

use std::time::Duration;

use kindred_tests::{
    cluster_status, generate, import_csv, kindred_at, num, partition_of_csv, poll_until,
    reference_export, stdout_ok, try_cluster_status, wait_for_records, wait_until, TestCluster,
};

const PARTITIONS: u32 = 8;

const IMPORT_PROGRESS: Duration = Duration::from_secs(120);

/// The role `endpoints` reports for node `id` (1-based), if it answers.
fn role_of(endpoints: &str, id: u64) -> Option<String> {
    let st = try_cluster_status(endpoints)?;
    let node = st["nodes"]
        .as_array()?
        .iter()
        .find(|n| num(&n["node_id"]) == Some(id))?;
    node["role"].as_str().map(str::to_string)
}

#[test]
fn killing_a_follower_and_the_leader_mid_import_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, mapping) = generate(&tmp.path().join("gen"), 6000, 11);
    let total = csv::Reader::from_path(&csv).unwrap().records().count() as u64;
    let reference = reference_export(&tmp.path().join("one"), PARTITIONS, &csv, &mapping);

    let mut c = TestCluster::start(&tmp.path().join("three"), 3, PARTITIONS);
    let status = cluster_status(&c.endpoints());
    let leader = num(&status["leader_id"]).unwrap() as usize - 1;
    let others: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let (coordinator, follower) = (others[0], others[1]);
    let via = c.nodes[coordinator].endpoint();
    let (csv2, mapping2, via2) = (csv.clone(), mapping.clone(), via.clone());
    let importer = std::thread::spawn(move || import_csv(&via2, &csv2, &mapping2));

    wait_for_records(&via, total / 4, IMPORT_PROGRESS);
    assert!(!importer.is_finished(), "the import ended before the kills");
    c.nodes[follower].kill9();
    let dead = follower as u64 + 1;
    wait_until(
        Duration::from_secs(60),
        &format!("the coordinator to report node {dead} unreachable"),
        || role_of(&via, dead).as_deref() == Some("unreachable"),
    );
    c.restart(follower);

    wait_for_records(&via, total / 2, IMPORT_PROGRESS);
    assert!(
        !importer.is_finished(),
        "the import ended before the leader was killed"
    );
    c.nodes[leader].kill9();
    let dead = leader as u64 + 1;
    wait_until(
        Duration::from_secs(60),
        &format!("the surviving nodes to elect a leader other than node {dead}"),
        || {
            try_cluster_status(&via)
                .and_then(|st| num(&st["leader_id"]))
                .is_some_and(|l| l != 0 && l != dead)
        },
    );
    c.restart(leader);

    let out = importer.join().unwrap();
    let summary: serde_json::Value = serde_json::from_str(&stdout_ok(&out)).unwrap();
    assert_eq!(num(&summary["accepted"]), Some(total), "{summary}");

    // A leader again, and every node caught up with it.
    let mut st = serde_json::Value::Null;
    let settled = poll_until(Duration::from_secs(60), || {
        st = cluster_status(&c.endpoints());
        let commit = num(&st["commit_index"]).unwrap_or(0);
        let caught_up = st["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| num(&n["applied_index"]) == Some(commit));
        num(&st["leader_id"]).unwrap_or(0) != 0 && caught_up
    });
    assert!(settled, "cluster did not settle: {st}");
    assert!(num(&st["term"]).unwrap() > num(&status["term"]).unwrap());
    for n in &c.nodes {
        let export = stdout_ok(&kindred_at(&n.endpoint(), &["export"]));
        assert_eq!(export.lines().count() as u64 - 1, total);
        assert_eq!(partition_of_csv(&export), partition_of_csv(&reference));
    }
}
