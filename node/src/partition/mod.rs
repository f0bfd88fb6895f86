//! A partition: the matching actor that owns one engine and its store.
//!
//! The engine is single-threaded and its storage is synchronous, so the
//! actor runs on its own OS thread and takes [`Command`]s from a bounded
//! mailbox: senders wait when it is full (backpressure, never an unbounded
//! queue). Writes are group-committed: a batch of upserts is flushed to
//! RocksDB once, before any of its results is sent back.

use std::path::PathBuf;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use kindred_proto::v1::{Profile, Record};

use crate::engine::explain::{EntityExplanation, EntityHistory, PairExplanation};
use crate::engine::profile::Survivorship;
use crate::engine::resolver::{split_key, Stats};
use crate::engine::standardize::Issue;
use crate::engine::train::{train, TrainOptions};
use crate::engine::{Engine, EngineConfig, EntityId, Model, Outcome};
use crate::error::NodeError;
use crate::storage::{RocksStore, StoreOptions};

type Reply<T> = oneshot::Sender<Result<T, NodeError>>;

/// How a profile is looked up.
#[derive(Debug, Clone)]
pub enum ProfileKey {
    Entity(EntityId),
    Record { source: String, record_id: String },
    Identity { kind: String, value: String },
}

/// A search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub entity: EntityId,
    pub weight: f64,
    pub best_record: (String, String),
    pub candidate: kindred_proto::v1::SearchCandidate,
}

/// Result of training.
#[derive(Debug, Clone)]
pub struct Trained {
    pub model: Model,
    pub records_used: usize,
    pub seconds: f64,
}

/// A request to the partition actor.
pub enum Command {
    /// Upserts a batch (one group commit); one result per record.
    Upsert {
        records: Vec<Record>,
        reply: oneshot::Sender<Vec<Result<Outcome, NodeError>>>,
    },
    Delete {
        source: String,
        record_id: String,
        reply: Reply<Vec<EntityId>>,
    },
    GetRecord {
        source: String,
        record_id: String,
        reply: Reply<(Record, EntityId, Vec<Issue>)>,
    },
    Profile {
        key: ProfileKey,
        reply: Reply<Profile>,
    },
    /// Profiles of entities with id > `after`, at most `limit`, ascending.
    ProfilesPage {
        after: EntityId,
        limit: usize,
        reply: Reply<Vec<Profile>>,
    },
    Search {
        query: Box<Record>,
        limit: usize,
        min_probability: f64,
        reply: Reply<Vec<Hit>>,
    },
    /// Every (source, record_id, entity).
    Assignments {
        reply: Reply<Vec<(String, String, EntityId)>>,
    },
    WhyRecords {
        a: (String, String),
        b: (String, String),
        reply: Reply<PairExplanation>,
    },
    WhyEntity {
        record: (String, String),
        entity: EntityId,
        reply: Reply<EntityExplanation>,
    },
    How {
        entity: EntityId,
        reply: Reply<EntityHistory>,
    },
    Stats {
        reply: Reply<(Stats, u64)>,
    },
    Train {
        max_records: usize,
        dry_run: bool,
        reply: Reply<Trained>,
    },
    Model {
        reply: Reply<Model>,
    },
}

/// A cheap, cloneable handle to a running partition.
#[derive(Clone)]
pub struct PartitionHandle {
    tx: mpsc::Sender<Command>,
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
}

struct Actor {
    engine: Engine<RocksStore>,
    survivorship: Survivorship,
    /// Set when storage failed: the in-memory state may be ahead of disk,
    /// so no further writes are accepted until a restart recovers from disk.
    failed: Option<String>,
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
        let opened = RocksStore::open(&cfg.data_dir, &cfg.store)
            .map_err(crate::engine::EngineError::from)?;
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
        if cfg.model.is_some() && stored_model.as_ref() != Some(&model) {
            tracing::info!(
                version = model.version,
                "configured model differs from the stored one; re-resolving"
            );
            engine
                .store()
                .save_model(&model)
                .map_err(crate::engine::EngineError::from)?;
            engine.rebuild()?;
            engine.flush()?;
        }
        tracing::info!(
            records,
            seconds = started.elapsed().as_secs_f64(),
            "partition restored"
        );
        let (tx, mut rx) = mpsc::channel::<Command>(cfg.mailbox.max(1));
        let mut actor = Actor {
            engine,
            survivorship: cfg.survivorship,
            failed: None,
        };
        let join = std::thread::Builder::new()
            .name("kindred-partition".into())
            .spawn(move || {
                while let Some(cmd) = rx.blocking_recv() {
                    actor.handle(cmd);
                }
                if let Err(e) = actor.engine.flush() {
                    tracing::error!(error = %e, "final flush failed");
                }
                tracing::info!("partition stopped");
            })
            .map_err(|e| NodeError::Unavailable(format!("cannot start partition thread: {e}")))?;
        Ok((PartitionHandle { tx }, join))
    }

    /// Sends a command and waits for its reply.
    pub async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| NodeError::Unavailable("partition is shutting down".into()))?;
        rx.await
            .map_err(|_| NodeError::Unavailable("partition stopped before answering".into()))?
    }

    /// Sends a batch of upserts; the receiver yields one result per record.
    pub async fn upsert(
        &self,
        records: Vec<Record>,
    ) -> Result<oneshot::Receiver<Vec<Result<Outcome, NodeError>>>, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Upsert { records, reply: tx })
            .await
            .map_err(|_| NodeError::Unavailable("partition is shutting down".into()))?;
        Ok(rx)
    }
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
            Command::Upsert { records, reply } => {
                if let Err(e) = self.write_guard() {
                    let msg = e.to_string();
                    let _ = reply.send(
                        records
                            .iter()
                            .map(|_| Err(NodeError::Unavailable(msg.clone())))
                            .collect(),
                    );
                    return;
                }
                let out: Vec<Result<Outcome, NodeError>> = records
                    .into_iter()
                    .map(|r| self.engine.upsert(r).map_err(NodeError::from))
                    .collect();
                // Acknowledge from the writer thread once the batch is
                // written; resolve the next batch meanwhile.
                self.engine.store_mut().flush_then(Box::new(move |res| {
                    let out = match res {
                        Ok(()) => out,
                        Err(e) => {
                            tracing::error!(error = %e, "storage write failed; refusing further writes");
                            let msg = e.to_string();
                            out.into_iter()
                                .map(|_| Err(NodeError::Unavailable(msg.clone())))
                                .collect()
                        }
                    };
                    let _ = reply.send(out);
                }));
            }
            Command::Delete {
                source,
                record_id,
                reply,
            } => {
                let r = self.write_guard().and_then(|_| {
                    let affected = self.engine.delete(&source, &record_id)?;
                    self.flush()?;
                    Ok(affected)
                });
                let _ = reply.send(r);
            }
            Command::GetRecord {
                source,
                record_id,
                reply,
            } => {
                let r = self
                    .engine
                    .get_record(&source, &record_id)
                    .map(|(rec, e, std)| (rec, e, std.issues))
                    .map_err(NodeError::from);
                let _ = reply.send(r);
            }
            Command::Profile { key, reply } => {
                let _ = reply.send(self.profile(key));
            }
            Command::ProfilesPage {
                after,
                limit,
                reply,
            } => {
                let ids: Vec<EntityId> = self
                    .engine
                    .entity_ids()
                    .into_iter()
                    .filter(|&e| e > after)
                    .take(limit)
                    .collect();
                let r = ids
                    .into_iter()
                    .map(|id| {
                        self.engine
                            .profile(id, &self.survivorship)
                            .map_err(NodeError::from)
                    })
                    .collect();
                let _ = reply.send(r);
            }
            Command::Search {
                query,
                limit,
                min_probability,
                reply,
            } => {
                let hits = self
                    .engine
                    .search(&query, limit, min_probability)
                    .into_iter()
                    .map(|(entity, weight, key)| {
                        let (s, r) = split_key(&key);
                        Hit {
                            entity,
                            weight,
                            best_record: (s.to_string(), r.to_string()),
                            candidate: self.engine.search_candidate(
                                entity,
                                weight,
                                &key,
                                &self.survivorship,
                            ),
                        }
                    })
                    .collect();
                let _ = reply.send(Ok(hits));
            }
            Command::Assignments { reply } => {
                let mut v: Vec<(String, String, EntityId)> = self
                    .engine
                    .assignments()
                    .map(|(k, e)| {
                        let (s, r) = split_key(k);
                        (s.to_string(), r.to_string(), e)
                    })
                    .collect();
                v.sort();
                let _ = reply.send(Ok(v));
            }
            Command::WhyRecords { a, b, reply } => {
                let r = self
                    .engine
                    .why((&a.0, &a.1), (&b.0, &b.1))
                    .map_err(NodeError::from);
                let _ = reply.send(r);
            }
            Command::WhyEntity {
                record,
                entity,
                reply,
            } => {
                let r = self
                    .engine
                    .why_entity((&record.0, &record.1), entity)
                    .map_err(NodeError::from);
                let _ = reply.send(r);
            }
            Command::How { entity, reply } => {
                let _ = reply.send(self.engine.how(entity).map_err(NodeError::from));
            }
            Command::Stats { reply } => {
                let _ = reply.send(Ok((self.engine.stats(), self.engine.model().version)));
            }
            Command::Train {
                max_records,
                dry_run,
                reply,
            } => {
                let _ = reply.send(self.train(max_records, dry_run));
            }
            Command::Model { reply } => {
                let _ = reply.send(Ok(self.engine.model().clone()));
            }
        }
    }

    fn profile(&self, key: ProfileKey) -> Result<Profile, NodeError> {
        let id = match key {
            ProfileKey::Entity(id) => id,
            ProfileKey::Record { source, record_id } => {
                self.engine.get_record(&source, &record_id)?.1
            }
            ProfileKey::Identity { kind, value } => {
                let ids = self.engine.lookup_identity(&kind, &value)?;
                *ids.first()
                    .ok_or_else(|| crate::engine::EngineError::IdentityNotFound {
                        kind: kind.clone(),
                        value: value.clone(),
                    })?
            }
        };
        Ok(self.engine.profile(id, &self.survivorship)?)
    }

    fn train(&mut self, max_records: usize, dry_run: bool) -> Result<Trained, NodeError> {
        self.write_guard()?;
        let started = std::time::Instant::now();
        let opts = TrainOptions {
            max_records: if max_records == 0 {
                TrainOptions::default().max_records
            } else {
                max_records
            },
            ..TrainOptions::default()
        };
        let packed = self.engine.packed();
        let records_used = packed.len().min(opts.max_records);
        let model = train(
            &packed,
            &self.engine.config().blocking,
            self.engine.model(),
            &opts,
        )
        .map_err(|e| NodeError::Training(e.to_string()))?;
        if !dry_run {
            self.engine
                .store()
                .save_model(&model)
                .map_err(crate::engine::EngineError::from)?;
            self.engine.set_model(model.clone())?;
            self.flush()?;
        }
        Ok(Trained {
            model,
            records_used,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
