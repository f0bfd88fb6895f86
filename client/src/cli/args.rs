//! Person attribute flags shared by `upsert` and `search`, and how they
//! become a [`Record`]; reading a record from JSON.

use std::io::Read;

use kindred_client::refs::parse_key_value;
use kindred_client::v1::{ConsentDecision, Identifier, PersonName, PostalAddress, Record};
use kindred_client::ClientError;
use kindred_proto::mapping::{consent_status, parse_timestamp_ms};

/// Attributes of a person, as flags.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct PersonArgs {
    /// Given (first) name.
    #[arg(long)]
    pub given_name: Option<String>,
    /// Middle name(s).
    #[arg(long)]
    pub middle_name: Option<String>,
    /// Family name (surname).
    #[arg(long)]
    pub family_name: Option<String>,
    /// Full name, parsed by the server (the parts win where given).
    #[arg(long)]
    pub full_name: Option<String>,
    /// Date of birth as the source writes it (1985-07-14, 19850714, ...).
    #[arg(long, value_name = "DATE")]
    pub dob: Option<String>,
    /// Gender.
    #[arg(long)]
    pub gender: Option<String>,
    /// Email address (repeatable).
    #[arg(long = "email", value_name = "E")]
    pub emails: Vec<String>,
    /// Phone number (repeatable).
    #[arg(long = "phone", value_name = "P")]
    pub phones: Vec<String>,
    /// Street: house number and street lines.
    #[arg(long)]
    pub street: Option<String>,
    /// Locality (city, suburb).
    #[arg(long)]
    pub locality: Option<String>,
    /// Region (state, county).
    #[arg(long)]
    pub region: Option<String>,
    /// Postcode.
    #[arg(long)]
    pub postcode: Option<String>,
    /// Country, ISO 3166-1 alpha-2 (e.g. AU).
    #[arg(long)]
    pub country: Option<String>,
    /// Identifier, e.g. --id loyalty_number=L123 (repeatable).
    #[arg(long = "id", value_name = "KIND=VALUE")]
    pub ids: Vec<String>,
    /// Free attribute, e.g. --attr segment=gold (repeatable).
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    pub attrs: Vec<String>,
    /// When the source observed the data: milliseconds since the Unix
    /// epoch, or a date / date-time.
    #[arg(long, value_name = "MS")]
    pub observed_at: Option<String>,
    /// A consent decision the source holds, e.g. --consent
    /// email_marketing=granted (repeatable; also denied, withdrawn; dated
    /// --observed-at, else when the node receives it).
    #[arg(long = "consent", value_name = "PURPOSE=STATUS")]
    pub consents: Vec<String>,
}

/// A flag value trimmed; `None` when empty.
fn val(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn text(v: &Option<String>) -> String {
    val(v).unwrap_or_default()
}

impl PersonArgs {
    /// Whether no attribute was given.
    pub fn is_empty(&self) -> bool {
        *self == PersonArgs::default()
    }

    /// The record these flags describe, keyed by `source` and `record_id`.
    pub fn to_record(&self, source: &str, record_id: &str) -> Result<Record, ClientError> {
        let name = PersonName {
            full: text(&self.full_name),
            given: text(&self.given_name),
            middle: text(&self.middle_name),
            family: text(&self.family_name),
        };
        let has_name = name != PersonName::default();
        let address = PostalAddress {
            street: text(&self.street),
            locality: text(&self.locality),
            region: text(&self.region),
            postcode: text(&self.postcode),
            country: text(&self.country),
        };
        let has_address = address != PostalAddress::default();
        let identifiers = self
            .ids
            .iter()
            .map(|s| {
                let (kind, value) = parse_key_value(s, "--id")?;
                if value.is_empty() {
                    return Err(ClientError::InvalidInput(format!(
                        "--id {s:?} has an empty value"
                    )));
                }
                Ok(Identifier { kind, value })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let attributes = self
            .attrs
            .iter()
            .map(|s| parse_key_value(s, "--attr"))
            .collect::<Result<_, _>>()?;
        let observed_at_ms = match val(&self.observed_at) {
            None => 0,
            Some(s) => parse_timestamp_ms(&s, &[]).ok_or_else(|| {
                ClientError::InvalidInput(format!(
                    "--observed-at {s:?} is neither milliseconds since the epoch nor a date"
                ))
            })?,
        };
        let list = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let consents = self
            .consents
            .iter()
            .map(|s| consent_flag(s, "--consent", 0))
            .collect::<Result<_, _>>()?;
        Ok(Record {
            source: source.to_string(),
            record_id: record_id.to_string(),
            name: has_name.then_some(name),
            date_of_birth: text(&self.dob),
            date_formats: vec![],
            gender: text(&self.gender),
            emails: list(&self.emails),
            phones: list(&self.phones),
            addresses: if has_address { vec![address] } else { vec![] },
            identifiers,
            observed_at_ms,
            attributes,
            consents,
        })
    }
}

/// Reads `PURPOSE=STATUS` (granted, denied, withdrawn, or yes/no and the
/// other spellings a consent column may use) as a decision at `at_ms`.
pub fn consent_flag(s: &str, flag: &str, at_ms: i64) -> Result<ConsentDecision, ClientError> {
    let (purpose, status) = parse_key_value(s, flag)?;
    let status = consent_status(&status)
        .map_err(|e| ClientError::InvalidInput(format!("{flag} {s:?}: {e}")))?
        .ok_or_else(|| ClientError::InvalidInput(format!("{flag} {s:?} has no status")))?;
    Ok(ConsentDecision {
        purpose,
        status: status as i32,
        decided_at_ms: at_ms,
    })
}

/// Reads a record from JSON text (an object with the fields of
/// `kindred.v1.Record`). Unknown field names are rejected, so that a typo
/// does not silently drop data.
pub fn record_from_json(text: &str) -> Result<Record, ClientError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ClientError::InvalidInput(format!("the record is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ClientError::InvalidInput(
            "the record JSON must be an object".into(),
        ));
    }
    let template = serde_json::to_value(Record {
        name: Some(PersonName::default()),
        addresses: vec![PostalAddress::default()],
        identifiers: vec![Identifier::default()],
        ..Record::default()
    })
    .map_err(|e| ClientError::InvalidInput(e.to_string()))?;
    check_fields(&value, &template, "")?;
    serde_json::from_value(value)
        .map_err(|e| ClientError::InvalidInput(format!("the record JSON is not a Record: {e}")))
}

/// Reads a record from a JSON file, or from stdin for `-`.
pub fn read_record_json(path: &str) -> Result<Record, ClientError> {
    let mut text = String::new();
    let read = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| ClientError::InvalidInput(format!("cannot read {path}: {e}")))?;
    record_from_json(&text)
}

/// Checks that every key of `value` exists in `template` (recursively;
/// `attributes` is a free map).
fn check_fields(
    value: &serde_json::Value,
    template: &serde_json::Value,
    path: &str,
) -> Result<(), ClientError> {
    use serde_json::Value;
    match (value, template) {
        (Value::Object(v), Value::Object(t)) => {
            for (k, child) in v {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let Some(tchild) = t.get(k) else {
                    let mut known: Vec<&str> = t.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    return Err(ClientError::InvalidInput(format!(
                        "unknown field {here:?} in the record JSON (known: {})",
                        known.join(", ")
                    )));
                };
                if here != "attributes" {
                    check_fields(child, tchild, &here)?;
                }
            }
            Ok(())
        }
        (Value::Array(v), Value::Array(t)) => match t.first() {
            Some(tfirst) => v
                .iter()
                .enumerate()
                .try_for_each(|(i, child)| check_fields(child, tfirst, &format!("{path}[{i}]"))),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut PersonArgs)) -> PersonArgs {
        let mut a = PersonArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn flags_map_onto_the_record() {
        let a = args(|a| {
            a.given_name = Some(" Ann ".into());
            a.family_name = Some("Lee".into());
            a.dob = Some("1985-07-14".into());
            a.emails = vec!["ann@x.com".into(), " ".into(), "a2@y.com".into()];
            a.phones = vec!["0412 345 678".into()];
            a.locality = Some("Sydney".into());
            a.country = Some("AU".into());
            a.ids = vec!["loyalty_number=L=1".into()];
            a.attrs = vec!["tier=gold".into(), "tier=silver".into()];
            a.observed_at = Some("1700000000000".into());
        });
        let r = a.to_record("crm", "42").unwrap();
        assert_eq!((r.source.as_str(), r.record_id.as_str()), ("crm", "42"));
        let n = r.name.unwrap();
        assert_eq!((n.given.as_str(), n.family.as_str()), ("Ann", "Lee"));
        assert_eq!(r.date_of_birth, "1985-07-14");
        assert_eq!(r.emails, vec!["ann@x.com", "a2@y.com"]);
        assert_eq!(r.phones, vec!["0412 345 678"]);
        assert_eq!(r.addresses.len(), 1);
        assert_eq!(r.addresses[0].locality, "Sydney");
        assert_eq!(r.addresses[0].country, "AU");
        assert_eq!(r.identifiers[0].kind, "loyalty_number");
        assert_eq!(r.identifiers[0].value, "L=1");
        assert_eq!(r.attributes["tier"], "silver");
        assert_eq!(r.observed_at_ms, 1_700_000_000_000);
    }

    #[test]
    fn absent_groups_stay_empty() {
        let r = args(|a| a.emails = vec!["e@x.com".into()])
            .to_record("s", "1")
            .unwrap();
        assert!(r.name.is_none());
        assert!(r.addresses.is_empty());
        assert_eq!(r.observed_at_ms, 0);
        assert!(PersonArgs::default().is_empty());
        assert!(!args(|a| a.gender = Some("f".into())).is_empty());
    }

    #[test]
    fn observed_at_accepts_dates() {
        let r = args(|a| a.observed_at = Some("2024-01-02".into()))
            .to_record("s", "1")
            .unwrap();
        assert_eq!(r.observed_at_ms, 1_704_153_600_000);
        let e = args(|a| a.observed_at = Some("yesterday".into()))
            .to_record("s", "1")
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn malformed_pairs_are_invalid_input() {
        for a in [
            args(|a| a.ids = vec!["nokind".into()]),
            args(|a| a.ids = vec!["kind=".into()]),
            args(|a| a.attrs = vec!["=v".into()]),
        ] {
            let e = a.to_record("s", "1").unwrap_err();
            assert_eq!(e.exit_code(), 2, "{e}");
        }
    }

    #[test]
    fn json_records_are_read_and_typos_rejected() {
        let r = record_from_json(
            r#"{"source": "web", "record_id": "7", "name": {"given": "Bo"},
                "emails": ["bo@x.com"], "addresses": [{"locality": "Perth"}],
                "identifiers": [{"kind": "cookie_id", "value": "c1"}],
                "attributes": {"anything": "goes"}, "observed_at_ms": 5}"#,
        )
        .unwrap();
        assert_eq!(r.record_id, "7");
        assert_eq!(r.name.unwrap().given, "Bo");
        assert_eq!(r.addresses[0].locality, "Perth");
        assert_eq!(r.attributes["anything"], "goes");
        assert_eq!(r.observed_at_ms, 5);

        let e = record_from_json(r#"{"source": "web", "emial": ["x"]}"#).unwrap_err();
        assert!(e.to_string().contains("\"emial\""), "{e}");
        let e = record_from_json(r#"{"addresses": [{"town": "x"}]}"#).unwrap_err();
        assert!(e.to_string().contains("addresses[0].town"), "{e}");
        let e = record_from_json(r#"{"emails": "not-a-list"}"#).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(record_from_json("[1]").is_err());
        assert!(record_from_json("{").is_err());
    }
}
