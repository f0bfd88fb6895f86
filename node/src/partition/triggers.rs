//! The partition's handlers for triggers: the timers of the records whose
//! events opened them, and the claims of the customers homed here.
//!
//! A claim is a command: it carries its time, the cooldown and the last
//! firing known from the customer's records, so deciding it is a function
//! of the partition's state and the command. A firing and its feed entry
//! are written in one batch.

use super::actor::Actor;
use super::request::{ArmTimers, ClaimFiring, Claimed, DropTimers, DueTimers};
use crate::engine::hash::hash64;
use crate::engine::EngineError;
use crate::error::NodeError;
use crate::storage::membership::{Change, FeedEntry, Firing};
use crate::storage::triggers::{Claim, Timer};

/// Most timers one look returns.
const DUE_PAGE: usize = 1000;

/// The hash that recognises a retried firing (the same opening of the same
/// value; a later opening is another firing).
fn firing_hash(trigger: &str, f: &Firing) -> u64 {
    hash64(&format!(
        "{trigger}\u{1f}{}\u{1f}{}\u{1f}{}",
        f.key, f.match_value, f.started_at_ms
    ))
}

impl Actor {
    pub(super) fn on_due_timers(&self, req: DueTimers) -> Result<Vec<Timer>, NodeError> {
        Ok(self
            .engine
            .store()
            .due_timers(req.now_ms, req.after.as_ref(), req.limit.clamp(1, DUE_PAGE))
            .map_err(EngineError::from)?)
    }

    pub(super) fn on_drop_timers(&mut self, req: DropTimers) -> Result<(), NodeError> {
        self.engine.store_mut().drop_timers(&req.timers);
        Ok(())
    }

    pub(super) fn on_arm_timers(&mut self, req: ArmTimers) -> Result<(), NodeError> {
        for t in &req.timers {
            self.engine.store_mut().put_timer(t);
        }
        Ok(())
    }

    pub(super) fn on_claim_firing(&mut self, req: ClaimFiring) -> Result<Claimed, NodeError> {
        let firing = firing_hash(&req.trigger, &req.firing);
        let store = self.engine.store_mut();
        let last = store
            .claim(&req.trigger, req.entity)
            .map_err(EngineError::from)?;
        if last.is_some_and(|c| c.firing == firing) {
            return Ok(Claimed::Again);
        }
        if req.late {
            return Ok(Claimed::Expired);
        }
        let since = last.map_or(0, |c| c.at_ms).max(req.last_fired_ms);
        if since > 0 && req.at_ms - since < req.cooldown_ms {
            return Ok(Claimed::Suppressed);
        }
        store.load_feed_seq().map_err(EngineError::from)?;
        let mut entry = [FeedEntry {
            seq: 0,
            change: Change::Fired,
            segment: req.trigger.clone(),
            entity: req.entity,
            into: 0,
            at_ms: req.at_ms,
            fired: Some(req.firing),
        }];
        store.put_claim(
            &req.trigger,
            req.entity,
            Claim {
                at_ms: req.at_ms,
                firing,
            },
        );
        store.append_feed(&mut entry);
        Ok(Claimed::Fired)
    }
}
