//! Raft transport over the internal gRPC service.
//!
//! Each peer gets a bounded queue drained by one task, so messages to a
//! peer keep their order, a slow or dead peer never blocks the raft thread,
//! and nothing queues without bound: when a peer's queue is full, new
//! messages to it are dropped (raft retransmits).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::peers::{decode, encode, Peers};
use crate::meta::{MetaCommand, MetaError, MetaReply, Transport};

/// Messages queued per peer before new ones are dropped.
const PEER_QUEUE: usize = 512;

/// [`Transport`] over the internal service.
pub struct GrpcTransport {
    peers: Peers,
    /// Node id → address; updated from the metadata as members change.
    pub addrs: Arc<RwLock<BTreeMap<u64, String>>>,
    queues: Mutex<HashMap<u64, mpsc::Sender<Vec<u8>>>>,
    rt: tokio::runtime::Handle,
}

impl GrpcTransport {
    pub fn new(peers: Peers, addrs: BTreeMap<u64, String>, rt: tokio::runtime::Handle) -> Self {
        GrpcTransport {
            peers,
            addrs: Arc::new(RwLock::new(addrs)),
            queues: Mutex::default(),
            rt,
        }
    }

    fn addr(&self, node: u64) -> Option<String> {
        self.addrs.read().ok()?.get(&node).cloned()
    }

    fn queue(&self, to: u64) -> Option<mpsc::Sender<Vec<u8>>> {
        let mut qs = self.queues.lock().ok()?;
        if let Some(q) = qs.get(&to) {
            if !q.is_closed() {
                return Some(q.clone());
            }
        }
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(PEER_QUEUE);
        let peers = self.peers.clone();
        let addrs = self.addrs.clone();
        self.rt.spawn(async move {
            while let Some(msg) = rx.recv().await {
                let addr = addrs.read().ok().and_then(|a| a.get(&to).cloned());
                if let Some(addr) = addr {
                    if let Err(e) = peers.raft(to, &addr, msg).await {
                        tracing::trace!(to, error = %e, "raft message not delivered");
                    }
                }
            }
        });
        qs.insert(to, tx.clone());
        Some(tx)
    }
}

impl Transport for GrpcTransport {
    fn send(&self, to: u64, msg: Vec<u8>) {
        if let Some(q) = self.queue(to) {
            if q.try_send(msg).is_err() {
                tracing::trace!(to, "peer queue full; raft message dropped");
            }
        }
    }

    fn forward(
        &self,
        to: u64,
        cmd: MetaCommand,
    ) -> BoxFuture<'static, Result<MetaReply, MetaError>> {
        let peers = self.peers.clone();
        let addr = self.addr(to);
        Box::pin(async move {
            let addr =
                addr.ok_or_else(|| MetaError::Transport(format!("no address for node {to}")))?;
            let body = encode(&cmd).map_err(|e| MetaError::Transport(e.to_string()))?;
            let out = peers
                .propose(to, &addr, body)
                .await
                .map_err(|e| MetaError::Transport(e.to_string()))?;
            let r: Result<MetaReply, MetaError> =
                decode(&out).map_err(|e| MetaError::Transport(e.to_string()))?;
            r
        })
    }
}
