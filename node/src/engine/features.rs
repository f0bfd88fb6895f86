//! Compact, comparison-ready features of one standardised record.
//!
//! The engine compares a new record with its candidates many times per
//! second and keeps every record's features in memory, so they are packed
//! into one small byte buffer ([`Packed`]) and read through a borrowed view
//! ([`FeatView`]) that comparisons and blocking work on. Everything derived
//! (nickname canonical form, Double Metaphone codes) is computed once, at
//! packing time.

use std::sync::LazyLock;

use rphonetic::DoubleMetaphone;
use smallvec::SmallVec;

use super::hash::hash64;
use super::standardize::{canonical_given, Gender, PartialDate, StdRecord};

static METAPHONE: LazyLock<DoubleMetaphone> = LazyLock::new(DoubleMetaphone::default);

/// A record's features packed into one allocation.
///
/// Layout: four u32 phonetic codes (given primary/alternate, family
/// primary/alternate), a u32 packed date of birth, one gender byte, then
/// length-prefixed strings: given, given canonical, middle, family, then
/// counted lists of emails, phones, addresses (number, street, locality,
/// region, postcode) and identifiers (kind, value). Strings longer than 255
/// bytes are cut at a character boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed(Box<[u8]>);

/// A name part as comparisons see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NameView<'a> {
    /// Folded text, e.g. `"robert"`.
    pub text: &'a str,
    /// Canonical form through the nickname table (`"bob"` → `"robert"`); the text itself when it has none.
    pub canon: &'a str,
    /// Hash of the Double Metaphone primary code (0: no code).
    pub phon: u32,
    /// Hash of the Double Metaphone alternate code.
    pub phon_alt: u32,
}

impl NameView<'_> {
    /// True when the two names share a Double Metaphone code (0 is no
    /// code and matches nothing, so the relation is symmetric).
    pub fn phonetic_match(&self, other: &NameView<'_>) -> bool {
        let mine = [self.phon, self.phon_alt];
        let theirs = [other.phon, other.phon_alt];
        mine.iter().any(|&c| c != 0 && theirs.contains(&c))
    }
}

/// One postal address, split for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AddrView<'a> {
    pub number: Option<&'a str>,
    pub street: Option<&'a str>,
    pub locality: Option<&'a str>,
    pub region: Option<&'a str>,
    pub postcode: Option<&'a str>,
}

/// The matchable features of one record, borrowed from a [`Packed`].
#[derive(Debug, Clone, Default)]
pub struct FeatView<'a> {
    pub given: Option<NameView<'a>>,
    pub middle: Option<&'a str>,
    pub family: Option<NameView<'a>>,
    pub dob: Option<PartialDate>,
    /// The date of birth was written so that day and month could be either
    /// way round (03/04/1985); it was read with the configured order.
    pub dob_ambiguous: bool,
    pub gender: Option<Gender>,
    pub emails: SmallVec<[&'a str; 2]>,
    pub phones: SmallVec<[&'a str; 2]>,
    pub addresses: SmallVec<[AddrView<'a>; 2]>,
    /// (kind, value), both normalised.
    pub ids: SmallVec<[(&'a str, &'a str); 2]>,
}

impl FeatView<'_> {
    /// True when the record carries nothing that could ever match.
    pub fn is_empty(&self) -> bool {
        self.given.is_none()
            && self.family.is_none()
            && self.dob.is_none()
            && self.emails.is_empty()
            && self.phones.is_empty()
            && self.addresses.is_empty()
            && self.ids.is_empty()
    }
}

/// Flag bit in the packed date of birth (dates use the low 21 bits).
const DOB_AMBIGUOUS: u32 = 1 << 31;

fn dob_to_u32(d: Option<PartialDate>) -> u32 {
    match d {
        None => 0,
        Some(d) => {
            (u32::from(d.year) << 9)
                | (u32::from(d.month.unwrap_or(0)) << 5)
                | u32::from(d.day.unwrap_or(0))
        }
    }
}

fn dob_from_u32(v: u32) -> Option<PartialDate> {
    if v == 0 {
        return None;
    }
    let (m, d) = (((v >> 5) & 0xf) as u8, (v & 0x1f) as u8);
    Some(PartialDate {
        year: (v >> 9) as u16,
        month: (m != 0).then_some(m),
        day: (d != 0).then_some(d),
    })
}

fn gender_code(g: Option<Gender>) -> u8 {
    match g {
        None => 0,
        Some(Gender::Male) => 1,
        Some(Gender::Female) => 2,
        Some(Gender::Other) => 3,
    }
}

fn gender_from(c: u8) -> Option<Gender> {
    match c {
        1 => Some(Gender::Male),
        2 => Some(Gender::Female),
        3 => Some(Gender::Other),
        _ => None,
    }
}

thread_local! {
    /// Phonetic codes of recently seen names: names repeat heavily, and
    /// Double Metaphone allocates. Cleared when it grows past its bound.
    static PHON_CACHE: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, (u32, u32)>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
}

const PHON_CACHE_MAX: usize = 65_536;

fn phon_codes(text: Option<&str>) -> (u32, u32) {
    let Some(text) = text else { return (0, 0) };
    if let Some(c) = PHON_CACHE.with(|m| m.borrow().get(text).copied()) {
        return c;
    }
    let c = phon_codes_uncached(text);
    PHON_CACHE.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= PHON_CACHE_MAX {
            m.clear();
        }
        m.insert(text.into(), c);
    });
    c
}

fn phon_codes_uncached(text: &str) -> (u32, u32) {
    // Compound names ("van der berg", "smith jones") are coded without spaces.
    let src: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let dm = METAPHONE.double_metaphone(&src);
    (hash32(&dm.primary()), hash32(&dm.alternate()))
}

struct Writer(Vec<u8>);

impl Writer {
    fn str(&mut self, s: Option<&str>) {
        let s = s.unwrap_or("");
        let mut end = s.len().min(255);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.0.push(end as u8);
        self.0.extend_from_slice(&s.as_bytes()[..end]);
    }
    fn count(&mut self, n: usize) -> usize {
        let n = n.min(255);
        self.0.push(n as u8);
        n
    }
}

impl Packed {
    /// Packs the features of a standardised record.
    pub fn from_std(s: &StdRecord) -> Self {
        let given = s.given.as_deref();
        let canon = given.map(canonical_given).filter(|c| Some(*c) != given);
        let (gp, ga) = phon_codes(given);
        let (fp, fa) = phon_codes(s.family.as_deref());
        let mut w = Writer(Vec::with_capacity(96));
        let dob = dob_to_u32(s.dob) | if s.dob_ambiguous { DOB_AMBIGUOUS } else { 0 };
        for v in [gp, ga, fp, fa, dob] {
            w.0.extend_from_slice(&v.to_le_bytes());
        }
        w.0.push(gender_code(s.gender));
        w.str(given);
        w.str(canon);
        w.str(s.middle.as_deref());
        w.str(s.family.as_deref());
        let n = w.count(s.emails.len());
        s.emails[..n].iter().for_each(|e| w.str(Some(e)));
        let n = w.count(s.phones.len());
        s.phones[..n].iter().for_each(|p| w.str(Some(p)));
        let n = w.count(s.addresses.len());
        for a in &s.addresses[..n] {
            w.str(a.number.as_deref());
            w.str(a.street.as_deref());
            w.str(a.locality.as_deref());
            w.str(a.region.as_deref());
            w.str(a.postcode.as_deref());
        }
        let n = w.count(s.identifiers.len());
        for (k, v) in &s.identifiers[..n] {
            w.str(Some(k));
            w.str(Some(v));
        }
        Packed(w.0.into_boxed_slice())
    }

    /// The packed bytes, for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads packed bytes back from storage, checking their structure so a
    /// corrupt value is an error, never a panic later.
    pub fn from_bytes(b: &[u8]) -> Option<Packed> {
        fn skip_str(b: &[u8], cursor: &mut usize) -> Option<()> {
            let n = *b.get(*cursor)? as usize;
            let end = *cursor + 1 + n;
            std::str::from_utf8(b.get(*cursor + 1..end)?).ok()?;
            *cursor = end;
            Some(())
        }
        // Header, then 4 strings, then counted groups of 1, 1, 5 and 2 strings.
        let mut cursor = 21usize;
        if b.len() < cursor {
            return None;
        }
        for _ in 0..4 {
            skip_str(b, &mut cursor)?;
        }
        for per in [1usize, 1, 5, 2] {
            let count = *b.get(cursor)? as usize;
            cursor += 1;
            for _ in 0..count * per {
                skip_str(b, &mut cursor)?;
            }
        }
        (cursor == b.len()).then(|| Packed(b.into()))
    }

    /// Size of the packed form in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a packed record always has its fixed header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Borrowed view of the features.
    pub fn view(&self) -> FeatView<'_> {
        let b = &self.0;
        let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (gp, ga, fp, fa, dob) = (u(0), u(4), u(8), u(12), u(16));
        let mut r = Reader { b, pos: 21 };
        let given = r.str();
        let canon = r.str();
        let middle = r.str();
        let family = r.str();
        let mut v = FeatView {
            given: given.map(|text| NameView {
                text,
                canon: canon.unwrap_or(text),
                phon: gp,
                phon_alt: ga,
            }),
            middle,
            family: family.map(|text| NameView {
                text,
                canon: text,
                phon: fp,
                phon_alt: fa,
            }),
            dob: dob_from_u32(dob & !DOB_AMBIGUOUS),
            dob_ambiguous: dob & DOB_AMBIGUOUS != 0,
            gender: gender_from(b[20]),
            ..FeatView::default()
        };
        for _ in 0..r.byte() {
            v.emails.extend(r.str());
        }
        for _ in 0..r.byte() {
            v.phones.extend(r.str());
        }
        for _ in 0..r.byte() {
            v.addresses.push(AddrView {
                number: r.str(),
                street: r.str(),
                locality: r.str(),
                region: r.str(),
                postcode: r.str(),
            });
        }
        for _ in 0..r.byte() {
            if let (Some(k), Some(val)) = (r.str(), r.str()) {
                v.ids.push((k, val));
            }
        }
        v
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let v = self.b[self.pos];
        self.pos += 1;
        v
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.byte() as usize;
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        // Packed only from &str cut at char boundaries, so this never fails.
        (n > 0).then(|| std::str::from_utf8(s).unwrap_or(""))
    }
}

/// A stable 32-bit FNV-1a hash of a short string (0 is reserved for "none").
pub fn hash32(s: &str) -> u32 {
    if s.is_empty() {
        return 0;
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.max(1)
}

/// The home key of a record: the phonetic code of its family name, else of
/// its given name, else its first email, phone or identifier, else its key.
/// A cluster places records by it (equal home keys share a partition), and
/// the canonical clustering takes edges between equal home keys first.
pub fn home_key(key: &str, f: &FeatView<'_>) -> u64 {
    if let Some(n) = f.family.as_ref().filter(|n| n.phon != 0) {
        return u64::from(n.phon);
    }
    if let Some(n) = f.given.as_ref().filter(|n| n.phon != 0) {
        return u64::from(n.phon) | 1 << 32;
    }
    if let Some(e) = f.emails.first() {
        return hash64(e) ^ 2 << 60;
    }
    if let Some(p) = f.phones.first() {
        return hash64(p) ^ 3 << 60;
    }
    if let Some((k, v)) = f.ids.first() {
        return hash64(k) ^ hash64(v).rotate_left(17);
    }
    hash64(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::standardize::StdAddress;

    fn sample() -> StdRecord {
        StdRecord {
            given: Some("bob".into()),
            middle: Some("james".into()),
            family: Some("van der berg".into()),
            dob: Some(PartialDate {
                year: 1985,
                month: Some(7),
                day: Some(14),
            }),
            gender: Some(Gender::Male),
            emails: vec!["bob@example.com".into()],
            phones: vec!["+61412345678".into(), "+61298765432".into()],
            addresses: vec![StdAddress {
                number: Some("12".into()),
                street: Some("wallaby place".into()),
                locality: Some("cleveland".into()),
                region: Some("nsw".into()),
                postcode: Some("2119".into()),
                country: Some("AU".into()),
            }],
            identifiers: vec![("national_id".into(), "1804974".into())],
            ..StdRecord::default()
        }
    }

    #[test]
    fn packing_round_trips_every_field() {
        let p = Packed::from_std(&sample());
        let v = p.view();
        let g = v.given.unwrap();
        assert_eq!(g.text, "bob");
        assert_eq!(g.canon, "robert");
        assert_ne!(g.phon, 0);
        assert_eq!(v.middle, Some("james"));
        assert_eq!(v.family.unwrap().text, "van der berg");
        assert_eq!(v.dob.unwrap().day, Some(14));
        assert_eq!(v.gender, Some(Gender::Male));
        assert_eq!(v.emails.as_slice(), ["bob@example.com"]);
        assert_eq!(v.phones.len(), 2);
        assert_eq!(v.addresses[0].street, Some("wallaby place"));
        assert_eq!(v.addresses[0].postcode, Some("2119"));
        assert_eq!(v.ids.as_slice(), [("national_id", "1804974")]);
    }

    #[test]
    fn stored_bytes_round_trip_and_corrupt_bytes_are_rejected() {
        let p = Packed::from_std(&sample());
        assert_eq!(Packed::from_bytes(p.as_bytes()), Some(p.clone()));
        let b = p.as_bytes();
        assert_eq!(Packed::from_bytes(&b[..b.len() - 1]), None);
        assert_eq!(Packed::from_bytes(&b[..10]), None);
        let mut extra = b.to_vec();
        extra.push(0);
        assert_eq!(Packed::from_bytes(&extra), None);
    }

    #[test]
    fn partial_dates_and_absent_fields_survive_packing() {
        let s = StdRecord {
            dob: Some(PartialDate {
                year: 1990,
                month: None,
                day: None,
            }),
            ..StdRecord::default()
        };
        let p = Packed::from_std(&s);
        let v = p.view();
        assert!(v.given.is_none() && v.family.is_none());
        assert_eq!(v.dob.unwrap().month, None);
        assert!(!v.is_empty());
        assert!(Packed::from_std(&StdRecord::default()).view().is_empty());
    }

    #[test]
    fn long_multibyte_strings_are_cut_at_char_boundaries() {
        let s = StdRecord {
            family: Some("é".repeat(200)),
            ..StdRecord::default()
        };
        let p = Packed::from_std(&s);
        let f = p.view().family.unwrap();
        assert!(f.text.len() <= 255 && f.text.chars().all(|c| c == 'é'));
    }

    #[test]
    fn phonetic_codes_match_sound_alikes() {
        let a = Packed::from_std(&StdRecord {
            family: Some("smith".into()),
            ..Default::default()
        });
        let b = Packed::from_std(&StdRecord {
            family: Some("smyth".into()),
            ..Default::default()
        });
        assert!(a
            .view()
            .family
            .unwrap()
            .phonetic_match(&b.view().family.unwrap()));
    }
}
