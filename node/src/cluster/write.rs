//! The write path of the coordinator: a batch of records in three rounds
//! (see ARCHITECTURE.md, "Cross-partition links").
//!
//! 1. *apply*: each record is validated, standardised and packed here,
//!    once, then stored and resolved at its home partition;
//! 2. *probe*: every other partition looks the applied records up under
//!    their blocking keys and keeps the reverse side of each link found;
//! 3. *link*: the homes keep the forward side of the links of their records;
//!
//! then the partitions' counts of the batch's blocking keys settle which
//! keys are demoted cluster-wide (`hot_keys.rs`).
//!
//! Each command carries the time read once from the coordinator's clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;

use kindred_proto::v1 as pb;

use super::assemble::Assembler;
use super::map::home_partition;
use super::node_request::ProbeOwned;
use super::router::Router;
use crate::clock::SharedClock;
use crate::engine::features::Packed;
use crate::engine::resolver::{record_key, ref_key, KeyCount};
use crate::engine::standardize::{standardize_record_at, Issue, StandardizeConfig, StdRecord};
use crate::engine::{Engine, EngineError, EntityId, MemoryStore, Outcome};
use crate::error::NodeError;
use crate::partition::request::{
    AdoptEvents, Applied, Apply, ApplyItem, Delete, DropActivity, Found, MovedActivity, Probe,
    ProbeItem, Probed, PutLinks, Records, WireError,
};
use crate::privacy::Suppressions;

/// A home partition's batch, back with the partition's answer for each
/// record (or why the whole batch failed).
type AppliedAtHome = (
    Vec<Prepared>,
    Result<Vec<Result<Applied, WireError>>, NodeError>,
);

/// Records probed again per request when relinking a partition.
const RELINK_PAGE: usize = 2000;

/// The coordinator's write path.
#[derive(Clone)]
pub struct Writer {
    pub assembler: Assembler,
    std_cfg: Arc<StandardizeConfig>,
    clock: SharedClock,
    /// Identifiers of erased people: records holding one are refused.
    pub suppressions: Suppressions,
    /// Told the customers each write touched (segment membership).
    pub changes: super::membership::Changes,
}

/// A record validated, standardised and packed by the coordinator.
struct Prepared {
    /// Its position in the batch.
    index: usize,
    record: pb::Record,
    feats: Vec<u8>,
    key: String,
    home: u32,
    issues: Vec<Issue>,
}

/// A record its home applied, waiting for rounds 2 and 3.
struct AppliedRecord {
    index: usize,
    probe: ProbeItem,
    /// Its entity may span partitions.
    linked: bool,
}

/// An upsert between its rounds: a result for each record of the batch so
/// far, and the records applied.
pub struct Pending {
    results: Vec<Option<Result<Outcome, NodeError>>>,
    applied: Vec<AppliedRecord>,
    /// The batch's time.
    at_ms: i64,
    /// Demoted keys that previous versions held and the new ones do not.
    released: Vec<u64>,
}

/// What probing a batch everywhere found: the keys that got links, and
/// the partitions' key counts and released keys.
pub(super) struct ProbeOutcome {
    linked: Vec<String>,
    counts: Vec<(u32, KeyCount)>,
    released: Vec<u64>,
}

impl Writer {
    pub fn new(assembler: Assembler, std_cfg: StandardizeConfig, clock: SharedClock) -> Writer {
        Writer {
            assembler,
            std_cfg: Arc::new(std_cfg),
            clock,
            suppressions: Suppressions::default(),
            changes: Default::default(),
        }
    }

    fn router(&self) -> &Router {
        &self.assembler.router
    }

    /// The coordinator's time.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A record standardised as a write at `at_ms` would standardise it.
    pub fn standardize(&self, record: &pb::Record, at_ms: i64) -> StdRecord {
        standardize_record_at(record, &self.std_cfg, reference_year(at_ms))
    }

    /// Upserts a batch: one result per record, in order. A record that
    /// fails does not fail the others.
    pub async fn upsert(&self, records: Vec<pb::Record>) -> Vec<Result<Outcome, NodeError>> {
        let pending = self.apply(records).await;
        self.complete(pending).await
    }

    /// Round 1 of an upsert: the records are stored and resolved at their
    /// homes. Batches of one stream are applied in order; their links
    /// ([`Writer::complete`]) may then be found concurrently.
    #[tracing::instrument(level = "info", name = "apply", skip_all)]
    pub async fn apply(&self, records: Vec<pb::Record>) -> Pending {
        let n = records.len();
        // One time for the whole batch: it stamps the commands, and its year
        // reads two-digit years, so standardising is a function of it.
        let at_ms = self.clock.now_ms();
        let mut pending = Pending {
            results: (0..n).map(|_| None).collect(),
            applied: Vec::new(),
            at_ms,
            released: Vec::new(),
        };
        let prepared = match self.prepare(records, at_ms).await {
            Ok(p) => p,
            Err(e) => {
                pending.fail_all(&e);
                return pending;
            }
        };
        let mut by_home: BTreeMap<u32, Vec<Prepared>> = BTreeMap::new();
        for (index, p) in prepared.into_iter().enumerate() {
            match p {
                Ok(p) => by_home.entry(p.home).or_default().push(p),
                Err(e) => pending.results[index] = Some(Err(e)),
            }
        }
        let applies = by_home
            .into_values()
            .map(|batch| self.apply_at_home(at_ms, batch));
        for (batch, reply) in join_all(applies).await {
            pending.absorb(batch, reply);
        }
        pending
    }

    /// Validates, standardises and packs each record (off the runtime).
    #[tracing::instrument(level = "info", name = "prepare", skip_all)]
    async fn prepare(
        &self,
        records: Vec<pb::Record>,
        at_ms: i64,
    ) -> Result<Vec<Result<Prepared, NodeError>>, NodeError> {
        let std_cfg = self.std_cfg.clone();
        let year = reference_year(at_ms);
        let parts = self.router().map().partitions;
        let suppressions = self.suppressions.clone();
        tokio::task::spawn_blocking(move || {
            records
                .into_iter()
                .enumerate()
                .map(|(index, r)| prepare_one(index, r, &std_cfg, year, parts, &suppressions))
                .collect()
        })
        .await
        .map_err(|e| NodeError::Unavailable(format!("standardising: {e}")))
    }

    /// Sends one home partition its records.
    #[tracing::instrument(level = "info", name = "apply_at_home", skip_all)]
    async fn apply_at_home(&self, at_ms: i64, mut batch: Vec<Prepared>) -> AppliedAtHome {
        let items = batch
            .iter_mut()
            .map(|p| ApplyItem {
                record: std::mem::take(&mut p.record),
                feats: p.feats.clone(),
            })
            .collect();
        let home = batch[0].home;
        let reply = self.router().call(home, Apply { at_ms, items }).await;
        (batch, reply)
    }

    /// Rounds 2 and 3 of an upsert, and the cluster-wide entity ids.
    #[tracing::instrument(level = "info", name = "complete", skip_all)]
    pub async fn complete(&self, mut pending: Pending) -> Vec<Result<Outcome, NodeError>> {
        if self.router().map().partitions > 1 && !pending.applied.is_empty() {
            match self.link_and_settle(&mut pending).await {
                Ok(with_links) => pending.mark_linked(&with_links),
                // The records are stored, but their links are not all
                // known: fail them so the client retries (upserts are
                // idempotent).
                Err(e) => pending.fail_applied(&e),
            }
        }
        self.name_global_entities(&mut pending).await;
        let results = pending.into_results();
        let touched = results.iter().flatten();
        self.changes.notify(
            touched
                .flat_map(|o| std::iter::once(o.entity).chain(o.absorbed.iter().copied()))
                .collect(),
        );
        results
    }

    /// Rounds 2 and 3, then the cluster-wide key counts: demotions the
    /// batch caused, and releases it made. Returns the keys that got links.
    async fn link_and_settle(&self, pending: &mut Pending) -> Result<Vec<String>, NodeError> {
        let probes = pending.applied.iter().map(|a| a.probe.clone()).collect();
        let mut probed = self.probe_and_link(probes).await?;
        self.settle_hot_keys(pending.at_ms, &probed.counts).await?;
        probed.released.append(&mut pending.released);
        self.release_hot_keys(pending.at_ms, probed.released)
            .await?;
        Ok(probed.linked)
    }

    /// Replaces the local entity ids of records whose entity has links by
    /// their cluster-wide ids, in one exploration.
    async fn name_global_entities(&self, pending: &mut Pending) {
        let mut locals: Vec<EntityId> = pending.linked_outcomes().map(|o| o.entity).collect();
        locals.sort_unstable();
        locals.dedup();
        if locals.is_empty() {
            return;
        }
        if let Ok(ids) = self.assembler.globals(&locals).await {
            let linked: Vec<usize> = pending.linked_indices().collect();
            for i in linked {
                if let Some(Some(Ok(o))) = pending.results.get_mut(i) {
                    if let Some(&g) = ids.get(&o.entity) {
                        o.entity = g;
                    }
                }
            }
        }
    }

    /// Probes every partition with the applied records and stores the links
    /// found at the records' homes.
    #[tracing::instrument(level = "info", name = "probe_and_link", skip_all)]
    pub(super) async fn probe_and_link(
        &self,
        probes: Vec<ProbeItem>,
    ) -> Result<ProbeOutcome, NodeError> {
        let probes = Arc::new(probes);
        let at_ms = self.clock.now_ms();
        let probed = self.probe_everywhere(at_ms, probes.clone()).await?;
        let found = probed.found;
        // Round 3: the homes keep the links of their records.
        let home_of: HashMap<&str, u32> = probes.iter().map(|p| (p.key.as_str(), p.home)).collect();
        let mut by_home: BTreeMap<u32, Vec<Found>> = BTreeMap::new();
        let mut keys = Vec::new();
        for f in found {
            if let Some(&h) = home_of.get(f.key.as_str()) {
                keys.push(f.key.clone());
                by_home.entry(h).or_default().push(f);
            }
        }
        let puts = by_home
            .into_iter()
            .map(|(p, items)| self.router().call(p, PutLinks { items }));
        for r in join_all(puts).await {
            r?;
        }
        // Handing over is retried by the next probe of the record: a
        // failure here does not fail the records, which are stored.
        if let Err(e) = self.hand_over(probed.moved, &home_of).await {
            tracing::warn!(error = %e, "handing events over to their records' homes failed");
        }
        Ok(ProbeOutcome {
            linked: keys,
            counts: probed.counts,
            released: probed.released,
        })
    }

    /// Events kept elsewhere for the probed records go to the records'
    /// homes, which adopt them; only then do the keepers drop them (a
    /// failure in between leaves a copy that the next probe hands over
    /// again, and adopting is idempotent).
    async fn hand_over(
        &self,
        moved: Vec<MovedActivity>,
        home_of: &HashMap<&str, u32>,
    ) -> Result<(), NodeError> {
        let homes = moved
            .into_iter()
            .filter_map(|m| home_of.get(m.key.as_str()).map(|&h| (h, m)));
        self.move_events(homes).await.map(|_| ())
    }

    /// Moves events to partitions (each item: where to, and what from
    /// where): the receivers adopt them, then the keepers drop exactly
    /// those (events that reached a keeper meanwhile stay there). Returns
    /// the local entity of each record key at its receiver.
    pub(super) async fn move_events(
        &self,
        moves: impl Iterator<Item = (u32, MovedActivity)>,
    ) -> Result<Vec<(String, EntityId)>, NodeError> {
        let mut adopt: BTreeMap<u32, Vec<MovedActivity>> = BTreeMap::new();
        let mut drop: BTreeMap<u32, Vec<(String, Vec<String>)>> = BTreeMap::new();
        for (to, m) in moves {
            let ids = m.events.iter().map(|(id, _)| id.clone()).collect();
            drop.entry(m.from).or_default().push((m.key.clone(), ids));
            adopt.entry(to).or_default().push(m);
        }
        let adopts = adopt
            .into_iter()
            .map(|(p, items)| self.router().call(p, AdoptEvents { items }));
        let mut entities = Vec::new();
        for r in join_all(adopts).await {
            entities.extend(r?);
        }
        let drops = drop
            .into_iter()
            .map(|(p, items)| self.router().call(p, DropActivity { items }));
        for r in join_all(drops).await {
            r?;
        }
        Ok(entities)
    }

    /// Round 2: one request per node that owns partitions, then each
    /// partition that no node answered for (its node is down, or it moved
    /// meanwhile), with retries.
    #[tracing::instrument(level = "info", name = "probe_everywhere", skip_all)]
    async fn probe_everywhere(
        &self,
        at_ms: i64,
        probes: Arc<Vec<ProbeItem>>,
    ) -> Result<Probed, NodeError> {
        let deadline = Instant::now() + self.router().retry_for;
        let map = self.router().map();
        let mut missing: HashSet<u32> = (0..map.partitions).collect();
        let mut found = Probed::default();
        let asks = map.owning_nodes().into_iter().map(|node| {
            let req = ProbeOwned {
                at_ms,
                items: probes.clone(),
            };
            async move {
                if node == self.router().node_id {
                    Ok(self.probe_owned(req).await)
                } else {
                    self.router().call_node(node, req).await
                }
            }
        });
        for probed in join_all(asks).await.into_iter().flatten() {
            for p in &probed.probed {
                missing.remove(p);
            }
            found.absorb(probed);
        }
        let mut missing: Vec<u32> = missing.into_iter().collect();
        missing.sort_unstable();
        for p in missing {
            let items = probes.clone();
            found.absorb(self.router().call(p, Probe { at_ms, items }).await?);
            if Instant::now() > deadline {
                return Err(NodeError::Unavailable("probing timed out".into()));
            }
        }
        Ok(found)
    }

    /// Probes every partition this node owns with a batch (each skips the
    /// records homed in it). Reports which partitions ran the probe.
    #[tracing::instrument(level = "info", name = "probe_owned", skip_all)]
    pub async fn probe_owned(&self, req: ProbeOwned) -> Probed {
        let router = self.router();
        let map = router.map();
        let runs = map.owned_by(router.node_id).into_iter().map(|p| {
            let op = Probe {
                at_ms: req.at_ms,
                items: req.items.clone(),
            };
            let epoch = map.owner(p).map(|o| o.1);
            async move { router.call_local(p, epoch, op).await }
        });
        let mut out = Probed::default();
        for probed in join_all(runs).await.into_iter().flatten() {
            out.absorb(probed);
        }
        out
    }

    /// Deletes a record wherever it lives.
    #[tracing::instrument(level = "info", name = "delete", skip_all)]
    pub async fn delete(&self, source: &str, record_id: &str) -> Result<Vec<EntityId>, NodeError> {
        let key = record_key(source, record_id);
        let at_ms = self.clock.now_ms();
        let req = Delete {
            at_ms,
            key: key.clone(),
        };
        let mut affected = None;
        let mut released = Vec::new();
        for (_, r) in self.router().all(req).await {
            match r {
                Ok(d) => {
                    affected.get_or_insert_with(Vec::new).extend(d.affected);
                    released.extend(d.released);
                }
                Err(e) if e.code() == tonic::Code::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let affected =
            affected.ok_or_else(|| NodeError::from(EngineError::RecordNotFound(ref_key(&key))))?;
        self.changes.notify(affected.clone());
        self.release_hot_keys(at_ms, released).await?;
        Ok(affected)
    }

    /// Probes every record of every partition again (links found under
    /// another model are no longer valid).
    pub async fn relink(&self) -> Result<(), NodeError> {
        let n = self.router().map().partitions;
        if n < 2 {
            return Ok(());
        }
        for p in 0..n {
            let mut after = String::new();
            loop {
                let req = Records {
                    after: after.clone(),
                    limit: RELINK_PAGE,
                };
                let items = self.router().call(p, req).await?;
                let Some(last) = items.last() else { break };
                after = last.key.clone();
                let probed = self.probe_and_link(items).await?;
                let at_ms = self.clock.now_ms();
                self.settle_hot_keys(at_ms, &probed.counts).await?;
                self.release_hot_keys(at_ms, probed.released).await?;
            }
        }
        Ok(())
    }
}

/// The calendar year of a command time (UTC): two-digit years are read
/// against it.
fn reference_year(at_ms: i64) -> u16 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp_millis(at_ms)
        .and_then(|t| u16::try_from(t.year()).ok())
        .unwrap_or(2025)
}

/// Validates, standardises and packs one record, and finds its home.
fn prepare_one(
    index: usize,
    record: pb::Record,
    std_cfg: &StandardizeConfig,
    year: u16,
    partitions: u32,
    suppressions: &Suppressions,
) -> Result<Prepared, NodeError> {
    Engine::<MemoryStore>::validate(&record)?;
    let std = standardize_record_at(&record, std_cfg, year);
    if let Some((kind, erasure)) = suppressions.check(&std) {
        return Err(NodeError::Suppressed { kind, erasure });
    }
    let feats = Packed::from_std(&std);
    let key = record_key(&record.source, &record.record_id);
    let home = home_partition(&key, &feats.view(), partitions);
    Ok(Prepared {
        index,
        feats: feats.as_bytes().to_vec(),
        record,
        key,
        home,
        issues: std.issues,
    })
}

impl Pending {
    /// Takes in one home's reply to its records.
    fn absorb(
        &mut self,
        batch: Vec<Prepared>,
        reply: Result<Vec<Result<Applied, WireError>>, NodeError>,
    ) {
        let replies = match reply {
            Ok(v) => v,
            Err(e) => {
                for p in &batch {
                    self.results[p.index] = Some(Err(e.copied()));
                }
                return;
            }
        };
        for (p, r) in batch.into_iter().zip(replies) {
            let index = p.index;
            let result = match r {
                Ok(a) => Ok(self.applied(p, a)),
                Err(w) => Err(w.into()),
            };
            self.results[index] = Some(result);
        }
    }

    /// Records an applied record; its outcome with the coordinator's
    /// standardisation issues.
    fn applied(&mut self, p: Prepared, a: Applied) -> Outcome {
        self.applied.push(AppliedRecord {
            index: p.index,
            probe: ProbeItem {
                key: p.key,
                feats: p.feats,
                hash: a.hash,
                home: p.home,
            },
            linked: a.linked,
        });
        self.released.extend(a.released);
        let mut o = a.outcome;
        o.issues = p.issues;
        o
    }

    fn mark_linked(&mut self, keys: &[String]) {
        let keys: HashSet<&str> = keys.iter().map(String::as_str).collect();
        for a in &mut self.applied {
            a.linked |= keys.contains(a.probe.key.as_str());
        }
    }

    fn fail_all(&mut self, e: &NodeError) {
        for r in &mut self.results {
            *r = Some(Err(e.copied()));
        }
    }

    fn fail_applied(&mut self, e: &NodeError) {
        for r in &mut self.results {
            if matches!(r, Some(Ok(_))) {
                *r = Some(Err(e.copied()));
            }
        }
    }

    fn linked_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.applied.iter().filter(|a| a.linked).map(|a| a.index)
    }

    fn linked_outcomes(&self) -> impl Iterator<Item = &Outcome> + '_ {
        self.linked_indices()
            .filter_map(|i| match self.results.get(i) {
                Some(Some(Ok(o))) => Some(o),
                _ => None,
            })
    }

    fn into_results(self) -> Vec<Result<Outcome, NodeError>> {
        self.results
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(NodeError::Unavailable("internal: no result".into()))))
            .collect()
    }
}
