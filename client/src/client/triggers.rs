//! The client's calls of the `Triggers` service.

use kindred_proto::v1::triggers_client::TriggersClient;
use kindred_proto::v1::{
    Trigger, TriggersCreateRequest, TriggersDeleteRequest, TriggersListRequest,
    TriggersUpdateRequest,
};
use tonic::transport::Channel;

use super::{missing, AuthChannel, Client, MAX_MESSAGE_BYTES};
use crate::ClientError;

impl Client {
    fn triggers(&self, ch: Channel) -> TriggersClient<AuthChannel> {
        TriggersClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// Defines a trigger; ALREADY_EXISTS if its name is taken.
    pub async fn create_trigger(&self, trigger: Trigger) -> Result<Trigger, ClientError> {
        let r = self
            .unary(|ch| {
                let req = TriggersCreateRequest {
                    trigger: Some(trigger.clone()),
                };
                async move { self.triggers(ch).create(self.request(req)).await }
            })
            .await?;
        r.trigger
            .ok_or_else(|| missing("TriggersCreateResponse.trigger"))
    }

    /// Replaces a trigger's definition (only at `expected_version` unless 0).
    pub async fn update_trigger(
        &self,
        trigger: Trigger,
        expected_version: u64,
    ) -> Result<Trigger, ClientError> {
        let r = self
            .unary(|ch| {
                let req = TriggersUpdateRequest {
                    trigger: Some(trigger.clone()),
                    expected_version,
                };
                async move { self.triggers(ch).update(self.request(req)).await }
            })
            .await?;
        r.trigger
            .ok_or_else(|| missing("TriggersUpdateResponse.trigger"))
    }

    /// Deletes a trigger defined through the API.
    pub async fn delete_trigger(&self, name: &str) -> Result<(), ClientError> {
        self.unary(|ch| {
            let req = TriggersDeleteRequest { name: name.into() };
            async move { self.triggers(ch).delete(self.request(req)).await }
        })
        .await
        .map(|_| ())
    }

    /// Every trigger in force.
    pub async fn list_triggers(&self) -> Result<Vec<Trigger>, ClientError> {
        self.unary(|ch| async move {
            self.triggers(ch)
                .list(self.request(TriggersListRequest {}))
                .await
        })
        .await
        .map(|r| r.triggers)
    }
}
