//! A minimal HTTP/1.1 POST over TCP or TLS, for webhook deliveries: one
//! connection per delivery (deliveries are batched and infrequent), with a
//! deadline on the whole exchange.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

/// Where a webhook posts, parsed once.
#[derive(Debug, Clone)]
pub struct Target {
    pub uri: http::Uri,
    host: String,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// Why a delivery failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(String, String),
    #[error("HTTP exchange failed: {0}")]
    Http(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the receiver answered {0}")]
    Status(u16),
}

impl Target {
    /// Parses an `http://` or `https://` URL; `roots` verify `https`.
    pub fn parse(url: &str, roots: Option<rustls::RootCertStore>) -> Result<Target, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("is not a URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("must start with http:// or https://".into()),
        };
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err("must not hold credentials (use token_file)".into());
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or("has no host")?;
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = match (https, roots) {
            (false, _) => None,
            (true, Some(roots)) => Some(Arc::new(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth(),
            )),
            (true, None) => return Err("is https but no CA bundle could be read".into()),
        };
        Ok(Target {
            host: host.trim_matches(['[', ']']).to_string(),
            port,
            uri,
            tls,
        })
    }

    /// Posts a JSON body with extra headers; Ok when the receiver answered
    /// 2xx within `timeout`.
    pub async fn post(
        &self,
        body: Vec<u8>,
        headers: &[(&str, String)],
        timeout: Duration,
    ) -> Result<(), PostError> {
        match tokio::time::timeout(timeout, self.exchange(body, headers)).await {
            Ok(r) => r,
            Err(_) => Err(PostError::Timeout(timeout)),
        }
    }

    async fn exchange(&self, body: Vec<u8>, headers: &[(&str, String)]) -> Result<(), PostError> {
        let addr = format!("{}:{}", self.host, self.port);
        let tcp = TcpStream::connect(&addr)
            .await
            .map_err(|e| PostError::Connect(addr.clone(), e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let req = self.request(body, headers)?;
        match &self.tls {
            None => send(TokioIo::new(tcp), req).await,
            Some(cfg) => {
                let name = ServerName::try_from(self.host.clone())
                    .map_err(|e| PostError::Tls(self.host.clone(), e.to_string()))?;
                let stream = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| PostError::Tls(self.host.clone(), e.to_string()))?;
                send(TokioIo::new(stream), req).await
            }
        }
    }

    fn request(
        &self,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<http::Request<Full<Bytes>>, PostError> {
        let path = self
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let mut b = http::Request::post(path)
            .header(
                http::header::HOST,
                self.uri.authority().map_or("", |a| a.as_str()),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "kindred-webhook/1");
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        b.body(Full::new(Bytes::from(body)))
            .map_err(|e| PostError::Http(e.to_string()))
    }
}

async fn send<IO>(io: TokioIo<IO>, req: http::Request<Full<Bytes>>) -> Result<(), PostError>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| PostError::Http(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| PostError::Http(e.to_string()))?;
    let status = resp.status().as_u16();
    // Read (at most 64 KiB of) the answer so the connection closes cleanly.
    let _ = http_body_util::Limited::new(resp.into_body(), 64 << 10)
        .collect()
        .await;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(PostError::Status(status))
    }
}

/// The system's CA bundle (Debian and the container image).
pub const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The CA bundle to verify `https` receivers with: `path` (every
/// certificate must be valid), else the system's bundle if there is one
/// (certificates the verifier cannot read are skipped).
pub fn roots(path: Option<&std::path::Path>) -> Result<Option<rustls::RootCertStore>, String> {
    if let Some(p) = path {
        return crate::security::tls::load_roots(p)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    let Ok(pem) = std::fs::read(SYSTEM_CAS) else {
        return Ok(None);
    };
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    let mut store = rustls::RootCertStore::empty();
    store.add_parsable_certificates(certs);
    Ok((!store.is_empty()).then_some(store))
}
