//! Activity on a real node: events sent one by one and imported through
//! the CLI show on the profile as traits, stage, RFM and recent events; a
//! bad row fails alone; `kill -9` during an event stream loses no
//! acknowledged event, and sending everything again stores nothing twice.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;

use kindred_client::v1::{
    bulk_event_result, list_events_request, BulkSendRequest, Event, ListEventsRequest, Record,
    RecordRef,
};
use kindred_tests::{json, kindred, runtime, stdout_ok, Node};

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn trait_value<'a>(profile: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let traits = profile["traits"].as_array().expect("traits");
    let t = traits
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no trait {name} in {profile}"));
    // proto3 JSON: the oneof's field stands in the message itself.
    &t["number"]
}

#[test]
fn events_sent_and_imported_show_on_the_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(&tmp.path().join("data"));
    stdout_ok(&kindred(
        &node,
        &[
            "upsert",
            "--source",
            "crm",
            "--record-id",
            "1",
            "--given-name",
            "Ana",
            "--family-name",
            "Lopes",
            "--email",
            "ana.lopes@example.com",
            "--dob",
            "1984-02-29",
        ],
    ));
    let at = (now_ms() - 40 * DAY).to_string();
    stdout_ok(&kindred(
        &node,
        &[
            "event",
            "send",
            "crm:1",
            "--event-id",
            "o-1",
            "--type",
            "order_completed",
            "--amount",
            "20",
            "--currency",
            "EUR",
            "--at",
            &at,
        ],
    ));
    // An import: a web visitor who signs up (identity), a second order,
    // and a row without a time, rejected alone.
    let csv = tmp.path().join("events.csv");
    let recent = chrono_free_date(now_ms() - 2 * DAY);
    std::fs::write(
        &csv,
        format!(
            "source,record_id,event_id,type,occurred_at,amount,email,cart_id\n\
             shop,9,o-2,order_completed,{recent},35.50,ana.lopes@example.com,k1\n\
             shop,9,v-1,page_view,{recent},,ana.lopes@example.com,\n\
             shop,9,v-2,page_view,,,ana.lopes@example.com,\n"
        ),
    )
    .unwrap();
    let mapping = tmp.path().join("events.toml");
    std::fs::write(
        &mapping,
        "record_id = \"record_id\"\nevent_id = \"event_id\"\nsource = \"source\"\n\
         type = \"type\"\noccurred_at = \"occurred_at\"\namount = \"amount\"\n\
         [properties]\ncart_id = \"cart_id\"\n[identity]\nemail = \"email\"\n\
         [defaults]\ncurrency = \"EUR\"\n",
    )
    .unwrap();
    let out = kindred(
        &node,
        &[
            "--output",
            "json",
            "events",
            "import",
            csv.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "rejected rows give exit 4");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["stored"], 2);
    assert_eq!(report["rejects"][0]["line"], 4);
    assert_eq!(report["rejects"][0]["field"], "occurred_at");

    let profile = json(&kindred(
        &node,
        &["--output", "json", "profile", "get", "--record", "crm:1"],
    ));
    assert_eq!(profile["records"].as_array().unwrap().len(), 2, "{profile}");
    assert_eq!(trait_value(&profile, "orders"), 2.0);
    assert_eq!(trait_value(&profile, "total_spend"), 55.5);
    assert_eq!(profile["lifecycle"]["stage"], "active");
    assert_eq!(profile["recent_events"].as_array().unwrap().len(), 3);

    // A trait defined through the API is on every profile at once.
    stdout_ok(&kindred(
        &node,
        &[
            "trait",
            "define",
            "cart_orders",
            "--aggregate",
            "count",
            "--event-type",
            "order_completed",
            "--filter",
            "cart_id=k1",
        ],
    ));
    stdout_ok(&kindred(&node, &["rfm", "compute"]));
    let profile = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "profile",
            "get",
            "--email",
            "ana.lopes@example.com",
        ],
    ));
    assert_eq!(trait_value(&profile, "cart_orders"), 1.0);
    assert_eq!(profile["rfm"]["cuts_version"], "1", "{profile}");
    let listed = json(&kindred(
        &node,
        &[
            "--output",
            "json",
            "events",
            "list",
            "--record",
            "shop:9",
            "--type",
            "page_view",
        ],
    ));
    assert_eq!(listed["events"].as_array().unwrap().len(), 1);
    let text = stdout_ok(&kindred(&node, &["profile", "get", "--record", "crm:1"]));
    for want in [
        "Value and stage",
        "active",
        "Recent activity",
        "order_completed",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}

/// `YYYY-MM-DD` of a time, without a date library.
fn chrono_free_date(ms: i64) -> String {
    let days = ms.div_euclid(DAY);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn customers(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            source: "crm".into(),
            record_id: i.to_string(),
            emails: vec![format!("customer{i}@example.com")],
            ..Record::default()
        })
        .collect()
}

fn order(record: usize, n: usize, at: i64) -> Event {
    Event {
        source: "crm".into(),
        record_id: record.to_string(),
        event_id: format!("o-{n}"),
        r#type: "order_completed".into(),
        occurred_at_ms: at - n as i64,
        amount: Some(1.0),
        ..Event::default()
    }
}

/// Streams events; the ids acknowledged per record. Kills the node once
/// `kill_after` are acknowledged (0: never).
async fn stream(
    node: &mut Node,
    events: &[Event],
    kill_after: usize,
) -> BTreeMap<String, BTreeSet<String>> {
    let client = node.client().await;
    let batches: Vec<BulkSendRequest> = events
        .chunks(250)
        .map(|c| BulkSendRequest { events: c.to_vec() })
        .collect();
    let mut acked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut count = 0;
    let mut results = client
        .bulk_send(futures::stream::iter(batches))
        .await
        .unwrap();
    while let Some(Ok(resp)) = results.next().await {
        for item in resp.results {
            if let Some(bulk_event_result::Outcome::Ok(r)) = item.outcome {
                let rec = r.record.unwrap().record_id;
                acked.entry(rec).or_default().insert(r.event_id);
                count += 1;
            }
        }
        if kill_after > 0 && count >= kill_after {
            node.kill9();
        }
    }
    acked
}

async fn stored_ids(node: &Node, record: &str) -> BTreeSet<String> {
    let client = node.client().await;
    let mut ids = BTreeSet::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_events(ListEventsRequest {
                key: Some(list_events_request::Key::Record(RecordRef {
                    source: "crm".into(),
                    record_id: record.into(),
                })),
                page_size: 1000,
                page_token: token.clone(),
                ..ListEventsRequest::default()
            })
            .await
            .unwrap();
        ids.extend(page.events.into_iter().map(|e| e.event_id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        token = page.next_page_token;
    }
}

#[test]
fn kill_minus_nine_mid_event_stream_loses_no_acknowledged_event() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut node = Node::start(&data);
    let rt = runtime();
    let people = 50;
    let now = now_ms();
    let events: Vec<Event> = (0..30_000).map(|n| order(n % people, n, now)).collect();
    let acked = rt.block_on(async {
        let client = node.client().await;
        for r in customers(people) {
            client.upsert(r).await.unwrap();
        }
        stream(&mut node, &events, events.len() / 3).await
    });
    let total_acked: usize = acked.values().map(BTreeSet::len).sum();
    assert!(total_acked >= events.len() / 3 && total_acked < events.len());
    let node = Node::start(&data);
    rt.block_on(async {
        for (record, ids) in &acked {
            let stored = stored_ids(&node, record).await;
            let lost: Vec<&String> = ids.difference(&stored).collect();
            assert!(
                lost.is_empty(),
                "record {record} lost {} acknowledged events",
                lost.len()
            );
        }
    });
    // Everything again: each event is stored exactly once.
    let mut node = node;
    rt.block_on(async {
        stream(&mut node, &events, 0).await;
        for record in 0..people {
            let stored = stored_ids(&node, &record.to_string()).await;
            assert_eq!(stored.len(), events.len() / people, "record {record}");
        }
        let p = node
            .client()
            .await
            .profile_by_record("crm", "7")
            .await
            .unwrap();
        let orders = p.traits.iter().find(|t| t.name == "orders").unwrap();
        assert_eq!(
            orders.value,
            Some(kindred_client::v1::trait_value::Value::Number(
                (events.len() / people) as f64
            )),
            "summaries count each event once"
        );
    });
}
