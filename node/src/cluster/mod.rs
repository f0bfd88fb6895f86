//! The cluster: partitions spread over nodes, and the coordinator that
//! lets any node serve any request.
//!
//! - [`map`]: the partition map and the home partition of a record.
//! - [`router`]: sends partition requests to their owners, local or remote.
//! - [`coordinator`]: serves public requests on any node, split by concern:
//!   [`write`] (the apply → probe → link rounds), [`read`] (records,
//!   profiles, search, exports), [`explain`], [`maintenance`] (counters,
//!   the model), [`activity`] (events, traits, RFM); [`assemble`] finds cluster-wide entities and [`groups`]
//!   clusters and merges their parts.
//! - [`node_request`]: requests to a whole node.
//! - [`peers`]: clients of the other nodes' internal service;
//!   [`internal`]: the internal service this node serves to the others;
//!   [`transport`]: Raft messages over it.
//! - [`moves`]: partition moves.
//!
//! [`Cluster`] owns this node's partitions: it opens the ones the map
//! gives it and closes the ones the map takes away.

pub mod activity;
pub mod assemble;
pub mod consent;
pub mod coordinator;
pub mod erase;
pub mod explain;
pub mod groups;
pub mod hot_keys;
pub mod internal;
pub mod maintenance;
pub mod map;
pub mod membership;
pub mod moves;
pub mod node_request;
pub mod peers;
pub mod read;
pub mod retention;
pub mod router;
pub mod transport;
pub mod triggers;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::watch;

use crate::clock::{SharedClock, SystemClock};
use crate::config::NodeConfig;
use crate::engine::Model;
use crate::error::NodeError;
use crate::meta::{
    MetaCommand, MetaConfig, MetaHandle, MetaReply, MetaState, NodeState, RaftStatus,
};
use crate::partition::request::GetStats;
use crate::partition::{PartitionConfig, PartitionHandle};
use crate::security::audit::{AuditEntry, AuditLog};
use crate::storage::{AtRest, StoreOptions};

pub use coordinator::Coordinator;
pub use map::PartitionMap;
use node_request::{Moved, NodeOp, NodeReply, NodeReport, NodeRequest, Receive, Unfence};
pub use router::Router;

/// This node's part of the cluster.
#[derive(Clone)]
pub struct Cluster {
    pub node_id: u64,
    pub coordinator: Coordinator,
    pub meta: MetaHandle,
    map_tx: Arc<watch::Sender<Arc<PartitionMap>>>,
    template: PartitionConfig,
    data_dir: PathBuf,
    threads: Arc<Mutex<HashMap<u32, JoinHandle<()>>>>,
    addrs: Arc<std::sync::RwLock<BTreeMap<u64, String>>>,
    /// Partitions being moved by this node's admin calls (for status).
    pub moving: Arc<Mutex<std::collections::BTreeSet<u32>>>,
    /// Serialises partition opening and closing.
    map_lock: Arc<tokio::sync::Mutex<()>>,
    /// The metadata member's raft thread, joined at shutdown.
    meta_thread: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// This node's audit log.
    pub audit: AuditLog,
}

/// The partition map a metadata state describes, once initialised.
pub fn map_of(st: &MetaState) -> Option<PartitionMap> {
    st.initialized.then(|| PartitionMap {
        partitions: st.partitions,
        owners: st.owners.iter().map(|o| (o.node, o.epoch)).collect(),
        nodes: st
            .nodes
            .iter()
            .map(|(id, n)| (*id, n.address.clone()))
            .collect(),
        epoch: st.map_epoch,
    })
}

/// Keeps the writer's copy of the suppression list equal to the cluster's.
async fn follow_suppressions(
    mut rx: watch::Receiver<Arc<crate::meta::MetaState>>,
    list: crate::privacy::Suppressions,
) {
    let mut last = None;
    loop {
        let st = rx.borrow_and_update().clone();
        if last.as_ref() != Some(&st.suppressions) {
            list.replace(&st.suppressions);
            last = Some(st.suppressions.clone());
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

fn meta_err(e: crate::meta::MetaError) -> NodeError {
    NodeError::Unavailable(format!("metadata: {e}"))
}

impl Cluster {
    /// Starts this node's metadata member and sets up its view of the
    /// cluster; no partition is open yet. Call inside a tokio runtime.
    pub fn start(
        cfg: &NodeConfig,
        at_rest: AtRest,
        model: Option<Model>,
        peer_tls: Option<peers::PeerTls>,
    ) -> Result<Cluster, NodeError> {
        let c = &cfg.cluster;
        let mut nodes = c.peers.clone();
        if nodes.is_empty() && !c.join {
            nodes.insert(c.node_id, cfg.advertise());
        }
        let partitions = c.partition_count();
        let peers = peers::Peers::new(cfg.limits.max_message_bytes, peer_tls);
        let transport = Arc::new(transport::GrpcTransport::new(
            peers.clone(),
            nodes.clone(),
            tokio::runtime::Handle::current(),
        ));
        let addrs = transport.addrs.clone();
        let mut mc = MetaConfig::new(c.node_id, cfg.data_dir.join("meta"));
        mc.peers = nodes.clone();
        mc.join = c.join;
        mc.partitions = partitions;
        let (meta, meta_thread) = MetaHandle::start(mc, transport).map_err(meta_err)?;
        // No owners until the metadata group has applied its first state
        // (its Init assigns the partitions); the node serves only then.
        let map = PartitionMap::empty(partitions, nodes.clone());
        let (tx, rx) = watch::channel(Arc::new(map));
        let template = PartitionConfig {
            data_dir: PathBuf::new(),
            engine: cfg.engine.clone(),
            survivorship: cfg.survivorship.clone(),
            store: StoreOptions {
                sync: cfg.sync,
                block_cache_bytes: ((cfg.block_cache_mb << 20) / partitions.max(1) as usize)
                    .max(8 << 20),
                at_rest,
            },
            model,
            mailbox: cfg.mailbox,
            partition: 0,
            partitions,
            reresolve_budget: crate::partition::RERESOLVE_BUDGET,
        };
        let audit = AuditLog::open(
            &cfg.data_dir.join("audit"),
            c.node_id,
            cfg.audit.retention_days,
        )
        .map_err(|e| NodeError::Unavailable(e.to_string()))?;
        let router = Router::new(c.node_id, rx, Arc::default(), peers);
        let clock: SharedClock = Arc::new(SystemClock);
        let coordinator = Coordinator::new(router, &cfg.engine, &cfg.activity, clock);
        coordinator.activities.triggers.follow(meta.watch());
        let suppressions = coordinator.writer.suppressions.clone();
        if let AtRest::Sealed(ring) = &template.store.at_rest {
            suppressions.set_ring(Some(ring.clone()));
        }
        tokio::spawn(follow_suppressions(meta.watch(), suppressions));
        Ok(Cluster {
            node_id: c.node_id,
            coordinator,
            meta,
            map_tx: Arc::new(tx),
            template,
            data_dir: cfg.data_dir.clone(),
            threads: Arc::default(),
            addrs,
            moving: Arc::default(),
            map_lock: Arc::default(),
            meta_thread: Arc::new(Mutex::new(Some(meta_thread))),
            audit,
        })
    }

    /// The router of this node's coordinator.
    pub fn router(&self) -> &Router {
        &self.coordinator.router
    }

    /// Where a partition's store lives.
    pub fn partition_dir(&self, p: u32) -> PathBuf {
        self.data_dir.join("partitions").join(format!("{p:04}"))
    }

    /// Waits for the metadata, opens the partitions it gives this node,
    /// and keeps following it. Returns once the node can serve.
    pub async fn open(&self) -> Result<(), NodeError> {
        let mut rx = self.meta.watch();
        loop {
            let st = rx.borrow_and_update().clone();
            if let Some(map) = map_of(&st) {
                self.apply_map(map).await?;
                break;
            }
            if rx.changed().await.is_err() {
                return Err(NodeError::Unavailable("metadata group stopped".into()));
            }
        }
        let me = self.clone();
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let st = rx.borrow_and_update().clone();
                if let Some(map) = map_of(&st) {
                    if let Err(e) = me.apply_map(map).await {
                        tracing::error!(error = %e, "applying the partition map");
                    }
                }
            }
        });
        Ok(())
    }

    /// Installs a partition map: opens partitions this node gained, closes
    /// (and deletes) those it lost.
    async fn apply_map(&self, map: PartitionMap) -> Result<(), NodeError> {
        let _guard = self.map_lock.lock().await;
        if let Ok(mut a) = self.addrs.write() {
            for (id, addr) in &map.nodes {
                a.insert(*id, addr.clone());
            }
        }
        let mine = map.owned_by(self.node_id);
        let open: Vec<u32> = self
            .router()
            .local()
            .read()
            .map(|l| l.keys().copied().collect())
            .unwrap_or_default();
        let changed = *self.router().map() != map;
        if changed {
            tracing::info!(epoch = map.epoch, owned = ?mine, "partition map");
        }
        self.map_tx.send_replace(Arc::new(map));
        for p in open.iter().filter(|p| !mine.contains(p)) {
            self.close_partition(*p).await;
        }
        for p in mine.into_iter().filter(|p| !open.contains(p)) {
            let me = self.clone();
            tokio::task::spawn_blocking(move || me.open_partition(p))
                .await
                .map_err(|e| NodeError::Unavailable(format!("opening partition {p}: {e}")))??;
        }
        Ok(())
    }

    fn open_partition(&self, p: u32) -> Result<(), NodeError> {
        let dir = self.partition_dir(p);
        let incoming = self.incoming_dir(p);
        if incoming.exists() {
            // Received from its previous owner: replaces any stale copy.
            let _ = std::fs::remove_dir_all(&dir);
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| NodeError::Unavailable(e.to_string()))?;
            }
            std::fs::rename(&incoming, &dir).map_err(|e| {
                NodeError::Unavailable(format!("installing received partition {p}: {e}"))
            })?;
        }
        let mut cfg = self.template.clone();
        cfg.partition = p;
        cfg.partitions = self.router().map().partitions;
        cfg.data_dir = dir;
        let (h, join) = PartitionHandle::open(cfg)?;
        if let Ok(mut l) = self.router().local().write() {
            l.insert(p, h);
        }
        if let Ok(mut t) = self.threads.lock() {
            t.insert(p, join);
        }
        Ok(())
    }

    async fn close_partition(&self, p: u32) {
        if let Ok(mut l) = self.router().local().write() {
            l.remove(&p);
        }
        let join = self.threads.lock().ok().and_then(|mut t| t.remove(&p));
        let dir = self.partition_dir(p);
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(j) = join {
                let _ = j.join();
            }
            // It now lives on its new owner.
            let _ = std::fs::remove_dir_all(&dir);
        })
        .await;
        tracing::info!(partition = p, "partition handed over and closed");
    }

    /// Every node's audit log from `since_ms` on, oldest first (at most
    /// `limit` entries), and the nodes that could not be asked.
    pub async fn audit_entries(&self, since_ms: u64, limit: u32) -> (Vec<AuditEntry>, Vec<String>) {
        let st = self.meta.state();
        let asks = st.nodes.iter().map(|(&id, info)| async move {
            let r = if id == self.node_id {
                self.audit
                    .list(since_ms, limit as usize)
                    .map_err(|e| NodeError::Unavailable(e.to_string()))
            } else {
                let op = node_request::AuditQuery { since_ms, limit }.into_op();
                let ask = self.router().peers().node(id, &info.address, &op);
                ask.await
                    .and_then(node_request::node_reply_of::<node_request::AuditQuery>)
            };
            (id, r)
        });
        let mut entries = Vec::new();
        let mut unreachable = Vec::new();
        for (id, r) in futures::future::join_all(asks).await {
            match r {
                Ok(e) => entries.extend(e),
                Err(e) => unreachable.push(format!("node {id}: {e}")),
            }
        }
        entries.sort_by_key(|e| (e.at_ms, e.node));
        entries.truncate(limit as usize);
        (entries, unreachable)
    }

    /// A Raft message from another node.
    pub fn step_raft(&self, msg: &[u8]) -> Result<(), NodeError> {
        self.meta.step(msg).map_err(meta_err)
    }

    /// A metadata proposal forwarded by another node.
    pub async fn propose_forwarded(&self, body: &[u8]) -> Result<Vec<u8>, NodeError> {
        let cmd: MetaCommand = peers::decode(body)?;
        let r = self.meta.propose_local(cmd).await;
        peers::encode(&r)
    }

    /// Serves a node-wide request (from another node's coordinator).
    pub async fn serve_node(&self, op: NodeOp) -> Result<NodeReply, NodeError> {
        Ok(match op {
            NodeOp::ProbeOwned(r) => {
                node_request::ProbeOwned::wrap(self.coordinator.writer.probe_owned(r).await)
            }
            NodeOp::Receive(r) => Receive::wrap(self.on_receive(r).await?),
            NodeOp::Unfence(r) => Unfence::wrap(self.on_unfence(r).await?),
            NodeOp::Report(_) => node_request::Report::wrap(self.report().await),
            NodeOp::AuditQuery(q) => node_request::AuditQuery::wrap(
                self.audit
                    .list(q.since_ms, q.limit as usize)
                    .map_err(|e| NodeError::Unavailable(e.to_string()))?,
            ),
        })
    }

    async fn on_receive(&self, r: Receive) -> Result<Moved, NodeError> {
        let (bytes, seconds) = self.receive(r.partition, r.from, r.epoch).await?;
        Ok(Moved { bytes, seconds })
    }

    async fn on_unfence(&self, r: Unfence) -> Result<(), NodeError> {
        if let Some(h) = self.router().local_handle(r.partition) {
            h.fence(false).await?;
        }
        Ok(())
    }

    /// This node's raft status and partition counts.
    pub async fn report(&self) -> NodeReport {
        let handles: Vec<(u32, PartitionHandle)> = self
            .router()
            .local()
            .read()
            .map(|l| l.iter().map(|(p, h)| (*p, h.clone())).collect())
            .unwrap_or_default();
        let mut partitions = Vec::new();
        for (p, h) in handles {
            if let Ok(s) = h.call(GetStats).await {
                partitions.push((p, s.stats.records as u64, s.stats.entities as u64));
            }
        }
        partitions.sort_unstable();
        NodeReport {
            raft: self.meta.status(),
            partitions,
            sent: self.router().peers().counters(),
        }
    }

    /// Moves a partition to a node; returns (bytes, seconds).
    pub async fn move_partition(&self, p: u32, to: u64) -> Result<(u64, u64, f64), NodeError> {
        let map = self.router().map();
        let (from, epoch) = map.owner(p).ok_or_else(|| NodeError::InvalidArgument {
            field: "partition".into(),
            value: p.to_string(),
            reason: format!("the cluster has {} partitions", map.partitions),
        })?;
        let st = self.meta.state();
        match st.nodes.get(&to) {
            None => {
                return Err(NodeError::InvalidArgument {
                    field: "to_node".into(),
                    value: to.to_string(),
                    reason: "not a member of the cluster".into(),
                })
            }
            Some(n) if n.state == NodeState::Draining => {
                return Err(NodeError::InvalidArgument {
                    field: "to_node".into(),
                    value: to.to_string(),
                    reason: "the node is draining".into(),
                })
            }
            _ => {}
        }
        if from == to {
            return Ok((from, 0, 0.0));
        }
        if let Ok(mut m) = self.moving.lock() {
            m.insert(p);
        }
        let req = Receive {
            partition: p,
            from,
            epoch,
        };
        let r = if to == self.node_id {
            self.on_receive(req).await
        } else {
            self.router().call_node(to, req).await
        };
        if let Ok(mut m) = self.moving.lock() {
            m.remove(&p);
        }
        let Moved { bytes, seconds } = r?;
        tracing::info!(partition = p, from, to, bytes, seconds, "partition moved");
        Ok((from, bytes, seconds))
    }

    /// Proposes a metadata command; a rejection becomes FAILED_PRECONDITION.
    pub async fn propose(&self, cmd: MetaCommand) -> Result<(), NodeError> {
        match self.meta.propose(cmd).await.map_err(meta_err)? {
            MetaReply::Ok => Ok(()),
            MetaReply::Rejected(why) => Err(NodeError::Remote {
                code: tonic::Code::FailedPrecondition as i32,
                message: why,
                field: String::new(),
                value: String::new(),
            }),
        }
    }

    /// Raft status of this node (in the metadata group).
    pub fn raft_status(&self) -> RaftStatus {
        self.meta.status()
    }

    /// Closes every partition and stops the metadata member (blocking).
    pub fn close_all(&self) {
        if let Ok(mut l) = self.router().local().write() {
            l.clear();
        }
        let threads: Vec<JoinHandle<()>> = self
            .threads
            .lock()
            .map(|mut t| t.drain().map(|(_, j)| j).collect())
            .unwrap_or_default();
        for j in threads {
            let _ = j.join();
        }
        self.meta.shutdown();
        if let Some(j) = self.meta_thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = j.join();
        }
    }
}

#[cfg(test)]
mod tests;

/// The figures a metrics scrape reads from the node.
impl crate::observe::endpoint::Source for Cluster {
    fn partitions(&self) -> Vec<(Arc<crate::observe::PartitionProbe>, usize)> {
        let Ok(local) = self.router().local().read() else {
            return Vec::new();
        };
        let mut out: Vec<_> = local
            .values()
            .map(|h| {
                h.refresh_census();
                (h.probe.clone(), h.queued())
            })
            .collect();
        out.sort_by_key(|(p, _)| p.partition);
        out
    }

    fn raft(&self) -> Vec<(&'static str, RaftStatus)> {
        vec![("meta", self.raft_status())]
    }
}
