//! Event mappings: how rows of a CSV file or JSON Lines objects become
//! [`Event`]s, in the style of the record [`Mapping`].
//!
//! ```toml
//! record_id = "customer_id"      # the channel's own customer id
//! event_id = "order_id"          # idempotency key within the source
//! type = "event_type"            # a column naming the type...
//! occurred_at = "ordered_at"     # a date or date-time column
//! amount = "total"
//! currency = "currency"
//! source = "system"              # optional: a column naming each row's source
//! [properties]
//! cart_id = "cart_id"                              # text
//! items = { column = "item_count", type = "number" } # number, bool or timestamp
//! [identity]                     # optional: identifying fields, as a record
//! email = "email"                # mapping's [fields]
//! [defaults]
//! type = "order_completed"       # ...or one type for every row
//! currency = "EUR"
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::mapping::{
    check_columns, json_column, json_object, parse_timestamp_ms, Fields, Mapping, MappingError,
    RowError,
};
use crate::v1::{property_value, Event, PropertyValue};

/// The type of a property column.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PropertyType {
    #[default]
    Text,
    Number,
    Bool,
    Timestamp,
}

/// Where a property comes from.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum PropertySpec {
    Column(String),
    Typed {
        column: String,
        #[serde(rename = "type", default)]
        kind: PropertyType,
    },
}

/// Constants used where a row has no value.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventDefaults {
    pub source: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub currency: Option<String>,
}

/// An event mapping.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventMapping {
    pub record_id: String,
    pub event_id: String,
    pub source: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub occurred_at: String,
    pub amount: Option<String>,
    pub currency: Option<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, PropertySpec>,
    pub identity: Option<Fields>,
    #[serde(default)]
    pub defaults: EventDefaults,
}

impl EventMapping {
    /// Parses an event mapping file.
    pub fn from_toml(s: &str) -> Result<Self, MappingError> {
        let m: EventMapping = toml::from_str(s).map_err(|e| MappingError::Toml(e.to_string()))?;
        for (field, v) in [
            ("record_id", &m.record_id),
            ("event_id", &m.event_id),
            ("occurred_at", &m.occurred_at),
        ] {
            if v.trim().is_empty() {
                return Err(MappingError::Invalid {
                    field: field.into(),
                    reason: "must name a column".into(),
                });
            }
        }
        if m.event_type.is_none() && m.defaults.event_type.is_none() {
            return Err(MappingError::Invalid {
                field: "type".into(),
                reason: "name a type column, or set [defaults] type".into(),
            });
        }
        Ok(m)
    }

    /// The record mapping of the identifying fields, if any.
    fn identity_mapping(&self) -> Option<Mapping> {
        self.identity.as_ref().map(|f| Mapping {
            record_id: self.record_id.clone(),
            source: self.source.clone(),
            fields: f.clone(),
            ..Mapping::default()
        })
    }

    /// Every column the mapping reads, with the field that reads it.
    pub fn columns(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("record_id".to_string(), self.record_id.clone()),
            ("event_id".to_string(), self.event_id.clone()),
            ("occurred_at".to_string(), self.occurred_at.clone()),
        ];
        for (f, c) in [
            ("source", &self.source),
            ("type", &self.event_type),
            ("amount", &self.amount),
            ("currency", &self.currency),
        ] {
            if let Some(c) = c {
                v.push((f.to_string(), c.clone()));
            }
        }
        for (name, spec) in &self.properties {
            v.push((format!("properties.{name}"), spec.column().to_string()));
        }
        if let Some(m) = self.identity_mapping() {
            v.extend(
                m.columns()
                    .into_iter()
                    .filter(|(f, _)| f.starts_with("fields."))
                    .map(|(f, c)| (f.replacen("fields.", "identity.", 1), c)),
            );
        }
        v
    }

    /// Checks that every mapped column exists among `headers` (CSV input).
    pub fn check_columns(&self, headers: &[String]) -> Result<(), MappingError> {
        check_columns(self.columns(), headers)
    }

    /// Builds an event from a row; `get` returns a column's raw value.
    pub fn to_event<'a>(
        &self,
        get: impl Fn(&str) -> Option<Cow<'a, str>>,
        default_source: &str,
    ) -> Result<Event, RowError> {
        let value = |c: &str| {
            get(c)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let need = |field: &str, column: &str| {
            value(column).ok_or_else(|| RowError {
                field: field.into(),
                reason: format!("column {column:?} is empty"),
            })
        };
        let source = match &self.source {
            Some(c) => value(c),
            None => None,
        }
        .or_else(|| self.defaults.source.clone())
        .or_else(|| (!default_source.is_empty()).then(|| default_source.to_string()))
        .ok_or_else(|| RowError {
            field: "source".into(),
            reason: "no source: map a source column or pass --source".into(),
        })?;
        let event_type = match &self.event_type {
            Some(c) => value(c),
            None => None,
        }
        .or_else(|| self.defaults.event_type.clone())
        .ok_or_else(|| RowError {
            field: "type".into(),
            reason: "the type column is empty and [defaults] sets none".into(),
        })?;
        let at = need("occurred_at", &self.occurred_at)?;
        let occurred_at_ms = parse_timestamp_ms(&at, &[]).ok_or_else(|| RowError {
            field: "occurred_at".into(),
            reason: format!("cannot read {at:?} as a date or date-time"),
        })?;
        let amount = match self.amount.as_deref().and_then(value) {
            None => None,
            Some(a) => Some(a.parse::<f64>().map_err(|_| RowError {
                field: "amount".into(),
                reason: format!("{a:?} is not a number"),
            })?),
        };
        let currency = self
            .currency
            .as_deref()
            .and_then(value)
            .or_else(|| self.defaults.currency.clone())
            .unwrap_or_default();
        let mut properties = HashMap::new();
        for (name, spec) in &self.properties {
            if let Some(raw) = value(spec.column()) {
                properties.insert(name.clone(), spec.parse(name, &raw)?);
            }
        }
        let identity = match self.identity_mapping() {
            None => None,
            Some(m) => Some(m.to_record(&get, &source)?),
        };
        Ok(Event {
            source,
            record_id: need("record_id", &self.record_id)?,
            event_id: need("event_id", &self.event_id)?,
            r#type: event_type,
            occurred_at_ms,
            amount,
            currency,
            properties,
            identity,
        })
    }

    /// Builds an event from a CSV row given the header's column positions.
    pub fn csv_event(
        &self,
        header: &HashMap<String, usize>,
        row: &csv::StringRecord,
        default_source: &str,
    ) -> Result<Event, RowError> {
        self.to_event(
            |c| header.get(c).and_then(|&i| row.get(i)).map(Cow::Borrowed),
            default_source,
        )
    }

    /// Builds an event from a JSON object (JSON Lines input).
    pub fn json_event(
        &self,
        obj: &serde_json::Value,
        default_source: &str,
    ) -> Result<Event, RowError> {
        let map = json_object(obj)?;
        self.to_event(|c| json_column(map, c), default_source)
    }
}

impl PropertySpec {
    fn column(&self) -> &str {
        match self {
            PropertySpec::Column(c) | PropertySpec::Typed { column: c, .. } => c,
        }
    }

    fn kind(&self) -> PropertyType {
        match self {
            PropertySpec::Column(_) => PropertyType::Text,
            PropertySpec::Typed { kind, .. } => *kind,
        }
    }

    /// A raw value as the property's type.
    fn parse(&self, name: &str, raw: &str) -> Result<PropertyValue, RowError> {
        let bad = |what: &str| RowError {
            field: format!("properties.{name}"),
            reason: format!("{raw:?} is not {what}"),
        };
        let v = match self.kind() {
            PropertyType::Text => property_value::Value::StringValue(raw.to_string()),
            PropertyType::Number => {
                property_value::Value::NumberValue(raw.parse().map_err(|_| bad("a number"))?)
            }
            PropertyType::Bool => {
                property_value::Value::BoolValue(match raw.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    _ => return Err(bad("true or false")),
                })
            }
            PropertyType::Timestamp => property_value::Value::TimestampMs(
                parse_timestamp_ms(raw, &[]).ok_or_else(|| bad("a date or date-time"))?,
            ),
        };
        Ok(PropertyValue { value: Some(v) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"
record_id = "customer"
event_id = "id"
type = "kind"
occurred_at = "at"
amount = "total"
[properties]
cart_id = "cart"
items = { column = "n", type = "number" }
[identity]
email = "email"
[defaults]
currency = "EUR"
"#;

    fn row(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<Cow<'static, str>> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |c| m.get(c).cloned().map(Cow::Owned)
    }

    #[test]
    fn a_row_becomes_an_event_with_typed_properties_and_identity() {
        let m = EventMapping::from_toml(MAPPING).unwrap();
        let e = m
            .to_event(
                row(&[
                    ("customer", "c1"),
                    ("id", "o-9"),
                    ("kind", "order_completed"),
                    ("at", "2026-03-01T10:00:00Z"),
                    ("total", "19.90"),
                    ("cart", "k7"),
                    ("n", "3"),
                    ("email", "a@b.com"),
                ]),
                "shop",
            )
            .unwrap();
        assert_eq!(e.source, "shop");
        assert_eq!(e.amount, Some(19.9));
        assert_eq!(e.currency, "EUR");
        assert_eq!(
            e.properties["items"].value,
            Some(property_value::Value::NumberValue(3.0))
        );
        assert_eq!(e.identity.unwrap().emails, vec!["a@b.com".to_string()]);
    }

    #[test]
    fn bad_rows_name_the_field() {
        let m = EventMapping::from_toml(MAPPING).unwrap();
        let base = [
            ("customer", "c1"),
            ("id", "o-9"),
            ("kind", "x"),
            ("at", "yesterday"),
        ];
        let err = m.to_event(row(&base), "shop").unwrap_err();
        assert_eq!(err.field, "occurred_at");
        let mut r = base.to_vec();
        r[3] = ("at", "2026-03-01");
        r.push(("n", "three"));
        assert_eq!(
            m.to_event(row(&r), "shop").unwrap_err().field,
            "properties.items"
        );
        assert!(m.check_columns(&["customer".into(), "id".into()]).is_err());
    }

    #[test]
    fn a_mapping_needs_a_type() {
        let err =
            EventMapping::from_toml("record_id = \"c\"\nevent_id = \"i\"\noccurred_at = \"t\"")
                .unwrap_err();
        assert!(err.to_string().contains("type"), "{err}");
    }
}
