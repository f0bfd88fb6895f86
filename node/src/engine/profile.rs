//! The single customer view of an entity: golden record (survivorship per
//! attribute), every identity value, every source record, merged free
//! attributes and possible-match relationships; plus lookup by identity
//! and search by attributes.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use kindred_proto::v1::{
    GoldenRecord, GoldenValue, Identity, Profile, Record, RecordRef, Relationship, SearchCandidate,
};

use super::blocking::{rule_keys, KeyPart, Keys};
use super::features::Packed;
use super::model::weight_to_probability;
use super::resolver::{record_key, split_key, Engine, EngineError};
use super::standardize::{normalize_email, normalize_identifier, normalize_phone, StdRecord};
use super::store::{EntityId, Store};

/// How one attribute's golden value is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The value of the most recently observed record.
    MostRecent,
    /// The value most records agree on (ties: most recent).
    MostFrequent,
    /// The value from the highest-priority source (ties: most recent).
    SourcePriority,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Rule::MostRecent => "most_recent",
            Rule::MostFrequent => "most_frequent",
            Rule::SourcePriority => "source_priority",
        }
    }
}

/// Survivorship configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Survivorship {
    /// Rule for attributes not listed in `attributes`.
    pub default: Rule,
    /// Attribute (given_name, family_name, date_of_birth, gender, email,
    /// phone, address, identifier:<kind>) → rule.
    pub attributes: BTreeMap<String, Rule>,
    /// Sources in priority order, for `source_priority`.
    pub source_priority: Vec<String>,
}

impl Default for Survivorship {
    fn default() -> Self {
        Survivorship {
            default: Rule::MostFrequent,
            attributes: [
                ("email", Rule::MostRecent),
                ("phone", Rule::MostRecent),
                ("address", Rule::MostRecent),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            source_priority: Vec::new(),
        }
    }
}

/// Extracts (standardised, as written) values of one attribute from a record.
type ValuesOf<'a> = dyn Fn(&Record, &StdRecord) -> Vec<(String, String)> + 'a;

/// One candidate value for the golden record.
struct Candidate<'a> {
    /// Standardised value: what "the same value" means.
    std: String,
    /// Value as the source wrote it: what is shown.
    raw: String,
    rec: &'a Record,
}

fn rref(r: &Record) -> RecordRef {
    RecordRef {
        source: r.source.clone(),
        record_id: r.record_id.clone(),
    }
}

fn choose(cands: &[Candidate<'_>], rule: Rule, priority: &[String]) -> Option<GoldenValue> {
    // Recency, then record key, orders every tie deterministically.
    let recency = |c: &Candidate<'_>| {
        (
            c.rec.observed_at_ms,
            c.rec.source.clone(),
            c.rec.record_id.clone(),
        )
    };
    let best = match rule {
        Rule::MostRecent => cands.iter().max_by_key(|c| recency(c)),
        Rule::MostFrequent => {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for c in cands {
                *counts.entry(&c.std).or_default() += 1;
            }
            cands
                .iter()
                .max_by_key(|c| (counts[c.std.as_str()], recency(c)))
        }
        Rule::SourcePriority => {
            let rank = |c: &Candidate<'_>| {
                priority
                    .iter()
                    .position(|s| *s == c.rec.source)
                    .map_or(0, |p| priority.len() - p)
            };
            cands.iter().max_by_key(|c| (rank(c), recency(c)))
        }
    }?;
    Some(GoldenValue {
        value: best.raw.clone(),
        source_record: Some(rref(best.rec)),
        rule: rule.name().into(),
    })
}

impl<S: Store> Engine<S> {
    fn stored(&self, key: &str) -> Result<Option<(Record, StdRecord)>, EngineError> {
        Ok(self.store().record(key)?.map(|r| {
            let s = self.standardize(&r);
            (r, s)
        }))
    }

    /// The profile of an entity (old ids merged away resolve to the survivor).
    pub fn profile(&self, entity: EntityId, surv: &Survivorship) -> Result<Profile, EngineError> {
        let id = self
            .resolve_entity(entity)
            .ok_or(EngineError::EntityNotFound(entity))?;
        let keys = self
            .members(id)
            .ok_or(EngineError::EntityNotFound(entity))?;
        let mut recs = Vec::with_capacity(keys.len());
        for k in &keys {
            if let Some(x) = self.stored(k)? {
                recs.push(x);
            }
        }
        let rule = |a: &str| surv.attributes.get(a).copied().unwrap_or(surv.default);
        let pick = |a: &str, f: &ValuesOf<'_>| {
            let cands: Vec<Candidate<'_>> = recs
                .iter()
                .flat_map(|(r, s)| {
                    f(r, s)
                        .into_iter()
                        .map(move |(std, raw)| Candidate { std, raw, rec: r })
                })
                .filter(|c| !c.std.is_empty())
                .collect();
            choose(&cands, rule(a), &surv.source_priority)
        };
        let name = |r: &Record| r.name.clone().unwrap_or_default();
        let mut golden = GoldenRecord {
            given_name: pick("given_name", &|r, s| {
                let raw = Some(name(r).given)
                    .filter(|g| !g.is_empty())
                    .unwrap_or_else(|| s.given.clone().unwrap_or_default());
                s.given.iter().map(|g| (g.clone(), raw.clone())).collect()
            }),
            middle_name: pick("middle_name", &|r, s| {
                let raw = Some(name(r).middle)
                    .filter(|g| !g.is_empty())
                    .unwrap_or_else(|| s.middle.clone().unwrap_or_default());
                s.middle.iter().map(|g| (g.clone(), raw.clone())).collect()
            }),
            family_name: pick("family_name", &|r, s| {
                let raw = Some(name(r).family)
                    .filter(|g| !g.is_empty())
                    .unwrap_or_else(|| s.family.clone().unwrap_or_default());
                s.family.iter().map(|g| (g.clone(), raw.clone())).collect()
            }),
            date_of_birth: pick("date_of_birth", &|_, s| {
                s.dob.iter().map(|d| (d.to_iso(), d.to_iso())).collect()
            }),
            gender: pick("gender", &|r, s| {
                s.gender
                    .iter()
                    .map(|g| (format!("{g:?}"), r.gender.clone()))
                    .collect()
            }),
            email: pick("email", &|_, s| {
                s.emails.iter().map(|e| (e.clone(), e.clone())).collect()
            }),
            phone: pick("phone", &|_, s| {
                s.phones.iter().map(|p| (p.clone(), p.clone())).collect()
            }),
            address: pick("address", &|r, s| {
                s.addresses
                    .iter()
                    .zip(&r.addresses)
                    .map(|(a, raw)| {
                        let std = [&a.number, &a.street, &a.locality, &a.postcode]
                            .iter()
                            .filter_map(|x| x.as_deref())
                            .collect::<Vec<_>>()
                            .join(" ");
                        let shown = [
                            &raw.street,
                            &raw.locality,
                            &raw.region,
                            &raw.postcode,
                            &raw.country,
                        ]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                        (std, shown)
                    })
                    .collect()
            }),
            identifiers: Default::default(),
        };
        let kinds: std::collections::BTreeSet<String> = recs
            .iter()
            .flat_map(|(_, s)| s.identifiers.iter().map(|(k, _)| k.clone()))
            .collect();
        for kind in kinds {
            let attr = format!("identifier:{kind}");
            if let Some(v) = pick(&attr, &|_, s| {
                s.identifiers
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, v)| (v.clone(), v.clone()))
                    .collect()
            }) {
                golden.identifiers.insert(kind, v);
            }
        }

        // Identities: every distinct standardised value and where it appears.
        let mut ids: BTreeMap<(String, String), Vec<RecordRef>> = BTreeMap::new();
        for (r, s) in &recs {
            let mut add = |kind: String, value: String| {
                if !value.is_empty() {
                    ids.entry((kind, value)).or_default().push(rref(r));
                }
            };
            let full = [&s.given, &s.middle, &s.family]
                .iter()
                .filter_map(|x| x.as_deref())
                .collect::<Vec<_>>()
                .join(" ");
            add("name".into(), full);
            if let Some(d) = s.dob {
                add("date_of_birth".into(), d.to_iso());
            }
            s.emails.iter().for_each(|e| add("email".into(), e.clone()));
            s.phones.iter().for_each(|p| add("phone".into(), p.clone()));
            for a in &s.addresses {
                let v = [&a.number, &a.street, &a.locality, &a.region, &a.postcode]
                    .iter()
                    .filter_map(|x| x.as_deref())
                    .collect::<Vec<_>>()
                    .join(" ");
                add("address".into(), v);
            }
            for (k, v) in &s.identifiers {
                add(format!("identifier:{k}"), v.clone());
            }
        }
        let identities = ids
            .into_iter()
            .map(|((kind, value), records)| Identity {
                kind,
                value,
                records,
            })
            .collect();

        // Free attributes: most recent record wins.
        let mut by_recency: Vec<&Record> = recs.iter().map(|(r, _)| r).collect();
        by_recency.sort_by_key(|r| (r.observed_at_ms, r.source.clone(), r.record_id.clone()));
        let mut attributes = HashMap::new();
        for r in &by_recency {
            for (k, v) in &r.attributes {
                attributes.insert(k.clone(), v.clone());
            }
        }

        // Relationships: edges to records of other entities.
        let mut possible_matches = Vec::new();
        for k in &keys {
            for n in self.neighbours(k) {
                if n.entity != id {
                    let (s, r) = split_key(k);
                    let (os, or) = split_key(&n.key);
                    possible_matches.push(Relationship {
                        other_entity_id: n.entity,
                        record: Some(RecordRef {
                            source: s.into(),
                            record_id: r.into(),
                        }),
                        other_record: Some(RecordRef {
                            source: os.into(),
                            record_id: or.into(),
                        }),
                        probability: weight_to_probability(n.weight),
                        weight: n.weight,
                    });
                }
            }
        }
        possible_matches.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        Ok(Profile {
            entity_id: id,
            golden: Some(golden),
            identities,
            records: by_recency.into_iter().rev().cloned().collect(),
            attributes,
            possible_matches,
            merged_ids: self.merged_into(id),
        })
    }

    /// Entities whose records hold an identity value: `kind` is "email",
    /// "phone" or an identifier kind.
    pub fn lookup_identity(&self, kind: &str, value: &str) -> Result<Vec<EntityId>, EngineError> {
        let invalid = |reason: String| EngineError::InvalidRecord {
            field: format!("identity.{kind}"),
            value: value.to_string(),
            reason,
        };
        let cfg = &self.config().standardize;
        let mut probe = StdRecord::default();
        let part = match kind {
            "email" => {
                probe.emails = vec![normalize_email(value, cfg.email_provider_rules)
                    .map_err(|e| invalid(format!("{e:?}")))?];
                KeyPart::Email
            }
            "phone" => {
                probe.phones = vec![normalize_phone(value, &cfg.default_region)
                    .map_err(|e| invalid(format!("{e:?}")))?];
                KeyPart::Phone
            }
            _ => {
                let (k, v) = normalize_identifier(kind, value)
                    .ok_or_else(|| invalid("empty identifier".into()))?;
                probe.identifiers = vec![(k, v)];
                KeyPart::Identifier
            }
        };
        let packed = Packed::from_std(&probe);
        let view = packed.view();
        let rules = &self.config().blocking.rules;
        let (ri, rule) = rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.parts == [part])
            .ok_or_else(|| invalid(format!("no blocking rule indexes {kind} alone")))?;
        let mut keys = Keys::new();
        rule_keys(ri, rule, &view, &mut keys);
        let mut out = Vec::new();
        for k in keys {
            for key in self.keys_holding(k) {
                let Some(f) = self.features(&key) else {
                    continue;
                };
                let holds = match part {
                    KeyPart::Email => f.emails.iter().any(|e| view.emails.contains(e)),
                    KeyPart::Phone => f.phones.iter().any(|p| view.phones.contains(p)),
                    _ => f.ids.iter().any(|i| view.ids.contains(i)),
                };
                if holds {
                    out.extend(self.entity_of(&key));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Candidate entities for a partial description, best first.
    pub fn search(
        &self,
        query: &Record,
        limit: usize,
        min_probability: f64,
    ) -> Vec<(EntityId, f64, String)> {
        let std = self.standardize(query);
        let packed = Packed::from_std(&std);
        let q = packed.view();
        let mut best: HashMap<EntityId, (f64, String)> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for k in super::blocking::record_keys(&self.config().blocking, &q) {
            for key in self.keys_holding(k) {
                if !seen.insert(key.clone()) {
                    continue;
                }
                let (Some(f), Some(e)) = (self.features(&key), self.entity_of(&key)) else {
                    continue;
                };
                let w = self.score(&q, &f);
                let slot = best.entry(e).or_insert((f64::NEG_INFINITY, String::new()));
                if w > slot.0 {
                    *slot = (w, key);
                }
            }
        }
        let mut v: Vec<(EntityId, f64, String)> = best
            .into_iter()
            .map(|(e, (w, k))| (e, w, k))
            .filter(|(_, w, _)| weight_to_probability(*w) >= min_probability)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(limit);
        v
    }

    /// A search result as the API returns it.
    pub fn search_candidate(
        &self,
        entity: EntityId,
        weight: f64,
        key: &str,
        surv: &Survivorship,
    ) -> SearchCandidate {
        let (s, r) = split_key(key);
        SearchCandidate {
            entity_id: entity,
            probability: weight_to_probability(weight),
            weight,
            best_record: Some(RecordRef {
                source: s.into(),
                record_id: r.into(),
            }),
            golden: self.profile(entity, surv).ok().and_then(|p| p.golden),
        }
    }

    /// The stored record and its entity.
    pub fn get_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<(Record, EntityId, StdRecord), EngineError> {
        let key = record_key(source, record_id);
        let entity = self
            .entity_of(&key)
            .ok_or_else(|| EngineError::RecordNotFound(format!("{source}/{record_id}")))?;
        let (r, s) = self
            .stored(&key)?
            .ok_or_else(|| EngineError::RecordNotFound(format!("{source}/{record_id}")))?;
        Ok((r, entity, s))
    }
}
