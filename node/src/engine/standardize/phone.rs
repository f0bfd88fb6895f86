//! Phone numbers: parses a number as written (national or international,
//! with any punctuation) with the `phonenumber` crate and returns it in
//! E.164 form ("+61412345678"). A cheap scan rejects obvious junk before the
//! (comparatively slow) library parser runs.

use std::panic::{catch_unwind, AssertUnwindSafe};

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};
use smallvec::SmallVec;

/// Why a phone number could not be standardised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneError {
    /// Nothing but whitespace.
    Empty,
    /// Not a plausible phone number; the message says why.
    Invalid(String),
}

impl std::fmt::Display for PhoneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhoneError::Empty => f.write_str("empty phone number"),
            PhoneError::Invalid(why) => write!(f, "invalid phone number: {why}"),
        }
    }
}

impl std::error::Error for PhoneError {}

fn invalid(why: &str) -> PhoneError {
    PhoneError::Invalid(why.to_owned())
}

const MIN_DIGITS: usize = 6;
/// E.164 allows 15 digits; leave room for an international or trunk prefix.
const MAX_DIGITS: usize = 18;

/// The digits of a number as written, and whether it was written in
/// international form (leading `+`).
struct Scanned {
    plus: bool,
    digits: SmallVec<[u8; 20]>,
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '(' | ')' | '/' | '\u{2010}'..='\u{2015}' | '\u{2212}'
        )
}

/// Cheap pre-check: collect digits, honour a leading `+`, skip an
/// international "(0)" trunk marker, stop at an extension ("x12", "ext 3",
/// "#4") and reject anything else that is not punctuation.
fn scan(s: &str) -> Result<Scanned, PhoneError> {
    let mut t = s.trim();
    if t.len() >= 4 && t.is_char_boundary(4) && t[..4].eq_ignore_ascii_case("tel:") {
        t = t[4..].trim_start();
    }
    let mut out = Scanned {
        plus: false,
        digits: SmallVec::new(),
    };
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if out.plus && !out.digits.is_empty() && rest.starts_with("(0)") {
            // "+44 (0)20 7946 0958": the bracketed trunk prefix is not dialled
            rest = &rest[3..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if let Some(d) = c.to_digit(10) {
            if out.digits.len() >= MAX_DIGITS {
                return Err(invalid("too many digits"));
            }
            // `d` < 10, so the cast is lossless.
            out.digits.push(b'0' + d as u8);
        } else if c == '+' && out.digits.is_empty() && !out.plus {
            out.plus = true;
        } else if is_separator(c) {
            continue;
        } else if out.digits.len() >= MIN_DIGITS
            && (c.is_alphabetic() || matches!(c, '#' | ',' | ';' | '*'))
        {
            break; // extension or trailing note
        } else {
            return Err(PhoneError::Invalid(format!("unexpected character {c:?}")));
        }
    }
    Ok(out)
}

/// The phonenumber region of an ISO alpha-2 code ("UK" is accepted for GB).
fn region_id(region: &str) -> Option<Id> {
    let r = region.trim();
    if r.len() != 2 || !r.is_ascii() {
        return None;
    }
    let up = r.to_ascii_uppercase();
    let code = if up == "UK" { "GB" } else { up.as_str() };
    code.parse::<Id>().ok()
}

fn parse(region: Option<Id>, text: &str) -> Option<PhoneNumber> {
    // The parser has had panics on odd input in the past; it only ever sees
    // digits and a leading '+' here, but a panic must still never escape.
    catch_unwind(AssertUnwindSafe(|| phonenumber::parse(region, text).ok()))
        .ok()
        .flatten()
}

fn all_same(digits: &[u8]) -> bool {
    digits.windows(2).all(|w| w[0] == w[1])
}

/// Reject E.164 text whose national part (after `cc_len` country-code
/// digits) is implausible.
fn check_e164(e164: String, cc_len: usize) -> Result<String, PhoneError> {
    let digits = e164.len().saturating_sub(1);
    let national = e164.as_bytes().get(1 + cc_len..).unwrap_or(&[]);
    if national.len() < 4 {
        return Err(invalid("national number too short"));
    }
    if all_same(national) {
        return Err(invalid("national number is one repeated digit"));
    }
    if !(7..=15).contains(&digits) {
        return Err(invalid("not a valid E.164 length"));
    }
    Ok(e164)
}

fn to_e164(n: &PhoneNumber) -> Result<String, PhoneError> {
    let e164 = n.format().mode(Mode::E164).to_string();
    if !e164.starts_with('+') || !e164.bytes().skip(1).all(|b| b.is_ascii_digit()) {
        return Err(invalid("not a valid E.164 number"));
    }
    let cc_len = n.code().value().to_string().len();
    check_e164(e164, cc_len)
}

fn e164_from(cc: &str, national: &[u8]) -> (String, usize) {
    let mut s = String::with_capacity(1 + cc.len() + national.len());
    s.push('+');
    s.push_str(cc);
    s.extend(national.iter().map(|&b| char::from(b)));
    (s, cc.len())
}

/// The commonest shapes (Australian, North American and British numbers),
/// answered without the library parser, which is comparatively slow and
/// serialises threads on its regex cache. Tests check these agree with the
/// library on every shape handled here.
fn fast_e164(plus: bool, d: &[u8], region: Option<Id>) -> Option<(String, usize)> {
    let au_lead = |b: u8| matches!(b, b'2' | b'3' | b'4' | b'7' | b'8');
    let nanp_lead = |b: u8| (b'2'..=b'9').contains(&b);
    // GB numbers starting with 1 include ranges the numbering plan leaves
    // unallocated; only the library's metadata can tell them apart.
    let gb_lead = |b: u8| matches!(b, b'2' | b'3' | b'7');
    if plus {
        return match d {
            [b'6', b'1', n @ ..] if n.len() == 9 && au_lead(n[0]) => Some(e164_from("61", n)),
            [b'1', n @ ..] if n.len() == 10 && nanp_lead(n[0]) && nanp_lead(n[3]) => {
                Some(e164_from("1", n))
            }
            [b'4', b'4', n @ ..] if n.len() == 10 && gb_lead(n[0]) => Some(e164_from("44", n)),
            _ => None,
        };
    }
    match (region?, d) {
        (Id::AU, [b'0', n @ ..]) | (Id::AU, n) if n.len() == 9 && au_lead(n[0]) => {
            Some(e164_from("61", n))
        }
        (Id::US | Id::CA, [b'1', n @ ..]) | (Id::US | Id::CA, n)
            if n.len() == 10 && nanp_lead(n[0]) && nanp_lead(n[3]) =>
        {
            Some(e164_from("1", n))
        }
        (Id::GB, [b'0', n @ ..]) if n.len() == 10 && gb_lead(n[0]) => Some(e164_from("44", n)),
        _ => None,
    }
}

/// Parse `s` with the `phonenumber` crate, reading national numbers in
/// `default_region` (ISO alpha-2 like "AU", "GB", "US"; numbers starting
/// with `+` or `00` are read as international), and return E.164
/// ("+61412345678"). Obviously bogus numbers (fewer than 6 digits, one
/// repeated digit such as 0000000000, letters) are `Invalid`. An extension
/// ("x123", "ext 4") is dropped.
pub fn normalize_phone(s: &str, default_region: &str) -> Result<String, PhoneError> {
    if s.trim().is_empty() {
        return Err(PhoneError::Empty);
    }
    let sc = scan(s)?;
    let digits = sc.digits.as_slice();
    if digits.len() < MIN_DIGITS {
        return Err(invalid("too few digits"));
    }
    if all_same(digits) {
        return Err(invalid("one repeated digit"));
    }
    let region = region_id(default_region);
    if let Some((e164, cc_len)) = fast_e164(sc.plus, digits, region) {
        return check_e164(e164, cc_len);
    }
    let out = slow_path(sc.plus, digits, region)?;
    // The library can read a national number ("0000001" in AU) into an
    // E.164 form that it then reads back differently: keep only forms that
    // are their own normalisation, so a value standardises the same way
    // however often it passes through.
    if slow_path(true, &out.as_bytes()[1..], region).as_deref() != Ok(out.as_str()) {
        return Err(invalid("no stable international form"));
    }
    Ok(out)
}

/// Everything the fast path does not handle, through the library parser.
fn slow_path(plus: bool, digits: &[u8], region: Option<Id>) -> Result<String, PhoneError> {
    // `digits` holds only ASCII digits.
    let digits_str = std::str::from_utf8(digits).map_err(|_| invalid("not digits"))?;
    if plus {
        let mut text = String::with_capacity(digits.len() + 1);
        text.push('+');
        text.push_str(digits_str);
        return match parse(region, &text) {
            Some(n) => to_e164(&n),
            None => Err(invalid("not a valid international number")),
        };
    }

    let national = region.and_then(|r| parse(Some(r), digits_str));
    if let Some(idd) = digits_str.strip_prefix("00") {
        // "00" is the international prefix in most of the world; prefer the
        // region's own reading only when it is a valid number there.
        if let Some(n) = national.as_ref().filter(|n| n.is_valid()) {
            return to_e164(n);
        }
        let mut text = String::with_capacity(idd.len() + 1);
        text.push('+');
        text.push_str(idd);
        if let Some(n) = parse(None, &text) {
            return to_e164(&n);
        }
    }
    match (national, region) {
        (Some(n), _) => to_e164(&n),
        (None, Some(_)) => Err(invalid("not a valid number for the region")),
        (None, None) => Err(invalid("national number without a known region")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str, region: &str) -> String {
        match normalize_phone(s, region) {
            Ok(p) => p,
            Err(e) => panic!("{s:?} ({region}): {e}"),
        }
    }

    fn is_invalid(s: &str, region: &str) -> bool {
        matches!(normalize_phone(s, region), Err(PhoneError::Invalid(_)))
    }

    #[test]
    fn national_numbers() {
        assert_eq!(ok("0412 345 678", "AU"), "+61412345678");
        assert_eq!(ok("(02) 9876-5432", "AU"), "+61298765432");
        assert_eq!(ok("020 7946 0958", "GB"), "+442079460958");
        assert_eq!(ok("07700 900123", "uk"), "+447700900123");
        assert_eq!(ok("(415) 555-2671", "US"), "+14155552671");
        assert_eq!(ok("1-415-555-2671", "US"), "+14155552671");
        assert_eq!(ok("415.555.2671 ext. 12", "US"), "+14155552671");
    }

    #[test]
    fn international_numbers() {
        assert_eq!(ok("+61 412 345 678", "GB"), "+61412345678");
        assert_eq!(ok("+61 412 345 678", ""), "+61412345678");
        assert_eq!(ok("+44 (0)20 7946 0958", "AU"), "+442079460958");
        assert_eq!(ok("0044 20 7946 0958", "GB"), "+442079460958");
        assert_eq!(ok("0061 412 345 678", "US"), "+61412345678");
        assert_eq!(ok("tel:+1-415-555-2671", "AU"), "+14155552671");
    }

    #[test]
    fn bogus_numbers() {
        assert_eq!(normalize_phone("", "AU"), Err(PhoneError::Empty));
        assert_eq!(normalize_phone("  ", "AU"), Err(PhoneError::Empty));
        assert!(is_invalid("0000000000", "AU"));
        assert!(is_invalid("+61 0000 0000", "AU"));
        assert!(is_invalid("12345", "AU"));
        // Read as +6100001, which reads back as something else.
        assert!(is_invalid("0000001", "AU"));
        assert!(is_invalid("n/a", "AU"));
        assert!(is_invalid("call me", "AU"));
        assert!(is_invalid("0412 345 678 0412 345 678", "AU"));
        assert!(is_invalid("0412345678", "")); // national, no region
        assert!(is_invalid("0412345678", "ZZ"));
        assert!(is_invalid("+999 1234 5678", "AU"));
    }

    fn slow(s: &str, region: &str) -> Result<String, PhoneError> {
        let sc = scan(s)?;
        slow_path(sc.plus, &sc.digits, region_id(region))
    }

    #[test]
    fn fast_path_handles_common_shapes() {
        for (s, r) in [
            ("0412 345 678", "AU"),
            ("412 345 678", "AU"),
            ("+61 2 9876 5432", "GB"),
            ("(415) 555-2671", "US"),
            ("1 416 555 0199", "CA"),
            ("+1 415 555 2671", "AU"),
            ("020 7946 0958", "GB"),
            ("+44 7700 900123", "US"),
        ] {
            let sc = scan(s).ok();
            let fast = sc.and_then(|sc| fast_e164(sc.plus, &sc.digits, region_id(r)));
            assert!(fast.is_some(), "{s} ({r}) should take the fast path");
            assert_eq!(normalize_phone(s, r), slow(s, r), "{s} ({r})");
        }
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_library(
            shape in 0usize..9,
            lead in 0usize..5,
            rest in "[0-9]{10}",
            sep in "[ -]?",
        ) {
            let au = [b'2', b'3', b'4', b'7', b'8'][lead] as char;
            let nanp = char::from(b'2' + (lead as u8));
            let gb = ['1', '2', '3', '7', '1'][lead];
            let (s, r) = match shape {
                0 => (format!("0{au}{sep}{}", &rest[..8]), "AU"),
                1 => (format!("{au}{}", &rest[..8]), "AU"),
                2 => (format!("+61{sep}{au}{}", &rest[..8]), "NZ"),
                3 => (format!("{nanp}{}{sep}{nanp}{}", &rest[..2], &rest[..6]), "US"),
                4 => (format!("1{sep}{nanp}{}{nanp}{}", &rest[..2], &rest[..6]), "CA"),
                5 => (format!("+1{nanp}{}{sep}{nanp}{}", &rest[..2], &rest[..6]), "AU"),
                6 => (format!("0{gb}{}", &rest[..9]), "GB"),
                7 => (format!("+44{sep}{gb}{}", &rest[..9]), "AU"),
                _ => (format!("0{au}{}", &rest[..8]), "US"),
            };
            prop_assert_eq!(normalize_phone(&s, r), slow(&s, r), "{} ({})", s, r);
        }

        #[test]
        fn never_panics(s in any::<String>(), r in "[A-Za-z]{0,3}") {
            let _ = normalize_phone(&s, &r);
        }

        #[test]
        fn never_panics_on_phone_like(s in "[+]?[0-9 ()x.-]{0,24}") {
            if let Ok(p) = normalize_phone(&s, "AU") {
                prop_assert!(p.starts_with('+'));
                prop_assert!(p[1..].bytes().all(|b| b.is_ascii_digit()));
                // E.164 output is a fixed point
                prop_assert_eq!(normalize_phone(&p, "AU"), Ok(p.clone()));
            }
        }
    }
}
