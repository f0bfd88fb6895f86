//! The `Traits` service: the traits every profile carries, and the
//! cluster-wide RFM cut points.

use tonic::{Request, Response, Status};

use kindred_proto::v1 as pb;
use kindred_proto::v1::traits_server::Traits;

use super::NodeState;
use crate::activity::{Catalog, TraitDef};
use crate::error::NodeError;
use crate::meta::MetaCommand;

/// Implements `kindred.v1.Traits`.
pub struct TraitsService {
    state: NodeState,
}

impl TraitsService {
    pub fn new(state: NodeState) -> Self {
        TraitsService { state }
    }
}

impl NodeState {
    /// Every trait in force (built-in, configured, then defined through
    /// the API), the published RFM cut points and every segment in force
    /// (the standard ones, then those defined through the API).
    pub fn catalog(&self) -> Catalog {
        catalog_of(self.cluster(), &self.activity, &self.builtin_segments)
    }
}

/// The catalog from the metadata group's state and the node's settings.
pub fn catalog_of(
    cluster: &crate::cluster::Cluster,
    activity: &crate::activity::ActivityConfig,
    builtin_segments: &[kindred_proto::v1::Segment],
) -> Catalog {
    let meta = cluster.meta.state();
    let mut traits = activity.configured_traits();
    traits.extend(meta.traits.values().cloned());
    let segments = builtin_segments
        .iter()
        .chain(meta.segments.values())
        .cloned();
    Catalog {
        traits,
        cuts: meta.rfm.clone(),
        segments: crate::segments::SegmentSet::new(segments),
        // The definitions the write path sets timers with.
        triggers: cluster.coordinator.activities.triggers.all(),
    }
}

#[tonic::async_trait]
impl Traits for TraitsService {
    async fn define(
        &self,
        req: Request<pb::DefineTraitRequest>,
    ) -> Result<Response<pb::TraitDefinition>, Status> {
        let d = req
            .into_inner()
            .r#trait
            .ok_or_else(|| NodeError::missing("trait"))?;
        let def = TraitDef::from_pb(d)?;
        if let Some(c) = self
            .state
            .activity
            .configured_traits()
            .iter()
            .find(|t| t.name == def.name)
        {
            return Err(NodeError::AlreadyExists {
                field: "trait.name".into(),
                value: def.name.clone(),
                reason: format!("is a {} trait; choose another name", c.origin),
            }
            .into());
        }
        self.state
            .cluster()
            .propose(MetaCommand::DefineTrait { def: def.clone() })
            .await?;
        Ok(Response::new(def.to_pb()))
    }

    async fn list(
        &self,
        _req: Request<pb::ListTraitsRequest>,
    ) -> Result<Response<pb::ListTraitsResponse>, Status> {
        let traits = self
            .state
            .catalog()
            .traits
            .iter()
            .map(TraitDef::to_pb)
            .collect();
        Ok(Response::new(pb::ListTraitsResponse { traits }))
    }

    async fn delete(
        &self,
        req: Request<pb::DeleteTraitRequest>,
    ) -> Result<Response<pb::DeleteTraitResponse>, Status> {
        let name = req.into_inner().name;
        if !self.state.cluster().meta.state().traits.contains_key(&name) {
            return Err(Status::not_found(format!(
                "no trait {name:?} was defined through the API (built-in and configured traits \
                 cannot be deleted)"
            )));
        }
        if let Some(s) = self
            .state
            .catalog()
            .segments
            .iter()
            .find(|s| crate::segments::traits_used(s).contains(&name))
        {
            return Err(Status::failed_precondition(format!(
                "trait {name:?} is used by segment {:?}: change that segment first",
                s.name
            )));
        }
        self.state
            .cluster()
            .propose(MetaCommand::DeleteTrait { name })
            .await?;
        Ok(Response::new(pb::DeleteTraitResponse {}))
    }

    async fn compute_rfm(
        &self,
        _req: Request<pb::ComputeRfmRequest>,
    ) -> Result<Response<pb::RfmCuts>, Status> {
        let started = std::time::Instant::now();
        let cuts = compute_and_publish(&self.state).await?;
        Ok(Response::new(cuts.to_pb(started.elapsed().as_secs_f64())))
    }

    async fn get_rfm(
        &self,
        _req: Request<pb::GetRfmRequest>,
    ) -> Result<Response<pb::RfmCuts>, Status> {
        match self.state.cluster().meta.state().rfm.clone() {
            Some(c) => Ok(Response::new(c.to_pb(0.0))),
            None => Err(Status::not_found(
                "no RFM cut points yet: run `kindred rfm compute` (or wait for the schedule)",
            )),
        }
    }
}

/// Computes the RFM cut points over every customer and publishes them
/// under the next version.
pub async fn compute_and_publish(state: &NodeState) -> Result<crate::activity::Cuts, NodeError> {
    let version = state
        .cluster()
        .meta
        .state()
        .rfm
        .as_ref()
        .map_or(0, |c| c.version)
        + 1;
    let coordinator = state
        .coordinator()
        .map_err(|s| NodeError::Unavailable(s.message().into()))?;
    let cuts = coordinator.activities.compute_cuts(version).await?;
    state
        .cluster()
        .propose(MetaCommand::SetRfm { cuts: cuts.clone() })
        .await?;
    Ok(cuts)
}

/// Recomputes the RFM cut points on a schedule, on the metadata leader,
/// when the published ones are older than the interval.
pub async fn rfm_schedule(state: NodeState) {
    let hours = state.activity.rfm_interval_hours;
    if hours == 0 {
        return;
    }
    let interval_ms = i64::from(hours) * 3_600_000;
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
        let now = coordinator.activities.now_ms();
        let due = cluster
            .meta
            .state()
            .rfm
            .as_ref()
            .is_none_or(|c| now - c.computed_at_ms >= interval_ms);
        if due {
            match compute_and_publish(&state).await {
                Ok(c) => tracing::info!(
                    version = c.version,
                    customers = c.customers,
                    "RFM cut points published"
                ),
                Err(e) => tracing::warn!(error = %e, "scheduled RFM computation failed"),
            }
        }
    }
}
