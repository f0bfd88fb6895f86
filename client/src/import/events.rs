//! Bulk import of events: the same reader thread as records (rows mapped
//! by an [`kindred_proto::event_mapping::EventMapping`], sent in batches),
//! through a bulk-send sink, with every rejected row reported by line.

use std::future::Future;
use std::time::Instant;

use futures::Stream;
use indicatif::ProgressBar;
use kindred_proto::v1::bulk_event_result::Outcome;
use kindred_proto::v1::{BulkSendRequest, BulkSendResponse, Event};
use serde::Serialize;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{conclude, drain, ImportOptions, Reading, Reject, Rows};
use crate::error::code_number_name;
use crate::ClientError;

/// Counts of an events import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventImportSummary {
    /// Data rows read from the input (header excluded).
    pub events_read: u64,
    /// Events stored (new ones).
    pub stored: u64,
    /// Events the server had already (resent): stored once.
    pub duplicates: u64,
    /// Rows rejected, locally or by the server.
    pub rejected: u64,
    /// Records created or completed from events' identifying fields.
    pub records_written: u64,
    /// Events whose record is not known yet (kept until it arrives).
    pub awaiting_record: u64,
    pub elapsed_seconds: f64,
    pub events_per_second: f64,
}

/// The outcome of an events import.
#[derive(Debug, Clone, Default)]
pub struct EventImportReport {
    pub summary: EventImportSummary,
    pub rejects: Vec<Reject>,
    pub failure: Option<ClientError>,
}

/// Imports `rows` through `sink` (as [`crate::Client::bulk_send`] does).
/// Must run inside a Tokio runtime.
pub async fn run_event_import<S, Fut, R>(
    rows: Rows<Event>,
    options: &ImportOptions,
    progress: ProgressBar,
    sink: S,
) -> EventImportReport
where
    S: FnOnce(ReceiverStream<BulkSendRequest>) -> Fut,
    Fut: Future<Output = Result<R, ClientError>>,
    R: Stream<Item = Result<BulkSendResponse, Status>> + Unpin,
{
    let started = Instant::now();
    let reading = Reading::start(rows, options, progress.clone(), |events| BulkSendRequest {
        events,
    });
    let lines = reading.lines.clone();
    let mut report = EventImportReport::default();
    let mut received = 0u64;
    match sink(ReceiverStream::new(reading.batches)).await {
        Err(e) => report.failure = Some(e),
        Ok(results) => {
            let items = |r: BulkSendResponse| {
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
    let outcome = conclude(reading.cancel, reading.done, received, &mut report.failure).await;
    let s = &mut report.summary;
    s.events_read = outcome.rows_read;
    s.rejected += outcome.rejects.len() as u64;
    report.rejects.extend(outcome.rejects);
    report.rejects.sort_by_key(|r| r.line);
    s.elapsed_seconds = started.elapsed().as_secs_f64();
    s.events_per_second = if s.elapsed_seconds > 0.0 {
        s.events_read as f64 / s.elapsed_seconds
    } else {
        0.0
    };
    report
}

fn tally(report: &mut EventImportReport, line: u64, outcome: Option<Outcome>) {
    let s = &mut report.summary;
    match outcome {
        Some(Outcome::Ok(r)) => {
            if r.duplicate {
                s.duplicates += 1;
            } else {
                s.stored += 1;
            }
            s.records_written += u64::from(r.record_written);
            s.awaiting_record += u64::from(r.entity_id == 0);
        }
        Some(Outcome::Error(e)) => {
            s.rejected += 1;
            let field = if e.field.is_empty() {
                "(event)"
            } else {
                &e.field
            };
            let reason = match (e.code, e.message.is_empty()) {
                (0 | 3, false) => e.message.clone(),
                (code, false) => format!("{}: {}", code_number_name(code), e.message),
                (code, true) => code_number_name(code),
            };
            report
                .rejects
                .push(Reject::new(line, field, &e.value, &reason));
        }
        None => {
            s.rejected += 1;
            report.rejects.push(Reject::new(
                line,
                "(event)",
                "",
                "the server gave no outcome for this event",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use kindred_proto::v1::{BulkEventResult, EventError, EventResult};

    fn row(line: u64, id: &str) -> Result<super::super::Row<Event>, ClientError> {
        Ok(super::super::Row::Item {
            line,
            item: Event {
                source: "shop".into(),
                record_id: "c1".into(),
                event_id: id.into(),
                ..Event::default()
            },
        })
    }

    /// A fake server: event ids starting with "bad" are rejected, "dup"
    /// are duplicates.
    async fn fake(
        batches: ReceiverStream<BulkSendRequest>,
    ) -> Result<impl Stream<Item = Result<BulkSendResponse, Status>> + Unpin, ClientError> {
        let mut index = 0u64;
        Ok(Box::pin(batches.map(move |b| {
            let results = b
                .events
                .into_iter()
                .map(|e| {
                    let i = index;
                    index += 1;
                    let outcome = if e.event_id.starts_with("bad") {
                        Outcome::Error(EventError {
                            code: 3,
                            field: "type".into(),
                            message: "type is required".into(),
                            ..EventError::default()
                        })
                    } else {
                        Outcome::Ok(EventResult {
                            duplicate: e.event_id.starts_with("dup"),
                            entity_id: 7,
                            ..EventResult::default()
                        })
                    };
                    BulkEventResult {
                        index: i,
                        outcome: Some(outcome),
                    }
                })
                .collect();
            Ok(BulkSendResponse { results })
        })))
    }

    #[tokio::test]
    async fn rejected_rows_are_reported_by_line_and_the_rest_lands() {
        let rows: Rows<Event> = Box::new(
            vec![
                row(2, "e1"),
                row(3, "bad-1"),
                Ok(super::super::Row::Reject(Reject::new(
                    4,
                    "occurred_at",
                    "",
                    "empty",
                ))),
                row(5, "dup-1"),
                row(6, "e2"),
            ]
            .into_iter(),
        );
        let options = ImportOptions {
            batch_size: 2,
            queue_batches: 2,
        };
        let report = run_event_import(rows, &options, ProgressBar::hidden(), fake).await;
        assert!(report.failure.is_none(), "{:?}", report.failure);
        let s = &report.summary;
        assert_eq!(
            (s.events_read, s.stored, s.duplicates, s.rejected),
            (5, 2, 1, 2)
        );
        let lines: Vec<(u64, &str)> = report
            .rejects
            .iter()
            .map(|r| (r.line, r.field.as_str()))
            .collect();
        assert_eq!(lines, vec![(3, "type"), (4, "occurred_at")]);
    }
}
