//! The `Events` service: send one event, stream many with a result per
//! event, list a customer's events.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::{mpsc, RwLock};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use kindred_proto::v1 as pb;
use kindred_proto::v1::events_server::Events;
use kindred_proto::v1::list_events_request::Key;

use super::{convert, NodeState};
use crate::cluster::activity::{Activities, EventFilter, EventOutcome, Whose};
use crate::config::Limits;
use crate::error::NodeError;
use crate::observe;

/// Implements `kindred.v1.Events`.
pub struct EventsService {
    state: NodeState,
}

impl EventsService {
    pub fn new(state: NodeState) -> Self {
        EventsService { state }
    }
}

/// Rejects events over the record size limit before they go further.
fn check_size(limits: &Limits, e: &pb::Event) -> Result<(), NodeError> {
    limits.check_item(e, || {
        format!("event {}/{}/{}", e.source, e.record_id, e.event_id)
    })
}

type BulkStream = Pin<Box<dyn Stream<Item = Result<pb::BulkSendResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Events for EventsService {
    async fn send(
        &self,
        req: Request<pb::SendEventRequest>,
    ) -> Result<Response<pb::SendEventResponse>, Status> {
        let event = req
            .into_inner()
            .event
            .ok_or_else(|| NodeError::missing("event"))?;
        check_size(&self.state.limits, &event)?;
        let mut results = self
            .state
            .coordinator()?
            .activities
            .send(vec![event], true)
            .await;
        let outcome = results
            .pop()
            .ok_or_else(|| Status::internal("no result for the event"))??;
        Ok(Response::new(pb::SendEventResponse {
            result: Some(event_result(&outcome)),
        }))
    }

    type BulkSendStream = BulkStream;

    async fn bulk_send(
        &self,
        req: Request<Streaming<pb::BulkSendRequest>>,
    ) -> Result<Response<Self::BulkSendStream>, Status> {
        let activities = self.state.coordinator()?.activities.clone();
        let limits = self.state.limits.clone();
        let (pending_tx, pending_rx) = mpsc::channel(4);
        let (out_tx, out_rx) = mpsc::channel(4);
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

    async fn list(
        &self,
        req: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let r = req.into_inner();
        let whose = match r.key.ok_or_else(|| NodeError::missing("key"))? {
            Key::EntityId(id) => Whose::Entity(id),
            Key::Record(rr) => {
                let (s, id) = convert::ref_parts(Some(&rr), "record")?;
                Whose::Record(s, id)
            }
            Key::Identity(i) => {
                if i.kind.is_empty() || i.value.is_empty() {
                    return Err(NodeError::missing("identity.kind and identity.value").into());
                }
                Whose::Identity(i.kind, i.value)
            }
        };
        let filter = EventFilter {
            types: r.types,
            from_ms: r.from_ms,
            to_ms: r.to_ms,
            page_size: match r.page_size {
                0 => 100,
                n => n.min(1000) as usize,
            },
            token: r.page_token,
        };
        let page = self
            .state
            .coordinator()?
            .activities
            .list(whose, &filter)
            .await?;
        Ok(Response::new(pb::ListEventsResponse {
            entity_id: page.entity,
            events: page.events,
            next_page_token: page.next,
        }))
    }
}

fn event_result(o: &EventOutcome) -> pb::EventResult {
    let (source, record_id) = crate::engine::resolver::split_key(&o.key);
    pb::EventResult {
        record: Some(pb::RecordRef {
            source: source.into(),
            record_id: record_id.into(),
        }),
        event_id: o.event_id.clone(),
        duplicate: o.duplicate,
        entity_id: o.entity,
        record_written: o.record_written,
    }
}

fn event_error(e: &pb::Event, err: &NodeError) -> pb::EventError {
    let (field, value) = err.field_value();
    pb::EventError {
        record: Some(pb::RecordRef {
            source: e.source.clone(),
            record_id: e.record_id.clone(),
        }),
        event_id: e.event_id.clone(),
        code: err.code() as i32,
        field,
        value,
        message: err.to_string(),
    }
}

/// An event of a bulk batch: its index in the stream, its key fields (for
/// error results) and the error it was rejected with before sending.
type Slot = (u64, pb::Event, Option<NodeError>);

type PendingBatch = (Vec<Slot>, JoinHandle<Vec<Result<EventOutcome, NodeError>>>);

/// Reads the stream's batches and starts storing each. Batches without
/// identifying fields run concurrently (events commute); a batch that
/// writes records waits for the batches before it and holds back those
/// after it, so identities of one stream apply in stream order.
async fn read_batches(
    mut input: Streaming<pb::BulkSendRequest>,
    activities: Activities,
    limits: Limits,
    pending: mpsc::Sender<PendingBatch>,
    out: mpsc::Sender<Result<pb::BulkSendResponse, Status>>,
) {
    let order = Arc::new(RwLock::new(()));
    let mut index: u64 = 0;
    while let Some(batch) = input.next().await {
        let batch = match batch {
            Ok(b) if b.events.len() > limits.max_batch_records => Err(NodeError::TooLarge {
                what: "bulk batch (events)".into(),
                size: b.events.len(),
                limit: limits.max_batch_records,
            }
            .into()),
            other => other,
        };
        let batch = match batch {
            Ok(b) => b,
            Err(s) => {
                let _ = out.send(Err(s)).await;
                return;
            }
        };
        let (slots, good) = admit(batch.events, &limits, &mut index);
        let writes_records = good.iter().any(|e| e.identity.is_some());
        let a = activities.clone();
        let order = order.clone();
        let guard = if writes_records {
            Guard::Write(order.write_owned().await)
        } else {
            Guard::Read(order.read_owned().await)
        };
        let task = observe::rpc::spawn(async move {
            let r = a.send(good, false).await;
            drop(guard);
            r
        });
        if pending.send((slots, task)).await.is_err() {
            return;
        }
    }
}

/// Holds a batch's place in the stream order while it runs.
enum Guard {
    Read(#[allow(dead_code)] tokio::sync::OwnedRwLockReadGuard<()>),
    Write(#[allow(dead_code)] tokio::sync::OwnedRwLockWriteGuard<()>),
}

/// Numbers a batch's events; oversized ones get an error slot.
fn admit(events: Vec<pb::Event>, limits: &Limits, index: &mut u64) -> (Vec<Slot>, Vec<pb::Event>) {
    let mut slots = Vec::with_capacity(events.len());
    let mut good = Vec::with_capacity(events.len());
    for e in events {
        let head = pb::Event {
            source: e.source.clone(),
            record_id: e.record_id.clone(),
            event_id: e.event_id.clone(),
            ..Default::default()
        };
        match check_size(limits, &e) {
            Ok(()) => {
                slots.push((*index, head, None));
                good.push(e);
            }
            Err(err) => slots.push((*index, head, Some(err))),
        }
        *index += 1;
    }
    (slots, good)
}

/// Awaits each batch's results in stream order and sends them.
async fn respond_in_order(
    mut pending: mpsc::Receiver<PendingBatch>,
    out: mpsc::Sender<Result<pb::BulkSendResponse, Status>>,
) {
    while let Some((slots, task)) = pending.recv().await {
        let results = match task.await {
            Ok(r) => r,
            Err(e) => {
                let _ = out
                    .send(Err(Status::internal(format!("storing a batch: {e}"))))
                    .await;
                return;
            }
        };
        let mut results = results.into_iter();
        let items = slots
            .into_iter()
            .map(|(index, head, rejected)| {
                let res = match rejected {
                    Some(e) => Err(e),
                    None => results
                        .next()
                        .unwrap_or_else(|| Err(NodeError::Unavailable("missing result".into()))),
                };
                pb::BulkEventResult {
                    index,
                    outcome: Some(match res {
                        Ok(o) => pb::bulk_event_result::Outcome::Ok(event_result(&o)),
                        Err(e) => pb::bulk_event_result::Outcome::Error(event_error(&head, &e)),
                    }),
                }
            })
            .collect();
        if out
            .send(Ok(pb::BulkSendResponse { results: items }))
            .await
            .is_err()
        {
            return;
        }
    }
}
