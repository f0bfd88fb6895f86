//! `kindred privacy ...`: erase a person, list erasures and the
//! suppression list, lift a suppression, export everything held about a
//! person (the privacy role); record consent decisions (the writer role).

use kindred_client::refs::parse_record_ref;
use kindred_client::{exit, ClientError};
use kindred_proto::mapping::parse_timestamp_ms;
use kindred_proto::v1::lift_suppression_request::Target as LiftTarget;
use kindred_proto::v1::person_ref::Target;
use kindred_proto::v1::{Erasure, ErasureState, IdentifierValue, RecordDecision};

use super::args::consent_flag;
use super::output::proto_json;
use super::{connect, CliError, GlobalArgs, Output};

/// `kindred privacy ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PrivacyCommand {
    /// Erase a person on every node: every record of the customer, their
    /// events, links and history; their identifiers are suppressed so a
    /// later import of them is refused.
    Erase(PersonFlags),
    /// Write everything held about a person as one JSON document (subject
    /// access): records, events, traits, consent, history, why linked.
    Export(ExportArgs),
    /// Record consent decisions against a source record.
    Consent(ConsentArgs),
    /// Apply the retention policy now: erase every record not observed
    /// within its source's limit ([privacy.retention]).
    Retention,
    /// List erasure requests, newest first.
    Erasures,
    /// List suppressed identifiers (keyed hashes, never values).
    Suppressions,
    /// Lift the suppression of an identifier, so it may be imported again.
    Lift(LiftArgs),
}

/// `kindred privacy export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub person: PersonFlags,
    /// Write the document to FILE (created with mode 0600) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// `kindred privacy consent`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsentArgs {
    /// The record, SOURCE:ID.
    #[arg(value_name = "SOURCE:ID")]
    pub record: String,
    /// A decision, PURPOSE=STATUS (granted, denied or withdrawn;
    /// repeatable).
    #[arg(long = "set", value_name = "PURPOSE=STATUS", required = true)]
    pub set: Vec<String>,
    /// When the person decided: milliseconds since the Unix epoch, or a
    /// date / date-time (default: when the node receives it).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// Whom a privacy command is about: exactly one of the flags.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct PersonFlags {
    /// An email of the person.
    #[arg(long)]
    pub email: Option<String>,
    /// A phone number of the person.
    #[arg(long)]
    pub phone: Option<String>,
    /// A typed identifier, KIND=VALUE (e.g. loyalty_id=LY63756464).
    #[arg(long, value_name = "KIND=VALUE")]
    pub id: Option<String>,
    /// A customer id.
    #[arg(long)]
    pub entity: Option<u64>,
    /// One of the person's records, SOURCE:ID.
    #[arg(long, value_name = "SOURCE:ID")]
    pub record: Option<String>,
}

/// What `kindred privacy lift` lifts: exactly one of the flags.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct LiftArgs {
    /// The email to allow again.
    #[arg(long)]
    pub email: Option<String>,
    /// The phone number to allow again (as E.164, +CC..., or written as the
    /// node's default region writes it).
    #[arg(long)]
    pub phone: Option<String>,
    /// A typed identifier, KIND=VALUE.
    #[arg(long, value_name = "KIND=VALUE")]
    pub id: Option<String>,
    /// A suppression id, as `kindred privacy suppressions` shows it.
    #[arg(long)]
    pub suppression: Option<String>,
}

fn identifier(s: &str) -> Result<IdentifierValue, ClientError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok(IdentifierValue {
            kind: k.trim().to_string(),
            value: v.trim().to_string(),
        }),
        _ => Err(ClientError::InvalidInput(format!(
            "--id {s:?} must be KIND=VALUE (e.g. loyalty_id=LY63756464)"
        ))),
    }
}

impl PersonFlags {
    fn target(&self) -> Result<Target, ClientError> {
        if let Some(e) = &self.email {
            return Ok(Target::Email(e.clone()));
        }
        if let Some(p) = &self.phone {
            return Ok(Target::Phone(p.clone()));
        }
        if let Some(i) = &self.id {
            return Ok(Target::Identifier(identifier(i)?));
        }
        if let Some(e) = self.entity {
            return Ok(Target::EntityId(e));
        }
        match &self.record {
            Some(r) => Ok(Target::Record(parse_record_ref(r)?)),
            None => Err(ClientError::InvalidInput(
                "name the person: --email, --phone, --id, --entity or --record".into(),
            )),
        }
    }
}

impl LiftArgs {
    fn target(&self) -> Result<LiftTarget, ClientError> {
        Ok(
            match (&self.email, &self.phone, &self.id, &self.suppression) {
                (Some(e), ..) => LiftTarget::Email(e.clone()),
                (_, Some(p), ..) => LiftTarget::Phone(p.clone()),
                (_, _, Some(i), _) => LiftTarget::Identifier(identifier(i)?),
                (_, _, _, Some(s)) => LiftTarget::Id(s.clone()),
                _ => {
                    return Err(ClientError::InvalidInput(
                        "name what to lift: --email, --phone, --id or --suppression".into(),
                    ))
                }
            },
        )
    }
}

fn state_name(s: i32) -> &'static str {
    match ErasureState::try_from(s) {
        Ok(ErasureState::Received) => "received",
        Ok(ErasureState::InProgress) => "in progress",
        Ok(ErasureState::Done) => "done",
        Ok(ErasureState::Failed) => "failed",
        _ => "unknown",
    }
}

fn erasure_line(e: &Erasure) -> String {
    let mut s = format!(
        "erasure {}: {}, {} records erased, {} identifiers suppressed, by {}, received {} ms, done {} ms",
        e.id,
        state_name(e.state),
        e.records_erased,
        e.identifiers_suppressed,
        e.requested_by,
        e.received_at_ms,
        e.done_at_ms
    );
    if !e.error.is_empty() {
        s.push_str(&format!(" ({})", e.error));
    }
    s
}

/// Runs `kindred privacy ...`.
pub async fn run(g: &GlobalArgs, out: &Output, c: PrivacyCommand) -> Result<u8, CliError> {
    match c {
        PrivacyCommand::Erase(a) => {
            let target = a.target()?;
            let r = connect(g).await?.erase(target).await?;
            let failed = r
                .erasure
                .as_ref()
                .is_some_and(|e| e.state == ErasureState::Failed as i32);
            out.emit_message(&r, || {
                r.erasure.as_ref().map(erasure_line).unwrap_or_default()
            })?;
            Ok(if failed { exit::SERVER } else { exit::OK })
        }
        PrivacyCommand::Erasures => {
            let r = connect(g).await?.list_erasures().await?;
            out.emit_message(&r, || {
                r.erasures
                    .iter()
                    .map(erasure_line)
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            Ok(exit::OK)
        }
        PrivacyCommand::Suppressions => {
            let r = connect(g).await?.list_suppressions().await?;
            out.emit_message(&r, || {
                r.suppressions
                    .iter()
                    .map(|s| format!("{} {} erasure {}", s.id, s.kind, s.erasure_id))
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            Ok(exit::OK)
        }
        PrivacyCommand::Export(a) => export(g, out, a).await,
        PrivacyCommand::Consent(a) => consent(g, out, a).await,
        PrivacyCommand::Retention => {
            let r = connect(g).await?.apply_retention().await?;
            out.emit_message(&r, || match &r.erasure {
                Some(e) => erasure_line(e),
                None => "no record is past its retention limit".into(),
            })?;
            Ok(exit::OK)
        }
        PrivacyCommand::Lift(a) => {
            let target = a.target()?;
            let r = connect(g).await?.lift_suppression(target).await?;
            out.emit_message(&r, || format!("lifted {} suppression entries", r.lifted))?;
            Ok(exit::OK)
        }
    }
}

/// `kindred privacy export`: the document as the proto3 JSON mapping,
/// pretty-printed; to a file readable by its owner only.
async fn export(g: &GlobalArgs, out: &Output, a: ExportArgs) -> Result<u8, CliError> {
    let target = a.person.target()?;
    let r = connect(g).await?.subject_export(target).await?;
    let json = proto_json(&r)?;
    match &a.out {
        None => {
            println!("{json}");
        }
        Some(path) => {
            write_private(path, json.as_bytes())
                .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
            let records = r.profile.as_ref().map_or(0, |p| p.records.len());
            out.emit_message(&r, || {
                format!(
                    "wrote everything held about customer {} ({records} records, {} events) to {}",
                    r.profile.as_ref().map_or(0, |p| p.entity_id),
                    r.events.len(),
                    path.display()
                )
            })?;
        }
    }
    Ok(exit::OK)
}

/// Creates (or truncates) a file only its owner may read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    // An existing file keeps its mode when opened: make it private too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.write_all(b"\n")
}

/// `kindred privacy consent`.
async fn consent(g: &GlobalArgs, out: &Output, a: ConsentArgs) -> Result<u8, CliError> {
    let record = parse_record_ref(&a.record)?;
    let at = match a.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => parse_timestamp_ms(s, &[]).ok_or_else(|| {
            ClientError::InvalidInput(format!(
                "--at {s:?} is neither milliseconds since the epoch nor a date"
            ))
        })?,
    };
    let decisions = a
        .set
        .iter()
        .map(|s| {
            Ok(RecordDecision {
                record: Some(record.clone()),
                decision: Some(consent_flag(s, "--set", at)?),
            })
        })
        .collect::<Result<Vec<_>, ClientError>>()?;
    let r = connect(g).await?.set_consent(decisions).await?;
    let failed = r.results.iter().any(|x| !x.error.is_empty());
    out.emit_message(&r, || {
        r.results
            .iter()
            .map(|x| match (x.error.is_empty(), x.duplicate) {
                (false, _) => format!("{}: refused: {}", x.purpose, x.error),
                (true, true) => format!("{}: already recorded", x.purpose),
                (true, false) => format!("{}: recorded (customer {})", x.purpose, x.entity_id),
            })
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok(if failed {
        exit::INVALID_INPUT
    } else {
        exit::OK
    })
}
