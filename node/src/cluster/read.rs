//! The read side of the coordinator: records, profiles, search and
//! exports, each answered with cluster-wide entities.

use std::collections::{BTreeMap, HashMap, HashSet};

use kindred_proto::v1 as pb;

use super::assemble::Assembler;
use super::groups::merge_profiles;
use super::router::Router;
use crate::engine::resolver::record_key;
use crate::engine::standardize::Issue;
use crate::engine::{EngineError, EntityId};
use crate::error::NodeError;
use crate::partition::request::{Assignments, EntityIds, GetRecord, Identity, Profiles, Search};

/// The coordinator's read path.
#[derive(Clone)]
pub struct Reader {
    pub assembler: Assembler,
}

/// A stored record with its cluster-wide entity.
pub struct RecordView {
    pub record: pb::Record,
    pub entity: EntityId,
    pub issues: Vec<Issue>,
}

impl Reader {
    fn router(&self) -> &Router {
        &self.assembler.router
    }

    /// A stored record, its cluster-wide entity and its issues.
    pub async fn get_record(&self, source: &str, record_id: &str) -> Result<RecordView, NodeError> {
        let key = record_key(source, record_id);
        let (_, stored) = self
            .router()
            .locate(&key, GetRecord { key: key.clone() })
            .await?;
        Ok(RecordView {
            record: *stored.record,
            entity: self.assembler.global_id(stored.entity).await?,
            issues: stored.issues,
        })
    }

    /// Profiles of local entities, fetched per partition.
    pub async fn local_profiles(&self, ids: &[EntityId]) -> Result<Vec<pb::Profile>, NodeError> {
        self.router()
            .per_entity_partition(ids, |ids| Profiles { ids })
            .await
    }

    /// The profile of a cluster-wide entity, from any of its ids.
    pub async fn profile(&self, id: EntityId) -> Result<pb::Profile, NodeError> {
        Ok(self.profile_and_parts(id).await?.0)
    }

    /// The profile of a cluster-wide entity, with the local entities it is
    /// made of.
    pub async fn profile_and_parts(
        &self,
        id: EntityId,
    ) -> Result<(pb::Profile, Vec<EntityId>), NodeError> {
        let (global, parts) = self.assembler.group(id).await?;
        let ids: Vec<EntityId> = parts.iter().map(|v| v.entity).collect();
        let profile = merge_profiles(global, self.local_profiles(&ids).await?);
        Ok((profile, ids))
    }

    /// The cluster-wide entity holding a record.
    pub async fn entity_of_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<EntityId, NodeError> {
        Ok(self.get_record(source, record_id).await?.entity)
    }

    /// The profile of the entity holding a record.
    pub async fn profile_of_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<pb::Profile, NodeError> {
        let id = self.entity_of_record(source, record_id).await?;
        self.profile(id).await
    }

    /// The cluster-wide entity holding an identity value (the smallest id
    /// when several do).
    pub async fn entity_of_identity(&self, kind: &str, value: &str) -> Result<EntityId, NodeError> {
        let found = self.entities_of_identity(kind, value).await?;
        found.first().copied().ok_or_else(|| {
            EngineError::IdentityNotFound {
                kind: kind.into(),
                value: value.into(),
            }
            .into()
        })
    }

    /// Every cluster-wide entity holding an identity value, smallest first
    /// (empty: none).
    pub async fn entities_of_identity(
        &self,
        kind: &str,
        value: &str,
    ) -> Result<std::collections::BTreeSet<EntityId>, NodeError> {
        let req = Identity {
            kind: kind.into(),
            value: value.into(),
        };
        let mut found = std::collections::BTreeSet::new();
        for id in self.router().gather(req).await?.into_iter().flatten() {
            found.insert(self.assembler.global_id(id).await?);
        }
        Ok(found)
    }

    /// The profile of the entity holding an identity value.
    pub async fn profile_of_identity(
        &self,
        kind: &str,
        value: &str,
    ) -> Result<pb::Profile, NodeError> {
        let id = self.entity_of_identity(kind, value).await?;
        self.profile(id).await
    }

    /// Ranked candidate entities for a partial description.
    pub async fn search(
        &self,
        query: pb::Record,
        limit: usize,
        min_probability: f64,
    ) -> Result<Vec<pb::SearchCandidate>, NodeError> {
        let req = Search {
            query: Box::new(query),
            limit,
            min_probability,
        };
        let mut hits: Vec<(EntityId, pb::SearchCandidate)> = self
            .router()
            .gather(req)
            .await?
            .into_iter()
            .flatten()
            .collect();
        hits.sort_by(|a, b| b.1.weight.total_cmp(&a.1.weight).then(a.0.cmp(&b.0)));
        let mut out: Vec<pb::SearchCandidate> = Vec::new();
        let mut seen = HashSet::new();
        for (local, mut c) in hits {
            if out.len() >= limit {
                break;
            }
            let g = self.assembler.global_id(local).await?;
            if seen.insert(g) {
                c.entity_id = g;
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Every (internal key, cluster-wide entity), sorted by key.
    pub async fn assignments(&self) -> Result<Vec<(String, EntityId)>, NodeError> {
        let groups = self.assembler.cross_groups().await?;
        let mut rows: Vec<(String, EntityId)> = self
            .router()
            .gather(Assignments)
            .await?
            .into_iter()
            .flatten()
            .map(|r| (r.key, *groups.get(&r.entity).unwrap_or(&r.entity)))
            .collect();
        rows.sort();
        Ok(rows)
    }

    /// Cluster-wide entity ids, each with the local ids it is made of,
    /// ascending.
    pub async fn entities(&self) -> Result<BTreeMap<EntityId, Vec<EntityId>>, NodeError> {
        let groups: HashMap<EntityId, EntityId> = self.assembler.cross_groups().await?;
        let req = EntityIds {
            after: 0,
            limit: usize::MAX,
        };
        let mut out: BTreeMap<EntityId, Vec<EntityId>> = BTreeMap::new();
        for id in self.router().gather(req).await?.into_iter().flatten() {
            out.entry(*groups.get(&id).unwrap_or(&id))
                .or_default()
                .push(id);
        }
        Ok(out)
    }
}
