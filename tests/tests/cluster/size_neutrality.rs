//! The same records give the same clustering on 1 and 3 nodes (same
//! partition count), whichever node they are written through, and when
//! two importers load different halves concurrently through different
//! nodes; and on 1, 4 or 16 partitions, equal to the engine alone.

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
