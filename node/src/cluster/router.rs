//! The router: sends a partition request to the partition's owner, local
//! or remote, retrying while the partition moves or its node is
//! unreachable. Every part of the coordinator (writes, reads, explanations,
//! maintenance) reaches partitions through it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::watch;

use super::map::PartitionMap;
use super::node_request::{node_reply_of, NodeRequest};
use super::peers::Peers;
use crate::engine::resolver::ref_key;
use crate::engine::{EngineError, EntityId};
use crate::error::NodeError;
use crate::partition::request::{reply_of, Op, OpReply, PartitionRequest};
use crate::partition::{partition_of_entity, PartitionHandle};

/// Partitions this node owns and serves, by number.
pub type LocalPartitions = Arc<RwLock<HashMap<u32, PartitionHandle>>>;

/// Routes partition requests to the partitions' owners.
#[derive(Clone)]
pub struct Router {
    pub node_id: u64,
    map: watch::Receiver<Arc<PartitionMap>>,
    local: LocalPartitions,
    peers: Peers,
    /// How long a request keeps retrying a partition that is moving or on a
    /// node that is unreachable.
    pub retry_for: Duration,
}

impl Router {
    pub fn new(
        node_id: u64,
        map: watch::Receiver<Arc<PartitionMap>>,
        local: LocalPartitions,
        peers: Peers,
    ) -> Router {
        Router {
            node_id,
            map,
            local,
            peers,
            retry_for: Duration::from_secs(30),
        }
    }

    /// The current partition map.
    pub fn map(&self) -> Arc<PartitionMap> {
        self.map.borrow().clone()
    }

    pub fn local(&self) -> &LocalPartitions {
        &self.local
    }

    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// The handle of a partition open on this node.
    pub fn local_handle(&self, p: u32) -> Option<PartitionHandle> {
        self.local.read().ok()?.get(&p).cloned()
    }

    /// Serves a request for a partition this node owns (from here or from
    /// another node's coordinator, which names the epoch it knows).
    pub async fn serve(&self, p: u32, epoch: Option<u64>, op: Op) -> Result<OpReply, NodeError> {
        let map = self.map();
        let (owner, current) = owner_of(&map, p)?;
        if owner != self.node_id || epoch.is_some_and(|e| e > current) {
            return Err(NodeError::NotOwner {
                partition: p,
                epoch: current,
            });
        }
        let h = self.local_handle(p).ok_or_else(|| {
            NodeError::Unavailable(format!("partition {p} is opening on node {}", self.node_id))
        })?;
        h.request(op).await
    }

    /// Runs a request on a partition this node owns, without retrying.
    pub async fn call_local<R: PartitionRequest>(
        &self,
        p: u32,
        epoch: Option<u64>,
        req: R,
    ) -> Result<R::Reply, NodeError> {
        reply_of::<R>(self.serve(p, epoch, req.into_op()).await?)
    }

    /// Runs a request on a partition wherever it lives, retrying while it
    /// moves or its node is unreachable.
    pub async fn call<R: PartitionRequest>(&self, p: u32, req: R) -> Result<R::Reply, NodeError> {
        reply_of::<R>(self.route(p, req.into_op()).await?)
    }

    async fn route(&self, p: u32, op: Op) -> Result<OpReply, NodeError> {
        let deadline = Instant::now() + self.retry_for;
        let mut wait = Duration::from_millis(20);
        loop {
            let map = self.map();
            let (owner, epoch) = owner_of(&map, p)?;
            let r = if owner == self.node_id {
                self.serve(p, Some(epoch), op.clone()).await
            } else {
                let addr = map.nodes.get(&owner).cloned().unwrap_or_default();
                self.peers.call(owner, &addr, p, epoch, &op).await
            };
            match r {
                Err(e) if e.is_transient() && Instant::now() < deadline => {
                    tracing::debug!(partition = p, error = %e, "retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(500));
                }
                r => return r,
            }
        }
    }

    /// Runs a request on every partition, concurrently.
    pub async fn all<R>(&self, req: R) -> Vec<(u32, Result<R::Reply, NodeError>)>
    where
        R: PartitionRequest + Clone,
    {
        let n = self.map().partitions;
        join_all((0..n).map(|p| {
            let req = req.clone();
            async move { (p, self.call(p, req).await) }
        }))
        .await
    }

    /// Runs a request on every partition and gathers the replies; the first
    /// error fails the whole.
    pub async fn gather<R>(&self, req: R) -> Result<Vec<R::Reply>, NodeError>
    where
        R: PartitionRequest + Clone,
    {
        self.all(req).await.into_iter().map(|(_, r)| r).collect()
    }

    /// The partition that holds a record, with its reply to `req` (every
    /// partition is asked; the others answer NOT_FOUND).
    pub async fn locate<R>(&self, key: &str, req: R) -> Result<(u32, R::Reply), NodeError>
    where
        R: PartitionRequest + Clone,
    {
        let mut err = None;
        for (p, r) in self.all(req).await {
            match r {
                Ok(x) => return Ok((p, x)),
                Err(e) if e.code() == tonic::Code::NotFound => {}
                Err(e) => err = Some(e),
            }
        }
        Err(err.unwrap_or_else(|| EngineError::RecordNotFound(ref_key(key)).into()))
    }

    /// One request per partition holding some of `ids` (an entity id names
    /// its partition), concurrently; the replies' items, gathered.
    pub async fn per_entity_partition<R, T>(
        &self,
        ids: &[EntityId],
        request: impl Fn(Vec<EntityId>) -> R,
    ) -> Result<Vec<T>, NodeError>
    where
        R: PartitionRequest<Reply = Vec<T>>,
    {
        let parts = self.map().partitions;
        let mut by_p: BTreeMap<u32, Vec<EntityId>> = BTreeMap::new();
        for &id in ids {
            by_p.entry(partition_of_entity(id, parts))
                .or_default()
                .push(id);
        }
        let asks = by_p.into_iter().map(|(p, ids)| self.call(p, request(ids)));
        let mut out = Vec::new();
        for r in join_all(asks).await {
            out.extend(r?);
        }
        Ok(out)
    }

    /// Runs a node-wide request on another node.
    pub async fn call_node<R: NodeRequest>(
        &self,
        node: u64,
        req: R,
    ) -> Result<R::Reply, NodeError> {
        let addr = self.map().nodes.get(&node).cloned().unwrap_or_default();
        node_reply_of::<R>(self.peers.node(node, &addr, &req.into_op()).await?)
    }
}

/// (owner, epoch) of a partition, or INVALID_ARGUMENT naming it.
pub fn owner_of(map: &PartitionMap, p: u32) -> Result<(u64, u64), NodeError> {
    map.owner(p).ok_or_else(|| NodeError::InvalidArgument {
        field: "partition".into(),
        value: p.to_string(),
        reason: format!("the cluster has {} partitions", map.partitions),
    })
}
