//! Tests of the import pipeline against fake bulk-upsert sinks.

use std::sync::{Arc, Mutex};

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use kindred_proto::v1::{
    bulk_item_result::Outcome, Action, BulkItemResult, BulkUpsertRequest, BulkUpsertResponse,
    Record, RecordError, RecordRef, ResolveResult,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::*;

type Results = BoxStream<'static, Result<BulkUpsertResponse, Status>>;

fn record(id: &str) -> Record {
    Record {
        source: "s".into(),
        record_id: id.into(),
        ..Record::default()
    }
}

fn rec_row(line: u64, id: &str) -> Result<Row, ClientError> {
    Ok(Row::Item {
        line,
        item: record(id),
    })
}

fn reject_row(line: u64) -> Result<Row, ClientError> {
    Ok(Row::Reject(Reject::new(line, "record_id", "", "empty")))
}

fn rows(v: Vec<Result<Row, ClientError>>) -> Rows {
    Box::new(v.into_iter())
}

/// A server that answers each batch in order: ids starting with `bad` get
/// an error; `merge*` merges, `join*` joins, `re*` replaces, others create.
/// Records the size of every batch it receives.
fn fake_server(
    batches: Arc<Mutex<Vec<usize>>>,
) -> impl FnOnce(ReceiverStream<BulkUpsertRequest>) -> futures::future::Ready<Result<Results, ClientError>>
{
    move |reqs| {
        let mut index = 0u64;
        let results = reqs
            .map(move |req: BulkUpsertRequest| {
                batches.lock().unwrap().push(req.records.len());
                let results = req
                    .records
                    .into_iter()
                    .map(|r| {
                        let item = answer(index, &r);
                        index += 1;
                        item
                    })
                    .collect();
                Ok(BulkUpsertResponse { results })
            })
            .boxed();
        futures::future::ready(Ok(results))
    }
}

fn answer(index: u64, r: &Record) -> BulkItemResult {
    let rref = RecordRef {
        source: r.source.clone(),
        record_id: r.record_id.clone(),
    };
    let id = r.record_id.as_str();
    let outcome = if id.starts_with("bad") {
        Outcome::Error(RecordError {
            record: Some(rref),
            code: 3,
            field: "email".into(),
            value: "x@".into(),
            message: "email \"x@\" is not an email address".into(),
        })
    } else {
        let action = if id.starts_with("merge") {
            Action::Merged
        } else if id.starts_with("join") {
            Action::Joined
        } else {
            Action::Created
        };
        Outcome::Ok(ResolveResult {
            record: Some(rref),
            entity_id: index + 1,
            action: action as i32,
            absorbed: if action == Action::Merged {
                vec![100, 101]
            } else {
                vec![]
            },
            replaced: id.starts_with("re"),
            ..ResolveResult::default()
        })
    };
    BulkItemResult {
        index,
        outcome: Some(outcome),
    }
}

fn opts(batch_size: usize) -> ImportOptions {
    ImportOptions {
        batch_size,
        queue_batches: 1,
    }
}

#[tokio::test]
async fn records_go_in_batches_of_the_batch_size() {
    let batches = Arc::default();
    let input = (0..7).map(|i| rec_row(i + 2, &format!("r{i}"))).collect();
    let report = run_import(
        rows(input),
        &opts(3),
        ProgressBar::hidden(),
        fake_server(Arc::clone(&batches)),
    )
    .await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert_eq!(*batches.lock().unwrap(), vec![3, 3, 1]);
    let s = &report.summary;
    assert_eq!((s.records_read, s.accepted, s.rejected), (7, 7, 0));
    assert_eq!(s.entities_created, 7);
    assert!(report.rejects.is_empty());
}

#[tokio::test]
async fn local_and_server_rejects_are_counted_by_line_without_aborting() {
    let batches = Arc::default();
    let input = vec![
        rec_row(2, "a"),
        reject_row(3),
        rec_row(4, "bad-1"),
        rec_row(5, "join-1"),
        reject_row(6),
        rec_row(8, "merge-1"),
        rec_row(9, "bad-2"),
        rec_row(10, "re-1"),
    ];
    let report = run_import(
        rows(input),
        &opts(2),
        ProgressBar::hidden(),
        fake_server(Arc::clone(&batches)),
    )
    .await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    // Locally rejected rows never reach the server.
    assert_eq!(*batches.lock().unwrap(), vec![2, 2, 2]);
    let s = &report.summary;
    assert_eq!(s.records_read, 8);
    assert_eq!(s.accepted, 4);
    assert_eq!(s.rejected, 4);
    assert_eq!(s.entities_created, 2);
    assert_eq!(s.joined, 1);
    assert_eq!(s.merged, 1);
    assert_eq!(s.entities_absorbed, 2);
    assert_eq!(s.records_replaced, 1);
    let lines: Vec<u64> = report.rejects.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 6, 9]);
    let server = &report.rejects[1];
    assert_eq!(server.field, "email");
    assert_eq!(server.value, "x@");
    assert_eq!(
        server.to_string(),
        "line 4: email: email \"x@\" is not an email address"
    );
}

#[tokio::test]
async fn a_stream_error_stops_the_import_with_a_partial_report() {
    let input = (0..50).map(|i| rec_row(i + 2, &format!("r{i}"))).collect();
    let sink = |reqs: ReceiverStream<BulkUpsertRequest>| {
        let mut index = 0u64;
        let first = reqs.take(1).map(move |req| {
            let results = req
                .records
                .iter()
                .map(|r| {
                    index += 1;
                    answer(index - 1, r)
                })
                .collect();
            Ok(BulkUpsertResponse { results })
        });
        let failed = stream::iter(vec![Err(Status::unavailable("node shutting down"))]);
        futures::future::ready(Ok::<Results, ClientError>(first.chain(failed).boxed()))
    };
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        run_import(rows(input), &opts(5), ProgressBar::hidden(), sink),
    )
    .await
    .expect("the import must not hang");
    let failure = report.failure.expect("a failure");
    assert_eq!(failure.exit_code(), 1);
    assert!(
        failure
            .to_string()
            .contains("UNAVAILABLE: node shutting down"),
        "{failure}"
    );
    assert_eq!(report.summary.accepted, 5);
}

#[tokio::test]
async fn a_sink_that_fails_to_open_is_reported() {
    let input = (0..100).map(|i| rec_row(i + 2, &format!("r{i}"))).collect();
    let sink = |_reqs: ReceiverStream<BulkUpsertRequest>| {
        futures::future::ready(Err::<Results, _>(ClientError::Status {
            code: tonic::Code::InvalidArgument,
            message: "source: \"\" is empty".into(),
        }))
    };
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        run_import(rows(input), &opts(3), ProgressBar::hidden(), sink),
    )
    .await
    .expect("the import must not hang");
    assert_eq!(report.failure.map(|f| f.exit_code()), Some(2));
    assert_eq!(report.summary.accepted, 0);
}

#[tokio::test]
async fn a_server_that_stops_answering_early_is_a_failure() {
    let input = (0..10).map(|i| rec_row(i + 2, &format!("r{i}"))).collect();
    let sink = |reqs: ReceiverStream<BulkUpsertRequest>| {
        let results = reqs
            .take(1)
            .map(|req| {
                let results = req
                    .records
                    .iter()
                    .enumerate()
                    .map(|(i, r)| answer(i as u64, r))
                    .collect();
                Ok(BulkUpsertResponse { results })
            })
            .boxed();
        futures::future::ready(Ok::<Results, ClientError>(results))
    };
    let report = run_import(rows(input), &opts(4), ProgressBar::hidden(), sink).await;
    let failure = report.failure.expect("a failure");
    assert!(
        failure.to_string().contains("after answering 4 of"),
        "{failure}"
    );
    assert_eq!(failure.exit_code(), 1);
}

#[tokio::test]
async fn an_unreadable_input_stops_the_import() {
    let batches = Arc::default();
    let input = vec![
        rec_row(2, "a"),
        Err(ClientError::InvalidInput(
            "cannot read the input: disk".into(),
        )),
        rec_row(4, "never"),
    ];
    let report = run_import(
        rows(input),
        &opts(10),
        ProgressBar::hidden(),
        fake_server(Arc::clone(&batches)),
    )
    .await;
    assert_eq!(report.failure.map(|f| f.exit_code()), Some(2));
    assert_eq!(report.summary.records_read, 1);
}

#[tokio::test]
async fn csv_input_end_to_end_through_the_pipeline() {
    let mapping = kindred_proto::mapping::Mapping::from_toml(
        "record_id = \"id\"\n[fields]\nemail = \"email\"\n",
    )
    .unwrap();
    let data = "id, email\n1, a@x.com\n, nobody@x.com\n3, bad\nbad-4, b@x.com\n5, c@x.com\n";
    let input = open_rows(data.as_bytes(), InputFormat::Csv, mapping, "crm").unwrap();
    let batches = Arc::default();
    let report = run_import(
        input,
        &opts(2),
        ProgressBar::hidden(),
        fake_server(Arc::clone(&batches)),
    )
    .await;
    assert!(report.failure.is_none());
    assert_eq!(report.summary.records_read, 5);
    assert_eq!(report.summary.accepted, 3);
    let rejected: Vec<String> = report.rejects.iter().map(|r| r.to_string()).collect();
    assert_eq!(rejected.len(), 2);
    assert!(
        rejected[0].starts_with("line 3: record_id: "),
        "{rejected:?}"
    );
    assert!(rejected[1].starts_with("line 5: email: "), "{rejected:?}");
}
