//! The `Privacy` service: erasure and the suppression list it leaves,
//! consent decisions, and subject access.

use tonic::{Request, Response, Status};

use kindred_proto::v1::lift_suppression_request::Target as LiftTarget;
use kindred_proto::v1::person_ref::Target;
use kindred_proto::v1::privacy_server::Privacy;
use kindred_proto::v1::{
    ApplyRetentionRequest, ApplyRetentionResponse, ConsentResult, EraseRequest, EraseResponse,
    Erasure, ErasureState, Identifier, LiftSuppressionRequest, LiftSuppressionResponse,
    ListErasuresRequest, ListErasuresResponse, ListSuppressionsRequest, ListSuppressionsResponse,
    PrivacyExportRequest, PrivacyExportResponse, Record, SetConsentRequest, SetConsentResponse,
    Suppression,
};

use super::NodeState;
use crate::cluster::erase::PersonRef;
use crate::error::NodeError;
use crate::meta::{ErasureEntry, ErasureStage, MetaCommand};
use crate::security::auth::Caller;
use crate::server::subject;

/// Implements `kindred.v1.Privacy`.
pub struct PrivacyService {
    state: NodeState,
}

impl PrivacyService {
    pub fn new(state: NodeState) -> Self {
        PrivacyService { state }
    }
}

fn erasure(e: &ErasureEntry) -> Erasure {
    Erasure {
        id: e.id,
        state: match e.stage {
            ErasureStage::Received => ErasureState::Received,
            ErasureStage::InProgress => ErasureState::InProgress,
            ErasureStage::Done => ErasureState::Done,
            ErasureStage::Failed => ErasureState::Failed,
        } as i32,
        received_at_ms: e.received_ms,
        done_at_ms: e.done_ms,
        requested_by: e.by.clone(),
        records_erased: e.records,
        identifiers_suppressed: e.identifiers,
        error: e.error.clone(),
    }
}

fn required(field: &str, value: &str) -> Result<(), NodeError> {
    if value.trim().is_empty() {
        return Err(NodeError::missing(field));
    }
    Ok(())
}

/// The person an erasure names.
fn person(target: Option<Target>) -> Result<PersonRef, NodeError> {
    let identity = |kind: &str, value: String, field: &str| {
        required(field, &value)?;
        Ok(PersonRef::Identity {
            kind: kind.to_string(),
            value,
        })
    };
    match target.ok_or_else(|| NodeError::missing("person"))? {
        Target::Email(v) => identity("email", v, "person.email"),
        Target::Phone(v) => identity("phone", v, "person.phone"),
        Target::Identifier(i) => {
            required("person.identifier.kind", &i.kind)?;
            identity(&i.kind, i.value, "person.identifier.value")
        }
        Target::EntityId(0) => Err(NodeError::missing("person.entity_id")),
        Target::EntityId(id) => Ok(PersonRef::Entity(id)),
        Target::Record(r) => {
            required("person.record.source", &r.source)?;
            required("person.record.record_id", &r.record_id)?;
            Ok(PersonRef::Record {
                source: r.source,
                record_id: r.record_id,
            })
        }
    }
}

/// The suppression ids a lift names: the id itself, or the keyed hash of
/// the value standardised as a record holding it would be.
fn suppression_ids(
    writer: &crate::cluster::write::Writer,
    target: Option<LiftTarget>,
) -> Result<Vec<String>, NodeError> {
    let mut r = Record::default();
    match target.ok_or_else(|| NodeError::missing("target"))? {
        LiftTarget::Id(id) => {
            required("id", &id)?;
            return Ok(vec![id]);
        }
        LiftTarget::Email(v) => r.emails.push(v),
        LiftTarget::Phone(v) => r.phones.push(v),
        LiftTarget::Identifier(i) => r.identifiers.push(Identifier {
            kind: i.kind,
            value: i.value,
        }),
    }
    let std = writer.standardize(&r, writer.now_ms());
    let ids: Vec<String> = writer
        .suppressions
        .hashes_of(&std)
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    if ids.is_empty() {
        return Err(NodeError::InvalidArgument {
            field: "target".into(),
            value: String::new(),
            reason: "is not a valid email, phone or identifier".into(),
        });
    }
    Ok(ids)
}

/// The result of one consent decision.
fn consent_result(
    d: &kindred_proto::v1::RecordDecision,
    out: Result<crate::cluster::activity::EventOutcome, NodeError>,
) -> ConsentResult {
    let record = d.record.clone().unwrap_or_default();
    let purpose = d
        .decision
        .as_ref()
        .map(|x| x.purpose.clone())
        .unwrap_or_default();
    match out {
        Ok(o) => ConsentResult {
            record: Some(record),
            purpose,
            duplicate: o.duplicate,
            entity_id: o.entity,
            ..Default::default()
        },
        Err(e) => ConsentResult {
            record: Some(record),
            purpose,
            error: e.to_string(),
            code: e.code() as i32,
            ..Default::default()
        },
    }
}

#[tonic::async_trait]
impl Privacy for PrivacyService {
    async fn set_consent(
        &self,
        req: Request<SetConsentRequest>,
    ) -> Result<Response<SetConsentResponse>, Status> {
        let decisions = req.into_inner().decisions;
        if decisions.len() > self.state.limits.max_batch_records {
            return Err(NodeError::TooLarge {
                what: "consent decisions".into(),
                size: decisions.len(),
                limit: self.state.limits.max_batch_records,
            }
            .into());
        }
        let activities = &self.state.coordinator()?.activities;
        let outs = activities.set_consent(decisions.clone()).await;
        let results = decisions
            .iter()
            .zip(outs)
            .map(|(d, o)| consent_result(d, o))
            .collect();
        Ok(Response::new(SetConsentResponse { results }))
    }

    async fn apply_retention(
        &self,
        _req: Request<ApplyRetentionRequest>,
    ) -> Result<Response<ApplyRetentionResponse>, Status> {
        self.state.coordinator()?;
        let cluster = self.state.cluster().clone();
        let retention = self.state.privacy.retention.clone();
        // Carried to its end even if the caller goes away, as an erasure.
        let done =
            crate::observe::rpc::spawn(async move { cluster.apply_retention(&retention).await })
                .await
                .map_err(|e| Status::internal(format!("the retention task failed: {e}")))??;
        Ok(Response::new(ApplyRetentionResponse {
            erasure: done.as_ref().map(erasure),
        }))
    }

    async fn export(
        &self,
        req: Request<PrivacyExportRequest>,
    ) -> Result<Response<PrivacyExportResponse>, Status> {
        let target = req.into_inner().person.and_then(|p| p.target);
        let person = person(target)?;
        let cluster = self.state.cluster();
        let customer = cluster.customer_of(&person).await?;
        let out = subject::export(cluster, customer, &self.state.catalog()).await?;
        Ok(Response::new(out))
    }

    async fn erase(&self, req: Request<EraseRequest>) -> Result<Response<EraseResponse>, Status> {
        let by = req
            .extensions()
            .get::<Caller>()
            .map_or_else(|| "unknown".to_string(), |c| c.name.clone());
        let target = req.into_inner().person.and_then(|p| p.target);
        let person = person(target)?;
        self.state.coordinator()?;
        // Carried on to its end even if the caller goes away: an erasure
        // cut short would be left in progress, half done.
        let cluster = self.state.cluster().clone();
        let done = crate::observe::rpc::spawn(async move { cluster.erase(person, &by).await })
            .await
            .map_err(|e| Status::internal(format!("the erasure task failed: {e}")))??;
        if done.stage == ErasureStage::Failed {
            return Err(Status::unavailable(format!(
                "erasure {} failed: {}",
                done.id, done.error
            )));
        }
        Ok(Response::new(EraseResponse {
            erasure: Some(erasure(&done)),
        }))
    }

    async fn list_erasures(
        &self,
        _req: Request<ListErasuresRequest>,
    ) -> Result<Response<ListErasuresResponse>, Status> {
        let st = self.state.cluster().meta.state();
        let erasures = st.erasures.values().rev().map(erasure).collect();
        Ok(Response::new(ListErasuresResponse { erasures }))
    }

    async fn list_suppressions(
        &self,
        _req: Request<ListSuppressionsRequest>,
    ) -> Result<Response<ListSuppressionsResponse>, Status> {
        let st = self.state.cluster().meta.state();
        let suppressions = st
            .suppressions
            .iter()
            .map(|(id, e)| Suppression {
                id: id.clone(),
                kind: e.kind.clone(),
                erasure_id: e.erasure,
                at_ms: e.at_ms,
            })
            .collect();
        Ok(Response::new(ListSuppressionsResponse { suppressions }))
    }

    async fn lift_suppression(
        &self,
        req: Request<LiftSuppressionRequest>,
    ) -> Result<Response<LiftSuppressionResponse>, Status> {
        let writer = &self.state.coordinator()?.writer;
        let ids = suppression_ids(writer, req.into_inner().target)?;
        let st = self.state.cluster().meta.state();
        let ids: Vec<String> = ids
            .into_iter()
            .filter(|id| st.suppressions.contains_key(id))
            .collect();
        let lifted = ids.len() as u32;
        if lifted > 0 {
            self.state
                .cluster()
                .propose(MetaCommand::LiftSuppressions { ids })
                .await?;
        }
        Ok(Response::new(LiftSuppressionResponse { lifted }))
    }
}

/// Applies the retention policy on a schedule, on the metadata leader
/// (`[privacy.retention] interval_hours`; the first sweep soon after the
/// node opens).
pub async fn retention_schedule(state: NodeState) {
    let retention = state.privacy.retention.clone();
    if !retention.enabled() {
        return;
    }
    let interval_ms = i64::from(retention.interval_hours) * 3_600_000;
    let mut last: Option<i64> = None;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let cluster = state.cluster();
        let Ok(coordinator) = state.coordinator() else {
            continue;
        };
        if cluster.raft_status().role != "leader" {
            continue;
        }
        let now = coordinator.writer.now_ms();
        if last.is_some_and(|t| now - t < interval_ms) {
            continue;
        }
        match cluster.apply_retention(&retention).await {
            Ok(_) => last = Some(now),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
    }
}
