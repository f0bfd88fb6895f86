//! Triggers fired when they fall due: every node looks, on a schedule, at
//! the timers of the partitions it owns (`storage::triggers`).
//!
//! A timer only says where to look. For each one due, the node reads the
//! customer of its record and that customer's events of the trigger's
//! types (`segments::triggers` decides what is open), then:
//!
//! 1. a trigger cancelled, settled, or reset by a newer event (whose own
//!    timer looks again later) is left alone;
//! 2. one found too long after it fell due expires;
//! 3. otherwise the customer's membership partition (that of its
//!    cluster-wide id, the one place that decides for the customer) is
//!    asked to claim the firing: it fires, with its feed entry, unless the
//!    customer's cooldown runs, and a retry of the same firing is
//!    recognised;
//! 4. the outcome is stored as a settlement with the record, which closes
//!    the trigger for good; only then is the timer dropped.
//!
//! Each step can be repeated after a crash at any point: the claim
//! recognises its own retry and the settlement is stored once, so a
//! trigger fires exactly once, and the feed carries it once.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::activity::Activities;
use super::router::Router;
use crate::activity::Catalog;
use crate::engine::resolver::split_key;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::partition::partition_of_entity;
use crate::partition::request::{ClaimFiring, Claimed, DropTimers, DueTimers, EventsWanted};
use crate::segments::triggers::{settlement, settlement_id, Open, Outcome, TriggerDef, Verdict};
use crate::storage::membership::Firing;
use crate::storage::triggers::Timer;

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

    /// Looks at every timer due on the partitions this node owns.
    pub async fn fire_due(&self) -> Result<Looked, NodeError> {
        let _turn = self.turn.lock().await;
        let catalog = (self.catalog)();
        let now = self.activities.now_ms();
        let mut looked = Looked::default();
        for p in self.router().map().owned_by(self.router().node_id) {
            self.look_at_partition(p, &catalog, now, &mut looked)
                .await?;
        }
        Ok(looked)
    }

    async fn look_at_partition(
        &self,
        p: u32,
        catalog: &Catalog,
        now: i64,
        looked: &mut Looked,
    ) -> Result<(), NodeError> {
        let mut after_kept = 0;
        loop {
            let limit = PAGE + after_kept;
            let due = self
                .router()
                .call(p, DueTimers { now_ms: now, limit })
                .await?;
            let page = due.len();
            let mut done = Vec::new();
            for t in due.into_iter().skip(after_kept) {
                if self.look(&t, catalog, now, looked).await? {
                    done.push(t);
                } else {
                    after_kept += 1;
                }
            }
            let progress = !done.is_empty();
            if progress {
                self.router().call(p, DropTimers { timers: done }).await?;
            }
            if page < limit || !progress {
                return Ok(());
            }
        }
    }

    /// Looks at one due timer; true when it is done with.
    async fn look(
        &self,
        t: &Timer,
        catalog: &Catalog,
        now: i64,
        looked: &mut Looked,
    ) -> Result<bool, NodeError> {
        let Some(def) = catalog.trigger(&t.trigger) else {
            looked.passed += 1;
            return Ok(true);
        };
        let (source, record_id) = split_key(&t.key);
        let entity = match self
            .activities
            .reader
            .entity_of_record(source, record_id)
            .await
        {
            Ok(e) => e,
            // An anonymous cart: it may still fire if its record arrives
            // in time.
            Err(e) if e.code() == tonic::Code::NotFound => {
                let give_up = now - t.due_ms > def.late_ms;
                looked.kept += u64::from(!give_up);
                looked.passed += u64::from(give_up);
                return Ok(give_up);
            }
            Err(e) => return Err(e),
        };
        let (global, parts) = self.activities.reader.assembler.group(entity).await?;
        let parts: Vec<EntityId> = parts.iter().map(|v| v.entity).collect();
        let types: Vec<String> = def.types().map(String::from).collect();
        let activity = self
            .activities
            .activity_tracking(&parts, &[], EventsWanted::Newest(0), &types)
            .await?;
        let open = def
            .open(&activity.tracked, &activity.settled)
            .into_iter()
            .find(|o| o.match_value == t.match_value);
        let Some(open) = open else {
            looked.passed += 1;
            return Ok(true);
        };
        let outcome = match def.verdict(&open, now) {
            Verdict::NotDue => {
                looked.passed += 1;
                return Ok(true);
            }
            Verdict::Expire => Outcome::Expired,
            Verdict::Fire => {
                let last = def.last_fired(&activity.settled);
                self.claim(global, def, &open, last, now).await?
            }
        };
        let id = settlement_id(&def.name, &open.match_value);
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

    /// Asks the customer's membership partition to fire.
    async fn claim(
        &self,
        global: EntityId,
        def: &TriggerDef,
        open: &Open,
        last_fired_ms: i64,
        now: i64,
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
        };
        Ok(match self.router().call(p, req).await? {
            Claimed::Fired(_) => {
                self.activities.writer.changes.feed_written();
                Outcome::Fired
            }
            Claimed::Again => Outcome::Fired,
            Claimed::Suppressed => Outcome::Suppressed,
        })
    }
}
