//! Segment membership kept current: the customers a write touched are
//! re-evaluated at once, and a sweep on a schedule re-evaluates everyone
//! (the passage of time moves customers between stages and out of
//! windows, and it repairs whatever a lost notification missed).
//!
//! Customers waiting for evaluation are kept as sets, so a customer
//! written a thousand times during an import is evaluated far fewer
//! times; those of interactive writes (a few customers) go before those of
//! bulk writes, so the feed follows a single event at once even while an
//! import keeps the evaluator busy.
//!
//! A customer's membership is stored in the partition of its cluster-wide
//! id, which records what changed in its feed (`storage::membership`).
//! Evaluations on one node are serialised, each from a fresh read, so the
//! last membership stored is that of the last state read. A customer that
//! no longer exists (deleted, or merged into another) is in no segment; a
//! merged one's rows close as `Merged`, and the customer it joined keeps
//! its own membership, so nobody leaves and re-enters a segment they were
//! in all along.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;

use kindred_proto::v1 as pb;

use super::activity::Activities;
use crate::activity::Catalog;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::partition::partition_of_entity;
use crate::partition::request::{
    DropSegment, FeedAfter, FeedLast, MembershipItem, SegmentMembers, SetMemberships, TrimFeed,
};
use crate::storage::membership::FeedEntry;

/// The prefix of a feed cursor's text.
pub const CURSOR_PREFIX: &str = "c1.";

/// A feed cursor as text: one sequence number per partition.
pub fn cursor_text(seqs: &[u64]) -> String {
    let parts: Vec<String> = seqs.iter().map(u64::to_string).collect();
    format!("{CURSOR_PREFIX}{}", parts.join("."))
}

/// The segments and triggers a feed reader follows (both empty:
/// everything).
#[derive(Debug, Clone, Default)]
pub struct FeedFilter {
    pub segments: Vec<String>,
    pub triggers: Vec<String>,
}

impl FeedFilter {
    pub fn wants(&self, e: &FeedEntry) -> bool {
        if self.segments.is_empty() && self.triggers.is_empty() {
            return true;
        }
        let names = match e.change {
            crate::storage::membership::Change::Fired => &self.triggers,
            _ => &self.segments,
        };
        names.contains(&e.segment)
    }
}

/// Most customers of bulk writes waiting to be re-evaluated; past it a
/// bulk notification is dropped and the next sweep repairs what it missed
/// (interactive ones are always kept).
const MAX_PENDING: usize = 1 << 20;

/// Urgent pages taken in a row before a bulk page (bulk is never starved).
const URGENT_RUN: usize = 8;

/// A write touching at most this many customers is interactive (one event,
/// one record): its customers are re-evaluated before those of bulk
/// writes, so a feed reader sees them at once even during an import.
const URGENT: usize = 8;

/// Customers read and evaluated together by a sweep.
const PAGE: usize = 256;

/// Customers of bulk writes evaluated together (small, so an urgent
/// customer never waits long behind them).
const BULK_PAGE: usize = 64;

/// Customers waiting to be re-evaluated, one set per lane: a customer
/// written many times while it waits is evaluated once.
#[derive(Default)]
struct Pending {
    urgent: BTreeSet<EntityId>,
    bulk: BTreeSet<EntityId>,
    /// Urgent pages taken since the last bulk one.
    urgent_run: usize,
}

impl Pending {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.urgent.len() + self.bulk.len()
    }

    /// Adds the customers of one write; false if a bulk write found the
    /// bulk lane full.
    fn add(&mut self, ids: Vec<EntityId>) -> bool {
        if ids.len() <= URGENT {
            self.urgent.extend(ids);
            return true;
        }
        let new = ids.iter().filter(|i| !self.bulk.contains(i)).count();
        if self.bulk.len() + new > MAX_PENDING {
            return false;
        }
        self.bulk.extend(ids);
        true
    }

    /// The next customers to evaluate: the urgent ones first, but a bulk
    /// page after every `URGENT_RUN` urgent ones.
    fn take(&mut self) -> Vec<EntityId> {
        let urgent =
            !self.urgent.is_empty() && (self.urgent_run < URGENT_RUN || self.bulk.is_empty());
        let (lane, n) = if urgent {
            self.urgent_run += 1;
            (&mut self.urgent, PAGE)
        } else {
            self.urgent_run = 0;
            (&mut self.bulk, BULK_PAGE)
        };
        let mut out = Vec::with_capacity(n.min(lane.len()));
        while out.len() < n {
            match lane.pop_first() {
                Some(id) => out.push(id),
                None => break,
            }
        }
        out
    }
}

/// Where the write path reports the customers each write touched.
#[derive(Clone, Default)]
pub struct Changes {
    /// An evaluator runs (before it starts, nothing is kept).
    running: Arc<AtomicBool>,
    pending: Arc<std::sync::Mutex<Pending>>,
    /// Wakes the evaluator (a permit is kept if it is busy).
    wake: Arc<tokio::sync::Notify>,
    /// A notification was dropped (too many waiting): the next sweep
    /// repairs what it missed.
    missed: Arc<AtomicBool>,
    /// Woken when this node wrote feed entries (watchers on this node read
    /// at once instead of at their next poll).
    fed: Arc<tokio::sync::Notify>,
}

impl Changes {
    /// Reports customers (cluster-wide or local ids) whose records or
    /// events changed. Never waits.
    pub fn notify(&self, ids: Vec<EntityId>) {
        let ids: Vec<EntityId> = ids.into_iter().filter(|&i| i != 0).collect();
        if ids.is_empty() || !self.running.load(Ordering::Acquire) {
            return;
        }
        {
            let Ok(mut p) = self.pending.lock() else {
                return;
            };
            if !p.add(ids) {
                self.missed.store(true, Ordering::Relaxed);
                return;
            }
        }
        self.wake.notify_one();
    }

    /// The next customers to re-evaluate, waiting for some.
    async fn next(&self) -> Vec<EntityId> {
        loop {
            let page = match self.pending.lock() {
                Ok(mut p) => p.take(),
                Err(_) => Vec::new(),
            };
            if !page.is_empty() {
                return page;
            }
            self.wake.notified().await;
        }
    }

    /// True (once) if a notification was dropped since the last call.
    pub fn take_missed(&self) -> bool {
        self.missed.swap(false, Ordering::Relaxed)
    }

    /// Wakes this node's feed readers: entries were written.
    pub fn feed_written(&self) {
        self.fed.notify_waiters();
    }

    /// Completes when this node next writes feed entries.
    pub async fn next_feed_write(&self) {
        self.fed.notified().await
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Default)]
pub struct Swept {
    pub customers: u64,
    pub changes: u64,
    pub at_ms: i64,
    /// The partitions whose customers it evaluated (those this node owned
    /// when it started).
    pub partitions: Vec<u32>,
}

/// The evaluator of a node.
#[derive(Clone)]
pub struct Memberships {
    activities: Activities,
    catalog: Arc<dyn Fn() -> Catalog + Send + Sync>,
    /// Held while evaluating and storing, so that evaluations on this node
    /// are stored in the order they read.
    turn: Arc<Mutex<()>>,
    changes: Changes,
    /// A sweep was asked for and has not started yet.
    sweep_requested: Arc<AtomicBool>,
    /// A sweep is running on this node.
    sweeping: Arc<AtomicBool>,
}

/// Holds the right to sweep; released when dropped.
pub struct SweepTurn(Arc<AtomicBool>);

impl Drop for SweepTurn {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Memberships {
    /// Starts re-evaluating the customers the write path reports.
    pub fn start(
        activities: Activities,
        catalog: Arc<dyn Fn() -> Catalog + Send + Sync>,
    ) -> Memberships {
        let changes = activities.writer.changes.clone();
        let first = changes
            .running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        let m = Memberships {
            activities,
            catalog,
            turn: Arc::new(Mutex::new(())),
            changes,
            sweep_requested: Arc::new(AtomicBool::new(false)),
            sweeping: Arc::new(AtomicBool::new(false)),
        };
        // One evaluator per node takes the notifications.
        if first {
            tokio::spawn(m.clone().run());
        }
        m
    }

    /// True (once) if the write path dropped a notification.
    pub fn missed(&self) -> bool {
        self.changes.take_missed()
    }

    /// Asks for a sweep (the running one, if any, is followed by another).
    pub fn request_sweep(&self) {
        self.sweep_requested.store(true, Ordering::Release);
    }

    /// True (once) if a sweep was asked for since the last call.
    pub fn take_sweep_request(&self) -> bool {
        self.sweep_requested.swap(false, Ordering::AcqRel)
    }

    /// The right to sweep, unless a sweep is running on this node (it will
    /// see the request).
    pub fn sweep_turn(&self) -> Option<SweepTurn> {
        self.sweeping
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then(|| SweepTurn(self.sweeping.clone()))
    }

    async fn run(self) {
        loop {
            let ids = self.changes.next().await;
            if let Err(e) = self.reevaluate(ids).await {
                // The sweep repairs it.
                self.changes.missed.store(true, Ordering::Relaxed);
                tracing::warn!(error = %e, "re-evaluating segment membership failed");
            }
        }
    }

    fn router(&self) -> &super::router::Router {
        &self.activities.reader.assembler.router
    }

    /// Re-evaluates customers by any of their ids and stores what changed.
    pub async fn reevaluate(&self, ids: Vec<EntityId>) -> Result<Vec<FeedEntry>, NodeError> {
        let catalog = (self.catalog)();
        let mut feed = Vec::new();
        for page in ids.chunks(PAGE) {
            feed.extend(self.evaluate_page(page, &catalog).await?);
        }
        Ok(feed)
    }

    /// The membership items of a customer named by one of its ids: itself
    /// as it is now, or gone (merged into the customer the id now names,
    /// or deleted) and that customer.
    async fn evaluate(
        &self,
        id: EntityId,
        catalog: &Catalog,
    ) -> Result<Vec<MembershipItem>, NodeError> {
        let item = |entity, p: Option<&pb::Profile>, merged_into| MembershipItem {
            entity,
            segments: p.map(|p| p.segments.clone()).unwrap_or_default(),
            merged_into,
        };
        match self.activities.profile(id, catalog).await {
            Ok(p) if p.entity_id == id => Ok(vec![item(id, Some(&p), 0)]),
            Ok(p) => Ok(vec![
                item(id, None, p.entity_id),
                item(p.entity_id, Some(&p), 0),
            ]),
            Err(e) if e.code() == tonic::Code::NotFound => Ok(vec![item(id, None, 0)]),
            Err(e) => Err(e),
        }
    }

    /// Sends each membership partition its items.
    async fn store(
        &self,
        items: Vec<MembershipItem>,
        catalog: &Catalog,
    ) -> Result<Vec<FeedEntry>, NodeError> {
        let n = self.router().map().partitions.max(1);
        let evaluated: Vec<String> = catalog.segments.iter().map(|s| s.name.clone()).collect();
        let mut by_p: BTreeMap<u32, Vec<MembershipItem>> = BTreeMap::new();
        for it in items {
            by_p.entry(partition_of_entity(it.entity, n))
                .or_default()
                .push(it);
        }
        let at_ms = self.activities.now_ms();
        let mut feed = Vec::new();
        for (p, items) in by_p {
            let req = SetMemberships {
                at_ms,
                evaluated: evaluated.clone(),
                items,
            };
            feed.extend(self.router().call(p, req).await?);
        }
        if !feed.is_empty() {
            self.changes.feed_written();
        }
        Ok(feed)
    }

    /// Re-evaluates every customer whose membership the partitions this
    /// node owns keep (that of its cluster-wide id), then every member
    /// stored there that is no longer a customer (deleted, merged, or
    /// renamed by a cluster-wide link), and stores what changed. Every
    /// node sweeps its own partitions, so together they sweep everyone
    /// once.
    pub async fn sweep(&self) -> Result<Swept, NodeError> {
        let catalog = (self.catalog)();
        let at_ms = self.activities.now_ms();
        let router = self.router();
        let owned: BTreeSet<u32> = router.map().owned_by(router.node_id).into_iter().collect();
        let n = self.partitions();
        let customers: Vec<EntityId> = if owned.is_empty() {
            vec![]
        } else {
            let all = self.activities.reader.entities().await?;
            all.into_keys()
                .filter(|g| owned.contains(&partition_of_entity(*g, n)))
                .collect()
        };
        let mut changes = 0u64;
        for page in customers.chunks(PAGE) {
            changes += self.evaluate_page(page, &catalog).await?.len() as u64;
        }
        let seen: HashSet<EntityId> = customers.iter().copied().collect();
        let stale: Vec<EntityId> = self
            .stored_members(&owned, &catalog)
            .await?
            .into_iter()
            .filter(|e| !seen.contains(e))
            .collect();
        for chunk in stale.chunks(PAGE) {
            changes += self.reevaluate(chunk.to_vec()).await?.len() as u64;
        }
        Ok(Swept {
            customers: customers.len() as u64,
            changes,
            at_ms,
            partitions: owned.into_iter().collect(),
        })
    }

    /// Re-evaluates a page of customers by any of their ids and stores
    /// what changed. The page is read at once (one exploration, one read
    /// per partition), and only what the segments look at
    /// (`Catalog::membership_reads`). An id that no longer names a customer
    /// of its own (merged, deleted, or a part of a cluster-wide customer)
    /// is evaluated on its own ([`Memberships::evaluate`]).
    async fn evaluate_page(
        &self,
        ids: &[EntityId],
        catalog: &Catalog,
    ) -> Result<Vec<FeedEntry>, NodeError> {
        let _turn = self.turn.lock().await;
        let groups = self
            .activities
            .reader
            .assembler
            .groups(ids)
            .await?
            .unwrap_or_default();
        let distinct: BTreeSet<EntityId> = ids.iter().copied().collect();
        let (whole, alone): (Vec<EntityId>, Vec<EntityId>) = distinct
            .into_iter()
            .partition(|id| groups.get(id).is_some_and(|(g, _)| g == id));
        let customers: Vec<(EntityId, Vec<EntityId>)> =
            whole.iter().map(|id| groups[id].clone()).collect();
        let reads = catalog.membership_reads();
        let profiles = match self
            .activities
            .profiles_of(&customers, catalog, &reads)
            .await
        {
            Ok(p) => p,
            // A part went (deleted or merged) since the page was explored:
            // each customer on its own, as a write's is.
            Err(e) if e.code() == tonic::Code::NotFound => {
                let items = self.evaluate_each(whole.into_iter().chain(alone), catalog);
                return self.store(items.await?, catalog).await;
            }
            Err(e) => return Err(e),
        };
        let mut items: Vec<MembershipItem> = profiles
            .into_iter()
            .map(|p| MembershipItem {
                entity: p.entity_id,
                segments: p.segments,
                merged_into: 0,
            })
            .collect();
        items.extend(self.evaluate_each(alone, catalog).await?);
        self.store(items, catalog).await
    }

    /// [`Memberships::evaluate`] of each id in turn.
    async fn evaluate_each(
        &self,
        ids: impl IntoIterator<Item = EntityId>,
        catalog: &Catalog,
    ) -> Result<Vec<MembershipItem>, NodeError> {
        let mut items = Vec::new();
        for id in ids {
            items.extend(self.evaluate(id, catalog).await?);
        }
        Ok(items)
    }

    /// Every customer stored in `partitions` as a member of some segment
    /// in force.
    async fn stored_members(
        &self,
        partitions: &BTreeSet<u32>,
        catalog: &Catalog,
    ) -> Result<BTreeSet<EntityId>, NodeError> {
        let mut out = BTreeSet::new();
        for s in catalog.segments.iter() {
            for &p in partitions {
                let req = SegmentMembers {
                    segment: s.name.clone(),
                    after: 0,
                    limit: usize::MAX,
                };
                out.extend(
                    self.router()
                        .call(p, req)
                        .await?
                        .into_iter()
                        .map(|(e, _)| e),
                );
            }
        }
        Ok(out)
    }

    /// Stored members of a segment after `after`, ascending, at most
    /// `limit`, with when they entered.
    pub async fn members(
        &self,
        segment: &str,
        after: EntityId,
        limit: usize,
    ) -> Result<Vec<(EntityId, i64)>, NodeError> {
        let req = SegmentMembers {
            segment: segment.into(),
            after,
            limit,
        };
        let mut all = Vec::new();
        for (_, r) in self.router().all(req).await {
            all.extend(r?);
        }
        all.sort_unstable();
        all.truncate(limit);
        Ok(all)
    }

    /// Drops the stored membership of a deleted segment everywhere.
    pub async fn drop_segment(&self, segment: &str) -> Result<(), NodeError> {
        let req = DropSegment {
            segment: segment.into(),
        };
        for (_, r) in self.router().all(req).await {
            r?;
        }
        Ok(())
    }

    /// Deletes feed entries written more than `retention_ms` ago from the
    /// partitions this node owns (the newest of each is kept); how many.
    pub async fn trim_feed(&self, retention_ms: i64) -> Result<u64, NodeError> {
        const PAGE: usize = 10_000;
        let before_ms = self.activities.now_ms().saturating_sub(retention_ms);
        let router = self.router();
        let mut trimmed = 0u64;
        for p in router.map().owned_by(router.node_id) {
            loop {
                let n = router
                    .call(
                        p,
                        TrimFeed {
                            before_ms,
                            limit: PAGE,
                        },
                    )
                    .await?;
                trimmed += n as u64;
                if n < PAGE {
                    break;
                }
            }
        }
        Ok(trimmed)
    }

    /// Feed entries of partition `p` after `after`.
    pub async fn feed(
        &self,
        p: u32,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, NodeError> {
        self.router().call(p, FeedAfter { after, limit }).await
    }

    /// The newest feed entry of every partition: a cursor at "now".
    pub async fn feed_now(&self) -> Result<Vec<u64>, NodeError> {
        let mut out = vec![0; self.partitions() as usize];
        for (p, r) in self.router().all(FeedLast).await {
            if let Some(slot) = out.get_mut(p as usize) {
                *slot = r?;
            }
        }
        Ok(out)
    }

    /// Completes when this node next writes feed entries (membership
    /// changes or trigger firings).
    pub async fn next_feed_write(&self) {
        self.changes.next_feed_write().await
    }

    /// The number of partitions (the length of a feed cursor).
    pub fn partitions(&self) -> u32 {
        self.router().map().partitions.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interactive_customers_go_first_and_a_customer_waits_once() {
        let mut p = Pending::default();
        p.bulk.extend(1..=200);
        p.bulk.extend(1..=200);
        p.urgent.extend([500, 7]);
        assert_eq!(p.len(), 202);
        assert_eq!(p.take(), [7, 500]);
        let first: Vec<EntityId> = (1..=BULK_PAGE as EntityId).collect();
        assert_eq!(p.take(), first);
        p.urgent.insert(900);
        assert_eq!(p.take(), [900]);
        let mut rest = Vec::new();
        loop {
            let page = p.take();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= BULK_PAGE);
            rest.extend(page);
        }
        assert_eq!(rest, (BULK_PAGE as EntityId + 1..=200).collect::<Vec<_>>());
    }

    #[test]
    fn a_stream_of_interactive_writes_never_starves_the_bulk_lane() {
        let mut p = Pending::default();
        p.bulk.extend([1000]);
        let mut taken = Vec::new();
        for i in 0..URGENT_RUN as EntityId + 1 {
            p.urgent.insert(i + 1);
            taken.push(p.take());
        }
        assert_eq!(taken[URGENT_RUN], [1000]);
        assert!(taken[..URGENT_RUN]
            .iter()
            .all(|t| t.len() == 1 && t[0] < 1000));
    }

    #[test]
    fn a_small_write_is_urgent_and_nothing_is_kept_before_an_evaluator_runs() {
        let c = Changes::default();
        c.notify(vec![1, 2]);
        assert_eq!(c.pending.lock().unwrap().len(), 0);
        c.running.store(true, Ordering::Release);
        c.notify(vec![0, 3]);
        c.notify((10..10 + URGENT as EntityId + 1).collect());
        let p = c.pending.lock().unwrap();
        assert_eq!(p.urgent.iter().copied().collect::<Vec<_>>(), [3]);
        assert_eq!(p.bulk.len(), URGENT + 1);
    }
}
