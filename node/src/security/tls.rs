//! TLS for the node's listeners, with certificates reloaded from their
//! files when they change (cert-manager rotates them in place).
//!
//! Connections are accepted here rather than by tonic so that each
//! handshake runs on its own task with a deadline (a slow client cannot
//! stall the accept loop), the current certificate is used for each new
//! connection, and the verified peer names travel with the connection
//! into every request as [`PeerInfo`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often certificate files are checked for changes.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// TLS problems, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_err(path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Reads a PEM certificate chain.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path, e))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no PEM certificate found"));
    }
    Ok(certs)
}

/// Reads a PEM private key.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path, e))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| file_err(path, e))
}

/// Reads a PEM CA bundle into a root store.
pub fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in load_certs(path)? {
        roots.add(c).map_err(|e| file_err(path, e))?;
    }
    Ok(roots)
}

/// The names a certificate is issued to: subject common names and DNS
/// subject alternative names.
pub fn cert_names(der: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_string))
        .collect();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(d) = n {
                names.push((*d).to_string());
            }
        }
    }
    names
}

/// Where a listener's certificate comes from, and whom it asks for one.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA that client certificates must chain to.
    pub client_ca: Option<PathBuf>,
    /// True: a client certificate is required (mutual TLS).
    pub require_client_cert: bool,
}

impl TlsFiles {
    fn paths(&self) -> Vec<&Path> {
        let mut v = vec![self.cert.as_path(), self.key.as_path()];
        v.extend(self.client_ca.as_deref());
        v
    }

    /// Builds a rustls server configuration from the files.
    pub fn server_config(&self) -> Result<ServerConfig, TlsError> {
        let certs = load_certs(&self.cert)?;
        let key = load_key(&self.key)?;
        let builder = ServerConfig::builder();
        let builder = match &self.client_ca {
            Some(ca) => {
                let verifier = WebPkiClientVerifier::builder(Arc::new(load_roots(ca)?));
                let verifier = if self.require_client_cert {
                    verifier.build()
                } else {
                    verifier.allow_unauthenticated().build()
                };
                builder.with_client_cert_verifier(
                    verifier.map_err(|e| TlsError::Config(e.to_string()))?,
                )
            }
            None => builder.with_no_client_auth(),
        };
        let mut cfg = builder
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Config(format!("{}: {e}", self.cert.display())))?;
        cfg.alpn_protocols = vec![b"h2".to_vec()];
        Ok(cfg)
    }

    /// Modification times of the files (None if one cannot be read).
    fn stamps(&self) -> Vec<Option<SystemTime>> {
        self.paths()
            .iter()
            .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .collect()
    }
}

/// A listener's TLS: the current configuration, swapped when the files change.
#[derive(Clone)]
pub struct ServerTls {
    current: Arc<RwLock<Arc<ServerConfig>>>,
    /// Names a client certificate must carry one of (empty: any).
    allowed_names: Arc<Vec<String>>,
    /// Bumped on every reload (peers rebuild their channels).
    generation: watch::Receiver<u64>,
}

impl ServerTls {
    /// Loads the files now and reloads them whenever they change.
    pub fn start(files: TlsFiles, allowed_names: Vec<String>) -> Result<ServerTls, TlsError> {
        let current = Arc::new(RwLock::new(Arc::new(files.server_config()?)));
        let (tx, rx) = watch::channel(0u64);
        tokio::spawn(reload_loop(files, current.clone(), tx));
        Ok(ServerTls {
            current,
            allowed_names: Arc::new(allowed_names),
            generation: rx,
        })
    }

    /// Changes each time the certificates are reloaded.
    pub fn generation(&self) -> watch::Receiver<u64> {
        self.generation.clone()
    }

    fn config(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// Polls the files; on a change, rebuilds the configuration. A broken
/// new file keeps the old certificate (and says so) until it is fixed.
async fn reload_loop(
    files: TlsFiles,
    current: Arc<RwLock<Arc<ServerConfig>>>,
    generation: watch::Sender<u64>,
) {
    let mut seen = files.stamps();
    loop {
        tokio::time::sleep(RELOAD_EVERY).await;
        if generation.is_closed() {
            return;
        }
        let now = files.stamps();
        if now == seen {
            continue;
        }
        match files.server_config() {
            Ok(cfg) => {
                if let Ok(mut c) = current.write() {
                    *c = Arc::new(cfg);
                }
                seen = now;
                generation.send_modify(|g| *g += 1);
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "new TLS files are not usable; keeping the old certificate");
                seen = now;
            }
        }
    }
}

/// What a request knows about the connection it came on.
#[derive(Debug, Clone, Default)]
pub struct PeerInfo {
    pub remote: Option<SocketAddr>,
    /// Names of the verified client certificate (empty without one).
    pub cert_names: Arc<Vec<String>>,
}

/// An accepted connection, plaintext or TLS.
pub enum Conn {
    Plain(TcpStream, PeerInfo),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>, PeerInfo),
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = PeerInfo;
    fn connect_info(&self) -> PeerInfo {
        match self {
            Conn::Plain(_, p) | Conn::Tls(_, p) => p.clone(),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s, _) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s, _) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s, _) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s, _) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A refused connection: the listener reports it (for the audit log).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub remote: SocketAddr,
    pub reason: String,
}

/// Accepts connections on `listener`, completing TLS handshakes (if any)
/// on their own tasks, and yields them in the order they become ready.
pub fn incoming(
    listener: TcpListener,
    tls: Option<ServerTls>,
    refused: Option<mpsc::UnboundedSender<Refusal>>,
) -> ReceiverStream<std::io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, remote) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let tx = tx.clone();
            if tx.is_closed() {
                return;
            }
            let tls = tls.clone();
            let refused = refused.clone();
            tokio::spawn(async move {
                match accept_one(tcp, remote, tls.as_ref()).await {
                    Ok(conn) => {
                        let _ = tx.send(Ok(conn)).await;
                    }
                    Err(reason) => {
                        tracing::warn!(%remote, %reason, "connection refused");
                        if let Some(r) = refused {
                            let _ = r.send(Refusal { remote, reason });
                        }
                    }
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Completes one connection: the TLS handshake and the peer name check.
async fn accept_one(
    tcp: TcpStream,
    remote: SocketAddr,
    tls: Option<&ServerTls>,
) -> Result<Conn, String> {
    let Some(tls) = tls else {
        let info = PeerInfo {
            remote: Some(remote),
            cert_names: Arc::default(),
        };
        return Ok(Conn::Plain(tcp, info));
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
        .await
        .map_err(|_| "TLS handshake timed out".to_string())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let names = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(cert_names)
        .unwrap_or_default();
    let allowed = &tls.allowed_names;
    if !allowed.is_empty() && !names.iter().any(|n| allowed.contains(n)) {
        return Err(format!(
            "peer certificate names {names:?} are not on the allowed list"
        ));
    }
    let info = PeerInfo {
        remote: Some(remote),
        cert_names: Arc::new(names),
    };
    Ok(Conn::Tls(Box::new(stream), info))
}
