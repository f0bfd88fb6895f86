//! `kindred privacy ...`: erase a person, list erasures and the
//! suppression list, lift a suppression. Needs the privacy role.

use kindred_client::refs::parse_record_ref;
use kindred_client::{exit, ClientError};
use kindred_proto::v1::lift_suppression_request::Target as LiftTarget;
use kindred_proto::v1::person_ref::Target;
use kindred_proto::v1::{Erasure, ErasureState, IdentifierValue};

use super::{connect, CliError, GlobalArgs, Output};

/// `kindred privacy ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PrivacyCommand {
    /// Erase a person on every node: every record of the customer, their
    /// events, links and history; their identifiers are suppressed so a
    /// later import of them is refused.
    Erase(EraseArgs),
    /// List erasure requests, newest first.
    Erasures,
    /// List suppressed identifiers (keyed hashes, never values).
    Suppressions,
    /// Lift the suppression of an identifier, so it may be imported again.
    Lift(LiftArgs),
}

/// Whom `kindred privacy erase` erases: exactly one of the flags.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct EraseArgs {
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

impl EraseArgs {
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
        PrivacyCommand::Lift(a) => {
            let target = a.target()?;
            let r = connect(g).await?.lift_suppression(target).await?;
            out.emit_message(&r, || format!("lifted {} suppression entries", r.lifted))?;
            Ok(exit::OK)
        }
    }
}
