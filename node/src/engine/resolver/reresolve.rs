//! Re-resolving under a new model in small steps, while the engine keeps
//! taking writes and answering reads.
//!
//! [`Engine::begin_model`] switches the scorer at once; from then on every
//! new comparison uses the new model. The match edges already there are
//! brought up to date by [`Engine::reresolve_step`], a bounded amount of
//! work per call: records in slot order, each re-scored against its
//! candidates after it in that order (so each pair is scored once), edges
//! updated, added or dropped, and the components around every changed
//! edge re-clustered. A step is a deterministic function of the engine's
//! state and its budget, so a partition can apply it as one more command
//! of its ordered log between other commands.
//!
//! Why the end state is the one a full rebuild gives: when the cursor has
//! passed a record, every edge to a record before it has been re-scored
//! (the earlier record's step scored the pair, provided they shared a
//! live key then; without one, no edge joined them, since demotion drops
//! the edges a key alone supported). Every edge made since the switch
//! (an upsert's links, an un-demoted key's pairs) was scored by the new
//! model. So once the cursor has passed every slot, each edge carries its
//! new weight, every pair of records sharing a live key has been compared
//! under the new model, and each changed edge re-clustered its component,
//! which the canonical clustering turns into the same entities as
//! resolving everything again from scratch.

use smallvec::SmallVec;

use super::{Edge, EdgeChange, Engine, EngineError, Model, Scorer, Step, Store};
use crate::engine::compare::Comparator;

/// Where a re-resolution stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReresolveProgress {
    /// Slots still to re-score (0: done, or no re-resolution under way).
    pub remaining: usize,
    /// Records re-scored by this step.
    pub rescored: usize,
}

impl ReresolveProgress {
    /// True when no re-resolution is under way any more.
    pub fn done(&self) -> bool {
        self.remaining == 0
    }
}

impl<S: Store> Engine<S> {
    /// Switches to a new model and starts re-resolving under it; the
    /// re-resolution advances with [`Engine::reresolve_step`]. A switch
    /// during a re-resolution starts it again from the first slot.
    pub fn begin_model(&mut self, model: Model) -> Result<(), EngineError> {
        model.validate()?;
        self.scorer = Scorer::new(model);
        self.comparator = Comparator::new(&self.scorer.model().attributes());
        self.reresolving = Some(0);
        Ok(())
    }

    /// Starts re-resolving under the current model (after a restart that
    /// interrupted one: steps already done are found unchanged, cheaply).
    pub fn begin_reresolve(&mut self) {
        self.reresolving = Some(0);
    }

    /// Slots still to re-score (0 when no re-resolution is under way).
    pub fn reresolve_remaining(&self) -> usize {
        self.reresolving
            .map_or(0, |c| self.slots.len().saturating_sub(c as usize).max(1))
    }

    /// Re-scores up to `budget` records (at least one) and re-clusters
    /// what changed, as one step.
    pub fn reresolve_step(&mut self, budget: usize) -> Result<ReresolveProgress, EngineError> {
        let Some(mut cursor) = self.reresolving else {
            return Ok(ReresolveProgress {
                remaining: 0,
                rescored: 0,
            });
        };
        let mut step = Step {
            seq: self.next_seq(),
            ..Step::default()
        };
        let mut seeds = Vec::new();
        let mut rescored = 0;
        while rescored < budget.max(1) && (cursor as usize) < self.slots.len() {
            if self.slots[cursor as usize].is_some() {
                self.rescore_after(cursor, &mut seeds, &mut step);
                rescored += 1;
            }
            cursor += 1;
        }
        self.recluster_each(seeds, &mut step);
        if !step.is_empty() {
            self.commit(step)?;
        }
        self.reresolving = ((cursor as usize) < self.slots.len()).then_some(cursor);
        Ok(ReresolveProgress {
            remaining: self.reresolve_remaining(),
            rescored,
        })
    }

    /// Re-clusters the component of every seed, one component at a time
    /// (all at once could exceed `max_component`), skipping seeds that an
    /// earlier re-clustering of this step already placed.
    fn recluster_each(&mut self, mut seeds: Vec<u32>, step: &mut Step) {
        seeds.sort_unstable();
        seeds.dedup();
        let mut placed = rustc_hash::FxHashSet::default();
        for s in seeds {
            if placed.contains(&s) || self.slots[s as usize].is_none() {
                continue;
            }
            self.recluster(&[s], None, step);
            if let Some(m) = self.entities.get(&self.slot(s).entity) {
                placed.extend(m.iter().copied());
            }
        }
    }

    /// Runs a re-resolution to its end.
    pub fn finish_reresolve(&mut self) -> Result<(), EngineError> {
        while !self.reresolve_step(4096)?.done() {}
        Ok(())
    }

    /// Re-scores the pairs of `ord` with the records after it in slot
    /// order that share a live key with it: each edge gets its new weight,
    /// is dropped below the possible threshold, or is added above it.
    fn rescore_after(&mut self, ord: u32, seeds: &mut Vec<u32>, step: &mut Step) {
        let keys = self.keys_of(&self.slot(ord).feats.view());
        let mut cands: SmallVec<[u32; 64]> = SmallVec::new();
        for &k in &keys {
            if self.live(k) {
                cands.extend(self.postings.get(k).iter().copied().filter(|&c| c > ord));
            }
        }
        cands.sort_unstable();
        cands.dedup();
        self.comparisons += cands.len() as u64;
        for c in cands {
            let w = {
                let (a, b) = (self.slot(ord).feats.view(), self.slot(c).feats.view());
                self.score(&a, &b)
            };
            let old = self
                .slot(ord)
                .edges
                .iter()
                .find(|e| e.other == c)
                .map(|e| e.weight);
            match old {
                None if w >= self.possible_w => self.add_edge(ord, c, w, seeds, step),
                None => {}
                Some(_) if w < self.possible_w => self.remove_edge(ord, c, seeds, step),
                Some(was) => self.reweigh_edge(ord, c, was, w as f32, seeds, step),
            }
        }
    }

    /// Gives an existing edge a new weight; its ends seed a re-clustering
    /// when the edge is or was a match edge.
    fn reweigh_edge(
        &mut self,
        a: u32,
        b: u32,
        was: f32,
        weight: f32,
        seeds: &mut Vec<u32>,
        step: &mut Step,
    ) {
        if was.to_bits() == weight.to_bits() {
            return;
        }
        for (x, y) in [(a, b), (b, a)] {
            if let Some(e) = self.slot_mut(x).edges.iter_mut().find(|e| e.other == y) {
                *e = Edge { other: y, weight };
            }
        }
        if f64::from(was) >= self.match_w || f64::from(weight) >= self.match_w {
            seeds.push(a);
            seeds.push(b);
        }
        step.edges.push(EdgeChange {
            a: self.slot(a).key.to_string(),
            b: self.slot(b).key.to_string(),
            weight: Some(weight),
        });
    }
}
