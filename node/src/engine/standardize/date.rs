//! Dates of birth: parses the many ways sources write a date (ISO,
//! yyyy-dd-mm, yyyymmdd, dd/mm/yyyy, mm/dd/yyyy, "14 Jul 1985",
//! "July 14, 1985", "14-JUL-85", partial dates such as "1985-07" or "1985")
//! into a [`PartialDate`], flagging day/month order that could not be
//! decided. A date with one impossible part (month 19) keeps the parts that
//! are good evidence. Years from 1000 to 2100 are accepted (genealogy
//! records reach back centuries). Two-digit years are read against a
//! caller-supplied reference year, never the wall clock, so the same input
//! always gives the same date.

use chrono::format::{Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDate};

/// A calendar date of which the month and day may be unknown. A day without
/// a month comes from a date whose month was impossible ("1985-19-25").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// A validated date: year in 1000..=2100, month 1..=12, a day that
    /// exists in that month (1..=31 when the month is unknown).
    pub fn new(year: u16, month: Option<u8>, day: Option<u8>) -> Option<PartialDate> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return None;
        }
        match (month, day) {
            (None, Some(d)) if !(1..=31).contains(&d) => return None,
            (Some(m), None) if !(1..=12).contains(&m) => return None,
            (Some(m), Some(d)) => {
                NaiveDate::from_ymd_opt(i32::from(year), u32::from(m), u32::from(d))?;
            }
            _ => {}
        }
        Some(PartialDate { year, month, day })
    }

    /// ISO 8601 text: "1985-07-14", "1985-07" or "1985"; a day without a
    /// month in the ISO 8601-2 (EDTF) form "1985-XX-14".
    pub fn to_iso(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{:02}-{:02}", self.year, m, d),
            (Some(m), None) => format!("{:04}-{:02}", self.year, m),
            (None, Some(d)) => format!("{:04}-XX-{:02}", self.year, d),
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

/// How to read dates: the order for ambiguous day/month, and the year
/// two-digit years are read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateContext {
    pub order: DateOrder,
    /// A two-digit year is the latest year ending in those digits that is
    /// not after this one (a date of birth is never in the future). Comes
    /// from the caller's clock, so that reading is a pure function.
    pub reference_year: u16,
}

/// A parsed date and whether its day/month order was a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDate {
    pub date: PartialDate,
    /// true when dd/mm vs mm/dd could not be decided from the value itself
    /// (both parts <= 12 and different) and `DateOrder` was used.
    pub ambiguous: bool,
    /// A part of the written date that was impossible and dropped (the rest
    /// is kept as a partial date).
    pub dropped: Option<DatePart>,
}

/// A part of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    Month,
    Day,
    /// Day and month could not be told apart and neither could be a month.
    DayAndMonth,
}

impl std::fmt::Display for DatePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DatePart::Month => "impossible month dropped, year and day kept",
            DatePart::Day => "impossible day dropped, year and month kept",
            DatePart::DayAndMonth => "impossible day and month dropped, year kept",
        })
    }
}

/// Why a date could not be standardised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Nothing but whitespace.
    Empty,
    /// Not a recognisable date in 1000..=2100; the message says why.
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

/// The earliest year accepted: any year a person on record can have been
/// born in (parish registers and genealogy reach back centuries).
pub const MIN_YEAR: u16 = 1000;
/// The latest year accepted.
pub const MAX_YEAR: u16 = 2100;

/// The latest year not after `reference` whose last two digits are `yy`.
fn expand_two_digit_year(yy: u32, reference: u16) -> u32 {
    let reference = u32::from(reference);
    let candidate = reference / 100 * 100 + yy % 100;
    if candidate > reference {
        candidate.saturating_sub(100)
    } else {
        candidate
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
fn parse_with_format(s: &str, format: &str, reference: u16) -> Option<PartialDate> {
    let mut p = Parsed::new();
    chrono::format::parse(&mut p, s, StrftimeItems::new(format)).ok()?;
    let year = match (p.year(), p.year_div_100(), p.year_mod_100()) {
        (Some(y), _, _) => y,
        (None, Some(c), Some(y)) => c.checked_mul(100)?.checked_add(y)?,
        (None, None, Some(y)) => {
            i32::try_from(expand_two_digit_year(u32::try_from(y).ok()?, reference)).ok()?
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
fn year_of(n: Num, cx: &DateContext) -> Result<u32, DateError> {
    match n.len {
        4 => Ok(n.value),
        1 | 2 => Ok(expand_two_digit_year(n.value, cx.reference_year)),
        _ => Err(invalid("year must have 2 or 4 digits")),
    }
}

fn is_month(v: u32) -> bool {
    (1..=12).contains(&v)
}

/// Decide day and month from two numbers written "a/b": returns
/// (day, month, ambiguous), or None when neither can be a month.
fn day_month(a: u32, b: u32, order: DateOrder) -> Option<(u32, u32, bool)> {
    match (is_month(a), is_month(b)) {
        (true, true) => {
            let (d, m) = match order {
                DateOrder::DayFirst => (a, b),
                DateOrder::MonthFirst => (b, a),
            };
            Some((d, m, a != b))
        }
        (false, true) => Some((a, b, false)),
        (true, false) => Some((b, a, false)),
        (false, false) => None,
    }
}

/// A validated year-month-day date, its day/month order flagged `ambiguous` or not.
fn full_date(year: u32, month: u32, day: u32, ambiguous: bool) -> Result<ParsedDate, DateError> {
    Ok(ParsedDate {
        date: partial_date(year, Some(month), Some(day))?,
        ambiguous,
        dropped: None,
    })
}

/// `date` as parsed, its day/month order not in doubt.
fn unambiguous(date: PartialDate) -> ParsedDate {
    ParsedDate {
        date,
        ambiguous: false,
        dropped: None,
    }
}

/// The good parts of a date whose month or day (as written in those
/// positions) is impossible: the year with the day when only the month is
/// impossible, with the month when only the day is, else the year alone.
fn salvage(year: u32, month: u32, day: u32) -> Result<ParsedDate, DateError> {
    let (date, dropped) = if is_month(month) {
        (partial_date(year, Some(month), None)?, DatePart::Day)
    } else if (1..=31).contains(&day) {
        (partial_date(year, None, Some(day))?, DatePart::Month)
    } else {
        (partial_date(year, None, None)?, DatePart::DayAndMonth)
    };
    Ok(ParsedDate {
        date,
        ambiguous: false,
        dropped: Some(dropped),
    })
}

/// A date written year first: year-month-day, else year-day-month when
/// only that reading is a real date (a day above 12 in the month's place),
/// else the good parts of the year-month-day reading.
fn year_first(year: u32, b: u32, c: u32) -> Result<ParsedDate, DateError> {
    full_date(year, b, c, false)
        .or_else(|_| full_date(year, c, b, false))
        .or_else(|_| salvage(year, b, c))
}

/// A date written day and month (either order) then year. When neither of
/// the two can be a month, the parts are taken in `order`'s positions and
/// the good ones kept.
fn year_last(year: u32, a: u32, b: u32, order: DateOrder) -> Result<ParsedDate, DateError> {
    match day_month(a, b, order) {
        Some((d, m, amb)) => full_date(year, m, d, amb).or_else(|_| salvage(year, m, d)),
        None => match order {
            DateOrder::DayFirst => salvage(year, b, a),
            DateOrder::MonthFirst => salvage(year, a, b),
        },
    }
}

/// Dates written with a month name: "14 Jul 1985", "July 14, 1985",
/// "14-JUL-85", "1985 Jul 14", "July 1985". A day the month does not have
/// is dropped.
fn with_month_name(nums: &[Num], month: u32, cx: &DateContext) -> Result<ParsedDate, DateError> {
    let (year, day) = match *nums {
        [y] if y.len == 4 => return Ok(unambiguous(partial_date(y.value, Some(month), None)?)),
        [a, b] if a.len == 4 && b.len <= 2 => (a.value, b.value),
        [a, b] if b.len == 4 && a.len <= 2 => (b.value, a.value),
        [a, b] if a.len <= 2 && b.len <= 2 && a.value > 31 => (year_of(a, cx)?, b.value),
        [a, b] if a.len <= 2 && b.len <= 2 => (year_of(b, cx)?, a.value),
        _ => return Err(invalid("unrecognised date with month name")),
    };
    full_date(year, month, day, false).or_else(|_| salvage(year, month, day))
}

/// Eight digits: yyyymmdd, ddmmyyyy or mmddyyyy, yyyyddmm, in that order of
/// preference among real dates; else the good parts of yyyymmdd.
fn eight_digits(v: u32, order: DateOrder) -> Result<ParsedDate, DateError> {
    let (hi, mid, lo) = (v / 10_000, v / 100 % 100, v % 100);
    let (a, b, y) = (v / 1_000_000, v / 10_000 % 100, v % 10_000);
    full_date(hi, mid, lo, false)
        .or_else(|_| match day_month(a, b, order) {
            Some((d, m, amb)) => full_date(y, m, d, amb),
            None => Err(invalid("no reading of eight digits is a date")),
        })
        .or_else(|_| full_date(hi, lo, mid, false))
        .or_else(|_| salvage(hi, mid, lo))
}

/// All-numeric dates.
fn numeric(nums: &[Num], cx: &DateContext) -> Result<ParsedDate, DateError> {
    match *nums {
        [y] if y.len == 4 => Ok(unambiguous(partial_date(y.value, None, None)?)),
        [n] if n.len == 8 => eight_digits(n.value, cx.order),
        [n] if n.len == 6 => {
            let (y, m) = (n.value / 100, n.value % 100);
            partial_date(y, Some(m), None)
                .map(unambiguous)
                .or_else(|_| {
                    let two = |value| Num { value, len: 2 };
                    let parts = [two(n.value / 10_000), two(n.value / 100 % 100), two(m)];
                    numeric(&parts, cx)
                })
                .map_err(|_| invalid("six digits: expected yyyymm, ddmmyy or mmddyy"))
        }
        [a, b] if a.len == 4 && b.len <= 2 => {
            Ok(unambiguous(partial_date(a.value, Some(b.value), None)?))
        }
        [a, b] if b.len == 4 && a.len <= 2 => {
            Ok(unambiguous(partial_date(b.value, Some(a.value), None)?))
        }
        [a, b, c] if a.len == 4 && b.len <= 2 && c.len <= 2 => {
            year_first(a.value, b.value, c.value)
        }
        [a, b, c] if a.len <= 2 && b.len <= 2 && c.len == 4 => {
            year_last(c.value, a.value, b.value, cx.order)
        }
        [a, b, c] if a.len <= 2 && b.len <= 2 && c.len <= 2 => {
            if a.value > 31 && c.value <= 31 {
                year_first(year_of(a, cx)?, b.value, c.value)
            } else {
                year_last(year_of(c, cx)?, a.value, b.value, cx.order)
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

/// The ISO 8601-2 form of a day without a month, "1985-XX-14" (what
/// [`PartialDate::to_iso`] writes).
fn unknown_month(s: &str) -> Option<PartialDate> {
    let b = s.as_bytes();
    if b.len() != 10 || !s.is_ascii() || !s[4..8].eq_ignore_ascii_case("-xx-") {
        return None;
    }
    let year = s[..4].parse().ok()?;
    let day = s[8..].parse().ok()?;
    PartialDate::new(year, None, Some(day))
}

/// Parse a date of birth. The caller's strftime `formats` are tried first
/// (chrono syntax; formats yielding only a year or a year and month, such as
/// "%Y" or "%Y-%m", give partial dates), then the built-in formats: ISO
/// 1985-07-14, 1985/07/14, 19850714, yyyy-dd-mm when the day is above 12,
/// dd/mm/yyyy, mm/dd/yyyy, dd-mm-yyyy, dd.mm.yyyy, ddmmyy, "14 Jul 1985",
/// "July 14, 1985", "14-JUL-85", two-digit years (the latest such year not
/// after `cx.reference_year`) and partial dates "1985-07", "07/1985",
/// "1985", "1985-XX-14". A trailing time of day is ignored.
///
/// For dd/mm vs mm/dd a part above 12 decides; otherwise `cx.order` is used
/// and `ambiguous` is set (unless day == month). A date with an impossible
/// month or day keeps its good parts (`dropped` says what went). Years must
/// be in 1000..=2100.
pub fn parse_date(s: &str, formats: &[String], cx: &DateContext) -> Result<ParsedDate, DateError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DateError::Empty);
    }
    if t.len() > 64 {
        return Err(invalid("too long"));
    }
    for f in formats {
        if let Some(d) = parse_with_format(t, f, cx.reference_year) {
            return Ok(unambiguous(d));
        }
    }
    if let Some(d) = unknown_month(t) {
        return Ok(unambiguous(d));
    }
    let tok = tokenize(strip_time(t))?;
    let nums = &tok.nums[..tok.n];
    match tok.month {
        Some(m) => with_month_name(nums, m, cx),
        None => numeric(nums, cx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DF: DateOrder = DateOrder::DayFirst;
    const MF: DateOrder = DateOrder::MonthFirst;

    fn cx(order: DateOrder) -> DateContext {
        DateContext {
            order,
            reference_year: 2026,
        }
    }

    fn d(y: u16, m: Option<u8>, day: Option<u8>) -> PartialDate {
        PartialDate {
            year: y,
            month: m,
            day,
        }
    }

    fn iso(s: &str, order: DateOrder) -> String {
        match parse_date(s, &[], &cx(order)) {
            Ok(p) => p.date.to_iso(),
            Err(e) => format!("ERR {e}"),
        }
    }

    fn amb(s: &str, order: DateOrder) -> bool {
        parse_date(s, &[], &cx(order))
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
        assert!(PartialDate::new(1985, None, Some(32)).is_none());
        assert_eq!(d(1985, None, Some(3)).to_iso(), "1985-XX-03");
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
        // neither can be a month: the day in the configured order's place
        assert_eq!(iso("13/14/1985", DF), "1985-XX-13");
        assert_eq!(iso("13/14/1985", MF), "1985-XX-14");
        assert_eq!(iso("45/47/1985", MF), "1985");
    }

    #[test]
    fn year_day_month_when_the_day_is_above_12() {
        assert_eq!(iso("1980-13-09", DF), "1980-09-13");
        assert!(!amb("1980-13-09", MF));
        assert_eq!(iso("19851407", DF), "1985-07-14");
        // ISO stays year-month-day when both readings are dates
        assert_eq!(iso("1980-03-09", DF), "1980-03-09");
    }

    #[test]
    fn month_first_order_reads_us_dates() {
        assert_eq!(iso("07/04/1976", MF), "1976-07-04");
        assert!(amb("07/04/1976", MF));
        assert_eq!(iso("12-25-1950", DF), "1950-12-25");
    }

    #[test]
    fn one_impossible_part_keeps_the_good_ones() {
        let p = |s: &str| parse_date(s, &[], &cx(DF)).unwrap();
        // month 19 and day 25: which is which is plain, and 19 is no month
        assert_eq!(p("1985-19-25").date, d(1985, None, Some(25)));
        assert_eq!(p("1985-19-25").dropped, Some(DatePart::Month));
        assert_eq!(p("25/19/1985").date, d(1985, None, Some(25)));
        assert_eq!(p("1985-00-10").date, d(1985, None, Some(10)));
        // a day the month does not have
        assert_eq!(p("31/02/1985").date, d(1985, Some(2), None));
        assert_eq!(p("31/02/1985").dropped, Some(DatePart::Day));
        assert_eq!(p("30 Feb 1985").date, d(1985, Some(2), None));
        assert_eq!(p("19560231").date, d(1956, Some(2), None));
        // both impossible: the year alone
        assert_eq!(p("1985-45-77").date, d(1985, None, None));
        assert_eq!(p("1985-45-77").dropped, Some(DatePart::DayAndMonth));
        assert_eq!(p("1985-07-14").dropped, None);
        // what to_iso writes for a day without a month reads back
        assert_eq!(p("1985-XX-25").date, d(1985, None, Some(25)));
    }

    #[test]
    fn old_years_are_dates() {
        assert_eq!(iso("1606-03-01", DF), "1606-03-01");
        assert_eq!(iso("12 Mar 1600", DF), "1600-03-12");
        assert_eq!(iso("1066", DF), "1066");
        assert_eq!(iso("16061231", DF), "1606-12-31");
        assert!(iso("999", DF).starts_with("ERR"));
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
    }

    #[test]
    fn two_digit_years_are_read_against_the_reference_year() {
        let at = |s: &str, year| {
            parse_date(
                s,
                &[],
                &DateContext {
                    order: DF,
                    reference_year: year,
                },
            )
            .map(|p| p.date.to_iso())
        };
        assert_eq!(at("01/02/26", 2026), Ok("2026-02-01".into()));
        assert_eq!(at("01/02/27", 2026), Ok("1927-02-01".into()));
        assert_eq!(at("01/02/27", 2030), Ok("2027-02-01".into()));
        assert_eq!(at("01/02/99", 2000), Ok("1999-02-01".into()));
        assert_eq!(at("01/02/00", 2000), Ok("2000-02-01".into()));
        // the same input and reference always give the same date
        assert_eq!(at("01/02/50", 2026), at("01/02/50", 2026));
        assert_eq!(iso("14/07/85", DF), "1985-07-14");
        assert_eq!(iso("140785", DF), "1985-07-14");
        assert_eq!(iso("85/07/14", DF), "1985-07-14"); // yy-mm-dd when first > 31
    }

    #[test]
    fn partial_dates() {
        assert_eq!(iso("1985-07", DF), "1985-07");
        assert_eq!(iso("07/1985", DF), "1985-07");
        assert_eq!(iso("1985", DF), "1985");
        assert_eq!(iso("198507", DF), "1985-07");
        assert!(!parse_date("1985", &[], &cx(DF))
            .map(|p| p.date.is_full())
            .unwrap_or(true));
    }

    #[test]
    fn invalid_dates() {
        assert_eq!(parse_date("", &[], &cx(DF)), Err(DateError::Empty));
        assert_eq!(parse_date("  ", &[], &cx(DF)), Err(DateError::Empty));
        for bad in [
            "0999-01-01",
            "2200-01-01",
            "999",
            "00/00/0000",
            "unknown",
            "n/a",
            "12",
            "1985-07-14-01",
            "123456789",
            "١٩٨٥",
        ] {
            assert!(
                matches!(parse_date(bad, &[], &cx(DF)), Err(DateError::Invalid(_))),
                "{bad:?} should be invalid"
            );
        }
        assert_eq!(iso("29/02/1984", DF), "1984-02-29");
    }

    #[test]
    fn caller_formats_first() {
        let f = vec!["%Y%d%m".to_owned()];
        // built-in reading of 19851407 fails (month 14); the format reads it
        let p = parse_date("19851407", &f, &cx(DF)).ok();
        assert_eq!(p.map(|p| p.date.to_iso()), Some("1985-07-14".to_owned()));
        // format taking precedence over an ambiguous built-in reading
        let f = vec!["%m/%d/%Y".to_owned()];
        let p = parse_date("03/04/1985", &f, &cx(DF)).ok();
        assert_eq!(
            p.map(|p| (p.date.to_iso(), p.ambiguous)),
            Some(("1985-03-04".to_owned(), false))
        );
        // partial formats
        let f = vec!["%Y".to_owned(), "%b %Y".to_owned()];
        assert_eq!(
            parse_date("1985", &f, &cx(DF)).map(|p| p.date),
            Ok(d(1985, None, None))
        );
        assert_eq!(
            parse_date("Jul 1985", &f, &cx(DF)).map(|p| p.date),
            Ok(d(1985, Some(7), None))
        );
        // %y uses the same pivot
        let f = vec!["%d%m%y".to_owned()];
        assert_eq!(
            parse_date("140785", &f, &cx(DF)).map(|p| p.date.to_iso()),
            Ok("1985-07-14".to_owned())
        );
        // ordinal dates
        let f = vec!["%Y-%j".to_owned()];
        assert_eq!(
            parse_date("1985-195", &f, &cx(DF)).map(|p| p.date.to_iso()),
            Ok("1985-07-14".to_owned())
        );
        // a format that does not match falls through to built-ins; junk formats are harmless
        let f = vec!["%Q%%%".to_owned(), "%H:%M".to_owned(), String::new()];
        assert_eq!(iso_with("1985-07-14", &f), "1985-07-14");
    }

    fn iso_with(s: &str, f: &[String]) -> String {
        parse_date(s, f, &cx(DF))
            .map(|p| p.date.to_iso())
            .unwrap_or_default()
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>(), f in proptest::collection::vec(any::<String>(), 0..3), mf in any::<bool>()) {
            let order = if mf { MF } else { DF };
            if let Ok(p) = parse_date(&s, &f, &cx(order)) {
                prop_assert!((MIN_YEAR..=MAX_YEAR).contains(&p.date.year));
                let back = PartialDate::new(p.date.year, p.date.month, p.date.day);
                prop_assert_eq!(back, Some(p.date));
            }
        }

        #[test]
        fn iso_roundtrip(y in 1000u16..=2100, m in 1u8..=12, dd in 1u8..=28, depth in 0usize..4) {
            let date = match depth {
                0 => d(y, Some(m), Some(dd)),
                1 => d(y, Some(m), None),
                2 => d(y, None, Some(dd)),
                _ => d(y, None, None),
            };
            let back = parse_date(&date.to_iso(), &[], &cx(MF));
            prop_assert_eq!(back, Ok(ParsedDate { date, ambiguous: false, dropped: None }));
        }

        #[test]
        fn numeric_day_first(y in 1900u16..=2020, m in 1u8..=12, dd in 1u8..=28) {
            let s = format!("{dd:02}/{m:02}/{y}");
            let p = parse_date(&s, &[], &cx(DF));
            prop_assert_eq!(p.map(|p| p.date), Ok(d(y, Some(m), Some(dd))));
        }
    }
}
