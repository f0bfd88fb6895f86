//! The single customer view of an entity: golden record (survivorship per
//! attribute), every identity value, every source record, merged free
//! attributes and possible-match relationships; plus lookup by identity
//! and search by attributes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// An entity's records as stored, each with its standardisation.
type Loaded = [(Record, StdRecord)];

/// The reference to a record, from its internal key.
fn key_ref(key: &str) -> RecordRef {
    let (source, record_id) = split_key(key);
    RecordRef {
        source: source.into(),
        record_id: record_id.into(),
    }
}

/// The parts that are present, joined by spaces.
fn join_present(parts: &[&Option<String>]) -> String {
    parts
        .iter()
        .filter_map(|x| x.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The golden value of one attribute: the attribute's rule applied to every
/// non-empty value the records hold.
fn survive(
    recs: &Loaded,
    attr: &str,
    values: &ValuesOf<'_>,
    surv: &Survivorship,
) -> Option<GoldenValue> {
    let cands: Vec<Candidate<'_>> = recs
        .iter()
        .flat_map(|(r, s)| {
            values(r, s)
                .into_iter()
                .map(move |(std, raw)| Candidate { std, raw, rec: r })
        })
        .filter(|c| !c.std.is_empty())
        .collect();
    let rule = surv.attributes.get(attr).copied().unwrap_or(surv.default);
    choose(&cands, rule, &surv.source_priority)
}

/// The golden record: one surviving value per attribute, and per
/// identifier kind.
fn golden_record(recs: &Loaded, surv: &Survivorship) -> GoldenRecord {
    let pick = |attr: &str, values: &ValuesOf<'_>| survive(recs, attr, values, surv);
    let raw_name = |r: &Record| r.name.clone().unwrap_or_default();
    GoldenRecord {
        given_name: pick("given_name", &|r, s| {
            name_part(&raw_name(r).given, &s.given)
        }),
        middle_name: pick("middle_name", &|r, s| {
            name_part(&raw_name(r).middle, &s.middle)
        }),
        family_name: pick("family_name", &|r, s| {
            name_part(&raw_name(r).family, &s.family)
        }),
        date_of_birth: pick("date_of_birth", &|_, s| {
            s.dob.iter().map(|d| (d.to_iso(), d.to_iso())).collect()
        }),
        // Standardised values survive ("female", not "F" beside "Female");
        // the source records keep what each system sent.
        gender: pick("gender", &|_, s| {
            s.gender
                .iter()
                .map(|g| (g.as_str().to_string(), g.as_str().to_string()))
                .collect()
        }),
        email: pick("email", &|_, s| {
            s.emails.iter().map(|e| (e.clone(), e.clone())).collect()
        }),
        phone: pick("phone", &|_, s| {
            s.phones.iter().map(|p| (p.clone(), p.clone())).collect()
        }),
        address: pick("address", &address_values),
        identifiers: golden_identifiers(recs, surv),
    }
}

/// One name part's (standardised, shown) value: shown as the source wrote
/// it, or standardised when the source left the field empty (the part was
/// parsed from the full name).
fn name_part(raw: &str, std: &Option<String>) -> Vec<(String, String)> {
    let shown = Some(raw)
        .filter(|x| !x.is_empty())
        .map_or_else(|| std.clone().unwrap_or_default(), str::to_string);
    std.iter().map(|v| (v.clone(), shown.clone())).collect()
}

/// Each address's (standardised, shown) value; shown is the source's street,
/// locality and region with the standardised postcode and ISO country code
/// (the source's own where they could not be read), joined by commas.
fn address_values(r: &Record, s: &StdRecord) -> Vec<(String, String)> {
    s.addresses
        .iter()
        .zip(&r.addresses)
        .map(|(a, raw)| {
            let std = join_present(&[&a.number, &a.street, &a.locality, &a.postcode]);
            let postcode = a.postcode.as_deref().unwrap_or(&raw.postcode);
            let country = a.country.as_deref().unwrap_or(&raw.country);
            let shown = [
                raw.street.as_str(),
                &raw.locality,
                &raw.region,
                postcode,
                country,
            ]
            .iter()
            .filter(|x| !x.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
            (std, shown)
        })
        .collect()
}

/// One golden value per identifier kind the records hold.
fn golden_identifiers(recs: &Loaded, surv: &Survivorship) -> HashMap<String, GoldenValue> {
    let kinds: BTreeSet<String> = recs
        .iter()
        .flat_map(|(_, s)| s.identifiers.iter().map(|(k, _)| k.clone()))
        .collect();
    let mut out = HashMap::new();
    for kind in kinds {
        let attr = format!("identifier:{kind}");
        let of_kind = |_: &Record, s: &StdRecord| {
            s.identifiers
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, v)| (v.clone(), v.clone()))
                .collect()
        };
        if let Some(v) = survive(recs, &attr, &of_kind, surv) {
            out.insert(kind, v);
        }
    }
    out
}

/// Every distinct standardised identity value and the records holding it,
/// ordered by (kind, value).
fn identities(recs: &Loaded) -> Vec<Identity> {
    let mut ids: BTreeMap<(String, String), Vec<RecordRef>> = BTreeMap::new();
    for (r, s) in recs {
        for (kind, value) in identity_values(s) {
            if !value.is_empty() {
                ids.entry((kind, value)).or_default().push(rref(r));
            }
        }
    }
    ids.into_iter()
        .map(|((kind, value), records)| Identity {
            kind,
            value,
            records,
        })
        .collect()
}

/// A record's identity values as (kind, value); values may be empty.
fn identity_values(s: &StdRecord) -> Vec<(String, String)> {
    let mut out = vec![(
        "name".to_string(),
        join_present(&[&s.given, &s.middle, &s.family]),
    )];
    if let Some(d) = s.dob {
        out.push(("date_of_birth".into(), d.to_iso()));
    }
    out.extend(s.emails.iter().map(|e| ("email".into(), e.clone())));
    out.extend(s.phones.iter().map(|p| ("phone".into(), p.clone())));
    for a in &s.addresses {
        let v = join_present(&[&a.number, &a.street, &a.locality, &a.region, &a.postcode]);
        out.push(("address".into(), v));
    }
    for (k, v) in &s.identifiers {
        out.push((format!("identifier:{k}"), v.clone()));
    }
    out
}

/// The records, oldest observed first (ties by source and record id).
fn oldest_first(recs: &Loaded) -> Vec<&Record> {
    let mut v: Vec<&Record> = recs.iter().map(|(r, _)| r).collect();
    v.sort_by_key(|r| (r.observed_at_ms, r.source.clone(), r.record_id.clone()));
    v
}

/// Free attributes merged: for each key, the most recent record's value.
fn free_attributes(oldest_first: &[&Record]) -> HashMap<String, String> {
    let mut attributes = HashMap::new();
    for r in oldest_first {
        for (k, v) in &r.attributes {
            attributes.insert(k.clone(), v.clone());
        }
    }
    attributes
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
        let recs = self.load_records(&keys)?;
        let by_recency = oldest_first(&recs);
        Ok(Profile {
            entity_id: id,
            golden: Some(golden_record(&recs, surv)),
            identities: identities(&recs),
            records: by_recency.iter().rev().map(|&r| r.clone()).collect(),
            attributes: free_attributes(&by_recency),
            possible_matches: self.relationships(id, &keys),
            merged_ids: self.merged_into(id),
            // Activity is added by whoever reads the records' events.
            ..Profile::default()
        })
    }

    /// The stored records under these keys, standardised again (keys
    /// without a stored record are skipped).
    fn load_records(&self, keys: &[String]) -> Result<Vec<(Record, StdRecord)>, EngineError> {
        let mut recs = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(x) = self.stored(k)? {
                recs.push(x);
            }
        }
        Ok(recs)
    }

    /// Possible-match relationships: edges from the entity's records (`keys`)
    /// to records of other entities, strongest first.
    fn relationships(&self, id: EntityId, keys: &[String]) -> Vec<Relationship> {
        let mut out = Vec::new();
        for k in keys {
            for n in self.neighbours(k).into_iter().filter(|n| n.entity != id) {
                out.push(Relationship {
                    other_entity_id: n.entity,
                    record: Some(key_ref(k)),
                    other_record: Some(key_ref(&n.key)),
                    probability: weight_to_probability(n.weight),
                    weight: n.weight,
                });
            }
        }
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        out
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
        let secret = self.config().blocking.secret;
        let mut out = Vec::new();
        for k in keys.into_iter().map(|k| secret.apply(k)) {
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
        SearchCandidate {
            entity_id: entity,
            probability: weight_to_probability(weight),
            weight,
            best_record: Some(key_ref(key)),
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
            .ok_or_else(|| EngineError::RecordNotFound(format!("{source}:{record_id}")))?;
        let (r, s) = self
            .stored(&key)?
            .ok_or_else(|| EngineError::RecordNotFound(format!("{source}:{record_id}")))?;
        Ok((r, entity, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, Model};
    use kindred_proto::v1::{Identifier, PersonName, PostalAddress};

    /// Harley McCarthy, born 1908-04-19, email h@x.com, as one source
    /// wrote them at `observed_at_ms`.
    fn harley(source: &str, id: &str, given: &str, observed_at_ms: i64) -> Record {
        Record {
            source: source.into(),
            record_id: id.into(),
            name: Some(PersonName {
                given: given.into(),
                family: "McCarthy".into(),
                ..Default::default()
            }),
            date_of_birth: "1908-04-19".into(),
            emails: vec!["h@x.com".into()],
            observed_at_ms,
            ..Default::default()
        }
    }

    /// Three records of one person: crm/1 (oldest), web/2, shop/3 (newest).
    fn engine() -> (Engine, EntityId) {
        let mut e = Engine::in_memory(EngineConfig::default(), Model::default());
        let mut r1 = harley("crm", "1", "Harley", 100);
        r1.phones = vec!["0412000001".into()];
        r1.attributes = [("tier", "gold"), ("segment", "a")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        r1.identifiers = vec![Identifier {
            kind: "loyalty".into(),
            value: "L-123".into(),
        }];
        r1.addresses = vec![PostalAddress {
            street: "1 Wallaby Place".into(),
            postcode: "2119".into(),
            country: "AU".into(),
            ..Default::default()
        }];
        let mut r2 = harley("web", "2", "HARLEY", 300);
        r2.phones = vec!["0412000002".into()];
        r2.attributes = [("tier".to_string(), "silver".to_string())].into();
        let r3 = harley("shop", "3", "Harlee", 500);
        let id = e.upsert(r1).unwrap().entity;
        for r in [r2, r3] {
            assert_eq!(e.upsert(r).unwrap().entity, id, "one person");
        }
        (e, id)
    }

    fn rref(source: &str, id: &str) -> Option<RecordRef> {
        Some(RecordRef {
            source: source.into(),
            record_id: id.into(),
        })
    }

    fn golden(p: &Profile) -> &GoldenRecord {
        p.golden.as_ref().unwrap()
    }

    #[test]
    fn most_frequent_picks_the_value_most_records_share_as_its_newest_holder_wrote_it() {
        let (e, id) = engine();
        let p = e.profile(id, &Survivorship::default()).unwrap();
        // "harley" twice (crm/1 "Harley", web/2 "HARLEY"), "harlee" once.
        let given = golden(&p).given_name.clone().unwrap();
        assert_eq!(given.value, "HARLEY");
        assert_eq!(given.source_record, rref("web", "2"));
        assert_eq!(given.rule, "most_frequent");
        // All agree on the family name: the most recent record is named.
        let family = golden(&p).family_name.clone().unwrap();
        assert_eq!(
            (family.value.as_str(), family.source_record),
            ("McCarthy", rref("shop", "3"))
        );
    }

    #[test]
    fn most_recent_picks_the_latest_observed_record_holding_a_value() {
        let (e, id) = engine();
        let p = e.profile(id, &Survivorship::default()).unwrap();
        // shop/3 is newest but has no phone; web/2 is next.
        let phone = golden(&p).phone.clone().unwrap();
        assert_eq!(phone.value, "+61412000002");
        assert_eq!(phone.source_record, rref("web", "2"));
        assert_eq!(phone.rule, "most_recent");
    }

    #[test]
    fn source_priority_picks_the_preferred_source() {
        let (e, id) = engine();
        let surv = Survivorship {
            attributes: [("phone".to_string(), Rule::SourcePriority)].into(),
            source_priority: vec!["crm".into(), "web".into()],
            ..Survivorship::default()
        };
        let p = e.profile(id, &surv).unwrap();
        let phone = golden(&p).phone.clone().unwrap();
        assert_eq!(phone.value, "+61412000001");
        assert_eq!(phone.source_record, rref("crm", "1"));
        assert_eq!(phone.rule, "source_priority");
    }

    #[test]
    fn every_golden_value_names_a_record_of_the_entity() {
        let (e, id) = engine();
        let p = e.profile(id, &Survivorship::default()).unwrap();
        let g = golden(&p);
        let values: Vec<&GoldenValue> = [
            &g.given_name,
            &g.family_name,
            &g.date_of_birth,
            &g.email,
            &g.phone,
            &g.address,
        ]
        .into_iter()
        .flatten()
        .chain(g.identifiers.values())
        .collect();
        assert_eq!(values.len(), 7, "{g:?}");
        for v in values {
            let named = v.source_record.as_ref().expect("a source record");
            assert!(
                p.records
                    .iter()
                    .any(|r| r.source == named.source && r.record_id == named.record_id),
                "{v:?}"
            );
        }
        assert_eq!(g.date_of_birth.as_ref().unwrap().value, "1908-04-19");
        assert_eq!(
            g.address.as_ref().unwrap().value,
            "1 Wallaby Place, 2119, AU"
        );
        let loyalty = &g.identifiers["loyalty"];
        assert_eq!(loyalty.source_record, rref("crm", "1"));
        assert!(g.middle_name.is_none() && g.gender.is_none());
    }

    #[test]
    fn the_golden_record_shows_standardised_values_and_the_records_keep_theirs() {
        let mut e = Engine::in_memory(EngineConfig::default(), Model::default());
        let mut a = harley("crm", "a", "Harley", 1);
        a.gender = "F".into();
        a.addresses = vec![PostalAddress {
            street: "1 Wallaby Place".into(),
            postcode: "2119".into(),
            country: "Australia".into(),
            ..Default::default()
        }];
        let mut b = harley("web", "b", "Harley", 2);
        b.gender = "Female".into();
        let entity = e.upsert(a).unwrap().entity;
        assert_eq!(e.upsert(b).unwrap().entity, entity);
        let p = e.profile(entity, &Survivorship::default()).unwrap();
        let g = golden(&p);
        assert_eq!(g.gender.as_ref().unwrap().value, "female");
        assert_eq!(
            g.address.as_ref().unwrap().value,
            "1 Wallaby Place, 2119, AU"
        );
        let mut sent: Vec<&str> = p.records.iter().map(|r| r.gender.as_str()).collect();
        sent.sort();
        assert_eq!(
            sent,
            ["F", "Female"],
            "the source records keep what was sent"
        );
    }

    #[test]
    fn identities_are_deduplicated_and_name_every_record_holding_them() {
        let (e, id) = engine();
        let p = e.profile(id, &Survivorship::default()).unwrap();
        let emails: Vec<&Identity> = p.identities.iter().filter(|i| i.kind == "email").collect();
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0].value, "h@x.com");
        let mut holders: Vec<String> = emails[0].records.iter().map(|r| r.source.clone()).collect();
        holders.sort();
        assert_eq!(holders, ["crm", "shop", "web"]);
        let names: Vec<&str> = p
            .identities
            .iter()
            .filter(|i| i.kind == "name")
            .map(|i| i.value.as_str())
            .collect();
        assert_eq!(names, ["harlee mccarthy", "harley mccarthy"]);
        let mut kinds: Vec<&str> = p.identities.iter().map(|i| i.kind.as_str()).collect();
        kinds.dedup();
        assert_eq!(
            kinds,
            [
                "address",
                "date_of_birth",
                "email",
                "identifier:loyalty",
                "name",
                "phone"
            ]
        );
    }

    #[test]
    fn free_attributes_take_the_most_recent_value_of_each_key() {
        let (e, id) = engine();
        let p = e.profile(id, &Survivorship::default()).unwrap();
        assert_eq!(p.attributes.len(), 2);
        assert_eq!(p.attributes["tier"], "silver");
        assert_eq!(p.attributes["segment"], "a");
    }

    #[test]
    fn records_are_listed_newest_first() {
        let (e, id) = engine();
        let p = e.profile(id, &Survivorship::default()).unwrap();
        let order: Vec<&str> = p.records.iter().map(|r| r.record_id.as_str()).collect();
        assert_eq!(order, ["3", "2", "1"]);
    }

    #[test]
    fn possible_matches_name_both_records_and_the_other_entity() {
        let (mut e, id) = engine();
        // Same family and date of birth, nothing else in common; a given
        // name that differs but not clearly ("Zed" against "Harley" would
        // be clear evidence of another person, as for twins).
        let mut zed = harley("crm", "9", "Lee", 50);
        zed.emails = vec!["z@y.com".into()];
        zed.phones = vec!["0498765432".into()];
        let other = e.upsert(zed).unwrap();
        assert_ne!(other.entity, id);
        assert_eq!(other.possible_matches, 3);
        let p = e.profile(id, &Survivorship::default()).unwrap();
        assert_eq!(p.possible_matches.len(), 3);
        for m in &p.possible_matches {
            assert_eq!(m.other_entity_id, other.entity);
            assert_eq!(m.other_record, rref("crm", "9"));
            assert!(m.probability >= 0.5 && m.probability < 0.95, "{m:?}");
        }
        let weights: Vec<f64> = p.possible_matches.iter().map(|m| m.weight).collect();
        assert!(weights.windows(2).all(|w| w[0] >= w[1]), "strongest first");
    }

    #[test]
    fn a_merged_away_id_gives_the_survivors_profile() {
        // Plain Fellegi-Sunter: the household class would read Harley and
        // Zed, born the same day and sharing a phone, as twins.
        let model = Model {
            household: None,
            ..Model::default()
        };
        let mut e = Engine::in_memory(EngineConfig::default(), model);
        let mut a = harley("crm", "a", "Harley", 1);
        a.emails = vec!["h@x.com".into()];
        a.phones = vec!["0412000001".into()];
        let mut b = harley("crm", "b", "Zed", 2);
        b.emails = vec!["z@y.com".into()];
        b.phones = vec!["0498765432".into()];
        let mut bridge = harley("crm", "c", "Harley", 3);
        bridge.phones = vec!["0498765432".into()];
        let (a, b) = (e.upsert(a).unwrap(), e.upsert(b).unwrap());
        assert_eq!(e.upsert(bridge).unwrap().absorbed, vec![b.entity]);
        let p = e.profile(b.entity, &Survivorship::default()).unwrap();
        assert_eq!(p.entity_id, a.entity);
        assert_eq!(p.merged_ids, vec![b.entity]);
        assert_eq!(p.records.len(), 3);
    }

    #[test]
    fn an_unknown_entity_is_not_found() {
        let (e, id) = engine();
        assert!(matches!(
            e.profile(id + 1000, &Survivorship::default()),
            Err(EngineError::EntityNotFound(x)) if x == id + 1000
        ));
    }

    #[test]
    fn lookup_by_identity_finds_the_entity_holding_it() {
        let (e, id) = engine();
        assert_eq!(e.lookup_identity("email", "H@X.com").unwrap(), vec![id]);
        assert_eq!(e.lookup_identity("loyalty", "L-123").unwrap(), vec![id]);
        assert!(e
            .lookup_identity("email", "nobody@x.com")
            .unwrap()
            .is_empty());
    }
}
