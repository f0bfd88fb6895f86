//! The cluster: partitions spread over nodes, and the coordinator that
//! lets any node serve any request.
//!
//! - [`map`]: the partition map and the home partition of a record.
//! - [`router`]: the coordinator: routes partition operations to owners,
//!   runs the apply → probe → link rounds of a write, assembles
//!   cluster-wide entities.
//! - [`groups`]: cluster-wide entities from partition-local ones.
//! - [`peers`]: clients of the other nodes' internal service.
//! - [`internal`]: the internal service this node serves to the others.
//!
//! [`Cluster`] owns this node's partitions: it opens the ones the map
//! gives it and closes the ones the map takes away.

pub mod groups;
pub mod internal;
pub mod map;
pub mod peers;
pub mod router;

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use futures::Stream;
use tokio::sync::watch;

use kindred_proto::internal::{FetchRequest, FileChunk};

use crate::config::NodeConfig;
use crate::engine::Model;
use crate::error::NodeError;
use crate::partition::{PartitionConfig, PartitionHandle};
use crate::storage::StoreOptions;

pub use map::PartitionMap;
pub use router::Router;

/// This node's part of the cluster.
#[derive(Clone)]
pub struct Cluster {
    pub node_id: u64,
    pub router: Router,
    map_tx: Arc<watch::Sender<Arc<PartitionMap>>>,
    template: PartitionConfig,
    data_dir: PathBuf,
    threads: Arc<Mutex<HashMap<u32, JoinHandle<()>>>>,
}

impl Cluster {
    /// Sets up this node's view of the cluster; no partition is open yet.
    pub fn new(cfg: &NodeConfig, model: Option<Model>) -> Cluster {
        let c = &cfg.cluster;
        let mut nodes = c.peers.clone();
        if nodes.is_empty() {
            nodes.insert(c.node_id, cfg.advertise());
        }
        let map = PartitionMap::round_robin(c.partition_count(), &nodes);
        let (tx, rx) = watch::channel(Arc::new(map));
        let local_count = u64::from(c.partition_count()).max(1);
        let template = PartitionConfig {
            data_dir: PathBuf::new(),
            engine: cfg.engine.clone(),
            survivorship: cfg.survivorship.clone(),
            store: StoreOptions {
                sync: cfg.sync,
                block_cache_bytes: ((cfg.block_cache_mb << 20) as u64 / local_count).max(8 << 20)
                    as usize,
            },
            model,
            mailbox: cfg.mailbox,
            partition: 0,
            partitions: c.partition_count(),
        };
        let router = Router::new(
            c.node_id,
            rx,
            Arc::default(),
            peers::Peers::new(cfg.limits.max_message_bytes),
            cfg.engine.standardize.to_config(),
        );
        Cluster {
            node_id: c.node_id,
            router,
            map_tx: Arc::new(tx),
            template,
            data_dir: cfg.data_dir.clone(),
            threads: Arc::default(),
        }
    }

    /// Where a partition's store lives.
    pub fn partition_dir(&self, p: u32) -> PathBuf {
        self.data_dir.join("partitions").join(format!("{p:04}"))
    }

    /// Opens every partition the current map gives this node (blocking).
    pub fn open_owned(&self) -> Result<(), NodeError> {
        let map = self.router.map();
        for p in map.owned_by(self.node_id) {
            self.open_partition(p)?;
        }
        Ok(())
    }

    fn open_partition(&self, p: u32) -> Result<(), NodeError> {
        if self
            .router
            .local()
            .read()
            .map(|l| l.contains_key(&p))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let mut cfg = self.template.clone();
        cfg.partition = p;
        cfg.data_dir = self.partition_dir(p);
        let (h, join) = PartitionHandle::open(cfg)?;
        if let Ok(mut l) = self.router.local().write() {
            l.insert(p, h);
        }
        if let Ok(mut t) = self.threads.lock() {
            t.insert(p, join);
        }
        Ok(())
    }

    /// Installs a new partition map (from the metadata group).
    pub fn set_map(&self, map: PartitionMap) {
        self.map_tx.send_replace(Arc::new(map));
    }

    /// A Raft message from another node.
    pub fn step_raft(&self, _msg: &[u8]) -> Result<(), NodeError> {
        Err(NodeError::Unavailable(
            "this node runs without a metadata group".into(),
        ))
    }

    /// A metadata proposal forwarded by another node.
    pub async fn propose_forwarded(&self, _body: &[u8]) -> Result<Vec<u8>, NodeError> {
        Err(NodeError::Unavailable(
            "this node runs without a metadata group".into(),
        ))
    }

    /// Streams a partition checkpoint to a node taking the partition over.
    pub async fn serve_fetch(
        &self,
        _req: FetchRequest,
    ) -> Result<Pin<Box<dyn Stream<Item = Result<FileChunk, tonic::Status>> + Send>>, NodeError>
    {
        Err(NodeError::Unavailable("partition moves are not available".into()))
    }

    /// Closes every partition and waits for their threads (blocking).
    pub fn close_all(&self) {
        if let Ok(mut l) = self.router.local().write() {
            l.clear();
        }
        let threads: Vec<JoinHandle<()>> = self
            .threads
            .lock()
            .map(|mut t| t.drain().map(|(_, j)| j).collect())
            .unwrap_or_default();
        for j in threads {
            let _ = j.join();
        }
    }
}
