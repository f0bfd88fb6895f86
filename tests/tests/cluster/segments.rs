//! Segments on a two-node cluster: a segment defined through one node is
//! evaluated by both, each sweeping only the customers whose membership
//! its own partitions keep, so together they evaluate every customer once;
//! the segment shows the time of the oldest partition's sweep.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kindred_tests::{
    free_port, import_csv, json, kindred_at, metric_sample, num, repo, scrape_metrics, stdout_ok,
    wait_until, TestCluster,
};

const LOYAL: &str = "name = \"loyalty_members\"\n[condition]\nhas_source = \"loyalty\"\n";

/// Customers with a loyalty record, and every customer, from an export.
fn expected(export: &str) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let mut rdr = csv::Reader::from_reader(export.as_bytes());
    let (mut loyal, mut all) = (BTreeSet::new(), BTreeSet::new());
    for row in rdr.records() {
        let row = row.unwrap();
        let entity: u64 = row[2].parse().unwrap();
        all.insert(entity);
        if &row[0] == "loyalty" {
            loyal.insert(entity);
        }
    }
    (loyal, all)
}

#[test]
fn every_node_sweeps_the_customers_of_its_own_partitions() {
    let tmp = tempfile::tempdir().unwrap();
    let metrics: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let ports = metrics.clone();
    let c = TestCluster::start_with(&tmp.path().join("c"), 2, 4, move |i| {
        vec![
            "--metrics-listen".to_string(),
            format!("127.0.0.1:{}", ports[i]),
        ]
    });
    let sample = repo().join("client/data/sample");
    let (csv, mapping) = (sample.join("records.csv"), sample.join("mapping.toml"));
    stdout_ok(&import_csv(&c.endpoints(), &csv, &mapping));
    let (loyal, all) = expected(&stdout_ok(&kindred_at(&c.endpoints(), &["export"])));
    assert!(!loyal.is_empty() && loyal.len() < all.len());

    let defined_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let file = tmp.path().join("loyal.toml");
    std::fs::write(&file, LOYAL).unwrap();
    // Defined through node 1 only.
    let node1 = c.nodes[0].endpoint();
    stdout_ok(&kindred_at(
        &node1,
        &["segment", "create", file.to_str().unwrap()],
    ));

    // Both nodes sweep for the new definition: the segment counts as fully
    // evaluated only once every partition was swept after it was defined.
    let show = || {
        json(&kindred_at(
            &node1,
            &["--output", "json", "segment", "show", "loyalty_members"],
        ))
    };
    wait_until(Duration::from_secs(60), "every partition swept", || {
        num(&show()["swept_at_ms"]).unwrap_or(0) as i64 >= defined_at
    });
    let members = json(&kindred_at(
        &c.nodes[1].endpoint(),
        &[
            "--output",
            "json",
            "segment",
            "members",
            "loyalty_members",
            "--limit",
            "0",
        ],
    ));
    let got: BTreeSet<u64> = members["entity_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| num(v).unwrap())
        .collect();
    assert_eq!(got, loyal);

    // Each node evaluated its own share, and the shares make up everyone.
    let swept: Vec<f64> = metrics
        .iter()
        .map(|&port| {
            metric_sample(&scrape_metrics(port), "kindred_segment_sweep_customers").unwrap()
        })
        .collect();
    assert!(swept.iter().all(|&n| n > 0.0), "{swept:?}");
    assert_eq!(swept.iter().sum::<f64>() as usize, all.len(), "{swept:?}");
}
