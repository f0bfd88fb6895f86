//! The client's calls of the `Events` and `Traits` services.

use futures::Stream;
use kindred_proto::v1::events_client::EventsClient;
use kindred_proto::v1::traits_client::TraitsClient;
use kindred_proto::v1::{
    BulkSendRequest, BulkSendResponse, ComputeRfmRequest, DefineTraitRequest, DeleteTraitRequest,
    Event, EventResult, GetRfmRequest, ListEventsRequest, ListEventsResponse, ListTraitsRequest,
    ListTraitsResponse, RfmCuts, SendEventRequest, TraitDefinition,
};
use tonic::transport::Channel;
use tonic::Streaming;

use super::{missing, AuthChannel, Client, MAX_MESSAGE_BYTES};
use crate::ClientError;

impl Client {
    fn events(&self, ch: Channel) -> EventsClient<AuthChannel> {
        EventsClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn traits(&self, ch: Channel) -> TraitsClient<AuthChannel> {
        TraitsClient::new(self.authed(ch)).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// Stores one event (idempotent on source, record id and event id).
    pub async fn send_event(&self, event: Event) -> Result<EventResult, ClientError> {
        let resp = self
            .unary(|ch| {
                let req = SendEventRequest {
                    event: Some(event.clone()),
                };
                async move { self.events(ch).send(self.request(req)).await }
            })
            .await?;
        resp.result
            .ok_or_else(|| missing("SendEventResponse.result"))
    }

    /// Streams batches of events; the answer is a stream of per-batch
    /// results. Fails over only while connecting, as `bulk_upsert` does.
    pub async fn bulk_send<S>(&self, batches: S) -> Result<Streaming<BulkSendResponse>, ClientError>
    where
        S: Stream<Item = BulkSendRequest> + Send + 'static,
    {
        let channel = self.stream_channel().await?;
        let resp = self.events(channel).bulk_send(batches).await?;
        Ok(resp.into_inner())
    }

    /// A page of a customer's events, newest first.
    pub async fn list_events(
        &self,
        req: ListEventsRequest,
    ) -> Result<ListEventsResponse, ClientError> {
        self.unary(|ch| {
            let req = req.clone();
            async move { self.events(ch).list(self.request(req)).await }
        })
        .await
    }

    /// Defines (or replaces) a trait.
    pub async fn define_trait(&self, def: TraitDefinition) -> Result<TraitDefinition, ClientError> {
        self.unary(|ch| {
            let req = DefineTraitRequest {
                r#trait: Some(def.clone()),
            };
            async move { self.traits(ch).define(self.request(req)).await }
        })
        .await
    }

    /// Every trait profiles carry.
    pub async fn list_traits(&self) -> Result<ListTraitsResponse, ClientError> {
        self.unary(|ch| async move {
            self.traits(ch)
                .list(self.request(ListTraitsRequest {}))
                .await
        })
        .await
    }

    /// Deletes a trait defined through the API.
    pub async fn delete_trait(&self, name: &str) -> Result<(), ClientError> {
        self.unary(|ch| {
            let req = DeleteTraitRequest { name: name.into() };
            async move { self.traits(ch).delete(self.request(req)).await }
        })
        .await
        .map(|_| ())
    }

    /// Computes and publishes the RFM cut points (not bounded by the call
    /// timeout: it reads every customer's orders).
    pub async fn compute_rfm(&self) -> Result<RfmCuts, ClientError> {
        self.failover(None, |ch| async move {
            self.traits(ch).compute_rfm(ComputeRfmRequest {}).await
        })
        .await
    }

    /// The published RFM cut points.
    pub async fn rfm(&self) -> Result<RfmCuts, ClientError> {
        self.unary(|ch| async move {
            self.traits(ch)
                .get_rfm(self.request(GetRfmRequest {}))
                .await
        })
        .await
    }
}
