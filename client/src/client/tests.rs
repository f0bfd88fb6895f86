//! Tests of [`Client`] against in-process mock servers: failover, status
//! mapping, deadlines, and a bulk import over a real gRPC stream.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use indicatif::ProgressBar;
use kindred_proto::v1::admin_server::{Admin, AdminServer};
use kindred_proto::v1::bulk_item_result::Outcome;
use kindred_proto::v1::cluster_server::{Cluster, ClusterServer};
use kindred_proto::v1::records_server::{Records, RecordsServer};
use kindred_proto::v1::{
    Action, AddNodeRequest, AuditEntry, BulkItemResult, BulkUpsertRequest, BulkUpsertResponse,
    ClusterChange, ClusterStatus, ClusterStatusRequest, DeleteRequest, DeleteResponse,
    GetModelRequest, GetRecordRequest, GetRecordResponse, ListAuditRequest, ListAuditResponse,
    ModelResponse, MovePartitionRequest, RebalanceRequest, Record, RecordError, RemoveNodeRequest,
    ResolveResult, StatsRequest, StatsResponse, TrainRequest, TrainResponse, UpsertRequest,
    UpsertResponse,
};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Code, Request, Response, Status};

use super::*;
use crate::import::{self, ImportOptions, Row};

/// A mock node: `stats` answers `records = id` (or fails with `fail`),
/// `get_model` sleeps first, records are echoed.
#[derive(Clone)]
struct Mock {
    id: u64,
    fail: Option<Code>,
    calls: Arc<AtomicUsize>,
    model_delay: Duration,
}

impl Mock {
    fn new(id: u64) -> Self {
        Mock {
            id,
            fail: None,
            calls: Arc::default(),
            model_delay: Duration::ZERO,
        }
    }
}

#[tonic::async_trait]
impl Admin for Mock {
    async fn stats(&self, _: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(code) = self.fail {
            return Err(Status::new(code, format!("mock {} failed", self.id)));
        }
        Ok(Response::new(StatsResponse {
            records: self.id,
            ..StatsResponse::default()
        }))
    }

    async fn train(&self, _: Request<TrainRequest>) -> Result<Response<TrainResponse>, Status> {
        Err(Status::unimplemented("train"))
    }

    /// Echoes the caller's authorization header as the entry's caller.
    async fn list_audit(
        &self,
        req: Request<ListAuditRequest>,
    ) -> Result<Response<ListAuditResponse>, Status> {
        let auth = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok(Response::new(ListAuditResponse {
            entries: vec![AuditEntry {
                caller: auth,
                at_ms: req.get_ref().since_ms,
                ..AuditEntry::default()
            }],
            unreachable: vec![],
        }))
    }

    async fn get_model(
        &self,
        _: Request<GetModelRequest>,
    ) -> Result<Response<ModelResponse>, Status> {
        tokio::time::sleep(self.model_delay).await;
        Ok(Response::new(ModelResponse {
            model_version: self.id,
            model_json: "{}".into(),
            reresolving_records: 0,
        }))
    }
}

/// Cluster status answers `node_id = id` (or fails with `fail`); changes
/// are not implemented.
#[tonic::async_trait]
impl Cluster for Mock {
    async fn status(
        &self,
        _: Request<ClusterStatusRequest>,
    ) -> Result<Response<ClusterStatus>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(code) = self.fail {
            return Err(Status::new(code, format!("mock {} failed", self.id)));
        }
        Ok(Response::new(ClusterStatus {
            node_id: self.id,
            ..ClusterStatus::default()
        }))
    }

    async fn add_node(
        &self,
        _: Request<AddNodeRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        Err(Status::unimplemented("add_node"))
    }

    async fn remove_node(
        &self,
        _: Request<RemoveNodeRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        Err(Status::unimplemented("remove_node"))
    }

    async fn move_partition(
        &self,
        _: Request<MovePartitionRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        Err(Status::unimplemented("move_partition"))
    }

    async fn rebalance(
        &self,
        _: Request<RebalanceRequest>,
    ) -> Result<Response<ClusterChange>, Status> {
        Err(Status::unimplemented("rebalance"))
    }
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<BulkUpsertResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Records for Mock {
    async fn upsert(
        &self,
        req: Request<UpsertRequest>,
    ) -> Result<Response<UpsertResponse>, Status> {
        let record = req.into_inner().record.unwrap_or_default();
        if record.record_id.is_empty() {
            return Err(Status::invalid_argument(
                "record_id: \"\" must not be empty",
            ));
        }
        Ok(Response::new(UpsertResponse {
            result: Some(ResolveResult {
                entity_id: self.id,
                action: Action::Created as i32,
                ..ResolveResult::default()
            }),
        }))
    }

    type BulkUpsertStream = ResultStream;

    async fn bulk_upsert(
        &self,
        req: Request<tonic::Streaming<BulkUpsertRequest>>,
    ) -> Result<Response<ResultStream>, Status> {
        let mut index = 0u64;
        let out = req.into_inner().map(move |batch| {
            let batch = batch?;
            let results = batch
                .records
                .iter()
                .map(|r| {
                    let outcome = if r.emails.iter().any(|e| !e.contains('@')) {
                        Outcome::Error(RecordError {
                            code: Code::InvalidArgument as i32,
                            field: "email".into(),
                            value: r.emails.join(" "),
                            message: "not an email address".into(),
                            ..RecordError::default()
                        })
                    } else {
                        Outcome::Ok(ResolveResult {
                            entity_id: index + 1,
                            action: Action::Created as i32,
                            ..ResolveResult::default()
                        })
                    };
                    index += 1;
                    BulkItemResult {
                        index: index - 1,
                        outcome: Some(outcome),
                    }
                })
                .collect();
            Ok(BulkUpsertResponse { results })
        });
        Ok(Response::new(Box::pin(out)))
    }

    async fn delete(&self, _: Request<DeleteRequest>) -> Result<Response<DeleteResponse>, Status> {
        Err(Status::not_found("record crm:1 not found"))
    }

    async fn get(
        &self,
        _: Request<GetRecordRequest>,
    ) -> Result<Response<GetRecordResponse>, Status> {
        Err(Status::not_found("record crm:1 not found"))
    }
}

/// Serves `mock` on a free local port; returns its URL.
async fn serve(mock: Mock) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(AdminServer::new(mock.clone()))
            .add_service(ClusterServer::new(mock.clone()))
            .add_service(RecordsServer::new(mock))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    format!("http://{addr}")
}

/// A URL where nothing listens.
async fn dead_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn quick() -> ClientOptions {
    ClientOptions {
        timeout: Some(Duration::from_secs(5)),
        change_timeout: Some(Duration::from_secs(5)),
        connect_timeout: Duration::from_secs(2),
        backoff: Duration::from_millis(10),
        token: None,
        tls: Default::default(),
    }
}

#[tokio::test]
async fn every_call_carries_the_bearer_token_and_none_without_one() {
    let addr = serve(Mock::new(1)).await;
    let with = Client::connect_with(
        std::slice::from_ref(&addr),
        ClientOptions {
            token: Some("s3cret".into()),
            ..quick()
        },
    )
    .await
    .unwrap();
    let r = with.list_audit(42, 10).await.unwrap();
    assert_eq!(r.entries[0].caller, "Bearer s3cret");
    assert_eq!(r.entries[0].at_ms, 42);
    let without = Client::connect_with(&[addr], quick()).await.unwrap();
    assert_eq!(
        without.list_audit(0, 10).await.unwrap().entries[0].caller,
        ""
    );
}

#[tokio::test]
async fn an_https_endpoint_without_a_ca_is_refused_before_connecting() {
    let e = Client::lazy(&["https://127.0.0.1:1".into()], quick()).unwrap_err();
    assert!(e.to_string().contains("--ca"), "{e}");
}

#[tokio::test]
async fn connect_skips_unreachable_endpoints() {
    let dead = dead_endpoint().await;
    let live = serve(Mock::new(7)).await;
    let client = Client::connect_with(&[dead, live.clone()], quick())
        .await
        .unwrap();
    assert_eq!(client.current_endpoint(), live);
    assert_eq!(client.stats().await.unwrap().records, 7);
}

#[tokio::test]
async fn calls_fail_over_from_a_dead_endpoint_and_stay_on_the_live_one() {
    let dead = dead_endpoint().await;
    let live = serve(Mock::new(9)).await;
    let client = Client::lazy(&[dead, live.clone()], quick()).unwrap();
    assert_eq!(client.stats().await.unwrap().records, 9);
    assert_eq!(client.current_endpoint(), live);
    assert_eq!(client.stats().await.unwrap().records, 9);
}

#[tokio::test]
async fn unavailable_fails_over_but_not_found_does_not() {
    let mut first = Mock::new(1);
    first.fail = Some(Code::Unavailable);
    let second = Mock::new(2);
    let (first_calls, second_calls) = (first.calls.clone(), second.calls.clone());
    let urls = [serve(first).await, serve(second).await];
    let client = Client::connect_with(&urls, quick()).await.unwrap();
    assert_eq!(client.stats().await.unwrap().records, 2);
    assert_eq!(first_calls.load(Ordering::SeqCst), 1);
    assert_eq!(second_calls.load(Ordering::SeqCst), 1);

    let mut missing = Mock::new(3);
    missing.fail = Some(Code::NotFound);
    let other = Mock::new(4);
    let other_calls = other.calls.clone();
    let urls = [serve(missing).await, serve(other).await];
    let client = Client::connect_with(&urls, quick()).await.unwrap();
    let err = client.stats().await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert_eq!(err.to_string(), "NOT_FOUND: mock 3 failed");
    assert_eq!(other_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn cluster_status_fails_over_like_the_other_calls() {
    let dead = dead_endpoint().await;
    let mut unavailable = Mock::new(1);
    unavailable.fail = Some(Code::Unavailable);
    let live = Mock::new(2);
    let (first_calls, live_calls) = (unavailable.calls.clone(), live.calls.clone());
    let urls = [dead, serve(unavailable).await, serve(live).await];
    let client = Client::lazy(&urls, quick()).unwrap();
    assert_eq!(client.cluster_status().await.unwrap().node_id, 2);
    assert_eq!(client.current_endpoint(), urls[2]);
    assert_eq!(client.cluster_status().await.unwrap().node_id, 2);
    assert_eq!(first_calls.load(Ordering::SeqCst), 1);
    assert_eq!(live_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn cluster_changes_carry_the_change_deadline() {
    let options = ClientOptions {
        timeout: Some(Duration::from_secs(1)),
        ..ClientOptions::default()
    };
    assert_eq!(options.change_timeout, Some(DEFAULT_CHANGE_TIMEOUT));
    let client = Client::lazy(&["http://127.0.0.1:9".to_string()], options).unwrap();
    let grpc_timeout = |req: &tonic::Request<()>| {
        req.metadata()
            .get("grpc-timeout")
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        grpc_timeout(&client.request(())).as_deref(),
        Some("1000000u")
    );
    assert_eq!(
        grpc_timeout(&client.change_request(())).as_deref(),
        Some("1800000m")
    );
    let client = Client::lazy(
        &["http://127.0.0.1:9".to_string()],
        ClientOptions {
            change_timeout: None,
            ..ClientOptions::default()
        },
    )
    .unwrap();
    assert_eq!(grpc_timeout(&client.change_request(())), None);
}

#[tokio::test]
async fn all_endpoints_down_is_a_connection_error() {
    let urls = [dead_endpoint().await, dead_endpoint().await];
    let err = Client::connect_with(&urls, quick()).await.unwrap_err();
    assert_eq!(err.exit_code(), 1);
    let text = err.to_string();
    assert!(text.starts_with("cannot connect to "), "{text}");
    assert!(text.contains(&urls[0]) && text.contains(&urls[1]), "{text}");

    let client = Client::lazy(&urls, quick()).unwrap();
    let err = client.stats().await.unwrap_err();
    assert_eq!(err.code(), Some(Code::Unavailable), "{err}");
    assert_eq!(err.exit_code(), 1);
}

#[tokio::test]
async fn bad_endpoints_are_invalid_input() {
    for bad in [
        vec![],
        vec!["".to_string()],
        vec!["ftp://127.0.0.1:7000".to_string()],
        vec!["http://bad host:7000".to_string()],
    ] {
        let err = Client::lazy(&bad, quick()).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{bad:?}: {err}");
    }
}

#[tokio::test]
async fn endpoints_without_a_scheme_are_http() {
    let live = serve(Mock::new(5)).await;
    let bare = live.trim_start_matches("http://").to_string();
    let client = Client::connect_with(&[bare], quick()).await.unwrap();
    assert_eq!(client.current_endpoint(), live);
    assert_eq!(client.stats().await.unwrap().records, 5);
}

#[tokio::test]
async fn unary_calls_have_a_deadline() {
    let mut slow = Mock::new(1);
    slow.model_delay = Duration::from_secs(3);
    let url = serve(slow).await;
    let options = ClientOptions {
        timeout: Some(Duration::from_millis(200)),
        ..quick()
    };
    let client = Client::connect_with(&[url], options).await.unwrap();
    let err = client.model().await.unwrap_err();
    assert_eq!(err.code(), Some(Code::DeadlineExceeded), "{err}");
    assert_eq!(err.exit_code(), 1);
}

#[tokio::test]
async fn statuses_keep_the_server_message() {
    let url = serve(Mock::new(1)).await;
    let client = Client::connect_with(&[url], quick()).await.unwrap();
    let err = client.upsert(Record::default()).await.unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert_eq!(
        err.to_string(),
        "INVALID_ARGUMENT: record_id: \"\" must not be empty"
    );
    let err = client.get_record("crm", "1").await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
}

#[tokio::test]
async fn bulk_import_over_grpc_fails_over_at_connect() {
    let urls = [dead_endpoint().await, serve(Mock::new(1)).await];
    let client = Client::lazy(&urls, quick()).unwrap();
    let rows: Vec<Result<Row, ClientError>> = (0..1234u64)
        .map(|i| {
            Ok(Row::Item {
                line: i + 2,
                item: Record {
                    source: "s".into(),
                    record_id: i.to_string(),
                    emails: vec![if i % 100 == 7 {
                        "broken".into()
                    } else {
                        format!("p{i}@x.com")
                    }],
                    ..Record::default()
                },
            })
        })
        .collect();
    let options = ImportOptions {
        batch_size: 100,
        queue_batches: 2,
    };
    let report = import::run_import(
        Box::new(rows.into_iter()),
        &options,
        ProgressBar::hidden(),
        |reqs| client.bulk_upsert(reqs),
    )
    .await;
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert_eq!(report.summary.records_read, 1234);
    assert_eq!(report.summary.rejected, 13);
    assert_eq!(report.summary.accepted, 1234 - 13);
    assert_eq!(report.rejects[0].line, 9);
    assert_eq!(report.rejects[1].line, 109);
    assert_eq!(client.current_endpoint(), urls[1]);
}
