//! The `Admin` service: statistics and the match model.

use tonic::{Request, Response, Status};

use kindred_proto::v1::admin_server::Admin;
use kindred_proto::v1::{
    AuditEntry, GetModelRequest, ListAuditRequest, ListAuditResponse, ModelResponse, StatsRequest,
    StatsResponse, TrainRequest, TrainResponse,
};

use super::convert;
use super::NodeState;
use crate::engine::features::Packed;
use crate::engine::train::{train_report, TrainOptions};
use crate::engine::Model;
use crate::error::NodeError;
use crate::meta::MetaCommand;

/// Implements `kindred.v1.Admin`.
pub struct AdminService {
    state: NodeState,
}

impl AdminService {
    pub fn new(state: NodeState) -> Self {
        AdminService { state }
    }
}

impl AdminService {
    /// Makes `model` the model of every partition and of the cluster.
    /// Its term-frequency tables are keyed first: the names they list never
    /// reach a partition's store or the Raft log.
    async fn install(&self, model: &Model) -> Result<(), Status> {
        let mut model = model.clone();
        model.key_term_frequencies(&self.state.engine.blocking.secret);
        let admin = &self.state.coordinator()?.maintenance;
        admin.set_model(model.to_json()).await?;
        // The cluster's record of the active model (cluster status).
        self.state
            .cluster
            .propose(MetaCommand::SetModel {
                version: model.version,
                json: model.to_json(),
            })
            .await?;
        Ok(())
    }
}

/// Most audit entries one call returns.
const MAX_AUDIT_ENTRIES: u32 = 100_000;

#[tonic::async_trait]
impl Admin for AdminService {
    async fn list_audit(
        &self,
        req: Request<ListAuditRequest>,
    ) -> Result<Response<ListAuditResponse>, Status> {
        let r = req.into_inner();
        let limit = match r.limit {
            0 => 1000,
            n => n.min(MAX_AUDIT_ENTRIES),
        };
        let (entries, unreachable) = self.state.cluster().audit_entries(r.since_ms, limit).await;
        let entries = entries
            .into_iter()
            .map(|e| AuditEntry {
                at_ms: e.at_ms,
                node: e.node,
                caller: e.caller,
                role: e.role,
                action: e.action,
                remote: e.remote,
                outcome: e.outcome,
            })
            .collect();
        Ok(Response::new(ListAuditResponse {
            entries,
            unreachable,
        }))
    }

    async fn stats(&self, _req: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        let maintenance = &self.state.coordinator()?.maintenance;
        let (s, version) = maintenance.stats().await?;
        let mut resp = convert::stats(&s, version);
        (resp.events, resp.activity_bytes) = maintenance.activity_size().await?;
        Ok(Response::new(resp))
    }

    async fn train(&self, req: Request<TrainRequest>) -> Result<Response<TrainResponse>, Status> {
        let r = req.into_inner();
        let admin = &self.state.coordinator()?.maintenance;
        let started = std::time::Instant::now();
        let opts = TrainOptions {
            max_records: if r.max_records == 0 {
                TrainOptions::default().max_records
            } else {
                r.max_records as usize
            },
            match_probability: self.state.engine.match_probability,
            ..TrainOptions::default()
        };
        let current = Model::from_json(&admin.model_json().await?)
            .map_err(|e| NodeError::Training(e.to_string()))?;
        let records = admin.sample().await?;
        let records_used = records.len().min(opts.max_records);
        let blocking = self.state.engine.blocking.clone();
        let report = tokio::task::spawn_blocking(move || {
            let refs: Vec<&Packed> = records.iter().collect();
            train_report(&refs, &blocking, &current, &opts)
        })
        .await
        .map_err(|e| NodeError::Training(e.to_string()))?
        .map_err(|e| NodeError::Training(e.to_string()))?;
        let implausible = !report.plausible();
        let install = !r.dry_run && (!implausible || r.force);
        if implausible {
            tracing::warn!(reasons = ?report.reasons(), installed = install, "trained model is implausible");
        }
        let model = &report.model;
        if install {
            self.install(model).await?;
        }
        Ok(Response::new(TrainResponse {
            model_version: model.version,
            model_json: model.to_json(),
            records_used: records_used as u64,
            seconds: started.elapsed().as_secs_f64(),
            warnings: report.warnings.iter().map(ToString::to_string).collect(),
            implausible,
            installed: install,
        }))
    }

    async fn get_model(
        &self,
        _req: Request<GetModelRequest>,
    ) -> Result<Response<ModelResponse>, Status> {
        let admin = &self.state.coordinator()?.maintenance;
        let m = Model::from_json(&admin.model_json().await?)
            .map_err(|e| NodeError::Training(e.to_string()))?;
        Ok(Response::new(ModelResponse {
            model_version: m.version,
            model_json: m.to_json(),
            reresolving_records: admin.reresolving().await?,
        }))
    }
}
