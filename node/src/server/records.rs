//! The `Records` service: upsert, streaming bulk upsert, delete, get.

use std::pin::Pin;

use futures::Stream;
use prost::Message;
use std::collections::{HashSet, VecDeque};

use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use kindred_proto::v1::records_server::Records;
use kindred_proto::v1::{
    bulk_item_result, BulkItemResult, BulkUpsertRequest, BulkUpsertResponse, DeleteRequest,
    DeleteResponse, GetRecordRequest, GetRecordResponse, Record, UpsertRequest, UpsertResponse,
};

use super::convert;
use super::NodeState;
use crate::config::Limits;
use crate::engine::{hash::hash64, resolver::record_key};
use crate::error::NodeError;

/// Implements `kindred.v1.Records`.
pub struct RecordsService {
    state: NodeState,
}

impl RecordsService {
    pub fn new(state: NodeState) -> Self {
        RecordsService { state }
    }
}

/// Rejects records over the size limit before they reach the engine.
fn check_size(limits: &Limits, r: &Record) -> Result<(), NodeError> {
    let size = r.encoded_len();
    let limit = limits.max_record_bytes;
    if size > limit {
        return Err(NodeError::TooLarge {
            what: format!("record {}/{}", r.source, r.record_id),
            size,
            limit,
        });
    }
    Ok(())
}

type BulkStream = Pin<Box<dyn Stream<Item = Result<BulkUpsertResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Records for RecordsService {
    async fn upsert(
        &self,
        req: Request<UpsertRequest>,
    ) -> Result<Response<UpsertResponse>, Status> {
        let record = req
            .into_inner()
            .record
            .ok_or_else(|| NodeError::missing("record"))?;
        check_size(&self.state.limits, &record)?;
        let (source, id) = (record.source.clone(), record.record_id.clone());
        let mut results = self.state.router()?.upsert(vec![record]).await;
        let outcome = results
            .pop()
            .ok_or_else(|| Status::internal("no result for the record"))??;
        Ok(Response::new(UpsertResponse {
            result: Some(convert::resolve_result(&source, &id, &outcome)),
        }))
    }

    type BulkUpsertStream = BulkStream;

    async fn bulk_upsert(
        &self,
        req: Request<Streaming<BulkUpsertRequest>>,
    ) -> Result<Response<Self::BulkUpsertStream>, Status> {
        let router = self.state.router()?.clone();
        let limits = self.state.limits.clone();
        let mut input = req.into_inner();
        // Reader: decode batches, start resolving each, queue the pending
        // results in order. Writer: await results in order. Up to four
        // batches resolve at once (the bounded queue is backpressure).
        // Different records commute (entities do not depend on arrival
        // order), so batches only wait for an earlier batch that holds one
        // of their records: updates of one record apply in stream order.
        let (pending_tx, mut pending_rx) = mpsc::channel(4);
        let (out_tx, out_rx) = mpsc::channel::<Result<BulkUpsertResponse, Status>>(4);
        let out_err = out_tx.clone();
        tokio::spawn(async move {
            let mut index: u64 = 0;
            // Record-key hashes of the batches still being applied (a
            // collision only makes a batch wait needlessly).
            let mut inflight: VecDeque<(HashSet<u64>, Option<oneshot::Receiver<()>>)> =
                VecDeque::new();
            while let Some(batch) = input.next().await {
                let batch = match batch {
                    Ok(b) => b,
                    Err(s) => {
                        let _ = out_err.send(Err(s)).await;
                        return;
                    }
                };
                if batch.records.len() > limits.max_batch_records {
                    let e = NodeError::TooLarge {
                        what: "bulk batch (records)".into(),
                        size: batch.records.len(),
                        limit: limits.max_batch_records,
                    };
                    let _ = out_err.send(Err(e.into())).await;
                    return;
                }
                // Oversized records get an error result; the rest go on.
                let mut slots = Vec::with_capacity(batch.records.len());
                let mut good = Vec::with_capacity(batch.records.len());
                for r in batch.records {
                    let key = (r.source.clone(), r.record_id.clone());
                    match check_size(&limits, &r) {
                        Ok(()) => {
                            slots.push((index, key, None));
                            good.push(r);
                        }
                        Err(e) => slots.push((index, key, Some(e))),
                    }
                    index += 1;
                }
                let keys: HashSet<u64> = slots
                    .iter()
                    .map(|(_, (s, r), _)| hash64(&record_key(s, r)))
                    .collect();
                for (held, applied) in inflight.iter_mut() {
                    if !held.is_disjoint(&keys) {
                        if let Some(rx) = applied.take() {
                            let _ = rx.await;
                        }
                    }
                }
                let (applied_tx, applied_rx) = oneshot::channel();
                inflight.push_back((keys, Some(applied_rx)));
                if inflight.len() > 4 {
                    inflight.pop_front();
                }
                let r = router.clone();
                let rx = tokio::spawn(async move {
                    let pending = r.apply(good).await;
                    let _ = applied_tx.send(());
                    r.complete(pending).await
                });
                if pending_tx.send((slots, rx)).await.is_err() {
                    return;
                }
            }
        });
        tokio::spawn(async move {
            while let Some((slots, rx)) = pending_rx.recv().await {
                let results = match rx.await {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = out_tx
                            .send(Err(Status::internal(format!("resolving a batch: {e}"))))
                            .await;
                        return;
                    }
                };
                let mut results = results.into_iter();
                let items = slots
                    .into_iter()
                    .map(|(index, (source, id), rejected)| {
                        let res = match rejected {
                            Some(e) => Err(e),
                            None => results.next().unwrap_or_else(|| {
                                Err(NodeError::Unavailable("missing result".into()))
                            }),
                        };
                        BulkItemResult {
                            index,
                            outcome: Some(match res {
                                Ok(o) => bulk_item_result::Outcome::Ok(convert::resolve_result(
                                    &source, &id, &o,
                                )),
                                Err(e) => bulk_item_result::Outcome::Error(convert::record_error(
                                    &source, &id, &e,
                                )),
                            }),
                        }
                    })
                    .collect();
                if out_tx
                    .send(Ok(BulkUpsertResponse { results: items }))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(out_rx))))
    }

    async fn delete(
        &self,
        req: Request<DeleteRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let (source, record_id) = convert::ref_parts(req.get_ref().record.as_ref(), "record")?;
        let affected = self.state.router()?.delete(&source, &record_id).await?;
        Ok(Response::new(DeleteResponse {
            affected_entities: affected,
        }))
    }

    async fn get(
        &self,
        req: Request<GetRecordRequest>,
    ) -> Result<Response<GetRecordResponse>, Status> {
        let (source, record_id) = convert::ref_parts(req.get_ref().record.as_ref(), "record")?;
        let (record, entity, issues) = self.state.router()?.get_record(&source, &record_id).await?;
        Ok(Response::new(GetRecordResponse {
            record: Some(record),
            entity_id: entity,
            issues,
        }))
    }
}
