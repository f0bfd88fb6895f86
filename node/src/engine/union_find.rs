//! A dense union-find (disjoint sets) over the indices `0..n`.
//!
//! Two ways to unite, because callers care which root survives:
//! [`UnionFind::union_by_size`] keeps the root of the larger set (the
//! canonical clustering of [`super::cluster`]), [`UnionFind::union`] keeps
//! the smaller root index (grouping where the smallest member names the
//! group). `find` halves paths; the sets never depend on which unions
//! compressed what.

/// Disjoint sets over `0..n`, each with its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionFind {
    parent: Vec<usize>,
    /// Size of the set of each root (meaningless for non-roots).
    size: Vec<usize>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    /// Sets given by seeds: index `i` starts in the set of `seed[i]`
    /// (indices past the end of `seed` start alone). Seeds are checked in
    /// index order; a seed that is out of range or, at that point, not its
    /// own root is ignored and `i` starts alone.
    pub fn seeded(seed: &[usize], n: usize) -> Self {
        let mut parent: Vec<usize> = (0..n).map(|i| seed.get(i).copied().unwrap_or(i)).collect();
        for i in 0..n {
            if parent[i] >= n || parent[parent[i]] != parent[i] {
                parent[i] = i;
            }
        }
        let mut size = vec![0; n];
        for &p in &parent {
            size[p] += 1;
        }
        UnionFind { parent, size }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The root of `x`'s set (halving the path on the way).
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Number of elements in `x`'s set.
    pub fn set_size(&mut self, x: usize) -> usize {
        let r = self.find(x);
        self.size[r]
    }

    /// Joins the sets of `a` and `b`; the root with the smaller index
    /// survives. Returns the surviving root.
    pub fn union(&mut self, a: usize, b: usize) -> usize {
        let (ra, rb) = (self.find(a), self.find(b));
        self.attach(ra.max(rb), ra.min(rb))
    }

    /// Joins the sets of `a` and `b`; the root of the larger set survives,
    /// `a`'s root on a tie. Returns the surviving root.
    pub fn union_by_size(&mut self, a: usize, b: usize) -> usize {
        let (ra, rb) = (self.find(a), self.find(b));
        if self.size[ra] >= self.size[rb] {
            self.attach(rb, ra)
        } else {
            self.attach(ra, rb)
        }
    }

    /// Makes root `child` a child of root `root`; returns `root`.
    fn attach(&mut self, child: usize, root: usize) -> usize {
        if child != root {
            self.parent[child] = root;
            self.size[root] += self.size[child];
        }
        root
    }

    /// The sets, each sorted, in order of their smallest member.
    pub fn groups(mut self) -> Vec<Vec<usize>> {
        let mut group_of_root = vec![usize::MAX; self.len()];
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for x in 0..self.len() {
            let r = self.find(x);
            if group_of_root[r] == usize::MAX {
                group_of_root[r] = groups.len();
                groups.push(Vec::new());
            }
            groups[group_of_root[r]].push(x);
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sets_are_singletons() {
        let mut uf = UnionFind::new(3);
        assert_eq!(uf.find(2), 2);
        assert_eq!(uf.set_size(1), 1);
        assert_eq!(uf.groups(), vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn union_keeps_the_smaller_root() {
        let mut uf = UnionFind::new(10);
        assert_eq!(uf.union(9, 4), 4);
        assert_eq!(uf.union(7, 9), 4);
        assert_eq!(uf.union(8, 2), 2);
        // 2's set is smaller than 4's, but the smaller root still survives.
        assert_eq!(uf.union(4, 8), 2);
        assert_eq!(uf.find(9), 2);
        assert_eq!(uf.set_size(7), 5);
    }

    #[test]
    fn union_by_size_keeps_the_larger_set_and_the_first_on_a_tie() {
        let mut uf = UnionFind::new(5);
        assert_eq!(uf.union_by_size(3, 1), 3, "tie: the first argument's root");
        assert_eq!(uf.union_by_size(0, 1), 3, "the larger set's root");
        assert_eq!(uf.union_by_size(2, 4), 2);
        assert_eq!(uf.union_by_size(2, 0), 3);
        assert_eq!(uf.set_size(4), 5);
    }

    #[test]
    fn groups_are_sorted_and_ordered_by_their_smallest_member() {
        let mut uf = UnionFind::new(8);
        uf.union(6, 1);
        uf.union(5, 7);
        uf.union_by_size(7, 3);
        uf.union(6, 0);
        assert_eq!(
            uf.groups(),
            vec![vec![0, 1, 6], vec![2], vec![3, 5, 7], vec![4]]
        );
    }

    #[test]
    fn union_within_a_set_changes_nothing() {
        let mut uf = UnionFind::new(3);
        uf.union(0, 1);
        assert_eq!(uf.union(1, 0), 0);
        assert_eq!(uf.union_by_size(1, 0), 0);
        assert_eq!(uf.set_size(1), 2);
        assert_eq!(uf.groups(), vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn seeds_start_sets_and_invalid_seeds_are_ignored() {
        // 1 joins 0; 2 names 1, which is not a root: ignored; 3 names an
        // index out of range: ignored; 4 names itself.
        let mut uf = UnionFind::seeded(&[0, 0, 1, 9, 4], 6);
        assert_eq!(uf.set_size(1), 2);
        assert_eq!(uf.find(2), 2);
        assert_eq!(
            uf.groups(),
            vec![vec![0, 1], vec![2], vec![3], vec![4], vec![5]]
        );
    }

    #[test]
    fn seeded_set_sizes_count_their_members() {
        let mut uf = UnionFind::seeded(&[2, 2, 2, 3], 4);
        assert_eq!(uf.set_size(0), 3);
        // The larger seeded set survives a union by size.
        assert_eq!(uf.union_by_size(3, 1), 2);
    }
}
