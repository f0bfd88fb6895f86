//! Triggers defined through the API on a real node: a writer defines one
//! with the CLI (a reader may only list), it is versioned (a stale version
//! is ABORTED) and checked field by field, the configured abandoned cart
//! cannot be redefined or deleted; it ignores history that occurred before
//! it was defined, fires once for an event after, is cancelled by its
//! cancel event with the same value, and its firing is in the feed; once
//! deleted it is gone from the list.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use kindred_tests::{
    free_port, json, kindred_at, new_token, num, stdout_ok, wait_until, Access, Node,
};
use serde_json::Value;

struct Setup {
    node: Node,
    writer: String,
    reader: String,
}

fn start(dir: &Path) -> Setup {
    let (writer, w) = new_token("marketing", "writer");
    let (reader, r) = new_token("analyst", "reader");
    let tokens = dir.join("tokens");
    std::fs::write(&tokens, format!("{w}\n{r}\n")).unwrap();
    let config = dir.join("kindred.toml");
    std::fs::write(&config, "[activity]\ntrigger_tick_seconds = 1\n").unwrap();
    let node = Node::spawn(
        &dir.join("data"),
        free_port(),
        &[
            "--tokens-file",
            tokens.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
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
        reader,
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

    fn view(&self, record: &str, sku: &str, id: &str, etype: &str, at_ms: i64) {
        let (at, prop) = (at_ms.to_string(), format!("sku={sku}"));
        stdout_ok(&self.run(&[
            "event",
            "send",
            record,
            "--event-id",
            id,
            "--type",
            etype,
            "--at",
            &at,
            "--prop",
            &prop,
        ]));
    }

    /// The values of the trigger open on a record's customer.
    fn open(&self, record: &str, trigger: &str) -> Vec<String> {
        let p = json(&self.run(&["profile", "get", "--record", record]));
        let open = p["open_triggers"].as_array().cloned().unwrap_or_default();
        open.iter()
            .filter(|t| t["trigger"] == trigger)
            .map(|t| t["match_value"].as_str().unwrap().to_string())
            .collect()
    }

    fn listed(&self) -> Vec<Value> {
        let v = json(&self.as_(&self.reader, &["trigger", "list"]));
        v["triggers"].as_array().cloned().unwrap_or_default()
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

const BROWSE: [&str; 10] = [
    "browse_abandon",
    "--start",
    "product_viewed",
    "--cancel",
    "order_completed",
    "--match-on",
    "sku",
    "--after-seconds",
    "1",
    "--late-hours=1",
];

fn with(cmd: &str, extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["trigger"];
    v.push(if cmd == "create" { "create" } else { "update" });
    v.extend_from_slice(&BROWSE);
    v.extend_from_slice(extra);
    v
}

#[test]
fn a_trigger_defined_through_the_api_fires_for_new_events_only_and_is_versioned() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    stdout_ok(&s.run(&[
        "upsert",
        "--source",
        "web",
        "--record-id",
        "1",
        "--given-name",
        "Ana",
        "--family-name",
        "Lopes",
        "--email",
        "ana.lopes@example.com",
    ]));
    // History: a view that occurred before the trigger existed.
    s.view("web:1", "s0", "v0", "product_viewed", now_ms() - 60_000);

    failed_with(&s.as_(&s.reader, &with("create", &[])), "PERMISSION_DENIED");
    failed_with(
        &s.run(&with("create", &["--cooldown-hours", "0"])),
        "trigger.cooldown_hours",
    );
    let created = json(&s.run(&with("create", &[])));
    assert_eq!(
        (&created["version"], &created["origin"]),
        (&Value::from("1"), &Value::from("api")),
        "{created}"
    );
    let since = num(&created["active_from_ms"]).unwrap() as i64;
    failed_with(&s.run(&with("create", &[])), "ALREADY_EXISTS");
    let mut cart = with("create", &[]);
    cart[2] = "abandoned_cart";
    failed_with(&s.run(&cart), "FAILED_PRECONDITION");
    let names: Vec<String> = s.listed().iter().map(|t| t["name"].to_string()).collect();
    assert_eq!(names, ["\"abandoned_cart\"", "\"browse_abandon\""]);

    // The old view opens nothing; a new one opens it, and a view cancelled
    // by its order does not.
    assert!(s.open("web:1", "browse_abandon").is_empty());
    let now = now_ms().max(since);
    s.view("web:1", "s1", "v1", "product_viewed", now);
    s.view("web:1", "s2", "v2", "product_viewed", now);
    s.view("web:1", "s2", "o2", "order_completed", now);
    wait_until(Duration::from_secs(60), "the trigger to fire", || {
        s.open("web:1", "browse_abandon").is_empty()
    });
    let feed = stdout_ok(&s.run(&[
        "segment",
        "watch",
        "--trigger",
        "browse_abandon",
        "--cursor",
        "start",
        "--limit",
        "1",
    ]));
    let fired: Value = serde_json::from_str(feed.lines().next().unwrap()).unwrap();
    assert_eq!(fired["fired"]["match_value"], "s1", "{fired}");
    assert_eq!(fired["fired"]["trigger"], "browse_abandon");

    // Versioned updates keep the time it came into force.
    failed_with(
        &s.run(&with("update", &["--expected-version", "7"])),
        "ABORTED",
    );
    let updated = json(&s.run(&with("update", &["--expected-version", "1"])));
    assert_eq!(updated["version"], "2");
    assert_eq!(num(&updated["active_from_ms"]).unwrap() as i64, since);

    failed_with(
        &s.run(&["trigger", "delete", "abandoned_cart"]),
        "FAILED_PRECONDITION",
    );
    stdout_ok(&s.run(&["trigger", "delete", "browse_abandon"]));
    failed_with(
        &s.run(&["trigger", "delete", "browse_abandon"]),
        "NOT_FOUND",
    );
    assert_eq!(s.listed().len(), 1);
}
