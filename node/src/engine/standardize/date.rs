//! Dates of birth: parses the many ways sources write a date (ISO,
//! yyyymmdd, dd/mm/yyyy, mm/dd/yyyy, "14 Jul 1985", "July 14, 1985",
//! "14-JUL-85", partial dates such as "1985-07" or "1985") into a
//! [`PartialDate`], flagging day/month order that could not be decided.

use std::sync::LazyLock;

use chrono::format::{Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDate};

/// A calendar date of which the month and day may be unknown (a day is only
/// ever present with a month).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// A validated date: year in 1850..=2100, month 1..=12, a day that
    /// exists in that month, and no day without a month.
    pub fn new(year: u16, month: Option<u8>, day: Option<u8>) -> Option<PartialDate> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return None;
        }
        match (month, day) {
            (None, Some(_)) => return None,
            (Some(m), None) if !(1..=12).contains(&m) => return None,
            (Some(m), Some(d)) => {
                NaiveDate::from_ymd_opt(i32::from(year), u32::from(m), u32::from(d))?;
            }
            _ => {}
        }
        Some(PartialDate { year, month, day })
    }

    /// ISO 8601 text: "1985-07-14", "1985-07" or "1985".
    pub fn to_iso(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{:02}-{:02}", self.year, m, d),
            (Some(m), None) => format!("{:04}-{:02}", self.year, m),
            _ => format!("{:04}", self.year),
        }
    }

    /// True when year, month and day are all known.
    pub fn is_full(&self) -> bool {
        self.month.is_some() && self.day.is_some()
    }
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_iso())
    }
}

/// How to read an all-numeric date whose first two parts could both be a
/// day or a month ("03/04/1985").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DateOrder {
    DayFirst,
    MonthFirst,
}

/// A parsed date and whether its day/month order was a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDate {
    pub date: PartialDate,
    /// true when dd/mm vs mm/dd could not be decided from the value itself
    /// (both parts <= 12 and different) and `DateOrder` was used.
    pub ambiguous: bool,
}

/// Why a date could not be standardised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Nothing but whitespace.
    Empty,
    /// Not a recognisable, real date in 1850..=2100; the message says why.
    Invalid(String),
}

impl std::fmt::Display for DateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DateError::Empty => f.write_str("empty date"),
            DateError::Invalid(why) => write!(f, "invalid date: {why}"),
        }
    }
}

impl std::error::Error for DateError {}

fn invalid(why: &str) -> DateError {
    DateError::Invalid(why.to_owned())
}

const MIN_YEAR: u16 = 1850;
const MAX_YEAR: u16 = 2100;

/// Two-digit years above this are 19yy, others 20yy.
static PIVOT: LazyLock<u32> = LazyLock::new(|| {
    // `rem_euclid(100)` is in 0..100, so the conversion cannot fail.
    u32::try_from(chrono::Utc::now().year().rem_euclid(100)).unwrap_or(0)
});

fn expand_two_digit_year(yy: u32) -> u32 {
    if yy > *PIVOT {
        1900 + yy
    } else {
        2000 + yy
    }
}

/// A validated [`PartialDate`] from parsed numbers, or why they are not one.
fn partial_date(year: u32, month: Option<u32>, day: Option<u32>) -> Result<PartialDate, DateError> {
    let year = u16::try_from(year).map_err(|_| invalid("year out of range"))?;
    let month = month
        .map(u8::try_from)
        .transpose()
        .map_err(|_| invalid("bad month"))?;
    let day = day
        .map(u8::try_from)
        .transpose()
        .map_err(|_| invalid("bad day"))?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(DateError::Invalid(format!(
            "year {year} outside {MIN_YEAR}..={MAX_YEAR}"
        )));
    }
    PartialDate::new(year, month, day).ok_or_else(|| invalid("no such calendar date"))
}

/// Parse with one caller-supplied strftime format. Formats that yield only
/// a year ("%Y") or a year and month ("%Y-%m", "%b %Y") give partial dates.
fn parse_with_format(s: &str, format: &str) -> Option<PartialDate> {
    let mut p = Parsed::new();
    chrono::format::parse(&mut p, s, StrftimeItems::new(format)).ok()?;
    let year = match (p.year(), p.year_div_100(), p.year_mod_100()) {
        (Some(y), _, _) => y,
        (None, Some(c), Some(y)) => c.checked_mul(100)?.checked_add(y)?,
        (None, None, Some(y)) => {
            i32::try_from(expand_two_digit_year(u32::try_from(y).ok()?)).ok()?
        }
        _ => return None,
    };
    let year = u32::try_from(year).ok()?;
    match (p.month(), p.day(), p.ordinal()) {
        (Some(m), d, _) => partial_date(year, Some(m), d).ok(),
        (None, None, Some(o)) => {
            let d = NaiveDate::from_yo_opt(i32::try_from(year).ok()?, o)?;
            partial_date(year, Some(d.month()), Some(d.day())).ok()
        }
        (None, Some(_), _) => None,
        (None, None, None) => partial_date(year, None, None).ok(),
    }
}

/// A run of digits: its value and how many digits were written.
#[derive(Debug, Clone, Copy)]
struct Num {
    value: u32,
    len: usize,
}

fn month_from_word(w: &str) -> Option<u32> {
    Some(match w {
        "jan" | "january" => 1,
        "feb" | "february" => 2,
        "mar" | "march" => 3,
        "apr" | "april" => 4,
        "may" => 5,
        "jun" | "june" => 6,
        "jul" | "july" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" => 10,
        "nov" | "november" => 11,
        "dec" | "december" => 12,
        _ => return None,
    })
}

/// Words that carry no date information: ordinal suffixes, "of", weekdays.
fn is_filler_word(w: &str) -> bool {
    matches!(
        w,
        "st" | "nd"
            | "rd"
            | "th"
            | "of"
            | "the"
            | "mon"
            | "monday"
            | "tue"
            | "tues"
            | "tuesday"
            | "wed"
            | "wednesday"
            | "thu"
            | "thur"
            | "thurs"
            | "thursday"
            | "fri"
            | "friday"
            | "sat"
            | "saturday"
            | "sun"
            | "sunday"
    )
}

/// Numbers and the month name of a date string, in order of appearance.
struct Tokens {
    nums: [Num; 3],
    n: usize,
    month: Option<u32>,
}

fn tokenize(s: &str) -> Result<Tokens, DateError> {
    let mut t = Tokens {
        nums: [Num { value: 0, len: 0 }; 3],
        n: 0,
        month: None,
    };
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let len = i - start;
            if len > 8 {
                return Err(invalid("number too long"));
            }
            if t.n == t.nums.len() {
                return Err(invalid("too many numbers"));
            }
            let value = b[start..i]
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            t.nums[t.n] = Num { value, len };
            t.n += 1;
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let mut buf = [0u8; 9];
            let word = &b[start..i];
            if word.len() > buf.len() {
                return Err(invalid("unrecognised word"));
            }
            for (dst, src) in buf.iter_mut().zip(word) {
                *dst = src.to_ascii_lowercase();
            }
            let w = std::str::from_utf8(&buf[..word.len()]).map_err(|_| invalid("bad text"))?;
            if let Some(m) = month_from_word(w) {
                if t.month.is_some() {
                    return Err(invalid("two month names"));
                }
                t.month = Some(m);
            } else if !is_filler_word(w) {
                return Err(DateError::Invalid(format!("unrecognised word {w:?}")));
            }
        } else if c.is_ascii() {
            i += 1; // separator
        } else {
            return Err(invalid("unexpected character"));
        }
    }
    Ok(t)
}

/// Year from a 4-digit or 2-digit number.
fn year_of(n: Num) -> Result<u32, DateError> {
    match n.len {
        4 => Ok(n.value),
        1 | 2 => Ok(expand_two_digit_year(n.value)),
        _ => Err(invalid("year must have 2 or 4 digits")),
    }
}

/// Decide day and month from two numbers written "a/b": returns
/// (day, month, ambiguous).
fn day_month(a: u32, b: u32, order: DateOrder) -> Result<(u32, u32, bool), DateError> {
    match (a <= 12, b <= 12) {
        (true, true) => {
            let (d, m) = match order {
                DateOrder::DayFirst => (a, b),
                DateOrder::MonthFirst => (b, a),
            };
            Ok((d, m, a != b))
        }
        (false, true) => Ok((a, b, false)),
        (true, false) => Ok((b, a, false)),
        (false, false) => Err(invalid("neither part can be a month")),
    }
}

/// A validated year-month-day date, its day/month order flagged `ambiguous` or not.
fn full_date(year: u32, month: u32, day: u32, ambiguous: bool) -> Result<ParsedDate, DateError> {
    Ok(ParsedDate {
        date: partial_date(year, Some(month), Some(day))?,
        ambiguous,
    })
}

/// `date` as parsed, its day/month order not in doubt.
fn unambiguous(date: PartialDate) -> ParsedDate {
    ParsedDate {
        date,
        ambiguous: false,
    }
}

/// Dates written with a month name: "14 Jul 1985", "July 14, 1985",
/// "14-JUL-85", "1985 Jul 14", "July 1985".
fn with_month_name(nums: &[Num], month: u32) -> Result<ParsedDate, DateError> {
    match *nums {
        [y] if y.len == 4 => Ok(unambiguous(partial_date(y.value, Some(month), None)?)),
        [a, b] if a.len == 4 && b.len <= 2 => full_date(a.value, month, b.value, false),
        [a, b] if b.len == 4 && a.len <= 2 => full_date(b.value, month, a.value, false),
        [a, b] if a.len <= 2 && b.len <= 2 => {
            if a.value > 31 {
                full_date(year_of(a)?, month, b.value, false)
            } else {
                full_date(year_of(b)?, month, a.value, false)
            }
        }
        _ => Err(invalid("unrecognised date with month name")),
    }
}

/// All-numeric dates.
fn numeric(nums: &[Num], order: DateOrder) -> Result<ParsedDate, DateError> {
    match *nums {
        [y] if y.len == 4 => Ok(unambiguous(partial_date(y.value, None, None)?)),
        [n] if n.len == 8 => {
            // yyyymmdd, else ddmmyyyy / mmddyyyy
            let (hi, mid, lo) = (n.value / 10_000, n.value / 100 % 100, n.value % 100);
            full_date(hi, mid, lo, false).or_else(|_| {
                let (a, b, y) = (
                    n.value / 1_000_000,
                    n.value / 10_000 % 100,
                    n.value % 10_000,
                );
                let (d, m, amb) = day_month(a, b, order)?;
                full_date(y, m, d, amb)
            })
        }
        [n] if n.len == 6 => {
            let (y, m) = (n.value / 100, n.value % 100);
            Ok(unambiguous(
                partial_date(y, Some(m), None)
                    .map_err(|_| invalid("six digits: expected yyyymm"))?,
            ))
        }
        [a, b] if a.len == 4 && b.len <= 2 => {
            Ok(unambiguous(partial_date(a.value, Some(b.value), None)?))
        }
        [a, b] if b.len == 4 && a.len <= 2 => {
            Ok(unambiguous(partial_date(b.value, Some(a.value), None)?))
        }
        [a, b, c] if a.len == 4 && b.len <= 2 && c.len <= 2 => {
            full_date(a.value, b.value, c.value, false)
        }
        [a, b, c] if a.len <= 2 && b.len <= 2 && c.len == 4 => {
            let (d, m, amb) = day_month(a.value, b.value, order)?;
            full_date(c.value, m, d, amb)
        }
        [a, b, c] if a.len <= 2 && b.len <= 2 && c.len <= 2 => {
            if a.value > 31 && c.value <= 31 {
                // yy-mm-dd
                full_date(year_of(a)?, b.value, c.value, false)
            } else {
                let (d, m, amb) = day_month(a.value, b.value, order)?;
                full_date(year_of(c)?, m, d, amb)
            }
        }
        _ => Err(invalid("unrecognised date format")),
    }
}

/// Drop a trailing time of day: "1985-07-14T10:30:00Z", "14/07/1985 10:30".
fn strip_time(s: &str) -> &str {
    match s.find(':') {
        Some(colon) => {
            let head = &s[..colon];
            match head.rfind(|c: char| c.is_whitespace() || c == 'T') {
                Some(cut) => head[..cut].trim_end(),
                None => s,
            }
        }
        None => s,
    }
}

/// Parse a date of birth. The caller's strftime `formats` are tried first
/// (chrono syntax; formats yielding only a year or a year and month, such as
/// "%Y" or "%Y-%m", give partial dates), then the built-in formats: ISO
/// 1985-07-14, 1985/07/14, 19850714, dd/mm/yyyy, mm/dd/yyyy, dd-mm-yyyy,
/// dd.mm.yyyy, "14 Jul 1985", "July 14, 1985", "14-JUL-85", two-digit years
/// (yy above the current year's last two digits is 19yy, else 20yy) and
/// partial dates "1985-07", "07/1985", "1985". A trailing time of day is
/// ignored.
///
/// For dd/mm vs mm/dd a part above 12 decides; otherwise `order` is used
/// and `ambiguous` is set (unless day == month). Only real calendar dates
/// with years in 1850..=2100 are accepted.
pub fn parse_date(s: &str, formats: &[String], order: DateOrder) -> Result<ParsedDate, DateError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DateError::Empty);
    }
    if t.len() > 64 {
        return Err(invalid("too long"));
    }
    for f in formats {
        if let Some(d) = parse_with_format(t, f) {
            return Ok(unambiguous(d));
        }
    }
    let tok = tokenize(strip_time(t))?;
    let nums = &tok.nums[..tok.n];
    match tok.month {
        Some(m) => with_month_name(nums, m),
        None => numeric(nums, order),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DF: DateOrder = DateOrder::DayFirst;
    const MF: DateOrder = DateOrder::MonthFirst;

    fn d(y: u16, m: Option<u8>, day: Option<u8>) -> PartialDate {
        PartialDate {
            year: y,
            month: m,
            day,
        }
    }

    fn iso(s: &str, order: DateOrder) -> String {
        match parse_date(s, &[], order) {
            Ok(p) => p.date.to_iso(),
            Err(e) => format!("ERR {e}"),
        }
    }

    fn amb(s: &str, order: DateOrder) -> bool {
        parse_date(s, &[], order)
            .map(|p| p.ambiguous)
            .unwrap_or(false)
    }

    #[test]
    fn partial_date_basics() {
        assert_eq!(d(1985, Some(7), Some(14)).to_iso(), "1985-07-14");
        assert_eq!(d(1985, Some(7), None).to_iso(), "1985-07");
        assert_eq!(d(1985, None, None).to_iso(), "1985");
        assert!(d(1985, Some(7), Some(14)).is_full());
        assert!(!d(1985, Some(7), None).is_full());
        assert!(PartialDate::new(1985, None, Some(3)).is_none());
        assert!(PartialDate::new(1985, Some(2), Some(29)).is_none());
        assert!(PartialDate::new(1984, Some(2), Some(29)).is_some());
        assert!(d(1985, None, None) < d(1985, Some(1), None));
    }

    #[test]
    fn iso_and_compact() {
        assert_eq!(iso("1985-07-14", DF), "1985-07-14");
        assert_eq!(iso("1985/7/4", MF), "1985-07-04");
        assert_eq!(iso("19850714", DF), "1985-07-14");
        assert_eq!(iso("14071985", DF), "1985-07-14");
        assert_eq!(iso(" 1985-07-14T10:30:00Z ", DF), "1985-07-14");
        assert_eq!(iso("1985-07-14 00:00:00", DF), "1985-07-14");
        assert!(!amb("1985-07-04", MF));
    }

    #[test]
    fn day_month_order() {
        assert_eq!(iso("14/07/1985", MF), "1985-07-14"); // 14 cannot be a month
        assert!(!amb("14/07/1985", MF));
        assert_eq!(iso("07/14/1985", DF), "1985-07-14");
        assert!(!amb("07/14/1985", DF));
        assert_eq!(iso("03/04/1985", DF), "1985-04-03");
        assert_eq!(iso("03/04/1985", MF), "1985-03-04");
        assert!(amb("03/04/1985", DF));
        assert!(amb("03/04/1985", MF));
        assert!(!amb("04/04/1985", DF)); // same either way
        assert_eq!(iso("14-07-1985", DF), "1985-07-14");
        assert_eq!(iso("14.07.1985", DF), "1985-07-14");
        assert!(iso("13/14/1985", DF).starts_with("ERR"));
    }

    #[test]
    fn month_names() {
        assert_eq!(iso("14 Jul 1985", MF), "1985-07-14");
        assert_eq!(iso("July 14, 1985", DF), "1985-07-14");
        assert_eq!(iso("14-JUL-85", DF), "1985-07-14");
        assert_eq!(iso("14th of July 1985", DF), "1985-07-14");
        assert_eq!(iso("Sunday, 14 July 1985", DF), "1985-07-14");
        assert_eq!(iso("1985 Sept 3", DF), "1985-09-03");
        assert_eq!(iso("July 1985", DF), "1985-07");
        assert!(!amb("14 Jul 1985", DF));
        assert!(iso("14 Foo 1985", DF).starts_with("ERR"));
        assert!(iso("30 Feb 1985", DF).starts_with("ERR"));
    }

    #[test]
    fn two_digit_years_pivot() {
        let yy = *PIVOT;
        let past = (yy + 1) % 100; // just above the pivot -> 1900s
        if past > yy {
            assert_eq!(
                iso(&format!("01/02/{past:02}"), DF),
                format!("19{past:02}-02-01")
            );
        }
        assert_eq!(
            iso(&format!("01/02/{yy:02}"), DF),
            format!("20{yy:02}-02-01")
        );
        assert_eq!(iso("14/07/85", DF), "1985-07-14");
        assert_eq!(iso("85/07/14", DF), "1985-07-14"); // yy-mm-dd when first > 31
    }

    #[test]
    fn partial_dates() {
        assert_eq!(iso("1985-07", DF), "1985-07");
        assert_eq!(iso("07/1985", DF), "1985-07");
        assert_eq!(iso("1985", DF), "1985");
        assert_eq!(iso("198507", DF), "1985-07");
        assert!(!parse_date("1985", &[], DF)
            .map(|p| p.date.is_full())
            .unwrap_or(true));
    }

    #[test]
    fn invalid_dates() {
        assert_eq!(parse_date("", &[], DF), Err(DateError::Empty));
        assert_eq!(parse_date("  ", &[], DF), Err(DateError::Empty));
        for bad in [
            "31/02/1985",
            "1985-13-01",
            "1985-00-10",
            "1700-01-01",
            "2200-01-01",
            "1849",
            "00/00/0000",
            "unknown",
            "n/a",
            "12",
            "1985-07-14-01",
            "123456789",
            "29/02/1985",
            "١٩٨٥",
        ] {
            assert!(
                matches!(parse_date(bad, &[], DF), Err(DateError::Invalid(_))),
                "{bad:?} should be invalid"
            );
        }
        assert_eq!(iso("29/02/1984", DF), "1984-02-29");
    }

    #[test]
    fn caller_formats_first() {
        let f = vec!["%Y%d%m".to_owned()];
        // built-in reading of 19851407 fails (month 14); the format reads it
        let p = parse_date("19851407", &f, DF).ok();
        assert_eq!(p.map(|p| p.date.to_iso()), Some("1985-07-14".to_owned()));
        // format taking precedence over an ambiguous built-in reading
        let f = vec!["%m/%d/%Y".to_owned()];
        let p = parse_date("03/04/1985", &f, DF).ok();
        assert_eq!(
            p.map(|p| (p.date.to_iso(), p.ambiguous)),
            Some(("1985-03-04".to_owned(), false))
        );
        // partial formats
        let f = vec!["%Y".to_owned(), "%b %Y".to_owned()];
        assert_eq!(
            parse_date("1985", &f, DF).map(|p| p.date),
            Ok(d(1985, None, None))
        );
        assert_eq!(
            parse_date("Jul 1985", &f, DF).map(|p| p.date),
            Ok(d(1985, Some(7), None))
        );
        // %y uses the same pivot
        let f = vec!["%d%m%y".to_owned()];
        assert_eq!(
            parse_date("140785", &f, DF).map(|p| p.date.to_iso()),
            Ok("1985-07-14".to_owned())
        );
        // ordinal dates
        let f = vec!["%Y-%j".to_owned()];
        assert_eq!(
            parse_date("1985-195", &f, DF).map(|p| p.date.to_iso()),
            Ok("1985-07-14".to_owned())
        );
        // a format that does not match falls through to built-ins; junk formats are harmless
        let f = vec!["%Q%%%".to_owned(), "%H:%M".to_owned(), String::new()];
        assert_eq!(iso_with("1985-07-14", &f), "1985-07-14");
    }

    fn iso_with(s: &str, f: &[String]) -> String {
        parse_date(s, f, DF)
            .map(|p| p.date.to_iso())
            .unwrap_or_default()
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>(), f in proptest::collection::vec(any::<String>(), 0..3), mf in any::<bool>()) {
            let order = if mf { MF } else { DF };
            if let Ok(p) = parse_date(&s, &f, order) {
                prop_assert!((1850..=2100).contains(&p.date.year));
                prop_assert!(p.date.day.is_none() || p.date.month.is_some());
            }
        }

        #[test]
        fn iso_roundtrip(y in 1850u16..=2100, m in 1u8..=12, dd in 1u8..=28, depth in 0usize..3) {
            let date = match depth {
                0 => d(y, Some(m), Some(dd)),
                1 => d(y, Some(m), None),
                _ => d(y, None, None),
            };
            let back = parse_date(&date.to_iso(), &[], MF);
            prop_assert_eq!(back, Ok(ParsedDate { date, ambiguous: false }));
        }

        #[test]
        fn numeric_day_first(y in 1900u16..=2020, m in 1u8..=12, dd in 1u8..=28) {
            let s = format!("{dd:02}/{m:02}/{y}");
            let p = parse_date(&s, &[], DF);
            prop_assert_eq!(p.map(|p| p.date), Ok(d(y, Some(m), Some(dd))));
        }
    }
}
