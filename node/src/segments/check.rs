//! Validation of a segment definition against what the cluster knows
//! (traits, consent purposes, stages, RFM groups, other segments): every
//! problem, named by its path in the tree (`condition.all[2].trait.name`),
//! and which leaf conditions change only with the customer (evaluated in
//! real time) and which also with the passage of time (the sweep).

use std::collections::BTreeMap;

use kindred_proto::segment_file::operator_symbol;
use kindred_proto::v1 as pb;
use kindred_proto::v1::condition::Kind;
use kindred_proto::v1::Operator;

use crate::activity::lifecycle::{RFM_GROUPS, STAGES};
use crate::activity::traits::{valid_name, Aggregate};
use crate::activity::TraitDef;

/// The golden-record fields a `field` condition may name (besides
/// `identifier:<kind>` and `attribute:<name>`).
pub const FIELDS: &[&str] = &[
    "given_name",
    "middle_name",
    "family_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "address",
];

/// Deepest tree and most leaves a definition may have.
const MAX_DEPTH: usize = 32;
const MAX_LEAVES: usize = 256;

/// What a definition may refer to.
pub struct Known<'a> {
    pub traits: &'a [TraitDef],
    pub purposes: &'a [String],
    /// Every other segment in force, by name.
    pub segments: &'a BTreeMap<String, pb::Segment>,
}

/// One thing wrong with a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// The result of checking a definition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    pub problems: Vec<Problem>,
    /// Leaf conditions that change only with the customer.
    pub realtime: Vec<String>,
    /// Leaf conditions that also change with time.
    pub time: Vec<String>,
}

impl Checked {
    /// The first problem as `path: message`, with how many more there are.
    pub fn summary(&self) -> Option<String> {
        let first = self.problems.first()?;
        let more = match self.problems.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more problem{})", if n == 1 { "" } else { "s" }),
        };
        Some(format!("{}: {}{more}", first.path, first.message))
    }
}

/// Checks a definition; `known.segments` should not hold it.
pub fn check(s: &pb::Segment, known: &Known) -> Checked {
    let mut w = Walker {
        known,
        me: &s.name,
        out: Checked::default(),
        leaves: 0,
    };
    if !valid_name(&s.name) {
        w.problem(
            "name",
            format!(
                "{:?} must be 1 to 64 lowercase letters, digits or underscores, starting with a letter",
                s.name
            ),
        );
    }
    if s.description.chars().count() > 1000 {
        w.problem("description", "is longer than 1000 characters".into());
    }
    match &s.condition {
        None => w.problem("condition", "is required".into()),
        Some(c) => w.condition(c, "condition", 1),
    }
    if w.leaves > MAX_LEAVES {
        w.problem(
            "condition",
            format!("has {} conditions, more than {MAX_LEAVES}", w.leaves),
        );
    }
    w.out
}

struct Walker<'a> {
    known: &'a Known<'a>,
    me: &'a str,
    out: Checked,
    leaves: usize,
}

impl Walker<'_> {
    fn problem(&mut self, path: &str, message: String) {
        self.out.problems.push(Problem {
            path: path.into(),
            message,
        });
    }

    fn condition(&mut self, c: &pb::Condition, path: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return self.problem(path, format!("nests deeper than {MAX_DEPTH} levels"));
        }
        let Some(k) = &c.kind else {
            return self.problem(path, "is empty: give one condition".into());
        };
        let name = kind_name(k);
        let here = format!("{path}.{name}");
        let time = match k {
            Kind::All(v) | Kind::Any(v) => {
                for (i, c) in v.of.iter().enumerate() {
                    self.condition(c, &format!("{here}[{i}]"), depth + 1);
                }
                return;
            }
            Kind::Not(c) => return self.condition(c, &here, depth + 1),
            Kind::Field(f) => self.field(f, &here),
            Kind::Trait(t) => self.trait_condition(t, &here),
            Kind::Stage(s) => self.stage(s, &here),
            Kind::Rfm(r) => self.rfm(r, &here),
            Kind::Performed(p) | Kind::NotPerformed(p) => self.performed(p, &here),
            Kind::HasSource(s) => self.named(s, &here, |_| Ok(false)),
            Kind::HasConsent(p) => {
                let purposes = self.known.purposes;
                self.named(p, &here, |p| {
                    if purposes.iter().any(|k| k == p) {
                        Ok(false)
                    } else {
                        Err(format!(
                            "{p:?} is not a configured consent purpose ({})",
                            purposes.join(", ")
                        ))
                    }
                })
            }
            Kind::InSegment(n) => self.in_segment(n, &here),
        };
        self.leaves += 1;
        let line = format!("{path}: {}", describe(k));
        if time {
            self.out.time.push(line);
        } else {
            self.out.realtime.push(line);
        }
    }

    /// A condition naming one thing; `f` says whether it depends on time.
    fn named(&mut self, v: &str, here: &str, f: impl Fn(&str) -> Result<bool, String>) -> bool {
        if v.trim().is_empty() {
            self.problem(here, "is empty".into());
            return false;
        }
        f(v).unwrap_or_else(|m| {
            self.problem(here, m);
            false
        })
    }

    fn field(&mut self, f: &pb::FieldCondition, here: &str) -> bool {
        let ok = FIELDS.contains(&f.field.as_str())
            || ["identifier:", "attribute:"]
                .iter()
                .any(|p| f.field.strip_prefix(p).is_some_and(|r| !r.is_empty()));
        if !ok {
            self.problem(
                &format!("{here}.name"),
                format!(
                    "{:?} is not a field; use one of {}, identifier:<kind> or attribute:<name>",
                    f.field,
                    FIELDS.join(", ")
                ),
            );
        }
        self.comparison(f.op(), f.value.as_ref(), &f.any_of, here);
        false
    }

    fn trait_condition(&mut self, t: &pb::TraitCondition, here: &str) -> bool {
        self.comparison(t.op(), t.value.as_ref(), &t.any_of, here);
        match self.known.traits.iter().find(|d| d.name == t.name) {
            Some(d) => trait_depends_on_time(d),
            None => {
                let names: Vec<&str> = self.known.traits.iter().map(|d| d.name.as_str()).collect();
                self.problem(
                    &format!("{here}.name"),
                    format!(
                        "{:?} is not a trait; traits are {}",
                        t.name,
                        names.join(", ")
                    ),
                );
                false
            }
        }
    }

    fn comparison(
        &mut self,
        op: Operator,
        value: Option<&pb::PropertyValue>,
        any_of: &[String],
        here: &str,
    ) {
        let has_value = value.is_some_and(|v| v.value.is_some());
        let text = matches!(
            value.and_then(|v| v.value.as_ref()),
            Some(pb::property_value::Value::StringValue(_))
        );
        let problem = match op {
            Operator::Unspecified => Some("is required".to_string()),
            Operator::In if any_of.is_empty() => Some("in needs a non-empty any_of".into()),
            Operator::Exists | Operator::Missing if has_value || !any_of.is_empty() => {
                Some(format!("{} takes no value", operator_symbol(op)))
            }
            Operator::Contains if !text => Some("contains needs a text value".into()),
            Operator::Eq
            | Operator::Ne
            | Operator::Lt
            | Operator::Le
            | Operator::Gt
            | Operator::Ge
                if !has_value =>
            {
                Some(format!("{} needs a value", operator_symbol(op)))
            }
            _ => None,
        };
        if let Some(m) = problem {
            self.problem(&format!("{here}.op"), m);
        }
    }

    fn stage(&mut self, s: &pb::StageCondition, here: &str) -> bool {
        if s.any_of.is_empty() {
            self.problem(here, format!("names no stage; use {}", STAGES.join(", ")));
        }
        for (i, st) in s.any_of.iter().enumerate() {
            if !STAGES.contains(&st.as_str()) {
                self.problem(
                    &format!("{here}[{i}]"),
                    format!("{st:?} is not a stage; use {}", STAGES.join(", ")),
                );
            }
        }
        true
    }

    fn rfm(&mut self, r: &pb::RfmCondition, here: &str) -> bool {
        for (i, g) in r.groups.iter().enumerate() {
            if !RFM_GROUPS.contains(&g.as_str()) {
                self.problem(
                    &format!("{here}.groups[{i}]"),
                    format!("{g:?} is not an RFM group; use {}", RFM_GROUPS.join(", ")),
                );
            }
        }
        for (n, v) in [
            ("min_recency", r.min_recency),
            ("min_frequency", r.min_frequency),
            ("min_monetary", r.min_monetary),
        ] {
            if v > 5 {
                self.problem(
                    &format!("{here}.{n}"),
                    format!("{v} is not a score (1 to 5)"),
                );
            }
        }
        if r.groups.is_empty() && r.min_recency + r.min_frequency + r.min_monetary == 0 {
            self.problem(here, "gives no group and no minimum score".into());
        }
        true
    }

    fn performed(&mut self, p: &pb::PerformedCondition, here: &str) -> bool {
        if p.event_type.trim().is_empty() {
            self.problem(&format!("{here}.event"), "is required".into());
        }
        for (i, f) in p.filters.iter().enumerate() {
            if f.property.trim().is_empty() {
                self.problem(&format!("{here}.where[{i}]"), "names no property".into());
            }
        }
        if p.within_days > 36_500 {
            self.problem(
                &format!("{here}.within_days"),
                format!("{} is more than 100 years", p.within_days),
            );
        }
        p.within_days > 0
    }

    fn in_segment(&mut self, n: &str, here: &str) -> bool {
        if n == self.me {
            self.problem(here, "a segment cannot contain itself".into());
            return false;
        }
        let Some(other) = self.known.segments.get(n) else {
            let names: Vec<&str> = self.known.segments.keys().map(String::as_str).collect();
            self.problem(
                here,
                format!("{n:?} is not a segment; segments are {}", names.join(", ")),
            );
            return false;
        };
        if reaches(other, self.me, self.known.segments) {
            self.problem(here, format!("{n:?} contains this segment: a cycle"));
        }
        other
            .condition
            .as_ref()
            .is_some_and(|c| depends_on_time(c, self.known))
    }
}

/// True when `from` names `target` through `in_segment`, directly or not
/// (each segment visited once).
fn reaches(from: &pb::Segment, target: &str, all: &BTreeMap<String, pb::Segment>) -> bool {
    let mut seen: std::collections::HashSet<String> = Default::default();
    let mut todo = super::references(from);
    while let Some(r) = todo.pop() {
        if r == target {
            return true;
        }
        if let Some(s) = all.get(&r) {
            if seen.insert(r) {
                todo.extend(super::references(s));
            }
        }
    }
    false
}

/// True when a trait's value changes with time.
fn trait_depends_on_time(d: &TraitDef) -> bool {
    d.window_days > 0
        || matches!(
            d.aggregate,
            Aggregate::DaysSinceLast | Aggregate::First | Aggregate::Last
        )
}

/// True when some leaf of the tree, or of a segment it names (each
/// visited once), changes with time.
fn depends_on_time(c: &pb::Condition, known: &Known) -> bool {
    let mut seen: std::collections::HashSet<String> = Default::default();
    let mut todo = vec![c.clone()];
    while let Some(c) = todo.pop() {
        let mut time = false;
        super::walk(&c, &mut |k| {
            time |= match k {
                Kind::Stage(_) | Kind::Rfm(_) => true,
                Kind::Performed(p) | Kind::NotPerformed(p) => p.within_days > 0,
                Kind::Trait(t) => known
                    .traits
                    .iter()
                    .any(|d| d.name == t.name && trait_depends_on_time(d)),
                Kind::InSegment(n) => {
                    if let Some(c) = known.segments.get(n).and_then(|s| s.condition.clone()) {
                        if seen.insert(n.clone()) {
                            todo.push(c);
                        }
                    }
                    false
                }
                _ => false,
            }
        });
        if time {
            return true;
        }
    }
    false
}

fn kind_name(k: &Kind) -> &'static str {
    match k {
        Kind::All(_) => "all",
        Kind::Any(_) => "any",
        Kind::Not(_) => "not",
        Kind::Field(_) => "field",
        Kind::Trait(_) => "trait",
        Kind::Stage(_) => "stage",
        Kind::Rfm(_) => "rfm",
        Kind::Performed(_) => "performed",
        Kind::NotPerformed(_) => "not_performed",
        Kind::HasSource(_) => "has_source",
        Kind::InSegment(_) => "in_segment",
        Kind::HasConsent(_) => "has_consent",
    }
}

fn show_value(v: Option<&pb::PropertyValue>) -> String {
    use pb::property_value::Value;
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => format!("{s:?}"),
        Some(Value::NumberValue(n)) => format!("{n}"),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::TimestampMs(t)) => t.to_string(),
        None => String::new(),
    }
}

fn comparison(
    name: &str,
    op: Operator,
    v: Option<&pb::PropertyValue>,
    any_of: &[String],
) -> String {
    match op {
        Operator::In => format!("{name} in [{}]", any_of.join(", ")),
        Operator::Exists | Operator::Missing => format!("{name} {}", operator_symbol(op)),
        _ => format!("{name} {} {}", operator_symbol(op), show_value(v)),
    }
}

/// One leaf condition in words.
pub fn describe(k: &Kind) -> String {
    let window = |d: u32| match d {
        0 => "ever".to_string(),
        1 => "today".to_string(),
        d => format!("within {d} days"),
    };
    let filters = |p: &pb::PerformedCondition| {
        p.filters
            .iter()
            .map(|f| format!(" {}={:?}", f.property, f.equals))
            .collect::<String>()
    };
    match k {
        Kind::Field(f) => comparison(
            &format!("field {}", f.field),
            f.op(),
            f.value.as_ref(),
            &f.any_of,
        ),
        Kind::Trait(t) => comparison(
            &format!("trait {}", t.name),
            t.op(),
            t.value.as_ref(),
            &t.any_of,
        ),
        Kind::Stage(s) => format!("stage in [{}]", s.any_of.join(", ")),
        Kind::Rfm(r) => format!(
            "rfm groups [{}], min r/f/m {}/{}/{}",
            r.groups.join(", "),
            r.min_recency,
            r.min_frequency,
            r.min_monetary
        ),
        Kind::Performed(p) => format!(
            "performed {}{} at least {} times {}",
            p.event_type,
            filters(p),
            p.at_least.max(1),
            window(p.within_days)
        ),
        Kind::NotPerformed(p) => format!(
            "did not perform {}{} {}",
            p.event_type,
            filters(p),
            window(p.within_days)
        ),
        Kind::HasSource(s) => format!("has a record from {s}"),
        Kind::InSegment(s) => format!("in segment {s}"),
        Kind::HasConsent(p) => format!("granted {p}"),
        Kind::All(_) | Kind::Any(_) | Kind::Not(_) => kind_name(k).into(),
    }
}
