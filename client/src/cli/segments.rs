//! `kindred segment create|update|delete|list|show|members|export|validate`:
//! segments written as TOML or JSON files, their members and audiences.

use std::io::Write;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use kindred_client::v1::{trait_value, Profile, Segment, SegmentsValidateResponse};
use kindred_client::{exit, ClientError};
use kindred_proto::segment_file;
use serde::Serialize;

use super::export::{open_sink, stream_failed};
use super::output::{print, proto_json_line, write_error, OutputFormat};
use super::render::{kv_table, sections, table, time_ms};
use super::{connect, CliError, GlobalArgs, Output};

/// `kindred segment` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SegmentCommand {
    /// Define a segment from a TOML or JSON file.
    Create {
        /// The definition (README, "Segments").
        file: PathBuf,
    },
    /// Replace a segment's definition with a file's.
    Update {
        /// The new definition (its name says which segment).
        file: PathBuf,
        /// Only if the segment is still at this version (see `show`).
        #[arg(long, value_name = "N", default_value_t = 0)]
        expected_version: u64,
    },
    /// Delete a segment defined with `create`.
    Delete {
        /// The segment's name.
        name: String,
    },
    /// Every segment: the standard ones and those defined.
    List,
    /// A segment's definition (as TOML), its size, and which of its
    /// conditions are evaluated in real time and which by the sweep.
    Show {
        /// The segment's name.
        name: String,
    },
    /// The customers in a segment now, by id.
    Members {
        /// The segment's name.
        name: String,
        /// At most this many (0: all).
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Start after a previous page (the token it printed).
        #[arg(long, value_name = "TOKEN", default_value = "")]
        page_token: String,
    },
    /// Export a segment's members as an audience: entity id, golden contact
    /// fields and the traits asked for.
    Export(SegmentExportArgs),
    /// Check a definition file: its syntax here, then what it names against
    /// the cluster (traits, purposes, other segments).
    Validate {
        /// The definition to check.
        file: PathBuf,
    },
    /// Print customers entering and leaving segments, and triggers firing
    /// (an abandoned cart), as it happens, each with a cursor to resume
    /// from.
    Watch(WatchArgs),
}

/// Arguments of `kindred segment watch`.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// The segments to follow (default, with no --trigger: every segment
    /// and every trigger).
    pub names: Vec<String>,
    /// A trigger whose firings to follow (repeatable; "abandoned_cart").
    #[arg(long = "trigger", value_name = "TRIGGER")]
    pub triggers: Vec<String>,
    /// Resume after this cursor; "start" for every change kept (default:
    /// the changes from now on).
    #[arg(long, default_value = "now")]
    pub cursor: String,
    /// Stop after this many changes (default: follow until interrupted).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

/// Formats of an audience file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AudienceFormat {
    Csv,
    Jsonl,
}

/// Arguments of `kindred segment export`.
#[derive(Debug, Clone, clap::Args)]
pub struct SegmentExportArgs {
    /// The segment's name.
    pub name: String,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// CSV or JSON Lines (default: from the file's extension, else CSV).
    #[arg(long, value_enum)]
    pub format: Option<AudienceFormat>,
    /// Traits to add as columns (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub traits: Vec<String>,
    /// Only members who granted this consent purpose.
    #[arg(long, value_name = "PURPOSE", default_value = "")]
    pub purpose: String,
}

/// `kindred segment ...`.
pub async fn run(g: &GlobalArgs, out: &Output, c: SegmentCommand) -> Result<u8, CliError> {
    match c {
        SegmentCommand::Create { file } => {
            let s = read_file(&file)?;
            let s = connect(g).await?.create_segment(s).await?;
            out.emit_message(&s, || defined_text("created", &s))?;
        }
        SegmentCommand::Update {
            file,
            expected_version,
        } => {
            let s = read_file(&file)?;
            let s = connect(g)
                .await?
                .update_segment(s, expected_version)
                .await?;
            out.emit_message(&s, || defined_text("updated", &s))?;
        }
        SegmentCommand::Delete { name } => {
            connect(g).await?.delete_segment(&name).await?;
            out.emit(&serde_json::json!({ "deleted": name }), || {
                format!("segment {name} deleted")
            })?;
        }
        SegmentCommand::List => {
            let r = connect(g).await?.list_segments().await?;
            let msg = kindred_client::v1::SegmentsListResponse { segments: r };
            out.emit_message(&msg, || list_text(&msg.segments))?;
        }
        SegmentCommand::Show { name } => {
            let r = connect(g).await?.get_segment(&name).await?;
            out.emit_message(&r, || show_text(&r))?;
        }
        SegmentCommand::Members {
            name,
            limit,
            page_token,
        } => return members(g, out, &name, limit, page_token).await,
        SegmentCommand::Export(a) => return export(g, out, a).await,
        SegmentCommand::Validate { file } => return validate(g, out, &file).await,
        SegmentCommand::Watch(a) => return watch(g, out, a).await,
    }
    Ok(exit::OK)
}

/// Reads a definition file (TOML, or JSON starting with `{`).
fn read_file(path: &Path) -> Result<Segment, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?;
    segment_file::parse(&text).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

fn defined_text(what: &str, s: &Segment) -> String {
    format!("segment {} {what} (version {})", s.name, s.version)
}

fn list_text(segments: &[Segment]) -> String {
    let mut t = table(&[
        "segment",
        "origin",
        "version",
        "real-time",
        "time",
        "description",
    ]);
    for s in segments {
        t.add_row(vec![
            s.name.clone(),
            s.origin.clone(),
            s.version.to_string(),
            s.realtime_conditions.len().to_string(),
            s.time_conditions.len().to_string(),
            s.description.clone(),
        ]);
    }
    t.to_string()
}

fn show_text(r: &kindred_client::v1::SegmentsGetResponse) -> String {
    let Some(s) = &r.segment else {
        return String::new();
    };
    let mut rows = vec![
        ("segment", s.name.clone()),
        ("description", s.description.clone()),
        ("origin", s.origin.clone()),
        ("version", s.version.to_string()),
        ("updated", time_ms(s.updated_at_ms)),
    ];
    rows.push(("members", r.size.to_string()));
    rows.push(("last sweep", time_ms(r.swept_at_ms)));
    let conditions = |v: &[String]| {
        (!v.is_empty()).then(|| {
            let mut t = table(&[]);
            for c in v {
                t.add_row(vec![c.clone()]);
            }
            t
        })
    };
    let mut text = sections(vec![
        ("", Some(kv_table(&rows))),
        (
            "evaluated when the customer changes",
            conditions(&s.realtime_conditions),
        ),
        (
            "also re-evaluated by the sweep (they depend on time)",
            conditions(&s.time_conditions),
        ),
    ]);
    text.push_str("\n\ndefinition\n");
    text.push_str(&segment_file::to_toml(s));
    text
}

#[derive(Serialize)]
struct MembersPage {
    entity_ids: Vec<String>,
    next_page_token: String,
}

async fn members(
    g: &GlobalArgs,
    out: &Output,
    name: &str,
    limit: usize,
    mut token: String,
) -> Result<u8, CliError> {
    let client = connect(g).await?;
    let mut ids: Vec<u64> = vec![];
    loop {
        let want = if limit == 0 {
            10_000
        } else {
            (limit - ids.len()).min(10_000)
        };
        let page = client.segment_members(name, want as u32, &token).await?;
        ids.extend(page.entity_ids);
        token = page.next_page_token;
        if token.is_empty() || (limit != 0 && ids.len() >= limit) {
            break;
        }
    }
    let page = MembersPage {
        entity_ids: ids.iter().map(u64::to_string).collect(),
        next_page_token: token.clone(),
    };
    out.emit(&page, || {
        let mut text: String = ids.iter().map(|i| format!("{i}\n")).collect();
        text.push_str(&match token.as_str() {
            "" => format!("({} members)", ids.len()),
            t => format!("({} shown; more with --page-token {t})", ids.len()),
        });
        text
    })?;
    Ok(exit::OK)
}

async fn watch(g: &GlobalArgs, out: &Output, a: WatchArgs) -> Result<u8, CliError> {
    let client = connect(g).await?;
    let mut stream = client.watch(&a.names, &a.triggers, &a.cursor).await?;
    let mut n = 0u64;
    while a.limit.is_none_or(|l| n < l) {
        let Some(r) = stream.next().await else { break };
        let r = r.map_err(|s| CliError::from(ClientError::from(s)))?;
        // One line per change in either format (JSON Lines for --output json).
        let line = match out.format {
            OutputFormat::Json => proto_json_line(&r)?,
            OutputFormat::Table => watch_line(&r),
        };
        print(&line)?;
        n += 1;
    }
    Ok(exit::OK)
}

fn watch_line(r: &kindred_client::v1::SegmentsWatchResponse) -> String {
    use kindred_client::v1::MembershipChange as C;
    let what = match C::try_from(r.change) {
        Ok(C::Entered) => "entered".to_string(),
        Ok(C::Left) => "left".to_string(),
        Ok(C::Merged) => format!("merged into {}", r.merged_into),
        Ok(C::TriggerFired) => {
            let f = r.fired.clone().unwrap_or_default();
            return format!(
                "{}  {} fired {} {} (record {}/{}, due {})  (cursor {})",
                time_ms(r.at_ms),
                r.entity_id,
                f.trigger,
                f.match_value,
                f.source,
                f.record_id,
                time_ms(f.due_at_ms),
                r.cursor
            );
        }
        _ => "changed".to_string(),
    };
    format!(
        "{}  {} {what} {}  (cursor {})",
        time_ms(r.at_ms),
        r.entity_id,
        r.segment,
        r.cursor
    )
}

async fn validate(g: &GlobalArgs, out: &Output, file: &Path) -> Result<u8, CliError> {
    let s = read_file(file)?;
    let r = connect(g).await?.validate_segment(s).await?;
    out.emit_message(&r, || validate_text(file, &r))?;
    Ok(if r.problems.is_empty() {
        exit::OK
    } else {
        exit::INVALID_INPUT
    })
}

fn validate_text(file: &Path, r: &SegmentsValidateResponse) -> String {
    if r.problems.is_empty() {
        return format!(
            "{} is valid: {} condition(s) evaluated in real time, {} by the sweep",
            file.display(),
            r.realtime_conditions.len(),
            r.time_conditions.len()
        );
    }
    let mut t = table(&["where", "what is wrong"]);
    for p in &r.problems {
        t.add_row(vec![p.path.clone(), p.message.clone()]);
    }
    format!(
        "{} has {} problem(s)\n{t}",
        file.display(),
        r.problems.len()
    )
}

/// The golden contact fields of an audience row.
pub const AUDIENCE_FIELDS: [&str; 6] = [
    "entity_id",
    "given_name",
    "family_name",
    "email",
    "phone",
    "address",
];

/// One audience row: the contact fields, then the traits asked for.
pub fn audience_row(p: &Profile, traits: &[String]) -> Vec<String> {
    let g = p.golden.clone().unwrap_or_default();
    let v = |x: Option<kindred_client::v1::GoldenValue>| x.map(|v| v.value).unwrap_or_default();
    let mut row = vec![
        p.entity_id.to_string(),
        v(g.given_name),
        v(g.family_name),
        v(g.email),
        v(g.phone),
        v(g.address),
    ];
    for name in traits {
        let value = p
            .traits
            .iter()
            .find(|t| t.name == *name)
            .and_then(|t| t.value.clone());
        row.push(match value {
            Some(trait_value::Value::Number(n)) => format!("{n}"),
            Some(trait_value::Value::Text(s)) => s,
            Some(trait_value::Value::TimestampMs(ms)) => time_ms(ms),
            None => String::new(),
        });
    }
    row
}

/// Where audience rows go.
enum Audience<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W, Vec<String>),
}

impl<W: Write> Audience<W> {
    fn new(format: AudienceFormat, w: W, header: Vec<String>) -> std::io::Result<Self> {
        Ok(match format {
            AudienceFormat::Csv => {
                let mut c = csv::Writer::from_writer(w);
                c.write_record(&header).map_err(std::io::Error::other)?;
                Audience::Csv(Box::new(c))
            }
            AudienceFormat::Jsonl => Audience::Jsonl(w, header),
        })
    }

    fn row(&mut self, row: &[String]) -> std::io::Result<()> {
        match self {
            Audience::Csv(c) => c.write_record(row).map_err(std::io::Error::other),
            Audience::Jsonl(w, header) => {
                let obj: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .cloned()
                    .zip(row.iter().map(|v| serde_json::Value::String(v.clone())))
                    .collect();
                serde_json::to_writer(&mut *w, &obj)?;
                w.write_all(b"\n")
            }
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Audience::Csv(mut c) => c.flush(),
            Audience::Jsonl(mut w, _) => w.flush(),
        }
    }
}

async fn export(g: &GlobalArgs, out: &Output, a: SegmentExportArgs) -> Result<u8, CliError> {
    let format = a.format.unwrap_or(
        match a
            .out
            .as_ref()
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
        {
            Some("jsonl" | "ndjson" | "json") => AudienceFormat::Jsonl,
            _ => AudienceFormat::Csv,
        },
    );
    let client = connect(g).await?;
    let mut stream = client.export_segment(&a.name, &a.purpose).await?;
    let (w, target) = open_sink(a.out.as_deref())?;
    let mut header: Vec<String> = AUDIENCE_FIELDS.iter().map(|s| s.to_string()).collect();
    header.extend(a.traits.iter().cloned());
    let failed = |e: std::io::Error| write_error(&e, &target);
    let mut sink = Audience::new(format, w, header).map_err(failed)?;
    let mut n = 0u64;
    while let Some(r) = stream.next().await {
        let r = r.map_err(|s| stream_failed(s, n))?;
        let Some(p) = r.profile else { continue };
        sink.row(&audience_row(&p, &a.traits)).map_err(failed)?;
        n += 1;
    }
    sink.finish().map_err(failed)?;
    if a.out.is_some() {
        out.emit(
            &serde_json::json!({ "segment": a.name, "exported": n, "out": target }),
            || format!("exported {n} members of {} to {target}", a.name),
        )?;
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_client::v1::{GoldenRecord, GoldenValue, TraitValue};

    fn profile() -> Profile {
        let gv = |s: &str| {
            Some(GoldenValue {
                value: s.into(),
                ..Default::default()
            })
        };
        Profile {
            entity_id: 42,
            golden: Some(GoldenRecord {
                given_name: gv("Ann"),
                family_name: gv("Lee, Jr"),
                email: gv("ann@example.com"),
                ..Default::default()
            }),
            traits: vec![TraitValue {
                name: "orders".into(),
                value: Some(trait_value::Value::Number(3.0)),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn an_audience_row_has_the_contact_fields_then_the_traits_asked() {
        let row = audience_row(&profile(), &["orders".into(), "nope".into()]);
        assert_eq!(
            row,
            ["42", "Ann", "Lee, Jr", "ann@example.com", "", "", "3", ""]
        );
    }

    #[test]
    fn csv_quotes_and_json_lines_name_every_column() {
        let header: Vec<String> = ["entity_id", "family_name"].map(String::from).to_vec();
        let row = ["42".to_string(), "Lee, Jr".to_string()];
        let mut buf = Vec::new();
        let mut a = Audience::new(AudienceFormat::Csv, &mut buf, header.clone()).unwrap();
        a.row(&row).unwrap();
        a.finish().unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "entity_id,family_name\n42,\"Lee, Jr\"\n"
        );
        let mut buf = Vec::new();
        let mut a = Audience::new(AudienceFormat::Jsonl, &mut buf, header).unwrap();
        a.row(&row).unwrap();
        a.finish().unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\"entity_id\":\"42\",\"family_name\":\"Lee, Jr\"}\n"
        );
    }
}
