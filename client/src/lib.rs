//! Kindred's Rust client library.
//!
//! - [`Client`]: the gRPC API of a Kindred cluster (records, profiles,
//!   explanations, admin, cluster membership and partition placement) with
//!   failover across endpoints.
//! - [`import`]: bulk import of CSV / JSON Lines files through a column
//!   mapping, with per-row rejects.
//! - [`refs`]: parsing of `SOURCE:ID` record references and `KEY=VALUE`
//!   pairs.
//! - [`generate`]: a generator of realistic noisy multi-source test data.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kindred_client::ClientError> {
//! use kindred_client::Client;
//! let client = Client::connect(&["http://127.0.0.1:7000".to_string()]).await?;
//! let profile = client.profile_by_identity("email", "ann@example.com").await?;
//! println!("entity {}", profile.entity_id);
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod error;
pub mod generate;
pub mod import;
pub mod refs;

pub use client::{Client, ClientOptions, TlsOptions};
pub use error::{exit, ClientError};
pub use kindred_proto::v1;
