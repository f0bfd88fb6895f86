//! Erasure through `kindred privacy`: a person named by their email is
//! removed with every record of their customer and their events; their
//! identifiers are suppressed, so importing them again is refused (naming
//! the suppression, not the value) until the privacy role lifts it; the
//! rest of the data is untouched; only the privacy role may erase.

use std::path::Path;
use std::time::Duration;

use kindred_tests::{
    free_port, json, kindred_at, master_key_file, new_token, num, repo, stdout_ok, Access, Node,
};

struct Setup {
    node: Node,
    writer: String,
    privacy: String,
}

fn start(dir: &Path) -> Setup {
    start_with(dir, &[])
}

/// A node with a writer and a privacy token, its own key file and `extra`
/// flags.
fn start_with(dir: &Path, extra: &[&str]) -> Setup {
    let (writer, w) = new_token("loader", "writer");
    let (privacy, p) = new_token("dpo", "privacy");
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, format!("{w}\n{p}\n")).unwrap();
    let key = dir.join("master.key");
    master_key_file(&key);
    let mut flags = vec![
        "--tokens-file",
        tokens.to_str().unwrap(),
        "--master-key-file",
        key.to_str().unwrap(),
    ];
    flags.extend_from_slice(extra);
    let node = Node::spawn(&dir.join("data"), free_port(), &flags).with_access(Access {
        ca: None,
        token: Some(writer.clone()),
    });
    node.wait_ready(Duration::from_secs(60));
    Setup {
        node,
        writer,
        privacy,
    }
}

impl Setup {
    fn as_(&self, token: &str, args: &[&str]) -> std::process::Output {
        let mut all = vec!["--token", token, "--output", "json"];
        all.extend_from_slice(args);
        kindred_at(&self.node.endpoint(), &all)
    }

    /// Imports the sample records and one event of Nicole Woods'
    /// loyalty record.
    fn load_sample(&self) {
        let sample = repo().join("client/data/sample");
        stdout_ok(&self.as_(
            &self.writer,
            &[
                "import",
                sample.join("records.csv").to_str().unwrap(),
                "--mapping",
                sample.join("mapping.toml").to_str().unwrap(),
                "--no-progress",
            ],
        ));
        stdout_ok(&self.as_(
            &self.writer,
            &[
                "event",
                "send",
                "loyalty:loyalty-834337414",
                "--event-id",
                "t-1",
                "--type",
                "support_ticket",
                "--at",
                "2026-11-01T10:00:00Z",
            ],
        ));
    }

    fn records(&self) -> u64 {
        num(&json(&self.as_(&self.writer, &["stats"]))["records"]).unwrap()
    }
}

const EMAIL: &str = "nicole.woods71@yahoo.com";

#[test]
fn an_erased_person_is_gone_and_stays_out_until_the_suppression_is_lifted() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    s.load_sample();
    let profile = json(&s.as_(&s.writer, &["profile", "get", "--email", EMAIL]));
    let records: Vec<String> = profile["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["source"].as_str().unwrap(),
                r["record_id"].as_str().unwrap()
            )
        })
        .collect();
    assert!(!records.is_empty(), "{profile}");
    let before = s.records();

    // Only the privacy role erases.
    let denied = s.as_(&s.writer, &["privacy", "erase", "--email", EMAIL]);
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("PERMISSION_DENIED"),
        "{denied:?}"
    );

    let erased = json(&s.as_(&s.privacy, &["privacy", "erase", "--email", EMAIL]));
    let e = &erased["erasure"];
    assert_eq!(e["state"], "ERASURE_STATE_DONE", "{erased}");
    assert_eq!(e["records_erased"], records.len() as u64, "{erased}");
    assert_eq!(e["requested_by"], "dpo");
    assert!(
        e["identifiers_suppressed"].as_u64().unwrap() >= 2,
        "{erased}"
    );

    // Gone: the profile, every record, the events; nothing else.
    let gone = s.as_(&s.writer, &["profile", "get", "--email", EMAIL]);
    assert!(!gone.status.success(), "{gone:?}");
    for r in &records {
        assert!(
            !s.as_(&s.writer, &["get", r]).status.success(),
            "{r} still there"
        );
    }
    assert_eq!(s.records(), before - records.len() as u64);

    // Listed, naming no one.
    let list = json(&s.as_(&s.privacy, &["privacy", "erasures"]));
    assert_eq!(list["erasures"].as_array().unwrap().len(), 1, "{list}");
    let sup = s.as_(&s.privacy, &["privacy", "suppressions"]);
    let sup_text = String::from_utf8_lossy(&sup.stdout).to_lowercase();
    assert!(
        !sup_text.contains("nicole") && !sup_text.contains("5636958"),
        "{sup_text}"
    );

    // The same person again is refused, naming the suppression; someone
    // else is not.
    let upsert = |id: &str, email: &str| {
        s.as_(
            &s.writer,
            &[
                "upsert",
                "--source",
                "web",
                "--record-id",
                id,
                "--given-name",
                "Nicole",
                "--family-name",
                "Woods",
                "--email",
                email,
            ],
        )
    };
    let refused = upsert("w1", EMAIL);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("suppressed") && err.contains("erasure"),
        "{err}"
    );
    assert!(
        !err.contains(EMAIL),
        "the refusal does not echo the value: {err}"
    );
    stdout_ok(&upsert("w2", "someone.else@example.com"));

    // Lifted by the privacy role: accepted again.
    let lifted = json(&s.as_(&s.privacy, &["privacy", "lift", "--email", EMAIL]));
    assert_eq!(lifted["lifted"], 1, "{lifted}");
    stdout_ok(&upsert("w1", EMAIL));

    // The erased record's id used again starts afresh: its events went
    // with it.
    stdout_ok(&s.as_(
        &s.writer,
        &[
            "upsert",
            "--source",
            "loyalty",
            "--record-id",
            "loyalty-834337414",
            "--given-name",
            "Nicole",
            "--family-name",
            "Woods",
        ],
    ));
    let events = s.as_(
        &s.writer,
        &["event", "list", "--record", "loyalty:loyalty-834337414"],
    );
    let text = stdout_ok(&events);
    assert!(
        !text.contains("t-1"),
        "the event went with its record: {text}"
    );
}

/// The emails and family names of every sample record, by record.
fn sample_people() -> Vec<(String, String, String)> {
    let mut r = csv::Reader::from_path(repo().join("client/data/sample/records.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (source, id, email, phone) = (col("source"), col("record_id"), col("email"), col("phone"));
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (
                format!("{}:{}", &row[source], &row[id]),
                row[email].trim().to_lowercase(),
                row[phone].chars().filter(char::is_ascii_digit).collect(),
            )
        })
        .collect()
}

#[test]
fn a_subject_export_lists_everything_held_about_the_person_and_nothing_about_anyone_else() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    s.load_sample();
    stdout_ok(&s.as_(
        &s.writer,
        &[
            "privacy",
            "consent",
            "loyalty:loyalty-834337414",
            "--set",
            "email_marketing=withdrawn",
            "--at",
            "2026-10-01",
        ],
    ));

    // Subject access needs the privacy role.
    let denied = s.as_(&s.writer, &["privacy", "export", "--email", EMAIL]);
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("PERMISSION_DENIED"),
        "{denied:?}"
    );

    let file = tmp.path().join("subject.json");
    stdout_ok(&s.as_(
        &s.privacy,
        &[
            "privacy",
            "export",
            "--email",
            EMAIL,
            "--out",
            file.to_str().unwrap(),
        ],
    ));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o077,
        0,
        "the document is its owner's only: {mode:o}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();

    // Everything about the person: their records, the event, the consent
    // decision, the history, why the records were linked.
    let records: Vec<String> = doc["profile"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["source"].as_str().unwrap(),
                r["record_id"].as_str().unwrap()
            )
        })
        .collect();
    assert!(records.contains(&"loyalty:loyalty-834337414".to_string()));
    let events = doc["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["event_id"] == "t-1"), "{doc}");
    assert!(events.iter().any(|e| e["type"] == "consent"), "{doc}");
    let decisions = doc["consent_decisions"].as_array().unwrap();
    assert_eq!(decisions[0]["status"], "CONSENT_STATUS_WITHDRAWN", "{doc}");
    assert!(!doc["history"]["events"].as_array().unwrap().is_empty());
    // Nicole has a loyalty and a CRM record: the link between them is
    // explained.
    assert!(records.len() >= 2, "{records:?}");
    assert!(!doc["links"].as_array().unwrap().is_empty(), "{doc}");
    assert!(text.to_lowercase().contains(EMAIL));

    // Nothing about anyone else: no other record's email or phone.
    let people = sample_people();
    let mine: Vec<&(String, String, String)> =
        people.iter().filter(|p| records.contains(&p.0)).collect();
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let lower = text.to_lowercase();
    for (rec, email, phone) in people.iter().filter(|p| !records.contains(&p.0)) {
        if !email.is_empty() && !mine.iter().any(|m| &m.1 == email) {
            assert!(
                !lower.contains(email.as_str()),
                "{rec}'s email in the export"
            );
        }
        if phone.len() >= 8 && !mine.iter().any(|m| &m.2 == phone) {
            assert!(
                !digits.contains(phone.as_str()),
                "{rec}'s phone in the export"
            );
        }
    }
}

#[test]
fn retention_erases_the_records_not_observed_within_their_source_s_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("node.toml");
    std::fs::write(
        &config,
        "[privacy.retention]\ndefault_days = 365\nsources = { archive = 0 }\n",
    )
    .unwrap();
    let s = start_with(tmp.path(), &["--config", config.to_str().unwrap()]);
    let upsert = |source: &str, id: &str, given: &str, seen: Option<&str>| {
        let mut args = vec![
            "upsert",
            "--source",
            source,
            "--record-id",
            id,
            "--given-name",
            given,
            "--family-name",
            "Quint",
        ];
        if let Some(seen) = seen {
            args.extend(["--observed-at", seen]);
        }
        stdout_ok(&s.as_(&s.writer, &args));
    };
    upsert("web", "old", "Olive", Some("2019-03-01"));
    upsert("web", "new", "Nora", None);
    upsert("archive", "kept", "Kate", Some("2001-01-01"));

    // Only the privacy role applies it.
    let denied = s.as_(&s.writer, &["privacy", "retention"]);
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("PERMISSION_DENIED"),
        "{denied:?}"
    );
    let r = json(&s.as_(&s.privacy, &["privacy", "retention"]));
    let e = &r["erasure"];
    assert_eq!(e["state"], "ERASURE_STATE_DONE", "{r}");
    assert_eq!(e["requested_by"], "retention", "{r}");
    assert_eq!(e["records_erased"], 1, "{r}");
    assert!(!s.as_(&s.writer, &["get", "web:old"]).status.success());
    stdout_ok(&s.as_(&s.writer, &["get", "web:new"]));
    stdout_ok(&s.as_(&s.writer, &["get", "archive:kept"]));
    // Reported among the erasures; nothing is suppressed by retention.
    let list = json(&s.as_(&s.privacy, &["privacy", "erasures"]));
    assert_eq!(list["erasures"][0]["requested_by"], "retention", "{list}");
    let sup = json(&s.as_(&s.privacy, &["privacy", "suppressions"]));
    assert!(
        sup["suppressions"].as_array().is_none_or(Vec::is_empty),
        "{sup}"
    );
    upsert("web", "old", "Olive", None);
    // Nothing more is due.
    let again = json(&s.as_(&s.privacy, &["privacy", "retention"]));
    assert!(again.get("erasure").is_none(), "{again}");
}
