//! The activity side of the coordinator: events sent to the partitions of
//! their records, a customer's events listed, profiles given traits, stage
//! and RFM, and the cluster-wide RFM cut points computed.
//!
//! An event goes to the partition that holds its record. An event whose
//! record is unknown but which carries identifying fields first writes
//! that record (resolved like any record); one without them is kept by the
//! record key's parking partition until the record arrives (the write's
//! probe round then hands it to the record's home).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use futures::future::join_all;

use kindred_proto::v1 as pb;

use super::read::Reader;
use super::router::Router;
use super::triggers::TriggerBook;
use super::write::Writer;
use crate::activity::{
    decorate, Activity, ActivityConfig, Catalog, Cuts, Event, Orders, ProfileReads,
};
use crate::clock::SharedClock;
use crate::engine::hash::hash64;
use crate::engine::resolver::split_key;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::partition::partition_of_entity;
use crate::partition::request::{
    ActivitiesOf, ActivityOf, EventItem, EventStored, EventsWanted, Locate, OrphanedEvents,
    PutEvents, Reads, TypeSummaries, WireError,
};
use crate::segments::triggers::TriggerDef;
use crate::storage::triggers::Timer;

/// The coordinator's activity part.
#[derive(Clone)]
pub struct Activities {
    pub reader: Reader,
    pub writer: Writer,
    clock: SharedClock,
    pub cfg: Arc<ActivityConfig>,
    /// The triggers in force (their timers are set as events arrive).
    pub triggers: TriggerBook,
}

/// What became of one sent event.
#[derive(Debug, Clone)]
pub struct EventOutcome {
    pub key: String,
    pub event_id: String,
    pub duplicate: bool,
    /// The customer of its record (0: not known yet).
    pub entity: EntityId,
    pub record_written: bool,
}

/// Which customer's events to list.
#[derive(Debug, Clone)]
pub enum Whose {
    Entity(EntityId),
    Record(String, String),
    Identity(String, String),
}

/// A page of a customer's events.
pub struct EventPage {
    pub entity: EntityId,
    pub events: Vec<pb::Event>,
    pub next: String,
}

pub(super) type Slot = Option<Result<EventOutcome, NodeError>>;

impl Activities {
    pub fn new(
        reader: Reader,
        writer: Writer,
        clock: SharedClock,
        cfg: ActivityConfig,
    ) -> Activities {
        Activities {
            reader,
            writer,
            clock,
            triggers: TriggerBook::new(cfg.configured_triggers()),
            cfg: Arc::new(cfg),
        }
    }

    fn router(&self) -> &Router {
        &self.reader.assembler.router
    }

    /// The coordinator's time.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Stores a batch of events: one result per event, in order. A bad
    /// event fails alone. With `canonical`, each result names its
    /// customer by the cluster-wide id; without (bulk streams: naming costs
    /// a walk of the links of every entity that may span partitions), by
    /// an id of one of its parts, which `Profiles.Get` resolves alike.
    pub async fn send(
        &self,
        events: Vec<pb::Event>,
        canonical: bool,
    ) -> Vec<Result<EventOutcome, NodeError>> {
        let now = self.clock.now_ms();
        let mut slots: Vec<Slot> = (0..events.len()).map(|_| None).collect();
        let mut valid: Vec<(usize, Event)> = Vec::with_capacity(events.len());
        for (i, e) in events.into_iter().enumerate() {
            match Event::from_pb(e, now, &self.cfg.events) {
                Ok(ev) => valid.push((i, ev)),
                Err(e) => slots[i] = Some(Err(e)),
            }
        }
        let written = self.write_identities(&mut valid, &mut slots).await;
        if let Err(e) = self.store(valid, &written, canonical, &mut slots).await {
            for s in slots.iter_mut().filter(|s| s.is_none()) {
                *s = Some(Err(e.copied()));
            }
        }
        let results: Vec<Result<EventOutcome, NodeError>> = slots
            .into_iter()
            .map(|s| s.unwrap_or_else(|| Err(NodeError::Unavailable("internal: no result".into()))))
            .collect();
        let touched = results.iter().flatten().filter(|o| !o.duplicate);
        self.writer
            .changes
            .notify(touched.map(|o| o.entity).collect());
        results
    }

    /// Sends each partition its events and fills in their results.
    async fn store(
        &self,
        valid: Vec<(usize, Event)>,
        written: &HashSet<String>,
        canonical: bool,
        slots: &mut [Slot],
    ) -> Result<(), NodeError> {
        let keys: Vec<String> = {
            let set: HashSet<&str> = valid.iter().map(|(_, e)| e.key.as_str()).collect();
            set.into_iter().map(String::from).collect()
        };
        let place = self.place(&keys).await?;
        let mut by_part: BTreeMap<u32, Vec<(usize, Event)>> = BTreeMap::new();
        for (i, e) in valid {
            by_part.entry(place[&e.key]).or_default().push((i, e));
        }
        let calls = by_part.into_iter().map(|(p, batch)| async move {
            let reply = self.call_put_events(p, &batch, canonical).await;
            ((p, batch), reply)
        });
        let mut followup = Followup::default();
        for ((p, batch), reply) in join_all(calls).await {
            absorb(p, batch, reply, written, slots, &mut followup);
        }
        if let Err(e) = self.settle_parked(&followup.parked, slots).await {
            // The events are stored; the next write of their record hands
            // them over.
            tracing::warn!(error = %e, "placing parked events again failed");
        }
        self.name_globals(&followup.linked, slots).await;
        Ok(())
    }

    /// Events stored against a record no partition held when they were
    /// placed may have missed the record's arrival (placed before it,
    /// stored after the probe round that hands such events over). Placed
    /// again, they go to the record's partition if it now has one.
    pub(super) async fn settle_parked(
        &self,
        parked: &[(usize, String, u32)],
        slots: &mut [Slot],
    ) -> Result<(), NodeError> {
        if parked.is_empty() || self.router().map().partitions < 2 {
            return Ok(());
        }
        let keys: Vec<String> = parked.iter().map(|(_, k, _)| k.clone()).collect();
        let place = self.place(&keys).await?;
        let mut by_keeper: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (_, k, p) in parked {
            if place[k] != *p {
                by_keeper.entry(*p).or_default().push(k.clone());
            }
        }
        let mut entities: HashMap<String, EntityId> = HashMap::new();
        for (p, keys) in by_keeper {
            let moved = self.router().call(p, OrphanedEvents { keys }).await?;
            let moves = moved.into_iter().map(|m| (place[&m.key], m));
            entities.extend(self.writer.move_events(moves).await?);
        }
        for (i, k, _) in parked {
            if let (Some(Some(Ok(o))), Some(&e)) = (slots.get_mut(*i), entities.get(k)) {
                o.entity = e;
            }
        }
        Ok(())
    }

    async fn call_put_events(
        &self,
        p: u32,
        batch: &[(usize, Event)],
        linked: bool,
    ) -> Result<Vec<Result<EventStored, WireError>>, NodeError> {
        let triggers = self.triggers.all();
        let items = batch
            .iter()
            .map(|(_, e)| EventItem {
                key: e.key.clone(),
                event_id: e.event_id.clone(),
                body: e.body.encode(),
                timers: timers_of(&triggers, e),
            })
            .collect();
        self.router().call(p, PutEvents { items, linked }).await
    }

    /// Stores a system event (a trigger settlement) with its record, in the
    /// partition that keeps the record's events. Stored once: a resend, or
    /// one with other content under the same id, leaves the first.
    pub(super) async fn put_system_event(
        &self,
        key: &str,
        event_id: &str,
        body: &crate::activity::Body,
    ) -> Result<(), NodeError> {
        let place = self.place(&[key.to_string()]).await?;
        let items = vec![EventItem {
            key: key.into(),
            event_id: event_id.into(),
            body: body.encode(),
            timers: vec![],
        }];
        let req = PutEvents {
            items,
            linked: false,
        };
        let mut out = self.router().call(place[key], req).await?;
        match out.pop() {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) if e.code == tonic::Code::AlreadyExists as i32 => Ok(()),
            Some(Err(e)) => Err(e.into()),
            None => Err(NodeError::Unavailable("internal: no result".into())),
        }
    }

    /// The partition each record key's events go to: the one holding the
    /// record, else the key's parking partition.
    async fn place(&self, keys: &[String]) -> Result<HashMap<String, u32>, NodeError> {
        let n = self.router().map().partitions.max(1);
        let mut out: HashMap<String, u32> = keys
            .iter()
            .map(|k| (k.clone(), (hash64(k) % u64::from(n)) as u32))
            .collect();
        if n == 1 || keys.is_empty() {
            return Ok(out);
        }
        let req = Locate {
            keys: keys.to_vec(),
        };
        for (p, held) in self.router().all(req).await {
            for (k, h) in keys.iter().zip(held?) {
                if h {
                    out.insert(k.clone(), p);
                }
            }
        }
        Ok(out)
    }

    /// Writes the records that events identify (created, or given the
    /// identifying fields they lacked). Returns the keys written; an event
    /// whose record could not be written fails with that error.
    async fn write_identities(
        &self,
        valid: &mut Vec<(usize, Event)>,
        slots: &mut [Slot],
    ) -> HashSet<String> {
        let mut wanted: BTreeMap<String, pb::Record> = BTreeMap::new();
        for (_, e) in valid.iter_mut() {
            if let Some(id) = e.identity.take() {
                match wanted.get_mut(&e.key) {
                    Some(r) => {
                        merge_identity(r, &id);
                    }
                    None => {
                        wanted.insert(e.key.clone(), *id);
                    }
                }
            }
        }
        if wanted.is_empty() {
            return HashSet::new();
        }
        let lookups = wanted.into_iter().map(|(key, identity)| async move {
            let (s, r) = split_key(&key);
            let found = self.reader.get_record(s, r).await;
            (key, identity, found)
        });
        let mut records = Vec::new();
        for (key, identity, found) in join_all(lookups).await {
            match found {
                Ok(mut v) => {
                    if merge_identity(&mut v.record, &identity) {
                        records.push(v.record);
                    }
                }
                Err(e) if e.code() == tonic::Code::NotFound => records.push(identity),
                Err(e) => fail_key(valid, slots, &key, &e),
            }
        }
        let keys: Vec<String> = records
            .iter()
            .map(|r| crate::engine::resolver::record_key(&r.source, &r.record_id))
            .collect();
        let mut done = HashSet::new();
        for (key, res) in keys.into_iter().zip(self.writer.upsert(records).await) {
            match res {
                Ok(_) => {
                    done.insert(key);
                }
                Err(e) => fail_key(valid, slots, &key, &e),
            }
        }
        done
    }

    /// Replaces local entity ids by cluster-wide ones where the entity may
    /// span partitions.
    async fn name_globals(&self, linked: &[usize], slots: &mut [Slot]) {
        let mut locals: Vec<EntityId> = linked
            .iter()
            .filter_map(|&i| match &slots[i] {
                Some(Ok(o)) => Some(o.entity),
                _ => None,
            })
            .collect();
        locals.sort_unstable();
        locals.dedup();
        if locals.is_empty() {
            return;
        }
        if let Ok(ids) = self.reader.assembler.globals(&locals).await {
            for &i in linked {
                if let Some(Ok(o)) = &mut slots[i] {
                    o.entity = ids.get(&o.entity).copied().unwrap_or(o.entity);
                }
            }
        }
    }

    /// The activity of a cluster-wide entity's parts (local entities), and
    /// of record keys wherever their events are kept.
    pub async fn activity_of(
        &self,
        parts: &[EntityId],
        keys: &[String],
        events: EventsWanted,
    ) -> Result<Activity, NodeError> {
        self.activity_tracking(parts, keys, events, &[]).await
    }

    /// [`Activities::activity_of`], with every event of the `tracked` types
    /// (for triggers) besides.
    pub async fn activity_tracking(
        &self,
        parts: &[EntityId],
        keys: &[String],
        events: EventsWanted,
        tracked: &[String],
    ) -> Result<Activity, NodeError> {
        let n = self.router().map().partitions.max(1);
        let mut by_p: BTreeMap<u32, Vec<EntityId>> = BTreeMap::new();
        for &id in parts {
            by_p.entry(partition_of_entity(id, n)).or_default().push(id);
        }
        let mut out = Activity::default();
        let asks = by_p.into_iter().map(|(p, ids)| {
            let req = ActivityOf {
                ids,
                keys: vec![],
                events,
                tracked: tracked.to_vec(),
            };
            self.router().call(p, req)
        });
        for r in join_all(asks).await {
            out.absorb(r?);
        }
        if !keys.is_empty() {
            let req = ActivityOf {
                ids: vec![],
                keys: keys.to_vec(),
                events,
                tracked: tracked.to_vec(),
            };
            for a in self.router().gather(req).await? {
                out.absorb(a);
            }
        }
        Ok(out)
    }

    /// The profile of a customer with its activity: traits, lifecycle,
    /// RFM and the newest events.
    pub async fn profile(&self, id: EntityId, catalog: &Catalog) -> Result<pb::Profile, NodeError> {
        let (mut profile, parts) = self.reader.profile_and_parts(id).await?;
        self.decorate(&mut profile, &parts, catalog).await?;
        Ok(profile)
    }

    /// Adds the activity of a profile's parts (local entities) to it.
    pub async fn decorate(
        &self,
        profile: &mut pb::Profile,
        parts: &[EntityId],
        catalog: &Catalog,
    ) -> Result<(), NodeError> {
        let wanted = if catalog.needs_events() {
            EventsWanted::All
        } else {
            EventsWanted::Newest(self.cfg.recent_events)
        };
        let activity = self
            .activity_tracking(parts, &[], wanted, &catalog.tracked_types())
            .await?;
        decorate(profile, &activity, catalog, &self.cfg, self.clock.now_ms());
        Ok(())
    }

    /// Every customer's profile with its activity and segments (or only
    /// those of the customers `only` names), read as `reads` says, in
    /// ascending cluster-wide id, through a channel of `depth` (dropping
    /// the receiver stops the reading). An error ends the stream.
    pub async fn profiles_in_order(
        &self,
        catalog: Catalog,
        reads: ProfileReads,
        only: Option<HashSet<EntityId>>,
        depth: usize,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<pb::Profile, NodeError>>, NodeError> {
        let entities = self.reader.entities().await?;
        let (tx, rx) = tokio::sync::mpsc::channel(depth.max(1));
        let me = self.clone();
        crate::observe::rpc::spawn(async move {
            let wanted = |g: &EntityId| only.as_ref().is_none_or(|o| o.contains(g));
            let all: Vec<(u64, Vec<u64>)> =
                entities.into_iter().filter(|(g, _)| wanted(g)).collect();
            for page in all.chunks(256) {
                let profiles = me.profiles_of(page, &catalog, &reads).await;
                let failed = profiles.is_err();
                let items: Vec<Result<pb::Profile, NodeError>> = match profiles {
                    Ok(v) => v.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                for p in items {
                    if tx.send(p).await.is_err() {
                        return;
                    }
                }
                if failed {
                    return;
                }
            }
        });
        Ok(rx)
    }

    /// The profiles of several distinct cluster-wide customers, each given
    /// as (its id, the local entities it is made of), decorated with
    /// traits, stage, RFM and segments: one read per partition for all of
    /// them, reading only what `reads` asks.
    pub async fn profiles_of(
        &self,
        customers: &[(EntityId, Vec<EntityId>)],
        catalog: &Catalog,
        reads: &ProfileReads,
    ) -> Result<Vec<pb::Profile>, NodeError> {
        let ids: Vec<EntityId> = customers
            .iter()
            .flat_map(|(_, parts)| parts.iter().copied())
            .collect();
        let mut locals: HashMap<EntityId, pb::Profile> = if reads.records {
            let found = self.reader.local_profiles(&ids).await?;
            found.into_iter().map(|p| (p.entity_id, p)).collect()
        } else {
            HashMap::new()
        };
        let mut activities = self.activities_of(&ids, &reads.activity).await?;
        let now = self.clock.now_ms();
        let profile = |(global, parts): &(EntityId, Vec<EntityId>)| {
            let mine = parts.iter().filter_map(|i| locals.remove(i)).collect();
            let mut p = super::groups::merge_profiles(*global, mine);
            let mut activity = Activity::default();
            for a in parts.iter().filter_map(|i| activities.remove(i)) {
                activity.absorb(a);
            }
            decorate(&mut p, &activity, catalog, &self.cfg, now);
            p
        };
        Ok(customers.iter().map(profile).collect())
    }

    /// Each local entity's activity, one read per partition.
    async fn activities_of(
        &self,
        ids: &[EntityId],
        reads: &Reads,
    ) -> Result<HashMap<EntityId, Activity>, NodeError> {
        let n = self.router().map().partitions.max(1);
        let mut by_p: BTreeMap<u32, Vec<EntityId>> = BTreeMap::new();
        for &id in ids {
            by_p.entry(partition_of_entity(id, n)).or_default().push(id);
        }
        let asks = by_p.into_iter().map(|(p, ids)| async move {
            let req = ActivitiesOf {
                ids: ids.clone(),
                reads: reads.clone(),
            };
            (ids, self.router().call(p, req).await)
        });
        let mut out = HashMap::with_capacity(ids.len());
        for (ids, r) in join_all(asks).await {
            out.extend(ids.into_iter().zip(r?));
        }
        Ok(out)
    }

    /// The cluster-wide entity a lookup names, with the local entities it
    /// is made of (one exploration of its links).
    async fn customer(&self, whose: &Whose) -> Result<(EntityId, Vec<EntityId>), NodeError> {
        let any = match whose {
            Whose::Entity(id) => *id,
            Whose::Record(s, r) => self.reader.entity_of_record(s, r).await?,
            Whose::Identity(k, v) => self.reader.entity_of_identity(k, v).await?,
        };
        let (global, parts) = self.reader.assembler.group(any).await?;
        Ok((global, parts.iter().map(|v| v.entity).collect()))
    }

    /// A page of a customer's events, newest first. A record not known
    /// yet lists the events kept for it (entity 0).
    pub async fn list(&self, whose: Whose, filter: &EventFilter) -> Result<EventPage, NodeError> {
        let (entity, mut activity) = match self.customer(&whose).await {
            Ok((id, parts)) => (id, self.activity_of(&parts, &[], EventsWanted::All).await?),
            Err(e) if e.code() == tonic::Code::NotFound => match &whose {
                Whose::Record(s, r) => {
                    let key = crate::engine::resolver::record_key(s, r);
                    (0, self.activity_of(&[], &[key], EventsWanted::All).await?)
                }
                _ => return Err(e),
            },
            Err(e) => return Err(e),
        };
        // Consent decisions are listed among the events.
        activity.events.append(&mut activity.consents);
        let (events, next) = filter.page(&activity)?;
        Ok(EventPage {
            entity,
            events,
            next,
        })
    }

    /// The RFM cut points over every customer with an order, as of now,
    /// under the given version.
    pub async fn compute_cuts(&self, version: u64) -> Result<Cuts, NodeError> {
        let req = TypeSummaries {
            etype: self.cfg.order_type.clone(),
        };
        let groups = self.reader.assembler.cross_groups().await?;
        let mut per_customer: HashMap<EntityId, crate::activity::Summary> = HashMap::new();
        for part in self.router().gather(req).await? {
            for (local, s) in part {
                let g = *groups.get(&local).unwrap_or(&local);
                per_customer
                    .entry(g)
                    .or_insert_with(crate::activity::Summary::empty)
                    .merge(&s);
            }
        }
        let orders: Vec<Orders> = per_customer.values().filter_map(Orders::of).collect();
        Ok(Cuts::compute(&orders, self.clock.now_ms(), version))
    }
}

/// What stored events still need once every partition has answered.
#[derive(Default)]
struct Followup {
    /// Events whose customer may span partitions (to name cluster-wide).
    linked: Vec<usize>,
    /// (event, record key, partition) of events stored for a record that
    /// partition does not hold (to place again).
    parked: Vec<(usize, String, u32)>,
}

/// Takes in partition `p`'s reply to its events.
fn absorb(
    p: u32,
    batch: Vec<(usize, Event)>,
    reply: Result<Vec<Result<EventStored, WireError>>, NodeError>,
    written: &HashSet<String>,
    slots: &mut [Slot],
    followup: &mut Followup,
) {
    let replies = match reply {
        Ok(r) => r,
        Err(e) => {
            for (i, _) in batch {
                slots[i] = Some(Err(e.copied()));
            }
            return;
        }
    };
    for ((i, e), r) in batch.into_iter().zip(replies) {
        slots[i] = Some(match r {
            Ok(stored) => {
                if stored.linked {
                    followup.linked.push(i);
                }
                if stored.entity == 0 {
                    followup.parked.push((i, e.key.clone(), p));
                }
                Ok(EventOutcome {
                    record_written: written.contains(&e.key),
                    key: e.key,
                    event_id: e.event_id,
                    duplicate: stored.duplicate,
                    entity: stored.entity,
                })
            }
            Err(w) => Err(w.into()),
        });
    }
}

/// Fails every event of a record key with an error.
fn fail_key(valid: &mut Vec<(usize, Event)>, slots: &mut [Slot], key: &str, e: &NodeError) {
    valid.retain(|(i, ev)| {
        if ev.key == key {
            slots[*i] = Some(Err(e.copied()));
            false
        } else {
            true
        }
    });
}

/// Adds the identifying fields a record lacks; true when it changed.
pub fn merge_identity(r: &mut pb::Record, id: &pb::Record) -> bool {
    let before = r.clone();
    let empty_name = |n: &Option<pb::PersonName>| {
        n.as_ref()
            .is_none_or(|n| n.full.is_empty() && n.given.is_empty() && n.family.is_empty())
    };
    if empty_name(&r.name) && !empty_name(&id.name) {
        r.name = id.name.clone();
    }
    if r.date_of_birth.is_empty() {
        r.date_of_birth = id.date_of_birth.clone();
    }
    if r.gender.is_empty() {
        r.gender = id.gender.clone();
    }
    let add = |to: &mut Vec<String>, from: &[String]| {
        for v in from {
            if !to.iter().any(|x| x.eq_ignore_ascii_case(v)) {
                to.push(v.clone());
            }
        }
    };
    add(&mut r.emails, &id.emails);
    add(&mut r.phones, &id.phones);
    for a in &id.addresses {
        if !r.addresses.contains(a) {
            r.addresses.push(a.clone());
        }
    }
    for i in &id.identifiers {
        if !r.identifiers.contains(i) {
            r.identifiers.push(i.clone());
        }
    }
    *r != before
}

/// Which events a listing returns, and from where in the order.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub types: Vec<String>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub page_size: usize,
    pub token: String,
}

impl EventFilter {
    /// One page, newest first (ties by record and id), and the token of
    /// the next (empty on the last page).
    fn page(&self, a: &Activity) -> Result<(Vec<pb::Event>, String), NodeError> {
        let after = decode_token(&self.token)?;
        let mut v: Vec<&crate::activity::StoredEvent> = a
            .events
            .iter()
            .filter(|e| self.types.is_empty() || self.types.contains(&e.body.etype))
            .filter(|e| self.from_ms == 0 || e.body.at_ms >= self.from_ms)
            .filter(|e| self.to_ms == 0 || e.body.at_ms < self.to_ms)
            .collect();
        let pos = |e: &crate::activity::StoredEvent| {
            (
                std::cmp::Reverse(e.body.at_ms),
                e.key.clone(),
                e.event_id.clone(),
            )
        };
        v.sort_by_key(|e| pos(e));
        if let Some(after) = &after {
            v.retain(|e| pos(e) > *after);
        }
        let more = v.len() > self.page_size;
        v.truncate(self.page_size);
        let next = match (more, v.last()) {
            (true, Some(last)) => encode_token(&pos(last)),
            _ => String::new(),
        };
        let events = v
            .into_iter()
            .map(|e| Event::to_pb(&e.key, &e.event_id, &e.body))
            .collect();
        Ok((events, next))
    }
}

type Position = (std::cmp::Reverse<i64>, String, String);

fn encode_token(p: &Position) -> String {
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    format!("{}.{}.{}", p.0 .0, hex(&p.1), hex(&p.2))
}

fn decode_token(t: &str) -> Result<Option<Position>, NodeError> {
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || NodeError::InvalidArgument {
        field: "page_token".into(),
        value: t.chars().take(64).collect(),
        reason: "is not a token this service returned".into(),
    };
    let unhex = |s: &str| -> Option<String> {
        let bytes: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect();
        String::from_utf8(bytes?).ok()
    };
    let mut parts = t.split('.');
    let (Some(at), Some(k), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let at: i64 = at.parse().map_err(|_| bad())?;
    Ok(Some((
        std::cmp::Reverse(at),
        unhex(k).ok_or_else(bad)?,
        unhex(id).ok_or_else(bad)?,
    )))
}

/// The timers an event sets: one per trigger it opens.
fn timers_of(triggers: &[TriggerDef], e: &Event) -> Vec<Timer> {
    triggers
        .iter()
        .filter_map(|t| {
            t.opened_by(&e.body).map(|v| Timer {
                due_ms: e.body.at_ms.saturating_add(t.after_ms),
                key: e.key.clone(),
                trigger: t.name.clone(),
                match_value: v.into(),
            })
        })
        .collect()
}
