//! Retention: records not observed within their source's limit are
//! erased by the erasure machinery ([`super::erase`]): deleted through the
//! ordinary delete (their events, links and data keys with them), the
//! history of customers left with no record forgotten, every partition
//! purged. Each sweep that erases something is recorded as an erasure
//! request by `retention`, with its counts; nothing is suppressed (the
//! person may come back).

use std::collections::BTreeSet;

use super::Cluster;
use crate::error::NodeError;
use crate::meta::{ErasureEntry, ErasureStage};
use crate::partition::request::Expired;
use crate::privacy::retention::RetentionConfig;

/// Who a retention sweep's erasure request names as its requester.
pub const RETENTION: &str = "retention";

impl Cluster {
    /// Applies the retention policy now; returns the erasure request it
    /// recorded (None: nothing was due).
    pub async fn apply_retention(
        &self,
        retention: &RetentionConfig,
    ) -> Result<Option<ErasureEntry>, NodeError> {
        if !retention.enabled() {
            return Ok(None);
        }
        let req = Expired {
            retention: retention.clone(),
            now_ms: self.coordinator.writer.now_ms(),
        };
        let keys: BTreeSet<String> = self
            .router()
            .gather(req)
            .await?
            .into_iter()
            .flatten()
            .collect();
        if keys.is_empty() {
            return Ok(None);
        }
        let mut entry = self.new_erasure(RETENTION).await?;
        entry.stage = ErasureStage::InProgress;
        self.put_erasure(&entry).await?;
        let outcome = self.expire(&keys).await;
        entry.done_ms = self.coordinator.writer.now_ms();
        match outcome {
            Ok(()) => {
                entry.stage = ErasureStage::Done;
                entry.records = keys.len() as u32;
            }
            Err(e) => {
                entry.stage = ErasureStage::Failed;
                entry.error = format!("{:?}; the next sweep erases what remains", e.code());
            }
        }
        self.put_erasure(&entry).await?;
        tracing::info!(
            erasure = entry.id,
            records = entry.records,
            stage = ?entry.stage,
            "retention sweep finished"
        );
        Ok(Some(entry))
    }

    /// Deletes the expired records, then forgets the customers they leave
    /// empty and purges.
    async fn expire(&self, keys: &BTreeSet<String>) -> Result<(), NodeError> {
        let affected = self.delete_all(keys).await?;
        let mut gone = Vec::new();
        for id in affected {
            match self.coordinator.reader.assembler.global_id(id).await {
                Err(e) if e.code() == tonic::Code::NotFound => gone.push(id),
                Err(e) => return Err(e),
                Ok(_) => {}
            }
        }
        self.forget(&gone, keys).await
    }
}
