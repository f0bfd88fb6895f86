//! The partition actor: its state, its mailbox loop, and the dispatch of
//! each request to the handler named for it (`on_apply`, `on_probe`, ...
//! in `commands.rs` and `queries.rs`), as TiKV's `PeerFsmDelegate` does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashSet;
use tokio::sync::mpsc;

use super::request::{Op, OpReply, PartitionRequest};
use super::{Command, PartitionConfig, Reply};
use crate::engine::cluster::CLUSTERING_VERSION;
use crate::engine::features::Packed;
use crate::engine::profile::Survivorship;
use crate::engine::{Engine, EngineConfig, EngineError};
use crate::error::NodeError;
use crate::observe::metrics::{size_class, ENTITY_SIZE_CLASSES};
use crate::observe::PartitionProbe;
use crate::storage::RocksStore;

/// The state one partition thread owns.
pub(super) struct Actor {
    pub(super) engine: Engine<RocksStore>,
    /// Metrics handles and the census shared with the scraper.
    probe: Arc<PartitionProbe>,
    /// When the census was last published.
    census_at: Option<Instant>,
    /// Something may have changed since.
    census_dirty: bool,
    pub(super) survivorship: Survivorship,
    pub(super) partition: u32,
    fenced: bool,
    /// Records that have stored cross-partition links (valid or not): a
    /// cheap hint that an entity may span partitions.
    pub(super) linked_keys: FxHashSet<Box<str>>,
    /// Record keys whose events are kept here although the record is not
    /// (see `activity.rs`).
    pub(super) orphans: FxHashSet<Box<str>>,
    /// Work per step of a re-resolution (records plus comparisons).
    reresolve_budget: usize,
}

/// Commands taken, while re-resolving, before a step runs even though more
/// are waiting.
const STEP_EVERY: usize = 8;

/// Most queries served between two commands (writes are not starved by a
/// flood of reads).
const READ_BURST: usize = 64;

/// Longest a busy partition goes without counting its entities by size
/// for the metrics (a scrape also asks for a census; the cheap counts are
/// published whenever the mailbox runs dry).
const CENSUS_EVERY: Duration = Duration::from_secs(2);

impl Actor {
    /// Opens the store and restores the engine from it (blocking).
    pub(super) fn open(
        cfg: &PartitionConfig,
        probe: Arc<PartitionProbe>,
    ) -> Result<Actor, NodeError> {
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| NodeError::InvalidArgument {
            field: "data_dir".into(),
            value: cfg.data_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let started = std::time::Instant::now();
        let engine = restore_engine(cfg)?;
        tracing::info!(
            partition = cfg.partition,
            records = engine.len(),
            seconds = started.elapsed().as_secs_f64(),
            "partition restored"
        );
        let linked_keys = engine
            .store()
            .all_links()
            .map_err(EngineError::from)?
            .into_iter()
            .map(|(k, _)| k.into_boxed_str())
            .collect();
        let orphans = engine
            .store()
            .orphans()
            .map_err(EngineError::from)?
            .into_iter()
            .map(String::into_boxed_str)
            .collect();
        let _ = probe.db.set(Arc::downgrade(&engine.store().shared_db()));
        let mut actor = Actor {
            engine,
            probe,
            census_at: None,
            census_dirty: true,
            survivorship: cfg.survivorship.clone(),
            partition: cfg.partition,
            fenced: false,
            linked_keys,
            orphans,
            reresolve_budget: cfg.reresolve_budget.max(1),
        };
        actor.publish_census();
        Ok(actor)
    }

    /// Publishes the partition's census (records, comparisons, entities
    /// by size) to the metrics. Observation only: never read back. The
    /// size classes walk every entity, so they are counted at most every
    /// `CENSUS_EVERY` while commands come, and on a scrape's request
    /// (`Command::Census`).
    fn publish_census(&mut self) {
        let mut sizes = [0u64; ENTITY_SIZE_CLASSES.len()];
        for n in self.engine.entity_sizes() {
            sizes[size_class(n as u64)] += 1;
        }
        self.probe.publish_sizes(&sizes);
        self.publish_counts();
        self.census_at = Some(Instant::now());
        self.census_dirty = false;
    }

    /// Publishes the counts that cost nothing to read.
    fn publish_counts(&self) {
        self.probe
            .publish_counts(self.engine.len() as u64, self.engine.comparisons());
    }

    /// After a command (`idle`: and the mailbox is empty): the whole census
    /// when it is due, else the cheap counts when idle.
    fn census_if_due(&mut self, idle: bool) {
        let due = self.census_at.is_none_or(|at| at.elapsed() >= CENSUS_EVERY);
        if due && self.census_dirty {
            self.publish_census();
        } else if idle {
            self.publish_counts();
        }
    }

    /// Takes commands until every handle is dropped, then flushes. While
    /// a re-resolution is under way, a step of it runs whenever the
    /// mailbox is empty and after every `STEP_EVERY` commands otherwise,
    /// so a request waits for at most one step (a bounded amount of work)
    /// and the re-resolution progresses under any load. Before each
    /// command, the queries waiting are served (at most `READ_BURST`), so a
    /// read never waits behind a queue of writes; queries change nothing,
    /// so the commands' order alone decides the partition's state.
    pub(super) fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut reads: mpsc::Receiver<Command>,
    ) {
        let mut since_step = 0usize;
        loop {
            for _ in 0..READ_BURST {
                match reads.try_recv() {
                    Ok(cmd) => self.handle(cmd),
                    Err(_) => break,
                }
            }
            let cmd = if self.reresolving() {
                if since_step >= STEP_EVERY {
                    since_step = 0;
                    self.reresolve_step();
                    continue;
                }
                match rx.try_recv() {
                    Ok(cmd) => cmd,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        since_step = 0;
                        self.reresolve_step();
                        continue;
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            } else {
                match rx.try_recv() {
                    Ok(cmd) => cmd,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        self.census_if_due(true);
                        match rx.blocking_recv() {
                            Some(cmd) => cmd,
                            None => break,
                        }
                    }
                }
            };
            self.handle(cmd);
            since_step += 1;
        }
        // Queries still waiting are answered, as they were sent before the
        // last handle went.
        while let Ok(cmd) = reads.try_recv() {
            self.handle(cmd);
        }
        if let Err(e) = self.engine.flush() {
            tracing::error!(partition = self.partition, error = %e, "final flush failed");
        }
        tracing::info!(partition = self.partition, "partition stopped");
    }

    /// True while a re-resolution has steps left and the partition takes
    /// writes (not fenced for a move, storage healthy): a step is a write.
    fn reresolving(&self) -> bool {
        self.engine.reresolve_remaining() > 0 && self.writable().is_ok()
    }

    /// One step of the re-resolution under a new model; once the last is
    /// durable, the store's marker is cleared (an interrupted one resumes
    /// when the partition opens again).
    fn reresolve_step(&mut self) {
        let started = std::time::Instant::now();
        let done = self
            .engine
            .reresolve_step(self.reresolve_budget)
            .and_then(|p| {
                tracing::debug!(
                    partition = self.partition,
                    rescored = p.rescored,
                    compared = p.compared,
                    edges_changed = p.edges_changed,
                    remaining = p.remaining,
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "re-resolution step"
                );
                if p.done() {
                    self.engine.flush()?;
                    self.engine.store().save_reresolving(false)?;
                    tracing::info!(partition = self.partition, "re-resolution finished");
                }
                Ok(())
            });
        if let Err(e) = done {
            tracing::error!(partition = self.partition, error = %e, "re-resolution step failed");
        }
        // Hand the step's writes to the writer thread now rather than
        // with the next request's reply: an idle partition would otherwise
        // gather the whole re-resolution in one batch in memory. A failed
        // write is recorded by the store, which then refuses writes.
        if self.engine.store().has_pending() {
            self.engine.store_mut().flush_then(Box::new(|_| {}));
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Request {
                op,
                reply,
                queued,
                span,
            } => {
                self.census_dirty = true;
                // A span per command, under the caller's: the call's
                // request id is on every line logged while handling it,
                // and a trace shows the partition's part of the call.
                let _entered = tracing::info_span!(
                    parent: &span,
                    "partition",
                    partition = self.partition,
                    op = op.kind()
                )
                .entered();
                self.probe.wait.observe(queued.elapsed().as_secs_f64());
                self.probe.commands.inc();
                self.dispatch(op, reply);
                self.census_if_due(false);
            }
            Command::Wake => {}
            Command::Census => {
                if self.census_dirty {
                    self.publish_census();
                }
            }
            Command::Fence { on, reply } => {
                self.fenced = on;
                tracing::info!(partition = self.partition, fenced = on, "write fence");
                let _ = reply.send(Ok(()));
            }
            Command::Checkpoint { dir, reply } => {
                let r = self
                    .engine
                    .store_mut()
                    .checkpoint(&dir)
                    .map_err(|e| NodeError::from(EngineError::from(e)));
                let _ = reply.send(r);
            }
        }
    }

    /// One handler per request.
    fn dispatch(&mut self, op: Op, reply: Reply<OpReply>) {
        match op {
            Op::Apply(r) => self.write(r, reply, Actor::on_apply),
            Op::Probe(r) => self.write(r, reply, Actor::on_probe),
            Op::PutLinks(r) => self.write(r, reply, Actor::on_put_links),
            Op::Delete(r) => self.write(r, reply, Actor::on_delete),
            Op::Forget(r) => self.write(r, reply, Actor::on_forget),
            Op::SetModel(r) => self.write(r, reply, Actor::on_set_model),
            Op::DemoteKeys(r) => self.write(r, reply, Actor::on_demote_keys),
            Op::UndemoteKeys(r) => self.write(r, reply, Actor::on_undemote_keys),
            Op::PutEvents(r) => self.write(r, reply, Actor::on_put_events),
            Op::AdoptEvents(r) => self.write(r, reply, Actor::on_adopt_events),
            Op::DropActivity(r) => self.write(r, reply, Actor::on_drop_activity),
            Op::SetMemberships(r) => self.write(r, reply, Actor::on_set_memberships),
            Op::DropSegment(r) => self.write(r, reply, Actor::on_drop_segment),
            Op::DropTimers(r) => self.write(r, reply, Actor::on_drop_timers),
            Op::ArmTimers(r) => self.write(r, reply, Actor::on_arm_timers),
            Op::TrimFeed(r) => self.write(r, reply, Actor::on_trim_feed),
            Op::ClaimFiring(r) => self.write(r, reply, Actor::on_claim_firing),
            Op::GetRecord(r) => self.read(r, reply, Actor::on_get_record),
            Op::Features(r) => self.read(r, reply, Actor::on_features),
            Op::EntityOfRecord(r) => self.read(r, reply, Actor::on_entity_of_record),
            Op::EntityById(r) => self.read(r, reply, Actor::on_entity_by_id),
            Op::Entities(r) => self.read(r, reply, Actor::on_entities),
            Op::CheckLinks(r) => self.read(r, reply, Actor::on_check_links),
            Op::Identity(r) => self.read(r, reply, Actor::on_identity),
            Op::Profiles(r) => self.read(r, reply, Actor::on_profiles),
            Op::EntityIds(r) => self.read(r, reply, Actor::on_entity_ids),
            Op::Search(r) => self.read(r, reply, Actor::on_search),
            Op::Assignments(r) => self.read(r, reply, Actor::on_assignments),
            Op::Links(r) => self.read(r, reply, Actor::on_links),
            Op::Bridges(r) => self.read(r, reply, Actor::on_bridges),
            Op::KeyCounts(r) => self.read(r, reply, Actor::on_key_counts),
            Op::Holders(r) => self.read(r, reply, Actor::on_holders),
            Op::WhyRecords(r) => self.read(r, reply, Actor::on_why_records),
            Op::WhyForeign(r) => self.read(r, reply, Actor::on_why_foreign),
            Op::WhyEntity(r) => self.read(r, reply, Actor::on_why_entity),
            Op::How(r) => self.read(r, reply, Actor::on_how),
            Op::GetStats(r) => self.read(r, reply, Actor::on_get_stats),
            Op::Sample(r) => self.read(r, reply, Actor::on_sample),
            Op::Records(r) => self.read(r, reply, Actor::on_records),
            Op::GetModel(r) => self.read(r, reply, Actor::on_get_model),
            Op::Reresolving(r) => self.read(r, reply, Actor::on_reresolving),
            Op::Locate(r) => self.read(r, reply, Actor::on_locate),
            Op::OrphanedEvents(r) => self.read(r, reply, Actor::on_orphaned_events),
            Op::ActivitySize(r) => self.read(r, reply, Actor::on_activity_size),
            Op::Expired(r) => self.read(r, reply, Actor::on_expired),
            Op::ActivityOf(r) => self.read(r, reply, Actor::on_activity_of),
            Op::ActivitiesOf(r) => self.read(r, reply, Actor::on_activities_of),
            Op::TypeSummaries(r) => self.read(r, reply, Actor::on_type_summaries),
            Op::SegmentMembers(r) => self.read(r, reply, Actor::on_segment_members),
            Op::FeedAfter(r) => self.read(r, reply, Actor::on_feed_after),
            Op::FeedLast(r) => self.read(r, reply, Actor::on_feed_last),
            Op::DueTimers(r) => self.read(r, reply, Actor::on_due_timers),
        }
    }

    /// Answers a query at once.
    fn read<R: PartitionRequest>(
        &self,
        req: R,
        reply: Reply<OpReply>,
        handler: fn(&Self, R) -> Result<R::Reply, NodeError>,
    ) {
        let _ = reply.send(handler(self, req).map(R::wrap));
    }

    /// Applies a command, then answers once everything it wrote is on disk.
    /// Refused while the partition is fenced or its storage has failed.
    fn write<R: PartitionRequest>(
        &mut self,
        req: R,
        reply: Reply<OpReply>,
        handler: fn(&mut Self, R) -> Result<R::Reply, NodeError>,
    ) {
        if let Err(e) = self.writable() {
            let _ = reply.send(Err(e));
            return;
        }
        match handler(self, req) {
            Ok(out) => self.reply_after_write(R::wrap(out), reply),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    fn writable(&self) -> Result<(), NodeError> {
        if self.fenced {
            return Err(NodeError::NotOwner {
                partition: self.partition,
                epoch: 0,
            });
        }
        match self.engine.store().failure() {
            Some(why) => Err(NodeError::Unavailable(format!(
                "storage failed ({why}); restart the node to recover from disk"
            ))),
            None => Ok(()),
        }
    }

    /// Sends `out` once everything written so far is on disk.
    fn reply_after_write(&mut self, out: OpReply, reply: Reply<OpReply>) {
        self.engine.store_mut().flush_then(Box::new(move |res| {
            let _ = reply.send(match res {
                Ok(()) => Ok(out),
                Err(e) => {
                    tracing::error!(error = %e, "storage write failed; refusing further writes");
                    Err(NodeError::Unavailable(e.to_string()))
                }
            });
        }));
    }
}

/// Opens the store and rebuilds the engine; re-resolves everything when
/// the configured model differs from the stored one.
fn restore_engine(cfg: &PartitionConfig) -> Result<Engine<RocksStore>, NodeError> {
    let opened = RocksStore::open(&cfg.data_dir, &cfg.store).map_err(EngineError::from)?;
    let stored_model = opened.model.clone();
    let model = cfg
        .model
        .clone()
        .or(stored_model.clone())
        .unwrap_or_default();
    // Partitions cluster within home keys; the cluster layer runs the
    // second phase over every partition at once.
    let engine_cfg = EngineConfig {
        cluster_across_home_keys: false,
        ..cfg.engine.clone()
    };
    let mut engine = Engine::restore(engine_cfg, model.clone(), opened.store, opened.state)?;
    engine.set_id_space(u64::from(cfg.partition), u64::from(cfg.partitions.max(1)));
    let store = engine.store();
    if cfg.model.is_some() && stored_model.as_ref() != Some(&model) {
        tracing::info!(
            partition = cfg.partition,
            version = model.version,
            "configured model differs from the stored one; re-resolving"
        );
        store.save_reresolving(true).map_err(EngineError::from)?;
        store.save_model(&model).map_err(EngineError::from)?;
        engine.begin_reresolve();
    } else if store.reresolving().map_err(EngineError::from)? {
        tracing::info!(
            partition = cfg.partition,
            "resuming an interrupted re-resolution"
        );
        engine.begin_reresolve();
    }
    recluster_if_stale(&mut engine, cfg.partition)?;
    Ok(engine)
}

/// Re-resolves a partition whose entities were computed by another
/// version of the clustering algorithm.
fn recluster_if_stale(engine: &mut Engine<RocksStore>, partition: u32) -> Result<(), NodeError> {
    let stored = engine
        .store()
        .clustering_version()
        .map_err(EngineError::from)?;
    if stored.as_deref() == Some(CLUSTERING_VERSION) {
        return Ok(());
    }
    if !engine.is_empty() {
        tracing::info!(
            partition,
            ?stored,
            "clustering algorithm changed; re-resolving"
        );
        engine.rebuild()?;
        engine.flush()?;
        // A rebuild re-scores every pair: no re-resolution is left over.
        engine
            .store()
            .save_reresolving(false)
            .map_err(EngineError::from)?;
    }
    engine
        .store()
        .save_clustering_version(CLUSTERING_VERSION)
        .map_err(EngineError::from)?;
    Ok(())
}

/// Packed features received from a coordinator.
pub(super) fn packed(bytes: &[u8], key: &str) -> Result<Packed, NodeError> {
    Packed::from_bytes(bytes).ok_or_else(|| NodeError::InvalidArgument {
        field: "features".into(),
        value: key.chars().take(64).collect(),
        reason: "not valid packed features".into(),
    })
}
