//! The `Profiles` service: the single customer view, search and export.

use std::collections::HashSet;
use std::pin::Pin;

use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use kindred_proto::v1::get_profile_request::Key;
use kindred_proto::v1::profiles_server::Profiles;
use kindred_proto::v1::{
    Assignment, ExportChunk, ExportRequest, GetProfileRequest, Profile, RecordRef, SearchRequest,
    SearchResponse,
};

use super::convert;
use super::NodeState;
use crate::activity::{Catalog, ProfileReads};
use crate::engine::resolver::split_key;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::observe;
use crate::privacy::consent::granted;

/// Implements `kindred.v1.Profiles`.
pub struct ProfilesService {
    state: NodeState,
}

impl ProfilesService {
    pub fn new(state: NodeState) -> Self {
        ProfilesService { state }
    }
}

type Boxed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Profiles for ProfilesService {
    async fn get(&self, req: Request<GetProfileRequest>) -> Result<Response<Profile>, Status> {
        let coordinator = self.state.coordinator()?;
        let reader = &coordinator.reader;
        let id = match req
            .into_inner()
            .key
            .ok_or_else(|| NodeError::missing("key"))?
        {
            Key::EntityId(id) => id,
            Key::Record(r) => {
                let (source, record_id) = convert::ref_parts(Some(&r), "record")?;
                reader.entity_of_record(&source, &record_id).await?
            }
            Key::Identity(i) => {
                if i.kind.is_empty() {
                    return Err(NodeError::missing("identity.kind").into());
                }
                if i.value.is_empty() {
                    return Err(NodeError::missing("identity.value").into());
                }
                reader.entity_of_identity(&i.kind, &i.value).await?
            }
        };
        let catalog = self.state.catalog();
        let p = coordinator.activities.profile(id, &catalog).await?;
        Ok(Response::new(p))
    }

    async fn search(
        &self,
        req: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let req = req.into_inner();
        let mut query = req.query.ok_or_else(|| NodeError::missing("query"))?;
        query.source = "query".into();
        query.record_id = "query".into();
        let limit = if req.limit == 0 {
            10
        } else {
            req.limit.min(1000)
        } as usize;
        let min_probability = if req.min_probability <= 0.0 {
            0.01
        } else {
            req.min_probability
        };
        let candidates = self
            .state
            .coordinator()?
            .reader
            .search(query, limit, min_probability)
            .await?;
        Ok(Response::new(SearchResponse { candidates }))
    }

    type ExportAssignmentsStream = Boxed<ExportChunk>;

    async fn export_assignments(
        &self,
        req: Request<ExportRequest>,
    ) -> Result<Response<Self::ExportAssignmentsStream>, Status> {
        let chunk = match req.get_ref().chunk_size {
            0 => 1000,
            n => n.min(100_000) as usize,
        };
        let rows = self.state.coordinator()?.reader.assignments().await?;
        let (tx, rx) = mpsc::channel(4);
        observe::rpc::spawn(async move {
            for part in rows.chunks(chunk) {
                let assignments = part
                    .iter()
                    .map(|(k, e)| {
                        let (s, r) = split_key(k);
                        Assignment {
                            record: Some(RecordRef {
                                source: s.to_string(),
                                record_id: r.to_string(),
                            }),
                            entity_id: *e,
                        }
                    })
                    .collect();
                if tx.send(Ok(ExportChunk { assignments })).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type ExportProfilesStream = Boxed<Profile>;

    async fn export_profiles(
        &self,
        req: Request<ExportRequest>,
    ) -> Result<Response<Self::ExportProfilesStream>, Status> {
        let purpose = req.into_inner().purpose;
        check_purpose(&self.state, &purpose)?;
        let catalog = self.state.catalog();
        let reads = catalog.profile_reads(self.state.activity.recent_events);
        let mut profiles = every_profile(&self.state, catalog, reads, None, 64).await?;
        let (tx, rx) = mpsc::channel(64);
        observe::rpc::spawn(async move {
            while let Some(p) = profiles.recv().await {
                // An audience for a purpose: only those who granted it.
                if matches!(&p, Ok(p) if !purpose.is_empty() && !granted(p, &purpose)) {
                    continue;
                }
                if tx.send(p.map_err(Into::into)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Refuses an audience purpose that is not configured (empty: none asked).
pub(super) fn check_purpose(state: &NodeState, purpose: &str) -> Result<(), NodeError> {
    let purposes = &state.activity.events.consent_purposes;
    if purpose.is_empty() || purposes.iter().any(|p| p == purpose) {
        return Ok(());
    }
    Err(NodeError::InvalidArgument {
        field: "purpose".into(),
        value: purpose.into(),
        reason: format!("is not a configured purpose ({})", purposes.join(", ")),
    })
}

/// Every customer's profile with its activity and segments (or those of
/// the customers `only` names), in ascending cluster-wide id (see
/// `Activities::profiles_in_order`).
pub(super) async fn every_profile(
    state: &NodeState,
    catalog: Catalog,
    reads: ProfileReads,
    only: Option<HashSet<EntityId>>,
    depth: usize,
) -> Result<mpsc::Receiver<Result<Profile, NodeError>>, NodeError> {
    let coordinator = state
        .coordinator()
        .map_err(|s| NodeError::Unavailable(s.message().into()))?;
    coordinator
        .activities
        .profiles_in_order(catalog, reads, only, depth)
        .await
}
