//! Moving partitions while an import runs loses and duplicates nothing:
//! the export equals a one-node cluster's and the record count is exact.

use std::time::Duration;

use kindred_tests::{
    cluster_status, generate, import_csv, json, kindred_at, num, partition_of_csv, record_count,
    reference_export, stdout_ok, wait_for_records, TestCluster,
};

const PARTITIONS: u32 = 8;

#[test]
fn partitions_moved_during_an_import_lose_and_duplicate_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, mapping) = generate(&tmp.path().join("gen"), 6000, 12);
    let total = csv::Reader::from_path(&csv).unwrap().records().count() as u64;
    let reference = reference_export(&tmp.path().join("one"), PARTITIONS, &csv, &mapping);

    let c = TestCluster::start(&tmp.path().join("three"), 3, PARTITIONS);
    let via = c.nodes[0].endpoint();
    let (csv2, mapping2, via2) = (csv.clone(), mapping.clone(), via.clone());
    let importer = std::thread::spawn(move || import_csv(&via2, &csv2, &mapping2));

    wait_for_records(&via, total / 5, Duration::from_secs(120));
    // Move every partition of node 1 to node 3, and one of node 2 to node 1,
    // through node 2, while node 1 coordinates the import.
    assert!(!importer.is_finished(), "the import ended before the moves");
    let before = cluster_status(&c.endpoints());
    let mut moved = 0;
    for p in before["partitions"].as_array().unwrap() {
        let (part, owner) = (num(&p["partition"]).unwrap(), num(&p["owner"]).unwrap());
        let to = match owner {
            1 => "3",
            2 if moved < 4 => "1",
            _ => continue,
        };
        let change = json(&kindred_at(
            &c.nodes[1].endpoint(),
            &[
                "--output",
                "json",
                "cluster",
                "move-partition",
                &part.to_string(),
                "--to",
                to,
            ],
        ));
        assert_eq!(change["moves"].as_array().unwrap().len(), 1, "{change}");
        moved += 1;
    }
    assert!(moved >= 3);
    eprintln!("moves done at {} of {total} records", record_count(&via));

    let out = importer.join().unwrap();
    let summary: serde_json::Value = serde_json::from_str(&stdout_ok(&out)).unwrap();
    assert_eq!(num(&summary["accepted"]), Some(total), "{summary}");
    let after = cluster_status(&c.endpoints());
    assert!(num(&after["map_epoch"]) > num(&before["map_epoch"]));
    assert_eq!(record_count(&c.endpoints()), total);
    let export = stdout_ok(&kindred_at(&c.nodes[2].endpoint(), &["export"]));
    assert_eq!(export.lines().count() as u64 - 1, total);
    assert_eq!(partition_of_csv(&export), partition_of_csv(&reference));
}
