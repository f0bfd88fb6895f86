//! The partition map: which node owns each virtual partition, and where a
//! record lives.
//!
//! A cluster has a fixed number of virtual partitions, chosen when it is
//! created. A record's home partition is a hash of its *home key*, a
//! blocking value that duplicates of one person almost always share (the
//! sound of the family name), so that most matches are found inside one
//! partition. Partitions move between nodes; records never move between
//! partitions unless their content changes the home key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::engine::features::home_key;
use crate::engine::features::FeatView;

/// Owner of every partition, with the epoch of each assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMap {
    pub partitions: u32,
    /// (owner node, epoch) per partition.
    pub owners: Vec<(u64, u64)>,
    /// Node id → address (host:port).
    pub nodes: BTreeMap<u64, String>,
    /// Bumped on every change of the map.
    pub epoch: u64,
}

impl PartitionMap {
    /// A map with no owners yet (before the metadata group has applied
    /// its first state).
    pub fn empty(partitions: u32, nodes: BTreeMap<u64, String>) -> PartitionMap {
        PartitionMap {
            partitions,
            owners: Vec::new(),
            nodes,
            epoch: 0,
        }
    }

    /// (owner, epoch) of a partition.
    pub fn owner(&self, p: u32) -> Option<(u64, u64)> {
        self.owners.get(p as usize).copied()
    }

    /// Partitions a node owns.
    pub fn owned_by(&self, node: u64) -> Vec<u32> {
        (0u32..)
            .zip(&self.owners)
            .filter(|(_, o)| o.0 == node)
            .map(|(p, _)| p)
            .collect()
    }

    /// Nodes that own at least one partition.
    pub fn owning_nodes(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.owners.iter().map(|o| o.0).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn mix(x: u64) -> u64 {
    // SplitMix64 finaliser: spreads similar home keys over partitions.
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The home partition of a record.
pub fn home_partition(key: &str, f: &FeatView<'_>, partitions: u32) -> u32 {
    (mix(home_key(key, f)) % u64::from(partitions.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::Packed;
    use crate::engine::standardize::{standardize_record, StandardizeConfig};
    use kindred_proto::v1::{PersonName, Record};

    fn packed(given: &str, family: &str) -> Packed {
        let r = Record {
            source: "s".into(),
            record_id: "1".into(),
            name: Some(PersonName {
                given: given.into(),
                family: family.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        Packed::from_std(&standardize_record(&r, &StandardizeConfig::default()))
    }

    #[test]
    fn spelling_variants_of_a_family_name_share_a_home() {
        let a = packed("John", "Smith");
        let b = packed("Jon", "Smyth");
        assert_eq!(
            home_partition("s\u{1f}1", &a.view(), 16),
            home_partition("s\u{1f}2", &b.view(), 16)
        );
    }
}
