//! Clients of the other nodes' internal service.
//!
//! One lazily connecting channel per node. Addresses may be host names
//! that do not resolve yet (a StatefulSet pod that has not started): the
//! channel resolves on each connection attempt, and a call to a node that
//! cannot be reached fails with UNAVAILABLE, which callers retry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use kindred_proto::internal::internal_client::InternalClient;
use kindred_proto::internal::{Blob, RaftMessage, ServeNodeRequest, ServePartitionRequest};

use super::node_request::{NodeOp, NodeReply, Report};
use crate::error::NodeError;
use crate::partition::request::{Op, OpReply, WireError};
use crate::security::settings::InternalTls;

/// Encodes a serde value for the internal service.
pub fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, NodeError> {
    postcard::to_stdvec(v).map_err(|e| NodeError::Unavailable(format!("encoding: {e}")))
}

/// Decodes a serde value from the internal service.
pub fn decode<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, NodeError> {
    postcard::from_bytes(b).map_err(|e| NodeError::InvalidArgument {
        field: "body".into(),
        value: format!("{} bytes", b.len()),
        reason: format!("not a valid internal message: {e}"),
    })
}

/// Maps a status from another node back to a typed error.
pub fn from_status(node: u64, s: tonic::Status) -> NodeError {
    match s.code() {
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled => {
            NodeError::Unavailable(format!("node {node}: {}", s.message()))
        }
        code => NodeError::Remote {
            code: code as i32,
            message: s.message().to_string(),
            field: String::new(),
            value: String::new(),
        },
    }
}

/// How this node authenticates to its peers: its certificate and the
/// cluster CA, read from their files whenever a channel is (re)built.
#[derive(Clone)]
pub struct PeerTls {
    pub files: InternalTls,
    /// Changes when the node's certificates are reloaded.
    pub generation: watch::Receiver<u64>,
}

impl PeerTls {
    fn config(&self) -> Result<ClientTlsConfig, NodeError> {
        let read = |p: &Option<std::path::PathBuf>| {
            let p = p.as_ref().ok_or_else(|| {
                NodeError::Unavailable("internal TLS is missing a certificate file".into())
            })?;
            std::fs::read(p).map_err(|e| NodeError::Unavailable(format!("{}: {e}", p.display())))
        };
        let f = &self.files;
        Ok(ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&f.ca)?))
            .identity(Identity::from_pem(read(&f.cert)?, read(&f.key)?)))
    }
}

/// Channels to the other nodes, by node id.
#[derive(Clone, Default)]
pub struct Peers {
    channels: Arc<Mutex<HashMap<u64, (String, Channel)>>>,
    max_message: usize,
    tls: Option<PeerTls>,
    /// The certificate generation the cached channels were built with.
    built_with: Arc<AtomicU64>,
    /// Calls made (partition ops, node ops, proposals, fetches).
    rpcs: Arc<AtomicU64>,
    /// Raft messages sent.
    raft_messages: Arc<AtomicU64>,
}

impl Peers {
    pub fn new(max_message: usize, tls: Option<PeerTls>) -> Peers {
        Peers {
            channels: Arc::default(),
            max_message,
            tls,
            built_with: Arc::default(),
            rpcs: Arc::default(),
            raft_messages: Arc::default(),
        }
    }

    /// Counts one internal call (partition ops, node ops, proposals,
    /// checkpoint fetches).
    pub fn count_call(&self) {
        self.rpcs.fetch_add(1, Ordering::Relaxed);
    }

    /// (internal calls, raft messages) sent since start.
    pub fn counters(&self) -> (u64, u64) {
        (
            self.rpcs.load(Ordering::Relaxed),
            self.raft_messages.load(Ordering::Relaxed),
        )
    }

    /// The internal client of a node at an address (reconnecting lazily).
    pub fn client(&self, node: u64, addr: &str) -> Result<InternalClient<Channel>, NodeError> {
        let mut map = self
            .channels
            .lock()
            .map_err(|_| NodeError::Unavailable("peer table poisoned".into()))?;
        if let Some(t) = &self.tls {
            // Rotated certificates: rebuild every channel with the new ones.
            let generation = *t.generation.borrow();
            if self.built_with.swap(generation, Ordering::Relaxed) != generation {
                map.clear();
            }
        }
        let fresh = !matches!(map.get(&node), Some((a, _)) if a == addr);
        if fresh {
            map.insert(node, (addr.to_string(), self.channel(addr)?));
        }
        let ch = map[&node].1.clone();
        Ok(InternalClient::new(ch)
            .max_decoding_message_size(self.max_message)
            .max_encoding_message_size(self.max_message))
    }

    /// A lazily connecting channel to `addr`, over mutual TLS if configured.
    fn channel(&self, addr: &str) -> Result<Channel, NodeError> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let uri = match addr.split_once("://") {
            Some((_, rest)) => format!("{scheme}://{rest}"),
            None => format!("{scheme}://{addr}"),
        };
        let bad = |e: &dyn std::fmt::Display| NodeError::InvalidArgument {
            field: "peers".into(),
            value: addr.into(),
            reason: e.to_string(),
        };
        let mut ep = Endpoint::from_shared(uri)
            .map_err(|e| bad(&e))?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(120))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5));
        if let Some(t) = &self.tls {
            ep = ep.tls_config(t.config()?).map_err(|e| bad(&e))?;
        }
        Ok(ep.connect_lazy())
    }

    /// Runs a request on a partition owned by another node (with the
    /// request id of the call it serves, so both nodes log the same id).
    pub async fn call(
        &self,
        node: u64,
        addr: &str,
        partition: u32,
        epoch: u64,
        op: &Op,
    ) -> Result<OpReply, NodeError> {
        let mut c = self.client(node, addr)?;
        self.count_call();
        let body = encode(op)?;
        let r = c
            .serve_partition(with_request_id(ServePartitionRequest {
                partition,
                epoch,
                body,
            }))
            .await
            .map_err(|s| from_status(node, s))?;
        let out: Result<OpReply, WireError> = decode(&r.into_inner().body)?;
        out.map_err(NodeError::from)
    }

    /// Runs a node-wide request on another node.
    pub async fn node(&self, node: u64, addr: &str, op: &NodeOp) -> Result<NodeReply, NodeError> {
        let mut c = self.client(node, addr)?;
        self.count_call();
        let mut req = with_request_id(ServeNodeRequest { body: encode(op)? });
        if matches!(op, NodeOp::Report(Report)) {
            req.set_timeout(Duration::from_secs(3));
        }
        let r = c.serve_node(req).await.map_err(|s| from_status(node, s))?;
        let out: Result<NodeReply, WireError> = decode(&r.into_inner().body)?;
        out.map_err(NodeError::from)
    }

    /// Sends a Raft message; failures are the caller's to ignore.
    pub async fn raft(&self, node: u64, addr: &str, message: Vec<u8>) -> Result<(), NodeError> {
        let mut c = self.client(node, addr)?;
        self.raft_messages.fetch_add(1, Ordering::Relaxed);
        c.raft(RaftMessage { message })
            .await
            .map_err(|s| from_status(node, s))?;
        Ok(())
    }

    /// Forwards a metadata proposal (encoded) to a node.
    pub async fn propose(
        &self,
        node: u64,
        addr: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, NodeError> {
        let mut c = self.client(node, addr)?;
        self.count_call();
        let r = c
            .propose(Blob { body })
            .await
            .map_err(|s| from_status(node, s))?;
        Ok(r.into_inner().body)
    }
}

/// A node-to-node request carrying the id of the client call it serves.
fn with_request_id<T>(body: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(body);
    if let Some(v) = crate::observe::rpc::current_request_id()
        .and_then(|id| tonic::metadata::MetadataValue::try_from(id.as_ref()).ok())
    {
        req.metadata_mut()
            .insert(crate::observe::rpc::REQUEST_ID_HEADER, v);
    }
    req
}
