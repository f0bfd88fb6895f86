//! Segment files: a [`Segment`] definition written as TOML or JSON, read
//! into the API's message and written back from it.
//!
//! ```toml
//! name = "win_back"
//! description = "Lapsed customers we may email"
//! [condition]
//! all = [
//!   { stage = ["lapsed", "at_risk"] },
//!   { trait = { name = "total_spend", op = ">=", value = 100 } },
//!   { not_performed = { event = "order_completed", within_days = 90 } },
//!   { performed = { event = "email_opened", at_least = 2, within_days = 30 } },
//!   { has_consent = "email_marketing" },
//! ]
//! ```
//!
//! A condition is one of `all` / `any` (lists of conditions), `not` (one
//! condition), `field` and `trait` (`name`, `op`, `value` or `any_of`),
//! `stage` (a stage or a list), `rfm` (`groups`, `min_recency`,
//! `min_frequency`, `min_monetary`), `performed` and `not_performed`
//! (`event`, `where` = property filters, `at_least`, `within_days`),
//! `has_source`, `in_segment` and `has_consent`. Operators are written
//! `=`, `!=`, `<`, `<=`, `>`, `>=` or by name (`eq`, `ne`, `lt`, `le`, `gt`,
//! `ge`, `in`, `exists`, `missing`, `contains`). What the names refer to
//! (traits, purposes, other segments) is checked by the node.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::v1::{
    condition::Kind, property_value, Condition, Conditions, FieldCondition, Operator,
    PerformedCondition, PropertyFilter, PropertyValue, RfmCondition, Segment, StageCondition,
    TraitCondition,
};

/// A segment file that could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SegmentFileError {
    #[error("not valid {format}: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// A segment as written in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub condition: CondFile,
}

/// A condition as written in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CondFile {
    All(Vec<CondFile>),
    Any(Vec<CondFile>),
    Not(Box<CondFile>),
    Field(CompareFile),
    Trait(CompareFile),
    Stage(OneOrMany),
    Rfm(RfmFile),
    Performed(PerformedFile),
    NotPerformed(PerformedFile),
    HasSource(String),
    InSegment(String),
    HasConsent(String),
}

/// A comparison of a field or trait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareFile {
    pub name: String,
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<String>,
}

/// A value to compare with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// One name or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RfmFile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_recency: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_frequency: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_monetary: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformedFile {
    pub event: String,
    #[serde(default, rename = "where", skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub at_least: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub within_days: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Operators by their written names.
const OPERATORS: &[(&str, &str, Operator)] = &[
    ("eq", "=", Operator::Eq),
    ("ne", "!=", Operator::Ne),
    ("lt", "<", Operator::Lt),
    ("le", "<=", Operator::Le),
    ("gt", ">", Operator::Gt),
    ("ge", ">=", Operator::Ge),
    ("in", "in", Operator::In),
    ("exists", "exists", Operator::Exists),
    ("missing", "missing", Operator::Missing),
    ("contains", "contains", Operator::Contains),
];

/// Reads an operator written by name or symbol (`==` is `=`).
pub fn parse_operator(s: &str) -> Option<Operator> {
    let s = s.trim().to_ascii_lowercase();
    let s = if s == "==" { "=".to_string() } else { s };
    OPERATORS
        .iter()
        .find(|(name, sym, _)| *name == s || *sym == s)
        .map(|(_, _, op)| *op)
}

/// The symbol an operator is written with.
pub fn operator_symbol(op: Operator) -> &'static str {
    OPERATORS
        .iter()
        .find(|(_, _, o)| *o == op)
        .map_or("?", |(_, sym, _)| sym)
}

/// Reads a segment from TOML, or from JSON when the text starts with `{`.
pub fn parse(text: &str) -> Result<Segment, SegmentFileError> {
    let file: SegmentFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| SegmentFileError::Syntax {
            format: "JSON",
            message: e.to_string(),
        })?
    } else {
        toml::from_str(text).map_err(|e| SegmentFileError::Syntax {
            format: "TOML",
            message: e.to_string(),
        })?
    };
    file.into_pb()
}

/// Writes a segment's definition as TOML.
pub fn to_toml(s: &Segment) -> String {
    toml::to_string_pretty(&SegmentFile::from_pb(s))
        .unwrap_or_else(|e| format!("# cannot write as TOML: {e}\n"))
}

impl SegmentFile {
    /// The API message (checks operators; names are checked by the node).
    pub fn into_pb(self) -> Result<Segment, SegmentFileError> {
        Ok(Segment {
            name: self.name,
            description: self.description,
            condition: Some(self.condition.into_pb("condition")?),
            ..Default::default()
        })
    }

    /// The file form of a segment's definition.
    pub fn from_pb(s: &Segment) -> SegmentFile {
        SegmentFile {
            name: s.name.clone(),
            description: s.description.clone(),
            condition: s
                .condition
                .as_ref()
                .map_or(CondFile::All(vec![]), CondFile::from_pb),
        }
    }
}

fn list(path: &str, key: &str, of: Vec<CondFile>) -> Result<Conditions, SegmentFileError> {
    let of = of
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.into_pb(&format!("{path}.{key}[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(Conditions { of })
}

impl CondFile {
    /// The API message; `path` names this condition in errors.
    pub fn into_pb(self, path: &str) -> Result<Condition, SegmentFileError> {
        let kind = match self {
            CondFile::All(v) => Kind::All(list(path, "all", v)?),
            CondFile::Any(v) => Kind::Any(list(path, "any", v)?),
            CondFile::Not(c) => Kind::Not(Box::new(c.into_pb(&format!("{path}.not"))?)),
            CondFile::Field(c) => {
                let (op, value, any_of) = c.parts(&format!("{path}.field"))?;
                Kind::Field(FieldCondition {
                    field: c.name,
                    op: op as i32,
                    value,
                    any_of,
                })
            }
            CondFile::Trait(c) => {
                let (op, value, any_of) = c.parts(&format!("{path}.trait"))?;
                Kind::Trait(TraitCondition {
                    name: c.name,
                    op: op as i32,
                    value,
                    any_of,
                })
            }
            CondFile::Stage(s) => Kind::Stage(StageCondition {
                any_of: match s {
                    OneOrMany::One(s) => vec![s],
                    OneOrMany::Many(v) => v,
                },
            }),
            CondFile::Rfm(r) => Kind::Rfm(RfmCondition {
                groups: r.groups,
                min_recency: r.min_recency,
                min_frequency: r.min_frequency,
                min_monetary: r.min_monetary,
            }),
            CondFile::Performed(p) => Kind::Performed(p.into_pb()),
            CondFile::NotPerformed(p) => Kind::NotPerformed(p.into_pb()),
            CondFile::HasSource(s) => Kind::HasSource(s),
            CondFile::InSegment(s) => Kind::InSegment(s),
            CondFile::HasConsent(s) => Kind::HasConsent(s),
        };
        Ok(Condition { kind: Some(kind) })
    }

    /// The file form of a condition.
    pub fn from_pb(c: &Condition) -> CondFile {
        let all = |v: &Conditions| v.of.iter().map(CondFile::from_pb).collect();
        match &c.kind {
            None => CondFile::All(vec![]),
            Some(Kind::All(v)) => CondFile::All(all(v)),
            Some(Kind::Any(v)) => CondFile::Any(all(v)),
            Some(Kind::Not(c)) => CondFile::Not(Box::new(CondFile::from_pb(c))),
            Some(Kind::Field(f)) => {
                CondFile::Field(CompareFile::of(&f.field, f.op(), &f.value, &f.any_of))
            }
            Some(Kind::Trait(t)) => {
                CondFile::Trait(CompareFile::of(&t.name, t.op(), &t.value, &t.any_of))
            }
            Some(Kind::Stage(s)) => CondFile::Stage(OneOrMany::Many(s.any_of.clone())),
            Some(Kind::Rfm(r)) => CondFile::Rfm(RfmFile {
                groups: r.groups.clone(),
                min_recency: r.min_recency,
                min_frequency: r.min_frequency,
                min_monetary: r.min_monetary,
            }),
            Some(Kind::Performed(p)) => CondFile::Performed(PerformedFile::of(p)),
            Some(Kind::NotPerformed(p)) => CondFile::NotPerformed(PerformedFile::of(p)),
            Some(Kind::HasSource(s)) => CondFile::HasSource(s.clone()),
            Some(Kind::InSegment(s)) => CondFile::InSegment(s.clone()),
            Some(Kind::HasConsent(s)) => CondFile::HasConsent(s.clone()),
        }
    }
}

impl CompareFile {
    fn parts(
        &self,
        path: &str,
    ) -> Result<(Operator, Option<PropertyValue>, Vec<String>), SegmentFileError> {
        let op = parse_operator(&self.op).ok_or_else(|| SegmentFileError::Invalid {
            path: format!("{path}.op"),
            reason: format!(
                "unknown operator {:?}; use one of =, !=, <, <=, >, >=, in, exists, missing, contains",
                self.op
            ),
        })?;
        let value = self.value.as_ref().map(|v| PropertyValue {
            value: Some(match v {
                Scalar::Bool(b) => property_value::Value::BoolValue(*b),
                Scalar::Number(n) => property_value::Value::NumberValue(*n),
                Scalar::Text(s) => property_value::Value::StringValue(s.clone()),
            }),
        });
        Ok((op, value, self.any_of.clone()))
    }

    fn of(name: &str, op: Operator, value: &Option<PropertyValue>, any_of: &[String]) -> Self {
        CompareFile {
            name: name.into(),
            op: operator_symbol(op).into(),
            value: value.as_ref().and_then(|v| match &v.value {
                Some(property_value::Value::BoolValue(b)) => Some(Scalar::Bool(*b)),
                Some(property_value::Value::NumberValue(n)) => Some(Scalar::Number(*n)),
                Some(property_value::Value::StringValue(s)) => Some(Scalar::Text(s.clone())),
                Some(property_value::Value::TimestampMs(t)) => Some(Scalar::Number(*t as f64)),
                None => None,
            }),
            any_of: any_of.to_vec(),
        }
    }
}

impl PerformedFile {
    fn into_pb(self) -> PerformedCondition {
        PerformedCondition {
            event_type: self.event,
            filters: self
                .filters
                .into_iter()
                .map(|(property, equals)| PropertyFilter { property, equals })
                .collect(),
            at_least: self.at_least,
            within_days: self.within_days,
        }
    }

    fn of(p: &PerformedCondition) -> Self {
        PerformedFile {
            event: p.event_type.clone(),
            filters: p
                .filters
                .iter()
                .map(|f| (f.property.clone(), f.equals.clone()))
                .collect(),
            at_least: p.at_least,
            within_days: p.within_days,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIN_BACK: &str = r#"
name = "win_back"
description = "Lapsed customers we may email"
[condition]
all = [
  { stage = ["lapsed", "at_risk"] },
  { trait = { name = "total_spend", op = ">=", value = 100 } },
  { not_performed = { event = "order_completed", within_days = 90 } },
  { performed = { event = "email_opened", where = { campaign = "spring" }, at_least = 2, within_days = 30 } },
  { not = { has_source = "support" } },
  { has_consent = "email_marketing" },
]
"#;

    #[test]
    fn toml_reads_into_the_api_message_and_back() {
        let s = parse(WIN_BACK).unwrap();
        assert_eq!(s.name, "win_back");
        let Some(Kind::All(all)) = s.condition.as_ref().and_then(|c| c.kind.clone()) else {
            panic!("not an all: {s:?}");
        };
        assert_eq!(all.of.len(), 6);
        let Some(Kind::Trait(t)) = &all.of[1].kind else {
            panic!("{:?}", all.of[1]);
        };
        assert_eq!((t.name.as_str(), t.op()), ("total_spend", Operator::Ge));
        let Some(Kind::Performed(p)) = &all.of[3].kind else {
            panic!("{:?}", all.of[3]);
        };
        assert_eq!((p.at_least, p.within_days, p.filters.len()), (2, 30, 1));
        // Written back and read again, the definition is the same.
        assert_eq!(parse(&to_toml(&s)).unwrap(), s);
    }

    #[test]
    fn json_is_the_same_tree() {
        let json = r#"{"name": "big", "condition": {"any": [
            {"trait": {"name": "orders", "op": "gt", "value": 3}},
            {"rfm": {"groups": ["champions"]}}]}}"#;
        let s = parse(json).unwrap();
        let Some(Kind::Any(any)) = s.condition.and_then(|c| c.kind) else {
            panic!()
        };
        assert_eq!(any.of.len(), 2);
    }

    #[test]
    fn an_unknown_operator_is_named_with_its_path() {
        let bad = r#"
name = "x"
[condition]
all = [{ stage = "new" }, { trait = { name = "orders", op = "=>", value = 1 } }]
"#;
        assert_eq!(
            parse(bad).unwrap_err(),
            SegmentFileError::Invalid {
                path: "condition.all[1].trait.op".into(),
                reason: "unknown operator \"=>\"; use one of =, !=, <, <=, >, >=, in, exists, \
                         missing, contains"
                    .into()
            }
        );
    }

    #[test]
    fn an_unknown_condition_or_key_is_a_syntax_error() {
        let bad = "name = \"x\"\n[condition]\nstages = [\"new\"]\n";
        let e = parse(bad).unwrap_err().to_string();
        assert!(e.contains("stages"), "{e}");
        let bad = "name = \"x\"\n[condition]\nperformed = { event = \"a\", days = 3 }\n";
        let e = parse(bad).unwrap_err().to_string();
        assert!(e.contains("days"), "{e}");
    }
}
