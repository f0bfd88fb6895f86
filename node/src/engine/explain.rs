//! Explanations: why two records match or not, why a record belongs to an
//! entity, and how an entity was built.

use serde::{Deserialize, Serialize};

use super::features::{FeatView, Packed};
use super::model::{weight_to_probability, Contribution};
use super::resolver::{display_key, record_key, ref_key, Engine, EngineError};
use super::store::{EntityId, Event, Store};

/// The decision for a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Match,
    PossibleMatch,
    NonMatch,
}

/// Why two records match or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairExplanation {
    pub a: String,
    pub b: String,
    /// Each attribute's comparison level and weight.
    pub contributions: Vec<Contribution>,
    /// log2(λ / (1 - λ)): the prior weight every pair starts from.
    pub prior_weight: f64,
    pub total_weight: f64,
    pub probability: f64,
    pub match_threshold: f64,
    pub possible_threshold: f64,
    pub decision: Decision,
    /// Given and family names were compared crosswise.
    pub names_swapped: bool,
    /// The pair shares a live blocking key, so the engine compares it.
    pub candidates: bool,
    pub same_entity: bool,
}

/// Why a record does or does not belong to an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityExplanation {
    pub record: String,
    pub entity: EntityId,
    /// The record is a member of the entity.
    pub member: bool,
    /// The record's comparison with each other member, strongest first.
    pub pairs: Vec<PairExplanation>,
}

/// How an entity was built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityHistory {
    pub entity: EntityId,
    pub records: Vec<String>,
    pub events: Vec<Event>,
}

impl<S: Store> Engine<S> {
    /// Explains the comparison of two records.
    pub fn why(&self, a: (&str, &str), b: (&str, &str)) -> Result<PairExplanation, EngineError> {
        let (ka, kb) = (record_key(a.0, a.1), record_key(b.0, b.1));
        self.why_keys(&ka, &kb)
    }

    fn why_keys(&self, ka: &str, kb: &str) -> Result<PairExplanation, EngineError> {
        let fa = self
            .features(ka)
            .ok_or_else(|| EngineError::RecordNotFound(ref_key(ka)))?;
        let fb = self
            .features(kb)
            .ok_or_else(|| EngineError::RecordNotFound(ref_key(kb)))?;
        let mut p = self.explain_views(ka, &fa, kb, &fb);
        p.same_entity = self.entity_of(ka) == self.entity_of(kb);
        Ok(p)
    }

    /// Explains a record of this engine against a record held elsewhere
    /// (another partition of a cluster), given that record's features.
    /// `same_entity` is left false: only the cluster knows.
    pub fn why_foreign(
        &self,
        local: (&str, &str),
        foreign: (&str, &str),
        foreign_feats: &Packed,
    ) -> Result<PairExplanation, EngineError> {
        let ka = record_key(local.0, local.1);
        let kb = record_key(foreign.0, foreign.1);
        let fa = self
            .features(&ka)
            .ok_or_else(|| EngineError::RecordNotFound(ref_key(&ka)))?;
        Ok(self.explain_views(&ka, &fa, &kb, &foreign_feats.view()))
    }

    fn explain_views(
        &self,
        ka: &str,
        fa: &FeatView<'_>,
        kb: &str,
        fb: &FeatView<'_>,
    ) -> PairExplanation {
        let p = self.comparator().compare(fa, fb);
        let total = self.scorer().score(&p, fa, fb);
        let decision = if total >= self.match_weight() {
            Decision::Match
        } else if total >= self.possible_weight() {
            Decision::PossibleMatch
        } else {
            Decision::NonMatch
        };
        PairExplanation {
            a: display_key(ka),
            b: display_key(kb),
            contributions: self.scorer().contributions(&p, fa, fb),
            prior_weight: self.scorer().prior_weight(),
            total_weight: total,
            probability: weight_to_probability(total),
            match_threshold: self.config().match_probability,
            possible_threshold: self.config().possible_probability,
            decision,
            names_swapped: p.names_swapped,
            candidates: self.share_live_key(fa, fb),
            same_entity: false,
        }
    }

    /// Explains a record against every record of an entity.
    pub fn why_entity(
        &self,
        record: (&str, &str),
        entity: EntityId,
    ) -> Result<EntityExplanation, EngineError> {
        let key = record_key(record.0, record.1);
        let id = self
            .resolve_entity(entity)
            .ok_or(EngineError::EntityNotFound(entity))?;
        let members = self
            .members(id)
            .ok_or(EngineError::EntityNotFound(entity))?;
        let mut pairs = Vec::new();
        for m in members.iter().filter(|m| **m != key) {
            pairs.push(self.why_keys(&key, m)?);
        }
        pairs.sort_by(|x, y| y.total_weight.total_cmp(&x.total_weight));
        Ok(EntityExplanation {
            record: display_key(&key),
            entity: id,
            member: members.contains(&key),
            pairs,
        })
    }

    /// The sequence of links, merges and splits that built an entity.
    pub fn how(&self, entity: EntityId) -> Result<EntityHistory, EngineError> {
        let id = self
            .resolve_entity(entity)
            .ok_or(EngineError::EntityNotFound(entity))?;
        let records = self
            .members(id)
            .unwrap_or_default()
            .iter()
            .map(|k| display_key(k))
            .collect();
        Ok(EntityHistory {
            entity: id,
            records,
            events: self.store().history(id)?,
        })
    }
}
