//! [`MetaHandle`] and the raft loop behind it.
//!
//! One OS thread per member owns the `RawNode`. It drains a bounded inbox of
//! network messages and a bounded queue of requests (proposals, read-index
//! barriers), ticks by elapsed time, and handles each `Ready` in the order
//! raft-rs prescribes:
//!
//! 1. send `messages` (the leader may send before persisting),
//! 2. install a received snapshot (storage + state machine),
//! 3. answer read states, apply `committed_entries`,
//! 4. persist entries + hard state in one synced write,
//! 5. send `persisted_messages`,
//! 6. `advance`, then for the `LightReady`: record the commit index, send its
//!    messages, apply its committed entries, and `advance_apply`.
//!
//! The new state is published (watch channel) before proposers are answered,
//! so a proposer that reads `state()` right after sees its change. Commands
//! carry `(node id, boot nonce, proposal id)` in the entry context so the
//! proposing node can match applied entries to waiting proposers; a waiter
//! whose index is applied with other content is answered `NotLeader` (its
//! entry was overwritten by a new leader) and `propose` retries.

// Protobuf messages (with hidden bookkeeping fields) are built by mutation.
#![allow(clippy::field_reassign_with_default)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prost011::Message as PbMessage;
use raft::eraftpb::{ConfChange, ConfChangeType, Entry, EntryType, Message, Snapshot};
use raft::{LightReady, ProgressState, RawNode, ReadState, SnapshotStatus, StateRole, Storage};
use tokio::sync::{mpsc, oneshot, watch};

use super::logging::raft_logger;
use super::storage::MetaStorage;
use super::types::{
    MetaCommand, MetaConfig, MetaError, MetaReply, MetaState, RaftStatus, Transport,
};

/// How long `propose` / `propose_local` wait for a command to apply.
pub const PROPOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Capacity of the request queue (proposals and read barriers).
const REQUEST_QUEUE: usize = 1024;

type ProposeTx = oneshot::Sender<Result<MetaReply, MetaError>>;

enum Request {
    Propose {
        cmd: MetaCommand,
        tx: ProposeTx,
    },
    ReadIndex {
        tx: oneshot::Sender<Result<u64, MetaError>>,
    },
}

struct Shared {
    id: u64,
    inbox: mpsc::Sender<Message>,
    requests: mpsc::Sender<Request>,
    thread: OnceLock<std::thread::Thread>,
    stop: AtomicBool,
    exited: AtomicBool,
    state_rx: watch::Receiver<Arc<MetaState>>,
    status: Mutex<RaftStatus>,
    transport: Arc<dyn Transport>,
    election_timeout: Duration,
}

impl Shared {
    /// The state a node's handles share with its raft loop.
    fn new(
        cfg: &MetaConfig,
        inbox: mpsc::Sender<Message>,
        requests: mpsc::Sender<Request>,
        state_rx: watch::Receiver<Arc<MetaState>>,
        transport: Arc<dyn Transport>,
    ) -> Shared {
        Shared {
            id: cfg.node_id,
            inbox,
            requests,
            thread: OnceLock::new(),
            stop: AtomicBool::new(false),
            exited: AtomicBool::new(false),
            state_rx,
            status: Mutex::new(RaftStatus {
                id: cfg.node_id,
                role: "follower".into(),
                ..RaftStatus::default()
            }),
            transport,
            election_timeout: cfg.tick * cfg.election_ticks as u32,
        }
    }

    fn wake(&self) {
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire) || self.exited.load(Ordering::Acquire)
    }
}

/// A running member of the metadata group. Cheap to clone.
#[derive(Clone)]
pub struct MetaHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MetaHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaHandle")
            .field("id", &self.shared.id)
            .finish()
    }
}

impl MetaHandle {
    /// Opens storage, starts the raft loop on its own OS thread. Returns immediately.
    pub fn start(
        cfg: MetaConfig,
        transport: Arc<dyn Transport>,
    ) -> Result<(MetaHandle, JoinHandle<()>), MetaError> {
        check_config(&cfg)?;
        let storage = open_storage(&cfg)?;
        let state = restored_state(&storage)?;
        let raw = raw_node(&cfg, &storage, state.applied_index)?;
        let (shared, rl) = RaftLoop::new(&cfg, raw, storage, state, transport);
        rl.update_status();
        let thread = rl.spawn()?;
        Ok((MetaHandle { shared }, thread))
    }

    /// A message from the network (bytes as sent by `Transport::send`).
    /// Non-blocking: dropped if the inbox is full. Undecodable bytes or a
    /// message for another node are logged and refused.
    pub fn step(&self, msg: &[u8]) -> Result<(), MetaError> {
        let msg = Message::decode(msg).map_err(|e| {
            tracing::warn!(node = self.shared.id, error = %e, "dropping undecodable raft message");
            MetaError::Raft(format!("undecodable raft message: {e}"))
        })?;
        if msg.to != self.shared.id {
            tracing::warn!(
                node = self.shared.id,
                to = msg.to,
                "dropping raft message addressed to another node"
            );
            return Err(MetaError::Raft(format!(
                "raft message for node {} delivered to node {}",
                msg.to, self.shared.id
            )));
        }
        if self.shared.stopped() {
            return Err(MetaError::Stopped);
        }
        match self.shared.inbox.try_send(msg) {
            Ok(()) => {
                self.shared.wake();
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!(
                    node = self.shared.id,
                    "metadata inbox full; dropping a raft message"
                );
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(MetaError::Stopped),
        }
    }

    /// Proposes a command. On a follower it is forwarded to the leader via
    /// `Transport::forward` (retrying while there is no leader). Resolves when
    /// the command is committed and applied on this node. Times out after 10 s.
    pub async fn propose(&self, cmd: MetaCommand) -> Result<MetaReply, MetaError> {
        let deadline = tokio::time::Instant::now() + PROPOSE_TIMEOUT;
        let mut backoff = Duration::from_millis(10);
        // A leader named by a NotLeader answer, tried before our own view.
        let mut hint: Option<u64> = None;
        loop {
            if self.shared.stopped() {
                return Err(MetaError::Stopped);
            }
            let leader = hint.take().unwrap_or_else(|| self.status().leader);
            let attempt = if leader == self.shared.id {
                self.propose_until(cmd.clone(), deadline).await
            } else if leader == 0 {
                Err(MetaError::NoLeader)
            } else {
                let fwd = self.shared.transport.forward(leader, cmd.clone());
                match tokio::time::timeout_at(deadline, fwd).await {
                    Err(_) => Err(MetaError::Timeout),
                    Ok(Ok(reply)) => {
                        // Applied on the leader; wait until it is applied here too.
                        self.read_barrier(deadline).await?;
                        return Ok(reply);
                    }
                    Ok(Err(e)) => Err(e),
                }
            };
            match attempt {
                Ok(reply) => return Ok(reply),
                Err(e @ (MetaError::Timeout | MetaError::Storage(_))) => return Err(e),
                Err(MetaError::Stopped) if leader == self.shared.id => {
                    return Err(MetaError::Stopped)
                }
                Err(e) => {
                    tracing::debug!(node = self.shared.id, leader, error = %e, "retrying proposal");
                    if let MetaError::NotLeader { leader: Some(l) } = e {
                        if l != leader {
                            hint = Some(l);
                            continue;
                        }
                    }
                    if tokio::time::Instant::now() + backoff >= deadline {
                        return Err(MetaError::Timeout);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(200));
                }
            }
        }
    }

    /// What a leader does with a forwarded proposal: propose locally, fail
    /// with `NotLeader { leader }` if this node is not the leader.
    pub async fn propose_local(&self, cmd: MetaCommand) -> Result<MetaReply, MetaError> {
        self.propose_until(cmd, tokio::time::Instant::now() + PROPOSE_TIMEOUT)
            .await
    }

    async fn propose_until(
        &self,
        cmd: MetaCommand,
        deadline: tokio::time::Instant,
    ) -> Result<MetaReply, MetaError> {
        let (tx, rx) = oneshot::channel();
        self.request(Request::Propose { cmd, tx }, deadline).await?;
        match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => Err(MetaError::Timeout),
            Ok(Err(_)) => Err(MetaError::Stopped),
            Ok(Ok(r)) => r,
        }
    }

    async fn request(&self, req: Request, deadline: tokio::time::Instant) -> Result<(), MetaError> {
        if self.shared.stopped() {
            return Err(MetaError::Stopped);
        }
        match tokio::time::timeout_at(deadline, self.shared.requests.send(req)).await {
            Err(_) => Err(MetaError::Timeout),
            Ok(Err(_)) => Err(MetaError::Stopped),
            Ok(Ok(())) => {
                self.shared.wake();
                Ok(())
            }
        }
    }

    /// Waits until this node has applied everything the leader had committed
    /// when asked (a raft read-index round trip).
    async fn read_barrier(&self, deadline: tokio::time::Instant) -> Result<(), MetaError> {
        // A read-index round trip is one heartbeat exchange; a lost one is
        // simply asked again.
        let per_try = (self.shared.election_timeout / 2).max(Duration::from_millis(100));
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(MetaError::Timeout);
            }
            let (tx, rx) = oneshot::channel();
            self.request(Request::ReadIndex { tx }, deadline).await?;
            match tokio::time::timeout_at(deadline.min(now + per_try), rx).await {
                Ok(Ok(Ok(index))) => return self.wait_applied(index, deadline).await,
                Ok(Ok(Err(_))) => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok(Err(_)) => return Err(MetaError::Stopped),
                Err(_) => {} // lost on the way; ask again
            }
        }
    }

    async fn wait_applied(
        &self,
        index: u64,
        deadline: tokio::time::Instant,
    ) -> Result<(), MetaError> {
        let mut rx = self.watch();
        let res = tokio::time::timeout_at(deadline, rx.wait_for(|s| s.applied_index >= index))
            .await
            .map(|r| r.map(|_| ()));
        match res {
            Err(_) => Err(MetaError::Timeout),
            Ok(Err(_)) => Err(MetaError::Stopped),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// The latest applied state.
    pub fn state(&self) -> Arc<MetaState> {
        self.shared.state_rx.borrow().clone()
    }

    /// Notified after every batch of applied entries.
    pub fn watch(&self) -> watch::Receiver<Arc<MetaState>> {
        self.shared.state_rx.clone()
    }

    pub fn status(&self) -> RaftStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the raft thread (the JoinHandle then finishes).
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake();
    }
}

/// Refuses a configuration the loop cannot run with.
fn check_config(cfg: &MetaConfig) -> Result<(), MetaError> {
    if cfg.node_id == 0 {
        return Err(MetaError::Raft("node id 0 is reserved".into()));
    }
    if cfg.tick.is_zero() || cfg.inbox == 0 {
        return Err(MetaError::Raft("tick and inbox must be non-zero".into()));
    }
    Ok(())
}

/// Opens the member's storage. A member of a new group bootstraps empty
/// storage with the initial voters; a joining member starts empty and waits
/// for the group to add it.
fn open_storage(cfg: &MetaConfig) -> Result<MetaStorage, MetaError> {
    let storage = MetaStorage::open(&cfg.data_dir)?;
    if storage.is_empty() && !cfg.join {
        let voters = initial_voters(cfg)?;
        let initial = MetaState {
            applied_index: 1,
            ..MetaState::default()
        };
        storage.bootstrap(voters.clone(), encode_state(&initial)?)?;
        tracing::info!(node = cfg.node_id, ?voters, "metadata group bootstrapped");
    }
    Ok(storage)
}

/// The voters a new group starts with: the configured peers (which must
/// include this node), or this node alone.
fn initial_voters(cfg: &MetaConfig) -> Result<Vec<u64>, MetaError> {
    let id = cfg.node_id;
    if cfg.peers.is_empty() {
        Ok(vec![id])
    } else if cfg.peers.contains_key(&id) {
        Ok(cfg.peers.keys().copied().collect())
    } else {
        Err(MetaError::Raft(format!(
            "initial peers {:?} do not include this node ({id})",
            cfg.peers.keys().collect::<Vec<_>>()
        )))
    }
}

/// The state in the latest snapshot (empty without one), with its
/// `applied_index` set to the snapshot's index.
fn restored_state(storage: &MetaStorage) -> Result<MetaState, MetaError> {
    let snap = storage.latest_snapshot();
    let snap_index = snap.get_metadata().index;
    let mut state = if snap_index > 0 {
        decode_state(&snap.data)?
    } else {
        MetaState::default()
    };
    state.applied_index = snap_index;
    Ok(state)
}

/// raft-rs settings: the configured ticks, resuming after `applied`.
fn raft_config(cfg: &MetaConfig, applied: u64) -> raft::Config {
    raft::Config {
        id: cfg.node_id,
        election_tick: cfg.election_ticks,
        heartbeat_tick: cfg.heartbeat_ticks,
        applied,
        check_quorum: true,
        pre_vote: true,
        max_size_per_msg: 1 << 20,
        max_inflight_msgs: 256,
        ..Default::default()
    }
}

/// The raft node over `storage`, resuming after `applied`. The only voter
/// of a group campaigns at once, to become leader right away.
fn raw_node(
    cfg: &MetaConfig,
    storage: &MetaStorage,
    applied: u64,
) -> Result<RawNode<MetaStorage>, MetaError> {
    let id = cfg.node_id;
    let raft_cfg = raft_config(cfg, applied);
    raft_cfg.validate().map_err(raft_err)?;
    let logger = raft_logger(id);
    let mut raw = RawNode::new(&raft_cfg, storage.clone(), &logger).map_err(raft_err)?;
    let voters = storage.conf_state().voters;
    if voters == [id] {
        raw.campaign().map_err(raft_err)?;
    }
    Ok(raw)
}

fn raft_err(e: raft::Error) -> MetaError {
    MetaError::Raft(e.to_string())
}

fn encode_state(s: &MetaState) -> Result<Vec<u8>, MetaError> {
    serde_json::to_vec(s).map_err(|e| MetaError::Storage(format!("encode state: {e}")))
}

fn decode_state(b: &[u8]) -> Result<MetaState, MetaError> {
    serde_json::from_slice(b).map_err(|e| MetaError::Storage(format!("decode state: {e}")))
}

/// Entry context of a tracked proposal: proposing node, its boot nonce, proposal id.
fn encode_ctx(node: u64, nonce: u64, id: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(24);
    v.extend_from_slice(&node.to_be_bytes());
    v.extend_from_slice(&nonce.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v
}

fn decode_ctx(b: &[u8]) -> Option<(u64, u64, u64)> {
    if b.len() != 24 {
        return None;
    }
    let n = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap_or_default());
    Some((n(0), n(8), n(16)))
}

struct Pending {
    index: u64,
    tx: ProposeTx,
}

struct RaftLoop {
    id: u64,
    raw: RawNode<MetaStorage>,
    storage: MetaStorage,
    state: MetaState,
    /// Index of the last entry applied to `state`.
    applied: u64,
    /// `applied` at the last publish.
    published: u64,
    inbox: mpsc::Receiver<Message>,
    requests: mpsc::Receiver<Request>,
    inbox_cap: usize,
    shared: Arc<Shared>,
    state_tx: watch::Sender<Arc<MetaState>>,
    pending: HashMap<u64, Pending>,
    pending_reads: HashMap<u64, oneshot::Sender<Result<u64, MetaError>>>,
    /// Answers held back until the state they reflect is published.
    replies: Vec<(ProposeTx, Result<MetaReply, MetaError>)>,
    next_id: u64,
    nonce: u64,
    tick: Duration,
    snapshot_every: u64,
    peers: BTreeMap<u64, String>,
    partitions: u32,
    need_init: bool,
    /// When a snapshot was last sent to a peer (to retry lost ones).
    snapshot_sent: HashMap<u64, Instant>,
    /// The last leader this member knew of (0: none yet), for the
    /// leader-changes metric.
    last_leader: std::cell::Cell<u64>,
}

impl RaftLoop {
    /// The loop over `raw`, starting from `state` (applied up to its
    /// `applied_index`), with the channels and flags it shares with the
    /// handles.
    fn new(
        cfg: &MetaConfig,
        raw: RawNode<MetaStorage>,
        storage: MetaStorage,
        state: MetaState,
        transport: Arc<dyn Transport>,
    ) -> (Arc<Shared>, RaftLoop) {
        let (inbox_tx, inbox_rx) = mpsc::channel(cfg.inbox);
        let (req_tx, req_rx) = mpsc::channel(REQUEST_QUEUE);
        let (state_tx, state_rx) = watch::channel(Arc::new(state.clone()));
        let shared = Arc::new(Shared::new(cfg, inbox_tx, req_tx, state_rx, transport));
        let applied = state.applied_index;
        let rl = RaftLoop {
            id: cfg.node_id,
            raw,
            storage,
            state,
            applied,
            published: applied,
            inbox: inbox_rx,
            requests: req_rx,
            inbox_cap: cfg.inbox,
            shared: shared.clone(),
            state_tx,
            pending: HashMap::new(),
            pending_reads: HashMap::new(),
            replies: Vec::new(),
            next_id: 1,
            nonce: rand::random(),
            tick: cfg.tick,
            snapshot_every: cfg.snapshot_every.max(1),
            peers: cfg.peers.clone(),
            partitions: cfg.partitions,
            need_init: false,
            snapshot_sent: HashMap::new(),
            last_leader: std::cell::Cell::new(0),
        };
        (shared, rl)
    }

    /// Runs the loop on its own OS thread, which [`Shared::wake`] unparks.
    fn spawn(self) -> Result<JoinHandle<()>, MetaError> {
        let shared = self.shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("meta-raft-{}", self.id))
            .spawn(move || self.run())
            .map_err(|e| MetaError::Raft(format!("cannot spawn the raft thread: {e}")))?;
        let _ = shared.thread.set(thread.thread().clone());
        shared.wake();
        Ok(thread)
    }

    fn run(mut self) {
        let id = self.id;
        tracing::info!(
            node = id,
            applied = self.applied,
            "metadata raft loop started"
        );
        let mut next_tick = Instant::now() + self.tick;
        while !self.shared.stop.load(Ordering::Acquire) {
            if let Err(e) = self.turn(&mut next_tick) {
                tracing::error!(node = id, error = %e, "metadata raft loop failed; stopping");
                break;
            }
            if !self.raw.has_ready() && self.inbox.is_empty() && self.requests.is_empty() {
                let wait = next_tick.saturating_duration_since(Instant::now());
                std::thread::park_timeout(wait);
            }
        }
        self.shared.exited.store(true, Ordering::Release);
        tracing::info!(node = id, "metadata raft loop stopped");
        // Dropping `self` drops every waiter's sender: they see `Stopped`.
    }

    /// One turn of the loop: take in messages and requests, tick when due,
    /// handle the `Ready`, propose `Init` if this first leader should, and
    /// compact the log when it has grown.
    fn turn(&mut self, next_tick: &mut Instant) -> Result<(), MetaError> {
        self.step_inbox();
        self.take_requests();
        self.tick_if_due(next_tick);
        self.on_ready()?;
        if self.need_init {
            self.need_init = false;
            self.propose_init();
            self.on_ready()?;
        }
        self.maybe_compact()?;
        self.update_status();
        Ok(())
    }

    /// Steps raft with the network messages waiting in the inbox (at most
    /// one inbox-full per turn).
    fn step_inbox(&mut self) {
        for _ in 0..self.inbox_cap {
            match self.inbox.try_recv() {
                Ok(m) => {
                    let (from, ty) = (m.from, m.get_msg_type());
                    if let Err(e) = self.raw.step(m) {
                        tracing::debug!(node = self.id, from, ?ty, error = %e, "raft step refused a message");
                    }
                }
                Err(_) => break,
            }
        }
    }

    /// Handles the waiting proposals and read barriers (at most a queue-full
    /// per turn).
    fn take_requests(&mut self) {
        for _ in 0..REQUEST_QUEUE {
            match self.requests.try_recv() {
                Ok(r) => self.handle_request(r),
                Err(_) => break,
            }
        }
    }

    /// Ticks raft when a tick is due (skipping ticks missed while busy), and
    /// with it retries lost snapshots and forgets abandoned read barriers.
    fn tick_if_due(&mut self, next_tick: &mut Instant) {
        let now = Instant::now();
        if now >= *next_tick {
            self.raw.tick();
            *next_tick += self.tick;
            if *next_tick <= now {
                *next_tick = now + self.tick;
            }
            self.retry_lost_snapshots();
            self.pending_reads.retain(|_, tx| !tx.is_closed());
        }
    }

    fn leader_hint(&self) -> Option<u64> {
        Some(self.raw.raft.leader_id).filter(|l| *l != 0)
    }

    fn handle_request(&mut self, req: Request) {
        match req {
            Request::Propose { cmd, tx } => {
                if self.raw.raft.state != StateRole::Leader {
                    let _ = tx.send(Err(MetaError::NotLeader {
                        leader: self.leader_hint(),
                    }));
                    return;
                }
                let id = self.next_id;
                self.next_id += 1;
                match self.propose(&cmd, encode_ctx(self.id, self.nonce, id)) {
                    Ok(index) => {
                        self.pending.insert(id, Pending { index, tx });
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            }
            Request::ReadIndex { tx } => {
                if self.raw.raft.leader_id == 0 {
                    let _ = tx.send(Err(MetaError::NoLeader));
                    return;
                }
                let id = self.next_id;
                self.next_id += 1;
                self.raw.read_index(id.to_be_bytes().to_vec());
                self.pending_reads.insert(id, tx);
            }
        }
    }

    /// Appends `cmd` to the leader's log; returns its index.
    fn propose(&mut self, cmd: &MetaCommand, ctx: Vec<u8>) -> Result<u64, MetaError> {
        let body = serde_json::to_vec(cmd).map_err(|e| MetaError::Raft(e.to_string()))?;
        let before = self.raw.raft.raft_log.last_index();
        let res = match cmd {
            MetaCommand::AddNode { id, .. } | MetaCommand::RemoveNode { id } => {
                if self.raw.raft.has_pending_conf() {
                    return Err(MetaError::Raft(
                        "another membership change is still being applied; retry".into(),
                    ));
                }
                let mut cc = ConfChange::default();
                cc.set_change_type(if matches!(cmd, MetaCommand::AddNode { .. }) {
                    ConfChangeType::AddNode
                } else {
                    ConfChangeType::RemoveNode
                });
                cc.node_id = *id;
                cc.context = body;
                self.raw.propose_conf_change(ctx, cc)
            }
            _ => self.raw.propose(ctx, body),
        };
        match res {
            Ok(()) => {
                let index = self.raw.raft.raft_log.last_index();
                if index <= before {
                    return Err(MetaError::NotLeader {
                        leader: self.leader_hint(),
                    });
                }
                Ok(index)
            }
            Err(raft::Error::ProposalDropped) => Err(MetaError::NotLeader {
                leader: self.leader_hint(),
            }),
            Err(e) => Err(raft_err(e)),
        }
    }

    /// The first leader of an uninitialised cluster proposes `Init` once it
    /// has applied its own first entry.
    fn propose_init(&mut self) {
        if self.raw.raft.state != StateRole::Leader || self.state.initialized {
            return;
        }
        let mut voters = self.storage.conf_state().voters;
        voters.sort_unstable();
        let nodes: BTreeMap<u64, String> = voters
            .iter()
            .map(|v| (*v, self.peers.get(v).cloned().unwrap_or_default()))
            .collect();
        let cmd = MetaCommand::Init {
            partitions: self.partitions,
            nodes,
        };
        match self.propose(&cmd, Vec::new()) {
            Ok(index) => tracing::info!(node = self.id, index, "proposed Init"),
            Err(e) => tracing::warn!(node = self.id, error = %e, "could not propose Init"),
        }
    }

    fn send(&mut self, msgs: Vec<Message>) {
        for m in msgs {
            if m.get_msg_type() == raft::eraftpb::MessageType::MsgSnapshot {
                self.snapshot_sent.insert(m.to, Instant::now());
            }
            self.shared.transport.send(m.to, m.encode_to_vec());
        }
    }

    /// The transport gives no delivery report: if a peer is still waiting
    /// for a snapshot long after it was sent, report it lost so raft resends.
    fn retry_lost_snapshots(&mut self) {
        if self.snapshot_sent.is_empty() {
            return;
        }
        let after = self.tick * (self.raw.raft.election_timeout() as u32) * 2;
        let mut lost = Vec::new();
        self.snapshot_sent.retain(|to, at| {
            if at.elapsed() < after {
                return true;
            }
            lost.push(*to);
            false
        });
        for to in lost {
            let waiting = self
                .raw
                .raft
                .prs()
                .get(to)
                .is_some_and(|p| p.state == ProgressState::Snapshot);
            if waiting {
                tracing::debug!(node = self.id, to, "snapshot not acknowledged; resending");
                self.raw.report_snapshot(to, SnapshotStatus::Failure);
            }
        }
    }

    /// Handles a `Ready` in the order raft-rs prescribes (steps 1 to 5 of
    /// the module documentation), then its `LightReady`, then publishes.
    fn on_ready(&mut self) -> Result<(), MetaError> {
        if !self.raw.has_ready() {
            return Ok(());
        }
        let mut ready = self.raw.ready();
        if !ready.messages().is_empty() {
            self.send(ready.take_messages());
        }
        if !ready.snapshot().is_empty() {
            let snap = ready.snapshot().clone();
            self.install_snapshot(&snap)?;
        }
        self.answer_reads(ready.take_read_states());
        self.apply(ready.take_committed_entries())?;
        self.storage.append(ready.entries(), ready.hs())?;
        if !ready.persisted_messages().is_empty() {
            self.send(ready.take_persisted_messages());
        }
        let light = self.raw.advance(ready);
        self.on_light_ready(light)?;
        self.publish();
        Ok(())
    }

    /// Step 6: records the new commit index, sends the messages, applies
    /// the entries committed by the persisted ones, and `advance_apply`.
    fn on_light_ready(&mut self, mut light: LightReady) -> Result<(), MetaError> {
        if let Some(commit) = light.commit_index() {
            self.storage.set_commit(commit)?;
        }
        self.send(light.take_messages());
        self.apply(light.take_committed_entries())?;
        self.raw.advance_apply();
        Ok(())
    }

    fn install_snapshot(&mut self, snap: &Snapshot) -> Result<(), MetaError> {
        let index = snap.get_metadata().index;
        self.storage.apply_snapshot(snap)?;
        let mut state = decode_state(&snap.data)?;
        state.applied_index = index;
        self.state = state;
        self.applied = index;
        tracing::info!(node = self.id, index, "installed metadata snapshot");
        Ok(())
    }

    fn answer_reads(&mut self, states: Vec<ReadState>) {
        for rs in states {
            let Ok(bytes) = <[u8; 8]>::try_from(&rs.request_ctx[..]) else {
                continue;
            };
            if let Some(tx) = self.pending_reads.remove(&u64::from_be_bytes(bytes)) {
                let _ = tx.send(Ok(rs.index));
            }
        }
    }

    /// Applies the committed entries not applied yet, holding back the
    /// answers to this node's proposers until [`publish`](Self::publish).
    fn apply(&mut self, entries: Vec<Entry>) -> Result<(), MetaError> {
        for e in entries {
            if e.index <= self.applied {
                continue;
            }
            self.applied = e.index;
            self.state.applied_index = e.index;
            if let Some(reply) = self.apply_entry(&e)? {
                self.hold_reply(&e, reply);
            }
        }
        Ok(())
    }

    /// Applies one entry; the reply for its proposer unless it is a new
    /// leader's empty entry.
    fn apply_entry(&mut self, e: &Entry) -> Result<Option<MetaReply>, MetaError> {
        Ok(match e.get_entry_type() {
            EntryType::EntryNormal if e.data.is_empty() => {
                // A new leader's first entry.
                if e.term == self.raw.raft.term
                    && self.raw.raft.state == StateRole::Leader
                    && !self.state.initialized
                {
                    self.need_init = true;
                }
                None
            }
            EntryType::EntryNormal => Some(match serde_json::from_slice::<MetaCommand>(&e.data) {
                Ok(cmd) => self.state.apply(&cmd),
                Err(err) => {
                    tracing::warn!(node = self.id, index = e.index, error = %err, "undecodable command");
                    MetaReply::Rejected(format!("undecodable command: {err}"))
                }
            }),
            EntryType::EntryConfChange => Some(self.apply_conf_change(e)?),
            EntryType::EntryConfChangeV2 => {
                tracing::warn!(
                    node = self.id,
                    index = e.index,
                    "ignoring ConfChangeV2 entry"
                );
                Some(MetaReply::Rejected("ConfChangeV2 is not supported".into()))
            }
        })
    }

    /// Holds `reply` for the waiting proposer of `e`, if this boot of this
    /// node proposed it.
    fn hold_reply(&mut self, e: &Entry, reply: MetaReply) {
        if let Some((node, nonce, id)) = decode_ctx(&e.context) {
            if node == self.id && nonce == self.nonce {
                if let Some(p) = self.pending.remove(&id) {
                    self.replies.push((p.tx, Ok(reply)));
                }
            }
        }
    }

    fn apply_conf_change(&mut self, e: &Entry) -> Result<MetaReply, MetaError> {
        let cc = match ConfChange::decode(e.data.as_slice()) {
            Ok(cc) => cc,
            Err(err) => {
                tracing::warn!(node = self.id, index = e.index, error = %err, "undecodable conf change");
                return Ok(MetaReply::Rejected(format!(
                    "undecodable conf change: {err}"
                )));
            }
        };
        let cmd = match serde_json::from_slice::<MetaCommand>(&cc.context) {
            Ok(cmd @ (MetaCommand::AddNode { .. } | MetaCommand::RemoveNode { .. })) => cmd,
            _ => {
                tracing::warn!(
                    node = self.id,
                    index = e.index,
                    "conf change without a membership command"
                );
                return Ok(MetaReply::Rejected(
                    "conf change without a membership command".into(),
                ));
            }
        };
        // The state machine decides (deterministically, the same on every
        // member and on replay); raft's configuration follows.
        if let Err(reason) = self.state.check_conf_change(&cmd) {
            return Ok(MetaReply::Rejected(reason));
        }
        match self.raw.apply_conf_change(&cc) {
            Ok(cs) => self.storage.set_conf_state(&cs)?,
            Err(err) => {
                tracing::warn!(node = self.id, index = e.index, error = %err, "raft refused a conf change")
            }
        }
        tracing::info!(node = self.id, index = e.index, ?cmd, "membership changed");
        Ok(self.state.apply(&cmd))
    }

    /// Publishes the applied state, then answers the proposers it satisfies.
    fn publish(&mut self) {
        if self.applied != self.published {
            self.published = self.applied;
            self.state_tx.send_replace(Arc::new(self.state.clone()));
        }
        for (tx, r) in self.replies.drain(..) {
            let _ = tx.send(r);
        }
        // A tracked index applied with other content: the entry was replaced
        // by a new leader's log.
        let applied = self.applied;
        let stale: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.index <= applied)
            .map(|(id, _)| *id)
            .collect();
        if !stale.is_empty() {
            let leader = self.leader_hint();
            for id in stale {
                if let Some(p) = self.pending.remove(&id) {
                    let _ = p.tx.send(Err(MetaError::NotLeader { leader }));
                }
            }
        }
        self.pending.retain(|_, p| !p.tx.is_closed());
    }

    fn maybe_compact(&mut self) -> Result<(), MetaError> {
        let snap_index = self.storage.snapshot_metadata().index;
        let wanted = self.storage.take_snapshot_wanted();
        if self.applied > snap_index && (wanted || self.applied - snap_index > self.snapshot_every)
        {
            self.storage
                .compact(self.applied, encode_state(&self.state)?)?;
            tracing::debug!(
                node = self.id,
                index = self.applied,
                "compacted the metadata log"
            );
        }
        Ok(())
    }

    fn update_status(&self) {
        let r = &self.raw.raft;
        let mut voters = self.storage.conf_state().voters;
        voters.sort_unstable();
        let matched = if r.state == StateRole::Leader {
            r.prs().iter().map(|(id, p)| (*id, p.matched)).collect()
        } else {
            BTreeMap::new()
        };
        let status = RaftStatus {
            id: self.id,
            role: match r.state {
                StateRole::Leader => "leader",
                StateRole::Follower => "follower",
                StateRole::Candidate => "candidate",
                StateRole::PreCandidate => "pre_candidate",
            }
            .to_string(),
            term: r.term,
            leader: r.leader_id,
            commit: r.raft_log.committed,
            applied: self.applied,
            first_index: self.storage.first_index().unwrap_or_default(),
            last_index: r.raft_log.last_index(),
            snapshot_index: self.storage.snapshot_metadata().index,
            voters,
            matched,
        };
        let mut current = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
        // A change is a new leader after another known one: neither the
        // first one this node learns of, nor the same one again after a
        // spell without a leader.
        let known = self.last_leader.get();
        if status.leader != 0 {
            if known != 0 && known != status.leader {
                crate::observe::metrics()
                    .raft_leader_changes
                    .with_label_values(&["meta"])
                    .inc();
            }
            self.last_leader.set(status.leader);
        }
        *current = status;
    }
}
