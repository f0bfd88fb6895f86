//! The layer in front of every gRPC service (public and node-to-node):
//! gives each call a request id (the caller's `x-request-id` when it sent
//! a sane one), runs the call inside a `rpc` tracing span that carries
//! that id into every log line of the handler, returns the id in the
//! response's `x-request-id` header, counts the call and its latency by
//! method and status code, and logs every error returned with its id.
//!
//! The status of a call is in the response headers when it failed at once
//! (a trailers-only response) and in the trailers otherwise; the body is
//! wrapped so that a streaming call is measured and logged when it ends.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::body::Body;
use tonic::Code;
use tracing::Instrument;

use kindred_proto::status::code_name;

use super::metrics;

/// The header that carries a request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the call the current task serves.
    static CURRENT_REQUEST: Arc<str>;
}

/// The request id of the call the current task serves, if any: the
/// node-to-node client sends it on, so both nodes log the same id.
pub fn current_request_id() -> Option<Arc<str>> {
    CURRENT_REQUEST.try_with(Arc::clone).ok()
}

/// Spawns a task that serves part of the current call: it keeps the
/// call's request id (sent on to other nodes) and runs in its span.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let fut = fut.in_current_span();
    match current_request_id() {
        Some(id) => tokio::spawn(CURRENT_REQUEST.scope(id, fut)),
        None => tokio::spawn(fut),
    }
}

/// The layer; `label` names a request path for the metrics (a bounded set).
#[derive(Clone)]
pub struct ObserveLayer {
    label: fn(&str) -> &'static str,
}

impl ObserveLayer {
    /// For the public API: methods named as in the role table.
    pub fn public() -> Self {
        ObserveLayer {
            label: crate::security::roles::method_label,
        }
    }

    /// For the node-to-node service.
    pub fn internal() -> Self {
        ObserveLayer {
            label: internal_label,
        }
    }
}

/// The node-to-node Raft message method.
const RAFT_METHOD: &str = "/kindred.internal.v1.Internal/Raft";

fn internal_label(path: &str) -> &'static str {
    const METHODS: &[&str] = &[
        RAFT_METHOD,
        "/kindred.internal.v1.Internal/Propose",
        "/kindred.internal.v1.Internal/ServePartition",
        "/kindred.internal.v1.Internal/ServeNode",
        "/kindred.internal.v1.Internal/Fetch",
    ];
    METHODS
        .iter()
        .find(|m| **m == path)
        .copied()
        .unwrap_or("other")
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observed<S>;
    fn layer(&self, inner: S) -> Observed<S> {
        Observed {
            label: self.label,
            inner,
        }
    }
}

/// The service the layer wraps.
#[derive(Clone)]
pub struct Observed<S> {
    label: fn(&str) -> &'static str,
    inner: S,
}

/// A new request id: 16 hex digits, unique within the process and
/// unlikely to repeat across processes (a random start).
fn new_request_id() -> String {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU64::new(rand::random()));
    let n = next.fetch_add(1, Ordering::Relaxed);
    // A bijective mix, so consecutive ids do not look consecutive.
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    format!("{:016x}", z ^ (z >> 31))
}

/// The caller's request id if it is usable as one (1 to 64 characters of
/// letters, digits, `-`, `_`, `.`, `:`), else a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(new_request_id, str::to_string)
}

/// The status code and message in a header map, if it carries one
/// (grpc-message is percent-encoded on the wire).
fn status_in(headers: &HeaderMap) -> Option<(Code, String)> {
    let code = Code::from_bytes(headers.get("grpc-status")?.as_bytes());
    let message = headers.get("grpc-message").map_or_else(String::new, |m| {
        percent_encoding::percent_decode(m.as_bytes())
            .decode_utf8_lossy()
            .into_owned()
    });
    Some((code, message))
}

/// What is recorded when a call ends. A call dropped before it ended (a
/// deadline passed, the client reset the stream) is recorded as
/// CANCELLED when it is dropped, so no call is left in flight.
struct Call {
    method: &'static str,
    request_id: Arc<str>,
    started: Instant,
    span: tracing::Span,
    done: bool,
}

impl Call {
    fn start(method: &'static str, request_id: Arc<str>, span: tracing::Span) -> Call {
        metrics().rpc_in_flight.with_label_values(&[method]).inc();
        Call {
            method,
            request_id,
            started: Instant::now(),
            span,
            done: false,
        }
    }

    fn finish(mut self, code: Code, message: &str) {
        self.record(code, message);
    }

    fn record(&mut self, code: Code, message: &str) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let m = metrics();
        m.rpc_in_flight.with_label_values(&[self.method]).dec();
        let labels = [self.method, code_name(code)];
        m.rpc_calls.with_label_values(&labels).inc();
        let seconds = self.started.elapsed().as_secs_f64();
        m.rpc_latency.with_label_values(&labels).observe(seconds);
        if code == Code::Ok {
            return;
        }
        let _entered = self.span.enter();
        let ms = seconds * 1e3;
        let fault = server_fault(code);
        let code = code_name(code);
        // A refusal's message names the caller's values (an email, a
        // record id): personal data stays out of the log, the caller has
        // the message and the request id ties the two together.
        if fault {
            tracing::warn!(request_id = %self.request_id, code, ms, error = message, "call failed");
        } else {
            tracing::info!(request_id = %self.request_id, code, ms, "call refused");
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.record(
            Code::Cancelled,
            "the call ended before its response (deadline or client reset)",
        );
    }
}

/// Codes that say the node, not the caller, is at fault.
fn server_fault(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::Internal
            | Code::DataLoss
            | Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Unimplemented
    )
}

impl<S, B> tower::Service<http::Request<B>> for Observed<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = (self.label)(req.uri().path());
        let id: Arc<str> = request_id(req.headers()).into();
        // Raft messages (heartbeats included) are counted, not traced:
        // a span each would flood logs and traces.
        let span = if method == RAFT_METHOD {
            tracing::Span::none()
        } else {
            tracing::info_span!("rpc", method, request_id = %id)
        };
        let call = Call::start(method, id.clone(), span.clone());
        // Take the service that was driven to readiness.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(
            CURRENT_REQUEST.scope(
                id.clone(),
                async move {
                    let resp = match inner.call(req).await {
                        Ok(r) => r,
                        Err(e) => {
                            call.finish(Code::Unknown, "the transport failed the call");
                            return Err(e);
                        }
                    };
                    let (mut parts, body) = resp.into_parts();
                    if let Ok(v) = HeaderValue::from_str(&id) {
                        parts.headers.insert(REQUEST_ID_HEADER, v);
                    }
                    let body = match status_in(&parts.headers) {
                        // Trailers-only: the call is over.
                        Some((code, message)) => {
                            call.finish(code, &message);
                            body
                        }
                        None => Body::new(ObservedBody {
                            inner: body,
                            call: Some(call),
                        }),
                    };
                    Ok(http::Response::from_parts(parts, body))
                }
                .instrument(span),
            ),
        )
    }
}

/// A response body that records its call when its trailers arrive (or
/// when it ends or is dropped without them: the client went away).
struct ObservedBody {
    inner: Body,
    call: Option<Call>,
}

impl HttpBody for ObservedBody {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(t) = frame.trailers_ref() {
                    let (code, msg) = status_in(t).unwrap_or((Code::Ok, String::new()));
                    if let Some(c) = self.call.take() {
                        c.finish(code, &msg);
                    }
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(c) = self.call.take() {
                    c.finish(Code::Internal, "the response body failed");
                }
            }
            Poll::Ready(None) => {
                if let Some(c) = self.call.take() {
                    c.finish(Code::Ok, "");
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ObservedBody {
    fn drop(&mut self) {
        if let Some(c) = self.call.take() {
            // A body that had ended was sent whole (hyper does not poll a
            // body that says it has ended); otherwise the client went away
            // and dropping `c` records CANCELLED.
            if self.inner.is_end_stream() {
                c.finish(Code::Ok, "");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_caller_id_is_kept_and_anything_else_replaced() {
        let mut h = HeaderMap::new();
        h.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_static("import-42:batch.7"),
        );
        assert_eq!(request_id(&h), "import-42:batch.7");
        h.insert(
            REQUEST_ID_HEADER,
            HeaderValue::from_static("bad id with spaces"),
        );
        let fresh = request_id(&h);
        assert_eq!(fresh.len(), 16);
        assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
    }

    #[test]
    fn the_status_is_read_from_headers_with_its_message_decoded() {
        let mut h = HeaderMap::new();
        assert_eq!(status_in(&h), None);
        h.insert("grpc-status", HeaderValue::from_static("3"));
        h.insert(
            "grpc-message",
            HeaderValue::from_static("bad%20email%3A%20x"),
        );
        assert_eq!(
            status_in(&h),
            Some((Code::InvalidArgument, "bad email: x".to_string()))
        );
    }

    #[test]
    fn unknown_paths_get_one_label() {
        assert_eq!(
            internal_label("/kindred.internal.v1.Internal/Raft"),
            "/kindred.internal.v1.Internal/Raft"
        );
        assert_eq!(internal_label("/x/y"), "other");
    }
}
