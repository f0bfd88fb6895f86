//! Re-resolving under a new model in small steps, while the engine keeps
//! taking writes and answering reads.
//!
//! [`Engine::begin_model`] switches the scorer at once; from then on every
//! new comparison uses the new model. The edges and entities already there
//! are brought up to date by [`Engine::reresolve_step`], a bounded amount of
//! work per call, in two phases:
//!
//! 1. **Re-scoring.** Records in slot order, each re-scored against its
//!    candidates after it in that order (so each pair is scored once);
//!    edges are re-weighed, added or dropped. The ends of every match edge
//!    that changed are remembered as *dirty*.
//! 2. **Re-clustering.** The component of each dirty record, in slot
//!    order, is re-clustered once (a component that many steps of phase one
//!    touched is clustered once, not once per step).
//!
//! A step is a deterministic function of the engine's state and its
//! budget, so a partition can apply it as one more command of its ordered
//! log between other commands.
//!
//! Why the end state is the one a full rebuild gives: when the cursor has
//! passed a record, every edge to a record before it has been re-scored
//! (the earlier record's step scored the pair, provided they shared a
//! live key then; without one, no edge joined them, since demotion drops
//! the edges a key alone supported). Every edge made since the switch
//! (an upsert's links, an un-demoted key's pairs) was scored by the new
//! model. So after phase one each edge carries its new weight and every
//! pair sharing a live key has been compared under the new model. Every
//! component with a changed edge is then re-clustered after the last
//! change to it in phase one (writes in between re-cluster what they
//! touch themselves), which the canonical clustering turns into the same
//! entities as resolving everything again from scratch. A re-resolution
//! resumed after a restart cannot know which records were dirty, so it
//! re-clusters every component.

use smallvec::SmallVec;

use super::{Edge, EdgeChange, Engine, EngineError, Model, Scorer, Step, Store};
use crate::engine::compare::Comparator;

/// A re-resolution under way.
#[derive(Debug, Default)]
pub(super) struct Reresolution {
    /// Phase one: the next slot to re-score.
    cursor: u32,
    /// Records whose match edges changed in phase one (sorted and
    /// deduplicated when phase two starts).
    dirty: Vec<u32>,
    /// Phase two: the next index into `dirty`; None during phase one.
    next_dirty: Option<usize>,
    /// Slots whose component phase two has re-clustered (a bitset).
    clustered: Vec<u64>,
    /// Re-cluster every record's component in phase two (after a restart).
    all: bool,
}

impl Reresolution {
    fn is_clustered(&self, ord: u32) -> bool {
        self.clustered
            .get(ord as usize / 64)
            .is_some_and(|w| w >> (ord % 64) & 1 == 1)
    }

    fn mark_clustered(&mut self, ord: u32) {
        let i = ord as usize / 64;
        if self.clustered.len() <= i {
            self.clustered.resize(i + 1, 0);
        }
        self.clustered[i] |= 1 << (ord % 64);
    }
}

/// Where a re-resolution stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReresolveProgress {
    /// Work left: records to re-score plus dirty records whose component
    /// is still to re-cluster (0: done, or no re-resolution under way).
    pub remaining: usize,
    /// Records re-scored (phase one) or re-clustered (phase two) by this
    /// step.
    pub rescored: usize,
    /// Pairs compared by this step.
    pub compared: u64,
    /// Edges this step changed (re-weighed, added or dropped).
    pub edges_changed: usize,
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
    /// during a re-resolution starts it again (keeping what it found
    /// dirty).
    pub fn begin_model(&mut self, model: Model) -> Result<(), EngineError> {
        model.validate()?;
        self.scorer = Scorer::keyed(model, self.cfg.blocking.secret);
        self.comparator = Comparator::new(&self.scorer.model().attributes());
        let all = self.reresolving.as_ref().is_some_and(|r| r.all);
        let mut dirty = self.reresolving.take().map(|r| r.dirty).unwrap_or_default();
        dirty.retain(|&o| self.slots.get(o as usize).is_some_and(Option::is_some));
        self.reresolving = Some(Reresolution {
            dirty,
            all,
            ..Reresolution::default()
        });
        Ok(())
    }

    /// Starts re-resolving under the current model after a restart that
    /// interrupted one: re-scoring compares every pair again but finds the
    /// edges already done unchanged, and every component is re-clustered.
    pub fn begin_reresolve(&mut self) {
        self.reresolving = Some(Reresolution {
            all: true,
            ..Reresolution::default()
        });
    }

    /// Work left in the re-resolution (0 when none is under way).
    pub fn reresolve_remaining(&self) -> usize {
        let Some(r) = &self.reresolving else { return 0 };
        let dirty_left = match r.next_dirty {
            Some(i) => r.dirty.len().saturating_sub(i),
            None if r.all => self.len(),
            None => r.dirty.len(),
        };
        (self.slots.len().saturating_sub(r.cursor as usize) + dirty_left).max(1)
    }

    /// Advances the re-resolution by about `budget` units of work, as one
    /// step: in phase one a record re-scored counts one plus the pairs it
    /// compared, in phase two a record re-clustered counts one. At least
    /// one record is done (a component is never split).
    pub fn reresolve_step(&mut self, budget: usize) -> Result<ReresolveProgress, EngineError> {
        let Some(mut r) = self.reresolving.take() else {
            return Ok(ReresolveProgress {
                remaining: 0,
                rescored: 0,
                compared: 0,
                edges_changed: 0,
            });
        };
        let mut step = Step {
            seq: self.next_seq(),
            ..Step::default()
        };
        let compared_before = self.comparisons;
        let rescored = if (r.cursor as usize) < self.slots.len() {
            self.rescore_some(&mut r, budget.max(1), &mut step)
        } else {
            self.recluster_some(&mut r, budget.max(1), &mut step)
        };
        let edges_changed = step.edges.len();
        let committed = if step.is_empty() {
            Ok(())
        } else {
            self.commit(step)
        };
        let finished = r.cursor as usize >= self.slots.len()
            && r.next_dirty.is_some_and(|i| i >= r.dirty.len());
        // Kept on failure too: the re-resolution is not over because a
        // write failed (the store then refuses writes until a restart,
        // which resumes it).
        if !finished || committed.is_err() {
            self.reresolving = Some(r);
        }
        committed?;
        Ok(ReresolveProgress {
            remaining: self.reresolve_remaining(),
            rescored,
            compared: self.comparisons - compared_before,
            edges_changed,
        })
    }

    /// Runs a re-resolution to its end.
    pub fn finish_reresolve(&mut self) -> Result<(), EngineError> {
        while !self.reresolve_step(4096)?.done() {}
        Ok(())
    }

    /// Phase one: re-scores records from the cursor on until `budget`
    /// units of work (a record and its comparisons) are done. Returns the
    /// records re-scored.
    fn rescore_some(&mut self, r: &mut Reresolution, budget: usize, step: &mut Step) -> usize {
        let (mut rescored, mut work) = (0, 0);
        let start = self.comparisons;
        while work < budget && (r.cursor as usize) < self.slots.len() {
            if self.slots[r.cursor as usize].is_some() {
                self.rescore_after(r.cursor, &mut r.dirty, step);
                rescored += 1;
                work = rescored + (self.comparisons - start) as usize;
            }
            r.cursor += 1;
        }
        rescored
    }

    /// Phase two: re-clusters the components of dirty records until about
    /// `budget` records have been clustered (a component is never split).
    fn recluster_some(&mut self, r: &mut Reresolution, budget: usize, step: &mut Step) -> usize {
        if r.next_dirty.is_none() {
            if r.all {
                r.dirty = (0..self.slots.len() as u32).collect();
            }
            r.dirty.sort_unstable();
            r.dirty.dedup();
            r.next_dirty = Some(0);
        }
        let mut clustered = 0;
        let mut i = r.next_dirty.unwrap_or(0);
        while clustered < budget && i < r.dirty.len() {
            let s = r.dirty[i];
            i += 1;
            if r.is_clustered(s) || self.slots[s as usize].is_none() {
                continue;
            }
            let ords = self.recluster_component(s, step);
            clustered += ords.len();
            for o in ords {
                r.mark_clustered(o);
            }
        }
        r.next_dirty = Some(i);
        clustered
    }

    /// Re-scores the pairs of `ord` with the records after it in slot
    /// order that share a live key with it: each edge gets its new weight,
    /// is dropped below the possible threshold, or is added above it. The
    /// ends of changed match edges go to `dirty`.
    fn rescore_after(&mut self, ord: u32, dirty: &mut Vec<u32>, step: &mut Step) {
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
                None if w >= self.possible_w => self.add_edge(ord, c, w, dirty, step),
                None => {}
                Some(_) if w < self.possible_w => self.remove_edge(ord, c, dirty, step),
                Some(was) => self.reweigh_edge(ord, c, was, w as f32, dirty, step),
            }
        }
    }

    /// Gives an existing edge a new weight; its ends are dirty when the
    /// edge is or was a match edge.
    fn reweigh_edge(
        &mut self,
        a: u32,
        b: u32,
        was: f32,
        weight: f32,
        dirty: &mut Vec<u32>,
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
            dirty.push(a);
            dirty.push(b);
        }
        step.edges.push(EdgeChange {
            a: self.slot(a).key.to_string(),
            b: self.slot(b).key.to_string(),
            weight: Some(weight),
        });
    }
}
