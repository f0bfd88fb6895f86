//! Segments on a real node: a definition written as TOML is created,
//! listed, shown with its size and its real-time and time-dependent
//! conditions, and its members and audience follow the customers' records,
//! events and consent; the standard segments are there from the start;
//! `validate` names what is wrong by its path; updates are versioned (a
//! stale version is ABORTED), a segment another one names cannot be
//! deleted, nor can a standard one; readers may read segments, not define
//! them. The change feed: a watcher sees a customer enter and leave as it
//! happens, a merge is reported as a merge (the survivor does not leave
//! and re-enter), and resuming from any cursor misses nothing and repeats
//! nothing.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use kindred_tests::{
    free_port, json, kindred_at, new_token, num, runtime, stdout_ok, wait_until, Access, Node,
};
use serde_json::Value;

const DAY: i64 = 86_400_000;

struct Setup {
    node: Node,
    writer: String,
    reader: String,
    admin: String,
}

fn start(dir: &Path) -> Setup {
    let (writer, w) = new_token("marketing", "writer");
    let (reader, r) = new_token("analyst", "reader");
    let (admin, a) = new_token("ops", "admin");
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, format!("{w}\n{r}\n{a}\n")).unwrap();
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
    Setup {
        node,
        writer,
        reader,
        admin,
    }
}

impl Setup {
    fn as_(&self, token: &str, args: &[&str]) -> Output {
        let mut all = vec!["--token", token, "--output", "json"];
        all.extend_from_slice(args);
        kindred_at(&self.node.endpoint(), &all)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.as_(&self.writer, args)
    }

    fn entity(&self, record: &str) -> u64 {
        num(&json(&self.run(&["profile", "get", "--record", record]))["entity_id"]).unwrap()
    }

    fn members(&self, segment: &str) -> Vec<u64> {
        let v = json(&self.run(&["segment", "members", segment, "--limit", "0"]));
        let mut ids: Vec<u64> = v["entity_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| num(i).unwrap())
            .collect();
        ids.sort();
        ids
    }

    /// Waits until a segment's stored members are `want` (membership is
    /// evaluated just after the write that changes it).
    fn members_become(&self, segment: &str, want: &[u64]) {
        let mut last = vec![];
        wait_until(
            Duration::from_secs(30),
            &format!("members of {segment}"),
            || {
                last = self.members(segment);
                last == want
            },
        );
    }

    fn write(&self, path: &Path, text: &str) -> String {
        std::fs::write(path, text).unwrap();
        path.to_str().unwrap().to_string()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn failed_with(out: &Output, code: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(err.contains(code), "expected {code}: {err}");
}

/// Ana: an order 40 days ago and email consent (active); Ben: a checkout
/// yesterday and no order (a prospect with an abandoned cart); Cleo:
/// nothing (a prospect).
fn load(s: &Setup) {
    let people = [
        (
            "crm:1",
            "Ana",
            "Lopes",
            "ana.lopes@example.com",
            Some("email_marketing=granted"),
        ),
        ("crm:2", "Ben", "Okafor", "ben.okafor@example.com", None),
        ("web:3", "Cleo", "Marsh", "cleo.marsh@example.com", None),
    ];
    for (rec, given, family, email, consent) in people {
        let (source, id) = rec.split_once(':').unwrap();
        let mut args = vec![
            "upsert",
            "--source",
            source,
            "--record-id",
            id,
            "--given-name",
            given,
            "--family-name",
            family,
            "--email",
            email,
        ];
        if let Some(c) = consent {
            args.extend(["--consent", c]);
        }
        stdout_ok(&s.run(&args));
    }
    let send = |rec: &str, id: &str, etype: &str, days_ago: i64, amount: Option<&str>| {
        let at = (now_ms() - days_ago * DAY).to_string();
        let mut args = vec![
            "event",
            "send",
            rec,
            "--event-id",
            id,
            "--type",
            etype,
            "--at",
            &at,
        ];
        if let Some(a) = amount {
            args.extend(["--amount", a, "--currency", "EUR"]);
        }
        stdout_ok(&s.run(&args));
    };
    send("crm:1", "o-1", "order_completed", 40, Some("25"));
    send("crm:2", "c-1", "checkout_started", 1, None);
}

const BIG_SPENDERS: &str = r#"
name = "big_spenders"
description = "Spent 10 or more and may be emailed"
[condition]
all = [
  { trait = { name = "total_spend", op = ">=", value = 10 } },
  { has_consent = "email_marketing" },
]
"#;

#[test]
fn a_segment_is_defined_from_a_file_and_its_members_follow_the_customers() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    load(&s);
    let (ana, ben, cleo) = (s.entity("crm:1"), s.entity("crm:2"), s.entity("web:3"));

    // The standard segments are there from the start.
    let mut prospects = vec![ben, cleo];
    prospects.sort();
    s.members_become("prospects", &prospects);
    s.members_become("abandoned_carts", &[ben]);
    s.members_become("active", &[ana]);

    // Readers may not define segments; writers may.
    let file = s.write(&tmp.path().join("big.toml"), BIG_SPENDERS);
    failed_with(
        &s.as_(&s.reader, &["segment", "create", &file]),
        "PERMISSION_DENIED",
    );
    let created = json(&s.run(&["segment", "create", &file]));
    assert_eq!(created["version"], "1", "{created}");
    assert_eq!(created["origin"], "api");
    failed_with(&s.run(&["segment", "create", &file]), "ALREADY_EXISTS");

    // Shown with its size and which conditions wait for the sweep.
    let shown = json(&s.as_(&s.reader, &["segment", "show", "big_spenders"]));
    assert_eq!(shown["size"], "1", "{shown}");
    assert_eq!(
        shown["segment"]["realtime_conditions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(s.members("big_spenders"), [ana]);
    let listed = json(&s.run(&["segment", "list"]));
    let names: Vec<&str> = listed["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"big_spenders") && names.contains(&"lapsed"),
        "{names:?}"
    );

    // The profile names its segments.
    let p = json(&s.run(&["profile", "get", "--record", "crm:1"]));
    let segs: Vec<&str> = p["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(segs, ["active", "big_spenders"]);

    // Ben orders: he leaves the prospects and the abandoned carts.
    let at = (now_ms() - DAY / 2).to_string();
    stdout_ok(&s.run(&[
        "event",
        "send",
        "crm:2",
        "--event-id",
        "o-2",
        "--type",
        "order_completed",
        "--amount",
        "5",
        "--at",
        &at,
    ]));
    s.members_become("prospects", &[cleo]);
    s.members_become("abandoned_carts", &[]);
    s.members_become("new_customers", &[ben]);

    // Audiences: CSV with the traits asked, and only the consenting for a
    // purpose.
    let csv = tmp.path().join("new.csv");
    stdout_ok(&s.run(&[
        "segment",
        "export",
        "new_customers",
        "--out",
        csv.to_str().unwrap(),
        "--traits",
        "orders,total_spend",
    ]));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        text,
        format!(
            "entity_id,given_name,family_name,email,phone,address,orders,total_spend\n\
             {ben},Ben,Okafor,ben.okafor@example.com,,,1,5\n"
        )
    );
    let jsonl = tmp.path().join("active.jsonl");
    stdout_ok(&s.run(&[
        "segment",
        "export",
        "new_customers",
        "--out",
        jsonl.to_str().unwrap(),
        "--purpose",
        "email_marketing",
    ]));
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), "");
}

#[test]
fn validation_versions_and_references_are_enforced() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let bad = s.write(
        &tmp.path().join("bad.toml"),
        r#"
name = "bad"
[condition]
all = [
  { trait = { name = "spend", op = ">", value = 1 } },
  { stage = "sleeping" },
  { has_consent = "fax" },
]
"#,
    );
    let out = s.run(&["segment", "validate", &bad]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "condition.all[0].trait.name",
            "condition.all[1].stage[0]",
            "condition.all[2].has_consent"
        ]
    );
    // Creating it is refused the same way, naming the first problem.
    let out = s.run(&["segment", "create", &bad]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("condition.all[0].trait.name"));
    // A syntax error is found before any call.
    let typo = s.write(
        &tmp.path().join("typo.toml"),
        "name = \"t\"\n[condition]\nstages = \"new\"\n",
    );
    let out = s.run(&["segment", "validate", &typo]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stages"),
        "{out:?}"
    );

    let big = s.write(&tmp.path().join("big.toml"), BIG_SPENDERS);
    stdout_ok(&s.run(&["segment", "create", &big]));
    let vip = s.write(
        &tmp.path().join("vip.toml"),
        "name = \"vip\"\ncondition = { all = [{ in_segment = \"big_spenders\" }, { stage = \"active\" }] }\n",
    );
    stdout_ok(&s.run(&["segment", "create", &vip]));
    failed_with(
        &s.run(&["segment", "delete", "big_spenders"]),
        "FAILED_PRECONDITION",
    );
    failed_with(
        &s.run(&["segment", "delete", "lapsed"]),
        "FAILED_PRECONDITION",
    );
    let out = s.as_(
        &s.admin,
        &[
            "trait",
            "define",
            "spend90",
            "--aggregate",
            "sum",
            "--event-type",
            "order_completed",
            "--window-days",
            "90",
        ],
    );
    stdout_ok(&out);
    let uses = s.write(
        &tmp.path().join("uses.toml"),
        "name = \"recent_spenders\"\ncondition = { trait = { name = \"spend90\", op = \">\", value = 0 } }\n",
    );
    let shown = json(&s.run(&["segment", "create", &uses]));
    assert_eq!(
        shown["time_conditions"].as_array().unwrap().len(),
        1,
        "{shown}"
    );
    failed_with(
        &s.as_(&s.admin, &["trait", "delete", "spend90"]),
        "FAILED_PRECONDITION",
    );
    stdout_ok(&s.run(&["segment", "delete", "recent_spenders"]));
    stdout_ok(&s.as_(&s.admin, &["trait", "delete", "spend90"]));

    // Versioned updates: a stale version is refused.
    let updated = json(&s.run(&["segment", "update", &big, "--expected-version", "1"]));
    assert_eq!(updated["version"], "2");
    failed_with(
        &s.run(&["segment", "update", &big, "--expected-version", "1"]),
        "ABORTED",
    );
    stdout_ok(&s.run(&["segment", "delete", "vip"]));
    stdout_ok(&s.run(&["segment", "delete", "big_spenders"]));
    let out = s.run(&["segment", "show", "big_spenders"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

/// (change, segment, entity, merged_into) of watch lines, in the proto3
/// JSON mapping.
fn changes(lines: &[Value]) -> Vec<(String, String, u64, u64)> {
    lines
        .iter()
        .map(|v| {
            (
                v["change"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("MEMBERSHIP_CHANGE_")
                    .to_string(),
                v["segment"].as_str().unwrap().to_string(),
                num(&v["entity_id"]).unwrap(),
                num(&v["merged_into"]).unwrap_or(0),
            )
        })
        .collect()
}

fn watch(s: &Setup, cursor: &str, limit: usize, names: &[&str]) -> Vec<Value> {
    let limit = limit.to_string();
    let mut args = vec!["segment", "watch", "--cursor", cursor, "--limit", &limit];
    args.extend_from_slice(names);
    stdout_ok(&s.run(&args))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_feed_reports_changes_as_they_happen_and_resumes_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rt = runtime();
    let client = rt.block_on(s.node.client());
    let file = s.write(&tmp.path().join("big.toml"), BIG_SPENDERS);
    stdout_ok(&s.run(&["segment", "create", &file]));

    // A watcher from now on sees Ana enter when her order and consent
    // arrive, and a merge of a second record of hers reported as a merge.
    let mut stream = rt
        .block_on(client.watch_segments(&["big_spenders".to_string()], "now"))
        .unwrap();
    load(&s);
    let ana = s.entity("crm:1");
    type Watch = tonic::Streaming<kindred_client::v1::SegmentsWatchResponse>;
    let next = |stream: &mut Watch| -> kindred_client::v1::SegmentsWatchResponse {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(30), futures::StreamExt::next(stream))
                .await
                .expect("a change within 30 s")
                .unwrap()
                .unwrap()
        })
    };
    let entered = next(&mut stream);
    assert_eq!(
        (entered.segment.as_str(), entered.entity_id),
        ("big_spenders", ana)
    );
    assert_eq!(
        entered.change,
        kindred_client::v1::MembershipChange::Entered as i32
    );
    // A shop record of Ana's with its own order: once it joins her
    // customer the shop record's customer (a member by then or not) is
    // reported merged, never Ana leaving.
    stdout_ok(&s.run(&[
        "upsert",
        "--source",
        "shop",
        "--record-id",
        "9",
        "--given-name",
        "Ana",
        "--family-name",
        "Lopes",
        "--email",
        "ana.lopes@example.com",
    ]));
    s.members_become("big_spenders", &[ana]);
    let (ben, cleo) = (s.entity("crm:2"), s.entity("web:3"));
    let mut prospects = vec![ben, cleo];
    prospects.sort();
    s.members_become("prospects", &prospects);
    s.members_become("abandoned_carts", &[ben]);
    s.members_become("active", &[ana]);

    // Resuming: the changes kept (at least the five entries above), read
    // whole and in two parts from the cursor in between, are the same
    // list, with no repeats.
    let all = watch(&s, "start", 5, &[]);
    let k = all.len() / 2;
    let first = watch(&s, "start", k, &[]);
    let cursor = first.last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = watch(&s, &cursor, all.len() - k, &[]);
    let mut joined = first.clone();
    joined.extend(rest);
    assert_eq!(changes(&joined), changes(&all));
    let ana_left = changes(&all)
        .iter()
        .any(|(c, seg, e, _)| c == "LEFT" && seg == "big_spenders" && *e == ana);
    assert!(!ana_left, "{all:?}");
    // A bad cursor is refused, naming it.
    let out = s.run(&["segment", "watch", "--cursor", "c1.x", "--limit", "1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
