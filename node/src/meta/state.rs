//! The replicated state machine: how each [`MetaCommand`] changes
//! [`MetaState`]. Everything here is deterministic, so every member (and a
//! member replaying its log after a restart) reaches the same state.

use std::collections::BTreeMap;

use super::types::{
    ErasureEntry, MetaCommand, MetaReply, MetaState, ModelEntry, NodeInfo, NodeState,
    PartitionOwner, SuppressionEntry, SweepMark,
};

impl MetaState {
    /// Current owner of `partition`, if the map is initialised and it exists.
    pub fn owner(&self, partition: u32) -> Option<PartitionOwner> {
        self.owners.get(partition as usize).copied()
    }

    /// Partitions owned by `node`, ascending.
    pub fn partitions_of(&self, node: u64) -> Vec<u32> {
        self.owners
            .iter()
            .enumerate()
            .filter(|(_, o)| o.node == node)
            .map(|(p, _)| p as u32)
            .collect()
    }

    /// Checks a membership change against the state. `Ok(())` means the raft
    /// conf change must be applied and then [`MetaState::apply`] called.
    pub(crate) fn check_conf_change(&self, cmd: &MetaCommand) -> Result<(), String> {
        match cmd {
            MetaCommand::AddNode { id, .. } => {
                if *id == 0 {
                    Err("node id 0 is reserved".into())
                } else if self.nodes.contains_key(id) {
                    Err(format!("node {id} already exists"))
                } else {
                    Ok(())
                }
            }
            MetaCommand::RemoveNode { id } => {
                let owned = self.partitions_of(*id);
                if !self.nodes.contains_key(id) {
                    Err(format!("node {id} is unknown"))
                } else if !owned.is_empty() {
                    Err(format!(
                        "node {id} still owns {} partition(s); move them first",
                        owned.len()
                    ))
                } else if self.nodes.len() <= 1 {
                    Err("cannot remove the last node".into())
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Applies a command. Rejections leave the state unchanged.
    pub(crate) fn apply(&mut self, cmd: &MetaCommand) -> MetaReply {
        match cmd {
            MetaCommand::Init { partitions, nodes } => self.init(*partitions, nodes),
            MetaCommand::AddNode { id, address } => {
                if let Err(e) = self.check_conf_change(cmd) {
                    return MetaReply::Rejected(e);
                }
                self.nodes.insert(
                    *id,
                    NodeInfo {
                        address: address.clone(),
                        state: NodeState::Active,
                    },
                );
                self.config_version += 1;
                MetaReply::Ok
            }
            MetaCommand::RemoveNode { id } => {
                if let Err(e) = self.check_conf_change(cmd) {
                    return MetaReply::Rejected(e);
                }
                self.nodes.remove(id);
                self.config_version += 1;
                MetaReply::Ok
            }
            MetaCommand::SetDraining { id, draining } => match self.nodes.get_mut(id) {
                None => MetaReply::Rejected(format!("node {id} is unknown")),
                Some(n) => {
                    n.state = if *draining {
                        NodeState::Draining
                    } else {
                        NodeState::Active
                    };
                    self.config_version += 1;
                    MetaReply::Ok
                }
            },
            MetaCommand::MovePartition {
                partition,
                from,
                to,
                expected_epoch,
            } => {
                if !self.nodes.contains_key(to) {
                    return MetaReply::Rejected(format!("target node {to} is unknown"));
                }
                let Some(cur) = self.owners.get_mut(*partition as usize) else {
                    return MetaReply::Rejected(format!("partition {partition} does not exist"));
                };
                if cur.node != *from || cur.epoch != *expected_epoch {
                    return MetaReply::Rejected(format!(
                        "partition {partition} is owned by {} at epoch {}, not {from} at {expected_epoch}",
                        cur.node, cur.epoch
                    ));
                }
                cur.node = *to;
                cur.epoch += 1;
                self.map_epoch += 1;
                MetaReply::Ok
            }
            MetaCommand::SetModel { version, json } => {
                self.model = Some(ModelEntry {
                    version: *version,
                    json: json.clone(),
                });
                self.config_version += 1;
                MetaReply::Ok
            }
            MetaCommand::DefineTrait { def } => {
                self.traits.insert(def.name.clone(), def.clone());
                MetaReply::Ok
            }
            MetaCommand::DeleteTrait { name } => match self.traits.remove(name) {
                Some(_) => MetaReply::Ok,
                None => {
                    MetaReply::Rejected(format!("no trait {name:?} was defined through the API"))
                }
            },
            MetaCommand::SetRfm { cuts } => {
                let current = self.rfm.as_ref().map_or(0, |c| c.version);
                if cuts.version <= current {
                    return MetaReply::Rejected(format!(
                        "RFM cut points version {} is not newer than {current}",
                        cuts.version
                    ));
                }
                self.rfm = Some(cuts.clone());
                MetaReply::Ok
            }
            MetaCommand::PutSegment {
                segment,
                create,
                expected_version,
            } => self.put_segment(segment, *create, *expected_version),
            MetaCommand::DeleteSegment { name } => self.delete_segment(name),
            MetaCommand::PutTrigger {
                def,
                create,
                expected_version,
                at_ms,
            } => self.put_trigger(def, *create, *expected_version, *at_ms),
            MetaCommand::RequestSweep => {
                self.sweep_generation += 1;
                MetaReply::Ok
            }
            MetaCommand::DeleteTrigger { name } => self.delete_trigger(name),
            MetaCommand::SegmentsSwept {
                at_ms,
                partitions,
                generation,
            } => self.segments_swept(*at_ms, partitions, *generation),
            MetaCommand::WebhookDelivered { name, cursor } => self.webhook_delivered(name, cursor),
            MetaCommand::PutErasure { entry, create } => self.put_erasure(entry, *create),
            MetaCommand::Suppress { entries } => self.suppress(entries),
            MetaCommand::LiftSuppressions { ids } => {
                for id in ids {
                    self.suppressions.remove(id);
                }
                MetaReply::Ok
            }
        }
    }

    /// The first state of a bootstrapped cluster (idempotent).
    fn init(&mut self, partitions: u32, nodes: &BTreeMap<u64, String>) -> MetaReply {
        if self.initialized {
            return MetaReply::Ok;
        }
        if nodes.is_empty() || partitions == 0 {
            return MetaReply::Rejected("init needs nodes and partitions".into());
        }
        let ids: Vec<u64> = nodes.keys().copied().collect();
        for (id, address) in nodes {
            self.nodes.entry(*id).or_insert_with(|| NodeInfo {
                address: address.clone(),
                state: NodeState::Active,
            });
        }
        self.partitions = partitions;
        self.owners = (0..partitions as usize)
            .map(|p| PartitionOwner {
                node: ids[p % ids.len()],
                epoch: 1,
            })
            .collect();
        self.initialized = true;
        self.map_epoch += 1;
        self.config_version += 1;
        MetaReply::Ok
    }

    /// Defines a segment (`create`) or replaces one at its expected version.
    fn put_segment(
        &mut self,
        segment: &kindred_proto::v1::Segment,
        create: bool,
        expected_version: u64,
    ) -> MetaReply {
        let name = &segment.name;
        let current = self.segments.get(name).map(|s| s.version);
        let version = match (current, create) {
            (Some(_), true) => return MetaReply::Rejected(format!("segment {name:?} exists already")),
            (None, false) => return MetaReply::Rejected(format!("no segment {name:?}")),
            (Some(v), false) if expected_version != 0 && v != expected_version => {
                return MetaReply::Rejected(format!(
                    "segment {name:?} is at version {v}, not {expected_version}: it changed meanwhile"
                ))
            }
            (Some(v), false) => v + 1,
            (None, true) => 1,
        };
        let mut s = segment.clone();
        s.version = version;
        s.origin = "api".into();
        self.segments.insert(name.clone(), s);
        // Every customer is evaluated against the new definition.
        self.sweep_generation += 1;
        MetaReply::Ok
    }

    /// Defines a trigger (`create`) or replaces one at its expected version.
    fn put_trigger(
        &mut self,
        def: &crate::segments::triggers::TriggerDef,
        create: bool,
        expected_version: u64,
        at_ms: i64,
    ) -> MetaReply {
        let name = &def.name;
        let current = self.triggers.get(name);
        let (version, active_from_ms) = match (current, create) {
            (Some(_), true) => return MetaReply::Rejected(format!("trigger {name:?} exists already")),
            (None, false) => return MetaReply::Rejected(format!("no trigger {name:?}")),
            (Some(t), false) if expected_version != 0 && t.version != expected_version => {
                return MetaReply::Rejected(format!(
                    "trigger {name:?} is at version {}, not {expected_version}: it changed meanwhile",
                    t.version
                ))
            }
            (Some(t), false) => (t.version + 1, t.active_from_ms),
            (None, true) => (1, at_ms),
        };
        let mut t = def.clone();
        t.version = version;
        t.active_from_ms = active_from_ms;
        t.origin = "api".into();
        self.triggers.insert(name.clone(), t);
        MetaReply::Ok
    }

    fn delete_trigger(&mut self, name: &str) -> MetaReply {
        match self.triggers.remove(name) {
            Some(_) => MetaReply::Ok,
            None => MetaReply::Rejected(format!("no trigger {name:?} was defined through the API")),
        }
    }

    fn segments_swept(&mut self, at_ms: i64, partitions: &[u32], generation: u64) -> MetaReply {
        if partitions.is_empty() {
            self.segments_swept_at_ms = self.segments_swept_at_ms.max(at_ms);
        }
        for &p in partitions {
            let mark = self.segment_sweeps.entry(p).or_default();
            mark.at_ms = mark.at_ms.max(at_ms);
            mark.generation = mark.generation.max(generation);
        }
        MetaReply::Ok
    }

    /// A partition's last segment sweep.
    pub fn sweep_of(&self, partition: u32) -> SweepMark {
        let mut mark = self
            .segment_sweeps
            .get(&partition)
            .copied()
            .unwrap_or_default();
        mark.at_ms = mark.at_ms.max(self.segments_swept_at_ms);
        mark
    }

    /// When every customer's segments were last evaluated: the oldest of
    /// the partitions' last sweeps (0: some partition was never swept, or
    /// not since the definitions changed).
    pub fn segments_swept_at_ms(&self) -> i64 {
        (0..self.partitions.max(1))
            .map(|p| self.sweep_of(p))
            .map(|m| {
                if m.generation < self.sweep_generation {
                    0
                } else {
                    m.at_ms
                }
            })
            .min()
            .unwrap_or(0)
    }

    /// Partitions among `owned` whose sweep is due at `now_ms`: swept for
    /// older definitions, or longer than `interval_ms` ago (0: only for
    /// new definitions).
    pub fn sweeps_due(&self, owned: &[u32], now_ms: i64, interval_ms: i64) -> bool {
        owned.iter().any(|&p| {
            let mark = self.sweep_of(p);
            mark.generation < self.sweep_generation
                || (interval_ms > 0 && now_ms - mark.at_ms >= interval_ms)
        })
    }

    fn webhook_delivered(&mut self, name: &str, cursor: &[u64]) -> MetaReply {
        if let Some(old) = self.webhook_cursors.get(name) {
            let back = old.len() == cursor.len() && old.iter().zip(cursor).any(|(o, n)| n < o);
            if back {
                return MetaReply::Rejected(format!(
                    "webhook {name:?} was delivered past this cursor already"
                ));
            }
        }
        self.webhook_cursors.insert(name.into(), cursor.to_vec());
        MetaReply::Ok
    }

    fn delete_segment(&mut self, name: &str) -> MetaReply {
        if !self.segments.contains_key(name) {
            return MetaReply::Rejected(format!("no segment {name:?} was defined through the API"));
        }
        if let Some(user) = self
            .segments
            .values()
            .find(|s| crate::segments::references(s).iter().any(|r| r == name))
        {
            return MetaReply::Rejected(format!(
                "segment {name:?} is named by segment {:?} (in_segment): change that one first",
                user.name
            ));
        }
        self.segments.remove(name);
        MetaReply::Ok
    }

    /// Records a new erasure request (`create`) or the progress of one.
    fn put_erasure(&mut self, entry: &ErasureEntry, create: bool) -> MetaReply {
        match (self.erasures.contains_key(&entry.id), create) {
            (true, true) => MetaReply::Rejected(format!("erasure {} exists already", entry.id)),
            (false, false) => MetaReply::Rejected(format!("no erasure {}", entry.id)),
            _ => {
                self.erasures.insert(entry.id, entry.clone());
                MetaReply::Ok
            }
        }
    }

    /// Adds suppression entries; an id already suppressed keeps its entry.
    fn suppress(&mut self, entries: &BTreeMap<String, SuppressionEntry>) -> MetaReply {
        for (k, v) in entries {
            self.suppressions
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        MetaReply::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn init(n: u64, partitions: u32) -> MetaState {
        let mut s = MetaState::default();
        let nodes: BTreeMap<u64, String> = (1..=n).map(|i| (i, format!("n{i}:1"))).collect();
        assert_eq!(
            s.apply(&MetaCommand::Init { partitions, nodes }),
            MetaReply::Ok
        );
        s
    }

    #[test]
    fn init_round_robin_and_idempotent() {
        let mut s = init(3, 8);
        assert_eq!(s.partitions_of(1), vec![0, 3, 6]);
        assert_eq!(s.partitions_of(3), vec![2, 5]);
        assert_eq!(s.owner(4), Some(PartitionOwner { node: 2, epoch: 1 }));
        let before = s.clone();
        let again = MetaCommand::Init {
            partitions: 4,
            nodes: BTreeMap::from([(9, String::new())]),
        };
        assert_eq!(s.apply(&again), MetaReply::Ok);
        assert_eq!(s, before);
    }

    #[test]
    fn move_partition_is_compare_and_set() {
        let mut s = init(2, 4);
        let mv = |epoch| MetaCommand::MovePartition {
            partition: 0,
            from: 1,
            to: 2,
            expected_epoch: epoch,
        };
        assert_eq!(s.apply(&mv(1)), MetaReply::Ok);
        assert_eq!(s.owner(0), Some(PartitionOwner { node: 2, epoch: 2 }));
        assert_eq!(s.map_epoch, 2);
        assert!(matches!(s.apply(&mv(1)), MetaReply::Rejected(_)));
        let unknown = MetaCommand::MovePartition {
            partition: 1,
            from: 2,
            to: 7,
            expected_epoch: 1,
        };
        assert!(matches!(s.apply(&unknown), MetaReply::Rejected(_)));
    }

    #[test]
    fn rfm_cut_points_only_move_forward() {
        let mut s = init(1, 1);
        let cuts = |version| crate::activity::Cuts {
            version,
            computed_at_ms: 5,
            recency_days: vec![1.0; 4],
            frequency: vec![1.0; 4],
            monetary: vec![1.0; 4],
            customers: 9,
        };
        assert_eq!(
            s.apply(&MetaCommand::SetRfm { cuts: cuts(1) }),
            MetaReply::Ok
        );
        assert!(matches!(
            s.apply(&MetaCommand::SetRfm { cuts: cuts(1) }),
            MetaReply::Rejected(_)
        ));
        assert_eq!(
            s.apply(&MetaCommand::SetRfm { cuts: cuts(2) }),
            MetaReply::Ok
        );
        assert_eq!(s.rfm.as_ref().map(|c| c.version), Some(2));
    }

    #[test]
    fn each_partition_is_swept_by_its_owner_and_a_new_segment_makes_every_one_due() {
        let mut s = init(2, 4);
        let swept = |at_ms, partitions: Vec<u32>, generation| MetaCommand::SegmentsSwept {
            at_ms,
            partitions,
            generation,
        };
        // Node 1 owns 0 and 2: its sweep leaves the cluster not fully swept.
        s.apply(&swept(1_000, vec![0, 2], 0));
        assert_eq!(s.segments_swept_at_ms(), 0);
        assert!(!s.sweeps_due(&[0, 2], 1_500, 1_000));
        assert!(s.sweeps_due(&[0, 2], 2_000, 1_000), "the interval passed");
        assert!(s.sweeps_due(&[1, 3], 1_500, 1_000), "never swept");
        s.apply(&swept(1_200, vec![1, 3], 0));
        assert_eq!(s.segments_swept_at_ms(), 1_000, "the oldest partition's");
        // An older report never moves a mark back.
        s.apply(&swept(900, vec![0], 0));
        assert_eq!(s.sweep_of(0).at_ms, 1_000);
        // A new segment makes every partition due, whatever the interval.
        let seg = kindred_proto::v1::Segment {
            name: "vip".into(),
            ..Default::default()
        };
        let put = MetaCommand::PutSegment {
            segment: Box::new(seg),
            create: true,
            expected_version: 0,
        };
        assert!(matches!(s.apply(&put), MetaReply::Ok));
        assert!(s.sweeps_due(&[0], 1_001, 0));
        assert_eq!(s.segments_swept_at_ms(), 0, "not swept for the new one");
        s.apply(&swept(1_300, vec![0, 2], 1));
        assert!(!s.sweeps_due(&[0, 2], 1_301, 0));
        assert!(s.sweeps_due(&[1, 3], 1_301, 0));
        s.apply(&swept(1_400, vec![1, 3], 1));
        assert_eq!(s.segments_swept_at_ms(), 1_300);
        // A node that dropped notifications has everyone swept again.
        s.apply(&MetaCommand::RequestSweep);
        assert!(s.sweeps_due(&[0, 2], 1_401, 0) && s.sweeps_due(&[1, 3], 1_401, 0));
        // A legacy report (no partitions) counts for every partition.
        s.apply(&swept(5_000, vec![0, 1, 2, 3], 2));
        s.apply(&swept(6_000, vec![], 0));
        assert_eq!(s.segments_swept_at_ms(), 6_000);
    }

    #[test]
    fn a_trigger_is_versioned_and_keeps_the_time_it_came_into_force() {
        let mut s = init(1, 1);
        let def = crate::segments::triggers::TriggerDef::abandoned_cart("order", 1_000, 1, 1);
        let put = |create, expected_version, at_ms| MetaCommand::PutTrigger {
            def: def.clone(),
            create,
            expected_version,
            at_ms,
        };
        assert!(matches!(s.apply(&put(false, 0, 5)), MetaReply::Rejected(_)));
        assert!(matches!(s.apply(&put(true, 0, 10)), MetaReply::Ok));
        assert!(matches!(s.apply(&put(true, 0, 11)), MetaReply::Rejected(_)));
        let t = &s.triggers["abandoned_cart"];
        assert_eq!(
            (t.version, t.active_from_ms, t.origin.as_str()),
            (1, 10, "api")
        );
        assert!(matches!(
            s.apply(&put(false, 7, 20)),
            MetaReply::Rejected(_)
        ));
        assert!(matches!(s.apply(&put(false, 1, 20)), MetaReply::Ok));
        let t = &s.triggers["abandoned_cart"];
        assert_eq!((t.version, t.active_from_ms), (2, 10), "in force since 10");
        let del = |name: &str| MetaCommand::DeleteTrigger { name: name.into() };
        assert!(matches!(s.apply(&del("abandoned_cart")), MetaReply::Ok));
        assert!(matches!(
            s.apply(&del("abandoned_cart")),
            MetaReply::Rejected(_)
        ));
    }

    #[test]
    fn remove_node_requires_no_partitions() {
        let mut s = init(2, 2);
        assert!(matches!(
            s.apply(&MetaCommand::RemoveNode { id: 2 }),
            MetaReply::Rejected(_)
        ));
        let mv = MetaCommand::MovePartition {
            partition: 1,
            from: 2,
            to: 1,
            expected_epoch: 1,
        };
        assert_eq!(s.apply(&mv), MetaReply::Ok);
        assert_eq!(s.apply(&MetaCommand::RemoveNode { id: 2 }), MetaReply::Ok);
        assert!(!s.nodes.contains_key(&2));
    }
}
