//! The coordinator: serves every public request on any node by sending
//! partition operations to the partitions' owners, local or remote.
//!
//! A write of a batch runs in three rounds (see ARCHITECTURE.md, "Cross-
//! partition links"): *apply* each record at its home partition, then
//! *probe* every other partition with the applied records, then *put* the
//! links found at the records' homes. A cluster-wide entity is a group of
//! partition-local entities joined by valid links; [`Router::group`] finds
//! it and its id is the smallest local id in it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::watch;

use kindred_proto::v1 as pb;

use super::groups::{merge_histories, merge_profiles, resolve_component, UnionFind};
use super::map::{home_partition, PartitionMap};
use super::peers::{NodeOp, Peers};
use crate::engine::features::Packed;
use crate::engine::resolver::{display_key, record_key};
use crate::engine::standardize::{standardize_record, StandardizeConfig};
use crate::engine::{Engine, EngineError, EntityId, MemoryStore, Outcome};
use crate::error::NodeError;
use crate::partition::ops::{EntityView, Found, Op, OpReply, ProbeItem, WireError};
use crate::partition::{partition_of_entity, PartitionHandle};

/// Most local entities a read explores around one entity.
const MAX_GROUP_PARTS: usize = 4096;

/// Partitions this node owns and serves, by number.
pub type LocalPartitions = Arc<RwLock<HashMap<u32, PartitionHandle>>>;

/// Copies an error (errors are not `Clone`: they may wrap I/O errors).
fn copy(e: &NodeError) -> NodeError {
    NodeError::from(WireError::from(e))
}

fn unexpected(r: &OpReply, wanted: &str) -> NodeError {
    NodeError::Unavailable(format!(
        "internal: expected a {wanted} reply, got {}",
        r.kind()
    ))
}

/// An upsert between its rounds: results so far, what to probe with.
pub struct Pending {
    out: Vec<Option<Result<Outcome, NodeError>>>,
    probes: Vec<ProbeItem>,
    linked: Vec<usize>,
    keys: Vec<String>,
}

/// The coordinator of one node.
#[derive(Clone)]
pub struct Router {
    pub node_id: u64,
    map: watch::Receiver<Arc<PartitionMap>>,
    local: LocalPartitions,
    peers: Peers,
    std_cfg: Arc<StandardizeConfig>,
    /// How long a request keeps retrying a partition that is moving or on a
    /// node that is unreachable.
    pub retry_for: Duration,
    /// The engine's entity size cap, applied across partitions too.
    pub max_entity_size: usize,
}

impl Router {
    pub fn new(
        node_id: u64,
        map: watch::Receiver<Arc<PartitionMap>>,
        local: LocalPartitions,
        peers: Peers,
        std_cfg: StandardizeConfig,
    ) -> Router {
        Router {
            node_id,
            map,
            local,
            peers,
            std_cfg: Arc::new(std_cfg),
            retry_for: Duration::from_secs(30),
            max_entity_size: 1000,
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

    /// Serves an op for a partition this node owns (from here or from
    /// another node's coordinator, which names the epoch it knows).
    pub async fn serve(&self, p: u32, epoch: Option<u64>, op: Op) -> Result<OpReply, NodeError> {
        let map = self.map();
        let (owner, current) = map.owner(p).ok_or_else(|| NodeError::InvalidArgument {
            field: "partition".into(),
            value: p.to_string(),
            reason: format!("the cluster has {} partitions", map.partitions),
        })?;
        let not_owner = NodeError::NotOwner {
            partition: p,
            epoch: current,
        };
        if owner != self.node_id || epoch.is_some_and(|e| e > current) {
            return Err(not_owner);
        }
        let h = self.local_handle(p).ok_or_else(|| {
            NodeError::Unavailable(format!("partition {p} is opening on node {}", self.node_id))
        })?;
        h.op(op).await
    }

    /// Runs an op on a partition wherever it lives, retrying while it
    /// moves or its node is unreachable.
    pub async fn call(&self, p: u32, op: Op) -> Result<OpReply, NodeError> {
        let deadline = Instant::now() + self.retry_for;
        let mut wait = Duration::from_millis(20);
        loop {
            let map = self.map();
            let (owner, epoch) = map.owner(p).ok_or_else(|| NodeError::InvalidArgument {
                field: "partition".into(),
                value: p.to_string(),
                reason: format!("the cluster has {} partitions", map.partitions),
            })?;
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

    /// Runs an op on every partition, concurrently.
    async fn all(&self, op: Op) -> Vec<(u32, Result<OpReply, NodeError>)> {
        let n = self.map().partitions;
        join_all((0..n).map(|p| {
            let op = op.clone();
            async move { (p, self.call(p, op).await) }
        }))
        .await
    }

    // ------------------------------------------------------------ writes

    /// Upserts a batch: one result per record, in order. A record that
    /// fails does not fail the others.
    pub async fn upsert(&self, records: Vec<pb::Record>) -> Vec<Result<Outcome, NodeError>> {
        let pending = self.apply(records).await;
        self.complete(pending).await
    }

    /// Round 1 of an upsert: the records are stored and resolved at their
    /// homes. Batches of one stream are applied in order; their links
    /// ([`Router::complete`]) may then be found concurrently.
    pub async fn apply(&self, records: Vec<pb::Record>) -> Pending {
        let n = records.len();
        let map = self.map();
        let parts = map.partitions;
        // Standardise once, here; partitions receive packed features.
        let std_cfg = self.std_cfg.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            records
                .into_iter()
                .map(|r| {
                    Engine::<MemoryStore>::validate(&r)?;
                    let std = standardize_record(&r, &std_cfg);
                    let feats = Packed::from_std(&std);
                    let key = record_key(&r.source, &r.record_id);
                    let home = home_partition(&key, &feats.view(), parts);
                    Ok::<_, EngineError>((r, feats, key, home, std.issues))
                })
                .collect::<Vec<_>>()
        })
        .await;
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                return Pending {
                    out: (0..n)
                        .map(|_| Some(Err(NodeError::Unavailable(format!("standardising: {e}")))))
                        .collect(),
                    probes: vec![],
                    linked: vec![],
                    keys: vec![String::new(); n],
                }
            }
        };
        let mut out: Vec<Option<Result<Outcome, NodeError>>> = (0..n).map(|_| None).collect();
        let mut by_home: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        let mut items: Vec<Option<(pb::Record, Vec<u8>)>> = Vec::with_capacity(n);
        let mut meta: Vec<(String, u32, Vec<u8>)> = Vec::with_capacity(n);
        let mut issues = Vec::with_capacity(n);
        for (i, p) in prepared.into_iter().enumerate() {
            match p {
                Ok((r, feats, key, home, iss)) => {
                    by_home.entry(home).or_default().push(i);
                    let bytes = feats.as_bytes().to_vec();
                    items.push(Some((r, bytes.clone())));
                    meta.push((key, home, bytes));
                    issues.push(iss);
                }
                Err(e) => {
                    out[i] = Some(Err(e.into()));
                    items.push(None);
                    meta.push((String::new(), 0, Vec::new()));
                    issues.push(Vec::new());
                }
            }
        }
        // Round 1: apply at the homes.
        let applies = by_home.into_iter().map(|(p, idx)| {
            let batch: Vec<(pb::Record, Vec<u8>)> =
                idx.iter().filter_map(|&i| items[i].take()).collect();
            async move { (p, idx, self.call(p, Op::Apply { items: batch }).await) }
        });
        let applied = join_all(applies).await;
        let mut probes: Vec<ProbeItem> = Vec::new();
        let mut linked: Vec<usize> = Vec::new();
        for (_, idx, res) in applied {
            match res {
                Ok(OpReply::Applied(v)) => {
                    for (&i, r) in idx.iter().zip(v) {
                        match r {
                            Ok(a) => {
                                let (key, home, feats) = &meta[i];
                                probes.push(ProbeItem {
                                    key: key.clone(),
                                    feats: feats.clone(),
                                    hash: a.hash,
                                    home: *home,
                                });
                                if a.linked {
                                    linked.push(i);
                                }
                                let mut o = a.outcome;
                                o.issues = std::mem::take(&mut issues[i]);
                                out[i] = Some(Ok(o));
                            }
                            Err(w) => out[i] = Some(Err(w.into())),
                        }
                    }
                }
                Ok(other) => {
                    let e = unexpected(&other, "applied");
                    for &i in &idx {
                        out[i] = Some(Err(copy(&e)));
                    }
                }
                Err(e) => {
                    for &i in &idx {
                        out[i] = Some(Err(copy(&e)));
                    }
                }
            }
        }
        Pending {
            out,
            probes,
            linked,
            keys: meta.into_iter().map(|m| m.0).collect(),
        }
    }

    /// Rounds 2 and 3 of an upsert, and the cluster-wide entity ids.
    pub async fn complete(&self, pending: Pending) -> Vec<Result<Outcome, NodeError>> {
        let Pending {
            mut out,
            probes,
            mut linked,
            keys,
        } = pending;
        let parts = self.map().partitions;
        if parts > 1 && !probes.is_empty() {
            match self.probe_and_link(probes).await {
                Ok(found_for) => {
                    let by_key: HashMap<&str, usize> = keys
                        .iter()
                        .enumerate()
                        .map(|(i, k)| (k.as_str(), i))
                        .collect();
                    for k in found_for {
                        if let Some(&i) = by_key.get(k.as_str()) {
                            linked.push(i);
                        }
                    }
                }
                Err(e) => {
                    // The records are stored, but their links are not all
                    // known: fail them so the client retries (upserts are
                    // idempotent).
                    for o in out.iter_mut() {
                        if matches!(o, Some(Ok(_))) {
                            *o = Some(Err(copy(&e)));
                        }
                    }
                }
            }
        }
        // Cluster-wide ids for records whose entity has links, in one go.
        let locals: Vec<EntityId> = {
            let mut v: Vec<EntityId> = linked
                .iter()
                .filter_map(|&i| match out.get(i) {
                    Some(Some(Ok(o))) => Some(o.entity),
                    _ => None,
                })
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        if !locals.is_empty() {
            if let Ok(ids) = self.globals(&locals).await {
                for &i in &linked {
                    if let Some(Some(Ok(o))) = out.get_mut(i) {
                        if let Some(&g) = ids.get(&o.entity) {
                            o.entity = g;
                        }
                    }
                }
            }
        }
        out.into_iter()
            .map(|o| o.unwrap_or_else(|| Err(NodeError::Unavailable("internal: no result".into()))))
            .collect()
    }

    /// Probes every partition with the applied records and stores the links
    /// found at the records' homes. Returns the keys that got links.
    async fn probe_and_link(&self, probes: Vec<ProbeItem>) -> Result<Vec<String>, NodeError> {
        let probes = Arc::new(probes);
        let deadline = Instant::now() + self.retry_for;
        let map = self.map();
        let mut missing: HashSet<u32> = (0..map.partitions).collect();
        let mut found: Vec<Found> = Vec::new();
        // One request per node that owns partitions...
        let asks = map.owning_nodes().into_iter().map(|node| {
            let op = NodeOp::Probe {
                items: probes.clone(),
            };
            let addr = map.nodes.get(&node).cloned().unwrap_or_default();
            async move {
                match op {
                    NodeOp::Probe { items } if node == self.node_id => {
                        Ok(self.probe_here(items).await)
                    }
                    op => self.peers.node(node, &addr, &op).await,
                }
            }
        });
        for r in join_all(asks).await {
            if let Ok(OpReply::Probed {
                found: f, probed, ..
            }) = r
            {
                found.extend(f);
                for p in probed {
                    missing.remove(&p);
                }
            }
        }
        // ...then each partition that no node answered for (its node is
        // down, or it moved meanwhile), with retries.
        let mut missing: Vec<u32> = missing.into_iter().collect();
        missing.sort_unstable();
        for p in missing {
            let op = Op::Probe {
                items: probes.clone(),
            };
            match self.call(p, op).await? {
                OpReply::Probed { found: f, .. } => found.extend(f),
                other => return Err(unexpected(&other, "probed")),
            }
            if Instant::now() > deadline {
                return Err(NodeError::Unavailable("probing timed out".into()));
            }
        }
        // Round 3: the homes keep the links of their records.
        let home_of: HashMap<&str, u32> = probes.iter().map(|p| (p.key.as_str(), p.home)).collect();
        let mut by_home: BTreeMap<u32, Vec<Found>> = BTreeMap::new();
        let mut keys = Vec::new();
        for f in found {
            if let Some(&h) = home_of.get(f.key.as_str()) {
                keys.push(f.key.clone());
                by_home.entry(h).or_default().push(f);
            }
        }
        let puts = by_home
            .into_iter()
            .map(|(p, items)| async move { self.call(p, Op::PutLinks { items }).await });
        for r in join_all(puts).await {
            r?;
        }
        Ok(keys)
    }

    /// Probes every partition this node owns with a batch (each skips the
    /// records homed in it). Reports which partitions ran the probe.
    pub async fn probe_here(&self, items: Arc<Vec<ProbeItem>>) -> OpReply {
        let map = self.map();
        let runs = map.owned_by(self.node_id).into_iter().map(|p| {
            let op = Op::Probe {
                items: items.clone(),
            };
            let epoch = map.owner(p).map(|o| o.1);
            async move { (p, self.serve(p, epoch, op).await) }
        });
        let mut found = Vec::new();
        let mut evicted = Vec::new();
        let mut probed = Vec::new();
        for (p, r) in join_all(runs).await {
            if let Ok(OpReply::Probed {
                found: f,
                evicted: e,
                ..
            }) = r
            {
                found.extend(f);
                evicted.extend(e);
                probed.push(p);
            }
        }
        OpReply::Probed {
            found,
            evicted,
            probed,
        }
    }

    /// Deletes a record wherever it lives.
    pub async fn delete(&self, source: &str, record_id: &str) -> Result<Vec<EntityId>, NodeError> {
        let key = record_key(source, record_id);
        let mut affected = None;
        for (_, r) in self.all(Op::Delete { key: key.clone() }).await {
            match r {
                Ok(OpReply::Deleted(v)) => affected.get_or_insert_with(Vec::new).extend(v),
                Ok(other) => return Err(unexpected(&other, "deleted")),
                Err(e) if e.code() == tonic::Code::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        affected.ok_or_else(|| EngineError::RecordNotFound(display_key(&key)).into())
    }

    // ------------------------------------------------------------- reads

    /// (partition, reply) of the partition holding a record.
    async fn locate(&self, key: &str, op: Op) -> Result<(u32, OpReply), NodeError> {
        let mut err = None;
        for (p, r) in self.all(op).await {
            match r {
                Ok(x) => return Ok((p, x)),
                Err(e) if e.code() == tonic::Code::NotFound => {}
                Err(e) => err = Some(e),
            }
        }
        Err(err.unwrap_or_else(|| EngineError::RecordNotFound(display_key(key)).into()))
    }

    /// A stored record, its cluster-wide entity and its issues.
    pub async fn get_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<(pb::Record, EntityId, Vec<pb::StandardizationIssue>), NodeError> {
        let key = record_key(source, record_id);
        match self
            .locate(&key, Op::GetRecord { key: key.clone() })
            .await?
        {
            (
                _,
                OpReply::Record {
                    record,
                    entity,
                    issues,
                },
            ) => Ok((*record, self.group(entity).await?.0, issues)),
            (_, other) => Err(unexpected(&other, "record")),
        }
    }

    async fn view(&self, id: EntityId) -> Result<EntityView, NodeError> {
        let p = partition_of_entity(id, self.map().partitions);
        match self
            .call(
                p,
                Op::Entity {
                    key: None,
                    id: Some(id),
                },
            )
            .await?
        {
            OpReply::Entity(v) => Ok(v),
            other => Err(unexpected(&other, "entity")),
        }
    }

    /// The cluster-wide entity of a local entity id (merged ids are
    /// followed): its id and the local entities it is made of. The
    /// connected component of local entities around it (over valid links)
    /// is clustered the way [`Router::cross_groups`] clusters it, so a read
    /// and an export agree.
    pub async fn group(&self, id: EntityId) -> Result<(EntityId, Vec<EntityView>), NodeError> {
        let first = self.view(id).await?;
        let start = first.entity;
        if first.links.is_empty() {
            return Ok((start, vec![first]));
        }
        let (all, pairs) = self.neighbourhood(vec![first]).await?;
        let ids = resolve_component(&all, &pairs, self.max_entity_size);
        let global = ids.get(&start).copied().unwrap_or(start);
        let mut parts: Vec<EntityView> = all
            .into_iter()
            .filter(|v| ids.get(&v.entity) == Some(&global))
            .collect();
        parts.sort_by_key(|v| v.entity);
        Ok((global, parts))
    }

    /// Cluster-wide ids of several local entities at once (one exploration
    /// for all of them): local id → cluster-wide id.
    pub async fn globals(
        &self,
        ids: &[EntityId],
    ) -> Result<HashMap<EntityId, EntityId>, NodeError> {
        let starts = self.views(ids).await?;
        let (all, pairs) = self.neighbourhood(starts).await?;
        let mut uf = UnionFind::default();
        for v in &all {
            uf.union(v.entity, v.entity);
        }
        let owner: HashMap<&str, EntityId> = all
            .iter()
            .flat_map(|v| v.members.iter().map(move |m| (m.as_str(), v.entity)))
            .collect();
        for (a, b, _) in &pairs {
            if let (Some(&x), Some(&y)) = (owner.get(a.as_str()), owner.get(b.as_str())) {
                uf.union(x, y);
            }
        }
        let mut by_id: HashMap<EntityId, EntityView> =
            all.into_iter().map(|v| (v.entity, v)).collect();
        let mut out = HashMap::new();
        for comp in uf.groups() {
            let vs: Vec<EntityView> = comp.iter().filter_map(|id| by_id.remove(id)).collect();
            let keys: HashSet<&str> = vs
                .iter()
                .flat_map(|v| v.members.iter().map(String::as_str))
                .collect();
            let ps: Vec<(String, String, f32)> = pairs
                .iter()
                .filter(|(a, _, _)| keys.contains(a.as_str()))
                .cloned()
                .collect();
            out.extend(resolve_component(&vs, &ps, self.max_entity_size));
        }
        Ok(out)
    }

    /// Explores the connected components of local entities around
    /// `starts` over valid links: every view reached, and the valid links
    /// between them as (key, partner key, weight).
    async fn neighbourhood(
        &self,
        starts: Vec<EntityView>,
    ) -> Result<(Vec<EntityView>, Vec<(String, String, f32)>), NodeError> {
        let mut seen: HashSet<EntityId> = starts.iter().map(|v| v.entity).collect();
        let mut frontier = starts.clone();
        let mut all = starts;
        let mut checked: HashMap<(String, u64, Vec<u64>), Option<EntityId>> = HashMap::new();
        while !frontier.is_empty() && all.len() < MAX_GROUP_PARTS {
            let mut checks: BTreeMap<u32, Vec<(String, u64, Vec<u64>)>> = BTreeMap::new();
            for v in &frontier {
                for f in &v.links {
                    let k = (
                        f.link.partner.clone(),
                        f.link.partner_hash,
                        f.link.keys.clone(),
                    );
                    if !checked.contains_key(&k) {
                        checked.insert(k.clone(), None);
                        checks.entry(f.link.partner_partition).or_default().push(k);
                    }
                }
            }
            frontier.clear();
            let asks = checks.into_iter().map(|(p, items)| async move {
                let r = self
                    .call(
                        p,
                        Op::Check {
                            items: items.clone(),
                        },
                    )
                    .await;
                (items, r)
            });
            let mut next = Vec::new();
            for (items, r) in join_all(asks).await {
                match r? {
                    OpReply::Checked(v) => {
                        for (k, e) in items.into_iter().zip(v) {
                            if let Some(e) = e {
                                next.push(e);
                            }
                            checked.insert(k, e);
                        }
                    }
                    other => return Err(unexpected(&other, "checked")),
                }
            }
            next.sort_unstable();
            next.dedup();
            let new: Vec<EntityId> = next.into_iter().filter(|e| seen.insert(*e)).collect();
            for v in self.views(&new).await? {
                frontier.push(v.clone());
                all.push(v);
            }
        }
        if all.len() >= MAX_GROUP_PARTS {
            tracing::warn!(parts = all.len(), "cross-partition component truncated");
        }
        let pairs = all
            .iter()
            .flat_map(|v| v.links.iter())
            .filter(|f| {
                checked
                    .get(&(
                        f.link.partner.clone(),
                        f.link.partner_hash,
                        f.link.keys.clone(),
                    ))
                    .is_some_and(|e| e.is_some_and(|e| seen.contains(&e)))
            })
            .map(|f| (f.key.clone(), f.link.partner.clone(), f.link.weight))
            .collect();
        Ok((all, pairs))
    }

    /// Views of local entities, fetched per partition.
    async fn views(&self, ids: &[EntityId]) -> Result<Vec<EntityView>, NodeError> {
        self.per_entity_partition(
            ids,
            |ids| Op::Entities { ids },
            |r| match r {
                OpReply::Views(v) => Ok(v),
                other => Err(unexpected(&other, "views")),
            },
        )
        .await
    }

    /// One op per partition holding some of `ids` (an entity id names its
    /// partition), concurrently; the replies' items, gathered.
    async fn per_entity_partition<T>(
        &self,
        ids: &[EntityId],
        op: impl Fn(Vec<EntityId>) -> Op,
        items: impl Fn(OpReply) -> Result<Vec<T>, NodeError>,
    ) -> Result<Vec<T>, NodeError> {
        let parts = self.map().partitions;
        let mut by_p: BTreeMap<u32, Vec<EntityId>> = BTreeMap::new();
        for &id in ids {
            by_p.entry(partition_of_entity(id, parts))
                .or_default()
                .push(id);
        }
        let asks = by_p.into_iter().map(|(p, ids)| self.call(p, op(ids)));
        let mut out = Vec::new();
        for r in join_all(asks).await {
            out.extend(items(r?)?);
        }
        Ok(out)
    }

    /// Every local entity that has cross-partition links → its cluster-wide
    /// id: the components of local entities over valid links, each
    /// clustered with merge protection and the size cap.
    pub async fn cross_groups(&self) -> Result<HashMap<EntityId, EntityId>, NodeError> {
        let mut links: Vec<(EntityId, Found)> = Vec::new();
        for (_, r) in self.all(Op::Links).await {
            match r? {
                OpReply::Links(v) => links.extend(v),
                other => return Err(unexpected(&other, "links")),
            }
        }
        let mut checks: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, (_, f)) in links.iter().enumerate() {
            checks.entry(f.link.partner_partition).or_default().push(i);
        }
        let asks = checks.into_iter().map(|(p, idx)| {
            let items = idx
                .iter()
                .map(|&i| {
                    let l = &links[i].1.link;
                    (l.partner.clone(), l.partner_hash, l.keys.clone())
                })
                .collect();
            async move { (idx, self.call(p, Op::Check { items }).await) }
        });
        let mut uf = UnionFind::default();
        let mut valid: Vec<(EntityId, String, String, f32)> = Vec::new();
        for (idx, r) in join_all(asks).await {
            match r? {
                OpReply::Checked(v) => {
                    for (i, e) in idx.into_iter().zip(v) {
                        if let Some(e) = e {
                            let (mine, f) = &links[i];
                            uf.union(*mine, e);
                            valid.push((
                                *mine,
                                f.key.clone(),
                                f.link.partner.clone(),
                                f.link.weight,
                            ));
                        }
                    }
                }
                other => return Err(unexpected(&other, "checked")),
            }
        }
        let components = uf.groups();
        let mut of: HashMap<EntityId, usize> = HashMap::new();
        for (c, ids) in components.iter().enumerate() {
            for &id in ids {
                of.insert(id, c);
            }
        }
        let mut pairs: Vec<Vec<(String, String, f32)>> = vec![Vec::new(); components.len()];
        for (mine, a, b, w) in valid {
            if let Some(&c) = of.get(&mine) {
                pairs[c].push((a, b, w));
            }
        }
        let all_ids: Vec<EntityId> = components.iter().flatten().copied().collect();
        let mut views: HashMap<EntityId, EntityView> = HashMap::new();
        for chunk in all_ids.chunks(4096) {
            for v in self.views(chunk).await? {
                views.insert(v.entity, v);
            }
        }
        let mut out = HashMap::new();
        for (c, ids) in components.iter().enumerate() {
            let vs: Vec<EntityView> = ids.iter().filter_map(|id| views.remove(id)).collect();
            out.extend(resolve_component(&vs, &pairs[c], self.max_entity_size));
        }
        Ok(out)
    }

    /// Every (internal key, cluster-wide entity), sorted by key.
    pub async fn assignments(&self) -> Result<Vec<(String, EntityId)>, NodeError> {
        let groups = self.cross_groups().await?;
        let mut rows = Vec::new();
        for (_, r) in self.all(Op::Assignments).await {
            match r? {
                OpReply::Rows(v) => rows.extend(
                    v.into_iter()
                        .map(|r| (r.key, *groups.get(&r.entity).unwrap_or(&r.entity))),
                ),
                other => return Err(unexpected(&other, "rows")),
            }
        }
        rows.sort();
        Ok(rows)
    }

    /// Cluster-wide entity ids, each with the local ids it is made of,
    /// ascending.
    pub async fn entities(&self) -> Result<BTreeMap<EntityId, Vec<EntityId>>, NodeError> {
        let groups = self.cross_groups().await?;
        let mut out: BTreeMap<EntityId, Vec<EntityId>> = BTreeMap::new();
        for (_, r) in self
            .all(Op::EntityIds {
                after: 0,
                limit: usize::MAX,
            })
            .await
        {
            match r? {
                OpReply::Entities(ids) => {
                    for id in ids {
                        out.entry(*groups.get(&id).unwrap_or(&id))
                            .or_default()
                            .push(id);
                    }
                }
                other => return Err(unexpected(&other, "entities")),
            }
        }
        Ok(out)
    }

    /// Profiles of local entities, fetched per partition.
    pub async fn local_profiles(&self, ids: &[EntityId]) -> Result<Vec<pb::Profile>, NodeError> {
        self.per_entity_partition(
            ids,
            |ids| Op::Profiles { ids },
            |r| match r {
                OpReply::Profiles(v) => Ok(v),
                other => Err(unexpected(&other, "profiles")),
            },
        )
        .await
    }

    /// The profile of a cluster-wide entity, from any of its ids.
    pub async fn profile(&self, id: EntityId) -> Result<pb::Profile, NodeError> {
        let (global, parts) = self.group(id).await?;
        let ids: Vec<EntityId> = parts.iter().map(|v| v.entity).collect();
        Ok(merge_profiles(global, self.local_profiles(&ids).await?))
    }

    /// The profile of the entity holding a record.
    pub async fn profile_of_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<pb::Profile, NodeError> {
        let (_, entity, _) = self.get_record(source, record_id).await?;
        self.profile(entity).await
    }

    /// The profile of the entity holding an identity value (the smallest
    /// cluster-wide id when several do).
    pub async fn profile_of_identity(
        &self,
        kind: &str,
        value: &str,
    ) -> Result<pb::Profile, NodeError> {
        let mut ids = Vec::new();
        for (_, r) in self
            .all(Op::Identity {
                kind: kind.into(),
                value: value.into(),
            })
            .await
        {
            if let OpReply::Entities(v) = r? {
                ids.extend(v);
            }
        }
        let mut best: Option<EntityId> = None;
        for id in ids {
            let g = self.group(id).await?.0;
            best = Some(best.map_or(g, |b: EntityId| b.min(g)));
        }
        let id = best.ok_or_else(|| EngineError::IdentityNotFound {
            kind: kind.into(),
            value: value.into(),
        })?;
        self.profile(id).await
    }

    /// Ranked candidate entities for a partial description.
    pub async fn search(
        &self,
        query: pb::Record,
        limit: usize,
        min_probability: f64,
    ) -> Result<Vec<pb::SearchCandidate>, NodeError> {
        let mut hits = Vec::new();
        for (_, r) in self
            .all(Op::Search {
                query: Box::new(query),
                limit,
                min_probability,
            })
            .await
        {
            if let OpReply::Hits(v) = r? {
                hits.extend(v);
            }
        }
        hits.sort_by(|a, b| b.1.weight.total_cmp(&a.1.weight).then(a.0.cmp(&b.0)));
        let mut out: Vec<pb::SearchCandidate> = Vec::new();
        let mut seen = HashSet::new();
        for (local, mut c) in hits {
            if out.len() >= limit {
                break;
            }
            let g = self.group(local).await?.0;
            if seen.insert(g) {
                c.entity_id = g;
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn features(&self, key: &str) -> Result<(u32, Vec<u8>), NodeError> {
        match self.locate(key, Op::Features { key: key.into() }).await? {
            (p, OpReply::Features { feats, .. }) => Ok((p, feats)),
            (_, other) => Err(unexpected(&other, "features")),
        }
    }

    /// The cluster-wide entity of a record held by partition `p`.
    async fn entity_of_key(&self, p: u32, key: &str) -> Result<EntityId, NodeError> {
        match self
            .call(
                p,
                Op::Entity {
                    key: Some(key.into()),
                    id: None,
                },
            )
            .await?
        {
            OpReply::Entity(v) => Ok(self.group(v.entity).await?.0),
            other => Err(unexpected(&other, "entity")),
        }
    }

    /// Why two records match or not, wherever they live.
    pub async fn why_records(&self, a: &str, b: &str) -> Result<pb::PairExplanation, NodeError> {
        let (pa, _) = self.features(a).await?;
        let (pb_, fb) = self.features(b).await?;
        let op = if pa == pb_ {
            Op::WhyRecords {
                a: a.into(),
                b: b.into(),
            }
        } else {
            Op::WhyForeign {
                local: a.into(),
                foreign: b.into(),
                feats: fb,
            }
        };
        let mut p = match self.call(pa, op).await? {
            OpReply::Pair(p) => *p,
            other => return Err(unexpected(&other, "pair")),
        };
        p.same_entity = self.entity_of_key(pa, a).await? == self.entity_of_key(pb_, b).await?;
        Ok(p)
    }

    /// Explains a record against every record of a cluster-wide entity.
    pub async fn why_entity(
        &self,
        key: &str,
        entity: EntityId,
    ) -> Result<pb::EntityExplanation, NodeError> {
        let (pr, _) = self.features(key).await?;
        let (global, parts) = self.group(entity).await?;
        let n = self.map().partitions;
        let mut pairs = Vec::new();
        let mut member = false;
        for v in &parts {
            member |= v.members.iter().any(|m| m == key);
            if partition_of_entity(v.entity, n) == pr {
                match self
                    .call(
                        pr,
                        Op::WhyEntity {
                            key: key.into(),
                            entity: v.entity,
                        },
                    )
                    .await?
                {
                    OpReply::EntityExplanation(x) => pairs.extend(x.pairs),
                    other => return Err(unexpected(&other, "entity explanation")),
                }
            } else {
                for m in &v.members {
                    let (_, feats) = self.features(m).await?;
                    match self
                        .call(
                            pr,
                            Op::WhyForeign {
                                local: key.into(),
                                foreign: m.clone(),
                                feats,
                            },
                        )
                        .await?
                    {
                        OpReply::Pair(p) => pairs.push(*p),
                        other => return Err(unexpected(&other, "pair")),
                    }
                }
            }
        }
        pairs.sort_by(|x, y| y.total_weight.total_cmp(&x.total_weight));
        Ok(pb::EntityExplanation {
            record: Some(super::super::server::convert::ref_from_display(
                &display_key(key),
            )),
            entity_id: global,
            member,
            pairs,
        })
    }

    /// How a cluster-wide entity was built: the histories of its parts.
    pub async fn how(&self, entity: EntityId) -> Result<pb::EntityHistory, NodeError> {
        let (global, parts) = self.group(entity).await?;
        let n = self.map().partitions;
        let mut hs = Vec::new();
        for v in &parts {
            match self
                .call(
                    partition_of_entity(v.entity, n),
                    Op::How { entity: v.entity },
                )
                .await?
            {
                OpReply::History(h) => hs.push(*h),
                other => return Err(unexpected(&other, "history")),
            }
        }
        let links: Vec<Found> = parts.iter().flat_map(|v| v.links.clone()).collect();
        Ok(merge_histories(global, hs, &links))
    }

    /// Summed counters; entities counts cluster-wide entities.
    pub async fn stats(&self) -> Result<(crate::engine::resolver::Stats, u64), NodeError> {
        let mut total = crate::engine::resolver::Stats::default();
        let mut version = 0;
        for (_, r) in self.all(Op::Stats).await {
            match r? {
                OpReply::Stats {
                    stats: s,
                    model_version,
                } => {
                    total.records += s.records;
                    total.entities += s.entities;
                    total.merges += s.merges;
                    total.splits += s.splits;
                    total.comparisons += s.comparisons;
                    total.match_edges += s.match_edges;
                    total.possible_edges += s.possible_edges;
                    total.blocking_keys += s.blocking_keys;
                    total.demoted_keys += s.demoted_keys;
                    version = version.max(model_version);
                }
                other => return Err(unexpected(&other, "stats")),
            }
        }
        let groups = self.cross_groups().await?;
        let roots: HashSet<EntityId> = groups.values().copied().collect();
        total.entities = total.entities.saturating_sub(groups.len() - roots.len());
        Ok((total, version))
    }

    /// Packed features of every record, for training.
    pub async fn sample(&self) -> Result<Vec<Packed>, NodeError> {
        let mut out = Vec::new();
        for (_, r) in self.all(Op::Sample).await {
            match r? {
                OpReply::Sample(v) => out.extend(v.iter().filter_map(|b| Packed::from_bytes(b))),
                other => return Err(unexpected(&other, "sample")),
            }
        }
        Ok(out)
    }

    /// Switches every partition to a model, then finds the links again
    /// (links found under another model are no longer valid).
    pub async fn set_model(&self, json: String) -> Result<(), NodeError> {
        for (_, r) in self.all(Op::SetModel { json }).await {
            r?;
        }
        self.relink().await
    }

    /// Probes every record of every partition again.
    pub async fn relink(&self) -> Result<(), NodeError> {
        let n = self.map().partitions;
        if n < 2 {
            return Ok(());
        }
        for p in 0..n {
            let mut after = String::new();
            loop {
                let items = match self
                    .call(
                        p,
                        Op::Records {
                            after: after.clone(),
                            limit: 2000,
                        },
                    )
                    .await?
                {
                    OpReply::Records(v) => v,
                    other => return Err(unexpected(&other, "records")),
                };
                let Some(last) = items.last() else { break };
                after = last.key.clone();
                self.probe_and_link(items).await?;
            }
        }
        Ok(())
    }

    /// The model (every partition holds the same one).
    pub async fn model_json(&self) -> Result<String, NodeError> {
        match self.call(0, Op::Model).await? {
            OpReply::Model(json) => Ok(json),
            other => Err(unexpected(&other, "model")),
        }
    }
}
