//! The partition actor, driven through its handle as the coordinator
//! drives it: typed requests, the ordered command log, the write fence.

use std::sync::Arc;

use kindred_proto::v1::{Identifier, PersonName, Record};

use super::request::{
    Apply, ApplyItem, Assignments, Delete, EntityOfRecord, Features, GetRecord, GetStats, How,
    Links, Probe, ProbeItem, PutLinks, SetModel,
};
use super::{PartitionConfig, PartitionHandle};
use crate::engine::features::Packed;
use crate::engine::standardize::{standardize_record, StandardizeConfig};
use crate::engine::{EngineConfig, Model};
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
    open_with_model(dir, partition, None)
}

fn open_with_model(
    dir: &std::path::Path,
    partition: u32,
    model: Option<Model>,
) -> (PartitionHandle, std::thread::JoinHandle<()>) {
    PartitionHandle::open(PartitionConfig {
        data_dir: dir.join(format!("p{partition}")),
        engine: EngineConfig::default(),
        survivorship: Default::default(),
        store: Default::default(),
        model,
        mailbox: 8,
        partition,
        partitions: 4,
        reresolve_budget: 2,
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

/// Sixty records: thirty people, each twice, the copy with another email,
/// no identifier and a typo in the given name.
fn population() -> Vec<Record> {
    let given = ["Jane", "Omar", "Lian", "Anna", "Tomas", "Evelyn"];
    let family = ["Doe", "Haddad", "Wong", "Silva", "Brown"];
    (0..30)
        .flat_map(|i| {
            let (g, f) = (given[i % 6], family[i / 6]);
            let dob = format!("19{}-0{}-1{}", 50 + i, 1 + i % 9, i % 10);
            let typo: String = g.chars().rev().collect::<String>();
            let typo = format!("{}{}", &g[..1], &typo[..typo.len() - 1]);
            let mut one = record(&format!("{i}a"), g, f, &format!("{i}@a.test"));
            let mut copy = record(&format!("{i}b"), &typo, f, &format!("{i}@b.test"));
            copy.identifiers.clear();
            one.date_of_birth = dob.clone();
            copy.date_of_birth = dob;
            [one, copy]
        })
        .collect()
}

/// The records grouped by entity, as sets of keys (entity ids differ
/// between histories).
async fn groups(h: &PartitionHandle) -> Vec<Vec<String>> {
    let mut by: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for r in h.call(Assignments).await.unwrap() {
        by.entry(r.entity).or_default().push(r.key);
    }
    let mut v: Vec<Vec<String>> = by.into_values().collect();
    v.iter_mut().for_each(|g| g.sort());
    v.sort();
    v
}

async fn apply_all(h: &PartitionHandle, records: Vec<Record>) {
    let items = records.into_iter().map(item).collect();
    for r in h
        .call(Apply {
            at_ms: 1_000,
            items,
        })
        .await
        .unwrap()
    {
        r.expect("record applied");
    }
}

/// Polls until the partition has nothing left to re-resolve.
async fn reresolved(h: &PartitionHandle) {
    while h.call(super::request::Reresolving).await.unwrap() > 0 {
        tokio::task::yield_now().await;
    }
}

/// A model under which the copies no longer link (a far smaller prior).
fn stricter() -> Model {
    Model {
        prior: 1e-12,
        version: 9,
        ..Model::default()
    }
}

#[test]
fn a_new_model_is_installed_at_once_and_re_resolves_between_other_requests() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (h, j) = open(dir.path(), 0);
        apply_all(&h, population()).await;
        assert_eq!(groups(&h).await.len(), 30, "the copies joined");
        let left = h
            .call(SetModel {
                at_ms: 2_000,
                json: stricter().to_json(),
            })
            .await
            .unwrap();
        assert!(left > 0, "the switch does not wait for the re-resolution");
        // Writes and reads are served while it runs.
        apply_all(&h, vec![record("late", "Jane", "Doe", "late@c.test")]).await;
        let stats = h.call(GetStats).await.unwrap();
        assert_eq!(stats.model_version, 9);
        reresolved(&h).await;
        let after = groups(&h).await;
        // The reference: the same records under the new model from the start.
        let (r, jr) = open_with_model(&dir.path().join("ref"), 0, Some(stricter()));
        let mut all = population();
        all.push(record("late", "Jane", "Doe", "late@c.test"));
        apply_all(&r, all).await;
        reresolved(&r).await;
        assert_eq!(after, groups(&r).await);
        assert!(after.len() > 30, "the stricter model split the copies off");
        drop((h, r));
        j.join().unwrap();
        jr.join().unwrap();
    });
}

#[test]
fn an_interrupted_re_resolution_resumes_when_the_partition_opens_again() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let (h, j) = open(dir.path(), 0);
        apply_all(&h, population()).await;
        h.call(SetModel {
            at_ms: 2_000,
            json: stricter().to_json(),
        })
        .await
        .unwrap();
        // Shut down at once: the actor stops between two steps.
        drop(h);
        j.join().unwrap();
        let (h, j) = open(dir.path(), 0);
        reresolved(&h).await;
        assert_eq!(h.call(GetStats).await.unwrap().model_version, 9);
        let (r, jr) = open_with_model(&dir.path().join("ref"), 0, Some(stricter()));
        apply_all(&r, population()).await;
        assert_eq!(groups(&h).await, groups(&r).await);
        drop((h, r));
        j.join().unwrap();
        jr.join().unwrap();
    });
}
