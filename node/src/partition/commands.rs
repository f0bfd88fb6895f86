//! The partition's commands: the requests that change its state.
//!
//! Each handler is a pure function of the partition's state and its
//! command: the time stamped on history events comes with the command
//! (`at_ms`), never from a clock read here, so the same commands applied
//! in the same order give the same state on any node.

use crate::observe::metrics;
use kindred_proto::v1 as pb;

use super::actor::{packed, Actor};
use super::request::{
    Applied, Apply, Delete, Deleted, DemoteKeys, Expired, Forget, Found, Probe, ProbeItem, Probed,
    PutLinks, SetModel, UndemoteKeys, WireError,
};
use crate::engine::features::Packed;
use crate::engine::resolver::{record_key, split_key};
use crate::engine::{EngineError, EntityId, Model};
use crate::error::NodeError;
use crate::storage::Link;

impl Actor {
    pub(super) fn on_apply(
        &mut self,
        req: Apply,
    ) -> Result<Vec<Result<Applied, WireError>>, NodeError> {
        self.engine.set_time(req.at_ms);
        let out: Vec<_> = req
            .items
            .into_iter()
            .map(|item| {
                self.apply_one(item.record, &item.feats, req.at_ms)
                    .map_err(|e| WireError::from(&e))
            })
            .collect();
        let applied = out.iter().filter(|r| r.is_ok()).count();
        metrics().records_applied.inc_by(applied as u64);
        Ok(out)
    }

    fn apply_one(
        &mut self,
        record: pb::Record,
        feats: &[u8],
        at_ms: i64,
    ) -> Result<Applied, NodeError> {
        let key = record_key(&record.source, &record.record_id);
        let seen = if record.observed_at_ms > 0 {
            record.observed_at_ms
        } else {
            at_ms
        };
        let feats = packed(feats, &key)?;
        let before = self.hot_keys_of(&key);
        let outcome = self.engine.upsert_packed(record, feats)?;
        // The record's own key counts reach the coordinator with the probe,
        // which every partition runs (its home included).
        let released = if before.is_empty() {
            Vec::new()
        } else {
            let keys = self.engine.record_keys_of(&key).unwrap_or_default();
            before.into_iter().filter(|k| !keys.contains(k)).collect()
        };
        if outcome.replaced {
            // Every link of the old version named its old content hash.
            self.forget_links(&key);
        }
        self.engine.store_mut().set_seen(&key, seen);
        let hash = self.engine.content_hash(&key).unwrap_or_default();
        let linked = self.entity_linked(outcome.entity);
        self.adopt_orphan(&key);
        Ok(Applied {
            outcome,
            hash,
            linked,
            released,
        })
    }

    /// True when a local entity has cross-partition links or local
    /// bridges: its cluster-wide id may differ from its local one.
    pub(super) fn entity_linked(&self, entity: EntityId) -> bool {
        self.engine.is_bridged(entity)
            || self
                .engine
                .members(entity)
                .unwrap_or_default()
                .iter()
                .any(|m| self.linked_keys.contains(m.as_str()))
    }

    /// The cluster-wide demoted keys a stored record holds.
    fn hot_keys_of(&self, key: &str) -> Vec<u64> {
        let keys = self.engine.record_keys_of(key).unwrap_or_default();
        self.engine
            .key_counts(&keys)
            .into_iter()
            .filter(|c| c.hot)
            .map(|c| c.key)
            .collect()
    }

    pub(super) fn on_probe(&mut self, req: Probe) -> Result<Probed, NodeError> {
        self.engine.set_time(req.at_ms);
        let mut out = Probed {
            probed: vec![self.partition],
            ..Probed::default()
        };
        let here = self.partition;
        let mut keys = Vec::new();
        // Records homed here are counted too (a relink probes one
        // partition's records at a time), but not linked to themselves.
        for item in req.items.iter().filter(|i| i.home == here) {
            if let Some(k) = self.engine.record_keys_of(&item.key) {
                keys.extend(k);
            }
        }
        for item in req.items.iter().filter(|i| i.home != here) {
            if self.engine.content_hash(&item.key).is_some() {
                // Its content changed so that another partition is now its home.
                out.released.extend(self.hot_keys_of(&item.key));
                self.evict(&item.key)?;
                out.evicted.push(item.key.clone());
            }
            // Its events kept here go to its home.
            out.moved.extend(self.orphaned_events(&item.key)?);
            let feats = packed(&item.feats, &item.key)?;
            let item_keys = self.engine.keys_of_view(&feats.view());
            out.found.extend(self.links_to(item, &feats, &item_keys)?);
            keys.extend(item_keys);
        }
        keys.sort_unstable();
        keys.dedup();
        out.counts = self
            .engine
            .key_counts(&keys)
            .into_iter()
            .filter(|c| c.count > 0 || c.hot)
            .map(|c| (here, c))
            .collect();
        Ok(out)
    }

    pub(super) fn on_demote_keys(&mut self, req: DemoteKeys) -> Result<(), NodeError> {
        self.engine.set_time(req.at_ms);
        Ok(self.engine.demote_keys(&req.keys)?)
    }

    pub(super) fn on_undemote_keys(&mut self, req: UndemoteKeys) -> Result<(), NodeError> {
        self.engine.set_time(req.at_ms);
        Ok(self.engine.undemote_keys(&req.keys)?)
    }

    /// Links from a record homed elsewhere to this partition's records:
    /// the reverse side is stored here, the forward side returned.
    fn links_to(
        &mut self,
        item: &ProbeItem,
        feats: &Packed,
        item_keys: &[u64],
    ) -> Result<Vec<Found>, NodeError> {
        let mut found = Vec::new();
        let view = feats.view();
        for (partner, hash, weight, keys) in self.engine.probe_keys(&item.key, &view, item_keys) {
            let weight = weight as f32;
            let reverse = Link {
                partner: item.key.clone(),
                partner_partition: item.home,
                my_hash: hash,
                partner_hash: item.hash,
                weight,
                keys: keys.clone(),
            };
            self.engine
                .store_mut()
                .put_links(&partner, &[reverse], false);
            self.linked_keys.insert(partner.clone().into_boxed_str());
            found.push(Found {
                key: item.key.clone(),
                link: Link {
                    partner,
                    partner_partition: self.partition,
                    my_hash: item.hash,
                    partner_hash: hash,
                    weight,
                    keys,
                },
            });
        }
        Ok(found)
    }

    pub(super) fn on_put_links(&mut self, req: PutLinks) -> Result<(), NodeError> {
        for f in req.items {
            if self.engine.content_hash(&f.key) == Some(f.link.my_hash) {
                self.engine
                    .store_mut()
                    .put_links(&f.key, std::slice::from_ref(&f.link), false);
                self.linked_keys.insert(f.key.into_boxed_str());
            }
        }
        Ok(())
    }

    pub(super) fn on_delete(&mut self, req: Delete) -> Result<Deleted, NodeError> {
        self.engine.set_time(req.at_ms);
        let (s, r) = split_key(&req.key);
        let released = self.hot_keys_of(&req.key);
        // Events go with their record; events kept for a record key this
        // partition does not hold go too (and then the delete succeeds
        // here although the record is elsewhere or nowhere).
        let had_orphans = self.orphans.contains(req.key.as_str());
        let affected = match self.engine.delete(s, r) {
            Err(EngineError::RecordNotFound(_)) if had_orphans => vec![],
            other => other?,
        };
        self.forget_activity(&req.key);
        self.forget_links(&req.key);
        self.engine.store_mut().forget_seen(&req.key);
        self.engine.store_mut().shred(&req.key);
        metrics().records_deleted.inc();
        Ok(Deleted { affected, released })
    }

    /// Deletes the history of erased entities, writes everything pending,
    /// and has the store purge in the background (`RocksStore::purge_later`):
    /// soon no copy of a shredded data key is left in the WAL or a table.
    pub(super) fn on_forget(&mut self, req: Forget) -> Result<(), NodeError> {
        // The entities merged into them over time kept their own history.
        let mut ids = req.entities.clone();
        for &e in &req.entities {
            ids.extend(self.engine.merged_into(e));
        }
        let store = self.engine.store_mut();
        for e in ids {
            store.delete_history(e);
        }
        crate::engine::Store::flush(store).map_err(EngineError::from)?;
        store.purge_later(req.keys).map_err(EngineError::from)?;
        Ok(())
    }

    /// The records held here whose last observation is older than their
    /// source's retention limit.
    pub(super) fn on_expired(&self, req: Expired) -> Result<Vec<String>, NodeError> {
        let keys = self
            .engine
            .store()
            .expired(|key, seen| {
                req.retention
                    .cutoff(split_key(key).0, req.now_ms)
                    .is_some_and(|cutoff| seen < cutoff)
            })
            .map_err(EngineError::from)?;
        Ok(keys
            .into_iter()
            .filter(|k| self.engine.entity_of(k).is_some())
            .collect())
    }

    /// Switches to a model at once and starts re-resolving under it; the
    /// actor advances the re-resolution between other requests
    /// (`Actor::reresolve_step`), so nothing waits for all of it.
    pub(super) fn on_set_model(&mut self, req: SetModel) -> Result<u64, NodeError> {
        let mut model = Model::from_json(&req.json).map_err(|e| NodeError::InvalidArgument {
            field: "model".into(),
            value: String::new(),
            reason: e.to_string(),
        })?;
        // Stored keyed (the coordinator keys it too; this is the last line).
        model.key_term_frequencies(&self.engine.key_secret());
        if self.engine.model() != &model {
            model.validate().map_err(EngineError::from)?;
            self.engine.set_time(req.at_ms);
            let store = self.engine.store();
            store.save_reresolving(true).map_err(EngineError::from)?;
            store.save_model(&model).map_err(EngineError::from)?;
            self.engine.begin_model(model)?;
        }
        Ok(self.engine.reresolve_remaining() as u64)
    }

    /// Removes a record that is no longer homed here, with its links; its
    /// events stay (as orphans) until its home adopts them.
    fn evict(&mut self, key: &str) -> Result<(), NodeError> {
        let (s, r) = split_key(key);
        self.engine.delete(s, r)?;
        self.forget_links(key);
        self.engine.store_mut().forget_seen(key);
        self.orphan_if_active(key)?;
        if !self.orphans.contains(key) {
            // No events wait here for it: nothing sealed under its key is left.
            self.engine.store_mut().shred(key);
        }
        Ok(())
    }

    fn forget_links(&mut self, key: &str) {
        self.engine.store_mut().delete_links(key);
        self.linked_keys.remove(key);
    }
}
