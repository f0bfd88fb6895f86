//! Three nodes talking mutual TLS resolve exactly as one node does, and a
//! node whose certificate comes from another CA cannot join them.

use std::path::Path;

use kindred_tests::{
    dev_certs, free_port, generate, import_csv, json, kindred_at, partition_of_csv,
    reference_export, stdout_ok, Node, TestCluster,
};

const PARTITIONS: u32 = 8;

/// The internal TLS flags of node `id` with certificates from `certs`.
fn tls_flags(certs: &Path, id: usize) -> Vec<String> {
    let p = |f: String| certs.join(f).to_str().unwrap().to_string();
    vec![
        "--internal-tls-cert".into(),
        p(format!("node-{id}.pem")),
        "--internal-tls-key".into(),
        p(format!("node-{id}-key.pem")),
        "--internal-ca".into(),
        p("ca.pem".into()),
        "--internal-allowed-names".into(),
        "node-1,node-2,node-3,node-4".into(),
    ]
}

#[test]
fn three_nodes_over_mutual_tls_match_one_node_and_refuse_a_foreign_joiner() {
    let tmp = tempfile::tempdir().unwrap();
    let (ours, theirs) = (tmp.path().join("ours"), tmp.path().join("theirs"));
    dev_certs(&ours, &["node-1", "node-2", "node-3"]);
    dev_certs(&theirs, &["node-4"]);
    let (csv, mapping) = generate(&tmp.path().join("gen"), 1500, 29);
    let reference = reference_export(&tmp.path().join("one"), PARTITIONS, &csv, &mapping);

    let c = TestCluster::start_with(&tmp.path().join("three"), 3, PARTITIONS, |i| {
        tls_flags(&ours, i + 1)
    });
    stdout_ok(&import_csv(&c.nodes[1].endpoint(), &csv, &mapping));
    let export = stdout_ok(&kindred_at(&c.nodes[2].endpoint(), &["export"]));
    assert_eq!(partition_of_csv(&export), partition_of_csv(&reference));

    // Node 4 carries a certificate of another CA: the cluster cannot
    // authenticate it, so it is not added and the quorum is untouched.
    let mut flags = vec![
        "--node-id".to_string(),
        "4".into(),
        "--join".into(),
        "--peers".into(),
        c.peers.clone(),
        "--master-key-file".into(),
        c.key_file().display().to_string(),
    ];
    flags.extend(
        tls_flags(&theirs, 4)
            .into_iter()
            .map(|f| f.replace("theirs/ca.pem", "ours/ca.pem")),
    );
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let node4 = Node::spawn(&tmp.path().join("three/node4"), free_port(), &flags);
    let out = kindred_at(
        &c.endpoints(),
        &["cluster", "add-node", "4", &node4.internal_addr()],
    );
    assert!(!out.status.success(), "a foreign node was added");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not reachable as a cluster member"), "{err}");
    let status = json(&kindred_at(
        &c.endpoints(),
        &["--output", "json", "cluster", "status"],
    ));
    assert_eq!(status["nodes"].as_array().unwrap().len(), 3, "{status}");
    // The cluster still takes writes.
    stdout_ok(&kindred_at(
        &c.endpoints(),
        &[
            "upsert",
            "--source",
            "crm",
            "--record-id",
            "x1",
            "--given-name",
            "Ada",
        ],
    ));
}
