//! The same records give the same clustering on 1 and 3 nodes (same
//! partition count), whichever node they are written through, and when
//! two importers load different halves concurrently through different
//! nodes.

use kindred_tests::{kindred_at, partition_of_csv, repo, stdout_ok, TestCluster};

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
