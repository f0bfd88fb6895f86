//! The same records give the same clustering on 1 and 3 nodes (same
//! partition count), whichever node they are written through, and when
//! two importers load different halves concurrently through different
//! nodes; and on 1, 4 or 16 partitions, equal to the engine alone, with
//! blocking keys demoted by their count over the whole cluster, before and
//! after deletes.

use std::path::Path;
use std::process::Command;

use kindred_tests::{bin, import_csv, kindred_at, partition_of_csv, repo, stdout_ok, TestCluster};

const PARTITIONS: u32 = 8;

fn import(endpoints: &str, file: &std::path::Path) {
    let mapping = repo().join("client/data/sample/mapping.toml");
    stdout_ok(&kindred_at(
        endpoints,
        &[
            "import",
            file.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--no-progress",
        ],
    ));
}

/// Writes the sample's rows split in two halves (alternating rows).
fn halves(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let text = std::fs::read_to_string(repo().join("client/data/sample/records.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut a, mut b) = (vec![header], vec![header]);
    // Rows never span lines in the shipped sample.
    for (i, l) in lines.enumerate() {
        if i % 2 == 0 {
            a.push(l)
        } else {
            b.push(l)
        }
    }
    let (pa, pb) = (dir.join("a.csv"), dir.join("b.csv"));
    std::fs::write(&pa, a.join("\n") + "\n").unwrap();
    std::fs::write(&pb, b.join("\n") + "\n").unwrap();
    (pa, pb)
}

#[test]
fn one_and_three_nodes_and_concurrent_importers_give_identical_clusterings() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = repo().join("client/data/sample/records.csv");
    let total = csv::Reader::from_path(&sample).unwrap().records().count();

    let one = TestCluster::start(&tmp.path().join("one"), 1, PARTITIONS);
    import(&one.endpoints(), &sample);
    let single = stdout_ok(&kindred_at(&one.endpoints(), &["export"]));
    assert_eq!(single.lines().count() - 1, total);
    drop(one);

    // Three nodes: write through node 1, read through node 2.
    let three = TestCluster::start(&tmp.path().join("three"), 3, PARTITIONS);
    import(&three.nodes[0].endpoint(), &sample);
    let exported = stdout_ok(&kindred_at(&three.nodes[1].endpoint(), &["export"]));
    assert_eq!(partition_of_csv(&exported), partition_of_csv(&single));
    drop(three);

    // Three nodes, two importers at once through different nodes.
    let (a, b) = halves(tmp.path());
    let three = TestCluster::start(&tmp.path().join("concurrent"), 3, PARTITIONS);
    let (e1, e3) = (three.nodes[0].endpoint(), three.nodes[2].endpoint());
    let ta = std::thread::spawn(move || import(&e1, &a));
    let tb = std::thread::spawn(move || import(&e3, &b));
    ta.join().unwrap();
    tb.join().unwrap();
    let exported = stdout_ok(&kindred_at(&three.nodes[1].endpoint(), &["export"]));
    assert_eq!(exported.lines().count() - 1, total);
    assert_eq!(partition_of_csv(&exported), partition_of_csv(&single));
}

/// The engine alone (`kindred-eval`, default model) resolving a file: the
/// reference every layout must reproduce.
fn engine_alone(csv: &Path, mapping: &Path, out: &Path) -> String {
    let st = Command::new(bin("kindred-eval"))
        .args(["--input", csv.to_str().unwrap()])
        .args(["--mapping", mapping.to_str().unwrap()])
        .args([
            "--source",
            "s",
            "--untrained",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .expect("run kindred-eval");
    stdout_ok(&st);
    std::fs::read_to_string(out).unwrap()
}

/// Records whose duplicates mostly share a partition (Febrl: typos in
/// family names move some of them), and the shipped multi-source sample
/// (swapped names, missing family names, shared household identifiers):
/// the partition count is a deployment detail and changes nobody's entity.
#[test]
fn one_four_and_sixteen_partitions_give_the_engines_clustering() {
    let tmp = tempfile::tempdir().unwrap();
    let sets = [
        (
            repo().join("node/tests/data/febrl/dataset3.csv"),
            repo().join("node/tests/data/febrl/febrl.toml"),
        ),
        (
            repo().join("client/data/sample/records.csv"),
            repo().join("client/data/sample/mapping.toml"),
        ),
    ];
    for (n, (csv, mapping)) in sets.iter().enumerate() {
        let reference = engine_alone(csv, mapping, &tmp.path().join(format!("engine{n}.csv")));
        let want = partition_of_csv(&reference);
        for partitions in [1, 4, 16] {
            let node =
                TestCluster::start(&tmp.path().join(format!("{n}-{partitions}")), 1, partitions);
            // Febrl's mapping has no source column; the sample's has one.
            let extra: &[&str] = if n == 0 { &["--source", "s"] } else { &[] };
            stdout_ok(&import_with(&node.endpoints(), csv, mapping, extra));
            let got = stdout_ok(&kindred_at(&node.endpoints(), &["export"]));
            assert_eq!(
                partition_of_csv(&got),
                want,
                "{} on {partitions} partitions",
                csv.display()
            );
        }
    }
}

fn import_with(
    endpoints: &str,
    csv: &Path,
    mapping: &Path,
    extra: &[&str],
) -> std::process::Output {
    if extra.is_empty() {
        return import_csv(endpoints, csv, mapping);
    }
    let mut args = vec![
        "import",
        csv.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    kindred_at(endpoints, &args)
}

/// A tiny demotion threshold makes many keys too common: whether a key is
/// live must depend on how many records hold it in the whole cluster, not
/// on how they happen to be spread over 16 partitions. Deleting records
/// brings keys back within the threshold everywhere, and the pairs they
/// support are found again across partitions: the result equals never
/// having loaded the deleted records.
#[test]
fn keys_are_demoted_by_their_count_over_the_whole_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, mapping) = (
        repo().join("client/data/sample/records.csv"),
        repo().join("client/data/sample/mapping.toml"),
    );
    let node_cfg = tmp.path().join("node.toml");
    std::fs::write(&node_cfg, "[engine.blocking]\nmax_key_size = 5\n").unwrap();
    let engine_cfg = tmp.path().join("engine.toml");
    std::fs::write(&engine_cfg, "[blocking]\nmax_key_size = 5\n").unwrap();
    let engine = |csv: &Path, out: &str| {
        let out = tmp.path().join(out);
        let st = Command::new(bin("kindred-eval"))
            .args(["--input", csv.to_str().unwrap()])
            .args(["--mapping", mapping.to_str().unwrap()])
            .args(["--config", engine_cfg.to_str().unwrap()])
            .args(["--untrained", "--out", out.to_str().unwrap()])
            .output()
            .expect("run kindred-eval");
        stdout_ok(&st);
        partition_of_csv(&std::fs::read_to_string(out).unwrap())
    };
    let node = TestCluster::start_with(&tmp.path().join("n"), 1, 16, |_| {
        vec!["--config".into(), node_cfg.to_str().unwrap().into()]
    });
    stdout_ok(&import_csv(&node.endpoints(), &csv, &mapping));
    let got = stdout_ok(&kindred_at(&node.endpoints(), &["export"]));
    assert_eq!(
        partition_of_csv(&got),
        engine(&csv, "all.csv"),
        "all records"
    );

    // Delete every fourth record; the rest must resolve as if alone.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let mut kept = vec![lines.next().unwrap().to_string()];
    for (i, line) in lines.enumerate() {
        if i % 4 == 0 {
            let mut cols = line.split(',');
            let (source, id) = (cols.next().unwrap(), cols.next().unwrap());
            stdout_ok(&kindred_at(
                &node.endpoints(),
                &["delete", &format!("{source}:{id}")],
            ));
        } else {
            kept.push(line.to_string());
        }
    }
    let kept_csv = tmp.path().join("kept.csv");
    std::fs::write(&kept_csv, kept.join("\n") + "\n").unwrap();
    let got = stdout_ok(&kindred_at(&node.endpoints(), &["export"]));
    assert_eq!(
        partition_of_csv(&got),
        engine(&kept_csv, "kept.csv"),
        "after deletes"
    );
}
