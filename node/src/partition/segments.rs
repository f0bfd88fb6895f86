//! The partition's handlers for segment membership: the membership of the
//! customers whose cluster-wide id is homed here, as the coordinator
//! evaluated it, with the change feed of who entered and left.
//!
//! Setting a membership is a command: it carries the time it is stamped
//! with and the segments that were evaluated, so applying it is a function
//! of the partition's state and the command.

use super::actor::Actor;
use super::request::{DropSegment, FeedAfter, FeedLast, SegmentMembers, SetMemberships};
use crate::engine::{EngineError, EntityId};
use crate::error::NodeError;
use crate::storage::membership::{Change, FeedEntry, MemberRow};

/// Most feed entries one read returns.
const FEED_PAGE: usize = 1000;

impl Actor {
    pub(super) fn on_set_memberships(
        &mut self,
        req: SetMemberships,
    ) -> Result<Vec<FeedEntry>, NodeError> {
        let mut feed = Vec::new();
        for item in &req.items {
            for segment in &req.evaluated {
                let now_in = item.segments.contains(segment);
                let row = self
                    .engine
                    .store()
                    .member_row(segment, item.entity)
                    .map_err(EngineError::from)?;
                let was_in = row.is_some_and(|r| r.is_in());
                let change = match (was_in, now_in) {
                    (false, true) => Change::Entered,
                    (true, false) if item.merged_into != 0 => Change::Merged,
                    (true, false) => Change::Left,
                    _ => continue,
                };
                let new_row = match change {
                    Change::Entered => MemberRow {
                        entered_at_ms: req.at_ms,
                        left_at_ms: 0,
                    },
                    _ => MemberRow {
                        entered_at_ms: row.map_or(0, |r| r.entered_at_ms),
                        left_at_ms: req.at_ms,
                    },
                };
                self.engine
                    .store_mut()
                    .put_member_row(segment, item.entity, new_row);
                feed.push(FeedEntry {
                    seq: 0,
                    change,
                    segment: segment.clone(),
                    entity: item.entity,
                    into: item.merged_into,
                    at_ms: req.at_ms,
                });
            }
        }
        self.engine
            .store_mut()
            .append_feed(&mut feed)
            .map_err(EngineError::from)?;
        Ok(feed)
    }

    pub(super) fn on_drop_segment(&mut self, req: DropSegment) -> Result<(), NodeError> {
        self.engine.store_mut().drop_segment_rows(&req.segment);
        Ok(())
    }

    pub(super) fn on_segment_members(
        &self,
        req: SegmentMembers,
    ) -> Result<Vec<(EntityId, i64)>, NodeError> {
        Ok(self
            .engine
            .store()
            .members(&req.segment, req.after, req.limit)
            .map_err(EngineError::from)?)
    }

    pub(super) fn on_feed_after(&self, req: FeedAfter) -> Result<Vec<FeedEntry>, NodeError> {
        Ok(self
            .engine
            .store()
            .feed_after(req.after, req.limit.clamp(1, FEED_PAGE))
            .map_err(EngineError::from)?)
    }

    pub(super) fn on_feed_last(&self, _req: FeedLast) -> Result<u64, NodeError> {
        Ok(self.engine.store().feed_last().map_err(EngineError::from)?)
    }
}
