//! The gate in front of the public services: authenticates each call,
//! checks its role against what the method needs, and writes the audit
//! log. A tower layer, so no handler can forget it.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::body::Body;
use tonic::Status;

use super::audit::{now_ms, AuditEntry, AuditLog};
use super::auth::{AuthError, Caller, Credentials};
use super::roles::{self, Permission};
use super::tls::PeerInfo;

/// What the gate decides with.
pub struct Gate {
    pub credentials: Credentials,
    pub audit: Option<AuditLog>,
}

/// The layer; clone it into the server builder.
#[derive(Clone)]
pub struct GateLayer(Arc<Gate>);

impl GateLayer {
    pub fn new(gate: Gate) -> Self {
        GateLayer(Arc::new(gate))
    }
}

impl<S> tower::Layer<S> for GateLayer {
    type Service = GateService<S>;
    fn layer(&self, inner: S) -> GateService<S> {
        GateService {
            gate: self.0.clone(),
            inner,
        }
    }
}

/// The service the layer wraps around the routes.
#[derive(Clone)]
pub struct GateService<S> {
    gate: Arc<Gate>,
    inner: S,
}

/// The bearer token of a request, if any.
fn bearer(req: &http::HeaderMap) -> Option<String> {
    let v = req.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// A refused call: the status, and who the caller was when they
/// authenticated but their role does not allow the method.
struct Refusal {
    status: Status,
    caller: Option<Caller>,
}

impl Gate {
    /// The caller, or why they are refused.
    fn admit(
        &self,
        need: Permission,
        token: Option<&str>,
        peer: &PeerInfo,
    ) -> Result<Option<Caller>, Refusal> {
        if need == Permission::Open {
            return Ok(None);
        }
        let caller = self
            .credentials
            .authenticate(token, &peer.cert_names)
            .map_err(|e| Refusal {
                status: match e {
                    AuthError::Missing => Status::unauthenticated("credentials required"),
                    AuthError::Invalid => Status::unauthenticated("invalid credentials"),
                },
                caller: None,
            })?;
        if !caller.role.grants(need) {
            return Err(Refusal {
                status: Status::permission_denied(format!(
                    "role {} may not call this method",
                    caller.role.as_str()
                )),
                caller: Some(caller),
            });
        }
        Ok(Some(caller))
    }

    fn audit(&self, path: &str, caller: Option<&Caller>, peer: &PeerInfo, outcome: String) {
        let Some(log) = &self.audit else { return };
        log.record(AuditEntry {
            at_ms: now_ms(),
            node: 0,
            caller: caller.map_or_else(|| "-".into(), |c| c.name.clone()),
            role: caller.map_or_else(String::new, |c| c.role.as_str().into()),
            action: path.into(),
            remote: peer.remote.map_or_else(String::new, |a| a.to_string()),
            outcome,
        });
    }
}

/// The outcome of a unary call as its headers tell it (a trailers-only
/// error response carries `grpc-status` there; success reports `ok`).
/// A privacy call's outcome is its code alone: its message may name the
/// person it was about, and the audit log is kept for a year.
fn outcome_of(path: &str, resp: &http::Response<Body>) -> String {
    match resp
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
    {
        None | Some("0") => "ok".into(),
        Some(code) if super::roles::required(path) == super::roles::Permission::Privacy => {
            format!("{:?}", tonic::Code::from(code.parse::<i32>().unwrap_or(2)))
        }
        Some(code) => {
            let msg = resp
                .headers()
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!(
                "{:?}: {msg}",
                tonic::Code::from(code.parse::<i32>().unwrap_or(2))
            )
        }
    }
}

impl<S, B> tower::Service<http::Request<B>> for GateService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let path = req.uri().path().to_string();
        let need = roles::required(&path);
        let peer = req
            .extensions()
            .get::<PeerInfo>()
            .cloned()
            .unwrap_or_default();
        let token = bearer(req.headers());
        let gate = self.gate.clone();
        match gate.admit(need, token.as_deref(), &peer) {
            Err(Refusal { status, caller }) => {
                gate.audit(
                    &path,
                    caller.as_ref(),
                    &peer,
                    format!("denied: {status:?}", status = status.code()),
                );
                Box::pin(async move { Ok(status.into_http()) })
            }
            Ok(caller) => {
                if let Some(c) = &caller {
                    req.extensions_mut().insert(c.clone());
                }
                // Take the service that was driven to readiness.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move {
                    let resp = inner.call(req).await?;
                    if roles::audited(&path) {
                        gate.audit(&path, caller.as_ref(), &peer, outcome_of(&path, &resp));
                    }
                    Ok(resp)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_authorization_is_a_token() {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", "Bearer abc ".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
