//! Cluster-wide maintenance through the coordinator: counters, the model
//! and its replacement.

use std::collections::HashSet;

use super::assemble::Assembler;
use super::write::Writer;
use crate::clock::SharedClock;
use crate::engine::features::Packed;
use crate::engine::resolver::Stats;
use crate::engine::EntityId;
use crate::error::NodeError;
use crate::partition::request::{ActivitySize, GetModel, GetStats, Reresolving, Sample, SetModel};

/// Records per page when sampling for training.
const SAMPLE_PAGE: usize = 4096;

/// Counters and the model, across every partition.
#[derive(Clone)]
pub struct Maintenance {
    pub writer: Writer,
    clock: SharedClock,
}

impl Maintenance {
    pub fn new(writer: Writer, clock: SharedClock) -> Maintenance {
        Maintenance { writer, clock }
    }

    fn assembler(&self) -> &Assembler {
        &self.writer.assembler
    }

    /// Summed counters, and the highest model version; `entities` counts
    /// cluster-wide entities.
    pub async fn stats(&self) -> Result<(Stats, u64), NodeError> {
        let mut total = Stats::default();
        let mut version = 0;
        for s in self.assembler().router.gather(GetStats).await? {
            add_stats(&mut total, &s.stats);
            version = version.max(s.model_version);
        }
        let groups = self.assembler().cross_groups().await?;
        let roots: HashSet<EntityId> = groups.values().copied().collect();
        total.entities = total.entities.saturating_sub(groups.len() - roots.len());
        Ok((total, version))
    }

    /// Packed features of every record, for training, page by page (a
    /// partition serves other requests between pages). Training sorts
    /// what it gets, so the order of pages does not matter. Pages are
    /// not one snapshot: a record written between two pages may be missed
    /// or seen twice, which moves a statistical estimate by nothing that
    /// matters.
    pub async fn sample(&self) -> Result<Vec<Packed>, NodeError> {
        let router = &self.assembler().router;
        let mut out = Vec::new();
        for p in 0..router.map().partitions {
            let mut from = 0;
            loop {
                let page = router
                    .call(
                        p,
                        Sample {
                            from,
                            limit: SAMPLE_PAGE,
                        },
                    )
                    .await?;
                out.extend(page.items.iter().filter_map(|b| Packed::from_bytes(b)));
                match page.next {
                    Some(next) => from = next,
                    None => break,
                }
            }
        }
        Ok(out)
    }

    /// Switches every partition to a model, then finds the links again
    /// (links found under another model are no longer valid).
    pub async fn set_model(&self, json: String) -> Result<(), NodeError> {
        let req = SetModel {
            at_ms: self.clock.now_ms(),
            json,
        };
        self.assembler().router.gather(req).await?;
        self.writer.relink().await
    }

    /// (estimated events, bytes of events and summaries) over every
    /// partition.
    pub async fn activity_size(&self) -> Result<(u64, u64), NodeError> {
        let parts = self.assembler().router.gather(ActivitySize).await?;
        Ok(parts
            .into_iter()
            .fold((0, 0), |(e, b), (pe, pb)| (e + pe, b + pb)))
    }

    /// Records left to re-score under the current model, over every
    /// partition (cheap, unlike [`Maintenance::stats`]).
    pub async fn reresolving(&self) -> Result<u64, NodeError> {
        Ok(self
            .assembler()
            .router
            .gather(Reresolving)
            .await?
            .into_iter()
            .sum())
    }

    /// The model (every partition holds the same one).
    pub async fn model_json(&self) -> Result<String, NodeError> {
        self.assembler().router.call(0, GetModel).await
    }
}

fn add_stats(total: &mut Stats, s: &Stats) {
    total.records += s.records;
    total.entities += s.entities;
    total.merges += s.merges;
    total.splits += s.splits;
    total.comparisons += s.comparisons;
    total.match_edges += s.match_edges;
    total.possible_edges += s.possible_edges;
    total.blocking_keys += s.blocking_keys;
    total.demoted_keys += s.demoted_keys;
    total.reresolving += s.reresolving;
}
