//! The partition's queries: requests that read its state and change nothing.

use kindred_proto::v1 as pb;

use super::actor::{packed, Actor};
use super::request::{
    Assignments, Bridges, CheckLinks, Entities, EntityById, EntityIds, EntityOfRecord, EntityView,
    Evidence, Features, Found, GetModel, GetRecord, GetStats, Holders, How, Identity, KeyCounts,
    Links, PartitionStats, ProbeItem, Profiles, RecordFeatures, Records, Reresolving, Row, Sample,
    SamplePage, Search, StoredRecord, WhyEntity, WhyForeign, WhyRecords,
};
use crate::engine::explain::{EntityExplanation, EntityHistory, PairExplanation};
use crate::engine::resolver::{ref_key, split_key, KeyCount};
use crate::engine::{EngineError, EntityId};
use crate::error::NodeError;

impl Actor {
    pub(super) fn on_get_record(&self, req: GetRecord) -> Result<StoredRecord, NodeError> {
        let (s, r) = split_key(&req.key);
        let (record, entity, std) = self.engine.get_record(s, r)?;
        Ok(StoredRecord {
            record: Box::new(record),
            entity,
            issues: std.issues,
        })
    }

    pub(super) fn on_features(&self, req: Features) -> Result<RecordFeatures, NodeError> {
        let p = self
            .engine
            .packed_of(&req.key)
            .ok_or_else(|| EngineError::RecordNotFound(ref_key(&req.key)))?;
        Ok(RecordFeatures {
            feats: p.as_bytes().to_vec(),
            hash: self.engine.hash_packed(p),
        })
    }

    pub(super) fn on_entity_of_record(&self, req: EntityOfRecord) -> Result<EntityView, NodeError> {
        let id = self
            .engine
            .entity_of(&req.key)
            .ok_or_else(|| EngineError::RecordNotFound(ref_key(&req.key)))?;
        self.view(id)
    }

    pub(super) fn on_entity_by_id(&self, req: EntityById) -> Result<EntityView, NodeError> {
        let id = self
            .engine
            .resolve_entity(req.id)
            .ok_or(EngineError::EntityNotFound(req.id))?;
        self.view(id)
    }

    pub(super) fn on_entities(&self, req: Entities) -> Result<Vec<EntityView>, NodeError> {
        req.ids
            .into_iter()
            .filter_map(|id| self.engine.resolve_entity(id))
            .map(|id| self.view(id))
            .collect()
    }

    pub(super) fn on_check_links(
        &self,
        req: CheckLinks,
    ) -> Result<Vec<Option<EntityId>>, NodeError> {
        let e = &self.engine;
        Ok(req
            .items
            .iter()
            .map(|c| {
                let holds =
                    e.content_hash(&c.key) == Some(c.hash) && c.keys.iter().any(|&k| e.key_live(k));
                holds.then(|| e.entity_of(&c.key)).flatten()
            })
            .collect())
    }

    pub(super) fn on_identity(&self, req: Identity) -> Result<Vec<EntityId>, NodeError> {
        match self.engine.lookup_identity(&req.kind, &req.value) {
            Ok(ids) => Ok(ids),
            Err(EngineError::IdentityNotFound { .. }) => Ok(vec![]),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) fn on_profiles(&self, req: Profiles) -> Result<Vec<pb::Profile>, NodeError> {
        req.ids
            .into_iter()
            .map(|id| Ok(self.engine.profile(id, &self.survivorship)?))
            .collect()
    }

    pub(super) fn on_entity_ids(&self, req: EntityIds) -> Result<Vec<EntityId>, NodeError> {
        Ok(self
            .engine
            .entity_ids()
            .into_iter()
            .filter(|&x| x > req.after)
            .take(req.limit)
            .collect())
    }

    pub(super) fn on_search(
        &self,
        req: Search,
    ) -> Result<Vec<(EntityId, pb::SearchCandidate)>, NodeError> {
        let e = &self.engine;
        Ok(e.search(&req.query, req.limit, req.min_probability)
            .into_iter()
            .map(|(entity, weight, key)| {
                let c = e.search_candidate(entity, weight, &key, &self.survivorship);
                (entity, c)
            })
            .collect())
    }

    pub(super) fn on_assignments(&self, _: Assignments) -> Result<Vec<Row>, NodeError> {
        let mut rows: Vec<Row> = self
            .engine
            .assignments()
            .map(|(k, entity)| Row {
                key: k.to_string(),
                entity,
            })
            .collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(rows)
    }

    pub(super) fn on_links(&self, _: Links) -> Result<Vec<(EntityId, Found)>, NodeError> {
        let e = &self.engine;
        Ok(e.store()
            .all_links()
            .map_err(EngineError::from)?
            .into_iter()
            .filter(|(k, l)| e.content_hash(k) == Some(l.my_hash))
            .filter_map(|(key, link)| e.entity_of(&key).map(|id| (id, Found { key, link })))
            .collect())
    }

    pub(super) fn on_key_counts(&self, req: KeyCounts) -> Result<Vec<KeyCount>, NodeError> {
        Ok(self.engine.key_counts(&req.keys))
    }

    pub(super) fn on_holders(&self, req: Holders) -> Result<Vec<ProbeItem>, NodeError> {
        let e = &self.engine;
        let mut keys: Vec<String> = req.keys.iter().flat_map(|&k| e.holders(k)).collect();
        keys.sort_unstable();
        keys.dedup();
        Ok(keys
            .into_iter()
            .filter_map(|k| {
                e.packed_of(&k).map(|p| ProbeItem {
                    hash: e.hash_packed(p),
                    feats: p.as_bytes().to_vec(),
                    key: k,
                    home: self.partition,
                })
            })
            .collect())
    }

    pub(super) fn on_bridges(&self, _: Bridges) -> Result<Vec<(EntityId, EntityId)>, NodeError> {
        Ok(self.engine.bridges())
    }

    pub(super) fn on_why_records(&self, req: WhyRecords) -> Result<PairExplanation, NodeError> {
        Ok(self.engine.why(split_key(&req.a), split_key(&req.b))?)
    }

    pub(super) fn on_why_foreign(&self, req: WhyForeign) -> Result<PairExplanation, NodeError> {
        let f = packed(&req.feats, &req.foreign)?;
        Ok(self
            .engine
            .why_foreign(split_key(&req.local), split_key(&req.foreign), &f)?)
    }

    pub(super) fn on_why_entity(&self, req: WhyEntity) -> Result<EntityExplanation, NodeError> {
        Ok(self.engine.why_entity(split_key(&req.key), req.entity)?)
    }

    pub(super) fn on_how(&self, req: How) -> Result<EntityHistory, NodeError> {
        Ok(self.engine.how(req.entity)?)
    }

    pub(super) fn on_get_stats(&self, _: GetStats) -> Result<PartitionStats, NodeError> {
        Ok(PartitionStats {
            stats: self.engine.stats(),
            model_version: self.engine.model().version,
        })
    }

    pub(super) fn on_sample(&self, req: Sample) -> Result<SamplePage, NodeError> {
        let (items, next) = self.engine.packed_page(req.from, req.limit);
        Ok(SamplePage {
            items: items.iter().map(|p| p.as_bytes().to_vec()).collect(),
            next,
        })
    }

    pub(super) fn on_records(&self, req: Records) -> Result<Vec<ProbeItem>, NodeError> {
        let e = &self.engine;
        let mut keys: Vec<&str> = e
            .assignments()
            .map(|(k, _)| k)
            .filter(|k| *k > req.after.as_str())
            .collect();
        keys.sort_unstable();
        Ok(keys
            .into_iter()
            .take(req.limit)
            .filter_map(|k| {
                e.packed_of(k).map(|p| ProbeItem {
                    key: k.to_string(),
                    feats: p.as_bytes().to_vec(),
                    hash: e.hash_packed(p),
                    home: self.partition,
                })
            })
            .collect())
    }

    pub(super) fn on_get_model(&self, _: GetModel) -> Result<String, NodeError> {
        Ok(self.engine.model().to_json())
    }

    pub(super) fn on_reresolving(&self, _: Reresolving) -> Result<u64, NodeError> {
        Ok(self.engine.reresolve_remaining() as u64)
    }

    /// A local entity with its members' valid links and strong evidence.
    fn view(&self, id: EntityId) -> Result<EntityView, NodeError> {
        let members = self.engine.members(id).unwrap_or_default();
        let mut links = Vec::new();
        let mut evidence = Vec::new();
        for m in &members {
            if self.linked_keys.contains(m.as_str()) {
                links.extend(self.valid_links(m)?);
            }
            let (dob, strong) = self.engine.evidence(m);
            if dob.is_some() || !strong.is_empty() {
                evidence.push(Evidence {
                    key: m.clone(),
                    dob,
                    strong,
                });
            }
        }
        let edges = self.engine.clustering_edges(&members);
        let mut bridged: Vec<EntityId> = edges
            .iter()
            .filter_map(|(_, other, _)| self.engine.entity_of(other))
            .filter(|&e| e != id)
            .collect();
        bridged.sort_unstable();
        bridged.dedup();
        Ok(EntityView {
            entity: id,
            members,
            links,
            evidence,
            edges,
            bridged,
        })
    }

    /// Valid links of a record: its own side still has the hash they name,
    /// restricted to the shared keys still live here.
    fn valid_links(&self, key: &str) -> Result<Vec<Found>, NodeError> {
        let Some(hash) = self.engine.content_hash(key) else {
            return Ok(vec![]);
        };
        Ok(self
            .engine
            .store()
            .links_of(key)
            .map_err(EngineError::from)?
            .into_iter()
            .filter(|l| l.my_hash == hash)
            .filter_map(|mut link| {
                link.keys.retain(|&k| self.engine.key_live(k));
                (!link.keys.is_empty()).then(|| Found {
                    key: key.to_string(),
                    link,
                })
            })
            .collect())
    }
}
