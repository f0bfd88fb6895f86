//! The `Admin` service: statistics and the match model.

use tonic::{Request, Response, Status};

use kindred_proto::v1::admin_server::Admin;
use kindred_proto::v1::{
    GetModelRequest, ModelResponse, StatsRequest, StatsResponse, TrainRequest, TrainResponse,
};

use super::convert;
use super::NodeState;
use crate::partition::Command;

/// Implements `kindred.v1.Admin`.
pub struct AdminService {
    state: NodeState,
}

impl AdminService {
    pub fn new(state: NodeState) -> Self {
        AdminService { state }
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn stats(&self, _req: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        let (s, version) = self
            .state
            .partition()?
            .call(|reply| Command::Stats { reply })
            .await?;
        Ok(Response::new(convert::stats(&s, version)))
    }

    async fn train(&self, req: Request<TrainRequest>) -> Result<Response<TrainResponse>, Status> {
        let r = req.into_inner();
        let t = self
            .state
            .partition()?
            .call(|reply| Command::Train {
                max_records: r.max_records as usize,
                dry_run: r.dry_run,
                reply,
            })
            .await?;
        Ok(Response::new(TrainResponse {
            model_version: t.model.version,
            model_json: t.model.to_json(),
            records_used: t.records_used as u64,
            seconds: t.seconds,
        }))
    }

    async fn get_model(
        &self,
        _req: Request<GetModelRequest>,
    ) -> Result<Response<ModelResponse>, Status> {
        let m = self
            .state
            .partition()?
            .call(|reply| Command::Model { reply })
            .await?;
        Ok(Response::new(ModelResponse {
            model_version: m.version,
            model_json: m.to_json(),
        }))
    }
}
