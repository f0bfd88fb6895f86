//! The public gRPC server: the `kindred.v1` services, `grpc.health.v1`
//! health and server reflection, with graceful shutdown.
//!
//! The server listens at once and answers UNAVAILABLE (health NOT_SERVING)
//! while the node's partitions restore their data; then it switches to
//! SERVING. The node-to-node service has its own listener (see
//! [`listeners`]), never the public port.

pub mod admin;
pub mod cluster;
pub mod convert;
pub mod events;
pub mod explain;
pub mod listeners;
pub mod privacy;
pub mod profiles;
pub mod records;
pub mod segments;
pub mod subject;
pub mod traits;
pub mod triggers;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::oneshot;
use tonic::Status;

use crate::observe::{self, rpc::ObserveLayer};
use kindred_proto::v1::admin_server::AdminServer;
use kindred_proto::v1::cluster_server::ClusterServer;
use kindred_proto::v1::events_server::EventsServer;
use kindred_proto::v1::explain_server::ExplainServer;
use kindred_proto::v1::privacy_server::PrivacyServer;
use kindred_proto::v1::profiles_server::ProfilesServer;
use kindred_proto::v1::records_server::RecordsServer;
use kindred_proto::v1::segments_server::SegmentsServer;
use kindred_proto::v1::traits_server::TraitsServer;
use kindred_proto::v1::triggers_server::TriggersServer;

use kindred_proto::internal::internal_server::InternalServer;

use crate::cluster::internal::InternalService;
use crate::cluster::{Cluster, Coordinator};
use crate::config::{Limits, NodeConfig};
use crate::engine::{EngineConfig, Model};
use crate::error::NodeError;
use crate::security::gate::GateLayer;

/// How long in-flight requests may run after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// State shared by the services.
#[derive(Clone)]
pub struct NodeState {
    cluster: Cluster,
    ready: Arc<AtomicBool>,
    pub limits: Limits,
    pub engine: EngineConfig,
    pub activity: Arc<crate::activity::ActivityConfig>,
    pub privacy: Arc<crate::privacy::PrivacyConfig>,
    /// The standard segments (none with `[activity] builtin_segments = false`).
    pub builtin_segments: Arc<Vec<kindred_proto::v1::Segment>>,
    /// Keeps segment membership current.
    pub memberships: crate::cluster::membership::Memberships,
    /// Fires the triggers that fall due on the partitions this node owns.
    pub firings: crate::cluster::triggers::Firings,
}

impl NodeState {
    /// This node's view of the cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The coordinator, or UNAVAILABLE while the node is starting.
    pub fn coordinator(&self) -> Result<&Coordinator, Status> {
        if self.ready.load(Ordering::Acquire) {
            Ok(&self.cluster.coordinator)
        } else {
            Err(Status::unavailable("node is starting: restoring its data"))
        }
    }
}

/// The services whose health turns SERVING once the node is open.
const SERVICES: [&str; 11] = [
    "",
    "kindred.v1.Records",
    "kindred.v1.Profiles",
    "kindred.v1.Events",
    "kindred.v1.Traits",
    "kindred.v1.Explain",
    "kindred.v1.Admin",
    "kindred.v1.Cluster",
    "kindred.v1.Privacy",
    "kindred.v1.Segments",
    "kindred.v1.Triggers",
];

/// Runs a node until `shutdown` resolves, then stops gracefully: in-flight
/// requests finish, the partition flushes and its thread exits.
pub async fn run(
    mut cfg: NodeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let tls = listeners::Tls::start(&cfg)?;
    let (bound, refusals) = listeners::bind(&cfg, &tls).await?;
    if cfg.advertise().ends_with(":0") {
        // An OS-assigned internal port: peers reach the one it got.
        cfg.cluster.advertise = bound.internal_addr.to_string();
    }
    let at_rest = crate::privacy::at_rest(&cfg)?;
    if let crate::storage::AtRest::Sealed(ring) = &at_rest {
        cfg.engine.blocking.secret = ring.blocking_secret();
    }
    let cluster = Cluster::start(&cfg, at_rest, load_model(&cfg)?, tls.peer())?;
    tokio::spawn(listeners::audit_refusals(refusals, cluster.audit.clone()));
    let activity = Arc::new(cfg.activity.clone());
    let builtin_segments = Arc::new(if cfg.activity.builtin_segments {
        crate::segments::builtin::builtin(&cfg.activity.order_type)
    } else {
        vec![]
    });
    let memberships = {
        let (c, a, b) = (cluster.clone(), activity.clone(), builtin_segments.clone());
        crate::cluster::membership::Memberships::start(
            cluster.coordinator.activities.clone(),
            Arc::new(move || traits::catalog_of(&c, &a, &b)),
        )
    };
    let firings = {
        let (c, a, b) = (cluster.clone(), activity.clone(), builtin_segments.clone());
        crate::cluster::triggers::Firings::new(
            cluster.coordinator.activities.clone(),
            Arc::new(move || traits::catalog_of(&c, &a, &b)),
        )
    };
    let state = NodeState {
        cluster: cluster.clone(),
        ready: Arc::new(AtomicBool::new(false)),
        limits: cfg.limits.clone(),
        engine: cfg.engine.clone(),
        activity,
        privacy: Arc::new(cfg.privacy.clone()),
        builtin_segments,
        memberships,
        firings,
    };
    tokio::spawn(traits::rfm_schedule(state.clone()));
    tokio::spawn(segments::sweep_schedule(state.clone()));
    tokio::spawn(segments::feed_retention_schedule(state.clone()));
    tokio::spawn(segments::trigger_schedule(state.clone()));
    for hook in cfg.webhooks.clone() {
        let m = state.memberships.clone();
        tokio::spawn(crate::webhooks::deliver_forever(cluster.clone(), m, hook));
    }
    tokio::spawn(privacy::retention_schedule(state.clone()));
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    // Restore in the background; the server answers UNAVAILABLE meanwhile.
    let (opener, failed) = open_in_background(&cluster, &state, health);
    let gate = listeners::gate(&cfg, cluster.audit.clone())?;
    listeners::serve_health(&cfg.health_listen, health_service.clone()).await?;
    if !cfg.metrics_listen.is_empty() {
        let addr = cfg.metrics_listen.parse()?;
        observe::endpoint::serve(addr, Arc::new(cluster.clone())).await?;
    }
    let public = services(&state, cfg.limits.max_message_bytes)?.add_service(health_service);
    tracing::info!(
        public = %bound.public_addr,
        internal = %bound.internal_addr,
        data_dir = %cfg.data_dir.display(),
        "kindred-node listening"
    );
    let internal = internal_service(&cluster, cfg.limits.max_message_bytes);
    let outcome = serve_until(bound, gate, public, internal, shutdown, failed).await;
    // Whatever happened, stop the partitions cleanly before returning:
    // dropping the handles closes the mailboxes; the actors flush and exit.
    drop(state);
    let _ = opener.await;
    tokio::task::spawn_blocking(move || cluster.close_all())
        .await
        .ok();
    let failure = outcome?;
    if let Some(e) = failure {
        return Err(anyhow::anyhow!("cannot open the data directory: {e}"));
    }
    tracing::info!("stopped");
    Ok(())
}

/// The model file named by the configuration, if any.
fn load_model(cfg: &NodeConfig) -> anyhow::Result<Option<Model>> {
    let Some(p) = &cfg.model else {
        return Ok(None);
    };
    let json = std::fs::read_to_string(p)
        .map_err(|e| anyhow::anyhow!("reading model {}: {e}", p.display()))?;
    let mut model =
        Model::from_json(&json).map_err(|e| anyhow::anyhow!("model {}: {e}", p.display()))?;
    // Stored by the partitions: keyed, as every model they store.
    model.key_term_frequencies(&cfg.engine.blocking.secret);
    Ok(Some(model))
}

/// Opens the node's partitions in the background; marks the node ready and
/// its services SERVING when done. The receiver gets the error if opening
/// fails.
fn open_in_background(
    cluster: &Cluster,
    state: &NodeState,
    health: tonic_health::server::HealthReporter,
) -> (tokio::task::JoinHandle<()>, oneshot::Receiver<NodeError>) {
    let opening = cluster.clone();
    let ready = state.ready.clone();
    let (fail_tx, fail_rx) = oneshot::channel::<NodeError>();
    let join = tokio::spawn(async move {
        let failure = match tokio::spawn(async move { opening.open().await }).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(e) => Some(NodeError::Unavailable(format!(
                "partition opener panicked: {e}"
            ))),
        };
        if let Some(e) = failure {
            let _ = fail_tx.send(e);
            return;
        }
        ready.store(true, Ordering::Release);
        for s in SERVICES {
            health
                .set_service_status(s, tonic_health::ServingStatus::Serving)
                .await;
        }
        tracing::info!("node is serving");
    });
    (join, fail_rx)
}

/// The public services and reflection, with their message size limits.
fn services(state: &NodeState, max: usize) -> anyhow::Result<tonic::service::Routes> {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(kindred_proto::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    // Stock clients (e.g. grpcio-reflection, grpcurl's fallback) still speak v1alpha.
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(kindred_proto::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    Ok(tonic::service::Routes::new(reflection)
        .add_service(reflection_alpha)
        .add_service(
            RecordsServer::new(records::RecordsService::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            ProfilesServer::new(profiles::ProfilesService::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            EventsServer::new(events::EventsService::new(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            TraitsServer::new(traits::TraitsService::new(state.clone()))
                .max_encoding_message_size(max),
        )
        .add_service(
            ExplainServer::new(explain::ExplainService::new(state.clone()))
                .max_encoding_message_size(max),
        )
        .add_service(
            AdminServer::new(admin::AdminService::new(state.clone()))
                .max_encoding_message_size(max),
        )
        .add_service(
            PrivacyServer::new(privacy::PrivacyService::new(state.clone()))
                .max_encoding_message_size(max),
        )
        .add_service(
            SegmentsServer::new(segments::SegmentsService::new(state.clone()))
                .max_encoding_message_size(max),
        )
        .add_service(
            TriggersServer::new(triggers::TriggersService::new(state.clone()))
                .max_encoding_message_size(max),
        )
        .add_service(ClusterServer::new(cluster::ClusterService::new(
            state.cluster.clone(),
        ))))
}

/// The node-to-node service, with its message size limits.
fn internal_service(cluster: &Cluster, max: usize) -> InternalServer<InternalService> {
    InternalServer::new(InternalService::new(cluster.clone()))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max)
}

/// Serves both listeners until `shutdown` resolves or opening the node
/// fails; in-flight requests then get a grace period (a client holding a
/// stream open cannot keep the node from stopping). Returns the opening
/// failure, if that is what stopped it.
async fn serve_until(
    bound: listeners::Bound,
    gate: GateLayer,
    public: tonic::service::Routes,
    internal: InternalServer<InternalService>,
    shutdown: impl Future<Output = ()> + Send,
    failed: oneshot::Receiver<NodeError>,
) -> anyhow::Result<Option<NodeError>> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let public = listeners::public_server()
        .layer(ObserveLayer::public())
        .layer(gate)
        .add_routes(public)
        .serve_with_incoming_shutdown(bound.public, stopped(stop_rx.clone()));
    let internal = listeners::internal_server()
        .layer(ObserveLayer::internal())
        .add_service(internal)
        .serve_with_incoming_shutdown(bound.internal, stopped(stop_rx));
    let servers = async { tokio::try_join!(public, internal).map(|_| ()) };
    tokio::pin!(servers);
    let mut failure = None;
    tokio::select! {
        r = &mut servers => return r.map(|()| None).map_err(Into::into),
        () = shutdown => tracing::info!("shutting down"),
        Ok(e) = failed => {
            tracing::error!(error = ?e, "cannot open the data directory");
            failure = Some(e);
        }
    }
    let _ = stop_tx.send(true);
    tokio::select! {
        r = &mut servers => r?,
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!(
            seconds = SHUTDOWN_GRACE.as_secs(),
            "streams still open after the grace period; closing them"
        ),
    }
    Ok(failure)
}
