//! Security settings of a node: TLS for each listener, credentials and
//! their roles, the audit log's retention. Part of [`crate::config::NodeConfig`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::roles::Role;

/// TLS of the public listener.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublicTls {
    /// PEM certificate chain; with `key`, the public API speaks TLS.
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// PEM CA bundle: clients may then authenticate with a certificate it
    /// signed (mapped to a role by `auth.certificates`).
    pub client_ca: Option<PathBuf>,
}

/// Mutual TLS of the node-to-node listener and of this node's calls to
/// its peers (the same certificate serves both ways).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InternalTls {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The cluster CA: peers must present a certificate it signed.
    pub ca: Option<PathBuf>,
    /// Names (subject CN or DNS SAN) a peer certificate must carry one of.
    pub allowed_names: Vec<String>,
}

impl InternalTls {
    /// True when node-to-node traffic is mutual TLS.
    pub fn enabled(&self) -> bool {
        self.cert.is_some()
    }
}

/// A bearer token: only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds it (written to the audit log).
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the token (`kindred-node token` prints one).
    pub sha256: String,
}

/// A client certificate name and the role it grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateEntry {
    /// Subject common name or DNS SAN of the client certificate.
    pub name: String,
    pub role: Role,
}

/// Who may call the public API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub tokens: Vec<TokenEntry>,
    /// A file of `NAME ROLE SHA256` lines (e.g. a mounted Kubernetes
    /// Secret), read at start in addition to `tokens`.
    pub tokens_file: Option<PathBuf>,
    pub certificates: Vec<CertificateEntry>,
    /// The role of callers without credentials. Unset: none, except on a
    /// loopback-only node with no credentials configured (a laptop),
    /// where anonymous callers are admin and the log says so.
    pub anonymous_role: Option<Role>,
}

/// The audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Entries older than this are deleted.
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention_days: 365,
        }
    }
}

/// Everything security-related in the node configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    pub tls: PublicTls,
    pub internal_tls: InternalTls,
    pub auth: AuthConfig,
    pub audit: AuditConfig,
    /// Allow node-to-node traffic in plaintext on a non-loopback address
    /// (refused by default: that port moves customer data).
    pub allow_plaintext_internal: bool,
}
