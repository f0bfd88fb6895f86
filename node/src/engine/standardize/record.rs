//! Whole-record standardisation: applies the field standardisers to a wire
//! [`Record`] and collects the standard forms in a [`StdRecord`], together
//! with an [`Issue`] for every value that could not be standardised (the raw
//! value stays in the wire record).

use kindred_proto::v1::{PostalAddress, Record};

use super::address::{normalize_country, normalize_postcode, normalize_region, split_street};
use super::date::{parse_date, DateContext, DateError, PartialDate};
use super::email::{normalize_email, EmailError};
use super::name::{normalize_name_part, parse_full_name};
use super::phone::{normalize_phone, PhoneError};
use super::text::fold;
use super::{
    date_order_for, is_unknown_gender, normalize_gender, normalize_identifier, Gender,
    StandardizeConfig,
};

/// A standardised postal address.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StdAddress {
    /// Leading house (and unit) number token(s) of the street, e.g. "12",
    /// "12a", "3 12" for unit 3 at number 12.
    pub number: Option<String>,
    /// The street without its number, normalised ("wallaby place").
    pub street: Option<String>,
    /// Folded locality (suburb, town, city).
    pub locality: Option<String>,
    /// State/province abbreviation where known ("nsw"), else folded text.
    pub region: Option<String>,
    /// Uppercase postcode without spaces ("SW1A1AA").
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 ("AU").
    pub country: Option<String>,
}

impl StdAddress {
    fn is_empty(&self) -> bool {
        self.number.is_none()
            && self.street.is_none()
            && self.locality.is_none()
            && self.region.is_none()
            && self.postcode.is_none()
            && self.country.is_none()
    }
}

/// A value that could not be standardised.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Issue {
    /// Which field: "date_of_birth", "phones[1]", "emails[0]",
    /// "addresses[0].postcode", "name.full", ...
    pub field: String,
    /// The raw value as received.
    pub value: String,
    /// Why it was rejected (for a date kept in part: what was dropped).
    pub reason: String,
}

/// The standard forms of one record's values.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StdRecord {
    /// First given-name token, folded (from `name.given`, else parsed from
    /// `name.full`).
    pub given: Option<String>,
    /// Middle name(s), folded; further given-name tokens when `name.middle`
    /// is not set.
    pub middle: Option<String>,
    /// Whole family name, folded (may contain spaces: "van der berg").
    pub family: Option<String>,
    pub dob: Option<PartialDate>,
    /// The day/month order of `dob` was a guess.
    pub dob_ambiguous: bool,
    pub gender: Option<Gender>,
    /// Normalised, deduplicated, in input order.
    pub emails: Vec<String>,
    /// E.164, deduplicated, in input order.
    pub phones: Vec<String>,
    /// Addresses with at least one standardised field, deduplicated.
    pub addresses: Vec<StdAddress>,
    /// (kind, value), normalised, deduplicated.
    pub identifiers: Vec<(String, String)>,
    /// Every value that could not be standardised.
    pub issues: Vec<Issue>,
}

impl StdRecord {
    fn issue(&mut self, field: impl Into<String>, value: &str, reason: impl Into<String>) {
        self.issues.push(Issue {
            field: field.into(),
            value: value.to_owned(),
            reason: reason.into(),
        });
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Split folded "mary jane" into ("mary", Some("jane")).
fn first_and_rest(s: String) -> (String, Option<String>) {
    match s.split_once(' ') {
        Some((first, rest)) => (first.to_owned(), Some(rest.to_owned())),
        None => (s, None),
    }
}

/// Join two optional folded parts with a space.
fn join_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}

fn standardize_name(r: &Record, out: &mut StdRecord) {
    let Some(n) = r.name.as_ref() else { return };

    let mut given_rest = None;
    if let Some(g) = normalize_name_part(&n.given) {
        let (first, rest) = first_and_rest(g);
        out.given = Some(first);
        given_rest = rest;
    } else if !is_blank(&n.given) {
        out.issue("name.given", &n.given, "no name left after removing titles");
    }
    out.middle = normalize_name_part(&n.middle);
    if out.middle.is_none() && !is_blank(&n.middle) {
        out.issue(
            "name.middle",
            &n.middle,
            "no name left after removing titles",
        );
    }
    out.middle = out.middle.take().or(given_rest);
    out.family = normalize_name_part(&n.family);
    if out.family.is_none() && !is_blank(&n.family) {
        out.issue(
            "name.family",
            &n.family,
            "no name left after removing suffixes",
        );
    }

    if is_blank(&n.full) {
        return;
    }
    let p = parse_full_name(&n.full);
    if p.given.is_none() && p.family.is_none() {
        out.issue("name.full", &n.full, "no name could be parsed");
        return;
    }
    // Parts win where present; the full name fills the gaps.
    let (full_given, full_middle) = match p.given {
        Some(g) => {
            let (first, rest) = first_and_rest(g);
            (Some(first), join_opt(rest, p.middle))
        }
        None => (None, p.middle),
    };
    let same_given = out.given.is_none() || out.given == full_given;
    if out.given.is_none() {
        out.given = full_given;
    }
    if out.middle.is_none() && same_given {
        out.middle = full_middle;
    }
    if out.family.is_none() {
        out.family = p.family;
    }
}

fn standardize_address(
    i: usize,
    a: &PostalAddress,
    cfg: &StandardizeConfig,
    out: &mut StdRecord,
) -> StdAddress {
    let country = normalize_country(&a.country);
    if country.is_none() && !is_blank(&a.country) {
        out.issue(
            format!("addresses[{i}].country"),
            &a.country,
            "unknown country",
        );
    }
    let (number, street) = split_street(&a.street);
    if number.is_none() && street.is_none() && !is_blank(&a.street) {
        out.issue(
            format!("addresses[{i}].street"),
            &a.street,
            "no street text",
        );
    }
    let locality = Some(fold(&a.locality)).filter(|l| !l.is_empty());
    let region = normalize_region(&a.region);
    let pc_country = country.as_deref().unwrap_or(&cfg.default_region);
    let postcode = normalize_postcode(&a.postcode, pc_country);
    if postcode.is_none() && !is_blank(&a.postcode) {
        out.issue(
            format!("addresses[{i}].postcode"),
            &a.postcode,
            "not a postcode",
        );
    }
    StdAddress {
        number,
        street,
        locality,
        region,
        postcode,
        country,
    }
}

fn date_reason(e: &DateError) -> String {
    e.to_string()
}

/// The date of birth, read in the record's date order with two-digit
/// years against `reference_year`. A date of which an impossible part was
/// dropped is kept and also listed as an issue.
fn standardize_dob(r: &Record, cfg: &StandardizeConfig, reference_year: u16, out: &mut StdRecord) {
    if is_blank(&r.date_of_birth) {
        return;
    }
    let cx = DateContext {
        order: cfg
            .date_order
            .unwrap_or_else(|| date_order_for(record_country(out, cfg))),
        reference_year,
    };
    match parse_date(&r.date_of_birth, &r.date_formats, &cx) {
        Ok(p) => {
            out.dob = Some(p.date);
            out.dob_ambiguous = p.ambiguous;
            if let Some(part) = p.dropped {
                out.issue("date_of_birth", &r.date_of_birth, part.to_string());
            }
        }
        Err(e) => out.issue("date_of_birth", &r.date_of_birth, date_reason(&e)),
    }
}

/// The country of the record's first address that has one, else the
/// configured default region.
fn record_country<'a>(out: &'a StdRecord, cfg: &'a StandardizeConfig) -> &'a str {
    out.addresses
        .iter()
        .find_map(|a| a.country.as_deref())
        .unwrap_or(&cfg.default_region)
}

/// Standardise a whole wire record, reading two-digit years against
/// `cfg.reference_year` (see [`standardize_record_at`]).
pub fn standardize_record(r: &Record, cfg: &StandardizeConfig) -> StdRecord {
    standardize_record_at(r, cfg, cfg.reference_year)
}

/// Standardise a whole wire record. Never panics; every raw value that
/// could not be standardised is listed in [`StdRecord::issues`]. The result
/// depends only on the record, `cfg` and `reference_year` (the year
/// two-digit years are read against), never on the wall clock.
///
/// Phones, and dates of birth unless `cfg.date_order` fixes their order,
/// are read as written in the country of the record's first address that
/// has a recognised country, else in `cfg.default_region`.
pub fn standardize_record_at(
    r: &Record,
    cfg: &StandardizeConfig,
    reference_year: u16,
) -> StdRecord {
    let mut out = StdRecord::default();

    standardize_name(r, &mut out);

    if !is_blank(&r.gender) {
        out.gender = normalize_gender(&r.gender);
        if out.gender.is_none() && !is_unknown_gender(&r.gender) {
            out.issue("gender", &r.gender, "unrecognised gender");
        }
    }

    for (i, a) in r.addresses.iter().enumerate() {
        let std = standardize_address(i, a, cfg, &mut out);
        if !std.is_empty() {
            push_unique(&mut out.addresses, std);
        }
    }

    for (i, e) in r.emails.iter().enumerate() {
        match normalize_email(e, cfg.email_provider_rules) {
            Ok(v) => push_unique(&mut out.emails, v),
            Err(EmailError::Empty) => {}
            Err(err) => out.issue(format!("emails[{i}]"), e, err.to_string()),
        }
    }

    standardize_dob(r, cfg, reference_year, &mut out);

    let region = record_country(&out, cfg).to_owned();
    for (i, p) in r.phones.iter().enumerate() {
        match normalize_phone(p, &region) {
            Ok(v) => push_unique(&mut out.phones, v),
            Err(PhoneError::Empty) => {}
            Err(err) => out.issue(format!("phones[{i}]"), p, err.to_string()),
        }
    }

    for (i, id) in r.identifiers.iter().enumerate() {
        if is_blank(&id.kind) && is_blank(&id.value) {
            continue;
        }
        match normalize_identifier(&id.kind, &id.value) {
            Some(kv) => push_unique(&mut out.identifiers, kv),
            None if is_blank(&id.value) => {}
            None if fold(&id.kind).is_empty() => out.issue(
                format!("identifiers[{i}]"),
                &id.value,
                "identifier without a kind",
            ),
            None => out.issue(
                format!("identifiers[{i}]"),
                &id.value,
                "placeholder identifier",
            ),
        }
    }

    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_proto::v1::{Identifier, PersonName};
    use proptest::prelude::*;

    fn typical() -> Record {
        Record {
            source: "crm".into(),
            record_id: "42".into(),
            name: Some(PersonName {
                full: String::new(),
                given: "Bob".into(),
                middle: String::new(),
                family: "van der Berg".into(),
            }),
            date_of_birth: "14/07/1985".into(),
            gender: "M".into(),
            emails: vec![
                " Bob.VanDerBerg@Example.com ".into(),
                "bob.vanderberg@example.com".into(),
                "not-an-email".into(),
                String::new(),
            ],
            phones: vec!["0412 345 678".into(), "+61 412 345 678".into(), "12".into()],
            addresses: vec![
                PostalAddress {
                    street: "Unit 3, 12 Wallaby Pl".into(),
                    locality: "Cleveland".into(),
                    region: "New South Wales".into(),
                    postcode: "2119".into(),
                    country: "Australia".into(),
                },
                PostalAddress::default(),
            ],
            identifiers: vec![
                Identifier {
                    kind: "Loyalty Number".into(),
                    value: "123-45 678".into(),
                },
                Identifier {
                    kind: "loyalty_number".into(),
                    value: "12345678".into(),
                },
            ],
            ..Record::default()
        }
    }

    #[test]
    fn typical_record() {
        let s = standardize_record(&typical(), &StandardizeConfig::default());
        assert_eq!(s.given.as_deref(), Some("bob"));
        assert_eq!(s.middle, None);
        assert_eq!(s.family.as_deref(), Some("van der berg"));
        assert_eq!(s.dob.map(|d| d.to_iso()).as_deref(), Some("1985-07-14"));
        assert!(!s.dob_ambiguous);
        assert_eq!(s.gender, Some(Gender::Male));
        assert_eq!(s.emails, ["bob.vanderberg@example.com"]);
        assert_eq!(s.phones, ["+61412345678"]);
        assert_eq!(
            s.addresses,
            [StdAddress {
                number: Some("3 12".into()),
                street: Some("wallaby place".into()),
                locality: Some("cleveland".into()),
                region: Some("nsw".into()),
                postcode: Some("2119".into()),
                country: Some("AU".into()),
            }]
        );
        assert_eq!(
            s.identifiers,
            [("loyalty_number".to_owned(), "12345678".to_owned())]
        );
        let fields: Vec<&str> = s.issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["emails[2]", "phones[2]"]);
        assert_eq!(s.issues[0].value, "not-an-email");
    }

    #[test]
    fn full_name_fills_missing_parts() {
        let mut r = Record {
            name: Some(PersonName {
                full: "Dr. Mary-Jane Anne van der Berg".into(),
                ..PersonName::default()
            }),
            ..Record::default()
        };
        let s = standardize_record(&r, &StandardizeConfig::default());
        assert_eq!(s.given.as_deref(), Some("mary"));
        assert_eq!(s.middle.as_deref(), Some("jane anne"));
        assert_eq!(s.family.as_deref(), Some("van der berg"));

        // parts win; the given field's extra tokens become the middle name
        r.name = Some(PersonName {
            full: "Smith, John".into(),
            given: "Mary Jane".into(),
            middle: String::new(),
            family: String::new(),
        });
        let s = standardize_record(&r, &StandardizeConfig::default());
        assert_eq!(s.given.as_deref(), Some("mary"));
        assert_eq!(s.middle.as_deref(), Some("jane"));
        assert_eq!(s.family.as_deref(), Some("smith"));
        assert!(s.issues.is_empty());
    }

    #[test]
    fn phones_use_the_address_country() {
        let r = Record {
            phones: vec!["020 7946 0958".into()],
            addresses: vec![PostalAddress {
                country: "United Kingdom".into(),
                postcode: "sw1a 1aa".into(),
                ..PostalAddress::default()
            }],
            ..Record::default()
        };
        let s = standardize_record(&r, &StandardizeConfig::default());
        assert_eq!(s.phones, ["+442079460958"]);
        assert_eq!(s.addresses[0].postcode.as_deref(), Some("SW1A1AA"));
        assert_eq!(s.addresses[0].country.as_deref(), Some("GB"));
    }

    #[test]
    fn issues_and_absent_values() {
        let r = Record {
            name: Some(PersonName {
                given: "Mr".into(),
                ..PersonName::default()
            }),
            // (31/02/1985 would now keep 1985-02)
            date_of_birth: "00/00/0000".into(),
            date_formats: vec!["%Y".into()],
            gender: "U".into(),
            addresses: vec![PostalAddress {
                country: "Atlantis".into(),
                postcode: "n/a".into(),
                ..PostalAddress::default()
            }],
            identifiers: vec![
                Identifier {
                    kind: "ssn".into(),
                    value: "000-00-0000".into(),
                },
                Identifier {
                    kind: String::new(),
                    value: "x1".into(),
                },
            ],
            ..Record::default()
        };
        let s = standardize_record(&r, &StandardizeConfig::default());
        let fields: Vec<&str> = s.issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name.given",
                // after the address: its country decides the date order
                "addresses[0].country",
                "addresses[0].postcode",
                "date_of_birth",
                "identifiers[0]",
                "identifiers[1]"
            ]
        );
        assert_eq!(s.gender, None); // "U" is unknown, not an issue
        assert!(s.addresses.is_empty());
        assert!(s.dob.is_none() && s.given.is_none());
        assert_eq!(
            standardize_record(&Record::default(), &StandardizeConfig::default()),
            StdRecord::default()
        );
    }

    #[test]
    fn ambiguous_dates_follow_config() {
        let r = Record {
            date_of_birth: "03/04/1985".into(),
            ..Record::default()
        };
        let cfg = StandardizeConfig {
            date_order: Some(super::super::DateOrder::MonthFirst),
            ..StandardizeConfig::default()
        };
        let s = standardize_record(&r, &cfg);
        assert_eq!(s.dob.map(|d| d.to_iso()).as_deref(), Some("1985-03-04"));
        assert!(s.dob_ambiguous);
    }

    #[test]
    fn a_us_record_or_region_reads_dates_month_first() {
        let dob = |country: &str, region: &str| {
            let r = Record {
                date_of_birth: "03/04/1985".into(),
                addresses: vec![PostalAddress {
                    locality: "Springfield".into(),
                    country: country.into(),
                    ..PostalAddress::default()
                }],
                ..Record::default()
            };
            let cfg = StandardizeConfig {
                default_region: region.into(),
                ..StandardizeConfig::default()
            };
            standardize_record(&r, &cfg).dob.map(|d| d.to_iso())
        };
        assert_eq!(dob("US", "AU").as_deref(), Some("1985-03-04"));
        assert_eq!(dob("", "US").as_deref(), Some("1985-03-04"));
        assert_eq!(dob("GB", "US").as_deref(), Some("1985-04-03"));
        assert_eq!(dob("", "AU").as_deref(), Some("1985-04-03"));
    }

    #[test]
    fn a_date_with_an_impossible_month_keeps_year_and_day() {
        let r = Record {
            date_of_birth: "1985-19-25".into(),
            ..Record::default()
        };
        let s = standardize_record(&r, &StandardizeConfig::default());
        assert_eq!(s.dob.map(|d| d.to_iso()).as_deref(), Some("1985-XX-25"));
        assert_eq!(s.issues.len(), 1);
        assert!(s.issues[0].reason.contains("month"), "{:?}", s.issues);
    }

    #[test]
    fn two_digit_years_follow_the_reference_year() {
        let r = Record {
            date_of_birth: "14/07/30".into(),
            ..Record::default()
        };
        let cfg = StandardizeConfig::default();
        let at = |y| standardize_record_at(&r, &cfg, y).dob.map(|d| d.year);
        assert_eq!(at(2026), Some(1930));
        assert_eq!(at(2031), Some(2030));
    }

    /// Rough throughput check; run with
    /// `cargo test --release -p kindred-node --lib standardize::record -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        let r = typical();
        let cfg = StandardizeConfig::default();
        let _ = standardize_record(&r, &cfg); // warm the lazy tables
        let n = 20_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(standardize_record(std::hint::black_box(&r), &cfg));
        }
        let per = t.elapsed() / n;
        println!("standardize_record: {per:?} per record");

        fn time(label: &str, n: u32, mut f: impl FnMut()) {
            f();
            let t = std::time::Instant::now();
            for _ in 0..n {
                f();
            }
            println!("  {label}: {:?}", t.elapsed() / n);
        }
        use super::super::*;
        time("phone national", n, || {
            std::hint::black_box(normalize_phone(std::hint::black_box("0412 345 678"), "AU")).ok();
        });
        time("phone intl", n, || {
            std::hint::black_box(normalize_phone(
                std::hint::black_box("+61 412 345 678"),
                "AU",
            ))
            .ok();
        });
        time("email", n, || {
            std::hint::black_box(normalize_email(
                std::hint::black_box(" Bob.V@Example.com "),
                false,
            ))
            .ok();
        });
        time("date", n, || {
            std::hint::black_box(parse_date(
                std::hint::black_box("14/07/1985"),
                &[],
                &DateContext {
                    order: DateOrder::DayFirst,
                    reference_year: 2025,
                },
            ))
            .ok();
        });
        time("full name", n, || {
            std::hint::black_box(parse_full_name(std::hint::black_box(
                "Dr Mary-Jane van der Berg",
            )));
        });
        time("street", n, || {
            std::hint::black_box(split_street(std::hint::black_box("Unit 3, 12 Wallaby Pl")));
        });
        time("country", n, || {
            std::hint::black_box(normalize_country(std::hint::black_box("Australia")));
        });
        time("fold", n, || {
            std::hint::black_box(fold(std::hint::black_box("José Álvarez")));
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn never_panics(
            full in any::<String>(), given in any::<String>(), family in any::<String>(),
            dob in any::<String>(), gender in any::<String>(), email in any::<String>(),
            phone in any::<String>(), street in any::<String>(), pc in any::<String>(),
            country in any::<String>(), kind in any::<String>(), value in any::<String>(),
        ) {
            let r = Record {
                name: Some(PersonName { full, given, middle: String::new(), family }),
                date_of_birth: dob,
                gender,
                emails: vec![email],
                phones: vec![phone],
                addresses: vec![PostalAddress { street, locality: String::new(), region: String::new(), postcode: pc, country }],
                identifiers: vec![Identifier { kind, value }],
                ..Record::default()
            };
            let s = standardize_record(&r, &StandardizeConfig::default());
            for part in [&s.given, &s.middle, &s.family].into_iter().flatten() {
                prop_assert!(!part.is_empty());
            }
        }
    }
}
