//! A webhook sink on a real node: the change feed is posted to an HTTP
//! receiver; a receiver that fails gets the same batch again (same
//! `Kindred-Delivery` id, same body) until it answers 2xx; after `kill -9`
//! delivery goes on from what was acknowledged, and anything posted twice
//! is the same delivery.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kindred_tests::{kindred, stdout_ok, wait_until, Node};

/// What the receiver saw: (delivery id, body, status answered).
type Seen = Arc<Mutex<Vec<(String, serde_json::Value, u16)>>>;

/// A receiver on a loopback port that answers 500 to its first `fail`
/// requests and 200 after.
fn receiver(fail: usize) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let (id, body) = read_request(&mut conn);
            let mut log = log.lock().unwrap();
            let status = if log.len() < fail { 500 } else { 200 };
            log.push((id, body, status));
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = conn.write_all(reply.as_bytes());
        }
    });
    (port, seen)
}

fn read_request(conn: &mut std::net::TcpStream) -> (String, serde_json::Value) {
    let mut r = BufReader::new(conn);
    let (mut id, mut len) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            match k.to_ascii_lowercase().as_str() {
                "kindred-delivery" => id = v.trim().to_string(),
                "content-length" => len = v.trim().parse().unwrap(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (id, serde_json::from_slice(&body).unwrap())
}

fn upsert(node: &Node, id: &str, given: &str) -> u64 {
    let out = stdout_ok(&kindred(
        node,
        &[
            "--output",
            "json",
            "upsert",
            "--source",
            "crm",
            "--record-id",
            id,
            "--given-name",
            given,
            "--family-name",
            "Okafor",
            "--email",
            &format!("{id}@example.com"),
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    kindred_tests::num(&v["entity_id"]).unwrap()
}

/// The acknowledged changes of a segment, as (entity id, change). A
/// delivery acknowledged twice (the node stopped between the receiver's
/// answer and recording it: delivery is at least once) counts once, and
/// must be the same delivery byte for byte.
fn acknowledged(seen: &Seen) -> Vec<(String, String)> {
    let seen = seen.lock().unwrap();
    let mut by_id: std::collections::BTreeMap<&str, &serde_json::Value> = Default::default();
    let mut order = Vec::new();
    for (id, body, _) in seen.iter().filter(|(_, _, status)| *status == 200) {
        match by_id.insert(id, body) {
            Some(before) => assert_eq!(before, body, "a repeated delivery {id} changed"),
            None => order.push(body),
        }
    }
    order
        .into_iter()
        .flat_map(|body| body["changes"].as_array().unwrap().clone())
        .filter(|c| c["segment"] == "prospects")
        .map(|c| {
            let e = c["entity_id"].as_str().unwrap().to_string();
            (e, c["change"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn a_failing_receiver_gets_the_same_batch_until_it_acknowledges_and_never_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (port, seen) = receiver(2);
    let config = tmp.path().join("kindred.toml");
    let toml = format!(
        "[[webhooks]]\nname = \"crm\"\nurl = \"http://127.0.0.1:{port}/hooks/kindred\"\n\
         segments = [\"prospects\"]\nfrom = \"start\"\n"
    );
    std::fs::write(&config, toml).unwrap();
    let data = tmp.path().join("data");
    let mut node = Node::start_with(&data, &["--config", config.to_str().unwrap()]);
    let ben = upsert(&node, "1", "Ben").to_string();

    wait_until(Duration::from_secs(60), "the receiver acknowledges", || {
        !acknowledged(&seen).is_empty()
    });
    {
        let seen = seen.lock().unwrap();
        let statuses: Vec<u16> = seen.iter().map(|s| s.2).collect();
        assert_eq!(statuses, [500, 500, 200], "retried until acknowledged");
        assert!(seen[0].0.starts_with("crm:c1."), "{}", seen[0].0);
        assert!(
            seen.iter()
                .all(|s| (&s.0, &s.1) == (&seen[0].0, &seen[0].1)),
            "every retry is the same delivery: {seen:?}"
        );
    }
    assert_eq!(acknowledged(&seen), [(ben.clone(), "entered".to_string())]);

    // After kill -9 a new change is delivered; Ben's counts once.
    node.kill9();
    let node = Node::start_with(&data, &["--config", config.to_str().unwrap()]);
    let ada = upsert(&node, "2", "Ada").to_string();
    wait_until(Duration::from_secs(60), "the second change", || {
        acknowledged(&seen).len() >= 2
    });
    assert_eq!(
        acknowledged(&seen),
        [(ben, "entered".to_string()), (ada, "entered".to_string())]
    );
}
