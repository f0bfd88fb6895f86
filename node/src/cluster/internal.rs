//! The internal gRPC service that nodes of a cluster call on each other:
//! Raft messages, forwarded metadata proposals, partition operations and
//! partition file streaming. Separate from the public API.

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Response, Status};

use kindred_proto::internal::internal_server::Internal;
use kindred_proto::internal::{
    Ack, Blob, FetchRequest, FileChunk, RaftMessage, ServeNodeRequest, ServeNodeResponse,
    ServePartitionRequest, ServePartitionResponse,
};

use super::node_request::NodeOp;
use super::peers::{decode, encode};
use super::Cluster;
use crate::error::NodeError;
use crate::partition::request::{Op, WireError};

/// Implements `kindred.internal.v1.Internal`.
pub struct InternalService {
    cluster: Cluster,
}

impl InternalService {
    pub fn new(cluster: Cluster) -> Self {
        InternalService { cluster }
    }
}

/// A reply, or the error as it crosses the wire, encoded.
fn encoded<T: serde::Serialize>(r: Result<T, NodeError>) -> Result<Vec<u8>, Status> {
    let r: Result<T, WireError> = r.map_err(|e| WireError::from(&e));
    Ok(encode(&r)?)
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<FileChunk, Status>> + Send>>;

#[tonic::async_trait]
impl Internal for InternalService {
    async fn raft(&self, req: Request<RaftMessage>) -> Result<Response<Ack>, Status> {
        self.cluster.step_raft(&req.into_inner().message)?;
        Ok(Response::new(Ack {}))
    }

    async fn propose(&self, req: Request<Blob>) -> Result<Response<Blob>, Status> {
        let body = self
            .cluster
            .propose_forwarded(&req.into_inner().body)
            .await?;
        Ok(Response::new(Blob { body }))
    }

    async fn serve_partition(
        &self,
        req: Request<ServePartitionRequest>,
    ) -> Result<Response<ServePartitionResponse>, Status> {
        let c = req.into_inner();
        let op: Op = decode(&c.body)?;
        let r = self
            .cluster
            .router()
            .serve(c.partition, Some(c.epoch), op)
            .await;
        Ok(Response::new(ServePartitionResponse { body: encoded(r)? }))
    }

    async fn serve_node(
        &self,
        req: Request<ServeNodeRequest>,
    ) -> Result<Response<ServeNodeResponse>, Status> {
        let op: NodeOp = decode(&req.into_inner().body)?;
        let r = self.cluster.serve_node(op).await;
        Ok(Response::new(ServeNodeResponse { body: encoded(r)? }))
    }

    type FetchStream = ChunkStream;

    async fn fetch(
        &self,
        req: Request<FetchRequest>,
    ) -> Result<Response<Self::FetchStream>, Status> {
        let s = self.cluster.serve_fetch(req.into_inner()).await?;
        Ok(Response::new(s))
    }
}
