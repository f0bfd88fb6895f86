//! Credentials: who a caller is and which role they hold.
//!
//! A caller proves who they are with a bearer token (compared by its
//! SHA-256: the configuration never holds a token itself) or with a
//! client certificate the listener verified. Without either, the caller
//! is anonymous and gets the anonymous role, if there is one.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::roles::Role;
use super::settings::{AuthConfig, TokenEntry};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's or certificate's name, or `anonymous`.
    pub name: String,
    pub role: Role,
}

/// Why a caller could not be authenticated. Deliberately terse: a caller
/// learns nothing about which tokens or names exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("credentials required")]
    Missing,
    #[error("invalid credentials")]
    Invalid,
}

/// Problems in the configured credentials, naming the entry.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("token {name:?}: sha256 must be 64 hex digits")]
    BadHash { name: String },
    #[error("tokens file {path}: {reason}")]
    File { path: String, reason: String },
}

/// The credentials a node accepts.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    tokens: HashMap<[u8; 32], Caller>,
    certificates: HashMap<String, Role>,
    anonymous: Option<Role>,
}

/// Hex SHA-256 of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A new random bearer token: 32 bytes from the OS, hex-encoded.
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("kdt_{}", hex(&bytes))
}

/// Lower-case hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Parses a tokens file: `NAME ROLE SHA256` per line; `#` comments.
pub fn read_tokens_file(path: &Path) -> Result<Vec<TokenEntry>, CredentialsError> {
    let file_err = |reason: String| CredentialsError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [name, role, sha256] = parts[..] else {
            return Err(file_err(format!(
                "line {}: expected NAME ROLE SHA256",
                n + 1
            )));
        };
        let role = role
            .parse::<Role>()
            .map_err(|e| file_err(format!("line {}: {e}", n + 1)))?;
        out.push(TokenEntry {
            name: name.into(),
            role,
            sha256: sha256.into(),
        });
    }
    Ok(out)
}

impl Credentials {
    /// Builds the table from the configuration. `loopback_only` says the
    /// public listener cannot be reached from another host.
    pub fn from_config(cfg: &AuthConfig, loopback_only: bool) -> Result<Self, CredentialsError> {
        let mut entries = cfg.tokens.clone();
        if let Some(p) = &cfg.tokens_file {
            entries.extend(read_tokens_file(p)?);
        }
        let mut tokens = HashMap::new();
        for t in entries {
            let hash = unhex(&t.sha256).ok_or_else(|| CredentialsError::BadHash {
                name: t.name.clone(),
            })?;
            tokens.insert(
                hash,
                Caller {
                    name: t.name,
                    role: t.role,
                },
            );
        }
        let certificates: HashMap<String, Role> = cfg
            .certificates
            .iter()
            .map(|c| (c.name.clone(), c.role))
            .collect();
        let none_configured = tokens.is_empty() && certificates.is_empty();
        let anonymous = cfg
            .anonymous_role
            .or((none_configured && loopback_only).then_some(Role::Admin));
        Ok(Credentials {
            tokens,
            certificates,
            anonymous,
        })
    }

    /// The role of callers without credentials.
    pub fn anonymous_role(&self) -> Option<Role> {
        self.anonymous
    }

    /// True if no token or certificate is configured.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.certificates.is_empty()
    }

    /// Identifies a caller from a bearer token, else from the names of a
    /// verified client certificate, else as anonymous.
    pub fn authenticate(
        &self,
        token: Option<&str>,
        cert_names: &[String],
    ) -> Result<Caller, AuthError> {
        if let Some(t) = token {
            let digest: [u8; 32] = Sha256::digest(t.as_bytes()).into();
            return self.tokens.get(&digest).cloned().ok_or(AuthError::Invalid);
        }
        if let Some((name, role)) = cert_names
            .iter()
            .find_map(|n| self.certificates.get(n).map(|r| (n, *r)))
        {
            return Ok(Caller {
                name: format!("cert:{name}"),
                role,
            });
        }
        match self.anonymous {
            Some(role) => Ok(Caller {
                name: "anonymous".into(),
                role,
            }),
            None if cert_names.is_empty() => Err(AuthError::Missing),
            None => Err(AuthError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::settings::CertificateEntry;

    fn config() -> AuthConfig {
        AuthConfig {
            tokens: vec![TokenEntry {
                name: "ci".into(),
                role: Role::Writer,
                sha256: token_hash("s3cret"),
            }],
            certificates: vec![CertificateEntry {
                name: "ops".into(),
                role: Role::Admin,
            }],
            ..AuthConfig::default()
        }
    }

    #[test]
    fn a_token_is_recognised_by_its_hash_and_a_wrong_one_is_invalid() {
        let c = Credentials::from_config(&config(), false).unwrap();
        let caller = c.authenticate(Some("s3cret"), &[]).unwrap();
        assert_eq!((caller.name.as_str(), caller.role), ("ci", Role::Writer));
        assert_eq!(c.authenticate(Some("guess"), &[]), Err(AuthError::Invalid));
        assert_eq!(c.authenticate(None, &[]), Err(AuthError::Missing));
    }

    #[test]
    fn a_certificate_name_grants_its_role_and_an_unknown_name_none() {
        let c = Credentials::from_config(&config(), false).unwrap();
        assert_eq!(
            c.authenticate(None, &["ops".into()]).unwrap().role,
            Role::Admin
        );
        assert_eq!(
            c.authenticate(None, &["eve".into()]),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn anonymous_access_only_on_an_unconfigured_loopback_node_or_when_asked() {
        let empty = AuthConfig::default();
        let laptop = Credentials::from_config(&empty, true).unwrap();
        assert_eq!(laptop.authenticate(None, &[]).unwrap().role, Role::Admin);
        let exposed = Credentials::from_config(&empty, false).unwrap();
        assert_eq!(exposed.authenticate(None, &[]), Err(AuthError::Missing));
        let configured = Credentials::from_config(&config(), true).unwrap();
        assert_eq!(configured.authenticate(None, &[]), Err(AuthError::Missing));
        let asked = AuthConfig {
            anonymous_role: Some(Role::Reader),
            ..config()
        };
        let c = Credentials::from_config(&asked, false).unwrap();
        assert_eq!(c.authenticate(None, &[]).unwrap().role, Role::Reader);
    }

    #[test]
    fn tokens_files_are_parsed_and_bad_lines_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tokens");
        std::fs::write(&p, format!("# ops\nbot reader {}\n", token_hash("x"))).unwrap();
        let t = read_tokens_file(&p).unwrap();
        assert_eq!((t[0].name.as_str(), t[0].role), ("bot", Role::Reader));
        std::fs::write(&p, "bot superuser abc\n").unwrap();
        let e = read_tokens_file(&p).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("superuser"), "{e}");
        let bad = AuthConfig {
            tokens: vec![TokenEntry {
                name: "x".into(),
                role: Role::Reader,
                sha256: "zz".into(),
            }],
            ..AuthConfig::default()
        };
        assert!(Credentials::from_config(&bad, false).is_err());
    }
}
