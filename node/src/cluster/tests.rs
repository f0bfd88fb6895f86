//! The coordinator over several partitions of one node, without a network:
//! routing, the write rounds across partitions, cluster-wide entities.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use kindred_proto::v1::{PersonName, Record};
use tokio::sync::watch;

use super::map::{home_partition, PartitionMap};
use super::peers::Peers;
use super::router::Router;
use super::Coordinator;
use crate::clock::ManualClock;
use crate::engine::features::Packed;
use crate::engine::resolver::record_key;
use crate::engine::standardize::{standardize_record, StandardizeConfig};
use crate::engine::{EngineConfig, EntityId};
use crate::error::NodeError;
use crate::partition::request::{EntityIds, GetStats};
use crate::partition::{PartitionConfig, PartitionHandle};

const PARTITIONS: u32 = 4;

/// One node owning every partition, each open in `dir`.
struct Node {
    coordinator: Coordinator,
    clock: ManualClock,
    threads: Vec<std::thread::JoinHandle<()>>,
    _map: watch::Sender<Arc<PartitionMap>>,
}

impl Node {
    fn open(dir: &std::path::Path) -> Node {
        Self::open_with(dir, EngineConfig::default())
    }

    fn open_with(dir: &std::path::Path, engine: EngineConfig) -> Node {
        Self::open_layout(dir, engine, PARTITIONS)
    }

    /// A node whose cluster has `partitions` partitions.
    fn open_layout(dir: &std::path::Path, engine: EngineConfig, partitions: u32) -> Node {
        let mut local = HashMap::new();
        let mut threads = Vec::new();
        for p in 0..partitions {
            let (h, j) = PartitionHandle::open(PartitionConfig {
                data_dir: dir.join(format!("{p}")),
                engine: engine.clone(),
                survivorship: Default::default(),
                store: Default::default(),
                model: None,
                mailbox: 8,
                partition: p,
                partitions,
                reresolve_budget: 3,
            })
            .unwrap();
            local.insert(p, h);
            threads.push(j);
        }
        let map = PartitionMap {
            partitions,
            owners: vec![(1, 1); partitions as usize],
            nodes: BTreeMap::from([(1, "127.0.0.1:1".to_string())]),
            epoch: 1,
        };
        let (tx, rx) = watch::channel(Arc::new(map));
        let router = Router::new(
            1,
            rx,
            Arc::new(RwLock::new(local)),
            Peers::new(1 << 20, None),
        );
        let clock = ManualClock::new(1_700_000_000_000);
        let coordinator = Coordinator::new(
            router,
            &engine,
            &crate::activity::ActivityConfig::default(),
            Arc::new(clock.clone()),
        );
        Node {
            coordinator,
            clock,
            threads,
            _map: tx,
        }
    }

    fn close(self) {
        if let Ok(mut l) = self.coordinator.router.local().write() {
            l.clear();
        }
        drop(self.coordinator);
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

fn person(id: &str, given: &str, family: &str) -> Record {
    Record {
        source: "crm".into(),
        record_id: id.into(),
        name: Some(PersonName {
            given: given.into(),
            family: family.into(),
            ..Default::default()
        }),
        date_of_birth: "1975-11-02".into(),
        emails: vec!["k.ferreira@example.com".into()],
        phones: vec!["+44 20 7946 0321".into()],
        ..Default::default()
    }
}

fn home(r: &Record) -> u32 {
    let feats = Packed::from_std(&standardize_record(r, &StandardizeConfig::default()));
    let key = record_key(&r.source, &r.record_id);
    let view = feats.view();
    home_partition(&key, &view, PARTITIONS)
}

/// Two records of one person whose family names sound different, so
/// that their home partitions differ.
fn split_pair() -> (Record, Record) {
    let a = person("1", "Katarina", "Ferreira");
    for family in [
        "Pereira", "Ferriera", "Fereira", "Ferrera", "Teixeira", "Ferreiro",
    ] {
        let b = person("2", "Katarina", family);
        if home(&b) != home(&a) {
            return (a, b);
        }
    }
    panic!("no spelling of the family name lands in another partition");
}

/// An event of a record with text properties.
fn event(
    r: &kindred_proto::v1::Record,
    id: &str,
    etype: &str,
    at_ms: i64,
    props: &[(&str, &str)],
) -> kindred_proto::v1::Event {
    kindred_proto::v1::Event {
        source: r.source.clone(),
        record_id: r.record_id.clone(),
        event_id: id.into(),
        r#type: etype.into(),
        occurred_at_ms: at_ms,
        properties: props
            .iter()
            .map(|(k, v)| {
                let value = kindred_proto::v1::property_value::Value::StringValue(v.to_string());
                (
                    k.to_string(),
                    kindred_proto::v1::PropertyValue { value: Some(value) },
                )
            })
            .collect(),
        ..Default::default()
    }
}

mod activity;
mod segments;
mod triggers;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn duplicates_homed_in_different_partitions_are_one_customer() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let (a, b) = split_pair();
        let c = &node.coordinator;
        let ra = c.writer.upsert(vec![a]).await.pop().unwrap().unwrap();
        let rb = c.writer.upsert(vec![b]).await.pop().unwrap().unwrap();
        assert_eq!(
            rb.entity,
            ra.entity.min(rb.entity),
            "the second write's result names the cluster-wide entity: the smallest local id"
        );
        let first = c.reader.get_record("crm", "1").await.unwrap();
        assert_eq!(first.entity, rb.entity);
        let profile = c.reader.profile_of_record("crm", "2").await.unwrap();
        assert_eq!(profile.entity_id, rb.entity);
        assert_eq!(profile.records.len(), 2);
        let rows = c.reader.assignments().await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1, rows[1].1, "the export agrees with the read");
        let (stats, _) = c.maintenance.stats().await.unwrap();
        assert_eq!((stats.records, stats.entities), (2, 1));
        let why = c
            .explainer
            .why_records(&record_key("crm", "1"), &record_key("crm", "2"))
            .await
            .unwrap();
        assert!(why.same_entity);
        node.close();
    });
}

#[test]
fn every_command_carries_the_coordinators_clock() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let (a, b) = split_pair();
        let c = &node.coordinator;
        node.clock.set(1_111);
        let ra = c.writer.upsert(vec![a]).await.pop().unwrap().unwrap();
        node.clock.set(2_222);
        c.writer.upsert(vec![b]).await.pop().unwrap().unwrap();
        let history = c.explainer.how(ra.entity).await.unwrap();
        let mut times: Vec<i64> = history
            .parts
            .iter()
            .flat_map(|h| h.events.iter().map(|e| e.at_ms))
            .collect();
        times.sort_unstable();
        assert_eq!(times, vec![1_111, 2_222]);
        assert_eq!(history.parts.len(), 2, "one part per partition");
        assert!(!history.links.is_empty(), "the link that joins them");
        node.close();
    });
}

#[test]
fn a_delete_finds_the_record_in_whichever_partition_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let (a, b) = split_pair();
        let c = &node.coordinator;
        c.writer.upsert(vec![a, b]).await;
        c.writer.delete("crm", "2").await.unwrap();
        let missing = c.writer.delete("crm", "2").await.unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound);
        assert!(missing.to_string().contains("crm:2"), "{missing}");
        let left = c.reader.assignments().await.unwrap();
        assert_eq!(left.len(), 1);
        node.close();
    });
}

#[test]
fn requests_to_partitions_outside_the_map_or_at_a_future_epoch_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let router = &node.coordinator.router;
        let err = router.call(PARTITIONS, GetStats).await.unwrap_err();
        assert!(
            matches!(err, NodeError::InvalidArgument { ref field, .. } if field == "partition")
        );
        let err = router.call_local(0, Some(2), GetStats).await.unwrap_err();
        assert!(matches!(
            err,
            NodeError::NotOwner {
                partition: 0,
                epoch: 1
            }
        ));
        assert!(router.call_local(0, Some(1), GetStats).await.is_ok());
        let per_partition = router
            .all(EntityIds {
                after: 0,
                limit: 10,
            })
            .await;
        assert_eq!(per_partition.len(), PARTITIONS as usize);
        node.close();
    });
}

#[test]
fn a_batch_keeps_its_order_and_a_bad_record_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(async {
        let node = Node::open(dir.path());
        let (a, b) = split_pair();
        let mut bad = person("", "No", "Id");
        bad.record_id = String::new();
        let out = node.coordinator.writer.upsert(vec![a, bad, b]).await;
        assert_eq!(out.len(), 3);
        assert!(out[0].is_ok() && out[2].is_ok());
        let e = out[1].as_ref().unwrap_err();
        assert_eq!(e.field_value().0, "record_id");
        assert_eq!(
            out[0].as_ref().unwrap().entity,
            out[2].as_ref().unwrap().entity
        );
        node.close();
    });
}

/// Keys demoted at 4 records and entities capped at 6: small generated sets
/// then hit demotion, the size cap and merge protection all at once.
fn tight() -> EngineConfig {
    EngineConfig {
        blocking: crate::engine::blocking::BlockingConfig {
            max_key_size: 4,
            ..Default::default()
        },
        max_entity_size: 6,
        ..EngineConfig::default()
    }
}

/// Hard cases from a few people: families sharing a surname and address,
/// nicknames and swapped names (other home keys, so other partitions),
/// dates of birth written day-first and month-first, a household member's
/// record carrying another member's national id, conflicting ids.
fn hard_record(k: usize, i: usize, v: u8) -> Record {
    let given = ["robert", "bob", "elizabeth", "liz", "john", "jon"];
    let family = ["smith", "smyth", "nguyen", "green"];
    let g = given[(i * 2 + usize::from(v & 1)) % given.len()];
    let f = family[(i + usize::from(v >> 1 & 1)) % family.len()];
    let (g, f) = if v & 4 != 0 { (f, g) } else { (g, f) };
    let (day, month) = (1 + i % 3, 10 + i % 2);
    let dob = if v & 8 != 0 {
        format!("19{:02}-{day:02}-{month:02}", 60 + i % 2)
    } else {
        format!("19{:02}-{month:02}-{day:02}", 60 + i % 2)
    };
    let id_of = if v & 16 != 0 { (i + 1) % 6 } else { i };
    Record {
        source: "s".into(),
        record_id: format!("r{k}"),
        name: Some(PersonName {
            given: g.into(),
            family: f.into(),
            ..Default::default()
        }),
        date_of_birth: dob,
        identifiers: if v & 32 != 0 {
            vec![kindred_proto::v1::Identifier {
                kind: "national_id".into(),
                value: format!("{id_of}0000{}", v >> 6),
            }]
        } else {
            vec![]
        },
        addresses: vec![kindred_proto::v1::PostalAddress {
            street: format!("{} wallaby place", 1 + i % 2),
            postcode: "2119".into(),
            country: "AU".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Records → entities as sets of record keys.
fn grouping(pairs: impl IntoIterator<Item = (String, EntityId)>) -> Vec<Vec<String>> {
    let mut by: BTreeMap<EntityId, Vec<String>> = BTreeMap::new();
    for (k, e) in pairs {
        by.entry(e).or_default().push(k);
    }
    let mut v: Vec<Vec<String>> = by
        .into_values()
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    v.sort();
    v
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

    /// Four partitions, written in batches in any order with deletes along
    /// the way, give exactly the entities of one engine holding the records
    /// that remain.
    #[test]
    fn partitions_resolve_as_one_engine(
        spec in proptest::collection::vec((0usize..6, proptest::prelude::any::<u8>()), 1..28),
        batch in 1usize..6,
        gone in proptest::prelude::any::<u32>(),
    ) {
        let records: Vec<Record> = spec
            .iter()
            .enumerate()
            .map(|(k, &(i, v))| hard_record(k, i, v))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let got = runtime().block_on(async {
            let node = Node::open_with(dir.path(), tight());
            let c = &node.coordinator;
            for chunk in records.rchunks(batch) {
                for r in c.writer.upsert(chunk.to_vec()).await {
                    r.unwrap();
                }
            }
            for (k, r) in records.iter().enumerate() {
                if gone >> (k % 32) & 1 == 1 {
                    c.writer.delete(&r.source, &r.record_id).await.unwrap();
                }
            }
            let got = c.reader.assignments().await.unwrap();
            node.close();
            got
        });
        let mut engine = crate::engine::Engine::in_memory(tight(), crate::engine::Model::default());
        for (k, r) in records.iter().enumerate() {
            if gone >> (k % 32) & 1 == 0 {
                engine.upsert(r.clone()).unwrap();
            }
        }
        let want = grouping(engine.assignments().map(|(k, e)| (k.to_string(), e)));
        proptest::prop_assert_eq!(grouping(got), want);
    }
}
