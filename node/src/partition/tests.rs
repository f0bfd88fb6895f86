//! The partition actor, driven through its handle as the coordinator
//! drives it: typed requests, the ordered command log, the write fence.

use std::sync::Arc;

use kindred_proto::v1::{Identifier, PersonName, Record};

use super::request::{
    Apply, ApplyItem, Assignments, Delete, EntityOfRecord, Features, GetRecord, GetStats, How,
    Links, Probe, ProbeItem, PutLinks,
};
use super::{PartitionConfig, PartitionHandle};
use crate::engine::features::Packed;
use crate::engine::standardize::{standardize_record, StandardizeConfig};
use crate::engine::EngineConfig;
use crate::error::NodeError;

fn record(id: &str, given: &str, family: &str, email: &str) -> Record {
    Record {
        source: "crm".into(),
        record_id: id.into(),
        name: Some(PersonName {
            given: given.into(),
            family: family.into(),
            ..Default::default()
        }),
        date_of_birth: "1980-03-14".into(),
        emails: vec![email.into()],
        identifiers: vec![Identifier {
            kind: "loyalty".into(),
            value: format!("L-{id}"),
        }],
        ..Default::default()
    }
}

fn item(r: Record) -> ApplyItem {
    let feats = Packed::from_std(&standardize_record(&r, &StandardizeConfig::default()));
    ApplyItem {
        record: r,
        feats: feats.as_bytes().to_vec(),
    }
}

fn open(dir: &std::path::Path, partition: u32) -> (PartitionHandle, std::thread::JoinHandle<()>) {
    PartitionHandle::open(PartitionConfig {
        data_dir: dir.join(format!("p{partition}")),
        engine: EngineConfig::default(),
        survivorship: Default::default(),
        store: Default::default(),
        model: None,
        mailbox: 8,
        partition,
        partitions: 4,
    })
    .expect("partition opens")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The commands of a small history: two duplicates, a third person, a
/// delete, each at its own time.
fn commands() -> Vec<(i64, Vec<Record>)> {
    vec![
        (1_000, vec![record("1", "Jane", "Doe", "jane@example.com")]),
        (2_000, vec![record("2", "Jane", "Doe", "jane@example.com")]),
        (
            3_000,
            vec![record("3", "Omar", "Haddad", "omar@example.com")],
        ),
    ]
}

async fn replay(h: &PartitionHandle) {
    for (at_ms, records) in commands() {
        let items = records.into_iter().map(item).collect();
        for r in h.call(Apply { at_ms, items }).await.unwrap() {
            r.expect("record applied");
        }
    }
    h.call(Delete {
        at_ms: 4_000,
        key: crate::engine::resolver::record_key("crm", "3"),
    })
    .await
    .unwrap();
}

#[test]
fn the_same_commands_give_the_same_state_and_history_on_any_replica() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (a, ja) = open(dir.path(), 1);
        let (b, jb) = open(&dir.path().join("other"), 1);
        replay(&a).await;
        replay(&b).await;
        let rows_a = a.call(Assignments).await.unwrap();
        let rows_b = b.call(Assignments).await.unwrap();
        let rows = |v: &[super::request::Row]| {
            v.iter()
                .map(|r| (r.key.clone(), r.entity))
                .collect::<Vec<_>>()
        };
        assert_eq!(rows(&rows_a), rows(&rows_b));
        assert_eq!(rows_a.len(), 2, "the deleted record is gone");
        assert_eq!(rows_a[0].entity, rows_a[1].entity, "the duplicates joined");
        let entity = rows_a[0].entity;
        let ha = a.call(How { entity }).await.unwrap();
        let hb = b.call(How { entity }).await.unwrap();
        assert_eq!(ha, hb);
        let times: Vec<i64> = ha.events.iter().map(|e| e.at_ms).collect();
        assert_eq!(
            times,
            vec![1_000, 2_000],
            "events carry their commands' times"
        );
        drop((a, b));
        ja.join().unwrap();
        jb.join().unwrap();
    });
}

#[test]
fn a_fenced_partition_refuses_writes_as_aborted_but_serves_reads() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (h, j) = open(dir.path(), 0);
        replay(&h).await;
        h.fence(true).await.unwrap();
        let items = vec![item(record("9", "Ann", "Lee", "ann@example.com"))];
        let refused = h
            .call(Apply {
                at_ms: 5_000,
                items,
            })
            .await
            .unwrap_err();
        assert!(matches!(refused, NodeError::NotOwner { partition: 0, .. }));
        assert_eq!(refused.code(), tonic::Code::Aborted);
        let key = crate::engine::resolver::record_key("crm", "1");
        assert_eq!(h.call(GetStats).await.unwrap().stats.records, 2);
        assert!(h.call(GetRecord { key }).await.is_ok());
        h.fence(false).await.unwrap();
        let items = vec![item(record("9", "Ann", "Lee", "ann@example.com"))];
        h.call(Apply {
            at_ms: 6_000,
            items,
        })
        .await
        .unwrap();
        assert_eq!(h.call(GetStats).await.unwrap().stats.records, 3);
        drop(h);
        j.join().unwrap();
    });
}

#[test]
fn a_bad_record_in_an_apply_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (h, j) = open(dir.path(), 0);
        let mut bad = item(record("", "No", "Id", "no@example.com"));
        bad.record.record_id = String::new();
        let mut garbled = item(record("7", "Bad", "Feats", "b@example.com"));
        garbled.feats = vec![0xff; 3];
        let good = item(record("8", "Good", "Record", "g@example.com"));
        let out = h
            .call(Apply {
                at_ms: 1,
                items: vec![bad, garbled, good],
            })
            .await
            .unwrap();
        assert_eq!(out[0].as_ref().unwrap_err().field, "record_id");
        assert_eq!(out[1].as_ref().unwrap_err().field, "features");
        assert!(out[2].is_ok());
        drop(h);
        j.join().unwrap();
    });
}

#[test]
fn a_probe_stores_the_reverse_link_and_returns_the_forward_one() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (here, j) = open(dir.path(), 2);
        let items = vec![item(record("1", "Jane", "Doe", "jane@example.com"))];
        here.call(Apply { at_ms: 1, items }).await.unwrap();
        // The same person, homed in partition 3.
        let visitor = item(record("2", "Jane", "Doe", "jane@example.com"));
        let probe = ProbeItem {
            key: crate::engine::resolver::record_key("crm", "2"),
            feats: visitor.feats,
            hash: 42,
            home: 3,
        };
        let probed = here
            .call(Probe {
                at_ms: 2,
                items: Arc::new(vec![probe.clone()]),
            })
            .await
            .unwrap();
        assert_eq!(probed.probed, vec![2]);
        assert_eq!(probed.found.len(), 1);
        let forward = &probed.found[0];
        assert_eq!(forward.key, probe.key);
        assert_eq!(forward.link.partner_partition, 2);
        assert_eq!(forward.link.my_hash, 42);
        let reverse = here.call(Links).await.unwrap();
        assert_eq!(reverse.len(), 1);
        assert_eq!(reverse[0].1.link.partner, probe.key);
        assert_eq!(reverse[0].1.link.partner_partition, 3);
        // A record probed at its own home is skipped.
        let at_home = ProbeItem { home: 2, ..probe };
        let probed = here
            .call(Probe {
                at_ms: 3,
                items: Arc::new(vec![at_home]),
            })
            .await
            .unwrap();
        assert!(probed.found.is_empty());
        drop(here);
        j.join().unwrap();
    });
}

#[test]
fn links_are_kept_only_for_the_record_version_they_were_found_for() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (h, j) = open(dir.path(), 0);
        let items = vec![item(record("1", "Jane", "Doe", "jane@example.com"))];
        h.call(Apply { at_ms: 1, items }).await.unwrap();
        let key = crate::engine::resolver::record_key("crm", "1");
        let hash = h.call(Features { key: key.clone() }).await.unwrap().hash;
        let link = |my_hash| super::request::Found {
            key: key.clone(),
            link: crate::storage::Link {
                partner: crate::engine::resolver::record_key("web", "x"),
                partner_partition: 1,
                my_hash,
                partner_hash: 7,
                weight: 20.0,
                keys: vec![1],
            },
        };
        h.call(PutLinks {
            items: vec![link(hash.wrapping_add(1)), link(hash)],
        })
        .await
        .unwrap();
        let stored = h.call(Links).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].1.link.my_hash, hash);
        let view = h.call(EntityOfRecord { key }).await.unwrap();
        assert_eq!(view.members.len(), 1);
        drop(h);
        j.join().unwrap();
    });
}
