//! The `Cluster` service: status, membership and partition placement.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use tonic::{Request, Response, Status};

use kindred_proto::v1::cluster_server::Cluster as ClusterApi;
use kindred_proto::v1::{
    AddNodeRequest, ClusterChange, ClusterStatus, ClusterStatusRequest, MovePartitionRequest,
    NodeStatus, PartitionMove, PartitionStatus, RebalanceRequest, RemoveNodeRequest,
};

use crate::cluster::moves::plan_rebalance;
use crate::cluster::node_request::{node_reply_of, NodeReport, NodeRequest, Report};
use crate::cluster::Cluster;

/// How long `AddNode` waits for the new node to answer before refusing.
const JOIN_PROBE: Duration = Duration::from_secs(15);
/// How long a node's report may take before it counts as unreachable.
const REPORT_WAIT: Duration = Duration::from_secs(3);
use crate::error::NodeError;
use crate::meta::{MetaCommand, MetaState, NodeInfo, NodeState, RaftStatus};

/// What the members reported about themselves.
#[derive(Default)]
struct Reports {
    /// Partition → (records, entities).
    counts: BTreeMap<u32, (u64, u64)>,
    raft: BTreeMap<u64, RaftStatus>,
    /// Node → (internal calls, raft messages) sent.
    sent: BTreeMap<u64, (u64, u64)>,
    errors: BTreeMap<u64, String>,
}

impl Reports {
    fn add(&mut self, id: u64, r: NodeReport) {
        self.sent.insert(id, r.sent);
        for (p, records, entities) in r.partitions {
            self.counts.insert(p, (records, entities));
        }
        self.raft.insert(id, r.raft);
    }

    /// A member's status as this node sees it (`me`).
    fn node_status(
        &self,
        id: u64,
        info: &NodeInfo,
        owned: Vec<u32>,
        me: &RaftStatus,
    ) -> NodeStatus {
        let Some(r) = self.raft.get(&id) else {
            return NodeStatus {
                node_id: id,
                address: info.address.clone(),
                role: "unreachable".into(),
                state: node_state(info.state),
                partitions: owned.len() as u32,
                error: self.errors.get(&id).cloned().unwrap_or_default(),
                ..Default::default()
            };
        };
        let top_commit = self
            .raft
            .values()
            .map(|r| r.commit)
            .max()
            .unwrap_or(me.commit);
        let sent = self.sent.get(&id).copied().unwrap_or_default();
        NodeStatus {
            node_id: id,
            address: info.address.clone(),
            role: r.role.clone(),
            state: node_state(info.state),
            term: r.term,
            commit_index: r.commit,
            applied_index: r.applied,
            lag: me
                .matched
                .get(&id)
                .map(|m| me.last_index.saturating_sub(*m))
                .unwrap_or_else(|| top_commit.saturating_sub(r.applied)),
            partitions: owned.len() as u32,
            records: owned
                .iter()
                .filter_map(|p| self.counts.get(p).map(|c| c.0))
                .sum(),
            error: String::new(),
            internal_rpcs: sent.0,
            raft_messages: sent.1,
        }
    }
}

/// Implements `kindred.v1.Cluster`.
pub struct ClusterService {
    cluster: Cluster,
}

impl ClusterService {
    pub fn new(cluster: Cluster) -> Self {
        ClusterService { cluster }
    }

    async fn status(&self) -> ClusterStatus {
        let c = &self.cluster;
        let st = c.meta.state();
        let me = c.raft_status();
        let map = c.router().map();
        let reports = self.gather_reports(&st).await;
        let moving = c.moving.lock().map(|m| m.clone()).unwrap_or_default();
        let nodes = st
            .nodes
            .iter()
            .map(|(&id, info)| reports.node_status(id, info, map.owned_by(id), &me))
            .collect();
        let partitions = (0..map.partitions)
            .map(|p| {
                let (owner, epoch) = map.owner(p).unwrap_or_default();
                let (records, entities) = reports.counts.get(&p).copied().unwrap_or_default();
                PartitionStatus {
                    partition: p,
                    owner,
                    epoch,
                    records,
                    entities,
                    state: if moving.contains(&p) {
                        "moving".into()
                    } else {
                        "serving".into()
                    },
                }
            })
            .collect();
        ClusterStatus {
            node_id: c.node_id,
            leader_id: me.leader,
            term: me.term,
            commit_index: me.commit,
            applied_index: me.applied,
            partition_count: map.partitions,
            map_epoch: map.epoch,
            model_version: st.model.as_ref().map(|m| m.version).unwrap_or_default(),
            nodes,
            partitions,
        }
    }

    /// Every member's report (its own, for this node), within 3 s each.
    async fn gather_reports(&self, st: &MetaState) -> Reports {
        let c = &self.cluster;
        let asks = st.nodes.iter().map(|(&id, info)| async move {
            let r = if id == c.node_id {
                Ok(c.report().await)
            } else {
                self.report_of(id, &info.address).await
            };
            (id, r)
        });
        let mut reports = Reports::default();
        for (id, r) in join_all(asks).await {
            match r {
                Ok(report) => reports.add(id, report),
                Err(e) => {
                    reports.errors.insert(id, e.to_string());
                }
            }
        }
        reports
    }

    /// The report of another node, asked over the internal service (and
    /// so over mutual TLS), within `REPORT_WAIT`.
    async fn report_of(&self, id: u64, address: &str) -> Result<NodeReport, NodeError> {
        let req = Report.into_op();
        let ask = self.cluster.router().peers().node(id, address, &req);
        match tokio::time::timeout(REPORT_WAIT, ask).await {
            Ok(r) => r.and_then(node_reply_of::<Report>),
            Err(_) => Err(NodeError::Unavailable("timed out".into())),
        }
    }

    /// Waits until the node at `address` answers over the internal service
    /// (mutual TLS proves it is one of ours), for up to `JOIN_PROBE`.
    async fn probe_new_node(&self, id: u64, address: &str) -> Result<(), Status> {
        let deadline = tokio::time::Instant::now() + JOIN_PROBE;
        loop {
            let err = match self.report_of(id, address).await {
                Ok(_) => return Ok(()),
                Err(e) => e.to_string(),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(Status::failed_precondition(format!(
                    "node {id} at {address} is not reachable as a cluster member ({err}); \
                     it was not added, so the cluster keeps its quorum"
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Refuses a removal that would leave the remaining members without a
    /// reachable majority.
    async fn check_quorum_without(&self, id: u64) -> Result<(), Status> {
        let st = self.cluster.meta.state();
        let remaining: Vec<(u64, String)> = st
            .nodes
            .iter()
            .filter(|(n, _)| **n != id)
            .map(|(n, info)| (*n, info.address.clone()))
            .collect();
        let asks = remaining.iter().map(|(n, addr)| async move {
            *n == self.cluster.node_id || self.report_of(*n, addr).await.is_ok()
        });
        let live = join_all(asks).await.into_iter().filter(|l| *l).count();
        if live * 2 <= remaining.len() {
            return Err(Status::failed_precondition(format!(
                "removing node {id} would leave {live} of {} remaining members reachable: \
                 no quorum",
                remaining.len()
            )));
        }
        Ok(())
    }

    /// Runs planned moves one after the other.
    async fn run_moves(
        &self,
        moves: Vec<(u32, u64, u64)>,
    ) -> Result<Vec<PartitionMove>, NodeError> {
        let mut done = Vec::new();
        for (p, _, to) in moves {
            let (from, bytes, seconds) = self.cluster.move_partition(p, to).await?;
            done.push(PartitionMove {
                partition: p,
                from_node: from,
                to_node: to,
                bytes,
                seconds,
            });
        }
        Ok(done)
    }

    fn active_nodes(&self) -> Vec<u64> {
        self.cluster
            .meta
            .state()
            .nodes
            .iter()
            .filter(|(_, n)| n.state == NodeState::Active)
            .map(|(id, _)| *id)
            .collect()
    }

    async fn change(&self, moves: Vec<PartitionMove>, message: String) -> ClusterChange {
        ClusterChange {
            moves,
            message,
            status: Some(self.status().await),
        }
    }
}

fn node_state(s: NodeState) -> String {
    match s {
        NodeState::Active => "active".into(),
        NodeState::Draining => "draining".into(),
    }
}

#[tonic::async_trait]
impl ClusterApi for ClusterService {
    async fn status(
        &self,
        _req: Request<ClusterStatusRequest>,
    ) -> Result<Response<ClusterStatus>, Status> {
        Ok(Response::new(ClusterService::status(self).await))
    }

    async fn add_node(
        &self,
        req: Request<AddNodeRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        let r = req.into_inner();
        if r.node_id == 0 {
            return Err(NodeError::missing("node_id").into());
        }
        if r.address
            .rsplit_once(':')
            .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
        {
            return Err(NodeError::InvalidArgument {
                field: "address".into(),
                value: r.address,
                reason: "must be HOST:PORT".into(),
            }
            .into());
        }
        if let Some(n) = self.cluster.meta.state().nodes.get(&r.node_id) {
            if n.address == r.address {
                let msg = format!("node {} is already a member", r.node_id);
                return Ok(Response::new(self.change(vec![], msg).await));
            }
            return Err(Status::already_exists(format!(
                "node {} is already a member at {}",
                r.node_id, n.address
            )));
        }
        self.probe_new_node(r.node_id, &r.address).await?;
        self.cluster
            .propose(MetaCommand::AddNode {
                id: r.node_id,
                address: r.address.clone(),
            })
            .await?;
        let msg = format!(
            "node {} added at {}; it owns no partitions until a move or a rebalance",
            r.node_id, r.address
        );
        Ok(Response::new(self.change(vec![], msg).await))
    }

    async fn remove_node(
        &self,
        req: Request<RemoveNodeRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        let id = req.into_inner().node_id;
        if !self.cluster.meta.state().nodes.contains_key(&id) {
            return Err(Status::not_found(format!("node {id} is not a member")));
        }
        self.check_quorum_without(id).await?;
        self.cluster
            .propose(MetaCommand::SetDraining { id, draining: true })
            .await?;
        let active = self.active_nodes();
        if active.is_empty() {
            self.cluster
                .propose(MetaCommand::SetDraining {
                    id,
                    draining: false,
                })
                .await?;
            return Err(Status::failed_precondition(
                "cannot remove the last active node",
            ));
        }
        let map = self.cluster.router().map();
        let moves = plan_rebalance(&map.owners, &active);
        let done = self.run_moves(moves).await?;
        self.cluster.propose(MetaCommand::RemoveNode { id }).await?;
        let msg = format!(
            "node {id} drained ({} partitions moved) and removed",
            done.len()
        );
        Ok(Response::new(self.change(done, msg).await))
    }

    async fn move_partition(
        &self,
        req: Request<MovePartitionRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        let r = req.into_inner();
        let (from, bytes, seconds) = self.cluster.move_partition(r.partition, r.to_node).await?;
        let (moves, msg) = if from == r.to_node {
            (
                vec![],
                format!("partition {} is already on node {}", r.partition, r.to_node),
            )
        } else {
            (
                vec![PartitionMove {
                    partition: r.partition,
                    from_node: from,
                    to_node: r.to_node,
                    bytes,
                    seconds,
                }],
                format!("partition {} moved to node {}", r.partition, r.to_node),
            )
        };
        Ok(Response::new(self.change(moves, msg).await))
    }

    async fn rebalance(
        &self,
        req: Request<RebalanceRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        let map = self.cluster.router().map();
        let moves = plan_rebalance(&map.owners, &self.active_nodes());
        if req.get_ref().dry_run {
            let planned = moves
                .into_iter()
                .map(|(p, from, to)| PartitionMove {
                    partition: p,
                    from_node: from,
                    to_node: to,
                    ..Default::default()
                })
                .collect::<Vec<_>>();
            let msg = format!("{} moves would be made", planned.len());
            return Ok(Response::new(self.change(planned, msg).await));
        }
        let done = self.run_moves(moves).await?;
        let msg = if done.is_empty() {
            "already balanced".to_string()
        } else {
            format!("{} partitions moved", done.len())
        };
        Ok(Response::new(self.change(done, msg).await))
    }
}
