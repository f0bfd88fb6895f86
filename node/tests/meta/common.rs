//! Shared harness for the metadata-group tests: N members in one process,
//! each with its own temporary data directory, connected by a simulated
//! network that can isolate nodes, split the cluster into groups, drop a
//! random fraction of messages and delay them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use futures::future::BoxFuture;
use kindred_node::meta::{
    MetaCommand, MetaConfig, MetaError, MetaHandle, MetaReply, MetaState, RaftStatus, Transport,
};
use rand::{Rng, SeedableRng};

/// Generous: the machine is small and shared.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

#[derive(Default)]
struct Rules {
    isolated: HashSet<u64>,
    groups: Option<Vec<HashSet<u64>>>,
    drop_rate: f64,
    delay: Option<(Duration, Duration)>,
}

impl Rules {
    fn connected(&self, a: u64, b: u64) -> bool {
        if self.isolated.contains(&a) || self.isolated.contains(&b) {
            return false;
        }
        match &self.groups {
            None => true,
            Some(gs) => gs.iter().any(|g| g.contains(&a) && g.contains(&b)),
        }
    }
}

/// The simulated network.
pub struct Net {
    handles: RwLock<HashMap<u64, MetaHandle>>,
    rules: Mutex<Rules>,
    rng: Mutex<rand::rngs::StdRng>,
    rt: tokio::runtime::Handle,
}

impl Net {
    pub fn new() -> Arc<Net> {
        Arc::new(Net {
            handles: RwLock::new(HashMap::new()),
            rules: Mutex::new(Rules::default()),
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(7)),
            rt: tokio::runtime::Handle::current(),
        })
    }

    /// Drops every message to and from `id`.
    pub fn isolate(&self, id: u64) {
        self.rules.lock().unwrap().isolated.insert(id);
    }

    /// Only nodes in the same group can talk.
    pub fn partition(&self, groups: &[&[u64]]) {
        self.rules.lock().unwrap().groups =
            Some(groups.iter().map(|g| g.iter().copied().collect()).collect());
    }

    pub fn set_drop_rate(&self, rate: f64) {
        self.rules.lock().unwrap().drop_rate = rate;
    }

    pub fn set_delay(&self, min: Duration, max: Duration) {
        self.rules.lock().unwrap().delay = Some((min, max));
    }

    /// Removes every isolation, partition, drop and delay.
    pub fn heal(&self) {
        *self.rules.lock().unwrap() = Rules::default();
    }

    fn handle(&self, id: u64) -> Option<MetaHandle> {
        self.handles.read().unwrap().get(&id).cloned()
    }

    /// Decides the fate of one message: None = dropped, Some(delay).
    fn fate(&self, from: u64, to: u64) -> Option<Duration> {
        let rules = self.rules.lock().unwrap();
        if !rules.connected(from, to) {
            return None;
        }
        let mut rng = self.rng.lock().unwrap();
        if rules.drop_rate > 0.0 && rng.gen_bool(rules.drop_rate.min(1.0)) {
            return None;
        }
        Some(match rules.delay {
            Some((lo, hi)) if hi > lo => rng.gen_range(lo..hi),
            Some((lo, _)) => lo,
            None => Duration::ZERO,
        })
    }

    fn route(self: &Arc<Self>, from: u64, to: u64, msg: Vec<u8>) {
        let Some(delay) = self.fate(from, to) else {
            return;
        };
        if delay.is_zero() {
            if let Some(h) = self.handle(to) {
                let _ = h.step(&msg);
            }
            return;
        }
        let net = self.clone();
        self.rt.spawn(async move {
            // The simulated network delay (an injected fault, not a wait).
            tokio::time::sleep(delay).await;
            // Re-check: the link may have been cut while the message was in flight.
            if net.rules.lock().unwrap().connected(from, to) {
                if let Some(h) = net.handle(to) {
                    let _ = h.step(&msg);
                }
            }
        });
    }
}

/// One member's view of the simulated network.
struct SimTransport {
    from: u64,
    net: Weak<Net>,
}

impl Transport for SimTransport {
    fn send(&self, to: u64, msg: Vec<u8>) {
        if let Some(net) = self.net.upgrade() {
            net.route(self.from, to, msg);
        }
    }

    fn forward(
        &self,
        to: u64,
        cmd: MetaCommand,
    ) -> BoxFuture<'static, Result<MetaReply, MetaError>> {
        let from = self.from;
        let net = self.net.clone();
        Box::pin(async move {
            let net = net
                .upgrade()
                .ok_or(MetaError::Transport("network gone".into()))?;
            let (Some(d1), Some(d2)) = (net.fate(from, to), net.fate(to, from)) else {
                // Part of the simulated fault, not a wait: an unreachable
                // peer fails after a short connect delay, as over a real
                // network, rather than at once.
                tokio::time::sleep(Duration::from_millis(20)).await;
                return Err(MetaError::Transport(format!(
                    "{to} unreachable from {from}"
                )));
            };
            // The simulated network delay each way (an injected fault).
            tokio::time::sleep(d1).await;
            let h = net
                .handle(to)
                .ok_or(MetaError::Transport(format!("node {to} is down")))?;
            let r = h.propose_local(cmd).await;
            tokio::time::sleep(d2).await;
            r
        })
    }
}

/// Knobs for a test cluster.
#[derive(Clone)]
pub struct Opts {
    pub partitions: u32,
    pub snapshot_every: u64,
    pub tick: Duration,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            partitions: 8,
            snapshot_every: 1000,
            tick: Duration::from_millis(25),
        }
    }
}

pub fn address(id: u64) -> String {
    format!("node-{id}.test:7000")
}

/// N metadata members on a simulated network.
pub struct Cluster {
    pub net: Arc<Net>,
    pub opts: Opts,
    pub peers: BTreeMap<u64, String>,
    root: tempfile::TempDir,
    threads: HashMap<u64, JoinHandle<()>>,
}

impl Cluster {
    /// Starts members 1..=n, bootstrapped with each other as initial voters.
    pub fn start(n: u64, opts: Opts) -> Cluster {
        init_tracing();
        let peers = (1..=n).map(|i| (i, address(i))).collect();
        let mut c = Cluster {
            net: Net::new(),
            opts,
            peers,
            root: tempfile::tempdir().expect("tempdir"),
            threads: HashMap::new(),
        };
        for id in 1..=n {
            c.start_node(id, false);
        }
        c
    }

    pub fn config(&self, id: u64, join: bool) -> MetaConfig {
        let mut cfg = MetaConfig::new(id, self.root.path().join(format!("meta-{id}")));
        cfg.peers = if join {
            BTreeMap::new()
        } else {
            self.peers.clone()
        };
        cfg.join = join;
        cfg.partitions = self.opts.partitions;
        cfg.tick = self.opts.tick;
        cfg.election_ticks = 10;
        cfg.heartbeat_ticks = 2;
        cfg.snapshot_every = self.opts.snapshot_every;
        cfg
    }

    /// Starts (or restarts, from the same data directory) member `id`.
    pub fn start_node(&mut self, id: u64, join: bool) -> MetaHandle {
        let transport = Arc::new(SimTransport {
            from: id,
            net: Arc::downgrade(&self.net),
        });
        let (h, t) = MetaHandle::start(self.config(id, join), transport).expect("start member");
        self.net.handles.write().unwrap().insert(id, h.clone());
        self.threads.insert(id, t);
        h
    }

    /// Shuts member `id` down and waits for its thread to finish.
    pub fn stop_node(&mut self, id: u64) {
        let h = self.net.handles.write().unwrap().remove(&id);
        if let Some(h) = h {
            h.shutdown();
        }
        if let Some(t) = self.threads.remove(&id) {
            t.join().expect("raft thread panicked");
        }
    }

    pub fn handle(&self, id: u64) -> MetaHandle {
        self.net.handle(id).expect("node is running")
    }

    pub fn running(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.net.handles.read().unwrap().keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    pub fn status(&self, id: u64) -> RaftStatus {
        self.handle(id).status()
    }

    pub fn state(&self, id: u64) -> Arc<MetaState> {
        self.handle(id).state()
    }

    /// Waits until exactly one of `ids` is leader and all of `ids` agree on it and its term.
    pub async fn wait_leader(&self, ids: &[u64]) -> u64 {
        let mut found = 0;
        wait_until("a single agreed leader", || {
            let st: Vec<RaftStatus> = ids.iter().map(|i| self.status(*i)).collect();
            let leaders: Vec<&RaftStatus> = st.iter().filter(|s| s.role == "leader").collect();
            if leaders.len() != 1 {
                return false;
            }
            let (l, t) = (leaders[0].id, leaders[0].term);
            found = l;
            st.iter().all(|s| s.leader == l && s.term == t)
        })
        .await;
        found
    }

    /// Waits until all of `ids` have applied identical, initialised states; returns it.
    pub async fn wait_converged(&self, ids: &[u64]) -> MetaState {
        let mut out = MetaState::default();
        wait_until("identical states", || {
            let states: Vec<Arc<MetaState>> = ids.iter().map(|i| self.state(*i)).collect();
            let first = &states[0];
            if first.initialized && states.iter().all(|s| s == first) {
                out = (**first).clone();
                true
            } else {
                false
            }
        })
        .await;
        out
    }

    /// Stops every member (also done on drop).
    pub fn stop_all(&mut self) {
        for id in self.running() {
            self.stop_node(id);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for h in self.net.handles.read().unwrap().values() {
            h.shutdown();
        }
        for (_, t) in self.threads.drain() {
            let _ = t.join();
        }
    }
}

/// Polls `cond` every 20 ms until it holds; panics after [`DEADLINE`].
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        if cond() {
            return;
        }
        if tokio::time::Instant::now() >= end {
            panic!("timed out after {DEADLINE:?} waiting for {what}");
        }
        // The poll interval of this wait.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `fut` with a timeout: `None` if it did not finish in time.
pub async fn within<T>(d: Duration, fut: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(d, fut).await.ok()
}

pub fn set_model(version: u64) -> MetaCommand {
    MetaCommand::SetModel {
        version,
        json: format!("{{\"v\":{version}}}"),
    }
}

/// The state without the applied index (which moves with every new leader's no-op entry).
pub fn content(s: &MetaState) -> MetaState {
    MetaState {
        applied_index: 0,
        ..s.clone()
    }
}
