//! Per-attribute comparison levels.
//!
//! Comparing two records yields, for every attribute, a *level*: 0 when
//! either side lacks the value (no evidence either way), 1 for an exact
//! agreement, then progressively weaker agreements, and last a disagreement.
//! The Fellegi-Sunter model ([`super::model`]) gives each level a weight.
//! Multi-valued attributes (emails, phones, addresses, identifiers) take the
//! best level over all value pairs.

use std::fmt;

use serde::{Deserialize, Serialize};
use strsim::jaro_winkler;

use super::features::{AddrView, FeatView, NameView};
use super::standardize::{nickname_equivalent, PartialDate};

/// Most comparisons a model may have.
pub const MAX_COMPARISONS: usize = 24;

/// What a comparison looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    GivenName,
    FamilyName,
    DateOfBirth,
    Gender,
    Email,
    Phone,
    Street,
    /// Where the address is: postcode, locality and region compared as one
    /// fact (they are strongly correlated; counting them separately would
    /// count one agreement three times).
    Area,
    /// Identifiers of one kind (`Identifier("national_id")`); the kind `"*"`
    /// stands for every kind that has no comparison of its own.
    Identifier(String),
}

impl Attribute {
    /// The attributes of a model before training.
    pub fn defaults() -> Vec<Attribute> {
        use Attribute::*;
        vec![
            GivenName,
            FamilyName,
            DateOfBirth,
            Gender,
            Email,
            Phone,
            Street,
            Area,
            Identifier("*".into()),
        ]
    }

    /// Name as written in model files and explanations.
    pub fn name(&self) -> String {
        match self {
            Attribute::GivenName => "given_name".into(),
            Attribute::FamilyName => "family_name".into(),
            Attribute::DateOfBirth => "date_of_birth".into(),
            Attribute::Gender => "gender".into(),
            Attribute::Email => "email".into(),
            Attribute::Phone => "phone".into(),
            Attribute::Street => "street".into(),
            Attribute::Area => "area".into(),
            Attribute::Identifier(k) => format!("identifier:{k}"),
        }
    }

    /// Parses [`Attribute::name`].
    pub fn parse(s: &str) -> Option<Attribute> {
        Some(match s {
            "given_name" => Attribute::GivenName,
            "family_name" => Attribute::FamilyName,
            "date_of_birth" => Attribute::DateOfBirth,
            "gender" => Attribute::Gender,
            "email" => Attribute::Email,
            "phone" => Attribute::Phone,
            "street" => Attribute::Street,
            "area" => Attribute::Area,
            _ => Attribute::Identifier(s.strip_prefix("identifier:")?.to_string()),
        })
    }

    /// Labels of the levels above 0 ("null"), best first, disagreement last.
    pub fn levels(&self) -> &'static [&'static str] {
        match self {
            Attribute::GivenName => &[
                "exact",
                "nickname",
                "jaro_winkler>=0.92",
                "jaro_winkler>=0.80_or_phonetic_or_one_edit",
                "initial",
                "different",
                "clearly_different",
            ],
            Attribute::FamilyName => &[
                "exact",
                "jaro_winkler>=0.92",
                "jaro_winkler>=0.80_or_phonetic_or_one_edit",
                "different",
                "clearly_different",
            ],
            Attribute::DateOfBirth => &[
                "exact",
                "one_edit_or_day_month_swapped",
                "two_edits_or_partial_agrees",
                "different",
            ],
            Attribute::Gender => &["exact", "different"],
            Attribute::Email => &["exact", "same_user_or_one_edit", "different"],
            Attribute::Phone => &["exact", "same_last_8_or_one_edit", "different"],
            Attribute::Street => &[
                "exact",
                "same_number_similar_street",
                "similar_street",
                "different",
            ],
            Attribute::Area => &[
                "postcode_and_locality",
                "postcode_or_locality",
                "similar_postcode_or_locality",
                "same_region",
                "different",
            ],
            Attribute::Identifier(_) => &["exact", "one_edit", "different"],
        }
    }

    /// Whether the exact level is adjusted by the value's term frequency.
    pub fn term_frequency(&self) -> bool {
        matches!(
            self,
            Attribute::GivenName | Attribute::FamilyName | Attribute::Area
        )
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for Attribute {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Attribute::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown attribute {s:?}")))
    }
}

/// The levels of one record pair, one per model comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub levels: [u8; MAX_COMPARISONS],
    /// Given and family names were compared crosswise (swapped fields).
    pub names_swapped: bool,
}

/// Compares records attribute by attribute for a fixed list of attributes.
#[derive(Debug, Clone)]
pub struct Comparator {
    attrs: Vec<Attribute>,
    /// Identifier kinds that have their own comparison (the rest go to `"*"`).
    own_kinds: Vec<String>,
}

impl Comparator {
    /// A comparator for these attributes (at most [`MAX_COMPARISONS`]).
    pub fn new(attrs: &[Attribute]) -> Self {
        let attrs: Vec<Attribute> = attrs.iter().take(MAX_COMPARISONS).cloned().collect();
        let own_kinds = attrs
            .iter()
            .filter_map(|a| match a {
                Attribute::Identifier(k) if k != "*" => Some(k.clone()),
                _ => None,
            })
            .collect();
        Comparator { attrs, own_kinds }
    }

    /// The attributes, in pattern order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attrs
    }

    /// Compares two records.
    pub fn compare(&self, a: &FeatView<'_>, b: &FeatView<'_>) -> Pattern {
        let mut p = Pattern {
            levels: [0; MAX_COMPARISONS],
            names_swapped: false,
        };
        let straight = (
            name_level(a.given, b.given, true),
            name_level(a.family, b.family, false),
        );
        // Crosswise, nicknames do not apply and the better of the two levels
        // goes to the given-name slot, so that compare(a, b) == compare(b, a).
        let (x, y) = (
            name_level(a.given, b.family, false),
            name_level(a.family, b.given, false),
        );
        let crossed = (x.min(y), x.max(y));
        let (mut gl, fl) = if name_strength(crossed, true) > name_strength(straight, false) {
            p.names_swapped = true;
            (crossed.0, family_from_given(crossed.1))
        } else {
            (straight.0, family_from_given(straight.1))
        };
        // Someone known by a middle name: a different given name, but not
        // clearly different evidence.
        if gl == 7 && !p.names_swapped && given_is_others_middle(a, b) {
            gl = 6;
        }
        for (i, attr) in self.attrs.iter().enumerate() {
            p.levels[i] = match attr {
                Attribute::GivenName => gl,
                Attribute::FamilyName => fl,
                Attribute::DateOfBirth => {
                    let l = dob_level(a.dob, b.dob);
                    // An ambiguous dd/mm date that agrees when read the other
                    // way round is an exact agreement, not a typo.
                    if l == 2 && (a.dob_ambiguous || b.dob_ambiguous) && dob_swapped(a.dob, b.dob) {
                        1
                    } else {
                        l
                    }
                }
                Attribute::Gender => match (a.gender, b.gender) {
                    (Some(x), Some(y)) => 1 + u8::from(x != y),
                    _ => 0,
                },
                Attribute::Email => best(&a.emails, &b.emails, email_level),
                Attribute::Phone => best(&a.phones, &b.phones, phone_level),
                Attribute::Street => best(&a.addresses, &b.addresses, street_level),
                Attribute::Area => best(&a.addresses, &b.addresses, area_level),
                Attribute::Identifier(kind) => self.identifier_level(kind, a, b),
            };
        }
        p
    }

    fn identifier_level(&self, kind: &str, a: &FeatView<'_>, b: &FeatView<'_>) -> u8 {
        let wanted = |k: &str| {
            if kind == "*" {
                !self.own_kinds.iter().any(|o| o == k)
            } else {
                k == kind
            }
        };
        let mut lvl = 0u8;
        for (ka, va) in a.ids.iter().filter(|(k, _)| wanted(k)) {
            for (_, vb) in b.ids.iter().filter(|(kb, _)| kb == ka) {
                let l = edit_level(va, vb);
                if lvl == 0 || l < lvl {
                    lvl = l;
                }
            }
        }
        lvl
    }
}

/// Best (lowest non-zero) level over all value pairs.
fn best<T: Copy>(a: &[T], b: &[T], f: impl Fn(T, T) -> u8) -> u8 {
    let mut lvl = 0u8;
    for &x in a {
        for &y in b {
            let l = f(x, y);
            if l != 0 && (lvl == 0 || l < lvl) {
                lvl = l;
                if lvl == 1 {
                    return 1;
                }
            }
        }
    }
    lvl
}

/// Level of a name pair on the given-name scale (1 exact .. 6 different,
/// 7 clearly different).
fn name_level(a: Option<NameView<'_>>, b: Option<NameView<'_>>, nicknames: bool) -> u8 {
    let (Some(a), Some(b)) = (a, b) else { return 0 };
    if a.text == b.text {
        return 1;
    }
    if nicknames && (a.canon == b.canon || nickname_equivalent(a.text, b.text)) {
        return 2;
    }
    let jw = jaro_winkler(a.text, b.text);
    if jw >= 0.92 {
        return 3;
    }
    if jw >= 0.80
        || a.phonetic_match(&b)
        || token_contained(a.text, b.text)
        || (a.text.len().min(b.text.len()) >= 2
            && within_one_edit(a.text.as_bytes(), b.text.as_bytes()))
    {
        return 4;
    }
    let (la, lb) = (a.text.len(), b.text.len());
    if (la == 1 || lb == 1) && a.text.as_bytes()[0] == b.text.as_bytes()[0] {
        return 5;
    }
    if clearly_different(a.text, b.text) {
        7
    } else {
        6
    }
}

/// Two names that no ordinary corruption turns into each other: at most
/// half of the shorter one's letters survive, in order, in the longer one
/// (longest common subsequence). Truncations ("cha" / "charlotte"),
/// insertions and several typos keep most letters in order; "mitchell" /
/// "zoe" or "john" / "james" do not.
pub fn clearly_different(a: &str, b: &str) -> bool {
    let (a, b): (SmallChars, SmallChars) = (a.chars().collect(), b.chars().collect());
    let shorter = a.len().min(b.len());
    shorter >= 2 && 2 * lcs_len(&a, &b) <= shorter
}

type SmallChars = smallvec::SmallVec<[char; 24]>;

/// Length of the longest common subsequence of two short strings.
fn lcs_len(a: &[char], b: &[char]) -> usize {
    let mut row: smallvec::SmallVec<[u16; 32]> = smallvec::smallvec![0; b.len() + 1];
    for &x in a {
        let mut diag = 0u16;
        for (j, &y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    usize::from(row[b.len()])
}

/// One record's given name is the other's middle name.
fn given_is_others_middle(a: &FeatView<'_>, b: &FeatView<'_>) -> bool {
    let crossed = |x: &FeatView<'_>, y: &FeatView<'_>| {
        x.given
            .zip(y.middle)
            .is_some_and(|(g, m)| m.split(' ').any(|t| t == g.text))
    };
    crossed(a, b) || crossed(b, a)
}

/// One compound name contains the other as a whole token ("smith" / "smith jones").
fn token_contained(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 3 && long.contains(' ') && long.split(' ').any(|t| t == short)
}

/// Maps a given-name-scale level onto the family-name scale (an initial
/// is a plain difference there).
fn family_from_given(l: u8) -> u8 {
    match l {
        0 => 0,
        1 => 1,
        2 | 3 => 2,
        4 => 3,
        7 => 5,
        _ => 4,
    }
}

/// How convincing a pair of name levels is, for choosing straight or crossed.
fn name_strength((g, f): (u8, u8), crossed: bool) -> u32 {
    let s = |l: u8| match l {
        1 => 10,
        2 => 9,
        3 => 8,
        4 => 5,
        5 => 2,
        0 => 1,
        _ => 0,
    };
    // Crossing must win outright on both names' evidence, never on one alone.
    let (sg, sf) = (s(g), s(f));
    if crossed && (sg < 5 || sf < 5) {
        return 0;
    }
    sg + sf
}

/// exact 1, one edit (incl. adjacent transposition) 2, else 3.
fn edit_level(a: &str, b: &str) -> u8 {
    if a == b {
        1
    } else if within_one_edit(a.as_bytes(), b.as_bytes()) {
        2
    } else {
        3
    }
}

/// True when `a` and `b` differ by at most one insertion, deletion,
/// substitution or adjacent transposition.
pub fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if p == la && p == lb {
        return true;
    }
    let (ra, rb) = (&a[p..], &b[p..]);
    if la == lb {
        // substitution or transposition
        ra[1..] == rb[1..]
            || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
    } else if la > lb {
        ra[1..] == *rb
    } else {
        *ra == rb[1..]
    }
}

fn email_level(a: &str, b: &str) -> u8 {
    if a == b {
        return 1;
    }
    fn user(s: &str) -> &str {
        s.split('@').next().unwrap_or("")
    }
    let (ua, ub) = (user(a), user(b));
    if (ua.len() >= 4 && ua == ub) || within_one_edit(a.as_bytes(), b.as_bytes()) {
        2
    } else {
        3
    }
}

fn phone_level(a: &str, b: &str) -> u8 {
    if a == b {
        return 1;
    }
    fn tail(s: &str) -> &[u8] {
        &s.as_bytes()[s.len().saturating_sub(8)..]
    }
    if (a.len() >= 9 && b.len() >= 9 && tail(a) == tail(b))
        || within_one_edit(a.as_bytes(), b.as_bytes())
    {
        2
    } else {
        3
    }
}

/// Level of two addresses' areas (see [`Attribute::levels`]).
fn area_level(a: AddrView<'_>, b: AddrView<'_>) -> u8 {
    let pc = a.postcode.zip(b.postcode);
    let loc = a.locality.zip(b.locality);
    let reg = a.region.zip(b.region);
    if pc.is_none() && loc.is_none() && reg.is_none() {
        return 0;
    }
    let pc_eq = pc.is_some_and(|(x, y)| x == y);
    let loc_eq = loc.is_some_and(|(x, y)| x == y);
    // With the postcode agreeing, a locality with a typo or two is the
    // same place: the two facts together are what level 1 means.
    let loc_close = loc.is_some_and(|(x, y)| x == y || locality_close(x, y));
    if pc_eq && (loc_close || loc.is_none()) || (loc_eq && pc.is_none()) {
        return 1;
    }
    if pc_eq || loc_eq {
        return 2;
    }
    if pc.is_some_and(|(x, y)| within_one_edit(x.as_bytes(), y.as_bytes()))
        || loc.is_some_and(|(x, y)| jaro_winkler(x, y) >= 0.90)
    {
        return 3;
    }
    if reg.is_some_and(|(x, y)| x == y) {
        return 4;
    }
    5
}

fn street_level(a: AddrView<'_>, b: AddrView<'_>) -> u8 {
    let (Some(sa), Some(sb)) = (a.street, b.street) else {
        return 0;
    };
    let same_number = match (a.number, b.number) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => false,
    };
    if sa == sb {
        return if same_number { 1 } else { 3 };
    }
    if street_similar(sa, sb) {
        return if same_number || numbers_close(a.number, b.number) {
            2
        } else {
            3
        };
    }
    // A garbled line ("2i80 sonty dr" for "2801 county dr") may no longer
    // split into number and street: compare it as one string.
    let (la, lb) = (street_line(a), street_line(b));
    // The common subsequence is at most the shorter run: skip the work
    // when even that could not reach the lowest level.
    if 100 * la.len().min(lb.len()) < 65 * la.len().max(lb.len()) {
        return 4;
    }
    let share = in_order_share_chars(&la, &lb);
    if share >= 0.8 {
        2
    } else if share >= 0.65 {
        3
    } else {
        4
    }
}

/// Two house numbers of at least three characters that one inserted,
/// dropped or swapped character turns into each other ("3638" / "338").
/// A substituted digit is left out: "102" and "103" are neighbours.
fn numbers_close(a: Option<&str>, b: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    let substitution =
        a.len() == b.len() && a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count() == 1;
    a.len().min(b.len()) >= 3 && !substitution && within_one_edit(a.as_bytes(), b.as_bytes())
}

/// Two spellings of one locality under one postcode (which has few
/// localities): most letters kept in order, or a high Jaro-Winkler
/// similarity.
fn locality_close(a: &str, b: &str) -> bool {
    a.len().min(b.len()) >= 4 && (in_order_share(a, b) >= 0.7 || jaro_winkler(a, b) >= 0.88)
}

/// The house number and the distinctive words of the street, as one run of
/// characters without spaces or street-type words (on the stack for any
/// ordinary address).
fn street_line(a: AddrView<'_>) -> SmallChars {
    let number = a.number.unwrap_or("").chars().filter(|c| *c != ' ');
    let words = a
        .street
        .unwrap_or("")
        .split(' ')
        .filter(|t| !STREET_WORDS.contains(t))
        .flat_map(str::chars);
    number.chain(words).collect()
}

/// The share of the longer run's characters that the other keeps in order
/// (longest common subsequence over the longer length); 0 when either has
/// fewer than four characters.
fn in_order_share_chars(a: &[char], b: &[char]) -> f64 {
    let (shorter, longer) = (a.len().min(b.len()), a.len().max(b.len()));
    if shorter < 4 {
        return 0.0;
    }
    lcs_len(a, b) as f64 / longer as f64
}

/// [`in_order_share_chars`] of two strings.
fn in_order_share(a: &str, b: &str) -> f64 {
    let (a, b): (SmallChars, SmallChars) = (a.chars().collect(), b.chars().collect());
    in_order_share_chars(&a, &b)
}

/// Street-type and unit words: sharing one says nothing about the street.
const STREET_WORDS: &[&str] = &[
    "street",
    "road",
    "avenue",
    "drive",
    "lane",
    "court",
    "place",
    "crescent",
    "highway",
    "parade",
    "terrace",
    "circuit",
    "boulevard",
    "square",
    "close",
    "grove",
    "parkway",
    "way",
    "esplanade",
    "unit",
    "apartment",
    "suite",
    "floor",
    "flat",
    "level",
    "north",
    "south",
    "east",
    "west",
];

/// Streets agree closely as strings or share most of their distinctive tokens.
fn street_similar(a: &str, b: &str) -> bool {
    // Compare what names the street, not its type: "king street" and
    // "kent street" share a long suffix but are different streets.
    let core = |s: &str| -> String {
        let c: Vec<&str> = s.split(' ').filter(|t| !STREET_WORDS.contains(t)).collect();
        if c.is_empty() {
            s.to_string()
        } else {
            c.join(" ")
        }
    };
    let (ca, cb) = (core(a), core(b));
    if jaro_winkler(&ca, &cb) >= 0.88 {
        return true;
    }
    let (na, nb) = (ca.split(' ').count(), cb.split(' ').count());
    let shared = shared_tokens(&ca, &cb).min(shared_tokens(&cb, &ca));
    2 * shared >= na.max(nb).max(1) && shared > 0
}

/// Tokens of `a` that some token of `b` equals or nearly equals (when one
/// of the two is long enough for a typo to be told from another word).
fn shared_tokens(a: &str, b: &str) -> usize {
    a.split(' ')
        .filter(|t| {
            t.len() > 1
                && b.split(' ')
                    .any(|u| u == *t || (t.len().max(u.len()) > 4 && jaro_winkler(t, u) >= 0.9))
        })
        .count()
}

fn dob_digits(d: &PartialDate) -> [u8; 8] {
    let mut out = [0u8; 8];
    let y = d.year as u32;
    let m = d.month.unwrap_or(0) as u32;
    let dd = d.day.unwrap_or(0) as u32;
    let v = y * 10000 + m * 100 + dd;
    for (i, o) in out.iter_mut().enumerate() {
        *o = b'0' + ((v / 10u32.pow(7 - i as u32)) % 10) as u8;
    }
    out
}

/// Same year, with day and month the other way round.
fn dob_swapped(a: Option<PartialDate>, b: Option<PartialDate>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.is_full() && b.is_full() && a.year == b.year && a.month == b.day && a.day == b.month
        }
        _ => false,
    }
}

/// Level of two dates of birth (see [`Attribute::levels`]).
pub fn dob_level(a: Option<PartialDate>, b: Option<PartialDate>) -> u8 {
    let (Some(a), Some(b)) = (a, b) else { return 0 };
    if a.is_full() && b.is_full() {
        if a == b {
            return 1;
        }
        let swapped = a.year == b.year && a.month == b.day && a.day == b.month;
        let (da, db) = (dob_digits(&a), dob_digits(&b));
        if swapped || within_one_edit(&da, &db) {
            return 2;
        }
        let diffs = da.iter().zip(&db).filter(|(x, y)| x != y).count();
        return if diffs <= 2 { 3 } else { 4 };
    }
    // Partial dates: agreement on what both sides have, the year within
    // one (a year reckoned from an age is often one off).
    let agrees = a.year.abs_diff(b.year) <= 1
        && (a.month.is_none() || b.month.is_none() || a.month == b.month)
        && (a.day.is_none() || b.day.is_none() || a.day == b.day);
    if agrees {
        3
    } else {
        4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::Packed;
    use crate::engine::standardize::StdRecord;

    fn rec(given: &str, family: &str) -> Packed {
        Packed::from_std(&StdRecord {
            given: (!given.is_empty()).then(|| given.into()),
            family: (!family.is_empty()).then(|| family.into()),
            ..Default::default()
        })
    }

    fn names(a: &Packed, b: &Packed) -> (u8, u8, bool) {
        let c = Comparator::new(&Attribute::defaults());
        let p = c.compare(&a.view(), &b.view());
        (p.levels[0], p.levels[1], p.names_swapped)
    }

    #[test]
    fn one_edit_covers_insert_delete_substitute_transpose() {
        for (a, b) in [
            ("1804974", "1804975"),
            ("1804974", "180974"),
            ("1804974", "18049745"),
            ("1804974", "1809474"),
        ] {
            assert!(within_one_edit(a.as_bytes(), b.as_bytes()), "{a} {b}");
        }
        assert!(!within_one_edit(b"1804974", b"1840794"));
        assert!(!within_one_edit(b"abc", b"abcde"));
        assert!(within_one_edit(b"", b"a"));
    }

    #[test]
    fn name_levels_rank_exact_nickname_typo_and_different() {
        assert_eq!(
            names(&rec("robert", "smith"), &rec("robert", "smith")),
            (1, 1, false)
        );
        assert_eq!(names(&rec("bob", "smith"), &rec("robert", "smith")).0, 2);
        assert_eq!(
            names(&rec("harley", "smith"), &rec("haryley", "smith")).0,
            3
        );
        assert_eq!(names(&rec("mitchell", "smith"), &rec("zoe", "smith")).0, 7);
        assert_eq!(names(&rec("john", "smith"), &rec("james", "smith")).0, 7);
        // corruptions keep most letters in order: different, not clearly
        assert_eq!(names(&rec("ahir", "smith"), &rec("hiroshi", "smith")).0, 6);
        // family names: different (4) and clearly different (5)
        assert_eq!(names(&rec("ann", "ramirez"), &rec("ann", "rmz")).1, 4);
        assert_eq!(names(&rec("ann", "walters"), &rec("ann", "atkinson")).1, 5);
        assert_eq!(names(&rec("j", "smith"), &rec("john", "smith")).0, 5);
    }

    #[test]
    fn clearly_different_names() {
        assert!(clearly_different("ethan", "zoe"));
        assert!(clearly_different("mitchell", "zoe"));
        assert!(!clearly_different("charlotte", "cha"));
        assert!(!clearly_different("debeyrch", "deborah"));
        assert!(!clearly_different("a", "zoe")); // an initial is no evidence of this kind
        assert_eq!(lcs_len(&['a', 'b', 'c', 'd'], &['x', 'b', 'd']), 2);
    }

    #[test]
    fn a_given_name_that_is_the_others_middle_name_is_not_clearly_different() {
        let with_middle = |given: &str, middle: &str| {
            Packed::from_std(&StdRecord {
                given: Some(given.into()),
                middle: Some(middle.into()),
                family: Some("smith".into()),
                ..Default::default()
            })
        };
        let (a, b) = (with_middle("john", "paul"), rec("paul", "smith"));
        assert_eq!(names(&a, &b).0, 6);
        assert_eq!(names(&b, &a).0, 6);
        assert_eq!(names(&rec("john", "smith"), &b).0, 7);
    }

    #[test]
    fn swapped_given_and_family_names_are_compared_crosswise() {
        let (g, f, swapped) = names(&rec("masno", "madeline"), &rec("madeline", "mason"));
        assert!(swapped);
        assert!(g <= 4 && f <= 3, "{g} {f}");
        // One name alone never justifies crossing.
        let (_, _, swapped) = names(&rec("smith", "alice"), &rec("bob", "smith"));
        assert!(!swapped);
    }

    fn addr<'a>(
        number: Option<&'a str>,
        street: &'a str,
        locality: &'a str,
        pc: &'a str,
    ) -> AddrView<'a> {
        AddrView {
            number,
            street: Some(street),
            locality: Some(locality),
            region: None,
            postcode: Some(pc),
        }
    }

    #[test]
    fn garbled_street_lines_are_similar_not_different() {
        let clean = addr(Some("2801"), "county drive", "brockton", "90001");
        // The garbled line no longer splits into number and street.
        let garbled = addr(None, "2i80 sonty drive", "brockton", "90001");
        assert_eq!(street_level(clean, garbled), 3);
        let dropped = addr(Some("3638"), "pine circle", "airdrie", "10033");
        let typo = addr(Some("338"), "pine circle", "airdrie", "10033");
        assert_eq!(
            street_level(dropped, typo),
            3,
            "same street, number with a digit dropped"
        );
        let typo_street = addr(Some("338"), "pines circle", "airdrie", "10033");
        assert_eq!(street_level(dropped, typo_street), 2);
        // A substituted digit is a neighbour, not a typo of the same house.
        let neighbour = addr(Some("3639"), "pines circle", "airdrie", "10033");
        assert_eq!(street_level(dropped, neighbour), 3);
        let elsewhere = addr(Some("9215"), "academy road", "airdrie", "10033");
        assert_eq!(street_level(dropped, elsewhere), 4);
    }

    #[test]
    fn a_locality_typo_under_the_same_postcode_is_the_same_area() {
        let a = addr(Some("1"), "x", "brockton", "90001");
        let b = addr(Some("1"), "x", "brovton", "90001");
        assert_eq!(area_level(a, b), 1);
        let other_town = addr(Some("1"), "x", "arlington", "90001");
        assert_eq!(area_level(a, other_town), 2);
        let other_postcode = addr(Some("1"), "x", "brovton", "90002");
        assert_eq!(area_level(a, other_postcode), 3);
    }

    #[test]
    fn missing_values_give_level_zero() {
        assert_eq!(names(&rec("", "smith"), &rec("john", "smith")).0, 0);
    }

    #[test]
    fn dates_of_birth_levels() {
        let d = |y, m, dd| {
            Some(PartialDate {
                year: y,
                month: Some(m),
                day: Some(dd),
            })
        };
        assert_eq!(dob_level(d(1985, 7, 14), d(1985, 7, 14)), 1);
        assert_eq!(dob_level(d(1985, 3, 4), d(1985, 4, 3)), 2);
        assert_eq!(dob_level(d(1985, 7, 14), d(1985, 7, 15)), 2);
        assert_eq!(dob_level(d(1985, 7, 14), d(1986, 7, 15)), 3);
        assert_eq!(dob_level(d(1985, 7, 14), d(1962, 1, 30)), 4);
        let y = Some(PartialDate {
            year: 1985,
            month: None,
            day: None,
        });
        assert_eq!(dob_level(y, d(1985, 7, 14)), 3);
        assert_eq!(dob_level(y, d(1990, 7, 14)), 4);
        let year = |y| {
            Some(PartialDate {
                year: y,
                month: None,
                day: None,
            })
        };
        assert_eq!(dob_level(year(1788), year(1787)), 3);
        assert_eq!(dob_level(year(1606), year(1600)), 4);
        let day_only = Some(PartialDate {
            year: 1985,
            month: None,
            day: Some(14),
        });
        assert_eq!(dob_level(day_only, d(1985, 7, 14)), 3);
        assert_eq!(dob_level(day_only, d(1985, 7, 15)), 4);
        assert_eq!(dob_level(None, d(1990, 7, 14)), 0);
    }

    #[test]
    fn ambiguous_dates_read_the_other_way_round_agree_exactly() {
        let c = Comparator::new(&Attribute::defaults());
        let rec = |dob: (u16, u8, u8), ambiguous: bool| {
            Packed::from_std(&StdRecord {
                dob: Some(PartialDate {
                    year: dob.0,
                    month: Some(dob.1),
                    day: Some(dob.2),
                }),
                dob_ambiguous: ambiguous,
                ..Default::default()
            })
        };
        // 03/04/1985 read day-first (3 April) vs an ISO 1985-03-04 (4 March).
        let (a, b) = (rec((1985, 4, 3), true), rec((1985, 3, 4), false));
        assert_eq!(c.compare(&a.view(), &b.view()).levels[2], 1);
        // Without the ambiguity the swap is only a likely typo.
        let (a, b) = (rec((1985, 4, 3), false), rec((1985, 3, 4), false));
        assert_eq!(c.compare(&a.view(), &b.view()).levels[2], 2);
    }

    #[test]
    fn comparison_is_symmetric() {
        let pairs = [
            ("masno", "madeline", "madeline", "mason"),
            ("bob", "smith", "robert", "smyth"),
        ];
        let c = Comparator::new(&Attribute::defaults());
        for (g1, f1, g2, f2) in pairs {
            let (a, b) = (rec(g1, f1), rec(g2, f2));
            assert_eq!(
                c.compare(&a.view(), &b.view()).levels,
                c.compare(&b.view(), &a.view()).levels
            );
        }
    }

    #[test]
    fn attribute_names_round_trip() {
        for a in Attribute::defaults()
            .into_iter()
            .chain([Attribute::Identifier("national_id".into())])
        {
            assert_eq!(Attribute::parse(&a.name()), Some(a));
        }
    }
}
