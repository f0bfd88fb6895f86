//! Security of a node: TLS on both listeners (mutual between nodes),
//! caller authentication and roles, the audit log, development
//! certificates.
//!
//! - [`settings`]: the configuration sections (`[tls]`, `[internal_tls]`,
//!   `[auth]`, `[audit]`).
//! - [`tls`]: certificate loading and reloading, the accepting side of TLS.
//! - [`auth`], [`roles`]: who a caller is; what each RPC requires.
//! - [`gate`]: the tower layer that enforces both on the public services.
//! - [`audit`]: the durable log of admin actions and denied calls.
//! - [`certs`]: a development CA and certificates (`kindred-node dev-certs`).

pub mod audit;
pub mod auth;
pub mod certs;
pub mod gate;
pub mod roles;
pub mod settings;
pub mod tls;
