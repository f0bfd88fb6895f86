//! Suppression: the identifiers of erased people, kept as keyed hashes,
//! so that importing the same person again is refused until a privacy
//! officer lifts the suppression.
//!
//! The list itself is cluster state (the metadata group's
//! `suppressions`); [`Suppressions`] is this node's copy, which the writer
//! checks every record against after standardising it. The hash of an
//! identifier is HMAC-SHA256 under the cluster's lookup secret
//! ([`Keyring::lookup_hash`]) of its kind and standardised value, so the
//! list names no one to whoever reads it without the key file.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use crate::engine::standardize::StdRecord;
use crate::meta::SuppressionEntry;

use super::keyring::lookup_hmac;
use super::Keyring;
use crate::security::auth::hex;

/// One identifier of a record, hashed: (kind, hex of the keyed hash).
pub type Hashed = (String, String);

#[derive(Default)]
struct Inner {
    ring: Option<Arc<Keyring>>,
    /// Hex hash → the erasure that suppressed it.
    entries: Arc<HashMap<String, u64>>,
}

/// This node's copy of the suppression list. Cheap to clone.
#[derive(Clone, Default)]
pub struct Suppressions(Arc<RwLock<Inner>>);

impl Suppressions {
    /// A list hashing with `ring` (none: plaintext at rest, where values are
    /// hashed under an all-zero key, which protects nothing but still
    /// suppresses).
    pub fn new(ring: Option<Arc<Keyring>>) -> Self {
        Suppressions(Arc::new(RwLock::new(Inner {
            ring,
            entries: Arc::default(),
        })))
    }

    /// Hashes with `ring` from now on (a node sets its keyring once, at start).
    pub fn set_ring(&self, ring: Option<Arc<Keyring>>) {
        if let Ok(mut g) = self.0.write() {
            g.ring = ring;
        }
    }

    /// Replaces the list with the cluster's.
    pub fn replace(&self, entries: &BTreeMap<String, SuppressionEntry>) {
        let map = entries
            .iter()
            .map(|(k, v)| (k.clone(), v.erasure))
            .collect();
        if let Ok(mut g) = self.0.write() {
            g.entries = Arc::new(map);
        }
    }

    /// The keyed hash of one identifier, in hex.
    pub fn hash(&self, kind: &str, value: &str) -> String {
        let g = self.0.read().unwrap_or_else(|e| e.into_inner());
        match &g.ring {
            Some(r) => hex(&r.lookup_hash(kind, value)),
            None => hex(&lookup_hmac(
                &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[0u8; 32]),
                kind,
                value,
            )),
        }
    }

    /// Every identifier of a standardised record, hashed.
    pub fn hashes_of(&self, std: &StdRecord) -> Vec<Hashed> {
        let mut out = Vec::new();
        for e in &std.emails {
            out.push(("email".to_string(), self.hash("email", e)));
        }
        for p in &std.phones {
            out.push(("phone".to_string(), self.hash("phone", p)));
        }
        for (k, v) in &std.identifiers {
            let kind = format!("identifier:{k}");
            let h = self.hash(&kind, v);
            out.push((kind, h));
        }
        out
    }

    /// The first suppressed identifier of a record: (its kind, the erasure).
    pub fn check(&self, std: &StdRecord) -> Option<(String, u64)> {
        let entries = {
            let g = self.0.read().unwrap_or_else(|e| e.into_inner());
            if g.entries.is_empty() {
                return None;
            }
            g.entries.clone()
        };
        self.hashes_of(std)
            .into_iter()
            .find_map(|(kind, h)| entries.get(&h).map(|e| (kind, *e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std(email: &str, id: (&str, &str)) -> StdRecord {
        StdRecord {
            emails: vec![email.into()],
            identifiers: vec![(id.0.into(), id.1.into())],
            ..StdRecord::default()
        }
    }

    #[test]
    fn a_suppressed_identifier_is_found_by_its_hash_only() {
        let s = Suppressions::new(Some(Arc::new(Keyring::ephemeral())));
        let erased = std("erin@example.org", ("loyalty_id", "LY1"));
        assert_eq!(s.check(&erased), None, "nothing suppressed yet");
        let entries: BTreeMap<String, SuppressionEntry> = s
            .hashes_of(&erased)
            .into_iter()
            .map(|(kind, h)| {
                assert!(!h.contains("erin"), "a hash, not the value");
                (
                    h,
                    SuppressionEntry {
                        kind,
                        erasure: 7,
                        at_ms: 1,
                    },
                )
            })
            .collect();
        s.replace(&entries);
        assert_eq!(s.check(&erased), Some(("email".into(), 7)));
        let same_card = std("new@example.org", ("loyalty_id", "LY1"));
        assert_eq!(
            s.check(&same_card),
            Some(("identifier:loyalty_id".into(), 7))
        );
        assert_eq!(
            s.check(&std("other@example.org", ("loyalty_id", "LY2"))),
            None
        );
        // Another cluster's secret gives other hashes.
        let other = Suppressions::new(Some(Arc::new(Keyring::ephemeral())));
        other.replace(&entries);
        assert_eq!(other.check(&erased), None);
    }
}
