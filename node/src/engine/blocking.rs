//! Blocking: which records are worth comparing.
//!
//! Each record yields several blocking keys, one per rule and value (strong
//! identifiers, email, phone, phonetic name + date of birth, name +
//! postcode, ...). Two records are candidates when they share a key. A key
//! shared by more than [`BlockingConfig::max_key_size`] records (generic
//! values such as `test@test.com`, or a common name in a dense area) is
//! *demoted*: it no longer makes candidates. Demotion depends only on how
//! many records hold the key, never on the order they came in.
//!
//! So that a demoted key does not leave its records without candidates, a
//! rule may name *fallback* parts: for each, the record also gets a finer
//! key, the rule's key plus that part (a common surname in a postcode, plus
//! the given name's initial). While the coarse key is live, every pair
//! sharing a fine key already shares the coarse one, so fallbacks cost no
//! comparisons; once it is demoted, the fine keys take over its pairs.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::compare::Attribute;
use super::features::{hash32, FeatView};
use super::hash::{Fnv64, KeySecret};

/// One component of a blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPart {
    /// Any identifier, with its kind.
    Identifier,
    Email,
    Phone,
    /// Double Metaphone code of the given name (and of its nickname canonical form).
    GivenPhonetic,
    FamilyPhonetic,
    /// The phonetic code of either name: one value for the given name, one
    /// for the family name (survives swapped names).
    AnyNamePhonetic,
    /// Both names' phonetic codes in sorted order (survives swapped names).
    NamesPhoneticSorted,
    /// Full date of birth.
    Dob,
    DobYear,
    /// Month and day of a date of birth (survives a wrong year).
    DobMonthDay,
    /// Month and day as an unordered pair: survives day and month written
    /// the other way round (05/04 for 04/05) as well as a wrong year.
    DobDayMonthEitherWay,
    /// First letter of the given name (and of its nickname canonical form).
    GivenInitial,
    /// First letter of the family name.
    FamilyInitial,
    Postcode,
    Locality,
    StreetNumber,
    /// Double Metaphone-free street signature: the longest street token.
    StreetToken,
}

impl KeyPart {
    /// The comparison attributes a key part constrains (used in training to
    /// leave them out of the EM session on this rule's pairs).
    pub fn attributes(self) -> &'static [Attribute] {
        use Attribute::*;
        match self {
            KeyPart::Identifier => &[],
            KeyPart::Email => &[Email],
            KeyPart::Phone => &[Phone],
            KeyPart::GivenPhonetic | KeyPart::GivenInitial => &[GivenName],
            KeyPart::FamilyPhonetic | KeyPart::FamilyInitial => &[FamilyName],
            KeyPart::NamesPhoneticSorted | KeyPart::AnyNamePhonetic => &[GivenName, FamilyName],
            KeyPart::Dob
            | KeyPart::DobYear
            | KeyPart::DobMonthDay
            | KeyPart::DobDayMonthEitherWay => &[DateOfBirth],
            KeyPart::Postcode | KeyPart::Locality => &[Area],
            KeyPart::StreetNumber | KeyPart::StreetToken => &[Street],
        }
    }
}

/// A named conjunction of key parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingRule {
    pub name: String,
    pub parts: Vec<KeyPart>,
    /// Finer keys for when this rule's key is demoted: for each part, the
    /// rule's parts plus that one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<KeyPart>,
}

impl BlockingRule {
    fn new(name: &str, parts: &[KeyPart]) -> Self {
        BlockingRule {
            name: name.into(),
            parts: parts.to_vec(),
            fallback: Vec::new(),
        }
    }

    fn with_fallback(mut self, parts: &[KeyPart]) -> Self {
        self.fallback = parts.to_vec();
        self
    }

    /// True when the rule constrains this attribute (identifier rules
    /// constrain every identifier). Fallback parts constrain nothing: most
    /// of the rule's pairs come from its coarse key.
    pub fn constrains(&self, attr: &Attribute) -> bool {
        self.parts.iter().any(|p| {
            p.attributes().contains(attr)
                || (*p == KeyPart::Identifier && matches!(attr, Attribute::Identifier(_)))
        })
    }
}

/// Blocking configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlockingConfig {
    pub rules: Vec<BlockingRule>,
    /// Keys held by more records than this are demoted (make no candidates).
    pub max_key_size: usize,
    /// Makes the keys keyed hashes (a node sets its cluster's secret; an
    /// engine used alone has none).
    #[serde(skip)]
    pub secret: KeySecret,
}

impl Default for BlockingConfig {
    fn default() -> Self {
        use KeyPart::*;
        BlockingConfig {
            rules: vec![
                BlockingRule::new("identifier", &[Identifier]),
                BlockingRule::new("email", &[Email]).with_fallback(&[FamilyPhonetic]),
                BlockingRule::new("phone", &[Phone]).with_fallback(&[FamilyPhonetic]),
                BlockingRule::new("name_dob", &[AnyNamePhonetic, Dob]),
                BlockingRule::new("names", &[NamesPhoneticSorted]).with_fallback(&[Locality]),
                BlockingRule::new("names_year", &[NamesPhoneticSorted, DobYear]),
                BlockingRule::new("names_postcode", &[NamesPhoneticSorted, Postcode]),
                BlockingRule::new("family_postcode", &[FamilyPhonetic, Postcode])
                    .with_fallback(&[GivenInitial]),
                BlockingRule::new("address", &[StreetNumber, StreetToken, Postcode])
                    .with_fallback(&[FamilyInitial]),
                BlockingRule::new("dob_postcode", &[Dob, Postcode]),
                // Added after the first ten (a rule's keys depend on its position).
                BlockingRule::new("number_postcode", &[StreetNumber, Postcode])
                    .with_fallback(&[FamilyInitial]),
                BlockingRule::new("dob_given_initial", &[Dob, GivenInitial]),
                BlockingRule::new("street_postcode_year", &[StreetToken, Postcode, DobYear]),
                BlockingRule::new("birthday_postcode", &[DobMonthDay, Postcode])
                    .with_fallback(&[GivenInitial]),
                // Records with a town or parish but no postcode.
                BlockingRule::new("family_locality", &[FamilyPhonetic, Locality])
                    .with_fallback(&[GivenInitial]),
                // Day and month swapped, with names and street garbled.
                BlockingRule::new(
                    "birthday_either_way_postcode",
                    &[DobDayMonthEitherWay, Postcode],
                )
                .with_fallback(&[GivenInitial]),
            ],
            max_key_size: 30,
            secret: KeySecret::default(),
        }
    }
}

/// Keys of a record, deduplicated.
pub type Keys = SmallVec<[u64; 16]>;

/// Appends one field to a key hash: its bytes, then a separator so that
/// ("ab", "c") and ("a", "bc") differ.
fn write_field(h: &mut Fnv64, bytes: &[u8]) {
    h.write(bytes);
    h.write(&[0xff]);
}

/// Appends an integer field (little-endian) to a key hash.
fn write_u64(h: &mut Fnv64, v: u64) {
    write_field(h, &v.to_le_bytes());
}

/// The hash every key of rule `rule` starts from.
fn rule_seed(rule: usize) -> Fnv64 {
    let mut h = Fnv64::new();
    write_u64(&mut h, rule as u64 + 1);
    h
}

/// The values one key part takes for a record (several for multi-valued
/// fields; none when the record lacks the field).
fn part_values(part: KeyPart, f: &FeatView<'_>, out: &mut SmallVec<[u64; 4]>) {
    let h = |s: &str| {
        let mut x = Fnv64::with_state(0);
        write_field(&mut x, s.as_bytes());
        x.finish()
    };
    match part {
        KeyPart::Identifier => {
            for (k, v) in &f.ids {
                let mut x = Fnv64::with_state(1);
                write_field(&mut x, k.as_bytes());
                write_field(&mut x, v.as_bytes());
                out.push(x.finish());
            }
        }
        KeyPart::Email => out.extend(f.emails.iter().map(|e| h(e))),
        // The last 8 digits: the same number parsed under different default
        // regions (with or without its country code) still meets itself.
        KeyPart::Phone => out.extend(f.phones.iter().map(|p| h(&p[p.len().saturating_sub(8)..]))),
        KeyPart::GivenPhonetic => {
            if let Some(g) = f.given {
                if g.phon != 0 {
                    out.push(u64::from(g.phon));
                }
                if g.canon != g.text {
                    out.push(u64::from(hash32(g.canon)) | 1 << 40);
                }
            }
        }
        KeyPart::FamilyPhonetic => {
            if let Some(n) = f.family.filter(|n| n.phon != 0) {
                out.push(u64::from(n.phon));
            }
        }
        KeyPart::AnyNamePhonetic => {
            for n in [f.given, f.family].into_iter().flatten() {
                if n.phon != 0 && !out.contains(&u64::from(n.phon)) {
                    out.push(u64::from(n.phon));
                }
            }
        }
        KeyPart::NamesPhoneticSorted => {
            if let (Some(g), Some(n)) = (f.given, f.family) {
                if g.phon != 0 && n.phon != 0 {
                    let (a, b) = (g.phon.min(n.phon), g.phon.max(n.phon));
                    out.push(u64::from(a) << 32 | u64::from(b));
                }
            }
        }
        KeyPart::Dob => {
            if let Some(d) = f.dob.filter(|d| d.is_full()) {
                out.push(
                    u64::from(d.year) << 16
                        | u64::from(d.month.unwrap_or(0)) << 8
                        | u64::from(d.day.unwrap_or(0)),
                );
            }
        }
        KeyPart::DobYear => out.extend(f.dob.map(|d| u64::from(d.year))),
        KeyPart::DobMonthDay => {
            if let Some((m, d)) = f.dob.and_then(|d| d.month.zip(d.day)) {
                out.push(u64::from(m) << 8 | u64::from(d));
            }
        }
        KeyPart::DobDayMonthEitherWay => {
            if let Some((m, d)) = f.dob.and_then(|d| d.month.zip(d.day)) {
                let (lo, hi) = (m.min(d), m.max(d));
                out.push(u64::from(lo) << 8 | u64::from(hi));
            }
        }
        KeyPart::GivenInitial => {
            if let Some(g) = f.given {
                for name in [g.text, g.canon] {
                    let v = initial(name);
                    if v != 0 && !out.contains(&v) {
                        out.push(v);
                    }
                }
            }
        }
        KeyPart::FamilyInitial => out.extend(f.family.map(|n| initial(n.text)).filter(|v| *v != 0)),
        KeyPart::Postcode => out.extend(f.addresses.iter().filter_map(|a| a.postcode).map(h)),
        KeyPart::Locality => out.extend(f.addresses.iter().filter_map(|a| a.locality).map(h)),
        KeyPart::StreetNumber => out.extend(f.addresses.iter().filter_map(|a| a.number).map(h)),
        KeyPart::StreetToken => out.extend(f.addresses.iter().filter_map(|a| {
            a.street
                .and_then(|s| s.split(' ').max_by_key(|t| (t.len(), *t)))
                .map(h)
        })),
    }
}

/// A name's first character as a key value (0: no name).
fn initial(name: &str) -> u64 {
    name.chars().next().map_or(0, |c| u64::from(u32::from(c)))
}

/// All blocking keys of a record under the given rules, deduplicated.
///
/// Multi-valued parts combine as a cartesian product, except that address
/// parts are taken from the same address.
pub fn record_keys(cfg: &BlockingConfig, f: &FeatView<'_>) -> Keys {
    let mut keys = Keys::new();
    for (ri, rule) in cfg.rules.iter().enumerate() {
        rule_keys(ri, rule, f, &mut keys);
    }
    for k in keys.iter_mut() {
        *k = cfg.secret.apply(*k);
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The keys of one rule, its fallback keys included (appended to `out`).
/// The distinct keys rule `ri` gives a record, sorted.
pub fn distinct_rule_keys(ri: usize, rule: &BlockingRule, f: &FeatView<'_>) -> Keys {
    let mut k = Keys::new();
    rule_keys(ri, rule, f, &mut k);
    k.sort_unstable();
    k.dedup();
    k
}

pub fn rule_keys(ri: usize, rule: &BlockingRule, f: &FeatView<'_>, out: &mut Keys) {
    rule_keys_of(rule_seed(ri), &rule.parts, f, out);
    for (k, &part) in rule.fallback.iter().enumerate() {
        let mut seed = rule_seed(ri);
        // A fallback's seed differs from every rule's: it has a second field.
        write_u64(&mut seed, k as u64 + 1);
        let mut parts: SmallVec<[KeyPart; 4]> = SmallVec::from_slice(&rule.parts);
        parts.push(part);
        rule_keys_of(seed, &parts, f, out);
    }
}

/// The keys of a conjunction of parts, from `seed`.
fn rule_keys_of(seed: Fnv64, parts: &[KeyPart], f: &FeatView<'_>, out: &mut Keys) {
    let address_parts = parts
        .iter()
        .filter(|p| {
            matches!(
                p,
                KeyPart::Postcode
                    | KeyPart::Locality
                    | KeyPart::StreetNumber
                    | KeyPart::StreetToken
            )
        })
        .count();
    if address_parts > 1 && f.addresses.len() > 1 {
        // Build per address so parts of different addresses never mix.
        for a in &f.addresses {
            let one = FeatView {
                addresses: SmallVec::from_slice(&[*a]),
                ..f.clone()
            };
            rule_keys_flat(seed, parts, &one, out);
        }
    } else {
        rule_keys_flat(seed, parts, f, out);
    }
}

fn rule_keys_flat(seed: Fnv64, parts: &[KeyPart], f: &FeatView<'_>, out: &mut Keys) {
    let mut acc: SmallVec<[Fnv64; 4]> = SmallVec::from_slice(&[seed]);
    for &part in parts {
        let mut vals = SmallVec::<[u64; 4]>::new();
        part_values(part, f, &mut vals);
        if vals.is_empty() {
            return;
        }
        let mut next = SmallVec::<[Fnv64; 4]>::new();
        for a in &acc {
            for &v in &vals {
                let mut h = *a;
                write_u64(&mut h, v);
                next.push(h);
            }
        }
        acc = next;
    }
    out.extend(acc.into_iter().map(Fnv64::finish));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::Packed;
    use crate::engine::standardize::{PartialDate, StdAddress, StdRecord};

    fn rec(given: &str, family: &str, dob: Option<(u16, u8, u8)>, postcode: &str) -> Packed {
        Packed::from_std(&StdRecord {
            given: Some(given.into()),
            family: Some(family.into()),
            dob: dob.map(|(y, m, d)| PartialDate {
                year: y,
                month: Some(m),
                day: Some(d),
            }),
            addresses: vec![StdAddress {
                number: None,
                street: None,
                locality: None,
                region: None,
                postcode: Some(postcode.into()),
                country: None,
            }],
            ..Default::default()
        })
    }

    fn shared(a: &Packed, b: &Packed) -> usize {
        let cfg = BlockingConfig::default();
        let (ka, kb) = (record_keys(&cfg, &a.view()), record_keys(&cfg, &b.view()));
        ka.iter().filter(|k| kb.contains(k)).count()
    }

    #[test]
    fn typo_in_one_field_still_shares_a_key() {
        let a = rec("harley", "mccarthy", Some((1908, 4, 19)), "3165");
        assert!(shared(&a, &rec("harley", "mccarthy", Some((1908, 4, 19)), "3167")) > 0);
        assert!(shared(&a, &rec("harley", "mccarthy", Some((1980, 4, 19)), "3165")) > 0);
        assert!(shared(&a, &rec("haryley", "mccarthy", Some((1908, 4, 19)), "3165")) > 0);
    }

    #[test]
    fn day_and_month_written_the_other_way_round_share_a_key() {
        // Names garbled beyond their phonetic codes, street missing: only
        // the birthday (either way round) and the postcode are left.
        let a = rec("eileen", "patil", Some((1952, 4, 10)), "90001");
        let b = rec("xq", "zzy", Some((1952, 10, 4)), "90001");
        assert!(shared(&a, &b) > 0);
        let elsewhere = rec("xq", "zzy", Some((1952, 10, 4)), "90002");
        assert_eq!(shared(&a, &elsewhere), 0);
    }

    #[test]
    fn swapped_names_share_the_sorted_names_key() {
        let a = rec("madeline", "mason", Some((1908, 11, 28)), "4818");
        let b = rec("mason", "madeline", Some((1999, 1, 1)), "4818");
        assert!(shared(&a, &b) > 0);
    }

    #[test]
    fn unrelated_records_share_no_key() {
        let a = rec("mitchell", "green", Some((1956, 4, 9)), "2119");
        let b = rec("isabelle", "nguyen", Some((1992, 11, 19)), "2193");
        assert_eq!(shared(&a, &b), 0);
    }

    /// Blocking keys are stored on disk and compared across partitions:
    /// their values must never change.
    /// Every key of the default rules for the pinned record (fallbacks and
    /// the rules added after the first ten included).
    const ALL_KEYS: &str = concat!(
        "0775b0229d25b776 1bdd7dc684106169 1cfe38cbefd6d619 44452ce3f2666e18 ",
        "545141cbf321773a 6cbeb391aa885b0c 7656334ef58a212b 8610364ba0901b44 ",
        "87b4fd255035c4d0 8b740029c7aa7069 8d5c266f87b0d2b4 8dd81a2d860297b0 ",
        "94026c19763db6d4 980f746f1fd088c2 ab0687e1e4f84146 ab3631b2b23d268e ",
        "b0f6cd33a6aa926e b7bfe8cdb1e11f33 bea6a7208e0a5e38 d207edff814583d4 ",
        "f4f8f50b99f16618 f9c8e7b624915099 fba4cf496ddcc76e",
    );

    #[test]
    fn key_values_are_stable() {
        let p = Packed::from_bytes(&crate::engine::hash::tests::PACKED).unwrap();
        // The first ten rules' own keys, as they were before fallbacks and
        // later rules were added: stored data holds them.
        let mut first_ten = BlockingConfig::default();
        first_ten.rules.truncate(10);
        first_ten.rules.iter_mut().for_each(|r| r.fallback.clear());
        let keys = record_keys(&first_ten, &p.view());
        let all = record_keys(&BlockingConfig::default(), &p.view());
        assert!(keys.iter().all(|k| all.contains(k)));
        let all: Vec<String> = all.iter().map(|k| format!("{k:016x}")).collect();
        assert_eq!(all.join(" "), ALL_KEYS, "every key of the default rules");
        assert_eq!(
            keys.as_slice(),
            [
                0x0775_b022_9d25_b776,
                0x1cfe_38cb_efd6_d619,
                0x4445_2ce3_f266_6e18,
                0x6cbe_b391_aa88_5b0c,
                0x87b4_fd25_5035_c4d0,
                0x8b74_0029_c7aa_7069,
                0x8dd8_1a2d_8602_97b0,
                0x980f_746f_1fd0_88c2,
                0xab06_87e1_e4f8_4146,
                0xb7bf_e8cd_b1e1_1f33,
                0xf9c8_e7b6_2491_5099,
            ]
        );
    }

    #[test]
    fn keys_are_deterministic_and_rule_specific() {
        let a = rec("mitchell", "green", Some((1956, 4, 9)), "2119");
        let cfg = BlockingConfig::default();
        let k1 = record_keys(&cfg, &a.view());
        assert_eq!(k1, record_keys(&cfg, &a.view()));
        assert!(k1.len() >= 5);
    }
}
