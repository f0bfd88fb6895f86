//! Opaque identifiers: keyed bijections that turn a counter into a number
//! that looks random but never repeats, so record ids, national ids and
//! loyalty numbers are unique without remembering the ones already issued
//! and reveal nothing about the person or the order of generation.

/// SplitMix64 finaliser: a fast, well-mixed hash of one word.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A keyed permutation of `0..limit` (limit at most 2^40).
#[derive(Debug, Clone, Copy)]
pub struct Permutation {
    key: u64,
    half_bits: u32,
    limit: u64,
}

impl Permutation {
    /// A permutation of `0..limit` chosen by `key`.
    pub fn new(key: u64, limit: u64) -> Self {
        assert!((2..=1 << 40).contains(&limit), "limit out of range");
        let bits = 64 - (limit - 1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        Permutation {
            key: mix64(key),
            half_bits,
            limit,
        }
    }

    /// Feistel network over `2 * half_bits` bits: a bijection.
    fn feistel(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut l = x >> self.half_bits;
        let mut r = x & mask;
        for round in 0..4u64 {
            let f = mix64(r ^ self.key ^ (round << 56)) & mask;
            let t = l ^ f;
            l = r;
            r = t;
        }
        (l << self.half_bits) | r
    }

    /// The image of `n` (`n < limit`), also below `limit`; distinct inputs
    /// give distinct outputs (cycle walking keeps the bijection).
    pub fn apply(&self, n: u64) -> u64 {
        assert!(n < self.limit, "value out of range");
        let mut x = self.feistel(n);
        while x >= self.limit {
            x = self.feistel(x);
        }
        x
    }

    /// How many values the permutation covers.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}
