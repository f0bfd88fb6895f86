//! Bulk import: reads rows (see [`reader`]), streams the records in
//! batches through a bulk-upsert sink and tallies the results.
//!
//! A background thread reads and maps the input and sends one
//! `BulkUpsertRequest` per batch; the calling task reads the results. The
//! stream index of every record sent is mapped to its input line, so both
//! rows rejected locally (unreadable or unmappable) and rows the server
//! rejects are reported by line. Bad rows never stop an import; only a
//! failed stream (or unreadable input) does, and then the report carries
//! the failure together with what was done until then.
//!
//! The sink is injected: [`crate::Client::bulk_upsert`] in the CLI, a fake
//! in tests.

pub mod events;
pub mod framing;
pub mod reader;
mod rejects;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use indicatif::ProgressBar;
use kindred_proto::v1::bulk_item_result::Outcome;
use kindred_proto::v1::{Action, BulkUpsertRequest, BulkUpsertResponse, RecordError};
use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

pub use reader::{open_rows, InputFormat, Row, RowMapper, Rows};
pub use rejects::{default_rejects_path, write_rejects, Reject};

use crate::error::code_number_name;
use crate::ClientError;

/// Import settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Records per `BulkUpsertRequest`.
    pub batch_size: usize,
    /// Batches read ahead of the server.
    pub queue_batches: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            batch_size: 500,
            queue_batches: 4,
        }
    }
}

/// Counts of an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// Data rows read from the input (header excluded).
    pub records_read: u64,
    /// Records the server resolved.
    pub accepted: u64,
    /// Rows rejected, locally or by the server.
    pub rejected: u64,
    /// Records that started a new entity.
    pub entities_created: u64,
    /// Records that joined an existing entity.
    pub joined: u64,
    /// Records that linked several entities, which merged.
    pub merged: u64,
    /// Entities merged away into others.
    pub entities_absorbed: u64,
    /// Records that existed and were replaced.
    pub records_replaced: u64,
    /// Values the server could not standardise (kept raw).
    pub standardization_issues: u64,
    /// Wall-clock time of the import.
    pub elapsed_seconds: f64,
    /// Rows read per second.
    pub records_per_second: f64,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// The counts.
    pub summary: ImportSummary,
    /// Every rejected row, by line.
    pub rejects: Vec<Reject>,
    /// Why the import stopped early, if it did.
    pub failure: Option<ClientError>,
}

/// What the reader thread did.
#[derive(Debug, Default)]
pub(crate) struct ReaderOutcome {
    rows_read: u64,
    sent: u64,
    rejects: Vec<Reject>,
    error: Option<ClientError>,
    /// Every row was read and every batch handed to the stream.
    finished: bool,
}

/// Imports `rows` through `sink`: `sink` gets the stream of batches and
/// returns the stream of results (as [`crate::Client::bulk_upsert`] does).
/// `progress` advances by one per row done. Must run inside a Tokio
/// runtime (the reader thread hands batches over through it).
pub async fn run_import<S, Fut, R>(
    rows: Rows,
    options: &ImportOptions,
    progress: ProgressBar,
    sink: S,
) -> ImportReport
where
    S: FnOnce(ReceiverStream<BulkUpsertRequest>) -> Fut,
    Fut: Future<Output = Result<R, ClientError>>,
    R: Stream<Item = Result<BulkUpsertResponse, Status>> + Unpin,
{
    let started = Instant::now();
    let reading = Reading::start(rows, options, progress.clone(), |records| {
        BulkUpsertRequest { records }
    });
    let (batch_rx, lines) = (reading.batches, reading.lines.clone());
    let (cancel_tx, done_rx) = (reading.cancel, reading.done);

    let mut report = ImportReport::default();
    let mut received = 0u64;
    match sink(ReceiverStream::new(batch_rx)).await {
        Err(e) => report.failure = Some(e),
        Ok(results) => {
            let items = |r: BulkUpsertResponse| {
                r.results
                    .into_iter()
                    .map(|i| (i.index, i.outcome))
                    .collect()
            };
            let tallied = |line, o| tally(&mut report, line, o);
            let (n, failure) = drain(results, &lines, &progress, items, tallied).await;
            (received, report.failure) = (n, failure);
        }
    }

    let outcome = conclude(cancel_tx, done_rx, received, &mut report.failure).await;
    let s = &mut report.summary;
    s.records_read = outcome.rows_read;
    s.rejected += outcome.rejects.len() as u64;
    report.rejects.extend(outcome.rejects);
    report.rejects.sort_by_key(|r| r.line);
    s.elapsed_seconds = started.elapsed().as_secs_f64();
    s.records_per_second = if s.elapsed_seconds > 0.0 {
        s.records_read as f64 / s.elapsed_seconds
    } else {
        0.0
    };
    report
}

/// Reads the per-batch results of a bulk stream until it ends or fails:
/// each item's outcome goes to `tally` with the input line it came from.
/// Returns how many results arrived, and the stream's failure if any.
pub(crate) async fn drain<T, O>(
    mut results: impl Stream<Item = Result<T, Status>> + Unpin,
    lines: &Mutex<HashMap<u64, u64>>,
    progress: &ProgressBar,
    items: impl Fn(T) -> Vec<(u64, O)>,
    mut tally: impl FnMut(u64, O),
) -> (u64, Option<ClientError>) {
    let mut received = 0u64;
    while let Some(msg) = results.next().await {
        match msg {
            Ok(resp) => {
                for (index, outcome) in items(resp) {
                    received += 1;
                    let line = lock(lines).remove(&index).unwrap_or(0);
                    tally(line, outcome);
                    progress.inc(1);
                }
            }
            Err(status) => return (received, Some(stream_failure(status, received))),
        }
    }
    (received, None)
}

/// Stops the reader (if the stream ended early) and collects what it did;
/// a failure is recorded when items it sent went unanswered.
pub(crate) async fn conclude(
    cancel: watch::Sender<bool>,
    done: oneshot::Receiver<ReaderOutcome>,
    received: u64,
    failure: &mut Option<ClientError>,
) -> ReaderOutcome {
    cancel.send_replace(true);
    let mut outcome = match tokio::time::timeout(Duration::from_secs(30), done).await {
        Ok(Ok(outcome)) => outcome,
        _ => ReaderOutcome {
            error: Some(ClientError::InvalidInput(
                "the input reader did not finish".into(),
            )),
            ..ReaderOutcome::default()
        },
    };
    if failure.is_none() {
        if let Some(e) = outcome.error.take() {
            *failure = Some(e);
        } else if received < outcome.sent || !outcome.finished {
            *failure = Some(ClientError::Status {
                code: Code::Internal,
                message: format!(
                    "the server ended the stream after answering {received} of {} rows read",
                    outcome.rows_read - outcome.rejects.len() as u64
                ),
            });
        }
    }
    outcome
}

/// A reader thread started on an input: the batches it sends, its map
/// of stream index to input line, its cancel switch and its outcome.
pub(crate) struct Reading<Q> {
    pub batches: mpsc::Receiver<Q>,
    pub lines: Arc<Mutex<HashMap<u64, u64>>>,
    pub cancel: watch::Sender<bool>,
    pub done: oneshot::Receiver<ReaderOutcome>,
}

impl<Q: Send + 'static> Reading<Q> {
    /// Starts a thread that reads and maps `rows` and sends one request
    /// (built by `make`) per batch. Must run inside a Tokio runtime.
    pub fn start<T: Send + 'static>(
        rows: Rows<T>,
        options: &ImportOptions,
        progress: ProgressBar,
        make: fn(Vec<T>) -> Q,
    ) -> Reading<Q> {
        let (batch_tx, batches) = mpsc::channel(options.queue_batches.max(1));
        let (done_tx, done) = oneshot::channel();
        let lines: Arc<Mutex<HashMap<u64, u64>>> = Arc::default();
        let (cancel, cancel_rx) = watch::channel(false);
        let reader = BatchReader {
            batch_size: options.batch_size.max(1),
            tx: batch_tx,
            lines: Arc::clone(&lines),
            cancel: cancel_rx,
            progress,
            runtime: Handle::current(),
            make,
        };
        std::thread::spawn(move || {
            let _ = done_tx.send(reader.run(rows));
        });
        Reading {
            batches,
            lines,
            cancel,
            done,
        }
    }
}

/// The reader thread's state.
struct BatchReader<T, Q> {
    batch_size: usize,
    tx: mpsc::Sender<Q>,
    /// Stream index → input line, for items not answered yet.
    lines: Arc<Mutex<HashMap<u64, u64>>>,
    cancel: watch::Receiver<bool>,
    progress: ProgressBar,
    runtime: Handle,
    /// Builds the request of a batch.
    make: fn(Vec<T>) -> Q,
}

impl<T, Q> BatchReader<T, Q> {
    /// Maps rows, records index → line, sends full batches; stops when
    /// cancelled or when the stream is gone.
    fn run(mut self, rows: Rows<T>) -> ReaderOutcome {
        let mut out = ReaderOutcome::default();
        let mut batch = Vec::with_capacity(self.batch_size);
        let mut batch_lines = Vec::with_capacity(self.batch_size);
        for row in rows {
            if *self.cancel.borrow() {
                return out;
            }
            match row {
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
                Ok(Row::Reject(r)) => {
                    out.rows_read += 1;
                    out.rejects.push(r);
                    self.progress.inc(1);
                }
                Ok(Row::Item { line, item }) => {
                    out.rows_read += 1;
                    batch.push(item);
                    batch_lines.push(line);
                    if batch.len() >= self.batch_size
                        && !self.send(&mut batch, &mut batch_lines, &mut out.sent)
                    {
                        return out;
                    }
                }
            }
        }
        out.finished = batch.is_empty() || self.send(&mut batch, &mut batch_lines, &mut out.sent);
        out
    }

    /// Sends one batch; false if the stream is gone or the import cancelled.
    fn send(&mut self, batch: &mut Vec<T>, batch_lines: &mut Vec<u64>, sent: &mut u64) -> bool {
        {
            let mut map = lock(&self.lines);
            for line in batch_lines.drain(..) {
                map.insert(*sent, line);
                *sent += 1;
            }
        }
        let req = (self.make)(std::mem::take(batch));
        let (tx, cancel) = (&self.tx, &mut self.cancel);
        self.runtime.block_on(async move {
            tokio::select! {
                r = tx.send(req) => r.is_ok(),
                _ = cancel.wait_for(|c| *c) => false,
            }
        })
    }
}

/// Adds one server result to the report.
fn tally(report: &mut ImportReport, line: u64, outcome: Option<Outcome>) {
    let s = &mut report.summary;
    match outcome {
        Some(Outcome::Ok(r)) => {
            s.accepted += 1;
            match Action::try_from(r.action) {
                Ok(Action::Created) => s.entities_created += 1,
                Ok(Action::Joined) => s.joined += 1,
                Ok(Action::Merged) => s.merged += 1,
                _ => {}
            }
            s.entities_absorbed += r.absorbed.len() as u64;
            s.records_replaced += u64::from(r.replaced);
            s.standardization_issues += r.issues.len() as u64;
        }
        Some(Outcome::Error(e)) => {
            s.rejected += 1;
            report.rejects.push(server_reject(line, &e));
        }
        None => {
            s.rejected += 1;
            report.rejects.push(Reject::new(
                line,
                "(record)",
                "",
                "the server gave no outcome for this record",
            ));
        }
    }
}

/// A reject from a server-side record error.
fn server_reject(line: u64, e: &RecordError) -> Reject {
    let field = if e.field.is_empty() {
        "(record)"
    } else {
        &e.field
    };
    let reason = match (e.code, e.message.is_empty()) {
        (0 | 3, false) => e.message.clone(),
        (code, false) => format!("{}: {}", code_number_name(code), e.message),
        (code, true) => code_number_name(code),
    };
    Reject::new(line, field, &e.value, &reason)
}

/// The failure for a stream that ended with an error status.
fn stream_failure(status: Status, received: u64) -> ClientError {
    match ClientError::from(status) {
        ClientError::Status { code, message } => ClientError::Status {
            code,
            message: format!("{message} (the stream failed after {received} results)"),
        },
        other => other,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
