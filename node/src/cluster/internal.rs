//! The internal gRPC service that nodes of a cluster call on each other:
//! Raft messages, forwarded metadata proposals, partition operations and
//! partition file streaming. Separate from the public API.

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Response, Status};

use kindred_proto::internal::internal_server::Internal;
use kindred_proto::internal::{Ack, Blob, FetchRequest, FileChunk, PartitionCall, RaftMessage};

use super::peers::{decode, encode, NodeOp};
use super::Cluster;
use crate::error::NodeError;
use crate::partition::ops::{Op, OpReply, WireError};

/// Implements `kindred.internal.v1.Internal`.
pub struct InternalService {
    cluster: Cluster,
}

impl InternalService {
    pub fn new(cluster: Cluster) -> Self {
        InternalService { cluster }
    }
}

fn reply(r: Result<OpReply, NodeError>) -> Result<Response<Blob>, Status> {
    let r: Result<OpReply, WireError> = r.map_err(|e| WireError::from(&e));
    Ok(Response::new(Blob {
        body: encode(&r).map_err(Status::from)?,
    }))
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

    async fn call(&self, req: Request<PartitionCall>) -> Result<Response<Blob>, Status> {
        let c = req.into_inner();
        let op: Op = decode(&c.body)?;
        reply(
            self.cluster
                .router
                .serve(c.partition, Some(c.epoch), op)
                .await,
        )
    }

    async fn node(&self, req: Request<Blob>) -> Result<Response<Blob>, Status> {
        let op: NodeOp = decode(&req.into_inner().body)?;
        reply(self.cluster.serve_node(op).await)
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
