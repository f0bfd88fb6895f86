//! The coordinator: what lets any node serve any public request, split by
//! concern. Each part reaches partitions through the same [`Router`].
//!
//! - [`Writer`]: the apply → probe → link rounds of a write, deletes;
//! - [`Reader`]: records, profiles, search, exports;
//! - [`Explainer`]: why records match, how entities were built;
//! - [`Maintenance`]: counters and the model;
//! - [`Activities`]: events, profiles with their activity, RFM cut points.

use super::activity::Activities;
use super::assemble::Assembler;
use super::explain::Explainer;
use super::maintenance::Maintenance;
use super::read::Reader;
use super::router::Router;
use super::write::Writer;
use crate::activity::ActivityConfig;
use crate::clock::SharedClock;
use crate::engine::EngineConfig;

/// The parts of a node's coordinator.
#[derive(Clone)]
pub struct Coordinator {
    pub router: Router,
    pub writer: Writer,
    pub reader: Reader,
    pub explainer: Explainer,
    pub maintenance: Maintenance,
    pub activities: Activities,
}

impl Coordinator {
    pub fn new(
        router: Router,
        engine: &EngineConfig,
        activity: &ActivityConfig,
        clock: SharedClock,
    ) -> Coordinator {
        let assembler = Assembler {
            router: router.clone(),
            max_entity_size: engine.max_entity_size,
            max_key_size: engine.blocking.max_key_size,
        };
        let std_cfg = engine.standardize.to_config();
        let writer = Writer::new(assembler.clone(), std_cfg, clock.clone());
        let reader = Reader {
            assembler: assembler.clone(),
        };
        Coordinator {
            activities: Activities::new(
                reader.clone(),
                writer.clone(),
                clock.clone(),
                activity.clone(),
            ),
            reader,
            explainer: Explainer { assembler },
            maintenance: Maintenance::new(writer.clone(), clock),
            writer,
            router,
        }
    }
}
