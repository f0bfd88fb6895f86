//! Canonical clustering of one connected component of match edges.
//!
//! Entities are defined as a pure function of the records and their match
//! edges, so the result cannot depend on arrival order: edges are taken in a
//! canonical order (strongest first, ties broken by record keys) and two
//! clusters are united unless that would
//! - exceed the maximum entity size, or
//! - put two conflicting values of strong evidence (different strong
//!   identifiers, clearly different dates of birth) into one entity unless
//!   some direct match edge of the same connected component joins a record
//!   holding one value to a record holding the other. A weak bridge (a record that matches both sides
//!   but carries neither value) never overrides a conflict; only direct
//!   evidence across the two values can, which is what lets a duplicate
//!   with a mistyped date of birth join its person.

use rustc_hash::FxHashSet;
use smallvec::SmallVec;

use super::compare::{dob_level, within_one_edit};
use super::standardize::PartialDate;
use super::union_find::UnionFind;

/// The version of the clustering algorithm. Stored entities computed by
/// another version are re-resolved when a partition opens.
pub const CLUSTERING_VERSION: &str = "3-component-vouching";

/// What clustering needs to know about one record.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// Internal record key; orders ties.
    pub key: &'a str,
    pub dob: Option<PartialDate>,
    /// Strong identifiers (kind, value).
    pub strong: SmallVec<[(&'a str, &'a str); 1]>,
}

/// A match edge between nodes `a` and `b` (indices into the node slice).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeIn {
    pub weight: f32,
    pub a: usize,
    pub b: usize,
}

/// Why an edge did not unite its clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// The merged entity would exceed the size cap.
    Size,
    /// Two records would conflict with no direct edge between them.
    Conflict { a: usize, b: usize },
}

/// Result of clustering a component.
#[derive(Debug, Clone, Default)]
pub struct Clustering {
    /// Cluster label per node (the smallest node index in the cluster).
    pub labels: Vec<usize>,
    /// Edges (indices into the input) that united two clusters, in order.
    pub accepted: Vec<usize>,
    /// Edges that would have united two clusters but were blocked.
    pub blocked: Vec<(usize, Blocked)>,
}

/// A value that can conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Val<'a> {
    Dob(PartialDate),
    Id(&'a str, &'a str),
}

/// The pairs of conflicting values between two records (each pair ordered).
fn conflicting_values<'a>(x: &Node<'a>, y: &Node<'a>, out: &mut Vec<(Val<'a>, Val<'a>)>) {
    let ordered = |a: Val<'a>, b: Val<'a>| if a <= b { (a, b) } else { (b, a) };
    if let (Some(dx), Some(dy)) = (x.dob, y.dob) {
        if dob_level(Some(dx), Some(dy)) == 4 {
            out.push(ordered(Val::Dob(dx), Val::Dob(dy)));
        }
    }
    for (kx, vx) in &x.strong {
        for (ky, vy) in &y.strong {
            if kx == ky && vx != vy && !within_one_edit(vx.as_bytes(), vy.as_bytes()) {
                out.push(ordered(Val::Id(kx, vx), Val::Id(ky, vy)));
            }
        }
    }
}

/// True when two records carry conflicting strong evidence.
pub fn conflicts<'a>(x: &Node<'a>, y: &Node<'a>) -> bool {
    let mut v = Vec::new();
    conflicting_values(x, y, &mut v);
    !v.is_empty()
}

/// Clusters nodes over match edges in canonical order.
pub fn cluster(nodes: &[Node<'_>], edges: &[EdgeIn], max_size: usize) -> Clustering {
    let seed: Vec<usize> = (0..nodes.len()).collect();
    cluster_seeded(nodes, &seed, edges, max_size)
}

/// Like [`cluster`], starting from given clusters: `seed[i]` is the index
/// of the node whose cluster node `i` starts in (a cluster's nodes all name
/// the same one). A cluster of a cluster uses this to join partition-local
/// entities, which are taken as they are, over cross-partition links.
pub fn cluster_seeded(
    nodes: &[Node<'_>],
    seed: &[usize],
    edges: &[EdgeIn],
    max_size: usize,
) -> Clustering {
    let vouched = vouched_pairs(nodes, seed, edges);
    let mut sets = UnionFind::seeded(seed, nodes.len());
    // Per root: the nodes that carry strong evidence (only they can conflict).
    let mut evidence: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        if n.dob.is_some() || !n.strong.is_empty() {
            evidence[sets.find(i)].push(i);
        }
    }
    let mut out = Clustering::default();
    for i in canonical_order(nodes, edges) {
        let e = edges[i];
        let (ra, rb) = (sets.find(e.a), sets.find(e.b));
        if ra == rb {
            continue;
        }
        if sets.set_size(ra) + sets.set_size(rb) > max_size {
            out.blocked.push((i, Blocked::Size));
            continue;
        }
        let scope = vouched.component[e.a];
        if let Some((a, b)) =
            unvouched_conflict(nodes, &vouched, scope, &evidence[ra], &evidence[rb])
        {
            out.blocked.push((i, Blocked::Conflict { a, b }));
            continue;
        }
        let root = sets.union_by_size(ra, rb);
        let gone = if root == ra { rb } else { ra };
        let moved = std::mem::take(&mut evidence[gone]);
        evidence[root].extend(moved);
        out.accepted.push(i);
    }
    out.labels = smallest_member_labels(&mut sets);
    out
}

/// The canonical clustering in two phases, so that it can be computed
/// piecewise by partitions and a cluster-wide pass with the same result:
/// first over the edges between records of the same *home key* (records
/// with equal home keys always share a partition, whatever the partition
/// count), then, when `across` is set, over every edge with the first
/// phase's clusters as seeds. With `across` unset the second phase is left
/// to the caller (a cluster assembles it over partitions); edges between
/// home keys then unite nothing here.
pub fn cluster_by_home(
    nodes: &[Node<'_>],
    homes: &[u64],
    edges: &[EdgeIn],
    max_size: usize,
    across: bool,
) -> Clustering {
    let within: Vec<usize> = (0..edges.len())
        .filter(|&i| homes[edges[i].a] == homes[edges[i].b])
        .collect();
    let first = first_phase(nodes, homes, edges, &within, max_size);
    if !across || within.len() == edges.len() {
        return first;
    }
    let mut first = first;
    let mut second = cluster_seeded(nodes, &first.labels, edges, max_size);
    first.accepted.append(&mut second.accepted);
    second.accepted = first.accepted;
    second
}

/// The first phase: each home key clustered on its own, over its own edges
/// (so that only its own edges vouch for its conflicts: a partition sees
/// no other home key's edges). `within` are the indices of the edges
/// between records of one home key.
fn first_phase(
    nodes: &[Node<'_>],
    homes: &[u64],
    edges: &[EdgeIn],
    within: &[usize],
    max_size: usize,
) -> Clustering {
    let mut by_home: Vec<(u64, usize)> = within.iter().map(|&i| (homes[edges[i].a], i)).collect();
    by_home.sort_unstable();
    let mut out = Clustering {
        labels: (0..nodes.len()).collect(),
        ..Clustering::default()
    };
    for group in by_home.chunk_by(|x, y| x.0 == y.0) {
        let idx: Vec<usize> = group.iter().map(|&(_, i)| i).collect();
        let sub: Vec<EdgeIn> = idx.iter().map(|&i| edges[i]).collect();
        let c = cluster(nodes, &sub, max_size);
        let home = group[0].0;
        for (i, &l) in c.labels.iter().enumerate() {
            if homes[i] == home {
                out.labels[i] = l;
            }
        }
        out.accepted.extend(c.accepted.iter().map(|&k| idx[k]));
        out.blocked
            .extend(c.blocked.iter().map(|&(k, b)| (idx[k], b)));
    }
    out
}

/// Edge indices strongest first, ties broken by the (ordered) record keys
/// of their ends.
fn canonical_order(nodes: &[Node<'_>], edges: &[EdgeIn]) -> Vec<usize> {
    let ends = |e: &EdgeIn| {
        let (x, y) = (nodes[e.a].key, nodes[e.b].key);
        if x <= y {
            (x, y)
        } else {
            (y, x)
        }
    };
    let mut order: Vec<usize> = (0..edges.len()).collect();
    order.sort_by(|&i, &j| {
        let (ei, ej) = (&edges[i], &edges[j]);
        ej.weight
            .total_cmp(&ei.weight)
            .then_with(|| ends(ei).cmp(&ends(ej)))
    });
    order
}

/// Conflicting value pairs that some direct match edge vouches for, each
/// valid only inside the connected component (over the seeds and the
/// edges) of that edge. Scoping the vouching to a component keeps a
/// component's clustering a function of its own records and edges: an
/// incremental re-clustering sees a component together with whatever
/// else an old entity drags in, a rebuild sees other companions, and an
/// edge in one of those must not vouch for a conflict in another.
struct Vouched<'a> {
    /// The component of each node (its root in a union-find).
    component: Vec<usize>,
    pairs: FxHashSet<(usize, Val<'a>, Val<'a>)>,
}

fn vouched_pairs<'a>(nodes: &[Node<'a>], seed: &[usize], edges: &[EdgeIn]) -> Vouched<'a> {
    let mut comps = UnionFind::seeded(seed, nodes.len());
    for e in edges {
        comps.union(e.a, e.b);
    }
    let component: Vec<usize> = (0..nodes.len()).map(|i| comps.find(i)).collect();
    let mut pairs = FxHashSet::default();
    let mut buf = Vec::new();
    for e in edges {
        buf.clear();
        conflicting_values(&nodes[e.a], &nodes[e.b], &mut buf);
        let c = component[e.a];
        pairs.extend(buf.iter().map(|&(x, y)| (c, x, y)));
    }
    Vouched { component, pairs }
}

/// The first pair of evidence holders, one from each cluster, whose values
/// conflict without a direct edge of the same component vouching for the
/// conflict.
fn unvouched_conflict(
    nodes: &[Node<'_>],
    vouched: &Vouched<'_>,
    scope: usize,
    left: &[usize],
    right: &[usize],
) -> Option<(usize, usize)> {
    let mut buf = Vec::new();
    left.iter().find_map(|&x| {
        right.iter().find_map(|&y| {
            buf.clear();
            conflicting_values(&nodes[x], &nodes[y], &mut buf);
            buf.iter()
                .any(|&(a, b)| !vouched.pairs.contains(&(scope, a, b)))
                .then_some((x, y))
        })
    })
}

/// Each node's cluster label: the smallest node index in its cluster.
fn smallest_member_labels(sets: &mut UnionFind) -> Vec<usize> {
    let mut label = vec![usize::MAX; sets.len()];
    (0..sets.len())
        .map(|i| {
            let r = sets.find(i);
            // Indices come in increasing order: the first seen is the smallest.
            if label[r] == usize::MAX {
                label[r] = i;
            }
            label[r]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node<'a>(key: &'a str, dob: Option<(u16, u8, u8)>, id: Option<&'a str>) -> Node<'a> {
        Node {
            key,
            dob: dob.map(|(y, m, d)| PartialDate {
                year: y,
                month: Some(m),
                day: Some(d),
            }),
            strong: id.map(|v| ("national_id", v)).into_iter().collect(),
        }
    }

    fn e(weight: f32, a: usize, b: usize) -> EdgeIn {
        EdgeIn { weight, a, b }
    }

    #[test]
    fn chain_of_match_edges_forms_one_cluster() {
        let nodes = [
            node("a", None, None),
            node("b", None, None),
            node("c", None, None),
        ];
        let c = cluster(&nodes, &[e(10.0, 0, 1), e(8.0, 1, 2)], 100);
        assert_eq!(c.labels, vec![0, 0, 0]);
    }

    #[test]
    fn weak_bridge_does_not_merge_conflicting_identifiers() {
        // a (id 111) — b (no id) — c (id 999): b is a bridge between conflicting ids.
        let nodes = [
            node("a", None, Some("111111")),
            node("b", None, None),
            node("c", None, Some("999999")),
        ];
        let c = cluster(&nodes, &[e(12.0, 0, 1), e(9.0, 1, 2)], 100);
        assert_eq!(c.labels[0], c.labels[1]);
        assert_ne!(c.labels[1], c.labels[2]);
        assert_eq!(c.blocked, vec![(1, Blocked::Conflict { a: 0, b: 2 })]);
    }

    #[test]
    fn identifier_typo_is_not_a_conflict() {
        let nodes = [
            node("a", None, Some("1804974")),
            node("b", None, Some("1804794")),
        ];
        assert_eq!(cluster(&nodes, &[e(9.0, 0, 1)], 100).labels, vec![0, 0]);
    }

    #[test]
    fn direct_evidence_across_two_values_lets_their_holders_join() {
        // b has a mistyped date of birth; its direct edge to a vouches for
        // the pair of dates, so c (same date as a) may join too.
        let nodes = [
            node("a", Some((1989, 5, 26)), None),
            node("b", Some((1983, 2, 23)), None),
            node("c", Some((1989, 5, 26)), None),
        ];
        let c = cluster(&nodes, &[e(20.0, 0, 1), e(15.0, 0, 2)], 100);
        assert_eq!(c.labels, vec![0, 0, 0]);
        // A bridge without a date vouches for nothing: a and b stay apart.
        let nodes = [
            node("a", Some((1989, 5, 26)), None),
            node("r", None, None),
            node("b", Some((1983, 2, 23)), None),
        ];
        let c = cluster(&nodes, &[e(20.0, 0, 1), e(15.0, 1, 2)], 100);
        assert_eq!(c.labels, vec![0, 0, 2]);
    }

    #[test]
    fn direct_edge_overrides_a_conflict_between_its_own_ends() {
        let nodes = [
            node("a", Some((1980, 1, 1)), None),
            node("b", Some((1955, 9, 30)), None),
        ];
        assert_eq!(cluster(&nodes, &[e(9.0, 0, 1)], 100).labels, vec![0, 0]);
    }

    #[test]
    fn size_cap_is_respected() {
        let nodes: Vec<Node> = ["a", "b", "c", "d"]
            .iter()
            .map(|k| node(k, None, None))
            .collect();
        let c = cluster(&nodes, &[e(9.0, 0, 1), e(9.0, 2, 3), e(5.0, 1, 2)], 3);
        assert_eq!(c.labels, vec![0, 0, 2, 2]);
        assert_eq!(c.blocked, vec![(2, Blocked::Size)]);
    }

    #[test]
    fn same_home_edges_come_first_then_the_rest() {
        // a and b share a home key; c does not. The a–c edge is strongest,
        // but a–b is taken first; c's conflicting id then keeps it out.
        let nodes = [
            node("a", None, Some("111111")),
            node("b", None, Some("111111")),
            node("c", None, Some("999999")),
            node("d", None, None),
        ];
        let edges = [e(20.0, 0, 2), e(10.0, 0, 1), e(9.0, 1, 3)];
        let homes = [1, 1, 2, 2];
        let c = cluster_by_home(&nodes, &homes, &edges, 100, true);
        // a–c is a direct edge between the two ids: it vouches for them.
        assert_eq!(c.labels, vec![0, 0, 0, 0]);
        let c = cluster_by_home(&nodes, &homes, &edges, 100, false);
        assert_eq!(c.labels, vec![0, 0, 2, 3], "only same-home edges unite");
        assert_eq!(c.accepted, vec![1]);
        // Seeds from the first phase: b–d joins d to {a, b} in the second.
        let nodes = [
            node("a", Some((1980, 1, 1)), None),
            node("b", None, None),
            node("c", Some((1955, 9, 30)), None),
        ];
        let edges = [e(20.0, 1, 2), e(10.0, 0, 1)];
        let one_phase = cluster(&nodes, &edges, 100).labels;
        let two_phase = cluster_by_home(&nodes, &[7, 7, 8], &edges, 100, true).labels;
        assert_eq!(one_phase, vec![0, 1, 1], "strongest first: b joins c");
        assert_eq!(two_phase, vec![0, 0, 2], "same home first: b joins a");
    }

    /// a–m–b: a weak bridge m between ids 111111 and 999999; c–d: a
    /// direct edge between the same two ids, in a component of its own.
    fn two_components_with_the_same_ids() -> ([Node<'static>; 5], [EdgeIn; 3]) {
        let nodes = [
            node("a", None, Some("111111")),
            node("m", None, None),
            node("b", None, Some("999999")),
            node("c", None, Some("111111")),
            node("d", None, Some("999999")),
        ];
        (nodes, [e(10.0, 0, 1), e(9.0, 1, 2), e(8.0, 3, 4)])
    }

    #[test]
    fn a_home_keys_conflicts_are_vouched_for_by_its_own_edges_only() {
        // c–d (home 2) is a direct edge between ids 111111 and 999999; it
        // must not let the weak bridge m join a and b in home 1, which a
        // partition holding only home 1 could not know about.
        let (nodes, edges) = two_components_with_the_same_ids();
        let homes = [1, 1, 1, 2, 2];
        let c = cluster_by_home(&nodes, &homes, &edges, 100, false);
        assert_eq!(c.labels, vec![0, 0, 2, 3, 3]);
        // One home key alone gives the same answer for it.
        let alone = cluster_by_home(&nodes[..3], &homes[..3], &edges[..2], 100, false);
        assert_eq!(alone.labels, vec![0, 0, 2]);
    }

    #[test]
    fn an_edge_vouches_for_a_conflict_only_in_its_own_component() {
        // a–m–b bridges ids 111111 and 999999 with no direct edge; c–d, in
        // another component, joins the same two ids directly. Clustering
        // the two components together must not let c–d vouch for a–b.
        let (nodes, edges) = two_components_with_the_same_ids();
        let together = cluster(&nodes, &edges, 100);
        assert_eq!(together.labels, vec![0, 0, 2, 3, 3]);
        let alone = cluster(&nodes[..3], &edges[..2], 100);
        assert_eq!(alone.labels, vec![0, 0, 2]);
    }

    proptest! {
        /// The clustering depends only on the set of edges, never on the
        /// order the edges (or nodes' arrival) are presented in.
        #[test]
        fn clustering_is_independent_of_edge_order(
            raw in proptest::collection::vec((0usize..8, 0usize..8, 0u8..4), 0..20),
            ids in proptest::collection::vec(proptest::option::of(0u8..3), 8),
            seed in any::<u64>(),
        ) {
            let keys: Vec<String> = (0..8).map(|i| format!("k{i}")).collect();
            let vals = ["100000", "500000", "900000"];
            let nodes: Vec<Node> = (0..8).map(|i| Node {
                key: &keys[i],
                dob: None,
                strong: ids[i].map(|v| ("national_id", vals[v as usize])).into_iter().collect(),
            }).collect();
            let mut edges: Vec<EdgeIn> = raw.iter().filter(|(a, b, _)| a != b)
                .map(|&(a, b, w)| e(f32::from(w), a, b)).collect();
            let base = cluster(&nodes, &edges, 5).labels;
            // shuffle deterministically
            let mut s = seed;
            for i in (1..edges.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                edges.swap(i, (s >> 33) as usize % (i + 1));
            }
            for x in edges.iter_mut() {
                if s & 1 == 1 { std::mem::swap(&mut x.a, &mut x.b); }
                s >>= 1;
            }
            prop_assert_eq!(base, cluster(&nodes, &edges, 5).labels);
        }
    }
}
