//! `kindred upsert`, `kindred delete` and `kindred get`.

use kindred_client::refs::parse_record_ref;
use kindred_client::v1::{Record, RecordRef};
use kindred_client::{exit, ClientError};

use super::args::{read_record_json, PersonArgs};
use super::{connect, render, CliError, GlobalArgs, Output};

/// Arguments of `kindred upsert`.
#[derive(Debug, Clone, clap::Args)]
pub struct UpsertArgs {
    /// Source system of the record.
    #[arg(long, required_unless_present = "json")]
    pub source: Option<String>,
    /// The record's id in its source.
    #[arg(long, required_unless_present = "json")]
    pub record_id: Option<String>,
    #[command(flatten)]
    pub person: PersonArgs,
    /// Read the record as a JSON object (a kindred.v1.Record) from FILE, or
    /// stdin for `-`; --source / --record-id override its keys.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

impl UpsertArgs {
    /// The record to upsert.
    pub fn record(&self) -> Result<Record, ClientError> {
        let source = self.source.as_deref().map(str::trim).unwrap_or_default();
        let record_id = self.record_id.as_deref().map(str::trim).unwrap_or_default();
        let mut record = match &self.json {
            None => self.person.to_record(source, record_id)?,
            Some(path) => {
                if !self.person.is_empty() {
                    return Err(ClientError::InvalidInput(
                        "--json cannot be combined with attribute flags; put them in the JSON"
                            .into(),
                    ));
                }
                let mut r = read_record_json(path)?;
                if !source.is_empty() {
                    r.source = source.to_string();
                }
                if !record_id.is_empty() {
                    r.record_id = record_id.to_string();
                }
                r
            }
        };
        record.source = record.source.trim().to_string();
        record.record_id = record.record_id.trim().to_string();
        if record.source.is_empty() {
            return Err(ClientError::InvalidInput(
                "the record has no source (--source)".into(),
            ));
        }
        if record.record_id.is_empty() {
            return Err(ClientError::InvalidInput(
                "the record has no record id (--record-id)".into(),
            ));
        }
        Ok(record)
    }
}

/// A record reference argument.
#[derive(Debug, Clone, clap::Args)]
pub struct RefArgs {
    /// The record, as SOURCE:ID.
    #[arg(value_name = "SOURCE:ID")]
    pub record: String,
}

impl RefArgs {
    fn parse(&self) -> Result<RecordRef, ClientError> {
        parse_record_ref(&self.record)
    }
}

/// `kindred upsert`.
pub async fn upsert(g: &GlobalArgs, out: &Output, a: UpsertArgs) -> Result<u8, CliError> {
    let record = a.record()?;
    let result = connect(g).await?.upsert(record).await?;
    out.emit_message(&result, || render::resolve_result(&result))?;
    Ok(exit::OK)
}

/// `kindred delete`.
pub async fn delete(g: &GlobalArgs, out: &Output, a: RefArgs) -> Result<u8, CliError> {
    let r = a.parse()?;
    let resp = connect(g).await?.delete(&r.source, &r.record_id).await?;
    out.emit_message(&resp, || render::delete_response(&resp))?;
    Ok(exit::OK)
}

/// `kindred get`.
pub async fn get(g: &GlobalArgs, out: &Output, a: RefArgs) -> Result<u8, CliError> {
    let r = a.parse()?;
    let resp = connect(g)
        .await?
        .get_record(&r.source, &r.record_id)
        .await?;
    out.emit_message(&resp, || render::get_record(&resp))?;
    Ok(exit::OK)
}
