//! Column mappings: how rows of a CSV file or JSON Lines objects become
//! [`Record`]s.
//!
//! A mapping is a TOML file (documented in the README):
//!
//! ```toml
//! record_id = "rec_id"
//! source = "system"          # optional: a column naming each row's source
//! [fields]
//! given_name = "given_name"
//! family_name = "surname"
//! street = ["street_number", "address_1", "address_2"]   # joined with spaces
//! date_of_birth = { column = "date_of_birth", formats = ["%Y%m%d"] }
//! email = ["email", "work_email"]                          # one value per column
//! [identifiers]
//! national_id = "soc_sec_id"
//! [attributes]
//! segment = "segment"
//! [consent]
//! email_marketing = "email_opt_in"                        # its status column
//! sms_marketing = { column = "sms_ok", at = "sms_ok_date" } # and when decided
//! [defaults]
//! country = "AU"
//! ```
//!
//! For single-valued fields a list of columns is joined with spaces; for
//! `email` and `phone` each listed column gives one value. A consent column
//! reads granted (also yes, y, true, 1, opt-in, subscribed), denied (no, n,
//! false, 0, opt-out, declined) or withdrawn (revoked, unsubscribed); blank
//! is no decision. Its time is the `at` column, else the record's
//! `observed_at`, else the time the node receives it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::v1::{ConsentDecision, ConsentStatus, Identifier, PersonName, PostalAddress, Record};

/// Errors in a mapping file or in binding it to a file's columns.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MappingError {
    #[error("mapping is not valid TOML: {0}")]
    Toml(String),
    #[error("mapping names column {column:?} (for {field}), but the input has no such column; columns are: {available}")]
    MissingColumn {
        field: String,
        column: String,
        available: String,
    },
    #[error("mapping field {field}: {reason}")]
    Invalid { field: String, reason: String },
}

/// A row that could not be turned into a record.
#[derive(Debug, thiserror::Error, PartialEq, Clone)]
#[error("{field}: {reason}")]
pub struct RowError {
    pub field: String,
    pub reason: String,
}

/// Where a field's value comes from.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum FieldSpec {
    Column(String),
    Columns(Vec<String>),
    Detailed {
        #[serde(default)]
        column: Option<String>,
        #[serde(default)]
        columns: Vec<String>,
        /// strftime formats for dates (e.g. "%Y%m%d").
        #[serde(default)]
        formats: Vec<String>,
    },
}

impl FieldSpec {
    fn columns(&self) -> Vec<&str> {
        match self {
            FieldSpec::Column(c) => vec![c],
            FieldSpec::Columns(cs) => cs.iter().map(String::as_str).collect(),
            FieldSpec::Detailed {
                column, columns, ..
            } => column
                .iter()
                .map(String::as_str)
                .chain(columns.iter().map(String::as_str))
                .collect(),
        }
    }

    fn formats(&self) -> &[String] {
        match self {
            FieldSpec::Detailed { formats, .. } => formats,
            _ => &[],
        }
    }
}

/// Matchable fields a column may map to.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    pub full_name: Option<FieldSpec>,
    pub given_name: Option<FieldSpec>,
    pub middle_name: Option<FieldSpec>,
    pub family_name: Option<FieldSpec>,
    pub date_of_birth: Option<FieldSpec>,
    pub gender: Option<FieldSpec>,
    pub email: Option<FieldSpec>,
    pub phone: Option<FieldSpec>,
    pub street: Option<FieldSpec>,
    pub locality: Option<FieldSpec>,
    pub region: Option<FieldSpec>,
    pub postcode: Option<FieldSpec>,
    pub country: Option<FieldSpec>,
    /// When the source observed the record (a date or date-time).
    pub observed_at: Option<FieldSpec>,
}

/// Where a purpose's consent comes from: its status column, and
/// optionally the column saying when it was decided.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged, deny_unknown_fields)]
pub enum ConsentSpec {
    Column(String),
    Detailed {
        column: String,
        #[serde(default)]
        at: Option<String>,
        /// strftime formats for `at`.
        #[serde(default)]
        formats: Vec<String>,
    },
}

impl ConsentSpec {
    fn column(&self) -> &str {
        match self {
            ConsentSpec::Column(c) | ConsentSpec::Detailed { column: c, .. } => c,
        }
    }

    fn at(&self) -> Option<&str> {
        match self {
            ConsentSpec::Detailed { at, .. } => at.as_deref(),
            ConsentSpec::Column(_) => None,
        }
    }

    fn formats(&self) -> &[String] {
        match self {
            ConsentSpec::Detailed { formats, .. } => formats,
            ConsentSpec::Column(_) => &[],
        }
    }
}

/// Reads a consent column's value (None: blank, no decision).
pub fn consent_status(raw: &str) -> Result<Option<ConsentStatus>, String> {
    let v = raw.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    Ok(Some(match v.as_str() {
        "" => return Ok(None),
        "granted" | "yes" | "y" | "true" | "1" | "opt_in" | "optin" | "opted_in" | "subscribed"
        | "consented" => ConsentStatus::Granted,
        "denied" | "no" | "n" | "false" | "0" | "opt_out" | "optout" | "opted_out" | "declined"
        | "refused" => ConsentStatus::Denied,
        "withdrawn" | "revoked" | "unsubscribed" => ConsentStatus::Withdrawn,
        _ => {
            return Err(format!(
                "cannot read {raw:?} as a consent status (granted, denied or withdrawn)"
            ))
        }
    }))
}

/// Constant values used where a row has none.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub country: Option<String>,
    pub source: Option<String>,
}

/// A column mapping.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub record_id: String,
    pub source: Option<String>,
    #[serde(default)]
    pub fields: Fields,
    #[serde(default)]
    pub identifiers: BTreeMap<String, FieldSpec>,
    #[serde(default)]
    pub attributes: BTreeMap<String, FieldSpec>,
    /// Consent columns by purpose.
    #[serde(default)]
    pub consent: BTreeMap<String, ConsentSpec>,
    #[serde(default)]
    pub defaults: Defaults,
}

impl Mapping {
    /// Parses a mapping file.
    pub fn from_toml(s: &str) -> Result<Self, MappingError> {
        let m: Mapping = toml::from_str(s).map_err(|e| MappingError::Toml(e.to_string()))?;
        if m.record_id.trim().is_empty() {
            return Err(MappingError::Invalid {
                field: "record_id".into(),
                reason: "must name a column".into(),
            });
        }
        for (name, spec) in m.all_specs() {
            if spec.columns().is_empty() {
                return Err(MappingError::Invalid {
                    field: name,
                    reason: "names no column".into(),
                });
            }
        }
        Ok(m)
    }

    fn all_specs(&self) -> Vec<(String, &FieldSpec)> {
        let f = &self.fields;
        let mut v: Vec<(String, &FieldSpec)> = [
            ("full_name", &f.full_name),
            ("given_name", &f.given_name),
            ("middle_name", &f.middle_name),
            ("family_name", &f.family_name),
            ("date_of_birth", &f.date_of_birth),
            ("gender", &f.gender),
            ("email", &f.email),
            ("phone", &f.phone),
            ("street", &f.street),
            ("locality", &f.locality),
            ("region", &f.region),
            ("postcode", &f.postcode),
            ("country", &f.country),
            ("observed_at", &f.observed_at),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.as_ref().map(|s| (format!("fields.{n}"), s)))
        .collect();
        v.extend(
            self.identifiers
                .iter()
                .map(|(k, s)| (format!("identifiers.{k}"), s)),
        );
        v.extend(
            self.attributes
                .iter()
                .map(|(k, s)| (format!("attributes.{k}"), s)),
        );
        v
    }

    /// Every column the mapping reads, with the field that reads it.
    pub fn columns(&self) -> Vec<(String, String)> {
        let mut v = vec![("record_id".to_string(), self.record_id.clone())];
        if let Some(s) = &self.source {
            v.push(("source".into(), s.clone()));
        }
        for (name, spec) in self.all_specs() {
            v.extend(
                spec.columns()
                    .into_iter()
                    .map(|c| (name.clone(), c.to_string())),
            );
        }
        for (purpose, spec) in &self.consent {
            v.push((format!("consent.{purpose}"), spec.column().to_string()));
            if let Some(at) = spec.at() {
                v.push((format!("consent.{purpose}.at"), at.to_string()));
            }
        }
        v
    }

    /// Checks that every mapped column exists among `headers` (CSV input).
    pub fn check_columns(&self, headers: &[String]) -> Result<(), MappingError> {
        check_columns(self.columns(), headers)
    }

    /// Builds a record from a row; `get` returns a column's raw value.
    /// `default_source` names the source when the mapping has no source column.
    pub fn to_record<'a>(
        &self,
        get: impl Fn(&str) -> Option<Cow<'a, str>>,
        default_source: &str,
    ) -> Result<Record, RowError> {
        let row = RowValues(&get);
        let record_id = self.record_id_of(&row)?;
        let source = self.source_of(&row, default_source)?;
        let f = &self.fields;
        Ok(Record {
            source,
            record_id,
            name: Some(self.name_of(&row)),
            date_of_birth: row.joined(&f.date_of_birth),
            date_formats: f
                .date_of_birth
                .as_ref()
                .map(|s| s.formats().to_vec())
                .unwrap_or_default(),
            gender: row.joined(&f.gender),
            emails: row.each(&f.email),
            phones: row.each(&f.phone),
            addresses: self.address_of(&row).into_iter().collect(),
            identifiers: self.identifiers_of(&row),
            observed_at_ms: self.observed_at_ms_of(&row)?,
            attributes: self.attributes_of(&row),
            consents: self.consents_of(&row)?,
        })
    }

    /// The row's consent decisions, one per purpose whose column is not
    /// blank (their time 0 when no `at` column gives it: the node dates
    /// them).
    fn consents_of(&self, row: &RowValues<'_, '_>) -> Result<Vec<ConsentDecision>, RowError> {
        let mut out = Vec::new();
        for (purpose, spec) in &self.consent {
            let field = format!("consent.{purpose}");
            let raw = row.value(spec.column()).unwrap_or_default();
            let status = consent_status(&raw).map_err(|reason| RowError {
                field: field.clone(),
                reason,
            })?;
            let Some(status) = status else { continue };
            let at = match spec.at().and_then(|c| row.value(c)) {
                None => 0,
                Some(raw) => parse_timestamp_ms(&raw, spec.formats()).ok_or_else(|| RowError {
                    field: format!("{field}.at"),
                    reason: format!("cannot read {raw:?} as a date or date-time"),
                })?,
            };
            out.push(ConsentDecision {
                purpose: purpose.clone(),
                status: status as i32,
                decided_at_ms: at,
            });
        }
        Ok(out)
    }

    /// The row's record id: required.
    fn record_id_of(&self, row: &RowValues<'_, '_>) -> Result<String, RowError> {
        row.value(&self.record_id).ok_or_else(|| RowError {
            field: "record_id".into(),
            reason: format!("column {:?} is empty", self.record_id),
        })
    }

    /// The row's source: from the source column when mapped (then
    /// required), else the mapping's default, else `default_source`.
    fn source_of(&self, row: &RowValues<'_, '_>, default_source: &str) -> Result<String, RowError> {
        let source = match &self.source {
            Some(col) => row.value(col).ok_or_else(|| RowError {
                field: "source".into(),
                reason: format!("column {col:?} is empty"),
            })?,
            None => self
                .defaults
                .source
                .clone()
                .unwrap_or_else(|| default_source.to_string()),
        };
        if source.is_empty() {
            return Err(RowError {
                field: "source".into(),
                reason: "no source: pass --source or map a source column".into(),
            });
        }
        Ok(source)
    }

    /// The name fields.
    fn name_of(&self, row: &RowValues<'_, '_>) -> PersonName {
        let f = &self.fields;
        PersonName {
            full: row.joined(&f.full_name),
            given: row.joined(&f.given_name),
            middle: row.joined(&f.middle_name),
            family: row.joined(&f.family_name),
        }
    }

    /// The postal address, if the row has any of street, locality, region
    /// or postcode (a country alone is none). The country defaults to the
    /// mapping's.
    fn address_of(&self, row: &RowValues<'_, '_>) -> Option<PostalAddress> {
        let f = &self.fields;
        let country = Some(row.joined(&f.country))
            .filter(|c| !c.is_empty())
            .or_else(|| self.defaults.country.clone())
            .unwrap_or_default();
        let address = PostalAddress {
            street: row.joined(&f.street),
            locality: row.joined(&f.locality),
            region: row.joined(&f.region),
            postcode: row.joined(&f.postcode),
            country,
        };
        let has_address = [
            &address.street,
            &address.locality,
            &address.region,
            &address.postcode,
        ]
        .iter()
        .any(|s| !s.is_empty());
        has_address.then_some(address)
    }

    /// One identifier per identifier column that is not blank, by kind
    /// name, then column order.
    fn identifiers_of(&self, row: &RowValues<'_, '_>) -> Vec<Identifier> {
        self.identifiers
            .iter()
            .flat_map(|(kind, spec)| {
                row.values(spec).into_iter().map(|value| Identifier {
                    kind: kind.clone(),
                    value,
                })
            })
            .collect()
    }

    /// Attributes whose columns have any value, their values joined with
    /// spaces.
    fn attributes_of(&self, row: &RowValues<'_, '_>) -> HashMap<String, String> {
        self.attributes
            .iter()
            .filter_map(|(k, spec)| {
                let v = row.values(spec);
                (!v.is_empty()).then(|| (k.clone(), v.join(" ")))
            })
            .collect()
    }

    /// When the source observed the record, in Unix milliseconds; 0 when
    /// the field is not mapped or empty, an error when it cannot be read.
    fn observed_at_ms_of(&self, row: &RowValues<'_, '_>) -> Result<i64, RowError> {
        let Some(spec) = &self.fields.observed_at else {
            return Ok(0);
        };
        let raw = row.joined(&self.fields.observed_at);
        if raw.is_empty() {
            return Ok(0);
        }
        parse_timestamp_ms(&raw, spec.formats()).ok_or_else(|| RowError {
            field: "observed_at".into(),
            reason: format!("cannot read {raw:?} as a date or date-time"),
        })
    }

    /// Builds a record from a CSV row given the header's column positions.
    pub fn csv_record(
        &self,
        header: &HashMap<String, usize>,
        row: &csv::StringRecord,
        default_source: &str,
    ) -> Result<Record, RowError> {
        self.to_record(
            |c| header.get(c).and_then(|&i| row.get(i)).map(Cow::Borrowed),
            default_source,
        )
    }

    /// Builds a record from a JSON object (JSON Lines input).
    pub fn json_record(
        &self,
        obj: &serde_json::Value,
        default_source: &str,
    ) -> Result<Record, RowError> {
        let map = json_object(obj)?;
        self.to_record(|c| json_column(map, c), default_source)
    }
}

/// Checks that every (field, column) read exists among `headers`.
pub(crate) fn check_columns(
    columns: Vec<(String, String)>,
    headers: &[String],
) -> Result<(), MappingError> {
    for (field, column) in columns {
        if !headers.iter().any(|h| h == &column) {
            return Err(MappingError::MissingColumn {
                field,
                column,
                available: headers.join(", "),
            });
        }
    }
    Ok(())
}

/// A JSON Lines row as an object, or the row's error.
pub(crate) fn json_object(
    obj: &serde_json::Value,
) -> Result<&serde_json::Map<String, serde_json::Value>, RowError> {
    match obj {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(RowError {
            field: "(row)".into(),
            reason: "a JSON Lines row must be an object".into(),
        }),
    }
}

/// A column of a JSON Lines row: a string as it is, another value as its
/// JSON text, null or absent as missing.
pub(crate) fn json_column<'a>(
    map: &serde_json::Map<String, serde_json::Value>,
    column: &str,
) -> Option<Cow<'a, str>> {
    match map.get(column)? {
        serde_json::Value::String(s) => Some(Cow::Owned(s.clone())),
        serde_json::Value::Null => None,
        other => Some(Cow::Owned(other.to_string())),
    }
}

/// A row's values as a mapping reads them, through a function that
/// returns a column's raw value.
struct RowValues<'r, 'a>(&'r dyn Fn(&str) -> Option<Cow<'a, str>>);

impl RowValues<'_, '_> {
    /// A column's value, trimmed; `None` when missing or blank.
    fn value(&self, column: &str) -> Option<String> {
        (self.0)(column)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// The values of a field's columns that are not blank, in column order.
    fn values(&self, spec: &FieldSpec) -> Vec<String> {
        spec.columns()
            .into_iter()
            .filter_map(|c| self.value(c))
            .collect()
    }

    /// A single-valued field: its columns' values joined with spaces
    /// (empty when the field is not mapped).
    fn joined(&self, spec: &Option<FieldSpec>) -> String {
        spec.as_ref()
            .map(|s| self.values(s).join(" "))
            .unwrap_or_default()
    }

    /// A multi-valued field: one value per column that is not blank.
    fn each(&self, spec: &Option<FieldSpec>) -> Vec<String> {
        spec.as_ref().map(|s| self.values(s)).unwrap_or_default()
    }
}

/// A CSV header's column names as mappings refer to them: trimmed, and
/// without the byte-order mark spreadsheets put before the first name.
pub fn header_names(headers: &csv::StringRecord) -> Vec<String> {
    headers
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect()
}

/// Column name → position, from a CSV header (names as [`header_names`]).
pub fn header_index(headers: &csv::StringRecord) -> HashMap<String, usize> {
    header_names(headers)
        .into_iter()
        .enumerate()
        .map(|(i, h)| (h, i))
        .collect()
}

/// Reads a date or date-time as Unix milliseconds (UTC).
pub fn parse_timestamp_ms(s: &str, formats: &[String]) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    let dt_formats = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"];
    for f in formats.iter().map(String::as_str).chain(dt_formats) {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    let d_formats = ["%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%Y/%m/%d"];
    for f in formats.iter().map(String::as_str).chain(d_formats) {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d
                .and_hms_opt(0, 0, 0)
                .map(|dt| dt.and_utc().timestamp_millis());
        }
    }
    s.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEBRL: &str = r#"
record_id = "rec_id"
[fields]
given_name = "given_name"
family_name = "surname"
street = ["street_number", "address_1", "address_2"]   # joined with spaces
locality = "suburb"
postcode = "postcode"
region = "state"
date_of_birth = { column = "date_of_birth", formats = ["%Y%m%d"] }
[identifiers]
national_id = "soc_sec_id"
[defaults]
country = "AU"
"#;

    fn csv_row(header: &str, row: &str) -> (HashMap<String, usize>, csv::StringRecord) {
        let data = format!("{header}\n{row}\n");
        let mut r = csv::ReaderBuilder::new().from_reader(data.as_bytes());
        let h = header_index(r.headers().unwrap());
        let rec = r.records().next().unwrap().unwrap();
        (h, rec)
    }

    #[test]
    fn febrl_mapping_builds_a_record() {
        let m = Mapping::from_toml(FEBRL).unwrap();
        let (h, row) = csv_row(
            "rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id",
            "rec-1-org, mitchell, green, 7, wallaby place, delmar, cleveland, 2119, sa, 19560409, 1804974",
        );
        let r = m.csv_record(&h, &row, "febrl").unwrap();
        assert_eq!(r.source, "febrl");
        assert_eq!(r.record_id, "rec-1-org");
        assert_eq!(r.name.as_ref().unwrap().family, "green");
        assert_eq!(r.addresses[0].street, "7 wallaby place delmar");
        assert_eq!(r.addresses[0].country, "AU");
        assert_eq!(r.date_of_birth, "19560409");
        assert_eq!(r.date_formats, vec!["%Y%m%d".to_string()]);
        assert_eq!(r.identifiers[0].kind, "national_id");
        assert_eq!(r.identifiers[0].value, "1804974");
    }

    const CONSENT: &str = r#"
record_id = "id"
[consent]
email_marketing = "email_ok"
sms_marketing = { column = "sms_ok", at = "sms_date" }
"#;

    #[test]
    fn consent_columns_give_one_decision_per_purpose_with_its_time() {
        let m = Mapping::from_toml(CONSENT).unwrap();
        let (h, row) = csv_row(
            "id,email_ok,sms_ok,sms_date",
            "1,Opt-In,unsubscribed,2024-03-01",
        );
        let r = m.csv_record(&h, &row, "crm").unwrap();
        assert_eq!(r.consents.len(), 2);
        assert_eq!(r.consents[0].purpose, "email_marketing");
        assert_eq!(r.consents[0].status(), ConsentStatus::Granted);
        assert_eq!(r.consents[0].decided_at_ms, 0);
        assert_eq!(r.consents[1].status(), ConsentStatus::Withdrawn);
        assert_eq!(r.consents[1].decided_at_ms, 1_709_251_200_000);
    }

    #[test]
    fn a_blank_consent_column_is_no_decision_and_a_bad_one_names_its_purpose() {
        let m = Mapping::from_toml(CONSENT).unwrap();
        let (h, row) = csv_row("id,email_ok,sms_ok,sms_date", "1,,,");
        assert!(m.csv_record(&h, &row, "crm").unwrap().consents.is_empty());
        let (h, row) = csv_row("id,email_ok,sms_ok,sms_date", "1,perhaps,,");
        let e = m.csv_record(&h, &row, "crm").unwrap_err();
        assert_eq!(e.field, "consent.email_marketing");
        assert!(e.reason.contains("perhaps"), "{e}");
        let cols: Vec<String> = m.columns().into_iter().map(|(_, c)| c).collect();
        assert!(cols.contains(&"sms_date".to_string()), "{cols:?}");
    }

    #[test]
    fn header_names_are_trimmed_and_lose_a_byte_order_mark() {
        let h = csv::StringRecord::from(vec!["\u{feff}rec_id", " surname "]);
        assert_eq!(header_names(&h), vec!["rec_id", "surname"]);
        assert_eq!(header_index(&h)["rec_id"], 0);
    }

    #[test]
    fn missing_columns_are_named() {
        let m = Mapping::from_toml(FEBRL).unwrap();
        let err = m
            .check_columns(&["rec_id".into(), "given_name".into()])
            .unwrap_err();
        assert!(
            matches!(err, MappingError::MissingColumn { ref column, .. } if column == "surname")
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err =
            Mapping::from_toml("record_id = \"id\"\n[fields]\nshoe_size = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("shoe_size"), "{err}");
    }

    #[test]
    fn empty_record_id_is_a_row_error() {
        let m = Mapping::from_toml(FEBRL).unwrap();
        let (h, row) = csv_row("rec_id,given_name", " ,bob");
        let e = m.csv_record(&h, &row, "s").unwrap_err();
        assert_eq!(e.field, "record_id");
    }

    #[test]
    fn dates_from_several_columns_and_multi_valued_fields() {
        let m = Mapping::from_toml(
            r#"
record_id = "id"
source = "sys"
[fields]
date_of_birth = { columns = ["by", "bm", "bd"], formats = ["%Y %m %d"] }
email = ["e1", "e2"]
[attributes]
tier = "tier"
"#,
        )
        .unwrap();
        let obj = serde_json::json!({"id": 7, "sys": "crm", "by": "1985", "bm": "07", "bd": "14",
            "e1": "a@x.com", "e2": "b@y.com", "tier": "gold"});
        let r = m.json_record(&obj, "ignored").unwrap();
        assert_eq!(r.record_id, "7");
        assert_eq!(r.source, "crm");
        assert_eq!(r.date_of_birth, "1985 07 14");
        assert_eq!(r.emails, vec!["a@x.com", "b@y.com"]);
        assert_eq!(r.attributes["tier"], "gold");
    }

    /// A mapping of every field, several columns to some, and defaults.
    const EVERY_FIELD: &str = r#"
record_id = "id"
source = "sys"
[fields]
full_name = ["title", "name"]
given_name = "given"
middle_name = "middle"
family_name = "family"
date_of_birth = { column = "dob", formats = ["%d.%m.%Y"] }
gender = "sex"
email = ["e1", "e2"]
phone = ["p1", "p2"]
street = ["no", "street"]
locality = "town"
region = "state"
postcode = "pc"
country = "country"
observed_at = { column = "seen", formats = ["%d.%m.%Y %H:%M"] }
[identifiers]
national_id = ["nid", "nid2"]
loyalty = "ly"
[attributes]
tier = ["tier", "subtier"]
note = "note"
[defaults]
country = "AU"
"#;

    fn every_field() -> Mapping {
        Mapping::from_toml(EVERY_FIELD).unwrap()
    }

    /// Pins what `to_record` builds, field by field.
    #[test]
    fn every_field_is_read() {
        let full = serde_json::json!({"id": " r1 ", "sys": "crm", "title": "Dr", "name": "Ann Lee",
            "given": "Ann", "middle": " ", "family": "Lee", "dob": "14.07.1985", "sex": "F",
            "e1": "", "e2": "a@x.com", "p1": "0400", "p2": null, "no": 7, "street": "Main St",
            "town": "Perth", "state": "WA", "pc": "6000", "seen": "02.03.2024 10:30",
            "nid": "123", "nid2": "456", "ly": "", "tier": "gold", "subtier": "plus", "note": ""});
        let r = every_field().json_record(&full, "ignored").unwrap();
        let expected = Record {
            source: "crm".into(),
            record_id: "r1".into(),
            name: Some(PersonName {
                full: "Dr Ann Lee".into(),
                given: "Ann".into(),
                middle: String::new(),
                family: "Lee".into(),
            }),
            date_of_birth: "14.07.1985".into(),
            date_formats: vec!["%d.%m.%Y".into()],
            gender: "F".into(),
            emails: vec!["a@x.com".into()],
            phones: vec!["0400".into()],
            addresses: vec![PostalAddress {
                street: "7 Main St".into(),
                locality: "Perth".into(),
                region: "WA".into(),
                postcode: "6000".into(),
                country: "AU".into(),
            }],
            identifiers: vec![
                Identifier {
                    kind: "national_id".into(),
                    value: "123".into(),
                },
                Identifier {
                    kind: "national_id".into(),
                    value: "456".into(),
                },
            ],
            observed_at_ms: 1_709_375_400_000,
            attributes: [("tier".to_string(), "gold plus".to_string())].into(),
            consents: vec![],
        };
        assert_eq!(r, expected);
    }

    #[test]
    fn a_country_alone_is_no_address() {
        let m = every_field();
        let bare = serde_json::json!({"id": "r2", "sys": "web", "country": "NZ"});
        let r = m.json_record(&bare, "ignored").unwrap();
        assert!(r.addresses.is_empty());
        assert_eq!(r.observed_at_ms, 0);
        assert!(r.identifiers.is_empty() && r.attributes.is_empty());
        // With an address, a mapped country beats the default.
        let moved =
            serde_json::json!({"id": "r3", "sys": "web", "town": "Nelson", "country": "NZ"});
        assert_eq!(
            m.json_record(&moved, "ignored").unwrap().addresses[0].country,
            "NZ"
        );
    }

    /// The message of the error a row gives with `m` and `default_source`.
    fn row_error(m: &Mapping, row: serde_json::Value, default_source: &str) -> String {
        m.json_record(&row, default_source).unwrap_err().to_string()
    }

    /// Pins each row error's message.
    #[test]
    fn row_errors_name_the_field() {
        let m = every_field();
        assert_eq!(
            row_error(&m, serde_json::json!({"sys": "crm"}), "s"),
            r#"record_id: column "id" is empty"#
        );
        assert_eq!(
            row_error(&m, serde_json::json!({"id": "r4", "sys": " "}), "s"),
            r#"source: column "sys" is empty"#
        );
        assert_eq!(
            row_error(
                &m,
                serde_json::json!({"id": "r5", "sys": "crm", "seen": "soon"}),
                "s"
            ),
            r#"observed_at: cannot read "soon" as a date or date-time"#
        );
        let no_source = Mapping::from_toml("record_id = \"id\"\n").unwrap();
        assert_eq!(
            row_error(&no_source, serde_json::json!({"id": "r6"}), ""),
            "source: no source: pass --source or map a source column"
        );
        assert_eq!(
            row_error(&m, serde_json::json!([1]), "s"),
            "(row): a JSON Lines row must be an object"
        );
    }

    #[test]
    fn without_a_source_column_the_default_source_then_the_callers() {
        let source = |toml: &str| {
            Mapping::from_toml(toml)
                .unwrap()
                .json_record(&serde_json::json!({"id": "r7"}), "file")
                .unwrap()
                .source
        };
        assert_eq!(source("record_id = \"id\"\n"), "file");
        assert_eq!(
            source("record_id = \"id\"\n[defaults]\nsource = \"hr\"\n"),
            "hr"
        );
    }
}
