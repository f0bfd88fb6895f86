//! Harness for the integration tests: starts real `kindred-node`
//! processes on free loopback ports, runs the real `kindred` CLI, and
//! compares clusterings. The binaries come from the same target directory
//! as the test executable (`cargo build --workspace --bins` first).
//!
//! Tests wait for progress with [`wait_until`], never with a bare sleep.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kindred_client::{Client, ClientOptions, TlsOptions};

/// Path of a workspace binary next to the running test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} not found: run `cargo build --workspace --bins` before the tests",
        p.display()
    );
    p
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// A free TCP port on 127.0.0.1, never one this process handed out before:
/// the tests of a suite run as threads of one process under `cargo test`,
/// and a port is only bound by the node some time after it is picked.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        if given.insert(port) {
            return port;
        }
    }
}

/// How often [`wait_until`] and [`poll_until`] check their condition.
pub const POLL: Duration = Duration::from_millis(100);

/// Checks `cond` every [`POLL`] until it holds or `timeout` has passed, and
/// says whether it held. For waits whose failure message needs what was
/// seen last; otherwise use [`wait_until`].
pub fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        // The poll interval, not a wait for something to happen.
        std::thread::sleep(POLL);
    }
}

/// `GET /metrics` of a node's metrics listener over plain HTTP/1.1.
pub fn scrape_metrics(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out
}

/// The value of one sample line (`name{labels} value`) of a scrape.
pub fn metric_sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Waits for progress: checks `cond` every [`POLL`] until it holds, and
/// fails naming `what` if it does not within `timeout`.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, cond: impl FnMut() -> bool) {
    assert!(
        poll_until(timeout, cond),
        "timed out after {timeout:?} waiting for {what}"
    );
}

/// How clients reach a node: its CA (then `https://`) and a token.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub ca: Option<PathBuf>,
    pub token: Option<String>,
}

impl Access {
    /// The `kindred` CLI flags for this access.
    pub fn cli_flags(&self) -> Vec<String> {
        let mut f = Vec::new();
        if let Some(ca) = &self.ca {
            f.extend(["--ca".to_string(), ca.display().to_string()]);
        }
        if let Some(t) = &self.token {
            f.extend(["--token".to_string(), t.clone()]);
        }
        f
    }

    /// Client options for this access.
    pub fn options(&self) -> ClientOptions {
        ClientOptions {
            token: self.token.clone(),
            tls: TlsOptions {
                ca_pem: self.ca.as_ref().map(|p| std::fs::read(p).expect("CA file")),
                ..TlsOptions::default()
            },
            ..ClientOptions::default()
        }
    }
}

/// Writes a development CA and certificates for `names` into `dir`
/// (`kindred-node dev-certs`).
pub fn dev_certs(dir: &Path, names: &[&str]) {
    let out = Command::new(bin("kindred-node"))
        .args([
            "dev-certs",
            "--out",
            dir.to_str().unwrap(),
            "--names",
            &names.join(","),
        ])
        .output()
        .expect("run kindred-node dev-certs");
    stdout_ok(&out);
}

/// Writes a new master key file at `path` (`kindred-node keys generate`).
pub fn master_key_file(path: &Path) {
    let out = Command::new(bin("kindred-node"))
        .args(["keys", "generate", "--out", path.to_str().unwrap()])
        .output()
        .expect("run kindred-node keys generate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new token and its tokens-file line (`kindred-node token`).
pub fn new_token(name: &str, role: &str) -> (String, String) {
    let out = Command::new(bin("kindred-node"))
        .args(["token", "--name", name, "--role", role])
        .output()
        .expect("run kindred-node token");
    let text = stdout_ok(&out);
    let mut lines = text.lines();
    let token = lines
        .next()
        .and_then(|l| l.strip_prefix("token: "))
        .expect("token line");
    let line = lines.next().expect("tokens-file line");
    (token.to_string(), line.to_string())
}

/// A running `kindred-node`.
pub struct Node {
    child: Option<Child>,
    pub port: u16,
    pub internal_port: u16,
    /// How the harness's clients reach it.
    pub access: Access,
    pub data_dir: PathBuf,
    pub log: PathBuf,
}

impl Node {
    /// Starts a node on a free port over `data_dir`, waiting until it serves.
    pub fn start(data_dir: &Path) -> Node {
        Self::start_with(data_dir, &[])
    }

    /// Starts a node with extra flags.
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Node {
        let node = Self::spawn(data_dir, free_port(), extra);
        node.wait_ready(Duration::from_secs(60));
        node
    }

    /// Starts a node on a given public port (and a free internal one)
    /// without waiting for it to serve.
    pub fn spawn(data_dir: &Path, port: u16, extra: &[&str]) -> Node {
        Self::spawn_at(data_dir, port, free_port(), extra)
    }

    /// Starts a node on given public and internal ports without waiting.
    pub fn spawn_at(data_dir: &Path, port: u16, internal_port: u16, extra: &[&str]) -> Node {
        let log = data_dir.with_extension(format!("{port}.log"));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("node log file");
        let child = Command::new(bin("kindred-node"))
            .args([
                "--data-dir",
                data_dir.to_str().unwrap(),
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--internal-listen",
                &format!("127.0.0.1:{internal_port}"),
            ])
            .args(extra)
            .env("KINDRED_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start kindred-node");
        Node {
            child: Some(child),
            port,
            internal_port,
            access: Access::default(),
            data_dir: data_dir.to_path_buf(),
            log,
        }
    }

    /// `127.0.0.1:PORT` of the node-to-node service (for `--peers` and
    /// `cluster add-node`).
    pub fn internal_addr(&self) -> String {
        format!("127.0.0.1:{}", self.internal_port)
    }

    /// `http://127.0.0.1:PORT` (`https://` when the node has TLS).
    pub fn endpoint(&self) -> String {
        let scheme = if self.access.ca.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Sets how clients reach the node (before waiting for it).
    pub fn with_access(mut self, access: Access) -> Node {
        self.access = access;
        self
    }

    /// Waits until the node answers requests.
    pub fn wait_ready(&self, timeout: Duration) {
        let rt = runtime();
        let ready = poll_until(timeout, || {
            rt.block_on(async {
                match Client::connect_with(&[self.endpoint()], self.access.options()).await {
                    Ok(c) => c.stats().await.is_ok(),
                    Err(_) => false,
                }
            })
        });
        assert!(
            ready,
            "node on port {} did not become ready within {timeout:?}; log:\n{}",
            self.port,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// A client connected to this node.
    pub async fn client(&self) -> Client {
        Client::connect_with(&[self.endpoint()], self.access.options())
            .await
            .expect("connect to node")
    }

    /// Kills the process without warning (SIGKILL).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops gracefully (SIGTERM) and returns the exit status code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let mut status = None;
        let exited = poll_until(Duration::from_secs(30), || {
            status = c.try_wait().ok().flatten();
            status.is_some()
        });
        if !exited {
            let _ = c.kill();
            let _ = c.wait();
        }
        status.and_then(|st| st.code())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Real `kindred-node` processes forming one cluster on loopback ports.
pub struct TestCluster {
    pub nodes: Vec<Node>,
    /// `--peers` value: `1=127.0.0.1:P1,...` (internal ports).
    pub peers: String,
    pub partitions: u32,
    dir: PathBuf,
    /// Extra flags of each node.
    extra: Vec<Vec<String>>,
}

impl TestCluster {
    /// Starts `n` nodes (ids 1..=n) with `partitions` virtual partitions
    /// under `dir`, and waits until every node serves.
    pub fn start(dir: &Path, n: usize, partitions: u32) -> TestCluster {
        Self::start_with(dir, n, partitions, |_| Vec::new())
    }

    /// Starts `n` nodes, node `i` (0-based) with the flags `extra(i)` too.
    pub fn start_with(
        dir: &Path,
        n: usize,
        partitions: u32,
        extra: impl Fn(usize) -> Vec<String>,
    ) -> TestCluster {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let peers = ports
            .iter()
            .enumerate()
            .map(|(i, (_, internal))| format!("{}=127.0.0.1:{internal}", i + 1))
            .collect::<Vec<_>>()
            .join(",");
        std::fs::create_dir_all(dir).expect("cluster directory");
        let key_file = dir.join("master.key");
        if !key_file.exists() {
            master_key_file(&key_file);
        }
        let mut c = TestCluster {
            nodes: Vec::new(),
            peers,
            partitions,
            dir: dir.to_path_buf(),
            extra: (0..n).map(extra).collect(),
        };
        for (i, &(port, internal)) in ports.iter().enumerate() {
            let flags = c.flags(i);
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let node = Node::spawn_at(&c.node_dir(i), port, internal, &flags);
            c.nodes.push(node);
        }
        for n in &c.nodes {
            n.wait_ready(Duration::from_secs(90));
        }
        c
    }

    /// The master key file every node of the cluster shares.
    pub fn key_file(&self) -> PathBuf {
        self.dir.join("master.key")
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.join(format!("node{}", i + 1))
    }

    fn flags(&self, i: usize) -> Vec<String> {
        vec![
            "--node-id".into(),
            (i + 1).to_string(),
            "--peers".into(),
            self.peers.clone(),
            "--partitions".into(),
            self.partitions.to_string(),
            "--master-key-file".into(),
            self.key_file().display().to_string(),
        ]
        .into_iter()
        .chain(self.extra[i].iter().cloned())
        .collect()
    }

    /// Restarts node `i` (0-based) on its port and data, waiting until it serves.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].kill9();
        let (port, internal) = (self.nodes[i].port, self.nodes[i].internal_port);
        let flags = self.flags(i);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        self.nodes[i] = Node::spawn_at(&self.node_dir(i), port, internal, &flags);
        self.nodes[i].wait_ready(Duration::from_secs(90));
    }

    /// Every node's endpoint, comma-separated (for `--endpoint`).
    pub fn endpoints(&self) -> String {
        self.nodes
            .iter()
            .map(Node::endpoint)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Runs the `kindred` CLI against a list of endpoints.
pub fn kindred_at(endpoints: &str, args: &[&str]) -> Output {
    Command::new(bin("kindred"))
        .arg("--endpoint")
        .arg(endpoints)
        .args(args)
        .output()
        .expect("run kindred")
}

/// A current-thread tokio runtime for driving the async client from tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs the `kindred` CLI against a node.
pub fn kindred(node: &Node, args: &[&str]) -> Output {
    Command::new(bin("kindred"))
        .arg("--endpoint")
        .arg(node.endpoint())
        .args(node.access.cli_flags())
        .args(args)
        .output()
        .expect("run kindred")
}

/// stdout as text, panicking with stderr when the command failed unexpectedly.
pub fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stdout of a successful command, parsed as JSON (`--output json`).
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout_ok(out)).expect("command printed JSON")
}

/// A 64-bit integer from `--output json`: the proto3 JSON mapping prints
/// 64-bit integers as strings ("42"); other JSON (import summaries) as
/// numbers. None when absent or not an integer.
pub fn num(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// A clustering read from `source,record_id,entity_id` CSV, as sorted sets
/// of `source/record_id` (entity ids themselves are not compared).
pub fn partition_of_csv(text: &str) -> Vec<Vec<String>> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rdr.records() {
        let row = row.expect("export row");
        groups
            .entry(row[2].to_string())
            .or_default()
            .push(format!("{}/{}", &row[0], &row[1]));
    }
    let mut v: Vec<Vec<String>> = groups
        .into_values()
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    v.sort();
    v
}

/// Generates a noisy multi-source dataset with `kindred-gen`: (records
/// CSV, mapping).
pub fn generate(dir: &Path, people: usize, seed: u64) -> (PathBuf, PathBuf) {
    let st = Command::new(bin("kindred-gen"))
        .args([
            "--people",
            &people.to_string(),
            "--seed",
            &seed.to_string(),
            "--difficulty",
            "medium",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .expect("run kindred-gen");
    stdout_ok(&st);
    (dir.join("records.csv"), dir.join("mapping.toml"))
}

/// `kindred import` of a CSV through the given endpoints.
pub fn import_csv(endpoints: &str, csv: &Path, mapping: &Path) -> Output {
    kindred_at(
        endpoints,
        &[
            "--output",
            "json",
            "import",
            csv.to_str().unwrap(),
            "--mapping",
            mapping.to_str().unwrap(),
            "--no-progress",
        ],
    )
}

/// Records a cluster holds, as `kindred stats` reports them (0 if the
/// call fails).
pub fn record_count(endpoints: &str) -> u64 {
    let out = kindred_at(endpoints, &["--output", "json", "stats"]);
    if !out.status.success() {
        return 0;
    }
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| num(&v["records"]))
        .unwrap_or(0)
}

/// Waits until an import in progress has brought a cluster to at least
/// `at_least` records.
pub fn wait_for_records(endpoints: &str, at_least: u64, timeout: Duration) {
    wait_until(
        timeout,
        &format!("the import to reach {at_least} records"),
        || record_count(endpoints) >= at_least,
    );
}

/// `kindred cluster status` as JSON.
pub fn cluster_status(endpoints: &str) -> serde_json::Value {
    json(&kindred_at(
        endpoints,
        &["--output", "json", "cluster", "status"],
    ))
}

/// `kindred cluster status` as JSON, or `None` if the call failed.
pub fn try_cluster_status(endpoints: &str) -> Option<serde_json::Value> {
    let out = kindred_at(endpoints, &["--output", "json", "cluster", "status"]);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// The export of a 1-node cluster with the same partition count: the
/// answer every cluster must give for these records.
pub fn reference_export(dir: &Path, partitions: u32, csv: &Path, mapping: &Path) -> String {
    let one = TestCluster::start(dir, 1, partitions);
    let out = import_csv(&one.endpoints(), csv, mapping);
    stdout_ok(&out);
    stdout_ok(&kindred_at(&one.endpoints(), &["export"]))
}

/// Every value (compared in lower case) found in plaintext in any file
/// under `dir`, which must hold RocksDB files.
pub fn found_on_disk(dir: &Path, values: &BTreeSet<String>) -> BTreeSet<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 10, "expected RocksDB files under {dir:?}");
    let mut found = BTreeSet::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for v in values {
            if text.contains(&v.to_lowercase()) {
                found.insert(v.clone());
            }
        }
    }
    found
}
