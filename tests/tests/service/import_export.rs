//! `kindred import` loads the shipped sample through the bulk API and
//! `kindred export` returns every record with its entity, the same
//! clustering the engine alone produces on the same input.

use std::process::Command;

use kindred_tests::{bin, kindred, num, partition_of_csv, repo, stdout_ok, Node};

#[test]
fn import_then_export_matches_the_engine_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let sample = repo().join("client/data/sample");
    let records = sample.join("records.csv");
    let mapping = sample.join("mapping.toml");
    let total = csv::Reader::from_path(&records).unwrap().records().count();

    let out = kindred(
        &node,
        &[
            "--output",
            "json",
            "import",
            records.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--no-progress",
        ],
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout_ok(&out)).unwrap();
    assert_eq!(summary["records_read"], total);
    assert_eq!(summary["accepted"], total);
    assert_eq!(summary["rejected"], 0);

    let export = stdout_ok(&kindred(&node, &["export"]));
    assert!(
        export.starts_with("source,record_id,entity_id\n"),
        "header: {}",
        export.lines().next().unwrap_or("")
    );
    assert_eq!(export.lines().count() - 1, total);

    // The same input through the engine alone (same default model).
    let engine_out = tmp.path().join("engine.csv");
    let st = Command::new(bin("kindred-eval"))
        .args([
            "--input",
            records.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--untrained",
        ])
        .args(["--out", engine_out.to_str().unwrap()])
        .output()
        .unwrap();
    stdout_ok(&st);
    let engine = std::fs::read_to_string(engine_out).unwrap();
    assert_eq!(partition_of_csv(&export), partition_of_csv(&engine));

    // Profiles export: one JSON profile per line, one per entity.
    let stats: serde_json::Value =
        serde_json::from_str(&stdout_ok(&kindred(&node, &["--output", "json", "stats"]))).unwrap();
    let profiles = stdout_ok(&kindred(&node, &["export", "--profiles"]));
    let lines: Vec<&str> = profiles.lines().collect();
    assert_eq!(lines.len() as u64, num(&stats["entities"]).unwrap());
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert!(num(&first["entity_id"]).unwrap() > 0);
    assert!(!first["records"].as_array().unwrap().is_empty());
}
