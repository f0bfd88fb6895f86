//! Client errors and the process exit codes they map to.
//!
//! Every failure of a [`crate::Client`] call is a [`ClientError`]; the CLI
//! turns it into a message (`error: ...` on stderr) and an exit code from
//! [`exit`].

use std::error::Error as _;

use tonic::Code;

pub use kindred_proto::status::code_name;

/// Exit codes of the `kindred` CLI.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A server or connection error.
    pub const SERVER: u8 = 1;
    /// Invalid input: bad arguments, a bad mapping file, `INVALID_ARGUMENT`.
    pub const INVALID_INPUT: u8 = 2;
    /// The record, entity or profile does not exist.
    pub const NOT_FOUND: u8 = 3;
    /// An import finished, but some rows were rejected.
    pub const REJECTED_ROWS: u8 = 4;
}

/// Why a client call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// No endpoint could be reached.
    #[error("cannot connect to {endpoints}: {reason}")]
    Connect {
        /// The endpoints tried, comma-separated.
        endpoints: String,
        /// The last connection error.
        reason: String,
    },
    /// The server (or the transport) answered with a gRPC status.
    #[error("{}: {message}", code_name(*code))]
    Status {
        /// The gRPC status code.
        code: Code,
        /// The server's message (it names the field and value for
        /// `INVALID_ARGUMENT`).
        message: String,
    },
    /// The caller's input is invalid; nothing was sent.
    #[error("{0}")]
    InvalidInput(String),
}

impl ClientError {
    /// The CLI exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Connect { .. } => exit::SERVER,
            ClientError::InvalidInput(_) => exit::INVALID_INPUT,
            ClientError::Status { code, .. } => match code {
                Code::NotFound => exit::NOT_FOUND,
                // RESOURCE_EXHAUSTED means the input is over the size limits.
                Code::InvalidArgument | Code::OutOfRange | Code::ResourceExhausted => {
                    exit::INVALID_INPUT
                }
                _ => exit::SERVER,
            },
        }
    }

    /// The gRPC status code, if the error is a status.
    pub fn code(&self) -> Option<Code> {
        match self {
            ClientError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        let mut message = status.message().to_string();
        // Transport failures carry their cause as the error source.
        let mut source = status.source();
        while let Some(s) = source {
            let s_text = s.to_string();
            if !s_text.is_empty() && !message.contains(&s_text) {
                if message.is_empty() {
                    message = s_text;
                } else {
                    message = format!("{message}: {s_text}");
                }
            }
            source = s.source();
        }
        if message.is_empty() {
            message = status.code().description().to_string();
        }
        // A fault of the server: name the request, so that its operator
        // can find the call in the node's log.
        let server_fault = matches!(
            status.code(),
            Code::Internal | Code::Unknown | Code::DataLoss | Code::Unavailable
        );
        if let Some(id) = status
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|_| server_fault)
        {
            message = format!("{message} (request id {id})");
        }
        ClientError::Status {
            code: status.code(),
            message,
        }
    }
}

/// The canonical name of a gRPC status code given as a number (as in
/// `RecordError.code`); `CODE_<n>` for unknown numbers.
pub fn code_number_name(code: i32) -> String {
    match Code::from_i32(code) {
        Code::Unknown if code != Code::Unknown as i32 => format!("CODE_{code}"),
        c => code_name(c).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_map_to_exit_codes() {
        let st = |code| ClientError::from(tonic::Status::new(code, "m"));
        assert_eq!(st(Code::NotFound).exit_code(), 3);
        assert_eq!(st(Code::InvalidArgument).exit_code(), 2);
        assert_eq!(st(Code::ResourceExhausted).exit_code(), 2);
        assert_eq!(st(Code::Unavailable).exit_code(), 1);
        assert_eq!(st(Code::Internal).exit_code(), 1);
        assert_eq!(st(Code::DeadlineExceeded).exit_code(), 1);
        assert_eq!(ClientError::InvalidInput("x".into()).exit_code(), 2);
        let c = ClientError::Connect {
            endpoints: "http://a".into(),
            reason: "refused".into(),
        };
        assert_eq!(c.exit_code(), 1);
    }

    #[test]
    fn status_display_names_the_code_and_keeps_the_message() {
        let e = ClientError::from(tonic::Status::invalid_argument(
            "email: \"x@\" is not an email address",
        ));
        assert_eq!(
            e.to_string(),
            "INVALID_ARGUMENT: email: \"x@\" is not an email address"
        );
        assert_eq!(e.code(), Some(Code::InvalidArgument));
    }

    #[test]
    fn a_server_fault_names_its_request_id_and_a_refusal_does_not() {
        let with_id = |code| {
            let mut st = tonic::Status::new(code, "m");
            st.metadata_mut()
                .insert("x-request-id", "0123abcd".parse().unwrap());
            ClientError::from(st).to_string()
        };
        assert_eq!(with_id(Code::Internal), "INTERNAL: m (request id 0123abcd)");
        assert_eq!(with_id(Code::NotFound), "NOT_FOUND: m");
    }

    #[test]
    fn empty_status_message_gets_the_code_description() {
        let e = ClientError::from(tonic::Status::new(Code::Internal, ""));
        assert!(e.to_string().starts_with("INTERNAL: "), "{e}");
        assert!(e.to_string().len() > "INTERNAL: ".len());
    }

    #[test]
    fn numeric_codes_have_names() {
        assert_eq!(code_number_name(3), "INVALID_ARGUMENT");
        assert_eq!(code_number_name(2), "UNKNOWN");
        assert_eq!(code_number_name(99), "CODE_99");
    }
}
