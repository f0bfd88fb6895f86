//! Assembling cluster-wide entities from partition-local ones.
//!
//! A cluster-wide entity is a group of partition-local entities joined by
//! valid cross-partition links (see ARCHITECTURE.md, "Cross-partition
//! links"). The [`Assembler`] explores the links around local entities,
//! checks each link from its partner's side, and clusters each connected
//! component with [`resolve_component`] the way one engine clusters a
//! component, so a read, a write's result and an export agree.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::future::join_all;

use super::groups::{join_ids, resolve_component};
use super::router::Router;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::partition::partition_of_entity;
use crate::partition::request::{
    Bridges, CheckLinks, Entities, EntityById, EntityView, Found, LinkCheck, Links,
};

/// Most local entities a read explores around one entity.
const MAX_GROUP_PARTS: usize = 4096;

/// Local entity → (its cluster-wide id, the local entities that make it
/// up), from [`Assembler::groups`].
pub type Groups = HashMap<EntityId, (EntityId, Vec<EntityId>)>;

/// A pair of records a cluster-wide clustering weighs: a valid link
/// between two partitions, or a local match edge (`EntityView::edges`):
/// (record key, other key, weight).
pub type LinkPair = (String, String, f32);

/// Finds the cluster-wide entities that local entities belong to.
#[derive(Clone)]
pub struct Assembler {
    pub router: Router,
    /// The engine's entity size cap, applied across partitions too.
    pub max_entity_size: usize,
    /// The engine's demotion threshold, applied to cluster-wide key counts.
    pub max_key_size: usize,
}

/// What an exploration reached: every local entity and the valid links
/// between them.
struct Neighbourhood {
    views: Vec<EntityView>,
    pairs: Vec<LinkPair>,
}

impl Assembler {
    /// The cluster-wide entity of a local entity id (merged ids are
    /// followed): its id and the local entities it is made of.
    pub async fn group(&self, id: EntityId) -> Result<(EntityId, Vec<EntityView>), NodeError> {
        let first = self.view(id).await?;
        let start = first.entity;
        if first.links.is_empty() && first.bridged.is_empty() {
            return Ok((start, vec![first]));
        }
        let n = self.neighbourhood(vec![first]).await?;
        let ids = resolve_component(&n.views, &n.pairs, self.max_entity_size);
        let global = ids.get(&start).copied().unwrap_or(start);
        let mut parts: Vec<EntityView> = n
            .views
            .into_iter()
            .filter(|v| ids.get(&v.entity) == Some(&global))
            .collect();
        parts.sort_by_key(|v| v.entity);
        Ok((global, parts))
    }

    /// The cluster-wide id of a local entity.
    pub async fn global_id(&self, id: EntityId) -> Result<EntityId, NodeError> {
        Ok(self.group(id).await?.0)
    }

    /// Cluster-wide ids of several local entities at once (one exploration
    /// for all of them): local id → cluster-wide id.
    pub async fn globals(
        &self,
        ids: &[EntityId],
    ) -> Result<HashMap<EntityId, EntityId>, NodeError> {
        let starts = self.views(ids).await?;
        let n = self.neighbourhood(starts).await?;
        Ok(self.cluster(n))
    }

    /// The cluster-wide entities of several local entities at once (one
    /// exploration for all): each id that still names a local entity of
    /// its own → (its cluster-wide id, the local entities that make it
    /// up). An id merged away or gone is left out. None when the
    /// exploration had to stop short (ask for fewer at a time).
    pub async fn groups(&self, ids: &[EntityId]) -> Result<Option<Groups>, NodeError> {
        let starts = self.views(ids).await?;
        let asked: HashSet<EntityId> = ids.iter().copied().collect();
        let present: Vec<EntityId> = starts
            .iter()
            .map(|v| v.entity)
            .filter(|e| asked.contains(e))
            .collect();
        let n = self.neighbourhood(starts).await?;
        if n.views.len() >= MAX_GROUP_PARTS {
            return Ok(None);
        }
        let global = self.cluster(n);
        let mut parts: HashMap<EntityId, Vec<EntityId>> = HashMap::new();
        for (&local, &g) in &global {
            parts.entry(g).or_default().push(local);
        }
        let mut out = HashMap::with_capacity(present.len());
        for e in present {
            let g = global.get(&e).copied().unwrap_or(e);
            let mut mine = parts.get(&g).cloned().unwrap_or_else(|| vec![e]);
            mine.sort_unstable();
            out.insert(e, (g, mine));
        }
        Ok(Some(out))
    }

    /// Clusters every component of a neighbourhood: local id → cluster-wide
    /// id.
    fn cluster(&self, n: Neighbourhood) -> HashMap<EntityId, EntityId> {
        let owner = owners(&n.views);
        let joined: Vec<(EntityId, EntityId)> = n
            .pairs
            .iter()
            .filter_map(|(a, b, _)| Some((*owner.get(a.as_str())?, *owner.get(b.as_str())?)))
            .collect();
        let components = join_ids(n.views.iter().map(|v| v.entity), &joined);
        let mut by_id: HashMap<EntityId, EntityView> =
            n.views.into_iter().map(|v| (v.entity, v)).collect();
        let mut out = HashMap::new();
        for comp in components {
            let vs: Vec<EntityView> = comp.iter().filter_map(|id| by_id.remove(id)).collect();
            let keys: HashSet<&str> = vs
                .iter()
                .flat_map(|v| v.members.iter().map(String::as_str))
                .collect();
            let ps: Vec<LinkPair> = n
                .pairs
                .iter()
                .filter(|(a, _, _)| keys.contains(a.as_str()))
                .cloned()
                .collect();
            out.extend(resolve_component(&vs, &ps, self.max_entity_size));
        }
        out
    }

    /// Explores the connected components of local entities around
    /// `starts` over valid links, breadth first, one round of link checks
    /// per step.
    async fn neighbourhood(&self, starts: Vec<EntityView>) -> Result<Neighbourhood, NodeError> {
        let mut seen: HashSet<EntityId> = starts.iter().map(|v| v.entity).collect();
        let mut checked: HashMap<LinkCheck, Option<EntityId>> = HashMap::new();
        let mut frontier = starts.clone();
        let mut all = starts;
        while !frontier.is_empty() && all.len() < MAX_GROUP_PARTS {
            let mut reached = self.check_new_links(&frontier, &mut checked).await?;
            reached.extend(frontier.iter().flat_map(|v| v.bridged.iter().copied()));
            let new: Vec<EntityId> = reached.into_iter().filter(|e| seen.insert(*e)).collect();
            frontier = self.views(&new).await?;
            all.extend(frontier.iter().cloned());
        }
        if all.len() >= MAX_GROUP_PARTS {
            tracing::warn!(parts = all.len(), "cross-partition component truncated");
        }
        let mut pairs: Vec<LinkPair> = all
            .iter()
            .flat_map(|v| v.links.iter())
            .filter(|f| {
                checked
                    .get(&check_of(f))
                    .is_some_and(|e| e.is_some_and(|e| seen.contains(&e)))
            })
            .map(|f| (f.key.clone(), f.link.partner.clone(), f.link.weight))
            .collect();
        pairs.extend(all.iter().flat_map(|v| v.edges.iter().cloned()));
        Ok(Neighbourhood { views: all, pairs })
    }

    /// Checks the links of `views` not checked yet at their partners'
    /// partitions; records the answers and returns the entities reached.
    async fn check_new_links(
        &self,
        views: &[EntityView],
        checked: &mut HashMap<LinkCheck, Option<EntityId>>,
    ) -> Result<Vec<EntityId>, NodeError> {
        let mut by_partition: BTreeMap<u32, Vec<LinkCheck>> = BTreeMap::new();
        for f in views.iter().flat_map(|v| v.links.iter()) {
            let c = check_of(f);
            if !checked.contains_key(&c) {
                checked.insert(c.clone(), None);
                by_partition
                    .entry(f.link.partner_partition)
                    .or_default()
                    .push(c);
            }
        }
        let asks = by_partition.into_iter().map(|(p, items)| async move {
            let r = self
                .router
                .call(
                    p,
                    CheckLinks {
                        items: items.clone(),
                    },
                )
                .await;
            (items, r)
        });
        let mut reached = Vec::new();
        for (items, r) in join_all(asks).await {
            for (c, e) in items.into_iter().zip(r?) {
                reached.extend(e);
                checked.insert(c, e);
            }
        }
        reached.sort_unstable();
        reached.dedup();
        Ok(reached)
    }

    /// A local entity, from its partition (an entity id names it).
    pub async fn view(&self, id: EntityId) -> Result<EntityView, NodeError> {
        let p = partition_of_entity(id, self.router.map().partitions);
        self.router.call(p, EntityById { id }).await
    }

    /// Views of local entities, fetched per partition.
    pub async fn views(&self, ids: &[EntityId]) -> Result<Vec<EntityView>, NodeError> {
        self.router
            .per_entity_partition(ids, |ids| Entities { ids })
            .await
    }

    /// Every local entity joined to another by a valid link or a local
    /// bridge → its cluster-wide id: the components of local entities over
    /// links and bridges, each clustered (the second phase of
    /// `engine::cluster::cluster_by_home`) with merge protection and the
    /// size cap.
    pub async fn cross_groups(&self) -> Result<HashMap<EntityId, EntityId>, NodeError> {
        let links: Vec<(EntityId, Found)> = self
            .router
            .gather(Links)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let valid = self.valid_links(&links).await?;
        let bridges: Vec<(EntityId, EntityId)> = self
            .router
            .gather(Bridges)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let mut joined: Vec<(EntityId, EntityId)> =
            valid.iter().map(|(m, p, _)| (*m, *p)).collect();
        joined.extend(bridges);
        let components = join_ids([], &joined);
        let component_of: HashMap<EntityId, usize> = components
            .iter()
            .enumerate()
            .flat_map(|(c, ids)| ids.iter().map(move |&id| (id, c)))
            .collect();
        let mut pairs: Vec<Vec<LinkPair>> = vec![Vec::new(); components.len()];
        for (mine, _, pair) in valid {
            if let Some(&c) = component_of.get(&mine) {
                pairs[c].push(pair);
            }
        }
        let mut views = self.views_in_chunks(&components).await?;
        let mut out = HashMap::new();
        for (c, ids) in components.iter().enumerate() {
            let vs: Vec<EntityView> = ids.iter().filter_map(|id| views.remove(id)).collect();
            pairs[c].extend(vs.iter().flat_map(|v| v.edges.iter().cloned()));
            out.extend(resolve_component(&vs, &pairs[c], self.max_entity_size));
        }
        Ok(out)
    }

    /// The links that hold on their partner's side too: (my entity, the
    /// partner's entity, the pair).
    async fn valid_links(
        &self,
        links: &[(EntityId, Found)],
    ) -> Result<Vec<(EntityId, EntityId, LinkPair)>, NodeError> {
        let mut by_partition: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, (_, f)) in links.iter().enumerate() {
            by_partition
                .entry(f.link.partner_partition)
                .or_default()
                .push(i);
        }
        let asks = by_partition.into_iter().map(|(p, idx)| {
            let items = idx.iter().map(|&i| check_of(&links[i].1)).collect();
            async move { (idx, self.router.call(p, CheckLinks { items }).await) }
        });
        let mut valid = Vec::new();
        for (idx, r) in join_all(asks).await {
            for (i, e) in idx.into_iter().zip(r?) {
                if let Some(partner) = e {
                    let (mine, f) = &links[i];
                    let pair = (f.key.clone(), f.link.partner.clone(), f.link.weight);
                    valid.push((*mine, partner, pair));
                }
            }
        }
        Ok(valid)
    }

    async fn views_in_chunks(
        &self,
        components: &[Vec<EntityId>],
    ) -> Result<HashMap<EntityId, EntityView>, NodeError> {
        let all_ids: Vec<EntityId> = components.iter().flatten().copied().collect();
        let mut views = HashMap::new();
        for chunk in all_ids.chunks(4096) {
            for v in self.views(chunk).await? {
                views.insert(v.entity, v);
            }
        }
        Ok(views)
    }
}

/// The check of a link at its partner's partition.
fn check_of(f: &Found) -> LinkCheck {
    LinkCheck {
        key: f.link.partner.clone(),
        hash: f.link.partner_hash,
        keys: f.link.keys.clone(),
    }
}

/// Record key → the local entity holding it.
fn owners(views: &[EntityView]) -> HashMap<&str, EntityId> {
    views
        .iter()
        .flat_map(|v| v.members.iter().map(move |m| (m.as_str(), v.entity)))
        .collect()
}
