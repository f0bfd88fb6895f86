//! Cluster-wide entities assembled from partition-local ones.
//!
//! Local entities joined by valid cross-partition links form one customer.
//! Its id is the smallest local entity id in the group: a pure function of
//! the group, so every node names it the same way. The parts' profiles are
//! merged here; their histories where they become wire messages
//! (`server::convert`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kindred_proto::v1 as pb;

use crate::engine::cluster::{cluster_seeded, EdgeIn, Node};
use crate::engine::standardize::PartialDate;
use crate::engine::union_find::UnionFind;
use crate::engine::EntityId;
use crate::partition::request::{EntityView, Evidence};

/// Groups of entity ids joined by `pairs` (every id of `ids` and of the
/// pairs belongs to one), each sorted, in order of their smallest id.
pub fn join_ids(
    ids: impl IntoIterator<Item = EntityId>,
    pairs: &[(EntityId, EntityId)],
) -> Vec<Vec<EntityId>> {
    let mut all: Vec<EntityId> = ids.into_iter().collect();
    all.extend(pairs.iter().flat_map(|&(a, b)| [a, b]));
    all.sort_unstable();
    all.dedup();
    let index = |id: EntityId| all.binary_search(&id).unwrap_or_default();
    let mut uf = UnionFind::new(all.len());
    for &(a, b) in pairs {
        uf.union(index(a), index(b));
    }
    uf.groups()
        .into_iter()
        .map(|g| g.into_iter().map(|i| all[i]).collect())
        .collect()
}

/// Splits a connected component of local entities (joined by valid
/// cross-partition links and local match edges `(key, key, weight)`)
/// into cluster-wide entities
/// the way one engine clusters a component: links strongest first (ties by
/// record keys), each uniting two groups unless the size cap or merge
/// protection (conflicting dates of birth or strong identifiers that no
/// direct link or local edge vouches for) forbids it. Local entities are taken whole.
/// Returns every local entity id → its cluster-wide id (the smallest local
/// id of its group).
pub fn resolve_component(
    views: &[EntityView],
    links: &[(String, String, f32)],
    max_size: usize,
) -> HashMap<EntityId, EntityId> {
    let mut keys: Vec<(&str, EntityId)> = views
        .iter()
        .flat_map(|v| v.members.iter().map(move |m| (m.as_str(), v.entity)))
        .collect();
    keys.sort_unstable();
    keys.dedup_by(|a, b| a.0 == b.0);
    let nodes = evidence_nodes(views, &keys);
    // Each record starts in the group of its local entity's first record.
    let mut first: HashMap<EntityId, usize> = HashMap::new();
    for (i, (_, e)) in keys.iter().enumerate() {
        first.entry(*e).or_insert(i);
    }
    let seed: Vec<usize> = keys.iter().map(|(_, e)| first[e]).collect();
    let edges = strongest_links(&keys, links);
    let c = cluster_seeded(&nodes, &seed, &edges, max_size);
    let mut label_min: HashMap<usize, EntityId> = HashMap::new();
    for (i, (_, e)) in keys.iter().enumerate() {
        let m = label_min.entry(c.labels[i]).or_insert(*e);
        *m = (*m).min(*e);
    }
    keys.iter()
        .enumerate()
        .map(|(i, (_, e))| (*e, label_min[&c.labels[i]]))
        .collect()
}

/// The clustering nodes of the records (sorted keys), with the strong
/// evidence their partitions reported.
fn evidence_nodes<'a>(views: &'a [EntityView], keys: &[(&'a str, EntityId)]) -> Vec<Node<'a>> {
    let evidence: HashMap<&str, &Evidence> = views
        .iter()
        .flat_map(|v| v.evidence.iter().map(|e| (e.key.as_str(), e)))
        .collect();
    keys.iter()
        .map(|(k, _)| {
            let ev = evidence.get(k);
            Node {
                key: k,
                dob: ev.and_then(|e| e.dob).map(|(year, m, d)| PartialDate {
                    year,
                    month: Some(m),
                    day: Some(d),
                }),
                strong: ev
                    .map(|e| {
                        e.strong
                            .iter()
                            .map(|(a, b)| (a.as_str(), b.as_str()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// One edge per pair of records: the strongest pair between them. Pairs
/// inside one local entity unite nothing, but vouch for the conflict
/// between their ends, as they do inside the partition.
fn strongest_links(keys: &[(&str, EntityId)], links: &[(String, String, f32)]) -> Vec<EdgeIn> {
    let pos: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (k.0, i)).collect();
    let mut best: BTreeMap<(usize, usize), f32> = BTreeMap::new();
    for (a, b, w) in links {
        if let (Some(&x), Some(&y)) = (pos.get(a.as_str()), pos.get(b.as_str())) {
            if x != y {
                let k = (x.min(y), x.max(y));
                let e = best.entry(k).or_insert(*w);
                *e = e.max(*w);
            }
        }
    }
    best.into_iter()
        .map(|((a, b), weight)| EdgeIn { weight, a, b })
        .collect()
}

fn fill(slot: &mut Option<pb::GoldenValue>, other: &Option<pb::GoldenValue>) {
    if slot.as_ref().is_none_or(|v| v.value.is_empty()) {
        if let Some(o) = other.as_ref().filter(|v| !v.value.is_empty()) {
            *slot = Some(o.clone());
        }
    }
}

/// One profile from the profiles of a group's local entities. The part
/// with the most records leads the golden record (ties: the smallest id);
/// attributes it lacks come from the other parts in the same order.
pub fn merge_profiles(global: EntityId, mut parts: Vec<pb::Profile>) -> pb::Profile {
    parts.sort_by(|a, b| {
        b.records
            .len()
            .cmp(&a.records.len())
            .then(a.entity_id.cmp(&b.entity_id))
    });
    let ids: BTreeSet<EntityId> = parts.iter().map(|p| p.entity_id).collect();
    let mut it = parts.into_iter();
    let Some(mut out) = it.next() else {
        return pb::Profile {
            entity_id: global,
            ..Default::default()
        };
    };
    let mut identities = IdentityIndex::default();
    identities.absorb(std::mem::take(&mut out.identities));
    let mut merged: BTreeSet<EntityId> = out.merged_ids.iter().copied().collect();
    for p in it {
        if let Some(o) = &p.golden {
            fill_golden(out.golden.get_or_insert_with(Default::default), o);
        }
        for (k, v) in p.attributes {
            out.attributes.entry(k).or_insert(v);
        }
        out.records.extend(p.records);
        out.possible_matches.extend(p.possible_matches);
        merged.extend(p.merged_ids);
        identities.absorb(p.identities);
    }
    out.records
        .sort_by(|a, b| (&a.source, &a.record_id).cmp(&(&b.source, &b.record_id)));
    out.identities = identities.into_identities();
    out.possible_matches
        .retain(|r| !ids.contains(&r.other_entity_id));
    merged.extend(ids.iter().copied().filter(|&i| i != global));
    merged.remove(&global);
    out.merged_ids = merged.into_iter().collect();
    out.entity_id = global;
    out
}

/// Fills the golden values `g` lacks from another part's.
fn fill_golden(g: &mut pb::GoldenRecord, o: &pb::GoldenRecord) {
    fill(&mut g.given_name, &o.given_name);
    fill(&mut g.middle_name, &o.middle_name);
    fill(&mut g.family_name, &o.family_name);
    fill(&mut g.date_of_birth, &o.date_of_birth);
    fill(&mut g.gender, &o.gender);
    fill(&mut g.email, &o.email);
    fill(&mut g.phone, &o.phone);
    fill(&mut g.address, &o.address);
    for (k, v) in &o.identifiers {
        g.identifiers.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

fn sort_refs(refs: &mut [pb::RecordRef]) {
    refs.sort_by(|a, b| (&a.source, &a.record_id).cmp(&(&b.source, &b.record_id)));
}

/// Identities of several parts, by (kind, value), with every record
/// holding each.
#[derive(Default)]
struct IdentityIndex(BTreeMap<(String, String), Vec<pb::RecordRef>>);

impl IdentityIndex {
    fn absorb(&mut self, v: Vec<pb::Identity>) {
        for i in v {
            self.0
                .entry((i.kind, i.value))
                .or_default()
                .extend(i.records);
        }
    }

    fn into_identities(self) -> Vec<pb::Identity> {
        self.0
            .into_iter()
            .map(|((kind, value), mut records)| {
                sort_refs(&mut records);
                records.dedup();
                pb::Identity {
                    kind,
                    value,
                    records,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_ids_group_sorted_in_order_of_their_smallest() {
        let groups = join_ids([50], &[(9, 4), (4, 7), (30, 12)]);
        assert_eq!(groups, vec![vec![4, 7, 9], vec![12, 30], vec![50]]);
    }

    #[test]
    fn merged_profile_takes_the_smallest_id_and_every_record() {
        let p = |id, n: usize| pb::Profile {
            entity_id: id,
            records: (0..n)
                .map(|i| pb::Record {
                    source: "s".into(),
                    record_id: format!("{id}-{i}"),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let m = merge_profiles(3, vec![p(8, 2), p(3, 1)]);
        assert_eq!(m.entity_id, 3);
        assert_eq!(m.records.len(), 3);
        assert_eq!(m.merged_ids, vec![8]);
    }
}
