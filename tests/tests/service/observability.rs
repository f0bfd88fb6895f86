//! What an operator and a client program see of each call: the metrics
//! endpoint counts calls by method and status, records applied and
//! entities by size; every call gets a request id back, and every error
//! is logged under that id without the personal values of its message; a
//! bad field comes back as a `google.rpc.BadRequest` field violation.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use kindred_proto::v1::records_client::RecordsClient;
use kindred_proto::v1::{Record, UpsertRequest};
use kindred_tests::{
    free_port, kindred, metric_sample, scrape_metrics, stdout_ok, wait_until, Node,
};
use tonic_types::StatusExt;

fn upsert(node: &Node, id: &str, email: &str) {
    stdout_ok(&kindred(
        node,
        &[
            "upsert",
            "--source",
            "crm",
            "--record-id",
            id,
            "--given-name",
            "Ann",
            "--family-name",
            "Lee",
            "--email",
            email,
        ],
    ));
}

#[test]
fn metrics_count_calls_records_and_entities_and_errors_are_logged_by_request_id() {
    let tmp = tempfile::tempdir().unwrap();
    let mport = free_port();
    let maddr = format!("127.0.0.1:{mport}");
    let node = Node::start_with(
        &tmp.path().join("data"),
        &["--metrics-listen", &maddr, "--log-format", "json"],
    );
    upsert(&node, "1", "ann.lee@example.com");
    upsert(&node, "2", "ann.lee@example.com");
    // A streaming call: counted when its trailers go out.
    let csv = tmp.path().join("r.csv");
    let mapping = tmp.path().join("m.toml");
    std::fs::write(&csv, "id,given,family\n7,Bo,Chan\n").unwrap();
    std::fs::write(
        &mapping,
        "record_id = \"id\"\n[fields]\ngiven_name = \"given\"\nfamily_name = \"family\"\n",
    )
    .unwrap();
    stdout_ok(&kindred(
        &node,
        &[
            "import",
            csv.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--source",
            "pos",
            "--no-progress",
        ],
    ));
    let missing = kindred(
        &node,
        &["profile", "get", "--email", "nobody.here@example.com"],
    );
    assert_eq!(missing.status.code(), Some(3), "NOT_FOUND exits 3");

    let upserts = "kindred_rpc_calls_total{code=\"OK\",method=\"/kindred.v1.Records/Upsert\"}";
    let refused = "kindred_rpc_calls_total{code=\"NOT_FOUND\",method=\"/kindred.v1.Profiles/Get\"}";
    let bulk = "kindred_rpc_calls_total{code=\"OK\",method=\"/kindred.v1.Records/BulkUpsert\"}";
    let pairs = "kindred_entities{size=\"2\"}";
    let single = "kindred_entities{size=\"1\"}";
    let mut text = String::new();
    // The census of entity sizes is refreshed at most every 2 s, and on
    // the request of a scrape that finds it stale.
    wait_until(Duration::from_secs(30), "the census of the records", || {
        text = scrape_metrics(mport);
        metric_sample(&text, pairs) == Some(1.0) && metric_sample(&text, single) == Some(1.0)
    });
    assert_eq!(metric_sample(&text, upserts), Some(2.0), "{text}");
    assert_eq!(metric_sample(&text, refused), Some(1.0), "{text}");
    assert_eq!(metric_sample(&text, bulk), Some(1.0), "{text}");
    for m in [
        "/kindred.v1.Records/BulkUpsert",
        "/kindred.v1.Records/Upsert",
        "/kindred.v1.Profiles/Get",
    ] {
        let series = format!("kindred_rpc_in_flight{{method=\"{m}\"}}");
        assert_eq!(
            metric_sample(&text, &series),
            Some(0.0),
            "{series} in\n{text}"
        );
    }
    assert_eq!(
        metric_sample(&text, "kindred_records_applied_total"),
        Some(3.0)
    );
    assert!(metric_sample(&text, "kindred_comparisons_total").unwrap() >= 1.0);
    assert!(metric_sample(&text, "kindred_raft_term{group=\"meta\"}").unwrap() >= 1.0);
    assert!(metric_sample(&text, "kindred_process_resident_memory_bytes").unwrap() > 1e6);
    assert!(
        text.contains("kindred_rpc_duration_seconds_bucket{code=\"OK\",method=\"/kindred.v1.Records/Upsert\",le=\"0.005\"}"),
        "{text}"
    );
    assert!(text.contains("kindred_rocksdb{partition=\"0\",property=\"memtable_bytes\"}"));

    // The refusal is in the log, as JSON, under a request id, and the
    // email it was about is not.
    let log = std::fs::read_to_string(&node.log).unwrap();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "call refused")
        .unwrap_or_else(|| panic!("no refusal logged in\n{log}"));
    assert_eq!(line["fields"]["code"], "NOT_FOUND", "{line}");
    assert_eq!(line["span"]["method"], "/kindred.v1.Profiles/Get", "{line}");
    let id = line["fields"]["request_id"].as_str().expect("a request id");
    assert_eq!(line["span"]["request_id"], id, "{line}");
    assert!(
        !log.contains("nobody.here@example.com"),
        "personal data in the log"
    );
    assert!(
        !log.contains("ann.lee@example.com"),
        "personal data in the log"
    );
    // Only /metrics is served there.
    let mut s = TcpStream::connect(("127.0.0.1", mport)).unwrap();
    write!(
        s,
        "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
}

#[test]
fn a_call_returns_its_request_id_and_a_bad_field_a_bad_request_violation() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = RecordsClient::connect(node.endpoint()).await.unwrap();
        let mut req = tonic::Request::new(UpsertRequest {
            record: Some(Record {
                source: "crm".into(),
                record_id: String::new(),
                ..Default::default()
            }),
        });
        req.metadata_mut()
            .insert("x-request-id", "import-7.batch-3".parse().unwrap());
        let status = c
            .upsert(req)
            .await
            .expect_err("an empty record id is refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        assert_eq!(
            status.metadata().get("x-request-id").unwrap(),
            "import-7.batch-3",
            "the caller's id comes back"
        );
        let bad = status
            .get_details_bad_request()
            .expect("a BadRequest detail");
        assert_eq!(bad.field_violations.len(), 1, "{bad:?}");
        assert_eq!(bad.field_violations[0].field, "record_id", "{bad:?}");
        assert!(!bad.field_violations[0].description.is_empty());

        // Without one, the node makes one up.
        let ok = c
            .upsert(UpsertRequest {
                record: Some(Record {
                    source: "crm".into(),
                    record_id: "1".into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("upsert");
        let id = ok.metadata().get("x-request-id").expect("a request id");
        assert_eq!(id.len(), 16, "{id:?}");
    });
}
