//! The `Triggers` service: triggers defined through the API, cluster-wide
//! in the metadata group with a version, beside those of the node's
//! configuration (the standard abandoned cart).

use tonic::{Request, Response, Status};

use kindred_proto::v1 as pb;
use kindred_proto::v1::triggers_server::Triggers;

use super::NodeState;
use crate::error::NodeError;
use crate::meta::MetaCommand;
use crate::segments::triggers::TriggerDef;

/// Implements `kindred.v1.Triggers`.
pub struct TriggersService {
    state: NodeState,
}

impl TriggersService {
    pub fn new(state: NodeState) -> Self {
        TriggersService { state }
    }

    /// A definition sent to be stored, checked.
    fn admit(&self, t: Option<pb::Trigger>) -> Result<TriggerDef, Status> {
        let def = TriggerDef::from_pb(t.ok_or_else(|| NodeError::missing("trigger"))?)?;
        if self.configured(&def.name) {
            return Err(Status::failed_precondition(format!(
                "{:?} is a trigger of the node's configuration and cannot be changed here \
                 ([activity] settings); define one of another name",
                def.name
            )));
        }
        Ok(def)
    }

    fn configured(&self, name: &str) -> bool {
        self.state
            .cluster()
            .coordinator
            .activities
            .triggers
            .is_configured(name)
    }

    /// The stored version of an API trigger.
    fn stored(&self, name: &str) -> Option<TriggerDef> {
        self.state
            .cluster()
            .meta
            .state()
            .triggers
            .get(name)
            .cloned()
    }

    /// Stores a definition and answers it as stored.
    async fn put(
        &self,
        def: TriggerDef,
        create: bool,
        expected_version: u64,
    ) -> Result<pb::Trigger, Status> {
        let name = def.name.clone();
        let at_ms = self.state.coordinator()?.activities.now_ms();
        let cmd = MetaCommand::PutTrigger {
            def,
            create,
            expected_version,
            at_ms,
        };
        self.state.cluster().propose(cmd).await?;
        let stored = self
            .stored(&name)
            .ok_or_else(|| Status::aborted(format!("trigger {name:?} was deleted meanwhile")))?;
        Ok(stored.to_pb())
    }
}

#[tonic::async_trait]
impl Triggers for TriggersService {
    async fn create(
        &self,
        req: Request<pb::TriggersCreateRequest>,
    ) -> Result<Response<pb::TriggersCreateResponse>, Status> {
        let def = self.admit(req.into_inner().trigger)?;
        if self.stored(&def.name).is_some() {
            return Err(NodeError::AlreadyExists {
                field: "trigger.name".into(),
                value: def.name.clone(),
                reason: "a trigger of this name exists (kindred trigger update changes it)".into(),
            }
            .into());
        }
        let trigger = Some(self.put(def, true, 0).await?);
        Ok(Response::new(pb::TriggersCreateResponse { trigger }))
    }

    async fn update(
        &self,
        req: Request<pb::TriggersUpdateRequest>,
    ) -> Result<Response<pb::TriggersUpdateResponse>, Status> {
        let req = req.into_inner();
        let def = self.admit(req.trigger)?;
        match self.stored(&def.name).map(|t| t.version) {
            None => {
                return Err(Status::not_found(format!(
                    "no trigger {:?} to update (kindred trigger list)",
                    def.name
                )))
            }
            Some(v) if req.expected_version != 0 && v != req.expected_version => {
                return Err(Status::aborted(format!(
                    "trigger {:?} is at version {v}, not {}: read it again and retry",
                    def.name, req.expected_version
                )))
            }
            Some(_) => {}
        }
        let trigger = Some(self.put(def, false, req.expected_version).await?);
        Ok(Response::new(pb::TriggersUpdateResponse { trigger }))
    }

    async fn delete(
        &self,
        req: Request<pb::TriggersDeleteRequest>,
    ) -> Result<Response<pb::TriggersDeleteResponse>, Status> {
        let name = req.into_inner().name;
        if name.is_empty() {
            return Err(NodeError::missing("name").into());
        }
        if self.configured(&name) {
            return Err(Status::failed_precondition(format!(
                "{name:?} is a trigger of the node's configuration and cannot be deleted \
                 ([activity] builtin_triggers = false leaves it out)"
            )));
        }
        if self.stored(&name).is_none() {
            return Err(Status::not_found(format!(
                "no trigger {name:?} was defined through the API"
            )));
        }
        self.state
            .cluster()
            .propose(MetaCommand::DeleteTrigger { name })
            .await?;
        Ok(Response::new(pb::TriggersDeleteResponse {}))
    }

    async fn list(
        &self,
        _req: Request<pb::TriggersListRequest>,
    ) -> Result<Response<pb::TriggersListResponse>, Status> {
        let triggers = self
            .state
            .catalog()
            .triggers
            .iter()
            .map(TriggerDef::to_pb)
            .collect();
        Ok(Response::new(pb::TriggersListResponse { triggers }))
    }
}
