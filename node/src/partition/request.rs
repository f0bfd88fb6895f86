//! What can be asked of one partition, locally or from another node.
//!
//! Each request is its own type with its own reply type
//! ([`PartitionRequest::Reply`]): [`crate::partition::PartitionHandle::call`]
//! and the coordinator's `Router::call` return exactly that reply, so a
//! caller cannot mistake one reply for another. [`Op`] and [`OpReply`] are
//! the envelopes the requests travel in: moved to a local partition's
//! mailbox as they are, or encoded for the internal service when the
//! partition lives on another node, so both paths run the same code.
//!
//! Requests that change a partition's state are its [`Op::is_write`]
//! commands. Each is a pure function of the partition's state and the
//! command: everything it needs, including the time stamped on history
//! events (`at_ms`, chosen by the coordinator), travels in the command.
//! Applied in mailbox order, they are the partition's ordered log.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use kindred_proto::v1 as pb;

use crate::activity::{Activity, Summary};
use crate::engine::explain::{EntityExplanation, EntityHistory, PairExplanation};
use crate::engine::resolver::{KeyCount, Stats};
use crate::engine::standardize::Issue;
use crate::engine::{EntityId, Outcome};
use crate::error::NodeError;
use crate::storage::membership::{FeedEntry, Firing};
use crate::storage::triggers::Timer;
use crate::storage::Link;

/// A request to a partition, with the type of its reply.
pub trait PartitionRequest: Send + 'static {
    type Reply: Send + 'static;
    /// The request in its envelope.
    fn into_op(self) -> Op;
    /// The reply in its envelope.
    fn wrap(reply: Self::Reply) -> OpReply;
    /// The reply out of its envelope; the name of the request it answers
    /// when it is the reply of another request.
    fn unwrap(reply: OpReply) -> Result<Self::Reply, &'static str>;
}

/// Declares a protocol of typed requests: an envelope enum for requests
/// and one for replies, with one variant per request named after its type,
/// and each request's impl of the protocol's trait (which names its reply
/// type). Used for partition requests here and node-wide requests in the
/// cluster layer.
macro_rules! typed_requests {
    (
        $trait:ident, $op:ident, $reply:ident;
        $( $(#[$doc:meta])* $name:ident => $rep:ty, )*
    ) => {
        /// A request, in its envelope.
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        pub enum $op {
            $( $(#[$doc])* $name($name), )*
        }

        impl $op {
            /// The request's name, for logs and traces.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( $op::$name(_) => stringify!($name), )*
                }
            }
        }

        /// The reply to a request, in its envelope: the variant of the
        /// request it answers.
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        pub enum $reply {
            $( $name($rep), )*
        }

        impl $reply {
            /// The request this reply answers, for errors.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( $reply::$name(_) => stringify!($name), )*
                }
            }
        }

        $(
            impl $trait for $name {
                type Reply = $rep;
                fn into_op(self) -> $op {
                    $op::$name(self)
                }
                fn wrap(reply: $rep) -> $reply {
                    $reply::$name(reply)
                }
                fn unwrap(reply: $reply) -> Result<$rep, &'static str> {
                    match reply {
                        $reply::$name(r) => Ok(r),
                        other => Err(other.kind()),
                    }
                }
            }
        )*
    };
}
pub(crate) use typed_requests;

/// A reply to a request of another type: the two ends do not speak the
/// same protocol.
pub fn mismatched<R>(got: &str) -> NodeError {
    let wanted = std::any::type_name::<R>().rsplit("::").next().unwrap_or("");
    NodeError::Unavailable(format!("internal: a {got} reply to a {wanted} request"))
}

typed_requests! {
    PartitionRequest, Op, OpReply;
    // ---- commands: they change the partition's state
    /// Stores and resolves records at their home.
    Apply => Vec<Result<Applied, WireError>>,
    /// Finds links from records homed elsewhere to this partition's records.
    Probe => Probed,
    /// Adds links found for records of this partition.
    PutLinks => (),
    /// Deletes a record; the entities it affected.
    Delete => Deleted,
    /// Switches to a model and starts re-resolving under it; the reply is
    /// the records left to re-score under the new model (the switch does not
    /// wait for them: the actor re-resolves between other requests).
    SetModel => u64,
    /// Demotes blocking keys cluster-wide.
    DemoteKeys => (),
    /// Lifts cluster-wide demotions.
    UndemoteKeys => (),
    /// Stores events with their records (or against a record key this
    /// partition keeps events for until the record arrives).
    PutEvents => Vec<Result<EventStored, WireError>>,
    /// Stores events another partition kept for records homed here; the
    /// local entity of each record (0: not held here).
    AdoptEvents => Vec<(String, EntityId)>,
    /// Drops events handed over to the home of their record.
    DropActivity => (),
    /// Forgets erased entities (their history), then makes every row
    /// deleted so far unreadable on disk.
    Forget => (),
    /// Records customers' segment membership as evaluated; the feed entries
    /// of what changed.
    SetMemberships => Vec<FeedEntry>,
    /// Drops every membership row of a deleted segment.
    DropSegment => (),
    /// Drops timers that were looked at.
    DropTimers => (),
    /// Decides a trigger firing for a customer homed here: fires (with its
    /// feed entry) unless the customer's cooldown runs.
    ClaimFiring => Claimed,
    // ---- queries
    /// A stored record with its entity.
    GetRecord => StoredRecord,
    /// Packed features and content hash of a record.
    Features => RecordFeatures,
    /// The local entity of a record.
    EntityOfRecord => EntityView,
    /// A local entity by id, following merges.
    EntityById => EntityView,
    /// Views of several local entities; ids not found are skipped.
    Entities => Vec<EntityView>,
    /// Which links still hold on this side.
    CheckLinks => Vec<Option<EntityId>>,
    /// Entities holding an identity value.
    Identity => Vec<EntityId>,
    /// Profiles of local entities.
    Profiles => Vec<pb::Profile>,
    /// Entity ids in a range.
    EntityIds => Vec<EntityId>,
    /// Candidates for a partial description.
    Search => Vec<(EntityId, pb::SearchCandidate)>,
    /// Every record with its entity, sorted by key.
    Assignments => Vec<Row>,
    /// Every link whose own side is still valid, with its record's entity.
    Links => Vec<(EntityId, Found)>,
    /// Local entities a match edge joins although they were kept apart.
    Bridges => Vec<(EntityId, EntityId)>,
    /// Why two records of this partition match or not.
    WhyRecords => PairExplanation,
    /// Why a record of this partition matches one of another partition.
    WhyForeign => PairExplanation,
    /// A record against every record of a local entity.
    WhyEntity => EntityExplanation,
    /// How a local entity was built.
    How => EntityHistory,
    /// Counters and the model version.
    GetStats => PartitionStats,
    /// Packed features of every record (for training).
    Sample => SamplePage,
    /// Records after a key, as probe items (to probe again).
    Records => Vec<ProbeItem>,
    /// The model, as JSON.
    GetModel => String,
    /// Records left to re-score under the current model (cheap: no walk
    /// over the records, unlike `GetStats`).
    Reresolving => u64,
    /// How many records hold each key here, and whether it is demoted.
    KeyCounts => Vec<KeyCount>,
    /// The records holding any of some keys, as probe items.
    Holders => Vec<ProbeItem>,
    /// Which of some record keys this partition holds.
    Locate => Vec<bool>,
    /// The events kept here for record keys this partition does not hold.
    OrphanedEvents => Vec<MovedActivity>,
    /// The activity of local entities' records (and of record keys).
    ActivityOf => Activity,
    /// The activity of each of several local entities (one per id, in
    /// order; empty for an id not found), reading only what `Reads` asks.
    ActivitiesOf => Vec<Activity>,
    /// Each local entity's merged summary of one event type.
    TypeSummaries => Vec<(EntityId, Summary)>,
    /// (estimated events, bytes of events and summaries on disk and in
    /// memtables).
    ActivitySize => (u64, u64),
    /// The records held here not observed since their source's retention
    /// limit.
    Expired => Vec<String>,
    /// Current members of a segment homed here, ascending, with when they
    /// entered.
    SegmentMembers => Vec<(EntityId, i64)>,
    /// Feed entries after a sequence number, oldest first.
    FeedAfter => Vec<FeedEntry>,
    /// The sequence number of the newest feed entry (0: none).
    FeedLast => u64,
    /// Timers due at a time, soonest first.
    DueTimers => Vec<Timer>,
    // ---- commands added since (appended: the variants above keep their
    // numbers on the wire)
    /// Writes timers to look at again later (a trigger reset, or one whose
    /// definition now makes it fall due later than its timer said).
    ArmTimers => (),
    /// Deletes the oldest feed entries written before a time, at most a
    /// page, never the newest; how many.
    TrimFeed => usize,
}

impl Op {
    /// True for the commands that change the partition's state.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Op::Apply(_)
                | Op::Probe(_)
                | Op::PutLinks(_)
                | Op::Delete(_)
                | Op::SetModel(_)
                | Op::DemoteKeys(_)
                | Op::UndemoteKeys(_)
                | Op::PutEvents(_)
                | Op::AdoptEvents(_)
                | Op::DropActivity(_)
                | Op::Forget(_)
                | Op::SetMemberships(_)
                | Op::DropSegment(_)
                | Op::DropTimers(_)
                | Op::ArmTimers(_)
                | Op::TrimFeed(_)
                | Op::ClaimFiring(_)
        )
    }
}

// ------------------------------------------------------------- commands

/// A record standardised by the coordinator, with its packed features.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyItem {
    pub record: pb::Record,
    pub feats: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Apply {
    /// The time stamped on the history events of this command.
    pub at_ms: i64,
    pub items: Vec<ApplyItem>,
}

/// Probes this partition with records homed elsewhere: stores the reverse
/// side of each link found, and evicts any listed record this partition
/// holds although it is no longer its home. One batch is shared by every
/// partition of a node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub at_ms: i64,
    pub items: Arc<Vec<ProbeItem>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PutLinks {
    pub items: Vec<Found>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delete {
    pub at_ms: i64,
    pub key: String,
}

/// Erased entities whose history goes, after their records were deleted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Forget {
    pub entities: Vec<EntityId>,
    /// The erased record keys: the rows of data keys to purge.
    pub keys: Vec<String>,
}

/// What a delete did: the entities it affected, and the cluster-wide
/// demoted keys the record held (fewer records hold them now: the
/// coordinator checks whether they become live again).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Deleted {
    pub affected: Vec<EntityId>,
    pub released: Vec<u64>,
}

/// Blocking keys held by more than `max_key_size` records over the whole
/// cluster (see ARCHITECTURE.md, "Why the clustering is canonical").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoteKeys {
    pub at_ms: i64,
    pub keys: Vec<u64>,
}

/// Keys no longer held by more than `max_key_size` records cluster-wide.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UndemoteKeys {
    pub at_ms: i64,
    pub keys: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetModel {
    pub at_ms: i64,
    /// The model, as JSON.
    pub json: String,
}

/// An event for a record key, validated by the coordinator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventItem {
    pub key: String,
    pub event_id: String,
    /// The encoded [`crate::activity::Body`].
    pub body: Vec<u8>,
    /// The timers the event sets if it is new (it opens a trigger).
    pub timers: Vec<Timer>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PutEvents {
    pub items: Vec<EventItem>,
    /// Tell whether each record's entity may span partitions (for callers
    /// that name cluster-wide entities; it costs a walk of the members).
    pub linked: bool,
}

/// What became of a stored event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventStored {
    /// It was stored before, with the same content.
    pub duplicate: bool,
    /// The local entity of its record (0: the record is not held here).
    pub entity: EntityId,
    /// That entity may span partitions (its cluster-wide id may differ);
    /// false unless asked for.
    pub linked: bool,
}

/// A record's events moving to the record's home partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MovedActivity {
    pub key: String,
    /// (event id, encoded body).
    pub events: Vec<(String, Vec<u8>)>,
    /// The partition that kept them.
    pub from: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdoptEvents {
    pub items: Vec<MovedActivity>,
}

/// Drops events handed over to the home of their record (by id: events
/// that arrived meanwhile stay).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DropActivity {
    /// (record key, event ids).
    pub items: Vec<(String, Vec<String>)>,
}

// -------------------------------------------------------------- queries

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Locate {
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivitySize;

/// One customer's membership as evaluated: the segments it is in among
/// those evaluated. A customer that no longer exists is in none; `merged_into`
/// names the customer it joined, if it did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipItem {
    pub entity: EntityId,
    pub segments: Vec<String>,
    pub merged_into: EntityId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetMemberships {
    pub at_ms: i64,
    /// Every segment evaluated (those in force).
    pub evaluated: Vec<String>,
    pub items: Vec<MembershipItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DropSegment {
    pub segment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentMembers {
    pub segment: String,
    pub after: EntityId,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedLast;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DueTimers {
    pub now_ms: i64,
    /// Page after this timer (none: from the soonest).
    pub after: Option<Timer>,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DropTimers {
    pub timers: Vec<Timer>,
}

/// Feed retention: `before_ms` is stamped by the coordinator's clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrimFeed {
    pub before_ms: i64,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArmTimers {
    pub timers: Vec<Timer>,
}

/// A trigger due for a customer, to fire unless the customer's cooldown
/// runs: counted from the later of its last claim here and `last_fired_ms`
/// (the newest firing among its records' settlements, which carries
/// firings over merges).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimFiring {
    pub at_ms: i64,
    pub entity: EntityId,
    pub trigger: String,
    pub cooldown_ms: i64,
    pub last_fired_ms: i64,
    pub firing: Firing,
    /// Found too long after it fell due: it expires, unless this very
    /// firing was claimed before (a retry).
    pub late: bool,
}

/// What a claim decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Claimed {
    /// Fired now.
    Fired,
    /// This very firing was claimed before (a retry).
    Again,
    /// The cooldown runs.
    Suppressed,
    /// It was late and not claimed before.
    Expired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedAfter {
    pub after: u64,
    pub limit: usize,
}

/// Which records are past retention at `now_ms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Expired {
    pub retention: crate::privacy::retention::RetentionConfig,
    pub now_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrphanedEvents {
    pub keys: Vec<String>,
}

/// Which events an [`ActivityOf`] returns besides the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventsWanted {
    /// The newest N.
    Newest(usize),
    All,
}

/// The activity of the records of local entities, and of record keys
/// (whether or not this partition holds them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityOf {
    pub ids: Vec<EntityId>,
    pub keys: Vec<String>,
    pub events: EventsWanted,
    /// Event types of which every event is wanted (in `Activity::tracked`),
    /// for triggers.
    pub tracked: Vec<String>,
}

/// The activity of each of several local entities, for evaluating many
/// customers at once (a sweep, an export).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivitiesOf {
    pub ids: Vec<EntityId>,
    pub reads: Reads,
}

/// What of a record's activity a read opens besides its summaries: only
/// what the traits and segments in force look at, so a sweep does not
/// decrypt every event of every customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reads {
    /// Events besides summaries (None: none, but see the fields below).
    pub events: Option<EventsWanted>,
    /// Event types of which every event is wanted (in `Activity::tracked`),
    /// with the trigger settlements; opened only for records whose
    /// summaries show such an event.
    pub tracked: Vec<String>,
    /// Consent decisions.
    pub consents: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypeSummaries {
    pub etype: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetRecord {
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Features {
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityOfRecord {
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityById {
    pub id: EntityId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entities {
    pub ids: Vec<EntityId>,
}

/// A link to check from its partner's side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LinkCheck {
    /// The partner record (held by the checked partition).
    pub key: String,
    /// The partner's content hash when the link was found.
    pub hash: u64,
    /// The blocking keys the link was found under.
    pub keys: Vec<u64>,
}

/// For each check: whether it still holds (the record exists with that
/// hash and one of the keys is live here), as the record's entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckLinks {
    pub items: Vec<LinkCheck>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profiles {
    pub ids: Vec<EntityId>,
}

/// Entity ids > `after`, ascending, at most `limit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityIds {
    pub after: EntityId,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Search {
    pub query: Box<pb::Record>,
    pub limit: usize,
    pub min_probability: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assignments;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Links;

/// Pairs of this partition's local entities that a match edge joins
/// although its clustering kept them apart: a cluster-wide clustering
/// must see them together when links reach either.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bridges;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhyRecords {
    pub a: String,
    pub b: String,
}

/// Explains a local record against a record of another partition, given
/// that record's packed features.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhyForeign {
    pub local: String,
    pub foreign: String,
    pub feats: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhyEntity {
    pub key: String,
    pub entity: EntityId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct How {
    pub entity: EntityId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetStats;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reresolving;

/// Packed features of up to `limit` records, from slot `from` on (in slot
/// order, which is stable while the partition runs): a page of the
/// records training samples, so that no single read holds the partition
/// for long.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    pub from: u32,
    pub limit: usize,
}

/// A page of [`Sample`]: the records' packed features, and where the next
/// page starts (None: this was the last).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SamplePage {
    pub items: Vec<Vec<u8>>,
    pub next: Option<u32>,
}

/// Records with key > `after`, ascending, at most `limit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Records {
    pub after: String,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetModel;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyCounts {
    pub keys: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holders {
    pub keys: Vec<u64>,
}

// -------------------------------------------------------------- replies

/// What an applied record became at its home partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    pub outcome: Outcome,
    pub hash: u64,
    /// Demoted keys its previous version held and this one does not.
    pub released: Vec<u64>,
    /// The record's entity has cross-partition links or local bridges: its
    /// cluster-wide id may differ from its local one.
    pub linked: bool,
}

/// A record to probe other partitions with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeItem {
    /// Internal record key (source 0x1f record id).
    pub key: String,
    /// Packed features.
    pub feats: Vec<u8>,
    /// Content hash at its home partition.
    pub hash: u64,
    /// The record's home partition.
    pub home: u32,
}

/// A link found by a probe, from the probed record's side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    pub key: String,
    pub link: Link,
}

/// What a probe found.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Probed {
    pub found: Vec<Found>,
    pub evicted: Vec<String>,
    /// Partitions that ran the probe.
    pub probed: Vec<u32>,
    /// The probed records' blocking keys as counted by each partition
    /// (those held here or demoted here only).
    pub counts: Vec<(u32, KeyCount)>,
    /// Demoted keys that evicted records held.
    pub released: Vec<u64>,
    /// Events kept here for probed records homed elsewhere.
    pub moved: Vec<MovedActivity>,
}

impl Probed {
    /// Adds another partition's findings.
    pub fn absorb(&mut self, other: Probed) {
        self.found.extend(other.found);
        self.evicted.extend(other.evicted);
        self.probed.extend(other.probed);
        self.counts.extend(other.counts);
        self.released.extend(other.released);
        self.moved.extend(other.moved);
    }
}

/// A stored record, its local entity and what could not be standardised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRecord {
    pub record: Box<pb::Record>,
    pub entity: EntityId,
    pub issues: Vec<Issue>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordFeatures {
    pub feats: Vec<u8>,
    pub hash: u64,
}

/// A local entity as the cluster layer needs it to build a global one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntityView {
    pub entity: EntityId,
    /// Member record keys.
    pub members: Vec<String>,
    /// Links of the members whose own side is still valid.
    pub links: Vec<Found>,
    /// Members carrying strong evidence, for merge protection across
    /// partitions.
    pub evidence: Vec<Evidence>,
    /// Local match edges a cluster-wide clustering needs besides the
    /// links (`Engine::clustering_edges`): (member, other record, weight).
    pub edges: Vec<(String, String, f32)>,
    /// Other local entities those edges reach.
    pub bridged: Vec<EntityId>,
}

/// Strong evidence of one record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    pub key: String,
    /// Full date of birth (year, month, day).
    pub dob: Option<(u16, u8, u8)>,
    /// Strong identifiers (kind, value).
    pub strong: Vec<(String, String)>,
}

/// One row of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub entity: EntityId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartitionStats {
    pub stats: Stats,
    pub model_version: u64,
}

/// A [`NodeError`] as it crosses the wire: its gRPC code, message, and the
/// field and value it names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WireError {
    pub code: i32,
    pub message: String,
    pub field: String,
    pub value: String,
}

impl From<&NodeError> for WireError {
    fn from(e: &NodeError) -> Self {
        let (field, value) = e.field_value();
        WireError {
            code: e.code() as i32,
            message: e.to_string(),
            field,
            value,
        }
    }
}

impl From<WireError> for NodeError {
    fn from(w: WireError) -> Self {
        NodeError::Remote {
            code: w.code,
            message: w.message,
            field: w.field,
            value: w.value,
        }
    }
}

/// The reply of request `R` out of its envelope.
pub fn reply_of<R: PartitionRequest>(reply: OpReply) -> Result<R::Reply, NodeError> {
    R::unwrap(reply).map_err(mismatched::<R>)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_comes_back_out_of_its_envelope_only_for_its_own_request() {
        let reply = Identity::wrap(vec![3, 5]);
        assert_eq!(reply.kind(), "Identity");
        assert_eq!(reply_of::<Identity>(reply.clone()).unwrap(), vec![3, 5]);
        let err = reply_of::<Delete>(reply).unwrap_err();
        assert!(
            err.to_string()
                .contains("a Identity reply to a Delete request"),
            "{err}"
        );
    }

    #[test]
    fn only_commands_are_writes() {
        let write = Delete {
            at_ms: 1,
            key: "k".into(),
        }
        .into_op();
        let read = GetRecord { key: "k".into() }.into_op();
        assert!(write.is_write());
        assert!(!read.is_write());
        assert!(PutLinks { items: vec![] }.into_op().is_write());
        assert!(!GetStats.into_op().is_write());
    }
}
