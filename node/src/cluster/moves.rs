//! Partition moves: streaming a partition's store to a new owner while it
//! keeps serving, then switching ownership through Raft.
//!
//! The receiving node pulls two checkpoints from the owner:
//!
//! 1. A RocksDB checkpoint taken while the partition serves reads and
//!    writes; all its files are streamed.
//! 2. The owner fences the partition's writes (its actor refuses them as
//!    ABORTED, which coordinators retry; every write queued before the
//!    fence is applied first), takes a second checkpoint and streams only
//!    what the receiver lacks: SST files are immutable, so an SST of the
//!    same name and size is already there.
//!
//! The receiver then proposes a compare-and-set `MovePartition` (owner and
//! epoch must be unchanged). Once it applies, the old owner closes and
//! deletes its copy and the new owner opens the received one; reads were
//! served by the old owner until then. If anything fails before the
//! switch, the fence is released and the old owner carries on. Nothing is
//! lost (the fenced checkpoint holds every acknowledged write) and nothing
//! is counted twice (exactly one owner at each epoch).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Instant;

use futures::{Stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use kindred_proto::internal::{FetchRequest, FileChunk, FileHave};

use super::node_request::Unfence;
use super::peers::from_status;
use super::Cluster;
use crate::error::NodeError;
use crate::meta::{MetaCommand, MetaReply};

/// Bytes per streamed chunk.
const CHUNK: usize = 1 << 20;

/// A stream of checkpoint file chunks.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<FileChunk, tonic::Status>> + Send>>;

fn io(what: &str, e: impl std::fmt::Display) -> NodeError {
    NodeError::Unavailable(format!("{what}: {e}"))
}

/// (name, size) of the files of a directory.
fn listing(dir: &Path) -> Result<Vec<(String, u64)>, NodeError> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| io("listing checkpoint", e))? {
        let e = e.map_err(|e| io("listing checkpoint", e))?;
        let md = e.metadata().map_err(|e| io("listing checkpoint", e))?;
        if md.is_file() {
            v.push((e.file_name().to_string_lossy().into_owned(), md.len()));
        }
    }
    v.sort();
    Ok(v)
}

impl Cluster {
    /// Owner side: checkpoints a partition and streams its files.
    pub async fn serve_fetch(&self, req: FetchRequest) -> Result<ChunkStream, NodeError> {
        let p = req.partition;
        let h = self.router().local_handle(p).ok_or(NodeError::NotOwner {
            partition: p,
            epoch: 0,
        })?;
        if req.fence {
            h.fence(true).await?;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = self.data_dir.join("moves").join(format!("{p:04}-{nanos}"));
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("creating moves directory", e))?;
        }
        h.checkpoint(dir.clone()).await?;
        let files = listing(&dir)?;
        let have: HashMap<String, u64> = req.have.into_iter().map(|f| (f.name, f.size)).collect();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<FileChunk, tonic::Status>>(8);
        let list = serde_json::to_vec(&files).map_err(|e| io("listing", e))?;
        tokio::spawn(async move {
            let _ = tx
                .send(Ok(FileChunk {
                    name: String::new(),
                    offset: 0,
                    data: list,
                    size: 0,
                }))
                .await;
            for (name, size) in files {
                if name.ends_with(".sst") && have.get(&name) == Some(&size) {
                    continue;
                }
                if let Err(e) = send_file(&tx, &dir.join(&name), &name, size).await {
                    let _ = tx.send(Err(e.into())).await;
                    break;
                }
            }
            drop(tx);
            let _ = tokio::fs::remove_dir_all(&dir).await;
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }

    /// Receiving side: takes partition `p` over from `from`, which owns it
    /// at `epoch`. Returns (bytes streamed, seconds).
    pub async fn receive(&self, p: u32, from: u64, epoch: u64) -> Result<(u64, f64), NodeError> {
        let started = Instant::now();
        let incoming = self.incoming_dir(p);
        let _ = std::fs::remove_dir_all(&incoming);
        std::fs::create_dir_all(&incoming).map_err(|e| io("creating incoming directory", e))?;
        let result = async {
            let mut bytes = self.pull(p, from, false, &incoming).await?;
            bytes += self.pull(p, from, true, &incoming).await?;
            let r = self
                .meta
                .propose(MetaCommand::MovePartition {
                    partition: p,
                    from,
                    to: self.node_id,
                    expected_epoch: epoch,
                })
                .await
                .map_err(|e| NodeError::Unavailable(format!("metadata: {e}")))?;
            if let MetaReply::Rejected(why) = r {
                return Err(NodeError::Remote {
                    code: tonic::Code::FailedPrecondition as i32,
                    message: format!("partition {p} was not moved: {why}"),
                    field: "partition".into(),
                    value: p.to_string(),
                });
            }
            Ok(bytes)
        }
        .await;
        match result {
            Ok(bytes) => {
                // The map watcher opens the partition from `incoming`; wait
                // until it serves here.
                let deadline = Instant::now() + std::time::Duration::from_secs(120);
                while self.router().local_handle(p).is_none() && Instant::now() < deadline {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Ok((bytes, started.elapsed().as_secs_f64()))
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&incoming);
                let map = self.router().map();
                if map.nodes.contains_key(&from) {
                    let _ = self
                        .router()
                        .call_node(from, Unfence { partition: p })
                        .await;
                } else if from == self.node_id {
                    if let Some(h) = self.router().local_handle(p) {
                        let _ = h.fence(false).await;
                    }
                }
                Err(e)
            }
        }
    }

    /// One pass: streams a checkpoint from the owner into `incoming`;
    /// returns the bytes received.
    async fn pull(
        &self,
        p: u32,
        from: u64,
        fence: bool,
        incoming: &Path,
    ) -> Result<u64, NodeError> {
        let map = self.router().map();
        let addr = map
            .nodes
            .get(&from)
            .cloned()
            .ok_or_else(|| NodeError::Unavailable(format!("no address for node {from}")))?;
        let have = listing(incoming)?
            .into_iter()
            .map(|(name, size)| FileHave { name, size })
            .collect();
        let mut client = self.router().peers().client(from, &addr)?;
        self.router().peers().count_call();
        let request = FetchRequest {
            partition: p,
            have,
            fence,
        };
        let stream = client
            .fetch(request)
            .await
            .map_err(|s| from_status(from, s))?
            .into_inner();
        let (bytes, expected) = receive_files(stream, from, incoming).await?;
        match_listing(p, incoming, &expected)?;
        Ok(bytes)
    }

    /// Where a partition being received is assembled.
    pub fn incoming_dir(&self, p: u32) -> PathBuf {
        self.data_dir.join("incoming").join(format!("{p:04}"))
    }
}

/// Writes the streamed files into `incoming`; returns the bytes received
/// and the checkpoint's file list (name, size), sent first.
async fn receive_files(
    mut stream: tonic::Streaming<FileChunk>,
    from: u64,
    incoming: &Path,
) -> Result<(u64, Vec<(String, u64)>), NodeError> {
    let mut bytes = 0u64;
    let mut expected: Option<Vec<(String, u64)>> = None;
    let mut open: Option<(String, tokio::fs::File)> = None;
    while let Some(chunk) = stream.next().await {
        let c = chunk.map_err(|s| from_status(from, s))?;
        if c.name.is_empty() {
            expected = Some(serde_json::from_slice(&c.data).map_err(|e| io("file list", e))?);
            continue;
        }
        bytes += c.data.len() as u64;
        if open.as_ref().is_none_or(|(n, _)| n != &c.name) {
            if let Some((_, f)) = open.take() {
                finish_file(f, false).await?;
            }
            let f = tokio::fs::File::create(incoming.join(&c.name))
                .await
                .map_err(|e| io("creating partition file", e))?;
            open = Some((c.name.clone(), f));
        }
        if let Some((_, f)) = open.as_mut() {
            f.write_all(&c.data)
                .await
                .map_err(|e| io("writing partition file", e))?;
        }
    }
    if let Some((_, f)) = open.take() {
        finish_file(f, true).await?;
    }
    let expected = expected
        .ok_or_else(|| NodeError::Unavailable("checkpoint stream had no file list".into()))?;
    Ok((bytes, expected))
}

async fn finish_file(mut f: tokio::fs::File, sync: bool) -> Result<(), NodeError> {
    f.flush()
        .await
        .map_err(|e| io("writing partition file", e))?;
    if sync {
        f.sync_all()
            .await
            .map_err(|e| io("syncing partition file", e))?;
    }
    Ok(())
}

/// Drops what the checkpoint no longer has, and checks that every file it
/// lists arrived whole.
fn match_listing(p: u32, incoming: &Path, expected: &[(String, u64)]) -> Result<(), NodeError> {
    let now: HashMap<String, u64> = listing(incoming)?.into_iter().collect();
    let want: HashMap<&str, u64> = expected.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    for name in now.keys() {
        if !want.contains_key(name.as_str()) {
            let _ = std::fs::remove_file(incoming.join(name));
        }
    }
    for (name, size) in expected {
        if now.get(name) != Some(size) {
            return Err(NodeError::Unavailable(format!(
                "partition {p}: file {name} arrived with {:?} bytes, expected {size}",
                now.get(name)
            )));
        }
    }
    Ok(())
}

async fn send_file(
    tx: &tokio::sync::mpsc::Sender<Result<FileChunk, tonic::Status>>,
    path: &Path,
    name: &str,
    size: u64,
) -> Result<(), NodeError> {
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(|e| io("opening checkpoint file", e))?;
    let mut offset = 0u64;
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = f
            .read(&mut buf)
            .await
            .map_err(|e| io("reading checkpoint file", e))?;
        if n == 0 && offset > 0 {
            return Ok(());
        }
        buf.truncate(n);
        tx.send(Ok(FileChunk {
            name: name.to_string(),
            offset,
            data: buf,
            size,
        }))
        .await
        .map_err(|_| NodeError::Unavailable("receiver went away".into()))?;
        offset += n as u64;
        if n == 0 {
            return Ok(());
        }
    }
}

/// Moves that leave every active node with an equal share (±1) of the
/// partitions, taking from the most loaded first. Deterministic.
pub fn plan_rebalance(owners: &[(u64, u64)], active: &[u64]) -> Vec<(u32, u64, u64)> {
    if active.is_empty() {
        return vec![];
    }
    let n = active.len();
    let total = owners.len();
    let mut held: std::collections::BTreeMap<u64, Vec<u32>> =
        active.iter().map(|&a| (a, Vec::new())).collect();
    let mut orphans = Vec::new();
    for (p, &(o, _)) in owners.iter().enumerate() {
        match held.get_mut(&o) {
            Some(v) => v.push(p as u32),
            None => orphans.push((p as u32, o)),
        }
    }
    // Target: the first `total % n` nodes (by id) get one more.
    let target: std::collections::BTreeMap<u64, usize> = active
        .iter()
        .enumerate()
        .map(|(i, &a)| (a, total / n + usize::from(i < total % n)))
        .collect();
    let mut moves = Vec::new();
    let mut spare: Vec<(u32, u64)> = orphans;
    for (&node, parts) in held.iter_mut() {
        while parts.len() > target[&node] {
            if let Some(p) = parts.pop() {
                spare.push((p, node));
            }
        }
    }
    spare.sort();
    for (p, from) in spare {
        let to = held
            .iter()
            .filter(|(a, v)| v.len() < target[a])
            .map(|(a, _)| *a)
            .next();
        if let Some(to) = to {
            if let Some(v) = held.get_mut(&to) {
                v.push(p);
            }
            moves.push((p, from, to));
        }
    }
    moves
}

#[cfg(test)]
mod tests {
    use super::plan_rebalance;

    #[test]
    fn rebalance_evens_out_and_only_moves_the_excess() {
        // 8 partitions on nodes 1 and 2; node 3 joins.
        let owners: Vec<(u64, u64)> = (0..8).map(|p| (1 + (p % 2), 1)).collect();
        let moves = plan_rebalance(&owners, &[1, 2, 3]);
        assert_eq!(moves.len(), 2);
        assert!(moves.iter().all(|m| m.2 == 3));
        assert!(plan_rebalance(&owners, &[1, 2]).is_empty());
    }

    #[test]
    fn a_drained_node_gives_everything_away() {
        let owners: Vec<(u64, u64)> = (0..6).map(|p| (1 + (p % 3), 1)).collect();
        let moves = plan_rebalance(&owners, &[1, 2]);
        assert_eq!(moves.len(), 2);
        assert!(moves.iter().all(|m| m.1 == 3));
    }
}
