//! Erasure on a cluster leaves no trace and costs no one else: a person is
//! erased (by their email, through another node) while an import of other
//! people runs; every other record arrives; then, after partitions move
//! between the nodes and a node restarts, a scan of every file under every
//! node's directory finds none of the erased person's values, and no
//! personal value of anyone in plaintext.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use kindred_tests::{
    cluster_status, found_on_disk, generate, import_csv, json, kindred_at, new_token, num,
    record_count, repo, stdout_ok, wait_for_records, TestCluster,
};

const PARTITIONS: u32 = 4;
const EMAIL: &str = "nicole.woods71@yahoo.com";

/// Personal values (7 bytes or more, 4 distinct characters or more: a
/// placeholder phone 0000000000 is in any file) of every record of a CSV,
/// in the forms a scan must not find: lower case, a phone's digits.
fn personal_values(csv: &Path, columns: &[&str]) -> BTreeSet<String> {
    let mut r = csv::Reader::from_path(csv).unwrap();
    let headers = r.headers().unwrap().clone();
    let mut out = BTreeSet::new();
    for row in r.records() {
        let row = row.unwrap();
        for (h, v) in headers.iter().zip(row.iter()) {
            if !columns.contains(&h) {
                continue;
            }
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            for form in [v.trim().to_lowercase(), digits] {
                let distinct: BTreeSet<char> = form.chars().collect();
                let plausible = h == "phone" || form.chars().any(char::is_alphabetic);
                if form.len() >= 7 && distinct.len() >= 4 && plausible {
                    out.insert(form);
                }
            }
        }
    }
    out
}

#[test]
fn an_erasure_during_an_import_leaves_no_trace_after_moves_and_a_restart_and_loses_no_one_else() {
    let tmp = tempfile::tempdir().unwrap();
    let (privacy, line) = new_token("dpo", "privacy");
    let tokens = tmp.path().join("tokens");
    std::fs::write(&tokens, format!("{line}\n")).unwrap();
    let flags = vec![
        "--tokens-file".to_string(),
        tokens.display().to_string(),
        "--anonymous-role".to_string(),
        "admin".to_string(),
    ];
    let mut c = TestCluster::start_with(&tmp.path().join("c"), 2, PARTITIONS, |_| flags.clone());
    let sample = repo().join("client/data/sample");
    let sample_csv = sample.join("records.csv");
    stdout_ok(&import_csv(
        &c.endpoints(),
        &sample_csv,
        &sample.join("mapping.toml"),
    ));
    let loaded = record_count(&c.endpoints());
    let profile = json(&kindred_at(
        &c.endpoints(),
        &["--output", "json", "profile", "get", "--email", EMAIL],
    ));
    let erased_records = profile["records"].as_array().unwrap().len() as u64;
    assert!(erased_records >= 2, "{profile}");

    // Other people arrive through node 1 while node 2 erases.
    let (csv, mapping) = generate(&tmp.path().join("gen"), 3000, 21);
    let more = csv::Reader::from_path(&csv).unwrap().records().count() as u64;
    let via = c.nodes[0].endpoint();
    let importer = {
        let (via, csv, mapping) = (via.clone(), csv.clone(), mapping.clone());
        std::thread::spawn(move || import_csv(&via, &csv, &mapping))
    };
    wait_for_records(&via, loaded + more / 10, Duration::from_secs(120));
    let erased = json(&kindred_at(
        &c.nodes[1].endpoint(),
        &[
            "--token", &privacy, "--output", "json", "privacy", "erase", "--email", EMAIL,
        ],
    ));
    assert_eq!(erased["erasure"]["state"], "ERASURE_STATE_DONE", "{erased}");
    assert!(
        !importer.is_finished(),
        "the import ended before the erasure"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&stdout_ok(&importer.join().unwrap())).unwrap();
    assert_eq!(num(&summary["accepted"]), Some(more), "{summary}");
    assert_eq!(record_count(&c.endpoints()), loaded - erased_records + more);

    // Every partition of node 1 moves to node 2 and back one, then node 2
    // restarts.
    let status = cluster_status(&c.endpoints());
    for p in status["partitions"].as_array().unwrap() {
        let (part, owner) = (num(&p["partition"]).unwrap(), num(&p["owner"]).unwrap());
        let to = if owner == 1 { "2" } else { "1" };
        stdout_ok(&kindred_at(
            &c.endpoints(),
            &["cluster", "move-partition", &part.to_string(), "--to", to],
        ));
    }
    c.restart(1);
    assert_eq!(record_count(&c.endpoints()), loaded - erased_records + more);
    let gone = kindred_at(&c.endpoints(), &["profile", "get", "--email", EMAIL]);
    assert!(!gone.status.success(), "{gone:?}");

    // No trace of the erased person, and nobody in plaintext.
    let mut values = personal_values(
        &sample_csv,
        &[
            "full_name",
            "given_name",
            "family_name",
            "email",
            "phone",
            "street",
            "national_id",
            "loyalty_id",
        ],
    );
    values.extend(personal_values(
        &csv,
        &["email", "phone", "street", "family_name"],
    ));
    assert!(values.iter().any(|v| v == EMAIL));
    let found = found_on_disk(&tmp.path().join("c"), &values);
    assert!(found.is_empty(), "in plaintext on disk: {found:?}");
}
