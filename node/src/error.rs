//! Node errors and their gRPC status codes.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::engine::store::StoreError;
use crate::engine::EngineError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("invalid argument: {field} = {value:?}: {reason}")]
    InvalidArgument {
        field: String,
        value: String,
        reason: String,
    },
    /// Something with this key exists already, with other content.
    #[error("already exists: {field} = {value:?}: {reason}")]
    AlreadyExists {
        field: String,
        value: String,
        reason: String,
    },
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        what: String,
        size: usize,
        limit: usize,
    },
    #[error("node unavailable: {0}")]
    Unavailable(String),
    /// The record holds an identifier of a person who was erased.
    #[error(
        "suppressed: the record's {kind} belongs to a person erased by erasure {erasure}; \
         the privacy role can lift the suppression (kindred privacy lift)"
    )]
    Suppressed { kind: String, erasure: u64 },
    /// The request cannot be carried out in the cluster's current state.
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("training failed: {0}")]
    Training(String),
    /// This node does not own the partition (it moved, or the caller's
    /// partition map is stale): refresh the map and retry.
    #[error("partition {partition} is not owned by this node (map epoch {epoch})")]
    NotOwner { partition: u32, epoch: u64 },
    /// An error raised on another node, with its gRPC code.
    #[error("{message}")]
    Remote {
        code: i32,
        message: String,
        field: String,
        value: String,
    },
}

impl NodeError {
    /// A missing required field.
    pub fn missing(field: &str) -> Self {
        NodeError::InvalidArgument {
            field: field.into(),
            value: String::new(),
            reason: "is required".into(),
        }
    }

    /// A field whose value is refused, with the reason (the value is cut
    /// to 64 characters).
    pub fn invalid(field: &str, value: impl ToString, reason: impl Into<String>) -> Self {
        NodeError::InvalidArgument {
            field: field.into(),
            value: value.to_string().chars().take(64).collect(),
            reason: reason.into(),
        }
    }

    /// An equal error, as it would arrive from another node (errors are
    /// not `Clone`: they may wrap I/O errors).
    pub fn copied(&self) -> NodeError {
        NodeError::from(crate::partition::request::WireError::from(self))
    }

    /// True for errors that a retry after a short wait may fix: the
    /// partition moved, or its node is restarting or unreachable.
    pub fn is_transient(&self) -> bool {
        matches!(self.code(), Code::Unavailable | Code::Aborted)
    }

    /// The gRPC status code for this error.
    pub fn code(&self) -> Code {
        match self {
            NodeError::Engine(EngineError::InvalidRecord { .. })
            | NodeError::InvalidArgument { .. } => Code::InvalidArgument,
            NodeError::Engine(EngineError::Model(_)) => Code::InvalidArgument,
            NodeError::Engine(
                EngineError::RecordNotFound(_)
                | EngineError::EntityNotFound(_)
                | EngineError::IdentityNotFound { .. },
            ) => Code::NotFound,
            NodeError::Engine(EngineError::Store(StoreError::Corrupt(_))) => Code::DataLoss,
            NodeError::Engine(EngineError::Store(StoreError::Io(_))) => Code::Internal,
            NodeError::TooLarge { .. } => Code::ResourceExhausted,
            NodeError::AlreadyExists { .. } => Code::AlreadyExists,
            NodeError::Unavailable(_) => Code::Unavailable,
            NodeError::Training(_)
            | NodeError::Suppressed { .. }
            | NodeError::FailedPrecondition(_) => Code::FailedPrecondition,
            NodeError::NotOwner { .. } => Code::Aborted,
            NodeError::Remote { code, .. } => Code::from_i32(*code),
        }
    }

    /// (field, value) named by the error, for per-record error results.
    pub fn field_value(&self) -> (String, String) {
        match self {
            NodeError::Engine(EngineError::InvalidRecord { field, value, .. })
            | NodeError::InvalidArgument { field, value, .. }
            | NodeError::AlreadyExists { field, value, .. }
            | NodeError::Remote { field, value, .. } => (field.clone(), value.clone()),
            NodeError::TooLarge { what, size, .. } => {
                ("record".into(), format!("{what} ({size} bytes)"))
            }
            NodeError::Suppressed { kind, .. } => (kind.clone(), String::new()),
            _ => (String::new(), String::new()),
        }
    }
}

impl From<NodeError> for Status {
    /// The code and the message; an error about one field of the input
    /// also carries it as a `google.rpc.BadRequest` field violation
    /// (field path, and the value with the reason as its description), so
    /// that a program can point at the field without parsing the message.
    fn from(e: NodeError) -> Status {
        let code = e.code();
        let message = e.to_string();
        let (field, value) = e.field_value();
        if code == Code::InvalidArgument && !field.is_empty() {
            let reason = match &e {
                NodeError::Engine(EngineError::InvalidRecord { reason, .. })
                | NodeError::InvalidArgument { reason, .. } => reason.clone(),
                _ => message.clone(),
            };
            let description = if value.is_empty() {
                reason
            } else {
                format!("{value:?}: {reason}")
            };
            let details = ErrorDetails::with_bad_request_violation(field, description);
            return Status::with_error_details(code, message, details);
        }
        Status::new(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_carries_a_bad_request_violation_naming_field_and_value() {
        let e = NodeError::InvalidArgument {
            field: "records[3].emails[0]".into(),
            value: "ann@".into(),
            reason: "invalid email: no domain".into(),
        };
        let status = Status::from(e);
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad = status
            .get_details_bad_request()
            .expect("a BadRequest detail");
        assert_eq!(bad.field_violations.len(), 1);
        assert_eq!(bad.field_violations[0].field, "records[3].emails[0]");
        assert_eq!(
            bad.field_violations[0].description,
            "\"ann@\": invalid email: no domain"
        );
    }

    #[test]
    fn other_errors_carry_no_details() {
        let status = Status::from(NodeError::Unavailable("restarting".into()));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.get_details_bad_request().is_none());
        assert!(status.details().is_empty());
    }
}
