//! Personal data at rest: after importing people and their events (and
//! training a model on them), no
//! file under the node's data directory (RocksDB tables, write-ahead logs,
//! the Raft metadata, the audit log) holds any of their emails, phones,
//! names, streets or identifiers in plaintext, while the node serves them
//! as before, also after a restart; and the same import with
//! `--plaintext-at-rest` does hold them (so the scan can fail).

use std::collections::BTreeSet;
use std::path::Path;

use kindred_tests::{found_on_disk, json, kindred, master_key_file, repo, stdout_ok, Node};

/// Values of the sample people that must never be on disk in plaintext.
/// Short values (under 7 bytes) are left out: they would match by chance
/// in megabytes of ciphertext.
fn personal_values(csv: &Path) -> BTreeSet<String> {
    let mut r = csv::Reader::from_path(csv).unwrap();
    let headers = r.headers().unwrap().clone();
    let personal = [
        "full_name",
        "given_name",
        "family_name",
        "email",
        "phone",
        "street",
        "national_id",
        "loyalty_id",
    ];
    let mut out = BTreeSet::new();
    for row in r.records() {
        let row = row.unwrap();
        for (h, v) in headers.iter().zip(row.iter()) {
            if !personal.contains(&h) {
                continue;
            }
            let v = v.trim();
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            for form in [v.to_string(), v.to_lowercase(), digits] {
                if form.len() >= 7 && (h == "phone" || form.chars().any(char::is_alphabetic)) {
                    out.insert(form);
                }
            }
        }
    }
    out
}

/// Imports the sample records and, for a hundred of them, an event whose
/// properties carry the person's email.
fn load(node: &Node, tmp: &Path) {
    let sample = repo().join("client/data/sample");
    let csv = sample.join("records.csv");
    stdout_ok(&kindred(
        node,
        &[
            "import",
            csv.to_str().unwrap(),
            "--mapping",
            sample.join("mapping.toml").to_str().unwrap(),
            "--no-progress",
        ],
    ));
    let mut r = csv::Reader::from_path(&csv).unwrap();
    let mut events = String::from("source,record_id,event_id,type,occurred_at,contact\n");
    for (i, row) in r.records().take(100).enumerate() {
        let row = row.unwrap();
        events.push_str(&format!(
            "{},{},e-{i},support_ticket,2026-11-0{}T10:00:00Z,{}\n",
            &row[0],
            &row[1],
            1 + i % 9,
            &row[7]
        ));
    }
    let (events_csv, mapping) = (tmp.join("events.csv"), tmp.join("events.toml"));
    std::fs::write(&events_csv, events).unwrap();
    std::fs::write(
        &mapping,
        "record_id = \"record_id\"\nevent_id = \"event_id\"\nsource = \"source\"\n\
         type = \"type\"\noccurred_at = \"occurred_at\"\n[properties]\ncontact = \"contact\"\n",
    )
    .unwrap();
    stdout_ok(&kindred(
        node,
        &[
            "events",
            "import",
            events_csv.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--no-progress",
        ],
    ));
}

#[test]
fn no_personal_value_is_written_in_plaintext() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("master.key");
    master_key_file(&key);
    let data = tmp.path().join("data");
    let flags = ["--master-key-file", key.to_str().unwrap()];
    let mut node = Node::start_with(&data, &flags);
    load(&node, tmp.path());
    // A trained model's term-frequency tables list frequent names and
    // areas: stored (partitions, the Raft log) keyed, never as values.
    stdout_ok(&kindred(&node, &["train"]));
    let values = personal_values(&repo().join("client/data/sample/records.csv"));
    assert!(values.len() > 3000, "{} values", values.len());

    // While serving (live WAL and memtables), and after a restart, which
    // flushes the memtables into tables.
    let found = found_on_disk(&data, &values);
    assert!(found.is_empty(), "in plaintext on disk: {found:?}");
    node.stop();
    let node = Node::start_with(&data, &flags);
    let found = found_on_disk(&data, &values);
    assert!(found.is_empty(), "in plaintext on disk: {found:?}");

    // The node still reads what it sealed: lookups by email and the events.
    let profile = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "profile",
            "get",
            "--email",
            "nicole.woods71@yahoo.com",
        ],
    ));
    let text = profile.to_string();
    assert!(
        text.contains("Nicole") && text.contains("Woods"),
        "{profile}"
    );
    assert!(
        text.contains("support_ticket"),
        "the event is on the profile: {profile}"
    );
    // Lookups leave no value behind either (the audit log, caches).
    let found = found_on_disk(&data, &values);
    assert!(found.is_empty(), "in plaintext on disk: {found:?}");
}

#[test]
fn the_same_import_in_plaintext_mode_is_found_by_the_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut node = Node::start_with(&data, &["--plaintext-at-rest"]);
    load(&node, tmp.path());
    node.stop();
    let values = personal_values(&repo().join("client/data/sample/records.csv"));
    let found = found_on_disk(&data, &values);
    assert!(
        found.len() * 2 > values.len(),
        "the scan finds plaintext when it is there: {} of {}",
        found.len(),
        values.len()
    );
    // A directory written in plaintext is never opened as encrypted (or
    // the other way round): the node exits, naming the mismatch.
    let mut sealed = std::process::Command::new(kindred_tests::bin("kindred-node"))
        .args(["--data-dir", data.to_str().unwrap(), "--listen"])
        .arg(format!("127.0.0.1:{}", kindred_tests::free_port()))
        .arg("--internal-listen")
        .arg(format!("127.0.0.1:{}", kindred_tests::free_port()))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited = kindred_tests::poll_until(std::time::Duration::from_secs(60), || {
        sealed.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = sealed.kill();
    }
    let out = sealed.wait_with_output().unwrap();
    assert!(exited && !out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plaintext"), "{err}");
}

#[test]
fn a_standalone_node_without_a_key_file_creates_a_private_one() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut node = Node::start(&data);
    let key = data.join("master.key");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains("kindred-keys 1"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "key file mode {mode:o}");
    }
    node.stop();
    let log = std::fs::read_to_string(&node.log).unwrap();
    assert!(log.contains("--master-key-file"), "the node warns: {log}");
}
