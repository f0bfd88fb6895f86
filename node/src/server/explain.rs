//! The `Explain` service: why records match, how entities were built.

use tonic::{Request, Response, Status};

use kindred_proto::v1::explain_server::Explain;
use kindred_proto::v1::{
    EntityExplanation, EntityHistory, HowRequest, PairExplanation, WhyEntityRequest,
    WhyRecordsRequest,
};

use super::convert;
use super::NodeState;
use crate::engine::resolver::record_key;
use crate::error::NodeError;

/// Implements `kindred.v1.Explain`.
pub struct ExplainService {
    state: NodeState,
}

impl ExplainService {
    pub fn new(state: NodeState) -> Self {
        ExplainService { state }
    }
}

#[tonic::async_trait]
impl Explain for ExplainService {
    async fn why_records(
        &self,
        req: Request<WhyRecordsRequest>,
    ) -> Result<Response<PairExplanation>, Status> {
        let r = req.get_ref();
        let a = convert::ref_parts(r.a.as_ref(), "a")?;
        let b = convert::ref_parts(r.b.as_ref(), "b")?;
        let p = self
            .state
            .coordinator()?
            .explainer
            .why_records(&record_key(&a.0, &a.1), &record_key(&b.0, &b.1))
            .await?;
        Ok(Response::new(convert::pair(&p)))
    }

    async fn why_entity(
        &self,
        req: Request<WhyEntityRequest>,
    ) -> Result<Response<EntityExplanation>, Status> {
        let r = req.get_ref();
        let record = convert::ref_parts(r.record.as_ref(), "record")?;
        if r.entity_id == 0 {
            return Err(NodeError::missing("entity_id").into());
        }
        let entity = r.entity_id;
        let e = self
            .state
            .coordinator()?
            .explainer
            .why_entity(&record_key(&record.0, &record.1), entity)
            .await?;
        Ok(Response::new(convert::entity_explanation(&e)))
    }

    async fn how(&self, req: Request<HowRequest>) -> Result<Response<EntityHistory>, Status> {
        let entity = req.get_ref().entity_id;
        if entity == 0 {
            return Err(NodeError::missing("entity_id").into());
        }
        let h = self.state.coordinator()?.explainer.how(entity).await?;
        Ok(Response::new(convert::group_history(&h)))
    }
}
