//! The node's two listeners: the public API and the node-to-node
//! service, each on its own port, each with its own TLS, limits and
//! time-outs. The internal service is never served on the public port.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;

use crate::cluster::peers::PeerTls;
use crate::config::NodeConfig;
use crate::security::audit::{now_ms, AuditEntry, AuditLog};
use crate::security::auth::Credentials;
use crate::security::gate::{Gate, GateLayer};
use crate::security::tls::{self, Conn, Refusal, ServerTls, TlsFiles};

/// Concurrent HTTP/2 streams (calls) one connection may have open.
const MAX_STREAMS_PER_CONNECTION: u32 = 256;
/// Longest a node-to-node call may run before it is cancelled.
const INTERNAL_CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest header block a caller may send.
const MAX_HEADER_BYTES: u32 = 16 * 1024;

/// The TLS state of both listeners.
pub struct Tls {
    public: Option<ServerTls>,
    internal: Option<ServerTls>,
    peer: Option<PeerTls>,
}

impl Tls {
    /// Loads the certificates named by the configuration (and keeps
    /// reloading them). Warns loudly about every plaintext listener.
    pub fn start(cfg: &NodeConfig) -> anyhow::Result<Tls> {
        let public = match (&cfg.tls.cert, &cfg.tls.key) {
            (Some(cert), Some(key)) => Some(ServerTls::start(
                TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: cfg.tls.client_ca.clone(),
                    require_client_cert: false,
                },
                Vec::new(),
            )?),
            _ => {
                tracing::warn!(
                    listen = %cfg.listen,
                    "PLAINTEXT: the public API is not encrypted; set tls.cert and tls.key \
                     (--tls-cert/--tls-key) anywhere but a laptop"
                );
                None
            }
        };
        let it = &cfg.internal_tls;
        let (internal, peer) = match (&it.cert, &it.key, &it.ca) {
            (Some(cert), Some(key), Some(ca)) => {
                let t = ServerTls::start(
                    TlsFiles {
                        cert: cert.clone(),
                        key: key.clone(),
                        client_ca: Some(ca.clone()),
                        require_client_cert: true,
                    },
                    it.allowed_names.clone(),
                )?;
                let peer = PeerTls {
                    files: it.clone(),
                    generation: t.generation(),
                };
                (Some(t), Some(peer))
            }
            _ => {
                tracing::warn!(
                    "PLAINTEXT: node-to-node traffic is neither encrypted nor authenticated; \
                     set internal_tls (--internal-tls-cert/--internal-tls-key/--internal-ca)"
                );
                (None, None)
            }
        };
        Ok(Tls {
            public,
            internal,
            peer,
        })
    }

    /// How this node authenticates to its peers.
    pub fn peer(&self) -> Option<PeerTls> {
        self.peer.clone()
    }
}

/// The gate of the public services: credentials and the audit log.
pub fn gate(cfg: &NodeConfig, audit: AuditLog) -> anyhow::Result<GateLayer> {
    let loopback = cfg.listen_addr()?.ip().is_loopback();
    let credentials = Credentials::from_config(&cfg.auth, loopback)?;
    if credentials.is_empty() && credentials.anonymous_role().is_none() {
        anyhow::bail!(
            "no credentials are configured and the public API listens on a reachable \
             address ({}): add tokens (auth.tokens, --tokens-file) or client certificates \
             (auth.certificates), or set auth.anonymous_role explicitly",
            cfg.listen
        );
    }
    if let Some(role) = credentials.anonymous_role() {
        tracing::warn!(
            role = role.as_str(),
            "OPEN ACCESS: callers without credentials are accepted with this role"
        );
    }
    Ok(GateLayer::new(Gate {
        credentials,
        audit: Some(audit),
    }))
}

/// Both listeners, bound, with their accepted connections.
pub struct Bound {
    pub public: ReceiverStream<std::io::Result<Conn>>,
    pub internal: ReceiverStream<std::io::Result<Conn>>,
    pub public_addr: SocketAddr,
    pub internal_addr: SocketAddr,
}

/// Binds both listeners; refused connections (failed handshakes, unknown
/// peers) come out of the returned receiver.
pub async fn bind(
    cfg: &NodeConfig,
    tls: &Tls,
) -> anyhow::Result<(Bound, mpsc::UnboundedReceiver<Refusal>)> {
    let public = TcpListener::bind(cfg.listen_addr()?)
        .await
        .map_err(|e| anyhow::anyhow!("listen {}: {e}", cfg.listen))?;
    let internal_addr = cfg.internal_listen_addr()?;
    let internal = TcpListener::bind(internal_addr)
        .await
        .map_err(|e| anyhow::anyhow!("internal_listen {internal_addr}: {e}"))?;
    let (refused_tx, refused_rx) = mpsc::unbounded_channel();
    let bound = Bound {
        public_addr: public.local_addr()?,
        internal_addr: internal.local_addr()?,
        public: tls::incoming(public, tls.public.clone(), Some(refused_tx.clone())),
        internal: tls::incoming(internal, tls.internal.clone(), Some(refused_tx)),
    };
    Ok((bound, refused_rx))
}

/// Writes each refused connection (failed handshake, unknown peer) to the
/// audit log.
pub async fn audit_refusals(mut rx: mpsc::UnboundedReceiver<Refusal>, audit: AuditLog) {
    while let Some(r) = rx.recv().await {
        audit.record(AuditEntry {
            at_ms: now_ms(),
            node: 0,
            caller: "-".into(),
            role: String::new(),
            action: "connect".into(),
            remote: r.remote.to_string(),
            outcome: format!("denied: {}", r.reason),
        });
    }
}

/// Serves grpc.health.v1 alone, in plaintext, on `addr` (if set): the
/// port Kubernetes probes, which cannot present TLS or a token. It
/// reveals only whether the node is serving.
pub async fn serve_health<S>(addr: &str, health: S) -> anyhow::Result<()>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    if addr.is_empty() {
        return Ok(());
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("health_listen {addr}: {e}"))?;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tokio::spawn(async move {
        let served = Server::builder()
            .add_service(health)
            .serve_with_incoming(incoming)
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "health listener stopped");
        }
    });
    Ok(())
}

/// The public server's transport settings.
pub fn public_server() -> Server {
    Server::builder()
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .concurrency_limit_per_connection(MAX_STREAMS_PER_CONNECTION as usize)
        .http2_max_header_list_size(MAX_HEADER_BYTES)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .tcp_nodelay(true)
}

/// The node-to-node server's transport settings: every call has a deadline.
pub fn internal_server() -> Server {
    public_server().timeout(INTERNAL_CALL_TIMEOUT)
}
