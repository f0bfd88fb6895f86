//! The `Profiles` service: the single customer view, search and export.

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
use crate::error::NodeError;
use crate::partition::{Command, ProfileKey};

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
        let key = match req
            .into_inner()
            .key
            .ok_or_else(|| NodeError::missing("key"))?
        {
            Key::EntityId(id) => ProfileKey::Entity(id),
            Key::Record(r) => {
                let (source, record_id) = convert::ref_parts(Some(&r), "record")?;
                ProfileKey::Record { source, record_id }
            }
            Key::Identity(i) => {
                if i.kind.is_empty() {
                    return Err(NodeError::missing("identity.kind").into());
                }
                if i.value.is_empty() {
                    return Err(NodeError::missing("identity.value").into());
                }
                ProfileKey::Identity {
                    kind: i.kind,
                    value: i.value,
                }
            }
        };
        let p = self
            .state
            .partition()?
            .call(|reply| Command::Profile { key, reply })
            .await?;
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
        let hits = self
            .state
            .partition()?
            .call(|reply| Command::Search {
                query: Box::new(query),
                limit,
                min_probability,
                reply,
            })
            .await?;
        Ok(Response::new(SearchResponse {
            candidates: hits.into_iter().map(|h| h.candidate).collect(),
        }))
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
        let rows = self
            .state
            .partition()?
            .call(|reply| Command::Assignments { reply })
            .await?;
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            for part in rows.chunks(chunk) {
                let assignments = part
                    .iter()
                    .map(|(s, r, e)| Assignment {
                        record: Some(RecordRef {
                            source: s.clone(),
                            record_id: r.clone(),
                        }),
                        entity_id: *e,
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
        _req: Request<ExportRequest>,
    ) -> Result<Response<Self::ExportProfilesStream>, Status> {
        let partition = self.state.partition()?.clone();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let page = partition
                    .call(|reply| Command::ProfilesPage {
                        after,
                        limit: 256,
                        reply,
                    })
                    .await;
                match page {
                    Ok(page) if page.is_empty() => return,
                    Ok(page) => {
                        for p in page {
                            after = after.max(p.entity_id);
                            if tx.send(Ok(p)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
