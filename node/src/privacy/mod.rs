//! Privacy by design: consent, retention, and the keys that keep personal
//! data unreadable at rest.
//!
//! - [`consent`]: per record and purpose decisions, combined on the profile
//!   by a rule that never widens them;
//! - [`retention`]: how long a record may go unobserved;
//! - [`keyring`]: the master key file (key-encryption keys and the lookup
//!   secret), per-record data keys and their wrapping, AES-256-GCM sealing;
//! - [`suppression`]: erased people's identifiers as keyed hashes, refused
//!   at import.
//!
//! Every personal value a partition writes is sealed under its record's own
//! data key, which is itself wrapped under the master key; destroying the
//! data key makes every copy of the value unreadable (crypto-shredding).
//! Hashes that must stay comparable on disk (blocking keys, lookups) are
//! keyed with a secret derived from the key file, so a dictionary of known
//! emails cannot be run against them.

pub mod consent;
pub mod keyring;
pub mod retention;
pub mod suppression;

pub use consent::PrivacyConfig;
pub use keyring::{DataKey, KeyError, Keyring};
pub use suppression::Suppressions;

use std::sync::Arc;

use crate::config::NodeConfig;
use crate::storage::AtRest;

/// How this node keeps personal data at rest, from its configuration:
/// its key file read (a standalone node without one creates
/// `DATA/master.key`, and says that it belongs elsewhere), or plaintext
/// when asked (benchmarks).
pub fn at_rest(cfg: &NodeConfig) -> Result<AtRest, KeyError> {
    if cfg.plaintext_at_rest {
        tracing::warn!("personal data is kept in PLAINTEXT on disk (--plaintext-at-rest)");
        return Ok(AtRest::Plaintext);
    }
    let ring = match &cfg.master_key_file {
        Some(p) => Keyring::load(p)?,
        None => {
            let p = keyring::default_key_path(&cfg.data_dir);
            let (ring, created) = Keyring::load_or_create(&p)?;
            tracing::warn!(
                path = %p.display(),
                created,
                "the master key lives in the data directory: whoever copies the directory \
                 can read it; keep the key elsewhere (--master-key-file)"
            );
            ring
        }
    };
    tracing::info!(master_key = %ring.active_id(), "personal data is encrypted at rest");
    Ok(AtRest::Sealed(Arc::new(ring)))
}
