//! The metrics endpoint: plain HTTP on its own port (`--metrics-listen`),
//! `GET /metrics` in the Prometheus text format. It serves nothing else
//! and reads nothing personal: counts, latencies, sizes and indexes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::metrics::{metrics, Scrape};
use super::PartitionProbe;
use crate::meta::RaftStatus;

/// Longest a scraper may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one connection is served.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(120);

/// What a scrape needs from the node, read when scraped.
pub trait Source: Send + Sync + 'static {
    /// Each local partition's probe, with its mailbox depth.
    fn partitions(&self) -> Vec<(Arc<PartitionProbe>, usize)>;
    /// Each Raft group this node is a member of, by name.
    fn raft(&self) -> Vec<(&'static str, RaftStatus)>;
}

/// Binds `addr` and serves the metrics in the background; returns the
/// bound address (the port may have been 0).
pub async fn serve(addr: SocketAddr, source: Arc<dyn Source>) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("metrics_listen {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (tcp, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather
                    // than spin.
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            };
            let source = source.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| answer(req, source.clone()));
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(tcp), svc);
                // A scraper that holds a connection open longer is cut off.
                let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
            });
        }
    });
    tracing::info!(metrics = %bound, "metrics listening");
    Ok(bound)
}

async fn answer(
    req: Request<Incoming>,
    source: Arc<dyn Source>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r
    };
    if req.uri().path() != "/metrics" {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "only /metrics is served here\n".into(),
        ));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, String::new()));
    }
    let rendered = tokio::task::spawn_blocking(move || {
        let partitions = source.partitions();
        let raft = source.raft();
        metrics().render(&Scrape {
            partitions: &partitions,
            raft: &raft,
        })
    })
    .await;
    let Ok(text) = rendered else {
        return Ok(reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "gathering the metrics failed\n".into(),
        ));
    };
    let mut r = reply(StatusCode::OK, text);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}
