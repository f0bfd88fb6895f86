//! The client's calls of the `Segments` service.

use kindred_proto::v1::segments_client::SegmentsClient;
use kindred_proto::v1::{
    Segment, SegmentsCreateRequest, SegmentsDeleteRequest, SegmentsExportRequest,
    SegmentsExportResponse, SegmentsGetRequest, SegmentsGetResponse, SegmentsListRequest,
    SegmentsMembersRequest, SegmentsMembersResponse, SegmentsUpdateRequest,
    SegmentsValidateRequest, SegmentsValidateResponse, SegmentsWatchRequest, SegmentsWatchResponse,
};
use tonic::transport::Channel;
use tonic::Streaming;

use super::{missing, AuthChannel, Client, MAX_MESSAGE_BYTES};
use crate::ClientError;

impl Client {
    fn segments(&self, ch: Channel) -> SegmentsClient<AuthChannel> {
        SegmentsClient::new(self.authed(ch))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// Defines a segment; ALREADY_EXISTS if its name is taken.
    pub async fn create_segment(&self, segment: Segment) -> Result<Segment, ClientError> {
        let r = self
            .unary(|ch| {
                let req = SegmentsCreateRequest {
                    segment: Some(segment.clone()),
                };
                async move { self.segments(ch).create(self.request(req)).await }
            })
            .await?;
        r.segment
            .ok_or_else(|| missing("SegmentsCreateResponse.segment"))
    }

    /// Replaces a segment's definition (only at `expected_version` unless 0).
    pub async fn update_segment(
        &self,
        segment: Segment,
        expected_version: u64,
    ) -> Result<Segment, ClientError> {
        let r = self
            .unary(|ch| {
                let req = SegmentsUpdateRequest {
                    segment: Some(segment.clone()),
                    expected_version,
                };
                async move { self.segments(ch).update(self.request(req)).await }
            })
            .await?;
        r.segment
            .ok_or_else(|| missing("SegmentsUpdateResponse.segment"))
    }

    /// Deletes a segment defined through the API.
    pub async fn delete_segment(&self, name: &str) -> Result<(), ClientError> {
        self.unary(|ch| {
            let req = SegmentsDeleteRequest { name: name.into() };
            async move { self.segments(ch).delete(self.request(req)).await }
        })
        .await
        .map(|_| ())
    }

    /// Every segment in force.
    pub async fn list_segments(&self) -> Result<Vec<Segment>, ClientError> {
        self.unary(|ch| async move {
            self.segments(ch)
                .list(self.request(SegmentsListRequest {}))
                .await
        })
        .await
        .map(|r| r.segments)
    }

    /// One segment, with its size.
    pub async fn get_segment(&self, name: &str) -> Result<SegmentsGetResponse, ClientError> {
        self.unary(|ch| {
            let req = SegmentsGetRequest { name: name.into() };
            async move { self.segments(ch).get(self.request(req)).await }
        })
        .await
    }

    /// A page of a segment's members.
    pub async fn segment_members(
        &self,
        name: &str,
        page_size: u32,
        page_token: &str,
    ) -> Result<SegmentsMembersResponse, ClientError> {
        self.unary(|ch| {
            let req = SegmentsMembersRequest {
                name: name.into(),
                page_size,
                page_token: page_token.into(),
            };
            async move { self.segments(ch).members(self.request(req)).await }
        })
        .await
    }

    /// Follows the change feed of segments from a cursor ("now", "start"
    /// or one received): every change and firing when no segment is named.
    pub async fn watch_segments(
        &self,
        segments: &[String],
        cursor: &str,
    ) -> Result<Streaming<SegmentsWatchResponse>, ClientError> {
        self.watch(segments, &[], cursor).await
    }

    /// Follows the change feed from a cursor: the changes of the named
    /// segments and the firings of the named triggers (everything when
    /// both are empty).
    pub async fn watch(
        &self,
        segments: &[String],
        triggers: &[String],
        cursor: &str,
    ) -> Result<Streaming<SegmentsWatchResponse>, ClientError> {
        self.open_stream(|ch| async move {
            self.segments(ch)
                .watch(SegmentsWatchRequest {
                    segments: segments.to_vec(),
                    cursor: cursor.into(),
                    triggers: triggers.to_vec(),
                })
                .await
        })
        .await
    }

    /// Streams the profiles of a segment's members (with a purpose: only
    /// those who granted it).
    pub async fn export_segment(
        &self,
        name: &str,
        purpose: &str,
    ) -> Result<Streaming<SegmentsExportResponse>, ClientError> {
        self.open_stream(|ch| async move {
            self.segments(ch)
                .export(SegmentsExportRequest {
                    name: name.into(),
                    purpose: purpose.into(),
                })
                .await
        })
        .await
    }

    /// Checks a definition against the cluster without storing it.
    pub async fn validate_segment(
        &self,
        segment: Segment,
    ) -> Result<SegmentsValidateResponse, ClientError> {
        self.unary(|ch| {
            let req = SegmentsValidateRequest {
                segment: Some(segment.clone()),
            };
            async move { self.segments(ch).validate(self.request(req)).await }
        })
        .await
    }
}
