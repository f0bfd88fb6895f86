//! [`Client`]: a gRPC client of a Kindred cluster with endpoint failover.
//!
//! A client holds one lazily (re)connecting channel per endpoint and
//! remembers which endpoint answered last. Every call goes to that endpoint
//! first; when it fails with `UNAVAILABLE` or a transport error, the call is
//! retried on the next endpoint after a short backoff, each endpoint at most
//! once per call. Streaming calls fail over only before the stream starts.
//!
//! Cluster changes (adding or draining a node, moving partitions) stream
//! partition data and can take minutes: they have their own, long deadline
//! ([`ClientOptions::change_timeout`]).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::Stream;
use kindred_proto::v1::admin_client::AdminClient;
use kindred_proto::v1::cluster_client::ClusterClient;
use kindred_proto::v1::explain_client::ExplainClient;
use kindred_proto::v1::get_profile_request::Key;
use kindred_proto::v1::privacy_client::PrivacyClient;
use kindred_proto::v1::profiles_client::ProfilesClient;
use kindred_proto::v1::records_client::RecordsClient;
use kindred_proto::v1::{
    AddNodeRequest, BulkUpsertRequest, BulkUpsertResponse, ClusterChange, ClusterStatus,
    ClusterStatusRequest, DeleteRequest, DeleteResponse, EntityExplanation, EntityHistory,
    ExportChunk, ExportRequest, GetModelRequest, GetProfileRequest, GetRecordRequest,
    GetRecordResponse, HowRequest, IdentityLookup, ListAuditRequest, ListAuditResponse,
    ModelResponse, MovePartitionRequest, PairExplanation, Profile, RebalanceRequest, Record,
    RecordRef, RemoveNodeRequest, ResolveResult, SearchRequest, SearchResponse, StatsRequest,
    StatsResponse, TrainRequest, TrainResponse, UpsertRequest, WhyEntityRequest, WhyRecordsRequest,
};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status, Streaming};

use crate::ClientError;

/// Largest message the client decodes (profiles of big entities are large).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Default deadline of a cluster change (see [`ClientOptions::change_timeout`]).
pub const DEFAULT_CHANGE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Connection and call settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientOptions {
    /// Deadline of each unary call (`None`: no deadline). Streams, bulk
    /// upserts, training and cluster changes are not bounded by it.
    pub timeout: Option<Duration>,
    /// Deadline of a cluster change: adding or removing a node, moving a
    /// partition, a rebalance (`None`: no deadline). These return once the
    /// partition data has been streamed, which can take minutes.
    pub change_timeout: Option<Duration>,
    /// How long to wait for a TCP/HTTP2 connection to an endpoint.
    pub connect_timeout: Duration,
    /// Pause before retrying a call on the next endpoint (multiplied by
    /// the attempt number).
    pub backoff: Duration,
    /// Bearer token sent with every call.
    pub token: Option<String>,
    /// TLS settings for `https://` endpoints.
    pub tls: TlsOptions,
}

/// How the client verifies the server and proves who it is over TLS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TlsOptions {
    /// PEM CA bundle the server's certificate must chain to.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate and key (mutual TLS).
    pub identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// Name to verify the server certificate against (default: the host).
    pub domain: Option<String>,
}

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Auth(Option<MetadataValue<Ascii>>);

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = if self.0.is_some() {
            "Bearer <redacted>"
        } else {
            "none"
        };
        f.debug_tuple("Auth").field(&shown).finish()
    }
}

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

/// A channel whose calls carry the client's credentials.
pub type AuthChannel = InterceptedService<Channel, Auth>;

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Some(Duration::from_secs(30)),
            change_timeout: Some(DEFAULT_CHANGE_TIMEOUT),
            connect_timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(100),
            token: None,
            tls: TlsOptions::default(),
        }
    }
}

/// One endpoint: its address, its settings and its channel.
#[derive(Debug, Clone)]
struct Target {
    url: String,
    endpoint: Endpoint,
    channel: Channel,
}

/// A client of a Kindred cluster (one or more `kindred-node` endpoints).
#[derive(Debug)]
pub struct Client {
    targets: Vec<Target>,
    /// Index of the endpoint that answered last.
    current: AtomicUsize,
    options: ClientOptions,
    auth: Auth,
}

impl Client {
    /// Connects to the first reachable endpoint, trying them in order, with
    /// default options.
    pub async fn connect(endpoints: &[String]) -> Result<Client, ClientError> {
        Self::connect_with(endpoints, ClientOptions::default()).await
    }

    /// Connects to the first reachable endpoint, trying them in order. The
    /// other endpoints get lazy channels, used when failing over.
    pub async fn connect_with(
        endpoints: &[String],
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let mut client = Self::lazy(endpoints, options)?;
        let mut last_error = String::new();
        for i in 0..client.targets.len() {
            match client.targets[i].endpoint.connect().await {
                Ok(channel) => {
                    client.targets[i].channel = channel;
                    client.current.store(i, Ordering::Relaxed);
                    return Ok(client);
                }
                Err(e) => last_error = describe_error(&e),
            }
        }
        Err(ClientError::Connect {
            endpoints: client.endpoints().join(", "),
            reason: last_error,
        })
    }

    /// Builds a client without connecting; connections are made on the
    /// first call. Must be called inside a Tokio runtime.
    pub fn lazy(endpoints: &[String], options: ClientOptions) -> Result<Client, ClientError> {
        let endpoints: Vec<String> = endpoints
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(normalize_endpoint)
            .collect();
        if endpoints.is_empty() {
            return Err(ClientError::InvalidInput(
                "no endpoint given (e.g. --endpoint http://127.0.0.1:7000)".into(),
            ));
        }
        let targets = endpoints
            .into_iter()
            .map(|url| {
                let endpoint = build_endpoint(&url, &options)?;
                let channel = endpoint.connect_lazy();
                Ok(Target {
                    url,
                    endpoint,
                    channel,
                })
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        let auth = match &options.token {
            Some(t) => Some(format!("Bearer {}", t.trim()).parse().map_err(|_| {
                ClientError::InvalidInput("the token has characters a header cannot carry".into())
            })?),
            None => None,
        };
        Ok(Client {
            targets,
            current: AtomicUsize::new(0),
            options,
            auth: Auth(auth),
        })
    }

    /// The endpoints, in failover order.
    pub fn endpoints(&self) -> Vec<String> {
        self.targets.iter().map(|t| t.url.clone()).collect()
    }

    /// The endpoint that answered last (where the next call goes first).
    pub fn current_endpoint(&self) -> &str {
        &self.targets[self.current.load(Ordering::Relaxed) % self.targets.len()].url
    }

    // ------------------------------------------------------------ Records

    /// Inserts or replaces one record and resolves it.
    pub async fn upsert(&self, record: Record) -> Result<ResolveResult, ClientError> {
        let resp = self
            .unary(|ch| {
                let record = record.clone();
                async move {
                    let req = UpsertRequest {
                        record: Some(record),
                    };
                    self.records(ch).upsert(self.request(req)).await
                }
            })
            .await?;
        resp.result.ok_or_else(|| missing("UpsertResponse.result"))
    }

    /// Streams batches of records to the server; the answer is a stream of
    /// per-batch results. Fails over only while connecting: the first
    /// reachable endpoint (from the current one on) takes the whole stream.
    pub async fn bulk_upsert<S>(
        &self,
        batches: S,
    ) -> Result<Streaming<BulkUpsertResponse>, ClientError>
    where
        S: Stream<Item = BulkUpsertRequest> + Send + 'static,
    {
        let channel = self.stream_channel().await?;
        let resp = self.records(channel).bulk_upsert(batches).await?;
        Ok(resp.into_inner())
    }

    /// A fresh connection to the first reachable endpoint, from the current
    /// one on, for a stream (which cannot be replayed, so it fails over
    /// only while connecting).
    async fn stream_channel(&self) -> Result<Channel, ClientError> {
        let n = self.targets.len();
        let start = self.current.load(Ordering::Relaxed);
        let mut last_error = String::new();
        for attempt in 0..n {
            let i = (start + attempt) % n;
            if attempt > 0 {
                tokio::time::sleep(self.options.backoff * attempt as u32).await;
            }
            match self.targets[i].endpoint.connect().await {
                Ok(channel) => {
                    self.current.store(i, Ordering::Relaxed);
                    return Ok(channel);
                }
                Err(e) => last_error = describe_error(&e),
            }
        }
        Err(ClientError::Connect {
            endpoints: self.endpoints().join(", "),
            reason: last_error,
        })
    }

    /// Deletes a record; returns the affected entities.
    pub async fn delete(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<DeleteResponse, ClientError> {
        let record = record_ref(source, record_id);
        self.unary(|ch| {
            let req = DeleteRequest {
                record: Some(record.clone()),
            };
            async move { self.records(ch).delete(self.request(req)).await }
        })
        .await
    }

    /// A stored record and its entity.
    pub async fn get_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<GetRecordResponse, ClientError> {
        let record = record_ref(source, record_id);
        self.unary(|ch| {
            let req = GetRecordRequest {
                record: Some(record.clone()),
            };
            async move { self.records(ch).get(self.request(req)).await }
        })
        .await
    }

    // ----------------------------------------------------------- Profiles

    /// The profile of an entity.
    pub async fn profile_by_entity(&self, entity_id: u64) -> Result<Profile, ClientError> {
        self.profile(Key::EntityId(entity_id)).await
    }

    /// The profile of the entity a record belongs to.
    pub async fn profile_by_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<Profile, ClientError> {
        self.profile(Key::Record(record_ref(source, record_id)))
            .await
    }

    /// The profile holding an identity value (`email`, `phone`, or an
    /// identifier kind).
    pub async fn profile_by_identity(
        &self,
        kind: &str,
        value: &str,
    ) -> Result<Profile, ClientError> {
        self.profile(Key::Identity(IdentityLookup {
            kind: kind.to_string(),
            value: value.to_string(),
        }))
        .await
    }

    async fn profile(&self, key: Key) -> Result<Profile, ClientError> {
        self.unary(|ch| {
            let req = GetProfileRequest {
                key: Some(key.clone()),
            };
            async move { self.profiles(ch).get(self.request(req)).await }
        })
        .await
    }

    /// Ranked candidate entities for a partial description of a person.
    pub async fn search(
        &self,
        query: Record,
        limit: u32,
        min_probability: f64,
    ) -> Result<SearchResponse, ClientError> {
        self.unary(|ch| {
            let req = SearchRequest {
                query: Some(query.clone()),
                limit,
                min_probability,
            };
            async move { self.profiles(ch).search(self.request(req)).await }
        })
        .await
    }

    /// Every record with its entity id, in chunks of `chunk_size` (0: the
    /// server's default).
    pub async fn export_assignments(
        &self,
        chunk_size: u32,
    ) -> Result<Streaming<ExportChunk>, ClientError> {
        self.open_stream(|ch| async move {
            self.profiles(ch)
                .export_assignments(ExportRequest {
                    chunk_size,
                    purpose: String::new(),
                })
                .await
        })
        .await
    }

    /// Every profile; with a `purpose`, only the customers whose consent
    /// for it is granted.
    pub async fn export_profiles(&self, purpose: &str) -> Result<Streaming<Profile>, ClientError> {
        self.open_stream(|ch| async move {
            self.profiles(ch)
                .export_profiles(ExportRequest {
                    chunk_size: 0,
                    purpose: purpose.to_string(),
                })
                .await
        })
        .await
    }

    // ------------------------------------------------------------ Explain

    /// Why two records match or not.
    pub async fn why_records(
        &self,
        a: RecordRef,
        b: RecordRef,
    ) -> Result<PairExplanation, ClientError> {
        self.unary(|ch| {
            let req = WhyRecordsRequest {
                a: Some(a.clone()),
                b: Some(b.clone()),
            };
            async move { self.explain(ch).why_records(self.request(req)).await }
        })
        .await
    }

    /// Why a record does or does not belong to an entity.
    pub async fn why_entity(
        &self,
        record: RecordRef,
        entity_id: u64,
    ) -> Result<EntityExplanation, ClientError> {
        self.unary(|ch| {
            let req = WhyEntityRequest {
                record: Some(record.clone()),
                entity_id,
            };
            async move { self.explain(ch).why_entity(self.request(req)).await }
        })
        .await
    }

    /// How an entity was built: its records and history.
    pub async fn how(&self, entity_id: u64) -> Result<EntityHistory, ClientError> {
        self.unary(|ch| {
            let req = HowRequest { entity_id };
            async move { self.explain(ch).how(self.request(req)).await }
        })
        .await
    }

    // -------------------------------------------------------------- Admin

    /// Cluster statistics.
    pub async fn stats(&self) -> Result<StatsResponse, ClientError> {
        self.unary(|ch| async move { self.admin(ch).stats(self.request(StatsRequest {})).await })
            .await
    }

    /// Re-estimates the match model (and, unless `dry_run`, re-resolves
    /// everything). An implausible model is installed only with `force`.
    /// Not bounded by the call timeout: training can be long.
    pub async fn train(
        &self,
        max_records: u32,
        dry_run: bool,
        force: bool,
    ) -> Result<TrainResponse, ClientError> {
        self.failover(None, |ch| async move {
            self.admin(ch)
                .train(TrainRequest {
                    max_records,
                    dry_run,
                    force,
                })
                .await
        })
        .await
    }

    /// The current match model.
    pub async fn model(&self) -> Result<ModelResponse, ClientError> {
        self.unary(|ch| async move {
            self.admin(ch)
                .get_model(self.request(GetModelRequest {}))
                .await
        })
        .await
    }

    // ------------------------------------------------------------ Cluster

    /// Nodes, roles, Raft state, the partition map and records per
    /// partition, as the answering node sees them. Bounded by the call
    /// timeout.
    pub async fn cluster_status(&self) -> Result<ClusterStatus, ClientError> {
        self.unary(|ch| async move {
            self.cluster(ch)
                .status(self.request(ClusterStatusRequest {}))
                .await
        })
        .await
    }

    /// Adds a node (started with `--join`) at `address` (`host:port`) as a
    /// voting member; it owns no partitions until a move or a rebalance.
    /// Bounded by the change timeout.
    pub async fn add_node(&self, id: u64, address: &str) -> Result<ClusterChange, ClientError> {
        self.change(|ch| {
            let req = AddNodeRequest {
                node_id: id,
                address: address.to_string(),
            };
            async move { self.cluster(ch).add_node(self.change_request(req)).await }
        })
        .await
    }

    /// Drains a node (moves its partitions to the others), then removes it
    /// from the Raft group. Bounded by the change timeout.
    pub async fn remove_node(&self, id: u64) -> Result<ClusterChange, ClientError> {
        self.change(|ch| async move {
            self.cluster(ch)
                .remove_node(self.change_request(RemoveNodeRequest { node_id: id }))
                .await
        })
        .await
    }

    /// Moves one partition to another node, streaming its data while it
    /// keeps serving. Bounded by the change timeout.
    pub async fn move_partition(
        &self,
        partition: u32,
        to_node: u64,
    ) -> Result<ClusterChange, ClientError> {
        self.change(|ch| async move {
            let req = MovePartitionRequest { partition, to_node };
            self.cluster(ch)
                .move_partition(self.change_request(req))
                .await
        })
        .await
    }

    /// Moves partitions until every active node owns an equal share (±1);
    /// with `dry_run`, only reports the moves that would be made. Bounded
    /// by the change timeout.
    pub async fn rebalance(&self, dry_run: bool) -> Result<ClusterChange, ClientError> {
        self.change(|ch| async move {
            self.cluster(ch)
                .rebalance(self.change_request(RebalanceRequest { dry_run }))
                .await
        })
        .await
    }

    /// Audit entries of every node from `since_ms` on (needs the admin role).
    pub async fn list_audit(
        &self,
        since_ms: u64,
        limit: u32,
    ) -> Result<ListAuditResponse, ClientError> {
        self.unary(|ch| async move {
            let req = ListAuditRequest { since_ms, limit };
            self.admin(ch).list_audit(self.request(req)).await
        })
        .await
    }

    // -------------------------------------------------------- Privacy

    /// Records consent decisions against source records (a resend is
    /// harmless: each decision is stored once).
    pub async fn set_consent(
        &self,
        decisions: Vec<kindred_proto::v1::RecordDecision>,
    ) -> Result<kindred_proto::v1::SetConsentResponse, ClientError> {
        self.failover(self.options.change_timeout, |ch| {
            let decisions = decisions.clone();
            async move {
                let req = kindred_proto::v1::SetConsentRequest { decisions };
                self.privacy(ch).set_consent(self.change_request(req)).await
            }
        })
        .await
    }

    /// Everything held about a person (subject access; needs the privacy
    /// role).
    pub async fn subject_export(
        &self,
        person: kindred_proto::v1::person_ref::Target,
    ) -> Result<kindred_proto::v1::PrivacyExportResponse, ClientError> {
        self.unary(|ch| {
            let person = person.clone();
            async move {
                let req = kindred_proto::v1::PrivacyExportRequest {
                    person: Some(kindred_proto::v1::PersonRef {
                        target: Some(person),
                    }),
                };
                self.privacy(ch).export(self.request(req)).await
            }
        })
        .await
    }

    /// Applies the retention policy now (needs the privacy role).
    pub async fn apply_retention(
        &self,
    ) -> Result<kindred_proto::v1::ApplyRetentionResponse, ClientError> {
        self.unary(|ch| async move {
            let req = kindred_proto::v1::ApplyRetentionRequest {};
            self.privacy(ch).apply_retention(self.request(req)).await
        })
        .await
    }

    /// Erases a person (needs the privacy role); answers once it is done.
    pub async fn erase(
        &self,
        person: kindred_proto::v1::person_ref::Target,
    ) -> Result<kindred_proto::v1::EraseResponse, ClientError> {
        self.failover(self.options.change_timeout, |ch| {
            let person = person.clone();
            async move {
                let req = kindred_proto::v1::EraseRequest {
                    person: Some(kindred_proto::v1::PersonRef {
                        target: Some(person),
                    }),
                };
                self.privacy(ch).erase(self.change_request(req)).await
            }
        })
        .await
    }

    /// Erasure requests, newest first.
    pub async fn list_erasures(
        &self,
    ) -> Result<kindred_proto::v1::ListErasuresResponse, ClientError> {
        self.unary(|ch| async move {
            let req = kindred_proto::v1::ListErasuresRequest {};
            self.privacy(ch).list_erasures(self.request(req)).await
        })
        .await
    }

    /// The suppression list (keyed hashes, never values).
    pub async fn list_suppressions(
        &self,
    ) -> Result<kindred_proto::v1::ListSuppressionsResponse, ClientError> {
        self.unary(|ch| async move {
            let req = kindred_proto::v1::ListSuppressionsRequest {};
            self.privacy(ch).list_suppressions(self.request(req)).await
        })
        .await
    }

    /// Lifts the suppression of an identifier (or of a suppression id).
    pub async fn lift_suppression(
        &self,
        target: kindred_proto::v1::lift_suppression_request::Target,
    ) -> Result<kindred_proto::v1::LiftSuppressionResponse, ClientError> {
        self.unary(|ch| {
            let target = target.clone();
            async move {
                let req = kindred_proto::v1::LiftSuppressionRequest {
                    target: Some(target),
                };
                self.privacy(ch).lift_suppression(self.request(req)).await
            }
        })
        .await
    }

    // -------------------------------------------------------- Machinery

    fn authed(&self, ch: Channel) -> AuthChannel {
        InterceptedService::new(ch, self.auth.clone())
    }

    fn records(&self, ch: Channel) -> RecordsClient<AuthChannel> {
        RecordsClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn profiles(&self, ch: Channel) -> ProfilesClient<AuthChannel> {
        ProfilesClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn explain(&self, ch: Channel) -> ExplainClient<AuthChannel> {
        ExplainClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn admin(&self, ch: Channel) -> AdminClient<AuthChannel> {
        AdminClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn privacy(&self, ch: Channel) -> PrivacyClient<AuthChannel> {
        PrivacyClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn cluster(&self, ch: Channel) -> ClusterClient<AuthChannel> {
        ClusterClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// Wraps a message in a request carrying the call deadline.
    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        with_deadline(msg, self.options.timeout)
    }

    /// Wraps a message in a request carrying the cluster change deadline.
    fn change_request<T>(&self, msg: T) -> tonic::Request<T> {
        with_deadline(msg, self.options.change_timeout)
    }

    /// A unary call with the call deadline and failover.
    async fn unary<T, F, Fut>(&self, call: F) -> Result<T, ClientError>
    where
        F: FnMut(Channel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        self.failover(self.options.timeout, call).await
    }

    /// A cluster change: a unary call with the change deadline and
    /// failover. Failover happens only when the endpoint is unavailable or
    /// the transport fails; the server forwards changes to the leader.
    async fn change<F, Fut>(&self, call: F) -> Result<ClusterChange, ClientError>
    where
        F: FnMut(Channel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<ClusterChange>, Status>>,
    {
        self.failover(self.options.change_timeout, call).await
    }

    /// Opens a server stream with failover; the wait for the stream to
    /// start is bounded by the call deadline, the stream itself is not.
    async fn open_stream<T, F, Fut>(&self, call: F) -> Result<Streaming<T>, ClientError>
    where
        F: FnMut(Channel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Streaming<T>>, Status>>,
    {
        self.failover(self.options.timeout, call).await
    }

    /// Runs `call` on the current endpoint, then on each next one while the
    /// failure is a failover one; each endpoint is tried at most once.
    async fn failover<T, F, Fut>(
        &self,
        deadline: Option<Duration>,
        mut call: F,
    ) -> Result<T, ClientError>
    where
        F: FnMut(Channel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let n = self.targets.len();
        let start = self.current.load(Ordering::Relaxed);
        let mut last: Option<(usize, Status)> = None;
        for attempt in 0..n {
            let i = (start + attempt) % n;
            if attempt > 0 {
                tokio::time::sleep(self.options.backoff * attempt as u32).await;
            }
            let fut = call(self.targets[i].channel.clone());
            let result = match deadline {
                Some(d) => match tokio::time::timeout(d, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(Status::deadline_exceeded(format!(
                        "no answer from {} within {:.1}s",
                        self.targets[i].url,
                        d.as_secs_f64()
                    ))),
                },
                None => fut.await,
            };
            let result = result.map_err(|status| match deadline {
                // tonic's own deadline (from the request's grpc-timeout).
                Some(d)
                    if status.code() == Code::Cancelled
                        && status.message().starts_with("Timeout expired") =>
                {
                    Status::deadline_exceeded(format!(
                        "no answer from {} within {:.1}s",
                        self.targets[i].url,
                        d.as_secs_f64()
                    ))
                }
                _ => status,
            });
            match result {
                Ok(resp) => {
                    self.current.store(i, Ordering::Relaxed);
                    return Ok(resp.into_inner());
                }
                Err(status) if is_failover(&status) => last = Some((i, status)),
                Err(status) => return Err(status.into()),
            }
        }
        match last {
            Some((i, status)) => {
                let mut err = ClientError::from(status);
                if let ClientError::Status { message, .. } = &mut err {
                    if n > 1 {
                        message.push_str(&format!(
                            " (all {n} endpoints failed; last tried {})",
                            self.targets[i].url
                        ));
                    } else {
                        message.push_str(&format!(" ({})", self.targets[i].url));
                    }
                }
                Err(err)
            }
            None => Err(missing("endpoint")),
        }
    }
}

/// A request carrying `deadline` (as `grpc-timeout`), if any.
fn with_deadline<T>(msg: T, deadline: Option<Duration>) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    if let Some(t) = deadline {
        req.set_timeout(t);
    }
    req
}

/// Whether a failed call should be retried on the next endpoint: the
/// endpoint is unavailable or the transport failed before an answer.
pub fn is_failover(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable => true,
        Code::Unknown => {
            let m = status.message();
            m.contains("transport error")
                || m.contains("Service was not ready")
                || m.contains("connection")
        }
        _ => false,
    }
}

/// An endpoint URL with a scheme: `host:port` means `http://host:port`.
pub fn normalize_endpoint(url: &str) -> String {
    if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

fn build_endpoint(url: &str, options: &ClientOptions) -> Result<Endpoint, ClientError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ClientError::InvalidInput(format!(
            "endpoint {url:?} must be an http:// or https:// URL, e.g. http://127.0.0.1:7000"
        )));
    }
    let endpoint = Endpoint::from_shared(url.to_string()).map_err(|e| {
        ClientError::InvalidInput(format!("endpoint {url:?}: {}", describe_error(&e)))
    })?;
    let endpoint = if url.starts_with("https://") {
        endpoint
            .tls_config(tls_config(&options.tls)?)
            .map_err(|e| {
                ClientError::InvalidInput(format!("TLS for {url:?}: {}", describe_error(&e)))
            })?
    } else {
        endpoint
    };
    Ok(endpoint
        .connect_timeout(options.connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20))
        .keep_alive_while_idle(true))
}

/// The TLS configuration of `https://` endpoints.
fn tls_config(o: &TlsOptions) -> Result<ClientTlsConfig, ClientError> {
    let Some(ca) = &o.ca_pem else {
        return Err(ClientError::InvalidInput(
            "an https:// endpoint needs the CA that signed the server's certificate (--ca)".into(),
        ));
    };
    let mut cfg = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
    if let Some((cert, key)) = &o.identity_pem {
        cfg = cfg.identity(Identity::from_pem(cert, key));
    }
    if let Some(d) = &o.domain {
        cfg = cfg.domain_name(d.clone());
    }
    Ok(cfg)
}

/// An error and its chain of causes, on one line.
fn describe_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text = format!("{text}: {s_text}");
        }
        source = s.source();
    }
    text
}

fn missing(what: &str) -> ClientError {
    ClientError::Status {
        code: Code::Internal,
        message: format!("the server's answer has no {what}"),
    }
}

fn record_ref(source: &str, record_id: &str) -> RecordRef {
    RecordRef {
        source: source.to_string(),
        record_id: record_id.to_string(),
    }
}

mod events;
mod segments;
mod triggers;

#[cfg(test)]
mod tests;
