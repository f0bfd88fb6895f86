//! The `Records` service: upsert, streaming bulk upsert, delete, get.

use std::pin::Pin;

use futures::Stream;
use std::collections::{HashSet, VecDeque};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
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
use crate::cluster::activity::Activities;
use crate::cluster::consent::{take_consents, BatchConsents};
use crate::config::Limits;
use crate::engine::hash::hash64;
use crate::engine::resolver::record_key;
use crate::engine::Outcome;
use crate::error::NodeError;
use crate::observe;

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
    limits.check_item(r, || format!("record {}/{}", r.source, r.record_id))
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
        let coordinator = self.state.coordinator()?;
        let activities = &coordinator.activities;
        let mut record = record;
        let events = take_consents(
            &mut record,
            activities.now_ms(),
            &activities.cfg.events.consent_purposes,
        )?;
        let consents = BatchConsents::of(vec![events]);
        let mut results = coordinator.writer.upsert(vec![record]).await;
        consents.record(activities, &mut results).await;
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
        let activities = self.state.coordinator()?.activities.clone();
        let limits = self.state.limits.clone();
        // Reader: decode batches, start resolving each, queue the pending
        // results in order. Responder: await results in order. The bounded
        // queues are backpressure.
        let (pending_tx, pending_rx) = mpsc::channel(4);
        let (out_tx, out_rx) = mpsc::channel::<Result<BulkUpsertResponse, Status>>(4);
        observe::rpc::spawn(read_batches(
            req.into_inner(),
            activities,
            limits,
            pending_tx,
            out_tx.clone(),
        ));
        observe::rpc::spawn(respond_in_order(pending_rx, out_tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(out_rx))))
    }

    async fn delete(
        &self,
        req: Request<DeleteRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let (source, record_id) = convert::ref_parts(req.get_ref().record.as_ref(), "record")?;
        let affected = self
            .state
            .coordinator()?
            .writer
            .delete(&source, &record_id)
            .await?;
        Ok(Response::new(DeleteResponse {
            affected_entities: affected,
        }))
    }

    async fn get(
        &self,
        req: Request<GetRecordRequest>,
    ) -> Result<Response<GetRecordResponse>, Status> {
        let (source, record_id) = convert::ref_parts(req.get_ref().record.as_ref(), "record")?;
        let r = self
            .state
            .coordinator()?
            .reader
            .get_record(&source, &record_id)
            .await?;
        Ok(Response::new(GetRecordResponse {
            record: Some(r.record),
            entity_id: r.entity,
            issues: convert::issues(&r.issues),
        }))
    }
}

/// A record of a bulk batch: its index in the stream, (source, record id),
/// and the error it was rejected with before resolution, if any.
type Slot = (u64, (String, String), Option<NodeError>);

/// A batch being resolved: its slots and the task resolving its records.
type PendingBatch = (Vec<Slot>, JoinHandle<Vec<Result<Outcome, NodeError>>>);

/// Most batches of one stream resolving at once.
const MAX_IN_FLIGHT: usize = 4;

/// Batches still being applied: the record-key hashes of each (a
/// collision only makes a batch wait needlessly) and a signal sent once
/// its records are applied at their homes.
#[derive(Default)]
struct InFlight(VecDeque<(HashSet<u64>, Option<oneshot::Receiver<()>>)>);

impl InFlight {
    /// Waits until no earlier batch still applying holds one of `keys`:
    /// different records commute (entities do not depend on arrival
    /// order), but updates of one record apply in stream order. Returns
    /// the sender to signal once this batch is applied.
    async fn admit(&mut self, keys: HashSet<u64>) -> oneshot::Sender<()> {
        for (held, applied) in self.0.iter_mut() {
            if !held.is_disjoint(&keys) {
                if let Some(rx) = applied.take() {
                    let _ = rx.await;
                }
            }
        }
        let (applied_tx, applied_rx) = oneshot::channel();
        self.0.push_back((keys, Some(applied_rx)));
        if self.0.len() > MAX_IN_FLIGHT {
            self.0.pop_front();
        }
        applied_tx
    }
}

/// Reads the stream's batches and starts resolving each; a stream error or
/// an oversized batch ends the stream with that error.
async fn read_batches(
    mut input: Streaming<BulkUpsertRequest>,
    activities: Activities,
    limits: Limits,
    pending: mpsc::Sender<PendingBatch>,
    out: mpsc::Sender<Result<BulkUpsertResponse, Status>>,
) {
    let mut index: u64 = 0;
    let mut inflight = InFlight::default();
    while let Some(batch) = input.next().await {
        let batch = match batch.and_then(|b| Ok(checked_batch(b, &limits)?)) {
            Ok(b) => b,
            Err(s) => {
                let _ = out.send(Err(s)).await;
                return;
            }
        };
        let (slots, good, consents) =
            admit_records(batch.records, &limits, &activities, &mut index);
        let keys: HashSet<u64> = slots
            .iter()
            .map(|(_, (s, r), _)| hash64(&record_key(s, r)))
            .collect();
        let applied = inflight.admit(keys).await;
        let a = activities.clone();
        let task = observe::rpc::spawn(async move {
            let p = a.writer.apply(good).await;
            let _ = applied.send(());
            let mut results = a.writer.complete(p).await;
            consents.record(&a, &mut results).await;
            results
        });
        if pending.send((slots, task)).await.is_err() {
            return;
        }
    }
}

fn checked_batch(b: BulkUpsertRequest, limits: &Limits) -> Result<BulkUpsertRequest, NodeError> {
    if b.records.len() > limits.max_batch_records {
        return Err(NodeError::TooLarge {
            what: "bulk batch (records)".into(),
            size: b.records.len(),
            limit: limits.max_batch_records,
        });
    }
    Ok(b)
}

/// Numbers a batch's records; oversized ones and those with a bad consent
/// decision get an error slot, the rest go on to be resolved (their
/// decisions taken out, to be recorded once they are written).
fn admit_records(
    records: Vec<Record>,
    limits: &Limits,
    activities: &Activities,
    index: &mut u64,
) -> (Vec<Slot>, Vec<Record>, BatchConsents) {
    let mut slots = Vec::with_capacity(records.len());
    let mut good = Vec::with_capacity(records.len());
    let mut consents = Vec::with_capacity(records.len());
    let (now, purposes) = (activities.now_ms(), &activities.cfg.events.consent_purposes);
    for mut r in records {
        let key = (r.source.clone(), r.record_id.clone());
        let admitted = check_size(limits, &r).and_then(|()| take_consents(&mut r, now, purposes));
        match admitted {
            Ok(events) => {
                slots.push((*index, key, None));
                good.push(r);
                consents.push(events);
            }
            Err(e) => slots.push((*index, key, Some(e))),
        }
        *index += 1;
    }
    (slots, good, BatchConsents::of(consents))
}

/// Awaits each batch's results in stream order and sends them.
async fn respond_in_order(
    mut pending: mpsc::Receiver<PendingBatch>,
    out: mpsc::Sender<Result<BulkUpsertResponse, Status>>,
) {
    while let Some((slots, task)) = pending.recv().await {
        let results = match task.await {
            Ok(r) => r,
            Err(e) => {
                let _ = out
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
                    None => results
                        .next()
                        .unwrap_or_else(|| Err(NodeError::Unavailable("missing result".into()))),
                };
                item_result(index, &source, &id, res)
            })
            .collect();
        if out
            .send(Ok(BulkUpsertResponse { results: items }))
            .await
            .is_err()
        {
            return;
        }
    }
}

fn item_result(
    index: u64,
    source: &str,
    id: &str,
    res: Result<Outcome, NodeError>,
) -> BulkItemResult {
    BulkItemResult {
        index,
        outcome: Some(match res {
            Ok(o) => bulk_item_result::Outcome::Ok(convert::resolve_result(source, id, &o)),
            Err(e) => bulk_item_result::Outcome::Error(convert::record_error(source, id, &e)),
        }),
    }
}
