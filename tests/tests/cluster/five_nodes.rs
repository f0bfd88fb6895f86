//! Five nodes give the same clustering as one (same partition count), with
//! three importers writing through different nodes at once.

use kindred_tests::{
    generate, import_csv, kindred_at, partition_of_csv, reference_export, stdout_ok, TestCluster,
};

const PARTITIONS: u32 = 8;

/// Splits a CSV into `n` files of interleaved rows (same header).
fn split(csv: &std::path::Path, n: usize) -> Vec<std::path::PathBuf> {
    let mut rdr = csv::Reader::from_path(csv).unwrap();
    let header = rdr.headers().unwrap().clone();
    let paths: Vec<_> = (0..n)
        .map(|i| csv.with_file_name(format!("part{i}.csv")))
        .collect();
    let mut ws: Vec<_> = paths
        .iter()
        .map(|p| {
            let mut w = csv::Writer::from_path(p).unwrap();
            w.write_record(&header).unwrap();
            w
        })
        .collect();
    for (i, r) in rdr.records().enumerate() {
        ws[i % n].write_record(&r.unwrap()).unwrap();
    }
    for mut w in ws {
        w.flush().unwrap();
    }
    paths
}

#[test]
fn five_nodes_and_three_concurrent_importers_match_one_node() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, mapping) = generate(&tmp.path().join("gen"), 3000, 13);
    let total = csv::Reader::from_path(&csv).unwrap().records().count();
    let reference = reference_export(&tmp.path().join("one"), PARTITIONS, &csv, &mapping);

    let c = TestCluster::start(&tmp.path().join("five"), 5, PARTITIONS);
    let parts = split(&csv, 3);
    let importers: Vec<_> = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let via = c.nodes[i * 2].endpoint();
            let mapping = mapping.clone();
            std::thread::spawn(move || stdout_ok(&import_csv(&via, &part, &mapping)))
        })
        .collect();
    for t in importers {
        t.join().unwrap();
    }
    let export = stdout_ok(&kindred_at(&c.nodes[3].endpoint(), &["export"]));
    assert_eq!(export.lines().count() - 1, total);
    assert_eq!(partition_of_csv(&export), partition_of_csv(&reference));
}
