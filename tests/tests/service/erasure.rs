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
    let (writer, w) = new_token("loader", "writer");
    let (privacy, p) = new_token("dpo", "privacy");
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, format!("{w}\n{p}\n")).unwrap();
    let key = dir.join("master.key");
    master_key_file(&key);
    let node = Node::spawn(
        &dir.join("data"),
        free_port(),
        &[
            "--tokens-file",
            tokens.to_str().unwrap(),
            "--master-key-file",
            key.to_str().unwrap(),
        ],
    )
    .with_access(Access {
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

    fn records(&self) -> u64 {
        num(&json(&self.as_(&self.writer, &["stats"]))["records"]).unwrap()
    }
}

const EMAIL: &str = "nicole.woods71@yahoo.com";

#[test]
fn an_erased_person_is_gone_and_stays_out_until_the_suppression_is_lifted() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let sample = repo().join("client/data/sample");
    stdout_ok(&s.as_(
        &s.writer,
        &[
            "import",
            sample.join("records.csv").to_str().unwrap(),
            "--mapping",
            sample.join("mapping.toml").to_str().unwrap(),
            "--no-progress",
        ],
    ));
    stdout_ok(&s.as_(
        &s.writer,
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
