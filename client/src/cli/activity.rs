//! `kindred event send|import|list`, `kindred trait define|list|delete`
//! and `kindred rfm compute|show`: what customers do, the traits computed
//! from it, and the RFM cut points.

use std::path::PathBuf;

use kindred_client::exit;
use kindred_client::import::events::{run_event_import, EventImportReport};
use kindred_client::import::{open_rows, ImportOptions, InputFormat, Reject, Rows};
use kindred_client::refs::{parse_key_value, parse_record_ref};
use kindred_client::v1::{
    list_events_request, property_value, trait_value, Aggregate, Event, IdentityLookup,
    ListEventsRequest, ListEventsResponse, Profile, PropertyFilter, PropertyValue, RecordRef,
    RfmCuts, TraitDefinition,
};
use kindred_client::ClientError;
use kindred_proto::event_mapping::EventMapping;
use kindred_proto::mapping::parse_timestamp_ms;

use super::args::PersonArgs;
use super::import::{exit_code, progress_bar, rejects_file, SHOWN_REJECTS};
use super::profiles::{ProfileGetArgs, ProfileKey};
use super::render::{kv_table, sections, table, time_ms};
use super::{connect, CliError, GlobalArgs, Output};

/// `kindred event` (also `kindred events`) subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum EventCommand {
    /// Send one event for a record (SOURCE:ID).
    Send(Box<SendArgs>),
    /// Import events from a CSV or JSON Lines file through an event mapping.
    Import(EventsImportArgs),
    /// List a customer's events, newest first.
    List(ListArgs),
}

/// Arguments of `kindred event send`.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// The record the event belongs to, as SOURCE:ID.
    #[arg(value_name = "SOURCE:ID")]
    pub record: String,
    /// Idempotency key of the event within its source.
    #[arg(long)]
    pub event_id: String,
    /// What happened (order_completed, page_view, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: String,
    /// When: milliseconds since the epoch, or a date / date-time (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Money involved.
    #[arg(long)]
    pub amount: Option<f64>,
    /// ISO 4217 currency of the amount.
    #[arg(long, default_value = "")]
    pub currency: String,
    /// A property, e.g. --prop cart_id=c9 (repeatable): numbers and
    /// true/false are typed, anything else is text.
    #[arg(long = "prop", value_name = "NAME=VALUE")]
    pub props: Vec<String>,
    /// Identifying fields, for a record Kindred may not know yet.
    #[command(flatten)]
    pub person: PersonArgs,
}

/// Arguments of `kindred events import`.
#[derive(Debug, Clone, clap::Args)]
pub struct EventsImportArgs {
    /// The CSV or JSON Lines file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The TOML event mapping.
    #[arg(long, value_name = "MAPPING.toml")]
    pub mapping: PathBuf,
    /// Source of the events (unless the mapping names a source column or
    /// a default source).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Events per batch sent to the server.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// Input format (default: from the extension).
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
    /// Where to write rejected rows when there are more than 10.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Do not show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Arguments of `kindred events list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub key: ProfileGetArgs,
    /// Only this type (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only events at or after this time.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only events before this time.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Events per page.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// The token printed after the previous page.
    #[arg(long, default_value = "")]
    pub page_token: String,
}

/// `kindred trait` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TraitCommand {
    /// Define (or replace) a trait every profile carries.
    Define(DefineArgs),
    /// List every trait: built-in, configured and defined.
    List,
    /// Delete a trait defined with `kindred trait define`.
    Delete {
        /// The trait's name.
        name: String,
    },
}

/// Aggregates, as the CLI names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AggregateArg {
    Count,
    Sum,
    Average,
    Min,
    Max,
    First,
    Last,
    MostFrequent,
    DistinctCount,
    DaysSinceLast,
}

/// Arguments of `kindred trait define`.
#[derive(Debug, Clone, clap::Args)]
pub struct DefineArgs {
    /// Name: lowercase letters, digits and underscores.
    pub name: String,
    /// How the selected events combine.
    #[arg(long, value_enum)]
    pub aggregate: AggregateArg,
    /// The event type summarised (default: every type).
    #[arg(long, default_value = "")]
    pub event_type: String,
    /// The property aggregated (default: the amount, or the time).
    #[arg(long, default_value = "")]
    pub property: String,
    /// Only the last N days (default: all time).
    #[arg(long, default_value_t = 0)]
    pub window_days: u32,
    /// Only events whose property equals a value (repeatable).
    #[arg(long = "filter", value_name = "PROPERTY=VALUE")]
    pub filters: Vec<String>,
}

/// `kindred rfm` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RfmCommand {
    /// Compute the RFM cut points over every customer and publish them.
    Compute,
    /// Show the published cut points.
    Show,
}

fn time_arg(flag: &str, s: &str) -> Result<i64, CliError> {
    parse_timestamp_ms(s, &[]).ok_or_else(|| {
        CliError::input(format!(
            "{flag} {s:?} is neither milliseconds since the epoch nor a date"
        ))
    })
}

fn property(s: &str) -> Result<(String, PropertyValue), ClientError> {
    let (name, raw) = parse_key_value(s, "--prop")?;
    let v = if let Ok(n) = raw.parse::<f64>() {
        property_value::Value::NumberValue(n)
    } else if let Ok(b) = raw.parse::<bool>() {
        property_value::Value::BoolValue(b)
    } else {
        property_value::Value::StringValue(raw)
    };
    Ok((name, PropertyValue { value: Some(v) }))
}

impl SendArgs {
    /// The event these flags describe (`now_ms` when --at is not given).
    pub fn to_event(&self, now_ms: i64) -> Result<Event, CliError> {
        let r = parse_record_ref(&self.record)?;
        let occurred_at_ms = match &self.at {
            Some(s) => time_arg("--at", s)?,
            None => now_ms,
        };
        let properties = self
            .props
            .iter()
            .map(|p| property(p))
            .collect::<Result<_, _>>()?;
        let identity = (!self.person.is_empty())
            .then(|| self.person.to_record(&r.source, &r.record_id))
            .transpose()?;
        Ok(Event {
            source: r.source,
            record_id: r.record_id,
            event_id: self.event_id.clone(),
            r#type: self.event_type.clone(),
            occurred_at_ms,
            amount: self.amount,
            currency: self.currency.clone(),
            properties,
            identity,
        })
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `kindred event ...`.
pub async fn event(g: &GlobalArgs, out: &Output, c: EventCommand) -> Result<u8, CliError> {
    match c {
        EventCommand::Send(a) => {
            let e = a.to_event(now_ms())?;
            let r = connect(g).await?.send_event(e).await?;
            out.emit_message(&r, || {
                kv_table(&[
                    ("event", r.event_id.clone()),
                    (
                        "record",
                        kindred_client::refs::format_ref(r.record.as_ref()),
                    ),
                    ("stored", (!r.duplicate).to_string()),
                    ("duplicate", r.duplicate.to_string()),
                    ("entity", entity(r.entity_id)),
                    ("record written", r.record_written.to_string()),
                ])
                .to_string()
            })?;
            Ok(exit::OK)
        }
        EventCommand::Import(a) => import(g, out, a).await,
        EventCommand::List(a) => list(g, out, a).await,
    }
}

fn entity(id: u64) -> String {
    if id == 0 {
        "- (record not known yet)".into()
    } else {
        id.to_string()
    }
}

/// The mapping and the input, checked before any server is involved.
fn prepare(a: &EventsImportArgs) -> Result<Rows<Event>, CliError> {
    let text = std::fs::read_to_string(&a.mapping).map_err(|e| {
        CliError::input(format!(
            "cannot read mapping file {}: {e}",
            a.mapping.display()
        ))
    })?;
    let mapping = EventMapping::from_toml(&text)
        .map_err(|e| CliError::input(format!("mapping file {}: {e}", a.mapping.display())))?;
    let source = a.source.as_deref().map(str::trim).unwrap_or_default();
    if source.is_empty() && mapping.source.is_none() && mapping.defaults.source.is_none() {
        return Err(CliError::input(
            "no source: pass --source NAME, or map a source column in the mapping",
        ));
    }
    let file = std::fs::File::open(&a.file)
        .map_err(|e| CliError::input(format!("cannot open {}: {e}", a.file.display())))?;
    let format = InputFormat::detect(&a.file, a.format);
    open_rows(file, format, mapping, source)
        .map_err(|e| CliError::input(format!("{}: {e}", a.file.display())))
}

async fn import(g: &GlobalArgs, out: &Output, a: EventsImportArgs) -> Result<u8, CliError> {
    let rows = prepare(&a)?;
    let client = connect(g).await?;
    let progress = progress_bar(a.no_progress, "events");
    let options = ImportOptions {
        batch_size: a.batch_size as usize,
        ..ImportOptions::default()
    };
    let report = run_event_import(rows, &options, progress.clone(), |reqs| {
        client.bulk_send(reqs)
    })
    .await;
    progress.finish_and_clear();
    finish_import(out, &a, &report)
}

/// Prints an events import's outcome and picks the exit code.
fn finish_import(
    out: &Output,
    a: &EventsImportArgs,
    report: &EventImportReport,
) -> Result<u8, CliError> {
    let (rejects_file, rejects_error) =
        rejects_file(&a.file, a.rejects.as_deref(), &report.rejects);
    let shown = &report.rejects[..report.rejects.len().min(SHOWN_REJECTS)];
    let json = serde_json::json!({
        "summary": &report.summary,
        "rejects": shown,
        "rejects_file": &rejects_file,
        "error": report.failure.as_ref().map(|f| f.to_string()),
    });
    out.emit(&json, || {
        import_text(report, shown, rejects_file.as_deref())
    })?;
    if let Some(e) = rejects_error {
        eprintln!("error: {e}");
    }
    exit_code(report.failure.as_ref(), report.summary.rejected)
}

fn import_text(report: &EventImportReport, shown: &[Reject], rejects_file: Option<&str>) -> String {
    let s = &report.summary;
    let mut text = kv_table(&[
        ("events read", s.events_read.to_string()),
        ("stored", s.stored.to_string()),
        ("duplicates", s.duplicates.to_string()),
        ("rejected", s.rejected.to_string()),
        ("records written", s.records_written.to_string()),
        ("awaiting their record", s.awaiting_record.to_string()),
        ("elapsed seconds", format!("{:.2}", s.elapsed_seconds)),
        ("events/s", format!("{:.0}", s.events_per_second)),
    ])
    .to_string();
    for r in shown {
        text.push_str(&format!("\n{r}"));
    }
    if let Some(p) = rejects_file {
        text.push_str(&format!(
            "\n\nAll {} rejected rows were written to {p}",
            report.rejects.len()
        ));
    }
    text
}

impl ListArgs {
    fn request(&self) -> Result<ListEventsRequest, CliError> {
        use list_events_request::Key;
        let key = match self.key.key()? {
            ProfileKey::Entity(e) => Key::EntityId(e),
            ProfileKey::Record(source, record_id) => Key::Record(RecordRef { source, record_id }),
            ProfileKey::Identity(kind, value) => Key::Identity(IdentityLookup { kind, value }),
        };
        Ok(ListEventsRequest {
            key: Some(key),
            types: self.types.clone(),
            from_ms: self
                .from
                .as_deref()
                .map(|s| time_arg("--from", s))
                .transpose()?
                .unwrap_or(0),
            to_ms: self
                .to
                .as_deref()
                .map(|s| time_arg("--to", s))
                .transpose()?
                .unwrap_or(0),
            page_size: self.limit,
            page_token: self.page_token.clone(),
        })
    }
}

async fn list(g: &GlobalArgs, out: &Output, a: ListArgs) -> Result<u8, CliError> {
    let req = a.request()?;
    let resp = connect(g).await?.list_events(req).await?;
    out.emit_message(&resp, || list_text(&resp))?;
    Ok(exit::OK)
}

fn list_text(r: &ListEventsResponse) -> String {
    let mut text = format!("entity {}\n", entity(r.entity_id));
    text.push_str(
        &timeline(&r.events)
            .map(|t| t.to_string())
            .unwrap_or_else(|| "no events".into()),
    );
    if !r.next_page_token.is_empty() {
        text.push_str(&format!("\nmore: --page-token {}", r.next_page_token));
    }
    text
}

/// Events as a table, newest first.
pub fn timeline(events: &[Event]) -> Option<comfy_table::Table> {
    (!events.is_empty()).then(|| {
        let mut t = table(&["when", "type", "record", "amount", "properties"]);
        for e in events {
            let mut props: Vec<String> = e
                .properties
                .iter()
                .map(|(k, v)| format!("{k}={}", prop_text(v)))
                .collect();
            props.sort();
            t.add_row(vec![
                time_ms(e.occurred_at_ms),
                e.r#type.clone(),
                format!("{}:{}", e.source, e.record_id),
                e.amount
                    .map(|a| format!("{a:.2} {}", e.currency).trim().to_string())
                    .unwrap_or_else(|| "-".into()),
                props.join(" "),
            ]);
        }
        t
    })
}

fn prop_text(v: &PropertyValue) -> String {
    match &v.value {
        Some(property_value::Value::StringValue(s)) => s.clone(),
        Some(property_value::Value::NumberValue(n)) => n.to_string(),
        Some(property_value::Value::BoolValue(b)) => b.to_string(),
        Some(property_value::Value::TimestampMs(t)) => time_ms(*t),
        None => "-".into(),
    }
}

/// The activity sections of `kindred profile get`: value and stage,
/// traits, recent activity.
pub fn profile_sections(p: &Profile) -> Vec<(&'static str, Option<comfy_table::Table>)> {
    let mut value = Vec::new();
    if let Some(l) = &p.lifecycle {
        value.push(("stage", l.stage.clone()));
    }
    if let Some(r) = &p.rfm {
        value.push((
            "RFM",
            format!(
                "R{} F{} M{}: {} (cut points v{} of {})",
                r.recency,
                r.frequency,
                r.monetary,
                r.group,
                r.cuts_version,
                time_ms(r.cuts_computed_at_ms)
            ),
        ));
    }
    if !p.segments.is_empty() {
        value.push(("segments", p.segments.join(", ")));
    }
    for t in &p.open_triggers {
        value.push((
            "open trigger",
            format!(
                "{} {} (record {}/{}), due {}",
                t.trigger,
                t.match_value,
                t.source,
                t.record_id,
                time_ms(t.due_at_ms)
            ),
        ));
    }
    let value = (!value.is_empty()).then(|| kv_table(&value));
    let traits = (!p.traits.is_empty()).then(|| {
        let mut t = table(&["trait", "value"]);
        for tv in &p.traits {
            let v = match &tv.value {
                None => "-".to_string(),
                Some(trait_value::Value::Number(n)) => trim_number(*n),
                Some(trait_value::Value::Text(s)) => s.clone(),
                Some(trait_value::Value::TimestampMs(ms)) => time_ms(*ms),
            };
            t.add_row(vec![tv.name.clone(), v]);
        }
        t
    });
    vec![
        ("Value and stage", value),
        ("Traits", traits),
        ("Recent activity", timeline(&p.recent_events)),
    ]
}

fn trim_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n:.2}")
    }
}

impl DefineArgs {
    fn definition(&self) -> Result<TraitDefinition, CliError> {
        let aggregate = match self.aggregate {
            AggregateArg::Count => Aggregate::Count,
            AggregateArg::Sum => Aggregate::Sum,
            AggregateArg::Average => Aggregate::Average,
            AggregateArg::Min => Aggregate::Min,
            AggregateArg::Max => Aggregate::Max,
            AggregateArg::First => Aggregate::First,
            AggregateArg::Last => Aggregate::Last,
            AggregateArg::MostFrequent => Aggregate::MostFrequent,
            AggregateArg::DistinctCount => Aggregate::DistinctCount,
            AggregateArg::DaysSinceLast => Aggregate::DaysSinceLast,
        };
        let filters = self
            .filters
            .iter()
            .map(|f| {
                parse_key_value(f, "--filter")
                    .map(|(property, equals)| PropertyFilter { property, equals })
            })
            .collect::<Result<_, _>>()?;
        Ok(TraitDefinition {
            name: self.name.clone(),
            event_type: self.event_type.clone(),
            filters,
            aggregate: aggregate as i32,
            property: self.property.clone(),
            window_days: self.window_days,
            origin: String::new(),
        })
    }
}

/// `kindred trait ...`.
pub async fn traits(g: &GlobalArgs, out: &Output, c: TraitCommand) -> Result<u8, CliError> {
    match c {
        TraitCommand::Define(a) => {
            let def = a.definition()?;
            let d = connect(g).await?.define_trait(def).await?;
            out.emit_message(&d, || traits_text(std::slice::from_ref(&d)))?;
        }
        TraitCommand::List => {
            let r = connect(g).await?.list_traits().await?;
            out.emit_message(&r, || traits_text(&r.traits))?;
        }
        TraitCommand::Delete { name } => {
            connect(g).await?.delete_trait(&name).await?;
            out.emit(&serde_json::json!({ "deleted": name }), || {
                format!("trait {name} deleted")
            })?;
        }
    }
    Ok(exit::OK)
}

fn traits_text(defs: &[TraitDefinition]) -> String {
    let mut t = table(&[
        "trait",
        "event type",
        "aggregate",
        "property",
        "window",
        "filters",
        "origin",
    ]);
    for d in defs {
        let agg = Aggregate::try_from(d.aggregate)
            .map(|a| {
                a.as_str_name()
                    .trim_start_matches("AGGREGATE_")
                    .to_lowercase()
            })
            .unwrap_or_else(|_| d.aggregate.to_string());
        let filters: Vec<String> = d
            .filters
            .iter()
            .map(|f| format!("{}={}", f.property, f.equals))
            .collect();
        t.add_row(vec![
            d.name.clone(),
            if d.event_type.is_empty() {
                "(any)".into()
            } else {
                d.event_type.clone()
            },
            agg,
            if d.property.is_empty() {
                "-".into()
            } else {
                d.property.clone()
            },
            if d.window_days == 0 {
                "all time".into()
            } else {
                format!("{} days", d.window_days)
            },
            filters.join(" "),
            d.origin.clone(),
        ]);
    }
    t.to_string()
}

/// `kindred rfm ...`.
pub async fn rfm(g: &GlobalArgs, out: &Output, c: RfmCommand) -> Result<u8, CliError> {
    let client = connect(g).await?;
    let cuts = match c {
        RfmCommand::Compute => client.compute_rfm().await?,
        RfmCommand::Show => client.rfm().await?,
    };
    out.emit_message(&cuts, || rfm_text(&cuts))?;
    Ok(exit::OK)
}

fn rfm_text(c: &RfmCuts) -> String {
    let cuts = |v: &[f64]| {
        v.iter()
            .map(|x| trim_number(*x))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut rows = vec![
        ("version", c.version.to_string()),
        ("computed at", time_ms(c.computed_at_ms)),
        ("customers with orders", c.customers.to_string()),
        ("recency cut points (days)", cuts(&c.recency_days)),
        ("frequency cut points (orders)", cuts(&c.frequency)),
        ("monetary cut points (spend)", cuts(&c.monetary)),
    ];
    if c.seconds > 0.0 {
        rows.push(("seconds", format!("{:.2}", c.seconds)));
    }
    sections(vec![("", Some(kv_table(&rows)))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_flags_become_an_event_with_typed_properties() {
        let a = SendArgs {
            record: "shop:c-1".into(),
            event_id: "o-1".into(),
            event_type: "order_completed".into(),
            at: Some("2026-03-01T10:00:00Z".into()),
            amount: Some(19.9),
            currency: "EUR".into(),
            props: vec!["cart_id=k9".into(), "items=3".into(), "gift=true".into()],
            person: PersonArgs::default(),
        };
        let e = a.to_event(0).unwrap();
        assert_eq!((e.source.as_str(), e.record_id.as_str()), ("shop", "c-1"));
        assert_eq!(e.occurred_at_ms, 1_772_359_200_000);
        assert_eq!(
            e.properties["items"].value,
            Some(property_value::Value::NumberValue(3.0))
        );
        assert_eq!(
            e.properties["gift"].value,
            Some(property_value::Value::BoolValue(true))
        );
        assert!(e.identity.is_none());
        let bad = SendArgs {
            at: Some("soon".into()),
            ..a
        };
        assert_eq!(bad.to_event(0).unwrap_err().code, exit::INVALID_INPUT);
    }
}
