//! The node's Prometheus metrics: one registry per process, the handles
//! the hot paths update (counters and histograms, a few atomic operations
//! each), and the figures read only when scraped (partition mailboxes and
//! census, RocksDB properties, Raft status, process memory).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use prometheus::core::Collector;
use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Upper bounds (seconds) of the latency buckets: 100 µs to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// Entity sizes are counted in these classes (records of the entity held by
/// one partition): 1, 2, 3-5, 6-10, 11-50, 51+.
pub const ENTITY_SIZE_CLASSES: [(u64, &str); 6] = [
    (1, "1"),
    (2, "2"),
    (5, "3-5"),
    (10, "6-10"),
    (50, "11-50"),
    (u64::MAX, "51+"),
];

/// The class of an entity of `size` records (an index into [`ENTITY_SIZE_CLASSES`]).
pub fn size_class(size: u64) -> usize {
    ENTITY_SIZE_CLASSES
        .iter()
        .position(|&(max, _)| size <= max)
        .unwrap_or(ENTITY_SIZE_CLASSES.len() - 1)
}

/// Every metric the node exports.
pub struct Metrics {
    registry: Registry,
    /// Calls by service method and gRPC status code.
    pub rpc_calls: IntCounterVec,
    /// Call latency (until the last byte of the response), by method and
    /// status code.
    pub rpc_latency: HistogramVec,
    /// Calls in progress, by method.
    pub rpc_in_flight: IntGaugeVec,
    /// Records applied (upserted) by this node's partitions.
    pub records_applied: IntCounter,
    /// Records deleted by this node's partitions.
    pub records_deleted: IntCounter,
    /// Events stored by this node's partitions (duplicates not counted).
    pub events_stored: IntCounter,
    /// Segment sweeps this node finished.
    pub segment_sweeps: IntCounter,
    /// Customers evaluated by this node's last segment sweep (those whose
    /// membership the partitions it owns keep).
    pub segment_sweep_customers: IntGauge,
    /// How long a partition command waited in the mailbox, by partition.
    pub mailbox_wait: HistogramVec,
    /// Partition commands handled, by partition.
    pub partition_commands: IntCounterVec,
    mailbox_depth: IntGaugeVec,
    partition_records: IntGaugeVec,
    /// Record pairs compared (per record: its rate over the rate of
    /// `records_applied_total`).
    pub comparisons: IntCounter,
    entities: IntGaugeVec,
    rocks: GaugeVec,
    raft_term: IntGaugeVec,
    raft_commit: IntGaugeVec,
    raft_applied: IntGaugeVec,
    raft_apply_lag: IntGaugeVec,
    raft_leader: IntGaugeVec,
    /// Leader changes seen by this node, by Raft group.
    pub raft_leader_changes: IntCounterVec,
    resident_bytes: IntGauge,
    virtual_bytes: IntGauge,
    scrape_seconds: Gauge,
    scraping: Mutex<()>,
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Makes each metric with the `kindred` namespace and registers it; the
/// names are fixed, so a failure is a programming error the tests catch.
struct Builder(Registry);

impl Builder {
    fn add<C: Collector + Clone + 'static>(&self, c: prometheus::Result<C>) -> C {
        let c = c.expect("metric names are unique and valid");
        self.0
            .register(Box::new(c.clone()))
            .expect("metric names are unique and valid");
        c
    }

    fn counter(&self, name: &str, help: &str) -> IntCounter {
        self.add(IntCounter::with_opts(opts(name, help)))
    }

    fn counters(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        self.add(IntCounterVec::new(opts(name, help), labels))
    }

    fn gauge(&self, name: &str, help: &str) -> IntGauge {
        self.add(IntGauge::with_opts(opts(name, help)))
    }

    fn gauges(&self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        self.add(IntGaugeVec::new(opts(name, help), labels))
    }

    fn histograms(&self, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
        let o = HistogramOpts::new(name, help)
            .namespace("kindred")
            .buckets(LATENCY_BUCKETS.to_vec());
        self.add(HistogramVec::new(o, labels))
    }
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace("kindred")
}

impl Metrics {
    fn new() -> Metrics {
        let b = Builder(Registry::new());
        let (by_call, by_partition, by_group) = (&["method", "code"], &["partition"], &["group"]);
        Metrics {
            rpc_calls: b.counters(
                "rpc_calls_total",
                "gRPC calls answered, by method and status code",
                by_call,
            ),
            rpc_latency: b.histograms(
                "rpc_duration_seconds",
                "gRPC call latency until the end of the response, by method and status code",
                by_call,
            ),
            rpc_in_flight: b.gauges("rpc_in_flight", "gRPC calls in progress", &["method"]),
            records_applied: b.counter(
                "records_applied_total",
                "records upserted by this node's partitions",
            ),
            records_deleted: b.counter(
                "records_deleted_total",
                "records deleted by this node's partitions",
            ),
            events_stored: b.counter(
                "events_stored_total",
                "events stored by this node's partitions (resends not counted)",
            ),
            segment_sweeps: b.counter(
                "segment_sweeps_total",
                "segment sweeps this node finished (each over the partitions it owns)",
            ),
            segment_sweep_customers: b.gauge(
                "segment_sweep_customers",
                "customers evaluated by this node's last segment sweep",
            ),
            mailbox_wait: b.histograms(
                "partition_mailbox_wait_seconds",
                "time a command waited in its partition's mailbox",
                by_partition,
            ),
            partition_commands: b.counters(
                "partition_commands_total",
                "commands handled by each partition",
                by_partition,
            ),
            mailbox_depth: b.gauges(
                "partition_mailbox_depth",
                "commands waiting in each partition's mailbox",
                by_partition,
            ),
            partition_records: b.gauges(
                "partition_records",
                "records held by each partition",
                by_partition,
            ),
            comparisons: b.counter(
                "comparisons_total",
                "record pairs compared by this node's partitions (per record: \
                 its rate over the rate of records_applied_total)",
            ),
            entities: b.gauges(
                "entities",
                "entities by size class (records of the entity held by one partition)",
                &["size"],
            ),
            rocks: b.add(GaugeVec::new(
                opts("rocksdb", "RocksDB properties of each partition's store"),
                &["partition", "property"],
            )),
            raft_term: b.gauges("raft_term", "current Raft term, by group", by_group),
            raft_commit: b.gauges("raft_commit_index", "Raft commit index, by group", by_group),
            raft_applied: b.gauges(
                "raft_applied_index",
                "Raft applied index, by group",
                by_group,
            ),
            raft_apply_lag: b.gauges(
                "raft_apply_lag",
                "committed Raft entries not yet applied, by group",
                by_group,
            ),
            raft_leader: b.gauges(
                "raft_leader",
                "the group's leader as this node knows it (0: unknown)",
                by_group,
            ),
            raft_leader_changes: b.counters(
                "raft_leader_changes_total",
                "leader changes seen by this node, by group",
                by_group,
            ),
            resident_bytes: b.gauge("process_resident_memory_bytes", "resident memory"),
            virtual_bytes: b.gauge("process_virtual_memory_bytes", "virtual memory"),
            scrape_seconds: b.add(Gauge::with_opts(opts(
                "scrape_duration_seconds",
                "time the previous scrape took to gather",
            ))),
            scraping: Mutex::new(()),
            registry: b.0,
        }
    }

    /// The handles a partition's actor updates, and the figures it shares.
    pub fn partition(&self, partition: u32) -> Arc<PartitionProbe> {
        let p = partition.to_string();
        Arc::new(PartitionProbe {
            partition,
            wait: self.mailbox_wait.with_label_values(&[p.as_str()]),
            commands: self.partition_commands.with_label_values(&[p.as_str()]),
            records: AtomicU64::new(0),
            comparisons: AtomicU64::new(0),
            sizes: Default::default(),
            db: OnceLock::new(),
        })
    }

    /// Everything, in the Prometheus text format, after refreshing the
    /// figures that are read at scrape time.
    pub fn render(&self, scrape: &Scrape<'_>) -> String {
        // One scrape at a time: refreshing resets and refills gauges that
        // a concurrent scrape would otherwise gather half empty.
        let _one = self.scraping.lock().unwrap_or_else(|e| e.into_inner());
        let started = std::time::Instant::now();
        self.refresh(scrape);
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        self.scrape_seconds.set(started.elapsed().as_secs_f64());
        String::from_utf8(out).unwrap_or_default()
    }

    fn refresh(&self, s: &Scrape<'_>) {
        self.mailbox_depth.reset();
        self.partition_records.reset();
        self.rocks.reset();
        let mut sizes = [0u64; ENTITY_SIZE_CLASSES.len()];
        for (probe, depth) in s.partitions {
            let p = probe.partition.to_string();
            let l = [p.as_str()];
            self.mailbox_depth.with_label_values(&l).set(*depth as i64);
            let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as i64;
            self.partition_records
                .with_label_values(&l)
                .set(load(&probe.records));
            for (sum, n) in sizes.iter_mut().zip(&probe.sizes) {
                *sum += n.load(Ordering::Relaxed);
            }
            if let Some(db) = probe.db.get().and_then(Weak::upgrade) {
                for (name, value) in rocks_figures(&db) {
                    self.rocks.with_label_values(&[p.as_str(), name]).set(value);
                }
            }
        }
        for (n, (_, class)) in sizes.iter().zip(ENTITY_SIZE_CLASSES) {
            self.entities.with_label_values(&[class]).set(*n as i64);
        }
        for (group, st) in s.raft {
            let l = [*group];
            self.raft_term.with_label_values(&l).set(st.term as i64);
            self.raft_commit.with_label_values(&l).set(st.commit as i64);
            self.raft_applied
                .with_label_values(&l)
                .set(st.applied as i64);
            self.raft_apply_lag
                .with_label_values(&l)
                .set(st.commit.saturating_sub(st.applied) as i64);
            self.raft_leader.with_label_values(&l).set(st.leader as i64);
        }
        if let Some((rss, vsz)) = process_memory() {
            self.resident_bytes.set(rss as i64);
            self.virtual_bytes.set(vsz as i64);
        }
    }
}

/// What a scrape reads besides the registry: each local partition's probe
/// with its mailbox depth, and the status of each Raft group.
pub struct Scrape<'a> {
    pub partitions: &'a [(Arc<PartitionProbe>, usize)],
    pub raft: &'a [(&'a str, crate::meta::RaftStatus)],
}

/// What one partition shares with the metrics: its histogram handles, the
/// census its actor refreshes, and its RocksDB handle.
pub struct PartitionProbe {
    pub partition: u32,
    pub wait: Histogram,
    pub commands: IntCounter,
    pub records: AtomicU64,
    /// The engine's comparison count at the last census.
    pub comparisons: AtomicU64,
    /// Entities per [`ENTITY_SIZE_CLASSES`] class.
    pub sizes: [AtomicU64; ENTITY_SIZE_CLASSES.len()],
    /// The partition's database, for its properties; weak, so that a
    /// scrape never keeps a closed partition's RocksDB open.
    pub db: OnceLock<Weak<rocksdb::DB>>,
}

impl PartitionProbe {
    /// Publishes the counts of the partition (from its actor).
    pub fn publish_counts(&self, records: u64, comparisons: u64) {
        self.records.store(records, Ordering::Relaxed);
        let before = self.comparisons.swap(comparisons, Ordering::Relaxed);
        metrics()
            .comparisons
            .inc_by(comparisons.saturating_sub(before));
    }

    /// Publishes the entities per size class (from its actor).
    pub fn publish_sizes(&self, sizes: &[u64]) {
        for (slot, n) in self.sizes.iter().zip(sizes) {
            slot.store(*n, Ordering::Relaxed);
        }
    }
}

/// The RocksDB integer properties exported: the property, its short name,
/// and whether it is one figure for the whole database (else it is summed
/// over the column families).
const ROCKS_PROPERTIES: &[(&str, &str, bool)] = &[
    ("rocksdb.cur-size-all-mem-tables", "memtable_bytes", false),
    (
        "rocksdb.num-immutable-mem-table",
        "immutable_memtables",
        false,
    ),
    (
        "rocksdb.estimate-pending-compaction-bytes",
        "pending_compaction_bytes",
        false,
    ),
    (
        "rocksdb.num-running-compactions",
        "running_compactions",
        true,
    ),
    ("rocksdb.num-running-flushes", "running_flushes", true),
    ("rocksdb.compaction-pending", "compaction_pending", false),
    (
        "rocksdb.actual-delayed-write-rate",
        "delayed_write_rate",
        true,
    ),
    ("rocksdb.is-write-stopped", "write_stopped", true),
    ("rocksdb.total-sst-files-size", "sst_bytes", false),
    ("rocksdb.estimate-live-data-size", "live_data_bytes", false),
    ("rocksdb.block-cache-usage", "block_cache_bytes", true),
];

/// Each exported property.
fn rocks_figures(db: &rocksdb::DB) -> Vec<(&'static str, f64)> {
    let cfs = crate::storage::column_families();
    ROCKS_PROPERTIES
        .iter()
        .map(|&(prop, short, db_wide)| {
            let v = if db_wide {
                db.property_int_value(prop).ok().flatten().unwrap_or(0)
            } else {
                cfs.iter()
                    .filter_map(|name| db.cf_handle(name))
                    .filter_map(|cf| db.property_int_value_cf(cf, prop).ok().flatten())
                    .sum()
            };
            (short, v as f64)
        })
        .collect()
}

/// Resident and virtual memory of this process, in bytes, from
/// `/proc/self/status` (kB figures, whatever the page size).
fn process_memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((kb("VmRSS:")? * 1024, kb("VmSize:")? * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_cover_every_size_once() {
        assert_eq!(size_class(1), 0);
        assert_eq!(size_class(2), 1);
        assert_eq!(size_class(3), 2);
        assert_eq!(size_class(5), 2);
        assert_eq!(size_class(6), 3);
        assert_eq!(size_class(50), 4);
        assert_eq!(size_class(51), 5);
        assert_eq!(size_class(u64::MAX), 5);
    }

    #[test]
    fn a_scrape_reports_partitions_raft_and_memory_in_text_format() {
        let m = metrics();
        let probe = m.partition(7);
        probe.publish_counts(12, 40);
        probe.publish_sizes(&[3, 2, 1, 0, 0, 0]);
        probe.wait.observe(0.002);
        m.rpc_calls
            .with_label_values(&["/test/OnlyThisTest", "OK"])
            .inc();
        let raft = crate::meta::RaftStatus {
            term: 4,
            commit: 10,
            applied: 8,
            leader: 2,
            ..Default::default()
        };
        let text = m.render(&Scrape {
            partitions: &[(probe, 5)],
            raft: &[("meta", raft)],
        });
        for line in [
            "kindred_partition_mailbox_depth{partition=\"7\"} 5",
            "kindred_partition_records{partition=\"7\"} 12",
            "kindred_comparisons_total ",
            "kindred_entities{size=\"1\"} 3",
            "kindred_entities{size=\"3-5\"} 1",
            "kindred_raft_term{group=\"meta\"} 4",
            "kindred_raft_apply_lag{group=\"meta\"} 2",
            "kindred_rpc_calls_total{code=\"OK\",method=\"/test/OnlyThisTest\"} 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(text.contains("kindred_partition_mailbox_wait_seconds_bucket{partition=\"7\""));
        assert!(text.contains("kindred_process_resident_memory_bytes "));
    }
}
