//! A partition: the matching actor that owns one engine and its store.
//!
//! The engine is single-threaded and its storage is synchronous, so the
//! actor runs on its own OS thread and takes [`Command`]s from a bounded
//! mailbox: senders wait when it is full (backpressure, never an unbounded
//! queue). Writes are group-committed: a batch of upserts is flushed to
//! RocksDB once, before any of its results is sent back.
//!
//! A node runs one actor per partition it owns. What can be asked of a
//! partition is an [`ops::Op`]; the cluster layer sends the same ops to
//! local partitions directly and to remote ones over the internal service.

pub mod ops;

use std::path::PathBuf;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::engine::features::Packed;
use crate::engine::profile::Survivorship;
use crate::engine::resolver::{record_key, split_key};
use crate::engine::{Engine, EngineConfig, EngineError, EntityId, Model};
use crate::error::NodeError;
use crate::server::convert;
use crate::storage::{Link, RocksStore, StoreOptions};

use ops::{Applied, EntityView, Found, Op, OpReply, Row, WireError};

type Reply<T> = oneshot::Sender<Result<T, NodeError>>;

/// A request to the partition actor.
pub enum Command {
    Op {
        op: Op,
        reply: Reply<OpReply>,
    },
    /// Writes a consistent copy of the partition's store into a new directory.
    Checkpoint {
        dir: PathBuf,
        reply: Reply<()>,
    },
    /// Holds (true) or releases writes: while held, write ops are refused
    /// as ABORTED, which coordinators retry. Every write queued before the
    /// fence is applied first (the mailbox is ordered).
    Fence {
        on: bool,
        reply: Reply<()>,
    },
}

/// A cheap, cloneable handle to a running partition.
#[derive(Clone)]
pub struct PartitionHandle {
    tx: mpsc::Sender<Command>,
    pub partition: u32,
}

/// What a partition needs to open.
#[derive(Debug, Clone)]
pub struct PartitionConfig {
    pub data_dir: PathBuf,
    pub engine: EngineConfig,
    pub survivorship: Survivorship,
    pub store: StoreOptions,
    /// A model to use instead of the stored one.
    pub model: Option<Model>,
    pub mailbox: usize,
    /// This partition's number, and how many the cluster has: entity ids
    /// are allocated from the partition's own id space.
    pub partition: u32,
    pub partitions: u32,
}

struct Actor {
    engine: Engine<RocksStore>,
    survivorship: Survivorship,
    partition: u32,
    fenced: bool,
    /// Records that have stored cross-partition links (valid or not): a
    /// cheap hint that an entity may span partitions.
    linked_keys: rustc_hash::FxHashSet<Box<str>>,
    /// Set when storage failed: the in-memory state may be ahead of disk,
    /// so no further writes are accepted until a restart recovers from disk.
    failed: Option<String>,
}

/// The partition an entity id belongs to.
pub fn partition_of_entity(id: EntityId, partitions: u32) -> u32 {
    (id.saturating_sub(1) % u64::from(partitions.max(1))) as u32
}

impl PartitionHandle {
    /// Opens the store, restores the engine and starts the actor thread.
    /// Blocking: call from a blocking context.
    pub fn open(cfg: PartitionConfig) -> Result<(PartitionHandle, JoinHandle<()>), NodeError> {
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| NodeError::InvalidArgument {
            field: "data_dir".into(),
            value: cfg.data_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let started = std::time::Instant::now();
        let opened = RocksStore::open(&cfg.data_dir, &cfg.store).map_err(EngineError::from)?;
        let stored_model = opened.model.clone();
        let records = opened.state.records.len();
        let model = cfg
            .model
            .clone()
            .or(stored_model.clone())
            .unwrap_or_default();
        let mut engine = Engine::restore(
            cfg.engine.clone(),
            model.clone(),
            opened.store,
            opened.state,
        )?;
        engine.set_id_space(u64::from(cfg.partition), u64::from(cfg.partitions.max(1)));
        if cfg.model.is_some() && stored_model.as_ref() != Some(&model) {
            tracing::info!(
                partition = cfg.partition,
                version = model.version,
                "configured model differs from the stored one; re-resolving"
            );
            engine
                .store()
                .save_model(&model)
                .map_err(EngineError::from)?;
            engine.rebuild()?;
            engine.flush()?;
        }
        tracing::info!(
            partition = cfg.partition,
            records,
            seconds = started.elapsed().as_secs_f64(),
            "partition restored"
        );
        let (tx, mut rx) = mpsc::channel::<Command>(cfg.mailbox.max(1));
        let linked_keys = engine
            .store()
            .all_links()
            .map_err(EngineError::from)?
            .into_iter()
            .map(|(k, _)| k.into_boxed_str())
            .collect();
        let mut actor = Actor {
            linked_keys,
            engine,
            survivorship: cfg.survivorship,
            partition: cfg.partition,
            fenced: false,
            failed: None,
        };
        let partition = cfg.partition;
        let join = std::thread::Builder::new()
            .name(format!("kindred-p{partition}"))
            .spawn(move || {
                while let Some(cmd) = rx.blocking_recv() {
                    actor.handle(cmd);
                }
                if let Err(e) = actor.engine.flush() {
                    tracing::error!(partition, error = %e, "final flush failed");
                }
                tracing::info!(partition, "partition stopped");
            })
            .map_err(|e| NodeError::Unavailable(format!("cannot start partition thread: {e}")))?;
        Ok((PartitionHandle { tx, partition }, join))
    }

    /// Sends an op and waits for its reply.
    pub async fn op(&self, op: Op) -> Result<OpReply, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Op { op, reply: tx }).await?;
        rx.await
            .map_err(|_| NodeError::Unavailable("partition stopped before answering".into()))?
    }

    /// Writes a consistent copy of the store into `dir`.
    pub async fn checkpoint(&self, dir: PathBuf) -> Result<(), NodeError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Checkpoint { dir, reply: tx }).await?;
        rx.await
            .map_err(|_| NodeError::Unavailable("partition stopped before answering".into()))?
    }

    /// Holds or releases writes (see [`Command::Fence`]).
    pub async fn fence(&self, on: bool) -> Result<(), NodeError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Fence { on, reply: tx }).await?;
        rx.await
            .map_err(|_| NodeError::Unavailable("partition stopped before answering".into()))?
    }

    async fn send(&self, cmd: Command) -> Result<(), NodeError> {
        self.tx
            .send(cmd)
            .await
            .map_err(|_| NodeError::Unavailable("partition is shutting down".into()))
    }
}

fn packed(bytes: &[u8], key: &str) -> Result<Packed, NodeError> {
    Packed::from_bytes(bytes).ok_or_else(|| NodeError::InvalidArgument {
        field: "features".into(),
        value: key.chars().take(64).collect(),
        reason: "not valid packed features".into(),
    })
}

impl Actor {
    fn write_guard(&self) -> Result<(), NodeError> {
        match self
            .failed
            .clone()
            .or_else(|| self.engine.store().failure())
        {
            Some(why) => Err(NodeError::Unavailable(format!(
                "storage failed ({why}); restart the node to recover from disk"
            ))),
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<(), NodeError> {
        self.engine.flush().map_err(|e| {
            tracing::error!(error = %e, "storage write failed; refusing further writes");
            self.failed = Some(e.to_string());
            NodeError::from(e)
        })
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Op { op, reply } => self.op(op, reply),
            Command::Fence { on, reply } => {
                self.fenced = on;
                tracing::info!(partition = self.partition, fenced = on, "write fence");
                let _ = reply.send(Ok(()));
            }
            Command::Checkpoint { dir, reply } => {
                let r = self
                    .engine
                    .store_mut()
                    .checkpoint(&dir)
                    .map_err(|e| NodeError::from(EngineError::from(e)));
                let _ = reply.send(r);
            }
        }
    }

    /// Sends `out` once everything written so far is on disk.
    fn reply_after_write(&mut self, out: OpReply, reply: Reply<OpReply>) {
        self.engine.store_mut().flush_then(Box::new(move |res| {
            let _ = reply.send(match res {
                Ok(()) => Ok(out),
                Err(e) => {
                    tracing::error!(error = %e, "storage write failed; refusing further writes");
                    Err(NodeError::Unavailable(e.to_string()))
                }
            });
        }));
    }

    fn op(&mut self, op: Op, reply: Reply<OpReply>) {
        let writes = matches!(
            op,
            Op::Apply { .. }
                | Op::Probe { .. }
                | Op::PutLinks { .. }
                | Op::Delete { .. }
                | Op::SetModel { .. }
        );
        if writes && self.fenced {
            let _ = reply.send(Err(NodeError::NotOwner {
                partition: self.partition,
                epoch: 0,
            }));
            return;
        }
        if writes {
            if let Err(e) = self.write_guard() {
                let _ = reply.send(Err(e));
                return;
            }
        }
        match op {
            Op::Apply { items } => {
                let out = items
                    .into_iter()
                    .map(|(record, feats)| {
                        self.apply(record, &feats).map_err(|e| WireError::from(&e))
                    })
                    .collect();
                self.reply_after_write(OpReply::Applied(out), reply);
            }
            Op::Probe { items } => match self.probe(&items) {
                Ok(out) => self.reply_after_write(out, reply),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Op::PutLinks { items } => {
                for f in items {
                    if self.engine.content_hash(&f.key) == Some(f.link.my_hash) {
                        self.engine.store_mut().put_links(
                            &f.key,
                            std::slice::from_ref(&f.link),
                            false,
                        );
                        self.linked_keys.insert(f.key.clone().into_boxed_str());
                    }
                }
                self.reply_after_write(OpReply::Done, reply);
            }
            Op::Delete { key } => {
                let r = self.delete(&key);
                let _ = reply.send(r.map(OpReply::Deleted));
            }
            Op::SetModel { json } => {
                let r = self.set_model(&json);
                let _ = reply.send(r.map(|()| OpReply::Done));
            }
            other => {
                let _ = reply.send(self.read(other));
            }
        }
    }

    fn apply(
        &mut self,
        record: kindred_proto::v1::Record,
        feats: &[u8],
    ) -> Result<Applied, NodeError> {
        let key = record_key(&record.source, &record.record_id);
        let feats = packed(feats, &key)?;
        let outcome = self.engine.upsert_packed(record, feats)?;
        if outcome.replaced {
            // Every link of the old version named its old content hash.
            self.engine.store_mut().delete_links(&key);
            self.linked_keys.remove(key.as_str());
        }
        let hash = self.engine.content_hash(&key).unwrap_or_default();
        let linked = self
            .engine
            .members(outcome.entity)
            .unwrap_or_default()
            .iter()
            .any(|m| self.linked_keys.contains(m.as_str()));
        Ok(Applied {
            outcome,
            hash,
            linked,
        })
    }

    fn probe(&mut self, items: &[ops::ProbeItem]) -> Result<OpReply, NodeError> {
        let mut found = Vec::new();
        let mut evicted = Vec::new();
        for item in items {
            if item.home == self.partition {
                continue;
            }
            if self.engine.content_hash(&item.key).is_some() {
                // Its content changed so that another partition is now its home.
                let (s, r) = split_key(&item.key);
                self.engine.delete(s, r)?;
                self.engine.store_mut().delete_links(&item.key);
                self.linked_keys.remove(item.key.as_str());
                evicted.push(item.key.clone());
            }
            let feats = packed(&item.feats, &item.key)?;
            for (partner, hash, weight, keys) in self.engine.probe(&item.key, &feats.view()) {
                let weight = weight as f32;
                self.engine.store_mut().put_links(
                    &partner,
                    &[Link {
                        partner: item.key.clone(),
                        partner_partition: item.home,
                        my_hash: hash,
                        partner_hash: item.hash,
                        weight,
                        keys: keys.clone(),
                    }],
                    false,
                );
                self.linked_keys.insert(partner.clone().into_boxed_str());
                found.push(Found {
                    key: item.key.clone(),
                    link: Link {
                        partner,
                        partner_partition: self.partition,
                        my_hash: item.hash,
                        partner_hash: hash,
                        weight,
                        keys,
                    },
                });
            }
        }
        Ok(OpReply::Probed {
            found,
            evicted,
            probed: vec![self.partition],
        })
    }

    fn delete(&mut self, key: &str) -> Result<Vec<EntityId>, NodeError> {
        let (s, r) = split_key(key);
        let affected = self.engine.delete(s, r)?;
        self.engine.store_mut().delete_links(key);
        self.linked_keys.remove(key);
        self.flush()?;
        Ok(affected)
    }

    fn set_model(&mut self, json: &str) -> Result<(), NodeError> {
        let model = Model::from_json(json).map_err(|e| NodeError::InvalidArgument {
            field: "model".into(),
            value: String::new(),
            reason: e.to_string(),
        })?;
        if self.engine.model() == &model {
            return Ok(());
        }
        self.engine
            .store()
            .save_model(&model)
            .map_err(EngineError::from)?;
        self.engine.set_model(model)?;
        self.flush()
    }

    /// A local entity with its members' valid links and strong evidence.
    fn view(&self, id: EntityId) -> Result<EntityView, NodeError> {
        let members = self.engine.members(id).unwrap_or_default();
        let mut links = Vec::new();
        let mut evidence = Vec::new();
        for m in &members {
            if self.linked_keys.contains(m.as_str()) {
                links.extend(self.valid_links(m)?);
            }
            let (dob, strong) = self.engine.evidence(m);
            if dob.is_some() || !strong.is_empty() {
                evidence.push(ops::Evidence {
                    key: m.clone(),
                    dob,
                    strong,
                });
            }
        }
        Ok(EntityView {
            entity: id,
            members,
            links,
            evidence,
        })
    }

    /// Valid links of a record: its own side still has the hash they name.
    fn valid_links(&self, key: &str) -> Result<Vec<Found>, NodeError> {
        let Some(hash) = self.engine.content_hash(key) else {
            return Ok(vec![]);
        };
        Ok(self
            .engine
            .store()
            .links_of(key)
            .map_err(EngineError::from)?
            .into_iter()
            .filter(|l| l.my_hash == hash)
            .filter_map(|mut link| {
                link.keys.retain(|&k| self.engine.key_live(k));
                (!link.keys.is_empty()).then(|| Found {
                    key: key.to_string(),
                    link,
                })
            })
            .collect())
    }

    fn read(&self, op: Op) -> Result<OpReply, NodeError> {
        let e = &self.engine;
        Ok(match op {
            Op::GetRecord { key } => {
                let (s, r) = split_key(&key);
                let (record, entity, std) = e.get_record(s, r)?;
                OpReply::Record {
                    record: Box::new(record),
                    entity,
                    issues: convert::issues(&std.issues),
                }
            }
            Op::Features { key } => {
                let p = e.packed_of(&key).ok_or_else(|| {
                    EngineError::RecordNotFound(crate::engine::resolver::display_key(&key))
                })?;
                OpReply::Features {
                    feats: p.as_bytes().to_vec(),
                    hash: e.hash_packed(p),
                }
            }
            Op::Entity { key, id } => {
                let id = match (key, id) {
                    (Some(k), _) => e.entity_of(&k).ok_or_else(|| {
                        EngineError::RecordNotFound(crate::engine::resolver::display_key(&k))
                    })?,
                    (None, Some(id)) => e
                        .resolve_entity(id)
                        .ok_or(EngineError::EntityNotFound(id))?,
                    (None, None) => return Err(NodeError::missing("entity")),
                };
                OpReply::Entity(self.view(id)?)
            }
            Op::Entities { ids } => OpReply::Views(
                ids.into_iter()
                    .filter_map(|id| e.resolve_entity(id))
                    .map(|id| self.view(id))
                    .collect::<Result<_, _>>()?,
            ),
            Op::Check { items } => OpReply::Checked(
                items
                    .iter()
                    .map(|(k, h, keys)| {
                        (e.content_hash(k) == Some(*h) && keys.iter().any(|&x| e.key_live(x)))
                            .then(|| e.entity_of(k))
                            .flatten()
                    })
                    .collect(),
            ),
            Op::Identity { kind, value } => match e.lookup_identity(&kind, &value) {
                Ok(ids) => OpReply::Entities(ids),
                Err(EngineError::IdentityNotFound { .. }) => OpReply::Entities(vec![]),
                Err(x) => return Err(x.into()),
            },
            Op::Profiles { ids } => OpReply::Profiles(
                ids.into_iter()
                    .map(|id| e.profile(id, &self.survivorship))
                    .collect::<Result<_, _>>()?,
            ),
            Op::EntityIds { after, limit } => OpReply::Entities(
                e.entity_ids()
                    .into_iter()
                    .filter(|&x| x > after)
                    .take(limit)
                    .collect(),
            ),
            Op::Search {
                query,
                limit,
                min_probability,
            } => OpReply::Hits(
                e.search(&query, limit, min_probability)
                    .into_iter()
                    .map(|(entity, weight, key)| {
                        (
                            entity,
                            e.search_candidate(entity, weight, &key, &self.survivorship),
                        )
                    })
                    .collect(),
            ),
            Op::Assignments => {
                let mut rows: Vec<Row> = e
                    .assignments()
                    .map(|(k, entity)| Row {
                        key: k.to_string(),
                        entity,
                    })
                    .collect();
                rows.sort_by(|a, b| a.key.cmp(&b.key));
                OpReply::Rows(rows)
            }
            Op::Links => OpReply::Links(
                e.store()
                    .all_links()
                    .map_err(EngineError::from)?
                    .into_iter()
                    .filter(|(k, l)| e.content_hash(k) == Some(l.my_hash))
                    .filter_map(|(key, link)| e.entity_of(&key).map(|id| (id, Found { key, link })))
                    .collect(),
            ),
            Op::WhyRecords { a, b } => {
                let (a, b) = (split_key(&a), split_key(&b));
                OpReply::Pair(Box::new(convert::pair(&e.why(a, b)?)))
            }
            Op::WhyForeign {
                local,
                foreign,
                feats,
            } => {
                let f = packed(&feats, &foreign)?;
                OpReply::Pair(Box::new(convert::pair(&e.why_foreign(
                    split_key(&local),
                    split_key(&foreign),
                    &f,
                )?)))
            }
            Op::WhyEntity { key, entity } => OpReply::EntityExplanation(Box::new(
                convert::entity_explanation(&e.why_entity(split_key(&key), entity)?),
            )),
            Op::How { entity } => OpReply::History(Box::new(convert::history(&e.how(entity)?))),
            Op::Stats => OpReply::Stats {
                stats: e.stats(),
                model_version: e.model().version,
            },
            Op::Sample => {
                let mut keys: Vec<&str> = e.assignments().map(|(k, _)| k).collect();
                keys.sort_unstable();
                OpReply::Sample(
                    keys.into_iter()
                        .filter_map(|k| e.packed_of(k).map(|p| p.as_bytes().to_vec()))
                        .collect(),
                )
            }
            Op::Model => OpReply::Model(e.model().to_json()),
            Op::Records { after, limit } => {
                let mut keys: Vec<&str> = e
                    .assignments()
                    .map(|(k, _)| k)
                    .filter(|k| *k > after.as_str())
                    .collect();
                keys.sort_unstable();
                OpReply::Records(
                    keys.into_iter()
                        .take(limit)
                        .filter_map(|k| {
                            e.packed_of(k).map(|p| ops::ProbeItem {
                                key: k.to_string(),
                                feats: p.as_bytes().to_vec(),
                                hash: e.hash_packed(p),
                                home: self.partition,
                            })
                        })
                        .collect(),
                )
            }
            Op::Apply { .. }
            | Op::Probe { .. }
            | Op::PutLinks { .. }
            | Op::Delete { .. }
            | Op::SetModel { .. } => {
                return Err(NodeError::Unavailable(
                    "internal: a write reached the read path".into(),
                ))
            }
        })
    }
}
