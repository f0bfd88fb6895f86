//! Consent end to end: decisions arrive through the column mapping, with
//! an upserted record and through `kindred privacy consent`; the profile
//! combines them (the latest decision wins, sources disagreeing at the same
//! time are a conflict, which is not granted); an audience export for a
//! purpose leaves out whoever has not granted it; a split gives each part
//! its own records' consent back; a later upsert without decisions
//! withdraws nothing; a decision for an unknown purpose is refused, naming
//! it, without costing the rest of the import.

use std::path::Path;
use std::time::Duration;

use kindred_tests::{free_port, json, kindred_at, new_token, num, stdout_ok, Access, Node};
use serde_json::Value;

struct Setup {
    node: Node,
    writer: String,
}

fn start(dir: &Path) -> Setup {
    let (writer, w) = new_token("loader", "writer");
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, format!("{w}\n")).unwrap();
    let node = Node::spawn(
        &dir.join("data"),
        free_port(),
        &["--tokens-file", tokens.to_str().unwrap()],
    )
    .with_access(Access {
        ca: None,
        token: Some(writer.clone()),
    });
    node.wait_ready(Duration::from_secs(60));
    Setup { node, writer }
}

impl Setup {
    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["--token", self.writer.as_str(), "--output", "json"];
        all.extend_from_slice(args);
        kindred_at(&self.node.endpoint(), &all)
    }

    fn profile(&self, record: &str) -> Value {
        json(&self.run(&["profile", "get", "--record", record]))
    }

    /// The audience for a purpose: the entity ids exported.
    fn audience(&self, purpose: &str) -> Vec<u64> {
        let out = stdout_ok(&self.run(&["export", "--profiles", "--purpose", purpose]));
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                num(&v["entity_id"]).unwrap()
            })
            .collect()
    }
}

/// (status, granted, the records that decided) of a profile's purpose.
fn consent(profile: &Value, purpose: &str) -> (String, bool, Vec<String>) {
    let c = profile["consent"]
        .as_array()
        .unwrap_or_else(|| panic!("no consent on {profile}"))
        .iter()
        .find(|c| c["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no {purpose} on {profile}"));
    let by = c["decided_by"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|d| {
                    format!(
                        "{}:{}",
                        d["record"]["source"].as_str().unwrap(),
                        d["record"]["record_id"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (
        c["status"]
            .as_str()
            .unwrap_or("CONSENT_STATUS_UNSPECIFIED")
            .to_string(),
        c["granted"].as_bool().unwrap_or(false),
        by,
    )
}

const MAPPING: &str = r#"
record_id = "id"
source = "source"
[fields]
given_name = "given"
family_name = "family"
email = "email"
date_of_birth = "dob"
observed_at = "seen"
[consent]
email_marketing = "email_ok"
profiling = { column = "profiling", at = "profiling_at" }
"#;

const CSV: &str = "\
source,id,given,family,email,dob,seen,email_ok,profiling,profiling_at
crm,1,Ann,Lee,ann.lee@example.com,1980-04-02,2026-01-10,yes,granted,2026-02-01
web,9,Ann,Lee,ann.lee@example.com,1980-04-02,2026-03-05,unsubscribed,denied,2026-02-01
crm,2,Bob,Stone,bob.stone@example.com,1975-09-30,2026-01-10,maybe,,
";

fn import(s: &Setup, dir: &Path) {
    let (csv, mapping) = (dir.join("people.csv"), dir.join("mapping.toml"));
    std::fs::write(&csv, CSV).unwrap();
    std::fs::write(&mapping, MAPPING).unwrap();
    let out = s.run(&[
        "import",
        csv.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--no-progress",
    ]);
    // One row is rejected (exit 4), naming its consent column: the rest
    // are imported.
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("consent.email_marketing"), "{all}");
}

#[test]
fn consent_is_combined_on_the_profile_and_a_split_gives_each_part_its_own_back() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    import(&s, tmp.path());
    // The row with a bad consent value was refused and nothing of it kept.
    let missing = s.run(&["profile", "get", "--record", "crm:2"]);
    assert_eq!(missing.status.code(), Some(3), "{missing:?}");

    // crm:1 and web:9 are one customer. Email: web withdrew later than crm
    // granted. Profiling: both decided on 2026-02-01 and disagree.
    let p = s.profile("crm:1");
    assert_eq!(p["records"].as_array().unwrap().len(), 2, "{p}");
    let id = num(&p["entity_id"]).unwrap();
    assert_eq!(
        consent(&p, "email_marketing"),
        (
            "CONSENT_STATUS_WITHDRAWN".into(),
            false,
            vec!["web:9".into()]
        )
    );
    let (status, granted, by) = consent(&p, "profiling");
    assert_eq!(
        (status.as_str(), granted),
        ("CONSENT_STATUS_CONFLICT", false)
    );
    assert_eq!(by.len(), 2, "{p}");
    assert_eq!(consent(&p, "sms_marketing").0, "CONSENT_STATUS_UNSPECIFIED");
    assert!(!s.audience("email_marketing").contains(&id));

    // The API: web grants SMS.
    stdout_ok(&s.run(&[
        "privacy",
        "consent",
        "web:9",
        "--set",
        "sms_marketing=granted",
        "--at",
        "2026-03-06",
    ]));
    let p = s.profile("web:9");
    assert_eq!(consent(&p, "sms_marketing").0, "CONSENT_STATUS_GRANTED");
    assert!(s.audience("sms_marketing").contains(&id));

    // web:9 becomes someone else: a split. Each part has its records'
    // decisions, nothing of the other's.
    stdout_ok(&s.run(&[
        "upsert",
        "--source",
        "web",
        "--record-id",
        "9",
        "--given-name",
        "Carla",
        "--family-name",
        "Mendes",
        "--email",
        "carla.mendes@example.org",
        "--dob",
        "1992-12-24",
    ]));
    let crm = s.profile("crm:1");
    let web = s.profile("web:9");
    assert_ne!(crm["entity_id"], web["entity_id"]);
    assert_eq!(
        consent(&crm, "email_marketing"),
        ("CONSENT_STATUS_GRANTED".into(), true, vec!["crm:1".into()])
    );
    assert_eq!(consent(&crm, "profiling").0, "CONSENT_STATUS_GRANTED");
    assert_eq!(
        consent(&crm, "sms_marketing").0,
        "CONSENT_STATUS_UNSPECIFIED"
    );
    assert_eq!(
        consent(&web, "email_marketing").0,
        "CONSENT_STATUS_WITHDRAWN"
    );
    assert_eq!(consent(&web, "profiling").0, "CONSENT_STATUS_DENIED");
    // The upsert carried no decisions: web's SMS grant is still there.
    assert_eq!(consent(&web, "sms_marketing").0, "CONSENT_STATUS_GRANTED");
    let audience = s.audience("email_marketing");
    assert!(audience.contains(&num(&crm["entity_id"]).unwrap()));
    assert!(!audience.contains(&num(&web["entity_id"]).unwrap()));
}

#[test]
fn a_decision_for_an_unknown_purpose_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let out = s.run(&[
        "upsert",
        "--source",
        "crm",
        "--record-id",
        "5",
        "--given-name",
        "Dan",
        "--consent",
        "telepathy=granted",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("telepathy") && err.contains("purpose"),
        "{err}"
    );
    // Refused whole: the record was not written.
    let missing = s.run(&["profile", "get", "--record", "crm:5"]);
    assert_eq!(missing.status.code(), Some(3), "{missing:?}");

    // Through the API, one bad decision costs only itself.
    stdout_ok(&s.run(&[
        "upsert",
        "--source",
        "crm",
        "--record-id",
        "5",
        "--given-name",
        "Dan",
    ]));
    let out = s.run(&[
        "privacy",
        "consent",
        "crm:5",
        "--set",
        "telepathy=granted",
        "--set",
        "profiling=granted",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = r["results"].as_array().unwrap();
    assert!(results[0]["error"].as_str().unwrap().contains("telepathy"));
    assert!(results[1].get("error").is_none_or(|e| e == ""), "{r}");
    let p = s.profile("crm:5");
    assert_eq!(consent(&p, "profiling").0, "CONSENT_STATUS_GRANTED");

    // Undated decisions (dated when they arrive) that repeat the record's
    // latest one are not stored again: a file re-sent every night adds
    // nothing; a change is stored.
    let decisions = || {
        let v = json(&s.run(&["event", "list", "--record", "crm:5"]));
        v["events"]
            .as_array()
            .map_or(0, |e| e.iter().filter(|e| e["type"] == "consent").count())
    };
    assert_eq!(decisions(), 1);
    let upsert = |status: &str| {
        let flag = format!("profiling={status}");
        stdout_ok(&s.run(&[
            "upsert",
            "--source",
            "crm",
            "--record-id",
            "5",
            "--given-name",
            "Dan",
            "--consent",
            &flag,
        ]));
    };
    upsert("granted");
    upsert("granted");
    assert_eq!(decisions(), 1);
    upsert("withdrawn");
    upsert("withdrawn");
    assert_eq!(decisions(), 2);
    assert_eq!(
        consent(&s.profile("crm:5"), "profiling").0,
        "CONSENT_STATUS_WITHDRAWN"
    );
}
