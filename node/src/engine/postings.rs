//! The blocking index: blocking key → records holding it.
//!
//! Most keys are held by one record, so a key maps straight to that record
//! and only keys shared by several records get a list of their own. This
//! keeps the index near 16 bytes per key instead of a vector per key.

use rustc_hash::FxHashMap;

/// High bit set: the value is an index into `lists`.
const LIST: u32 = 1 << 31;

/// Blocking key → record ordinals.
#[derive(Debug, Default)]
pub struct Postings {
    map: FxHashMap<u64, u32>,
    lists: Vec<Vec<u32>>,
    free: Vec<u32>,
}

impl Postings {
    /// Records holding `key`.
    pub fn get(&self, key: u64) -> &[u32] {
        match self.map.get(&key) {
            None => &[],
            Some(v) if v & LIST != 0 => &self.lists[(v & !LIST) as usize],
            Some(v) => std::slice::from_ref(v),
        }
    }

    /// Number of records holding `key`.
    pub fn len(&self, key: u64) -> usize {
        self.get(key).len()
    }

    /// Number of distinct keys.
    pub fn keys(&self) -> usize {
        self.map.len()
    }

    /// True when no key is indexed.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of keys held by more than `n` records.
    pub fn count_longer_than(&self, n: usize) -> usize {
        if n == 0 {
            return self.map.len();
        }
        self.lists.iter().filter(|l| l.len() > n).count()
    }

    /// Adds `ord` under `key`; returns the new count.
    pub fn add(&mut self, key: u64, ord: u32) -> usize {
        debug_assert!(ord & LIST == 0);
        match self.map.get_mut(&key) {
            None => {
                self.map.insert(key, ord);
                1
            }
            Some(v) if *v & LIST != 0 => {
                let l = &mut self.lists[(*v & !LIST) as usize];
                l.push(ord);
                l.len()
            }
            Some(v) => {
                let first = *v;
                let idx = match self.free.pop() {
                    Some(i) => {
                        self.lists[i as usize] = vec![first, ord];
                        i
                    }
                    None => {
                        self.lists.push(vec![first, ord]);
                        (self.lists.len() - 1) as u32
                    }
                };
                *v = idx | LIST;
                2
            }
        }
    }

    /// Removes `ord` from `key`; returns the new count.
    pub fn remove(&mut self, key: u64, ord: u32) -> usize {
        let Some(v) = self.map.get_mut(&key) else {
            return 0;
        };
        if *v & LIST == 0 {
            if *v == ord {
                self.map.remove(&key);
                return 0;
            }
            return 1;
        }
        let idx = (*v & !LIST) as usize;
        let l = &mut self.lists[idx];
        if let Some(p) = l.iter().position(|&x| x == ord) {
            l.swap_remove(p);
        }
        match l.len() {
            1 => {
                *v = l[0];
                self.lists[idx] = Vec::new();
                self.free.push(idx as u32);
                1
            }
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The index agrees with a plain map of sets under any sequence of adds and removes.
        #[test]
        fn behaves_like_a_map_of_sets(ops in proptest::collection::vec((any::<bool>(), 0u64..5, 0u32..6), 0..200)) {
            let mut p = Postings::default();
            let mut model: std::collections::BTreeMap<u64, std::collections::BTreeSet<u32>> = Default::default();
            for (add, k, o) in ops {
                let set = model.entry(k).or_default();
                if add {
                    if set.insert(o) { p.add(k, o); }
                } else if set.remove(&o) {
                    p.remove(k, o);
                }
                let mut got: Vec<u32> = p.get(k).to_vec();
                got.sort();
                prop_assert_eq!(got, set.iter().copied().collect::<Vec<_>>());
            }
        }
    }
}
