//! Standardisation: turns the raw values of a person record (names, dates of
//! birth, gender, emails, phones, addresses, identifiers) into the standard
//! forms the matcher compares. Every function here accepts arbitrary user
//! data and never panics; a value that cannot be standardised is reported
//! as an error (or `None`) so the caller can keep the raw value and flag it.
//!
//! [`standardize_record`] applies all of it to a whole wire record.

pub mod address;
pub mod date;
pub mod email;
pub mod name;
pub mod nicknames;
pub mod phone;
pub mod record;
pub mod text;

pub use address::{
    normalize_country, normalize_postcode, normalize_region, normalize_street, split_street,
};
pub use date::{parse_date, DateContext, DateError, DateOrder, DatePart, ParsedDate, PartialDate};
pub use email::{normalize_email, EmailError};
pub use name::{normalize_name_part, parse_full_name, ParsedName};
pub use nicknames::{canonical_given, nickname_equivalent, nickname_groups};
pub use phone::{normalize_phone, PhoneError};
pub use record::{standardize_record, standardize_record_at, Issue, StdAddress, StdRecord};
pub use text::{fold, tokens};

/// A person's gender as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Gender {
    Male,
    Female,
    Other,
}

impl Gender {
    /// The standard spelling shown in golden records: `female`, `male`,
    /// `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
        }
    }
}

/// Map a recorded gender to [`Gender`]: m/male/man/boy/mr/he -> Male,
/// f/female/woman/girl/mrs/ms/miss/she -> Female,
/// x/other/nonbinary/non-binary -> Other; unknown or empty -> `None`.
pub fn normalize_gender(s: &str) -> Option<Gender> {
    let f = fold(s);
    Some(match f.as_str() {
        "m" | "male" | "man" | "boy" | "mr" | "he" | "him" | "he him" | "masculine" | "masc" => {
            Gender::Male
        }
        "f" | "female" | "woman" | "girl" | "mrs" | "ms" | "miss" | "she" | "her" | "she her"
        | "feminine" | "fem" => Gender::Female,
        "x" | "o" | "other" | "nonbinary" | "non binary" | "nb" | "enby" | "genderqueer"
        | "gender diverse" | "genderfluid" | "gender fluid" | "they" | "they them" => Gender::Other,
        _ => return None,
    })
}

/// True for values that explicitly say the gender is not known ("U",
/// "unknown", "prefer not to say"): absent data rather than bad data.
pub fn is_unknown_gender(s: &str) -> bool {
    let f = fold(s);
    matches!(
        f.as_str(),
        "" | "u"
            | "unk"
            | "unknown"
            | "na"
            | "n a"
            | "none"
            | "null"
            | "not known"
            | "not stated"
            | "not specified"
            | "unspecified"
            | "undisclosed"
            | "declined"
            | "prefer not to say"
            | "prefer not to answer"
    )
}

/// Values that are placeholders rather than identifiers.
fn is_placeholder_identifier(v: &str) -> bool {
    if matches!(
        v,
        "NA" | "NULL" | "NONE" | "NIL" | "UNKNOWN" | "TBA" | "TBC" | "UNK"
    ) {
        return true;
    }
    let mut chars = v.chars();
    let first = chars.next();
    let all_same = v.chars().all(|c| Some(c) == first);
    all_same && (first == Some('0') || v.chars().count() >= 4)
}

/// Normalise a typed identifier. The kind is folded to snake_case
/// ("Loyalty Number" -> "loyalty_number"); the value is uppercased with
/// whitespace, dashes, dots and slashes removed ("123-45 678" ->
/// "12345678"). `None` if the kind or the value is empty after that, or the
/// value is a placeholder ("N/A", "NULL", "0000", "999999999") that would
/// otherwise link unrelated people.
pub fn normalize_identifier(kind: &str, value: &str) -> Option<(String, String)> {
    let k = fold(kind);
    if k.is_empty() {
        return None;
    }
    // folded text is ASCII: swap the spaces for underscores in place
    let mut k = k.into_bytes();
    k.iter_mut().filter(|b| **b == b' ').for_each(|b| *b = b'_');
    let k = String::from_utf8(k).ok()?;
    let v: String = if value.is_ascii() {
        value
            .bytes()
            .filter(|&b| !(b.is_ascii_whitespace() || matches!(b, b'-' | b'.' | b'/')))
            .map(|b| char::from(b.to_ascii_uppercase()))
            .collect()
    } else {
        value
            .chars()
            .filter(|&c| {
                !(c.is_whitespace()
                    || matches!(c, '-' | '.' | '/' | '\u{2010}'..='\u{2015}' | '\u{2212}'))
            })
            .flat_map(char::to_uppercase)
            .collect()
    };
    if v.is_empty() || is_placeholder_identifier(&v) {
        return None;
    }
    Some((k, v))
}

/// Settings for standardisation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StandardizeConfig {
    /// ISO alpha-2 region for reading national phone numbers (and postcodes)
    /// when a record's address has no country.
    pub default_region: String,
    /// Apply mail providers' aliasing rules (Gmail dots, "+tag").
    pub email_provider_rules: bool,
    /// How to read ambiguous all-numeric dates such as 03/04/1985; `None`:
    /// as the record's country writes them ([`date_order_for`] of its first
    /// address's country, else of `default_region`).
    pub date_order: Option<DateOrder>,
    /// Two-digit years are read as the latest such year not after this one
    /// ([`standardize_record_at`] takes it from the caller's clock instead).
    pub reference_year: u16,
}

/// The year [`StandardizeConfig::default`] reads two-digit years against.
pub const DEFAULT_REFERENCE_YEAR: u16 = 2025;

impl Default for StandardizeConfig {
    fn default() -> Self {
        StandardizeConfig {
            default_region: "AU".to_owned(),
            email_provider_rules: false,
            date_order: None,
            reference_year: DEFAULT_REFERENCE_YEAR,
        }
    }
}

/// How dates are written in a country (ISO alpha-2): month first in the
/// United States and its territories, the Philippines, Micronesia, the
/// Marshall Islands and Palau; day first elsewhere.
pub fn date_order_for(country: &str) -> DateOrder {
    match country.to_ascii_uppercase().as_str() {
        "US" | "USA" | "AS" | "GU" | "MP" | "PR" | "UM" | "VI" | "PH" | "FM" | "MH" | "PW" => {
            DateOrder::MonthFirst
        }
        _ => DateOrder::DayFirst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn genders() {
        for m in ["M", "male", " Male ", "MAN", "boy", "Mr", "he", "He/Him"] {
            assert_eq!(normalize_gender(m), Some(Gender::Male), "{m}");
        }
        for f in [
            "F", "female", "Woman", "girl", "Mrs.", "Ms", "she", "She/Her",
        ] {
            assert_eq!(normalize_gender(f), Some(Gender::Female), "{f}");
        }
        for o in ["X", "other", "nonbinary", "Non-Binary", "non binary"] {
            assert_eq!(normalize_gender(o), Some(Gender::Other), "{o}");
        }
        for n in ["", "  ", "U", "unknown", "?", "zzz"] {
            assert_eq!(normalize_gender(n), None, "{n}");
        }
        assert!(is_unknown_gender("U"));
        assert!(is_unknown_gender("Prefer not to say"));
        assert!(!is_unknown_gender("zzz"));
    }

    #[test]
    fn identifiers() {
        assert_eq!(
            normalize_identifier("Loyalty Number", "123-45 678"),
            Some(("loyalty_number".to_owned(), "12345678".to_owned()))
        );
        assert_eq!(
            normalize_identifier("national_id", " ab.12/c "),
            Some(("national_id".to_owned(), "AB12C".to_owned()))
        );
        assert_eq!(
            normalize_identifier("Device-ID", "x9"),
            Some(("device_id".to_owned(), "X9".to_owned()))
        );
        assert_eq!(normalize_identifier("loyalty", " - . / "), None);
        assert_eq!(normalize_identifier("", "123"), None);
        assert_eq!(normalize_identifier("ssn", "000-00-0000"), None);
        assert_eq!(normalize_identifier("ssn", "999999999"), None);
        assert_eq!(normalize_identifier("ssn", "n/a"), None);
        assert!(normalize_identifier("loyalty", "7").is_some());
        assert!(normalize_identifier("loyalty", "11").is_some());
    }

    #[test]
    fn config_defaults() {
        let c = StandardizeConfig::default();
        assert_eq!(c.default_region, "AU");
        assert!(!c.email_provider_rules);
        assert_eq!(c.date_order, None);
        assert_eq!(date_order_for(&c.default_region), DateOrder::DayFirst);
    }

    #[test]
    fn month_first_countries() {
        assert_eq!(date_order_for("US"), DateOrder::MonthFirst);
        assert_eq!(date_order_for("us"), DateOrder::MonthFirst);
        assert_eq!(date_order_for("PH"), DateOrder::MonthFirst);
        assert_eq!(date_order_for("GB"), DateOrder::DayFirst);
        assert_eq!(date_order_for(""), DateOrder::DayFirst);
    }

    proptest! {
        #[test]
        fn identifier_normalisation_is_idempotent(k in any::<String>(), v in any::<String>()) {
            if let Some((k1, v1)) = normalize_identifier(&k, &v) {
                prop_assert_eq!(normalize_identifier(&k1, &v1), Some((k1.clone(), v1.clone())));
            }
            let _ = normalize_gender(&v);
        }
    }
}
