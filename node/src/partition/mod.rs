//! A partition: the matching actor that owns one engine and its store.
//!
//! The engine is single-threaded and its storage is synchronous, so the
//! actor runs on its own OS thread and takes [`Command`]s from a bounded
//! mailbox: senders wait when it is full (backpressure, never an unbounded
//! queue). Writes are group-committed: a batch of upserts is flushed to
//! RocksDB once, before any of its results is sent back.
//!
//! - [`request`]: what can be asked of a partition, one type per request
//!   with its own reply type.
//! - `actor`: the mailbox loop and the dispatch of each request to its
//!   handler; `commands` (state changes) and `queries` (reads) hold the
//!   handlers, `activity` those of events, `segments` those of segment
//!   membership and the change feed, `triggers` those of trigger timers
//!   and firings.
//!
//! A node runs one actor per partition it owns; the cluster layer sends the
//! same requests to local partitions directly and to remote ones over the
//! internal service.

mod activity;
mod actor;
mod commands;
mod queries;
pub mod request;
mod segments;
mod triggers;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::engine::profile::Survivorship;
use crate::engine::{EngineConfig, EntityId, Model};
use crate::error::NodeError;
use crate::observe::{metrics, PartitionProbe};
use crate::storage::StoreOptions;

use request::{reply_of, Op, OpReply, PartitionRequest};

type Reply<T> = oneshot::Sender<Result<T, NodeError>>;

/// A message to the partition actor.
pub enum Command {
    /// A request (see [`request`]), answered in its envelope; `queued` is
    /// when it was sent (for the mailbox wait metric only).
    Request {
        op: Op,
        reply: Reply<OpReply>,
        queued: Instant,
        /// The caller's span: what the actor logs while handling it
        /// carries the call's request id.
        span: tracing::Span,
    },
    /// Publishes the census the metrics show if anything changed since the
    /// last one (sent by a scrape; dropped when the mailbox is full).
    Census,
    /// Nothing: wakes an idle actor to serve the queries waiting.
    Wake,
    /// Writes a consistent copy of the partition's store into a new directory.
    Checkpoint { dir: PathBuf, reply: Reply<()> },
    /// Holds (true) or releases writes: while held, write requests are
    /// refused as ABORTED, which coordinators retry. Every write queued
    /// before the fence is applied first (the mailbox is ordered).
    Fence { on: bool, reply: Reply<()> },
}

/// A cheap, cloneable handle to a running partition.
#[derive(Clone)]
pub struct PartitionHandle {
    tx: mpsc::Sender<Command>,
    /// Queries, served before the next command of `tx` (see
    /// `Actor::run`).
    reads: mpsc::Sender<Command>,
    pub partition: u32,
    /// What the partition shares with the metrics.
    pub probe: Arc<PartitionProbe>,
}

/// What a partition needs to open.
#[derive(Debug, Clone)]
pub struct PartitionConfig {
    pub data_dir: PathBuf,
    pub engine: EngineConfig,
    pub survivorship: Survivorship,
    pub store: StoreOptions,
    /// A model to use instead of the stored one.
    pub model: Option<Model>,
    pub mailbox: usize,
    /// This partition's number, and how many the cluster has: entity ids
    /// are allocated from the partition's own id space.
    pub partition: u32,
    pub partitions: u32,
    /// Work per step when re-resolving under a new model (records plus
    /// comparisons, `Engine::reresolve_step`): each step is one bounded
    /// piece of work between two requests.
    pub reresolve_budget: usize,
}

/// The default [`PartitionConfig::reresolve_budget`]: a few milliseconds
/// of work per step.
pub const RERESOLVE_BUDGET: usize = 768;

/// The partition an entity id belongs to.
pub fn partition_of_entity(id: EntityId, partitions: u32) -> u32 {
    (id.saturating_sub(1) % u64::from(partitions.max(1))) as u32
}

impl PartitionHandle {
    /// Opens the store, restores the engine and starts the actor thread.
    /// Blocking: call from a blocking context.
    pub fn open(cfg: PartitionConfig) -> Result<(PartitionHandle, JoinHandle<()>), NodeError> {
        let partition = cfg.partition;
        let (tx, rx) = mpsc::channel::<Command>(cfg.mailbox.max(1));
        let (reads, reads_rx) = mpsc::channel::<Command>(cfg.mailbox.max(1));
        let probe = metrics().partition(partition);
        let actor = actor::Actor::open(&cfg, probe.clone())?;
        let join = std::thread::Builder::new()
            .name(format!("kindred-p{partition}"))
            .spawn(move || actor.run(rx, reads_rx))
            .map_err(|e| NodeError::Unavailable(format!("cannot start partition thread: {e}")))?;
        Ok((
            PartitionHandle {
                tx,
                reads,
                partition,
                probe,
            },
            join,
        ))
    }

    /// Sends a request and waits for its reply.
    pub async fn call<R: PartitionRequest>(&self, req: R) -> Result<R::Reply, NodeError> {
        reply_of::<R>(self.request(req.into_op()).await?)
    }

    /// Sends a request in its envelope (as received from another node).
    ///
    /// A query does not wait behind the commands queued before it: it is
    /// answered before the actor's next command, from the state the
    /// commands applied so far left (a caller that waited for its write
    /// sees it).
    pub async fn request(&self, op: Op) -> Result<OpReply, NodeError> {
        let (tx, rx) = oneshot::channel();
        let query = !op.is_write();
        let cmd = Command::Request {
            op,
            reply: tx,
            queued: Instant::now(),
            span: tracing::Span::current(),
        };
        if query {
            self.reads.send(cmd).await.map_err(|_| stopping())?;
            // An idle actor waits on the command mailbox; a busy one looks
            // at the queries before its next command anyway.
            let _ = self.tx.try_send(Command::Wake);
        } else {
            self.send(cmd).await?;
        }
        answer(rx).await
    }

    /// Writes a consistent copy of the store into `dir`.
    pub async fn checkpoint(&self, dir: PathBuf) -> Result<(), NodeError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Checkpoint { dir, reply: tx }).await?;
        answer(rx).await
    }

    /// Holds or releases writes (see [`Command::Fence`]).
    pub async fn fence(&self, on: bool) -> Result<(), NodeError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Fence { on, reply: tx }).await?;
        answer(rx).await
    }

    /// Asks for a fresh census, for the next scrape; never waits.
    pub fn refresh_census(&self) {
        let _ = self.tx.try_send(Command::Census);
    }

    /// Commands waiting in the mailbox.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    async fn send(&self, cmd: Command) -> Result<(), NodeError> {
        self.tx.send(cmd).await.map_err(|_| stopping())
    }
}

fn stopping() -> NodeError {
    NodeError::Unavailable("partition is shutting down".into())
}

async fn answer<T>(rx: oneshot::Receiver<Result<T, NodeError>>) -> Result<T, NodeError> {
    rx.await
        .map_err(|_| NodeError::Unavailable("partition stopped before answering".into()))?
}

#[cfg(test)]
mod tests;
