//! The partition's handlers for activity: events stored with their
//! records, handed over when a record's home changes, and read back as
//! a customer's activity.
//!
//! A partition keeps the events of the records it holds, and the events of
//! record keys it does not hold ("orphans": an event sent before its
//! record, or the events of a record that moved away). The probe round of
//! a write offers a record's orphaned events to its home
//! (`Probed::moved`), which adopts them; the keeper then drops them.

use super::actor::Actor;
use super::request::{
    ActivitiesOf, ActivityOf, ActivitySize, AdoptEvents, DropActivity, EventStored, EventsWanted,
    Locate, MovedActivity, OrphanedEvents, PutEvents, Reads, TypeSummaries, WireError,
};
use crate::activity::{newest, Activity, Body, Summary};
use crate::engine::{EngineError, EntityId};
use crate::error::NodeError;
use crate::observe::metrics;
use crate::privacy::consent;
use crate::segments::triggers::SETTLED_TYPE;
use crate::storage::EventStatus;

impl Actor {
    pub(super) fn on_put_events(
        &mut self,
        req: PutEvents,
    ) -> Result<Vec<Result<EventStored, WireError>>, NodeError> {
        let mut out = Vec::with_capacity(req.items.len());
        for item in req.items {
            let stored = self.put_event(&item.key, &item.event_id, &item.body, req.linked);
            if stored.as_ref().is_ok_and(|s| !s.duplicate) {
                for t in &item.timers {
                    self.engine.store_mut().put_timer(t);
                }
            }
            out.push(stored.map_err(|e| WireError::from(&e)));
        }
        let stored = out
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|s| !s.duplicate))
            .count();
        metrics().events_stored.inc_by(stored as u64);
        Ok(out)
    }

    fn put_event(
        &mut self,
        key: &str,
        event_id: &str,
        body: &[u8],
        want_linked: bool,
    ) -> Result<EventStored, NodeError> {
        let decoded = Body::decode(body).ok_or_else(|| NodeError::InvalidArgument {
            field: "event".into(),
            value: event_id.chars().take(64).collect(),
            reason: "not a valid encoded event".into(),
        })?;
        let mut status = self
            .engine
            .store()
            .event_status(key, event_id, body)
            .map_err(EngineError::from)?;
        if status == EventStatus::New && self.repeats_latest_consent(key, &decoded)? {
            status = EventStatus::Duplicate;
        }
        match status {
            EventStatus::Conflict => {
                return Err(NodeError::AlreadyExists {
                    field: "event_id".into(),
                    value: event_id.chars().take(64).collect(),
                    reason: "was stored before with other content for this record".into(),
                })
            }
            EventStatus::New => self.store_event(key, event_id, &decoded, body)?,
            EventStatus::Duplicate => {}
        }
        let entity = self.engine.entity_of(key).unwrap_or(0);
        Ok(EventStored {
            duplicate: status == EventStatus::Duplicate,
            entity,
            linked: want_linked && entity != 0 && self.entity_linked(entity),
        })
    }

    /// True for an undated consent decision that says what the record's
    /// latest decision for its purpose says (a re-sent file): it changes
    /// nothing and is not stored.
    fn repeats_latest_consent(&self, key: &str, body: &Body) -> Result<bool, NodeError> {
        if !consent::is_undated(body) {
            return Ok(false);
        }
        let Some((purpose, status)) = consent::purpose_and_status(body) else {
            return Ok(false);
        };
        let stored = self
            .engine
            .store()
            .consent_events(key, purpose)
            .map_err(EngineError::from)?;
        let latest = consent::record_decisions(&stored).into_iter().next();
        Ok(latest.is_some_and(|d| d.status == status))
    }

    /// Adds a new event (`encoded` is its body as sent); a record key not
    /// held here becomes an orphan.
    fn store_event(
        &mut self,
        key: &str,
        event_id: &str,
        body: &Body,
        encoded: &[u8],
    ) -> Result<(), NodeError> {
        self.engine
            .store_mut()
            .put_event(key, event_id, body, encoded)
            .map_err(EngineError::from)?;
        if self.engine.entity_of(key).is_none() && !self.orphans.contains(key) {
            self.engine.store_mut().set_orphan(key, true);
            self.orphans.insert(key.into());
        }
        Ok(())
    }

    pub(super) fn on_adopt_events(
        &mut self,
        req: AdoptEvents,
    ) -> Result<Vec<(String, EntityId)>, NodeError> {
        let mut out = Vec::with_capacity(req.items.len());
        for moved in req.items {
            for (event_id, body) in &moved.events {
                let status = self
                    .engine
                    .store()
                    .event_status(&moved.key, event_id, body)
                    .map_err(EngineError::from)?;
                match (status, Body::decode(body)) {
                    (EventStatus::New, Some(b)) => {
                        self.store_event(&moved.key, event_id, &b, body)?
                    }
                    // The copy already here wins.
                    (EventStatus::Conflict, _) => tracing::warn!(
                        partition = self.partition,
                        event_id = %event_id,
                        "a handed-over event conflicts with the one stored; kept the stored one"
                    ),
                    _ => {}
                }
            }
            let entity = self.engine.entity_of(&moved.key).unwrap_or(0);
            out.push((moved.key, entity));
        }
        Ok(out)
    }

    pub(super) fn on_drop_activity(&mut self, req: DropActivity) -> Result<(), NodeError> {
        for (key, ids) in req.items {
            if self.engine.entity_of(&key).is_some() {
                continue;
            }
            let left = self
                .engine
                .store_mut()
                .drop_events(&key, &ids)
                .map_err(EngineError::from)?;
            if left == 0 {
                if self.orphans.remove(key.as_str()) {
                    self.engine.store_mut().set_orphan(&key, false);
                }
                // Nothing of this record key is sealed here any more.
                self.engine.store_mut().shred(&key);
            }
        }
        Ok(())
    }

    /// Deletes the activity of a record key.
    pub(super) fn forget_activity(&mut self, key: &str) {
        self.engine.store_mut().delete_activity(key);
        self.orphans.remove(key);
    }

    /// The record now lives here: its events are no longer orphans.
    pub(super) fn adopt_orphan(&mut self, key: &str) {
        if self.orphans.remove(key) {
            self.engine.store_mut().set_orphan(key, false);
        }
    }

    /// The events this partition keeps for a record homed elsewhere, to
    /// hand over to the home (after an eviction, or sent before the record).
    pub(super) fn orphaned_events(&self, key: &str) -> Result<Option<MovedActivity>, NodeError> {
        if !self.orphans.contains(key) {
            return Ok(None);
        }
        let events = self
            .engine
            .store()
            .events_for_handover(key)
            .map_err(EngineError::from)?
            .into_iter()
            .map(|e| (e.event_id, e.body.encode()))
            .collect();
        Ok(Some(MovedActivity {
            key: key.into(),
            events,
            from: self.partition,
        }))
    }

    /// After evicting a record: if it has events, they become orphans.
    pub(super) fn orphan_if_active(&mut self, key: &str) -> Result<(), NodeError> {
        if self.orphans.contains(key) {
            return Ok(());
        }
        let store = self.engine.store();
        let has =
            store.events_in_flight(key) || store.has_events(key).map_err(EngineError::from)?;
        if has {
            self.engine.store_mut().set_orphan(key, true);
            self.orphans.insert(key.into());
        }
        Ok(())
    }

    pub(super) fn on_orphaned_events(
        &self,
        req: OrphanedEvents,
    ) -> Result<Vec<MovedActivity>, NodeError> {
        let mut out = Vec::new();
        for key in &req.keys {
            if self.engine.entity_of(key).is_none() {
                out.extend(self.orphaned_events(key)?);
            }
        }
        Ok(out)
    }

    pub(super) fn on_activity_size(&self, _: ActivitySize) -> Result<(u64, u64), NodeError> {
        Ok(self.engine.store().activity_size())
    }

    pub(super) fn on_locate(&self, req: Locate) -> Result<Vec<bool>, NodeError> {
        Ok(req
            .keys
            .iter()
            .map(|k| self.engine.entity_of(k).is_some())
            .collect())
    }

    pub(super) fn on_activity_of(&self, req: ActivityOf) -> Result<Activity, NodeError> {
        let mut keys: Vec<String> = req.keys;
        for id in req.ids {
            keys.extend(self.members_of(id));
        }
        keys.sort();
        keys.dedup();
        let reads = Reads {
            events: Some(req.events),
            tracked: req.tracked,
            consents: true,
        };
        self.read_activity(&keys, &reads)
    }

    /// One activity per id; an id that resolves to an entity already
    /// answered for in this request (two parts merged since the caller
    /// looked) gets an empty one, so nothing is counted twice.
    pub(super) fn on_activities_of(&self, req: ActivitiesOf) -> Result<Vec<Activity>, NodeError> {
        let mut answered = std::collections::HashSet::new();
        req.ids
            .iter()
            .map(|&id| match self.engine.resolve_entity(id) {
                Some(e) if answered.insert(e) => {
                    let keys = self.engine.members(e).unwrap_or_default();
                    self.read_activity(&keys, &req.reads)
                }
                _ => Ok(Activity::default()),
            })
            .collect()
    }

    /// The record keys of a local entity (following merges; none if it is
    /// gone).
    fn members_of(&self, id: EntityId) -> Vec<String> {
        self.engine
            .resolve_entity(id)
            .and_then(|id| self.engine.members(id))
            .unwrap_or_default()
    }

    /// The activity of records, opening only what `reads` asks: a record's
    /// events are decrypted when every event is wanted, when consent is,
    /// or when its summaries show an event of a tracked type.
    fn read_activity(&self, keys: &[String], reads: &Reads) -> Result<Activity, NodeError> {
        let store = self.engine.store();
        let mut out = Activity::default();
        for k in keys {
            let summaries = store.summaries_of(k).map_err(EngineError::from)?;
            let open = reads.events.is_some()
                || reads.consents
                || summaries.iter().any(|s| reads.tracked.contains(&s.etype));
            out.summaries.extend(summaries);
            if !open {
                continue;
            }
            for e in store.events_of(k).map_err(EngineError::from)? {
                if consent::is_consent(&e) {
                    out.consents.push(e);
                } else if e.body.etype == SETTLED_TYPE {
                    out.settled.push(e);
                } else {
                    if reads.tracked.contains(&e.body.etype) {
                        out.tracked.push(e.clone());
                    }
                    if reads.events.is_some() {
                        out.events.push(e);
                    }
                }
            }
        }
        if let Some(EventsWanted::Newest(n)) = reads.events {
            let keep: Vec<_> = newest(&out.events, n).into_iter().cloned().collect();
            out.events = keep;
        }
        Ok(out)
    }

    pub(super) fn on_type_summaries(
        &self,
        req: TypeSummaries,
    ) -> Result<Vec<(EntityId, Summary)>, NodeError> {
        let rows = self
            .engine
            .store()
            .summaries_of_type(&req.etype)
            .map_err(EngineError::from)?;
        let mut by_entity: std::collections::BTreeMap<EntityId, Summary> = Default::default();
        for (key, s) in rows {
            if let Some(e) = self.engine.entity_of(&key) {
                by_entity.entry(e).or_insert_with(Summary::empty).merge(&s);
            }
        }
        Ok(by_entity.into_iter().collect())
    }
}
