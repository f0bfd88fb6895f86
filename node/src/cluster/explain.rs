//! Explanations across partitions: why two records match or not, why a
//! record belongs to a cluster-wide entity, how that entity was built.
//! Records in different partitions are compared by shipping one record's
//! packed features to the other's partition.

use super::assemble::Assembler;
use super::router::Router;
use crate::engine::explain::{EntityExplanation, EntityHistory, PairExplanation};
use crate::engine::resolver::display_key;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::partition::partition_of_entity;
use crate::partition::request::{
    EntityOfRecord, EntityView, Features, Found, How, WhyEntity, WhyForeign, WhyRecords,
};

/// The coordinator's explanations.
#[derive(Clone)]
pub struct Explainer {
    pub assembler: Assembler,
}

/// The histories of a cluster-wide entity's parts and the links that join
/// them.
pub struct GroupHistory {
    pub entity: EntityId,
    pub parts: Vec<EntityHistory>,
    pub links: Vec<Found>,
}

impl Explainer {
    fn router(&self) -> &Router {
        &self.assembler.router
    }

    /// (partition, packed features) of a record, wherever it lives.
    async fn features(&self, key: &str) -> Result<(u32, Vec<u8>), NodeError> {
        let (p, f) = self
            .router()
            .locate(key, Features { key: key.into() })
            .await?;
        Ok((p, f.feats))
    }

    /// The cluster-wide entity of a record held by partition `p`.
    async fn entity_of_key(&self, p: u32, key: &str) -> Result<EntityId, NodeError> {
        let v = self
            .router()
            .call(p, EntityOfRecord { key: key.into() })
            .await?;
        self.assembler.global_id(v.entity).await
    }

    /// Why two records match or not, wherever they live.
    pub async fn why_records(&self, a: &str, b: &str) -> Result<PairExplanation, NodeError> {
        let (pa, _) = self.features(a).await?;
        let (pb, fb) = self.features(b).await?;
        let mut p = if pa == pb {
            let req = WhyRecords {
                a: a.into(),
                b: b.into(),
            };
            self.router().call(pa, req).await?
        } else {
            self.why_foreign(pa, a, b, fb).await?
        };
        p.same_entity = self.entity_of_key(pa, a).await? == self.entity_of_key(pb, b).await?;
        Ok(p)
    }

    async fn why_foreign(
        &self,
        p: u32,
        local: &str,
        foreign: &str,
        feats: Vec<u8>,
    ) -> Result<PairExplanation, NodeError> {
        let req = WhyForeign {
            local: local.into(),
            foreign: foreign.into(),
            feats,
        };
        self.router().call(p, req).await
    }

    /// Explains a record against every record of a cluster-wide entity.
    pub async fn why_entity(
        &self,
        key: &str,
        entity: EntityId,
    ) -> Result<EntityExplanation, NodeError> {
        let (pr, _) = self.features(key).await?;
        let (global, parts) = self.assembler.group(entity).await?;
        let mut pairs = Vec::new();
        for v in &parts {
            pairs.extend(self.pairs_with_part(pr, key, v).await?);
        }
        pairs.sort_by(|x, y| y.total_weight.total_cmp(&x.total_weight));
        Ok(EntityExplanation {
            record: display_key(key),
            entity: global,
            member: parts.iter().any(|v| v.members.iter().any(|m| m == key)),
            pairs,
        })
    }

    /// A record (held by partition `pr`) against each member of one part.
    async fn pairs_with_part(
        &self,
        pr: u32,
        key: &str,
        part: &EntityView,
    ) -> Result<Vec<PairExplanation>, NodeError> {
        let n = self.router().map().partitions;
        if partition_of_entity(part.entity, n) == pr {
            let req = WhyEntity {
                key: key.into(),
                entity: part.entity,
            };
            return Ok(self.router().call(pr, req).await?.pairs);
        }
        let mut pairs = Vec::new();
        for m in &part.members {
            let (_, feats) = self.features(m).await?;
            pairs.push(self.why_foreign(pr, key, m, feats).await?);
        }
        Ok(pairs)
    }

    /// How a cluster-wide entity was built: the histories of its parts.
    pub async fn how(&self, entity: EntityId) -> Result<GroupHistory, NodeError> {
        let (global, parts) = self.assembler.group(entity).await?;
        let n = self.router().map().partitions;
        let mut histories = Vec::new();
        for v in &parts {
            let p = partition_of_entity(v.entity, n);
            histories.push(self.router().call(p, How { entity: v.entity }).await?);
        }
        Ok(GroupHistory {
            entity: global,
            parts: histories,
            links: parts.into_iter().flat_map(|v| v.links).collect(),
        })
    }
}
