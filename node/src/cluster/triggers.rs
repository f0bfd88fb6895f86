//! Triggers fired when they fall due: every node looks, on a schedule, at
//! the timers of the partitions it owns (`storage::triggers`).
//!
//! A timer only says where to look. For each one due, the node reads the
//! customer of its record and that customer's events of the trigger's
//! types (`segments::triggers` decides what is open), then:
//!
//! 1. a trigger cancelled or settled is left alone; one that falls due
//!    later than the timer said (reset by a newer event, or its definition
//!    now waits longer) gets a timer for then;
//! 2. a timer whose record or opening event is not visible yet (an
//!    anonymous cart) is kept until it is too late to fire;
//! 3. otherwise the customer's membership partition (that of its
//!    cluster-wide id, the one place that decides for the customer) is
//!    asked to claim the firing: it fires, with its feed entry, unless the
//!    customer's cooldown runs or it was found too long after it fell due
//!    (it expires), and a retry of the same firing is recognised first;
//! 4. the outcome is stored as a settlement with the record, which closes
//!    the trigger for good; only then is the timer dropped.
//!
//! Each step can be repeated after a crash at any point: the claim
//! recognises its own retry and the settlement is stored once, so a
//! trigger fires exactly once, and the feed carries it once.

use std::sync::{Arc, OnceLock};

use tokio::sync::{watch, Mutex};

use super::activity::Activities;
use super::router::Router;
use crate::activity::{Activity, Catalog};
use crate::engine::resolver::split_key;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::meta::MetaState;
use crate::partition::partition_of_entity;
use crate::partition::request::{
    ArmTimers, ClaimFiring, Claimed, DropTimers, DueTimers, EventsWanted,
};
use crate::segments::triggers::{
    settlement, settlement_id, Open, Outcome, Settlement, TriggerDef, Verdict,
};
use crate::storage::membership::Firing;
use crate::storage::triggers::Timer;

/// The triggers in force: those of the node's configuration, then those
/// defined through the API, read from the metadata group's state as it is
/// applied (a trigger defined through this node is in force for the next
/// event it takes).
#[derive(Clone)]
pub struct TriggerBook {
    configured: Arc<Vec<TriggerDef>>,
    meta: Arc<OnceLock<watch::Receiver<Arc<MetaState>>>>,
}

impl TriggerBook {
    pub fn new(configured: Vec<TriggerDef>) -> TriggerBook {
        TriggerBook {
            configured: Arc::new(configured),
            meta: Arc::default(),
        }
    }

    /// Reads the triggers defined through the API from the metadata group
    /// from now on (set once, when the node opens its cluster).
    pub fn follow(&self, meta: watch::Receiver<Arc<MetaState>>) {
        // A second call (none is made) would keep the first receiver.
        let _ = self.meta.set(meta);
    }

    /// True if the node's configuration defines `name`.
    pub fn is_configured(&self, name: &str) -> bool {
        self.configured.iter().any(|t| t.name == name)
    }

    /// Every trigger in force.
    pub fn all(&self) -> Vec<TriggerDef> {
        let mut out = self.configured.to_vec();
        if let Some(meta) = self.meta.get() {
            let state = meta.borrow();
            out.extend(
                state
                    .triggers
                    .values()
                    .filter(|t| !self.is_configured(&t.name))
                    .cloned(),
            );
        }
        out
    }
}

/// Timers read from a partition at once.
const PAGE: usize = 256;

/// What one look did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Looked {
    pub fired: u64,
    pub suppressed: u64,
    pub expired: u64,
    /// Timers dropped without a settlement (cancelled, reset, settled).
    pub passed: u64,
    /// Timers kept: their record is not known yet.
    pub kept: u64,
}

/// The trigger firer of a node.
#[derive(Clone)]
pub struct Firings {
    activities: Activities,
    catalog: Arc<dyn Fn() -> Catalog + Send + Sync>,
    /// One look at a time on this node.
    turn: Arc<Mutex<()>>,
}

impl Firings {
    pub fn new(activities: Activities, catalog: Arc<dyn Fn() -> Catalog + Send + Sync>) -> Self {
        Firings {
            activities,
            catalog,
            turn: Arc::new(Mutex::new(())),
        }
    }

    fn router(&self) -> &Router {
        &self.activities.reader.assembler.router
    }

    /// Looks at every timer due on the partitions this node owns. A timer
    /// that cannot be looked at now (a partition or a customer
    /// unreachable) is left for the next look and does not hold up the
    /// others; the first such error is returned after every timer was
    /// looked at.
    pub async fn fire_due(&self) -> Result<Looked, NodeError> {
        let _turn = self.turn.lock().await;
        let catalog = (self.catalog)();
        let now = self.activities.now_ms();
        let mut looked = Looked::default();
        let mut first_error = None;
        for p in self.router().map().owned_by(self.router().node_id) {
            if let Err(e) = self.look_at_partition(p, &catalog, now, &mut looked).await {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(looked),
        }
    }

    /// Pages through a partition's due timers, dropping those done with.
    async fn look_at_partition(
        &self,
        p: u32,
        catalog: &Catalog,
        now: i64,
        looked: &mut Looked,
    ) -> Result<(), NodeError> {
        let mut after: Option<Timer> = None;
        let mut first_error = None;
        loop {
            let req = DueTimers {
                now_ms: now,
                after: after.clone(),
                limit: PAGE,
            };
            let due = self.router().call(p, req).await?;
            let last_page = due.len() < PAGE;
            after = due.last().cloned();
            let mut done = Vec::new();
            for t in due {
                match self.look(p, &t, catalog, now, looked).await {
                    Ok(true) => done.push(t),
                    Ok(false) => looked.kept += 1,
                    Err(e) => {
                        tracing::warn!(partition = p, trigger = %t.trigger, error = %e, "a due trigger could not be looked at; it is looked at again next time");
                        first_error.get_or_insert(e);
                    }
                }
            }
            if !done.is_empty() {
                self.router().call(p, DropTimers { timers: done }).await?;
            }
            if last_page {
                return first_error.map_or(Ok(()), Err);
            }
        }
    }

    /// Looks at one due timer; true when it is done with, false to keep it
    /// (what it points at is not visible yet).
    async fn look(
        &self,
        p: u32,
        t: &Timer,
        catalog: &Catalog,
        now: i64,
        looked: &mut Looked,
    ) -> Result<bool, NodeError> {
        let Some(def) = catalog.trigger(&t.trigger) else {
            looked.passed += 1;
            return Ok(true);
        };
        let too_late = now - t.due_ms > def.late_ms;
        let Some((global, activity)) = self.customer_of(t, def).await? else {
            // An anonymous cart: it may still fire if its record arrives.
            looked.passed += u64::from(too_late);
            return Ok(too_late);
        };
        if !mentions(def, &activity, &t.match_value) {
            // The opening event is not visible from the customer yet (kept
            // for a record before the record's home adopts it).
            looked.passed += u64::from(too_late);
            return Ok(too_late);
        }
        let open = def
            .open(&activity.tracked, &activity.settled)
            .into_iter()
            .find(|o| o.match_value == t.match_value);
        let Some(open) = open else {
            // Cancelled or settled.
            looked.passed += 1;
            return Ok(true);
        };
        if def.verdict(&open, now) == Verdict::NotDue {
            // Reset by a newer event, or the definition now waits longer:
            // look again when the trigger falls due.
            let again = Timer {
                due_ms: open.due_at_ms,
                ..t.clone()
            };
            let req = ArmTimers {
                timers: vec![again],
            };
            self.router().call(p, req).await?;
            looked.passed += 1;
            return Ok(true);
        }
        // Lateness counts from when the timer said it falls due if that is
        // later (a definition that now waits less fires at its old time).
        let late = now - open.due_at_ms.max(t.due_ms) > def.late_ms;
        let last = def.last_fired(&activity.settled);
        let outcome = self.claim(global, def, &open, last, now, late).await?;
        let id = settlement_id(&def.name, &open.match_value, open.started_at_ms);
        self.activities
            .put_system_event(&open.key, &id, &settlement(&open, outcome, now))
            .await?;
        match outcome {
            Outcome::Fired => looked.fired += 1,
            Outcome::Suppressed => looked.suppressed += 1,
            Outcome::Expired => looked.expired += 1,
        }
        Ok(true)
    }

    /// The cluster-wide customer of a timer's record, with its events of
    /// the trigger's types and its settlements; None when the record is
    /// not known.
    async fn customer_of(
        &self,
        t: &Timer,
        def: &TriggerDef,
    ) -> Result<Option<(EntityId, Activity)>, NodeError> {
        let (source, record_id) = split_key(&t.key);
        let entity = match self
            .activities
            .reader
            .entity_of_record(source, record_id)
            .await
        {
            Ok(e) => e,
            Err(e) if e.code() == tonic::Code::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let (global, parts) = self.activities.reader.assembler.group(entity).await?;
        let parts: Vec<EntityId> = parts.iter().map(|v| v.entity).collect();
        let types: Vec<String> = def.types().map(String::from).collect();
        let activity = self
            .activities
            .activity_tracking(&parts, &[], EventsWanted::Newest(0), &types)
            .await?;
        Ok(Some((global, activity)))
    }

    /// Asks the customer's membership partition to fire.
    async fn claim(
        &self,
        global: EntityId,
        def: &TriggerDef,
        open: &Open,
        last_fired_ms: i64,
        now: i64,
        late: bool,
    ) -> Result<Outcome, NodeError> {
        let p = partition_of_entity(global, self.router().map().partitions.max(1));
        let req = ClaimFiring {
            at_ms: now,
            entity: global,
            trigger: def.name.clone(),
            cooldown_ms: def.cooldown_ms,
            last_fired_ms,
            firing: Firing {
                key: open.key.clone(),
                match_value: open.match_value.clone(),
                started_at_ms: open.started_at_ms,
                due_at_ms: open.due_at_ms,
            },
            late,
        };
        Ok(match self.router().call(p, req).await? {
            Claimed::Fired => {
                self.activities.writer.changes.feed_written();
                Outcome::Fired
            }
            Claimed::Again => Outcome::Fired,
            Claimed::Suppressed => Outcome::Suppressed,
            Claimed::Expired => Outcome::Expired,
        })
    }
}

/// Whether the customer's events show the trigger's value at all (an
/// opening event or a settlement of it).
fn mentions(def: &TriggerDef, a: &Activity, value: &str) -> bool {
    a.tracked
        .iter()
        .any(|e| def.opened_by(&e.body) == Some(value))
        || a.settled
            .iter()
            .filter_map(Settlement::of)
            .any(|s| s.trigger == def.name && s.match_value == value)
}
