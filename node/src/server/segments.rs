//! The `Segments` service: segment definitions (the standard ones and
//! those defined through the API, kept in the metadata group), their
//! validation, members and audiences.

use std::collections::BTreeMap;
use std::pin::Pin;

use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use kindred_proto::v1 as pb;
use kindred_proto::v1::segments_server::Segments;

use super::profiles::{check_purpose, every_profile};
use super::NodeState;
use crate::cluster::membership::{cursor_text, FeedFilter, Memberships, CURSOR_PREFIX};
use crate::engine::resolver::split_key;
use crate::error::NodeError;
use crate::meta::MetaCommand;
use crate::observe;
use crate::privacy::consent::granted;
use crate::segments::{check, Checked, Known};
use crate::storage::membership::{Change, FeedEntry};

/// Implements `kindred.v1.Segments`.
pub struct SegmentsService {
    state: NodeState,
}

impl SegmentsService {
    pub fn new(state: NodeState) -> Self {
        SegmentsService { state }
    }

    /// Checks a definition against every other segment in force.
    fn check(&self, s: &pb::Segment) -> Checked {
        let catalog = self.state.catalog();
        let others: BTreeMap<String, pb::Segment> = catalog
            .segments
            .iter()
            .filter(|o| o.name != s.name)
            .map(|o| (o.name.clone(), o.clone()))
            .collect();
        let known = Known {
            traits: &catalog.traits,
            purposes: &self.state.activity.events.consent_purposes,
            segments: &others,
        };
        check(s, &known)
    }

    /// A definition as the API shows it: with which of its conditions are
    /// evaluated in real time and which by the sweep.
    fn shown(&self, mut s: pb::Segment) -> pb::Segment {
        let c = self.check(&s);
        s.realtime_conditions = c.realtime;
        s.time_conditions = c.time;
        s
    }

    /// The segment in force with this name, or NOT_FOUND.
    fn find(&self, name: &str) -> Result<pb::Segment, Status> {
        self.state
            .catalog()
            .segments
            .get(name)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("no segment {name:?} (kindred segment list)")))
    }

    /// A definition sent to be stored: validated, output-only fields reset,
    /// stamped with the coordinator's time.
    fn admit(&self, s: Option<pb::Segment>) -> Result<pb::Segment, Status> {
        let s = s.ok_or_else(|| NodeError::missing("segment"))?;
        let checked = self.check(&s);
        if let Some(first) = checked.problems.first() {
            return Err(NodeError::InvalidArgument {
                field: format!("segment.{}", first.path),
                value: s.name.clone(),
                reason: checked.summary().unwrap_or_default(),
            }
            .into());
        }
        let now = self.state.coordinator()?.activities.now_ms();
        Ok(pb::Segment {
            name: s.name,
            description: s.description,
            condition: s.condition,
            updated_at_ms: now,
            ..Default::default()
        })
    }

    fn builtin(&self, name: &str) -> bool {
        self.state.builtin_segments.iter().any(|b| b.name == name)
    }

    /// Stores a definition and answers it as stored.
    async fn put(
        &self,
        s: pb::Segment,
        create: bool,
        expected: u64,
    ) -> Result<pb::Segment, Status> {
        let name = s.name.clone();
        self.state
            .cluster()
            .propose(MetaCommand::PutSegment {
                segment: Box::new(s),
                create,
                expected_version: expected,
            })
            .await?;
        // Backfill: the definition raised the sweep generation, so every
        // node sweeps its partitions for the new definition's members
        // (`sweep_schedule`).
        Ok(self.shown(self.find(&name)?))
    }
}

type Boxed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Segments for SegmentsService {
    async fn create(
        &self,
        req: Request<pb::SegmentsCreateRequest>,
    ) -> Result<Response<pb::SegmentsCreateResponse>, Status> {
        let s = self.admit(req.into_inner().segment)?;
        if self.builtin(&s.name)
            || self
                .state
                .cluster()
                .meta
                .state()
                .segments
                .contains_key(&s.name)
        {
            return Err(NodeError::AlreadyExists {
                field: "segment.name".into(),
                value: s.name.clone(),
                reason: "a segment of this name exists (kindred segment update changes it)".into(),
            }
            .into());
        }
        let segment = Some(self.put(s, true, 0).await?);
        Ok(Response::new(pb::SegmentsCreateResponse { segment }))
    }

    async fn update(
        &self,
        req: Request<pb::SegmentsUpdateRequest>,
    ) -> Result<Response<pb::SegmentsUpdateResponse>, Status> {
        let req = req.into_inner();
        let s = self.admit(req.segment)?;
        if self.builtin(&s.name) {
            return Err(Status::failed_precondition(format!(
                "{:?} is a standard segment and cannot be changed; create one of another name",
                s.name
            )));
        }
        let current = self
            .state
            .cluster()
            .meta
            .state()
            .segments
            .get(&s.name)
            .map(|c| c.version);
        match current {
            None => {
                return Err(Status::not_found(format!(
                    "no segment {:?} to update",
                    s.name
                )))
            }
            Some(v) if req.expected_version != 0 && v != req.expected_version => {
                return Err(Status::aborted(format!(
                    "segment {:?} is at version {v}, not {}: read it again and retry",
                    s.name, req.expected_version
                )))
            }
            _ => {}
        }
        let segment = Some(self.put(s, false, req.expected_version).await?);
        Ok(Response::new(pb::SegmentsUpdateResponse { segment }))
    }

    async fn delete(
        &self,
        req: Request<pb::SegmentsDeleteRequest>,
    ) -> Result<Response<pb::SegmentsDeleteResponse>, Status> {
        let name = req.into_inner().name;
        if self.builtin(&name) {
            return Err(Status::failed_precondition(format!(
                "{name:?} is a standard segment and cannot be deleted ([activity] builtin_segments = false leaves them out)"
            )));
        }
        if !self
            .state
            .cluster()
            .meta
            .state()
            .segments
            .contains_key(&name)
        {
            return Err(Status::not_found(format!(
                "no segment {name:?} was defined through the API"
            )));
        }
        self.state
            .cluster()
            .propose(MetaCommand::DeleteSegment { name: name.clone() })
            .await?;
        // Its rows go; a segment created later under the name starts empty.
        self.state.memberships.drop_segment(&name).await?;
        Ok(Response::new(pb::SegmentsDeleteResponse {}))
    }

    async fn list(
        &self,
        _req: Request<pb::SegmentsListRequest>,
    ) -> Result<Response<pb::SegmentsListResponse>, Status> {
        let mut segments: Vec<pb::Segment> = self
            .state
            .catalog()
            .segments
            .iter()
            .cloned()
            .map(|s| self.shown(s))
            .collect();
        segments.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Response::new(pb::SegmentsListResponse { segments }))
    }

    async fn get(
        &self,
        req: Request<pb::SegmentsGetRequest>,
    ) -> Result<Response<pb::SegmentsGetResponse>, Status> {
        let req = req.into_inner();
        let segment = self.shown(self.find(&req.name)?);
        let size = self
            .state
            .memberships
            .members(&req.name, 0, usize::MAX)
            .await?
            .len() as u64;
        Ok(Response::new(pb::SegmentsGetResponse {
            segment: Some(segment),
            size,
            swept_at_ms: self.state.cluster().meta.state().segments_swept_at_ms(),
        }))
    }

    async fn members(
        &self,
        req: Request<pb::SegmentsMembersRequest>,
    ) -> Result<Response<pb::SegmentsMembersResponse>, Status> {
        let req = req.into_inner();
        self.find(&req.name)?;
        let limit = match req.page_size {
            0 => 100,
            n => n.min(10_000) as usize,
        };
        let after = match req.page_token.as_str() {
            "" => 0,
            t => t.parse::<u64>().map_err(|_| NodeError::InvalidArgument {
                field: "page_token".into(),
                value: t.into(),
                reason: "is not a token this service gave".into(),
            })?,
        };
        let mut page = self
            .state
            .memberships
            .members(&req.name, after, limit + 1)
            .await?;
        let next_page_token = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|(e, _)| e.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::SegmentsMembersResponse {
            entity_ids: page.iter().map(|(e, _)| *e).collect(),
            next_page_token,
            entered_at_ms: page.iter().map(|(_, at)| *at).collect(),
        }))
    }

    type ExportStream = Boxed<pb::SegmentsExportResponse>;

    async fn export(
        &self,
        req: Request<pb::SegmentsExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let req = req.into_inner();
        self.find(&req.name)?;
        check_purpose(&self.state, &req.purpose)?;
        // The stored members drive the reads; each is evaluated again as it
        // is read, so one who left since the last evaluation is left out.
        let members = self.state.memberships.members(&req.name, 0, usize::MAX);
        let only = members.await?.into_iter().map(|(e, _)| e).collect();
        let catalog = self.state.catalog();
        let reads = catalog.audience_reads(!req.purpose.is_empty());
        let mut profiles = every_profile(&self.state, catalog, reads, Some(only), 64).await?;
        let (tx, rx) = mpsc::channel(64);
        observe::rpc::spawn(async move {
            while let Some(p) = profiles.recv().await {
                let wanted = |p: &pb::Profile| {
                    p.segments.contains(&req.name)
                        && (req.purpose.is_empty() || granted(p, &req.purpose))
                };
                let out = match p {
                    Ok(p) if !wanted(&p) => continue,
                    Ok(p) => Ok(pb::SegmentsExportResponse { profile: Some(p) }),
                    Err(e) => Err(e.into()),
                };
                if tx.send(out).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type WatchStream = Boxed<pb::SegmentsWatchResponse>;

    async fn watch(
        &self,
        req: Request<pb::SegmentsWatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let req = req.into_inner();
        for name in &req.segments {
            self.find(name)?;
        }
        let catalog = self.state.catalog();
        for (i, name) in req.triggers.iter().enumerate() {
            if catalog.trigger(name).is_none() {
                return Err(Status::not_found(format!(
                    "triggers[{i}]: no trigger {name:?} (the standard one is \"abandoned_cart\")"
                )));
            }
        }
        let m = self.state.memberships.clone();
        let cursor = Cursor::parse(&req.cursor, &m).await?;
        let (tx, rx) = mpsc::channel(64);
        let chosen = FeedFilter {
            segments: req.segments,
            triggers: req.triggers,
        };
        observe::rpc::spawn(follow(m, chosen, cursor, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn validate(
        &self,
        req: Request<pb::SegmentsValidateRequest>,
    ) -> Result<Response<pb::SegmentsValidateResponse>, Status> {
        let s = req
            .into_inner()
            .segment
            .ok_or_else(|| NodeError::missing("segment"))?;
        let c = self.check(&s);
        Ok(Response::new(pb::SegmentsValidateResponse {
            problems: c
                .problems
                .into_iter()
                .map(|p| pb::SegmentProblem {
                    path: p.path,
                    message: p.message,
                })
                .collect(),
            realtime_conditions: c.realtime,
            time_conditions: c.time,
        }))
    }
}

/// Where a watcher is in every partition's feed.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    seqs: Vec<u64>,
    /// Per partition: start from the oldest entry kept, whatever was
    /// trimmed before it ("start", until its first entry).
    oldest: Vec<bool>,
}

impl Cursor {
    async fn parse(text: &str, m: &Memberships) -> Result<Cursor, NodeError> {
        let n = m.partitions() as usize;
        let exact = |seqs: Vec<u64>| Cursor {
            oldest: vec![false; seqs.len()],
            seqs,
        };
        match text {
            "" | "now" => return Ok(exact(m.feed_now().await?)),
            "start" => {
                return Ok(Cursor {
                    seqs: vec![0; n],
                    oldest: vec![true; n],
                })
            }
            _ => {}
        }
        let bad = |reason: &str| NodeError::InvalidArgument {
            field: "cursor".into(),
            value: text.into(),
            reason: reason.into(),
        };
        let seqs = text
            .strip_prefix(CURSOR_PREFIX)
            .ok_or_else(|| bad("is not a cursor this service gave (nor now or start)"))?
            .split('.')
            .map(|p| p.parse::<u64>())
            .collect::<Result<Vec<u64>, _>>()
            .map_err(|_| bad("is not a cursor this service gave (nor now or start)"))?;
        if seqs.len() != n {
            return Err(bad(&format!(
                "names {} partitions; the cluster has {n}",
                seqs.len()
            )));
        }
        Ok(exact(seqs))
    }

    fn text(&self) -> String {
        cursor_text(&self.seqs)
    }

    /// Takes a partition's page of entries: OUT_OF_RANGE if entries after
    /// the cursor were trimmed (the reader would miss them).
    fn check(&mut self, p: usize, entries: &[FeedEntry]) -> Result<(), Status> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let at = self.seqs[p];
        if !self.oldest[p] && first.seq > at + 1 {
            return Err(Status::out_of_range(format!(
                "cursor: the feed of partition {p} no longer holds the entries after {at} (the \
                 oldest kept is {}; [activity] feed_retention_days): start again from \"now\" or \
                 \"start\"",
                first.seq
            )));
        }
        self.oldest[p] = false;
        Ok(())
    }
}

/// How long a watcher waits before reading the feeds again when nothing
/// was new, unless this node writes feed entries first (entries written by
/// other nodes are seen at the next poll).
const IDLE: std::time::Duration = std::time::Duration::from_millis(200);

/// Streams the feed entries of the chosen segments and triggers after
/// `cursor` until the watcher goes away.
async fn follow(
    m: Memberships,
    chosen: FeedFilter,
    mut cursor: Cursor,
    tx: mpsc::Sender<Result<pb::SegmentsWatchResponse, Status>>,
) {
    loop {
        let mut any = false;
        for p in 0..cursor.seqs.len() {
            let entries = match m.feed(p as u32, cursor.seqs[p], 256).await {
                Ok(e) => e,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            if let Err(status) = cursor.check(p, &entries) {
                let _ = tx.send(Err(status)).await;
                return;
            }
            for e in entries {
                any = true;
                cursor.seqs[p] = e.seq;
                if !chosen.wants(&e) {
                    continue;
                }
                if tx
                    .send(Ok(watch_response(&e, cursor.text())))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if !any {
            tokio::select! {
                _ = tokio::time::sleep(IDLE) => {}
                _ = m.next_feed_write() => {}
                _ = tx.closed() => return,
            }
        }
    }
}

fn watch_response(e: &FeedEntry, cursor: String) -> pb::SegmentsWatchResponse {
    let change = match e.change {
        Change::Entered => pb::MembershipChange::Entered,
        Change::Left => pb::MembershipChange::Left,
        Change::Merged => pb::MembershipChange::Merged,
        Change::Fired => pb::MembershipChange::TriggerFired,
    };
    let fired = e.fired.as_ref().map(|f| {
        let (source, record_id) = split_key(&f.key);
        pb::TriggerFiring {
            trigger: e.segment.clone(),
            source: source.into(),
            record_id: record_id.into(),
            match_value: f.match_value.clone(),
            started_at_ms: f.started_at_ms,
            due_at_ms: f.due_at_ms,
        }
    });
    let segment = match e.change {
        Change::Fired => String::new(),
        _ => e.segment.clone(),
    };
    pb::SegmentsWatchResponse {
        change: change as i32,
        segment,
        entity_id: e.entity,
        merged_into: e.into,
        at_ms: e.at_ms,
        cursor,
        fired,
    }
}

/// Re-evaluates the segments of the customers of the partitions this node
/// owns now, and records when and for which definitions; false if a sweep
/// failed. Sweeps asked for while one runs are folded into one more after
/// it.
pub async fn sweep_now(state: NodeState) -> bool {
    let Some(_running) = state.memberships.sweep_turn() else {
        return true;
    };
    let mut ok = true;
    while state.memberships.take_sweep_request() {
        // The definitions in force from here on are those of this
        // generation or a newer one.
        let generation = state.cluster().meta.state().sweep_generation;
        match state.memberships.sweep().await {
            Ok(s) if s.partitions.is_empty() => {}
            Ok(s) => {
                tracing::info!(
                    customers = s.customers,
                    changes = s.changes,
                    partitions = s.partitions.len(),
                    "segment sweep done"
                );
                let m = crate::observe::metrics::metrics();
                m.segment_sweeps.inc();
                m.segment_sweep_customers.set(s.customers as i64);
                let cmd = MetaCommand::SegmentsSwept {
                    at_ms: s.at_ms,
                    partitions: s.partitions,
                    generation,
                };
                if let Err(e) = state.cluster().propose(cmd).await {
                    tracing::warn!(error = %e, "recording the segment sweep failed");
                    ok = false;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "segment sweep failed");
                ok = false;
            }
        }
    }
    ok
}

/// Sweeps the partitions this node owns: when one was last swept longer
/// than `segment_sweep_minutes` ago (0: never on time) or for older
/// definitions than those in force (a segment was defined or changed, or
/// some node dropped change notifications: seen at once, from the metadata
/// group's state). A node that dropped notifications has every node sweep
/// (`MetaCommand::RequestSweep`), since the customers it missed may be
/// anyone's. After a failed sweep, the next try waits for the 30 s tick.
pub async fn sweep_schedule(state: NodeState) {
    let interval_ms = i64::from(state.activity.segment_sweep_minutes) * 60_000;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    let mut meta = state.cluster().meta.watch();
    let mut failed = false;
    loop {
        tokio::select! {
            _ = tick.tick() => failed = false,
            changed = meta.changed(), if !failed => {
                if changed.is_err() {
                    return;
                }
            }
        }
        let Ok(coordinator) = state.coordinator() else {
            continue;
        };
        if state.memberships.missed() {
            if let Err(e) = state.cluster().propose(MetaCommand::RequestSweep).await {
                tracing::warn!(error = %e, "asking every node to sweep failed; sweeping here");
                state.memberships.request_sweep();
            }
        }
        let now = coordinator.activities.now_ms();
        let router = &coordinator.activities.reader.assembler.router;
        let owned = router.map().owned_by(router.node_id);
        let due = state
            .cluster()
            .meta
            .state()
            .sweeps_due(&owned, now, interval_ms);
        if due {
            state.memberships.request_sweep();
        }
        failed = !sweep_now(state.clone()).await;
    }
}

/// Deletes change-feed entries older than `feed_retention_days` (0: keep
/// them all) from the partitions this node owns, every ten minutes.
pub async fn feed_retention_schedule(state: NodeState) {
    let days = state.activity.feed_retention_days;
    if days == 0 {
        return;
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if state.coordinator().is_err() {
            continue;
        }
        match state
            .memberships
            .trim_feed(i64::from(days) * 86_400_000)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "old change-feed entries deleted"),
            Err(e) => tracing::warn!(error = %e, "trimming the change feed failed"),
        }
    }
}

/// Looks for triggers that fell due every `trigger_tick_seconds` (0: never)
/// on the partitions this node owns.
pub async fn trigger_schedule(state: NodeState) {
    let secs = state.activity.trigger_tick_seconds;
    if secs == 0 {
        return;
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(u64::from(secs)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if state.coordinator().is_err() {
            continue;
        }
        match state.firings.fire_due().await {
            Ok(l) if l.fired + l.suppressed + l.expired > 0 => tracing::info!(
                fired = l.fired,
                suppressed = l.suppressed,
                expired = l.expired,
                "triggers settled"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "firing due triggers failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> FeedEntry {
        FeedEntry {
            seq,
            change: Change::Entered,
            segment: "vip".into(),
            entity: 1,
            into: 0,
            at_ms: 0,
            fired: None,
        }
    }

    #[test]
    fn a_cursor_behind_trimmed_entries_is_refused_but_start_takes_the_oldest_kept() {
        let mut exact = Cursor {
            seqs: vec![4, 4],
            oldest: vec![false, false],
        };
        assert!(exact.check(0, &[entry(5), entry(6)]).is_ok(), "no gap");
        assert!(exact.check(0, &[]).is_ok(), "nothing new");
        let refused = exact.check(1, &[entry(9)]).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::OutOfRange);
        assert!(refused.message().contains("partition 1"), "{refused:?}");
        let mut start = Cursor {
            seqs: vec![0],
            oldest: vec![true],
        };
        assert!(start.check(0, &[entry(9)]).is_ok());
        start.seqs[0] = 9;
        assert!(start.check(0, &[entry(11)]).is_err(), "exact once it read");
    }
}
