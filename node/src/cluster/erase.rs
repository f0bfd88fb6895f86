//! Erasure: forgetting one person on every node.
//!
//! `Privacy.Erase` names a person (an email, phone or identifier, a
//! customer id, or one of their records); the coordinator resolves it to
//! one cluster-wide customer, then:
//!
//! 1. records the request in the metadata group (received, then in
//!    progress), so every node lists it;
//! 2. suppresses the keyed hashes of every email, phone and identifier of
//!    the customer's records (before deleting, so an import racing with the
//!    erasure is refused rather than let back in);
//! 3. deletes every record through the ordinary delete, which takes its
//!    events, links, edges and entity membership with it and shreds its
//!    data key;
//! 4. asks every partition to forget the erased entities' history and to
//!    purge (`Forget`): memtables flushed, so the WAL that saw the
//!    deleted rows is retired, and the `keys` column family rewritten, so
//!    no copy of a shredded data key is left;
//! 5. looks the person up again (when named by an identity) and erases
//!    whatever an import racing with steps 2 and 3 brought back;
//! 6. records the request as done, with its counts.
//!
//! Nothing in the request's record names the person: only the caller, the
//! counts and the times.

use std::collections::{BTreeMap, BTreeSet};

use super::Cluster;
use crate::engine::resolver::split_key;
use crate::engine::{EngineError, EntityId};
use crate::error::NodeError;
use crate::meta::{ErasureEntry, ErasureStage, MetaCommand, SuppressionEntry};
use crate::partition::request::Forget;

/// How many times an erasure looks for records that came back meanwhile.
const MAX_ROUNDS: usize = 3;

/// Whom an erasure is about.
#[derive(Debug, Clone)]
pub enum PersonRef {
    /// An identity value: kind `email`, `phone` or `identifier:<kind>`.
    Identity {
        kind: String,
        value: String,
    },
    Entity(EntityId),
    Record {
        source: String,
        record_id: String,
    },
}

impl Cluster {
    /// Erases a person (see the module documentation); returns the request
    /// as done.
    pub async fn erase(&self, person: PersonRef, by: &str) -> Result<ErasureEntry, NodeError> {
        let customer = self.customer_of(&person).await?;
        let c = &self.coordinator;
        let (entities, keys) = self.parts_of(customer).await?;
        let mut entry = self.new_erasure(by).await?;
        entry.stage = ErasureStage::InProgress;
        self.put_erasure(&entry).await?;
        let outcome = match self.erase_records(&keys, &entities, entry.id).await {
            Ok(n) => self.erase_latecomers(&person).await.map(|late| (n, late)),
            Err(e) => Err(e),
        };
        entry.done_ms = c.writer.now_ms();
        match outcome {
            Ok((identifiers, late)) => {
                entry.stage = ErasureStage::Done;
                entry.records = (keys.len() + late) as u32;
                entry.identifiers = identifiers;
            }
            Err(e) => {
                entry.stage = ErasureStage::Failed;
                // The code only: a message may name a value.
                entry.error = format!(
                    "{:?}; ask again to erase what remains of the person",
                    e.code()
                );
            }
        }
        self.put_erasure(&entry).await?;
        tracing::info!(
            erasure = entry.id,
            records = entry.records,
            stage = ?entry.stage,
            "erasure finished"
        );
        Ok(entry)
    }

    /// Erases what an import racing with the erasure brought back: records
    /// prepared before the suppression reached their coordinator, applied
    /// after the deletes. Looks the person up again (an identity only: an
    /// entity id or a record names nothing after the deletes) until nothing
    /// is found; returns how many records it erased.
    async fn erase_latecomers(&self, person: &PersonRef) -> Result<usize, NodeError> {
        if !matches!(person, PersonRef::Identity { .. }) {
            return Ok(0);
        }
        let mut erased = 0;
        for _ in 0..MAX_ROUNDS {
            let customer = match self.customer_of(person).await {
                Err(e) if e.code() == tonic::Code::NotFound => return Ok(erased),
                other => other?,
            };
            let (entities, keys) = self.parts_of(customer).await?;
            self.delete_all(&keys).await?;
            self.forget(&entities, &keys).await?;
            erased += keys.len();
        }
        Err(NodeError::Unavailable(format!(
            "the person came back {MAX_ROUNDS} times while being erased: \
             stop the import that sends them"
        )))
    }

    /// The local entities a cluster-wide customer is made of, and their records.
    async fn parts_of(
        &self,
        customer: EntityId,
    ) -> Result<(Vec<EntityId>, BTreeSet<String>), NodeError> {
        let (_, parts) = self.coordinator.reader.assembler.group(customer).await?;
        let entities = parts.iter().map(|p| p.entity).collect();
        let keys = parts.iter().flat_map(|p| p.members.clone()).collect();
        Ok((entities, keys))
    }

    /// The one cluster-wide customer a reference names.
    pub async fn customer_of(&self, person: &PersonRef) -> Result<EntityId, NodeError> {
        let c = &self.coordinator;
        match person {
            PersonRef::Entity(id) => c.reader.assembler.global_id(*id).await,
            PersonRef::Record { source, record_id } => {
                c.reader.entity_of_record(source, record_id).await
            }
            PersonRef::Identity { kind, value } => {
                let mut found = c.reader.entities_of_identity(kind, value).await?;
                match found.len() {
                    0 => Err(EngineError::IdentityNotFound {
                        kind: kind.clone(),
                        value: value.clone(),
                    }
                    .into()),
                    1 => found
                        .pop_first()
                        .ok_or_else(|| NodeError::missing("person")),
                    n => Err(NodeError::FailedPrecondition(format!(
                        "the {kind} is held by {n} customers ({}); erase each by entity id",
                        found
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            }
        }
    }

    /// Records a new erasure request (its id: the time it was received, or
    /// the next free id after it).
    pub(super) async fn new_erasure(&self, by: &str) -> Result<ErasureEntry, NodeError> {
        let now = self.coordinator.writer.now_ms();
        let taken = self.meta.state().erasures.keys().next_back().copied();
        let mut entry = ErasureEntry {
            id: (now.max(0) as u64).max(taken.map_or(0, |t| t + 1)),
            stage: ErasureStage::Received,
            received_ms: now,
            done_ms: 0,
            by: by.to_string(),
            records: 0,
            identifiers: 0,
            error: String::new(),
        };
        for _ in 0..16 {
            let cmd = MetaCommand::PutErasure {
                entry: entry.clone(),
                create: true,
            };
            match self.propose(cmd).await {
                Ok(()) => return Ok(entry),
                Err(e) if e.code() == tonic::Code::FailedPrecondition => entry.id += 1,
                Err(e) => return Err(e),
            }
        }
        Err(NodeError::Unavailable(
            "no free erasure id: too many erasures at once".into(),
        ))
    }

    pub(super) async fn put_erasure(&self, entry: &ErasureEntry) -> Result<(), NodeError> {
        self.propose(MetaCommand::PutErasure {
            entry: entry.clone(),
            create: false,
        })
        .await
    }

    /// Steps 2 to 4: suppress, delete, forget and purge. Returns how many
    /// identifiers were suppressed.
    async fn erase_records(
        &self,
        keys: &BTreeSet<String>,
        entities: &[EntityId],
        erasure: u64,
    ) -> Result<u32, NodeError> {
        let c = &self.coordinator;
        let at_ms = c.writer.now_ms();
        let mut entries = BTreeMap::new();
        for key in keys {
            let (source, record_id) = split_key(key);
            let view = match c.reader.get_record(source, record_id).await {
                Ok(v) => v,
                Err(e) if e.code() == tonic::Code::NotFound => continue,
                Err(e) => return Err(e),
            };
            let std = c.writer.standardize(&view.record, at_ms);
            for (kind, hash) in c.writer.suppressions.hashes_of(&std) {
                entries.insert(
                    hash,
                    SuppressionEntry {
                        kind,
                        erasure,
                        at_ms,
                    },
                );
            }
        }
        let identifiers = entries.len() as u32;
        self.propose(MetaCommand::Suppress { entries }).await?;
        self.delete_all(keys).await?;
        self.forget(entities, keys).await?;
        Ok(identifiers)
    }

    /// Deletes records through the ordinary delete, wherever they live
    /// (gone already is fine); returns the entities the deletes affected.
    pub(super) async fn delete_all(
        &self,
        keys: &BTreeSet<String>,
    ) -> Result<BTreeSet<EntityId>, NodeError> {
        let mut affected = BTreeSet::new();
        for key in keys {
            let (source, record_id) = split_key(key);
            match self.coordinator.writer.delete(source, record_id).await {
                Ok(ids) => affected.extend(ids),
                Err(e) if e.code() == tonic::Code::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(affected)
    }

    /// Every partition forgets the entities' history and purges.
    pub(super) async fn forget(
        &self,
        entities: &[EntityId],
        keys: &BTreeSet<String>,
    ) -> Result<(), NodeError> {
        let forget = Forget {
            entities: entities.to_vec(),
            keys: keys.iter().cloned().collect(),
        };
        for (_, r) in self.router().all(forget).await {
            r?;
        }
        Ok(())
    }
}
