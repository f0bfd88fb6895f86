//! `kill -9` during an import loses no acknowledged record and leaves no
//! half-applied merge: after a restart every acknowledged record is there,
//! and finishing the import gives exactly the entities of a clean run.

use std::collections::HashMap;
use std::process::Command;

use futures::StreamExt;

use kindred_client::v1::{bulk_item_result, BulkUpsertRequest, Record};
use kindred_proto::mapping::{header_index, Mapping};
use kindred_tests::{bin, kindred, partition_of_csv, runtime, stdout_ok, Node};

fn generated(dir: &std::path::Path) -> (Vec<Record>, std::path::PathBuf, std::path::PathBuf) {
    let st = Command::new(bin("kindred-gen"))
        .args([
            "--people",
            "4000",
            "--seed",
            "5",
            "--difficulty",
            "medium",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    stdout_ok(&st);
    let mapping =
        Mapping::from_toml(&std::fs::read_to_string(dir.join("mapping.toml")).unwrap()).unwrap();
    let mut rdr = csv::Reader::from_path(dir.join("records.csv")).unwrap();
    let h = header_index(rdr.headers().unwrap());
    let records = rdr
        .records()
        .map(|r| mapping.csv_record(&h, &r.unwrap(), "gen").unwrap())
        .collect();
    (records, dir.join("records.csv"), dir.join("mapping.toml"))
}

#[test]
fn kill_minus_nine_mid_import_loses_no_acknowledged_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, csv_path, mapping) = generated(&tmp.path().join("gen"));
    assert!(records.len() > 8000);
    let data = tmp.path().join("data");
    let mut node = Node::start(&data);
    let endpoint = node.endpoint();

    // Stream batches of 100, count acknowledgements, and kill the node once
    // a third of the records are acknowledged, while the stream is in flight.
    let kill_at = records.len() / 3;
    let rt = runtime();
    let batches: Vec<BulkUpsertRequest> = records
        .chunks(100)
        .map(|c| BulkUpsertRequest {
            records: c.to_vec(),
        })
        .collect();
    let mut acknowledged: HashMap<(String, String), u64> = HashMap::new();
    rt.block_on(async {
        let client = kindred_client::Client::connect(std::slice::from_ref(&endpoint))
            .await
            .unwrap();
        let mut stream = client
            .bulk_upsert(futures::stream::iter(batches))
            .await
            .unwrap();
        while let Some(resp) = stream.next().await {
            let Ok(resp) = resp else { break };
            for item in resp.results {
                if let Some(bulk_item_result::Outcome::Ok(r)) = item.outcome {
                    let rf = r.record.unwrap();
                    acknowledged.insert((rf.source, rf.record_id), r.entity_id);
                }
            }
            if acknowledged.len() >= kill_at {
                // Kill while the stream is still in flight.
                node.kill9();
            }
        }
    });
    assert!(
        acknowledged.len() >= kill_at && acknowledged.len() < records.len(),
        "killed mid-import"
    );

    // Restart over the same data: every acknowledged record is there.
    let node = Node::start(&data);
    rt.block_on(async {
        let client = node.client().await;
        for (source, id) in acknowledged.keys() {
            let got = client.get_record(source, id).await;
            assert!(
                got.is_ok(),
                "acknowledged record {source}/{id} lost: {got:?}"
            );
        }
        let stats = client.stats().await.unwrap();
        assert!(stats.records as usize >= acknowledged.len());
    });

    // Finish the import (upserts are idempotent) and compare with a clean run.
    let imp = |n: &Node| {
        kindred(
            n,
            &[
                "import",
                csv_path.to_str().unwrap(),
                "--mapping",
                mapping.to_str().unwrap(),
                "--no-progress",
            ],
        )
    };
    stdout_ok(&imp(&node));
    let recovered = partition_of_csv(&stdout_ok(&kindred(&node, &["export"])));
    let clean_node = Node::start(&tmp.path().join("clean"));
    stdout_ok(&imp(&clean_node));
    let clean = partition_of_csv(&stdout_ok(&kindred(&clean_node, &["export"])));
    assert_eq!(recovered.iter().map(Vec::len).sum::<usize>(), records.len());
    assert_eq!(
        recovered, clean,
        "recovered node's entities differ from a clean run"
    );
}
