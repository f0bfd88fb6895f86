//! Training on a cluster trains on every partition's records, gives every
//! partition the new model, records its version in the metadata group, and
//! every node then serves the same clustering.

use kindred_tests::{
    cluster_status, import_csv, json, kindred_at, num, partition_of_csv, repo, stdout_ok,
    TestCluster,
};

#[test]
fn a_model_trained_through_one_node_is_the_cluster_model() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = repo().join("client/data/sample");
    let c = TestCluster::start(tmp.path(), 3, 8);
    stdout_ok(&import_csv(
        &c.endpoints(),
        &sample.join("records.csv"),
        &sample.join("mapping.toml"),
    ));
    let trained = json(&kindred_at(
        &c.nodes[1].endpoint(),
        &["--output", "json", "train"],
    ));
    let version = num(&trained["model_version"]).unwrap();
    assert!(version > 0, "{trained}");
    for n in &c.nodes {
        assert_eq!(
            num(&cluster_status(&n.endpoint())["model_version"]),
            Some(version)
        );
        let model = json(&kindred_at(&n.endpoint(), &["model"]));
        assert_eq!(num(&model["version"]), Some(version));
    }
    let a = stdout_ok(&kindred_at(&c.nodes[0].endpoint(), &["export"]));
    let b = stdout_ok(&kindred_at(&c.nodes[2].endpoint(), &["export"]));
    assert_eq!(partition_of_csv(&a), partition_of_csv(&b));
}
