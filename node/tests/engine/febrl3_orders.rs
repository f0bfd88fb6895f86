//! Febrl dataset 3 resolved in three arrival orders (file order, reversed,
//! shuffled) gives identical entities, with a model trained without labels
//! on the data itself; and the result is accurate.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use kindred_node::engine::features::Packed;
use kindred_node::engine::train::{train, TrainOptions};
use kindred_node::engine::{Engine, EngineConfig, Model};
use kindred_node::eval::load::{load_records, Truth};
use kindred_node::eval::metrics::score;
use kindred_proto::mapping::Mapping;
use kindred_proto::v1::Record;

fn data() -> (Vec<Record>, Truth) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/febrl");
    let mapping =
        Mapping::from_toml(&std::fs::read_to_string(dir.join("febrl.toml")).unwrap()).unwrap();
    let (records, rejected) = load_records(&dir.join("dataset3.csv"), &mapping, "febrl3").unwrap();
    assert!(rejected.is_empty());
    assert_eq!(records.len(), 5000);
    (records, Truth::load(&dir.join("febrl3_truth.csv")).unwrap())
}

fn trained(records: &[Record]) -> Model {
    let probe = Engine::in_memory(EngineConfig::default(), Model::default());
    let packed: Vec<Packed> = records
        .iter()
        .map(|r| Packed::from_std(&probe.standardize(r)))
        .collect();
    let refs: Vec<&Packed> = packed.iter().collect();
    train(
        &refs,
        &EngineConfig::default().blocking,
        &Model::default(),
        &TrainOptions::default(),
    )
    .unwrap()
}

/// Entities as sets of record ids.
fn resolve(records: &[Record], model: &Model) -> (Vec<Vec<String>>, HashMap<String, u64>) {
    let mut e = Engine::in_memory(EngineConfig::default(), model.clone());
    for r in records {
        e.upsert(r.clone()).unwrap();
    }
    let mut groups: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut by_id = HashMap::new();
    for (k, ent) in e.assignments() {
        let id = k.split('\u{1f}').nth(1).unwrap().to_string();
        by_id.insert(id.clone(), ent);
        groups.entry(ent).or_default().push(id);
    }
    let mut p: Vec<Vec<String>> = groups
        .into_values()
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    p.sort();
    (p, by_id)
}

#[test]
fn febrl3_in_three_orders_gives_identical_accurate_entities() {
    let (records, truth) = data();
    let model = trained(&records);
    let mut reversed = records.clone();
    reversed.reverse();
    let mut shuffled = records.clone();
    shuffled.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7));
    // Training is order-independent too.
    assert_eq!(trained(&shuffled), model);

    let (a, by_id) = resolve(&records, &model);
    let (b, _) = resolve(&reversed, &model);
    let (c, _) = resolve(&shuffled, &model);
    assert_eq!(a, b, "file order and reversed order differ");
    assert_eq!(a, c, "file order and shuffled order differ");

    // And the entities are right (the target is pairwise F1 >= 0.997).
    let (t, p): (Vec<String>, Vec<u64>) = truth
        .by_key
        .iter()
        .map(|(k, c)| (c.clone(), by_id[k]))
        .unzip();
    let s = score(&t, &p);
    assert!(
        s.pairwise.f1 >= 0.997,
        "pairwise F1 {:.4} below 0.997",
        s.pairwise.f1
    );
    assert!(
        s.bcubed.f1 >= 0.997,
        "B-cubed F1 {:.4} below 0.997",
        s.bcubed.f1
    );
}
