//! The partition's handlers for segment membership: the membership of the
//! customers whose cluster-wide id is homed here, as the coordinator
//! evaluated it, with the change feed of who entered and left.
//!
//! Setting a membership is a command: it carries the time it is stamped
//! with and the segments that were evaluated, so applying it is a function
//! of the partition's state and the command.

use super::actor::Actor;
use super::request::{
    DropSegment, FeedAfter, FeedLast, MembershipItem, SegmentMembers, SetMemberships, TrimFeed,
};
use crate::engine::{EngineError, EntityId};
use crate::error::NodeError;
use crate::storage::membership::{Change, FeedEntry, MemberRow};

/// Most feed entries one read returns.
const FEED_PAGE: usize = 1000;

/// Most feed entries one `TrimFeed` deletes (a command stays short).
const TRIM_PAGE: usize = 10_000;

impl Actor {
    pub(super) fn on_set_memberships(
        &mut self,
        req: SetMemberships,
    ) -> Result<Vec<FeedEntry>, NodeError> {
        // Every read first: once writing starts nothing can fail, so rows
        // and their feed entries land together or not at all.
        let mut changes = Vec::new();
        for item in &req.items {
            for segment in &req.evaluated {
                if let Some(c) = self.membership_change(&req, item, segment)? {
                    changes.push(c);
                }
            }
        }
        let store = self.engine.store_mut();
        store.load_feed_seq().map_err(EngineError::from)?;
        let mut feed = Vec::with_capacity(changes.len());
        for (row, entry) in changes {
            store.put_member_row(&entry.segment, entry.entity, row);
            feed.push(entry);
        }
        store.append_feed(&mut feed);
        Ok(feed)
    }

    /// The new row and feed entry of one customer in one segment, if its
    /// membership changed.
    fn membership_change(
        &self,
        req: &SetMemberships,
        item: &MembershipItem,
        segment: &str,
    ) -> Result<Option<(MemberRow, FeedEntry)>, NodeError> {
        let row = self
            .engine
            .store()
            .member_row(segment, item.entity)
            .map_err(EngineError::from)?;
        let was_in = row.is_some_and(|r| r.is_in());
        let change = match (was_in, item.segments.iter().any(|s| s == segment)) {
            (false, true) => Change::Entered,
            (true, false) if item.merged_into != 0 => Change::Merged,
            (true, false) => Change::Left,
            _ => return Ok(None),
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
        let entry = FeedEntry {
            seq: 0,
            change,
            segment: segment.into(),
            entity: item.entity,
            into: item.merged_into,
            at_ms: req.at_ms,
            fired: None,
        };
        Ok(Some((new_row, entry)))
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

    pub(super) fn on_trim_feed(&mut self, req: TrimFeed) -> Result<usize, NodeError> {
        let limit = req.limit.clamp(1, TRIM_PAGE);
        Ok(self
            .engine
            .store_mut()
            .trim_feed(req.before_ms, limit)
            .map_err(EngineError::from)?)
    }

    pub(super) fn on_feed_last(&self, _req: FeedLast) -> Result<u64, NodeError> {
        Ok(self.engine.store().feed_last().map_err(EngineError::from)?)
    }
}
