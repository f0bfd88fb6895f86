//! The engine's one 64-bit hash: FNV-1a.
//!
//! Its values are stored on disk (record index, blocking keys, content
//! hashes of cross-partition links) and compared across nodes, so they must
//! be the same on every build, platform and process: no random seed, and
//! integers are always hashed as little-endian bytes.

use std::hash::Hasher;

use super::features::Packed;

/// The secret that makes blocking keys keyed hashes (SipHash-2-4 of their
/// FNV value under a 128-bit key), so that a key stored on disk (a demoted
/// key, the keys of a link) cannot be matched against a dictionary of known
/// emails or names. Every node of a cluster uses the same secret (derived
/// from its key file); an engine used alone uses none, and its keys are the
/// plain FNV values.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct KeySecret(Option<[u8; 16]>);

impl std::fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "KeySecret(keyed)"
        } else {
            "KeySecret(none)"
        })
    }
}

impl KeySecret {
    /// Keys under a 128-bit secret.
    pub const fn keyed(key: [u8; 16]) -> Self {
        KeySecret(Some(key))
    }

    /// True when there is a secret.
    pub fn is_keyed(&self) -> bool {
        self.0.is_some()
    }

    /// The stored form of a blocking key's FNV value.
    pub fn apply(&self, h: u64) -> u64 {
        match &self.0 {
            None => h,
            Some(k) => {
                let mut s = siphasher::sip::SipHasher24::new_with_key(k);
                s.write(&h.to_le_bytes());
                s.finish()
            }
        }
    }
}

/// The FNV-1a 64-bit offset basis.
const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// The FNV 64-bit prime.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a 64-bit hasher. Writing bytes in several calls gives the same
/// value as writing them in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

impl Fnv64 {
    /// A hasher at the standard offset basis.
    pub const fn new() -> Self {
        Fnv64(OFFSET_BASIS)
    }

    /// A hasher starting from an arbitrary state (blocking keys of some
    /// parts start from small seeds rather than the offset basis).
    pub const fn with_state(state: u64) -> Self {
        Fnv64(state)
    }

    /// Mixes bytes in.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// The hash of everything written so far.
    pub const fn finish(self) -> u64 {
        self.0
    }
}

/// FNV-1a of a string.
pub fn hash64(s: &str) -> u64 {
    let mut h = Fnv64::new();
    h.write(s.as_bytes());
    h.finish()
}

/// Content hash of packed features under a model version: the model
/// version (little-endian), then the packed bytes.
pub fn content_hash(feats: &Packed, model_version: u64) -> u64 {
    let mut h = Fnv64::new();
    h.write(&model_version.to_le_bytes());
    h.write(feats.as_bytes());
    h.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Packed features of one record (a Smyth with an email, a phone, an
    /// address and a national id), as the engine packed them when the
    /// hash values below were recorded.
    pub(crate) const PACKED: [u8; 108] = [
        123, 229, 170, 230, 123, 229, 170, 230, 247, 146, 20, 253, 62, 121, 74, 21, 74, 62, 15, 0,
        0, 9, 101, 108, 105, 122, 97, 98, 101, 116, 104, 0, 0, 5, 115, 109, 121, 116, 104, 1, 8,
        112, 49, 64, 120, 46, 99, 111, 109, 1, 12, 43, 54, 49, 52, 49, 50, 48, 48, 48, 48, 48, 49,
        1, 1, 50, 13, 119, 97, 108, 108, 97, 98, 121, 32, 112, 108, 97, 99, 101, 0, 0, 4, 50, 49,
        49, 57, 1, 11, 110, 97, 116, 105, 111, 110, 97, 108, 95, 105, 100, 7, 49, 48, 48, 48, 48,
        48, 48,
    ];

    // The values below were computed by the engine's earlier, separate FNV
    // implementations. They are stored on disk and compared across nodes:
    // they must never change.
    #[test]
    fn hash64_values_are_stable() {
        assert_eq!(hash64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash64("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash64("crm\u{1f}42"), 0x3c9e_332b_7334_d962);
        assert_eq!(hash64("kindred"), 0x22fb_56be_c19f_1302);
        assert_eq!(hash64("héllo wörld"), 0x1182_4ab8_4181_2022);
    }

    #[test]
    fn content_hash_values_are_stable() {
        let p = Packed::from_bytes(&PACKED).expect("valid packed bytes");
        assert_eq!(content_hash(&p, 0), 0xca66_24a3_527c_dd32);
        assert_eq!(content_hash(&p, 1), 0xa4fd_6aef_8619_c02f);
        assert_eq!(content_hash(&p, 7), 0x9d20_b486_ea31_d589);
    }

    #[test]
    fn writing_in_pieces_equals_writing_at_once() {
        let mut pieces = Fnv64::new();
        pieces.write(b"crm");
        pieces.write(b"");
        pieces.write(b"\x1f42");
        assert_eq!(pieces.finish(), hash64("crm\u{1f}42"));
    }

    #[test]
    fn a_hasher_with_a_state_continues_from_it() {
        let mut h = Fnv64::with_state(0);
        h.write(b"a");
        // One FNV-1a round from state 0: (0 ^ 'a') * prime.
        assert_eq!(h.finish(), 0x61u64.wrapping_mul(PRIME));
    }
}
