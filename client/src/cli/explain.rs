//! `kindred why` and `kindred how`.

use kindred_client::exit;
use kindred_client::refs::parse_record_ref;

use super::{connect, render, CliError, GlobalArgs, Output};

/// Arguments of `kindred why`: two records, or a record and `--entity`.
#[derive(Debug, Clone, clap::Args)]
pub struct WhyArgs {
    /// The record to explain, as SOURCE:ID.
    #[arg(value_name = "SOURCE:ID")]
    pub a: String,
    /// The record to compare it with, as SOURCE:ID.
    #[arg(
        value_name = "SOURCE:ID",
        required_unless_present = "entity",
        conflicts_with = "entity"
    )]
    pub b: Option<String>,
    /// Explain why the record is (not) a member of this entity.
    #[arg(long, value_name = "ID")]
    pub entity: Option<u64>,
}

/// Arguments of `kindred how`.
#[derive(Debug, Clone, clap::Args)]
pub struct HowArgs {
    /// The entity id.
    #[arg(value_name = "ENTITY")]
    pub entity: u64,
}

/// `kindred why`.
pub async fn why(g: &GlobalArgs, out: &Output, a: WhyArgs) -> Result<u8, CliError> {
    let first = parse_record_ref(&a.a)?;
    match (a.b, a.entity) {
        (Some(b), None) => {
            let second = parse_record_ref(&b)?;
            let e = connect(g).await?.why_records(first, second).await?;
            out.emit_message(&e, || render::pair(&e))?;
        }
        (None, Some(entity)) => {
            let e = connect(g).await?.why_entity(first, entity).await?;
            out.emit_message(&e, || render::entity_explanation(&e))?;
        }
        _ => {
            return Err(CliError::input(
                "give a second record (SOURCE:ID) or --entity ID, not both",
            ))
        }
    }
    Ok(exit::OK)
}

/// `kindred how`.
pub async fn how(g: &GlobalArgs, out: &Output, a: HowArgs) -> Result<u8, CliError> {
    let h = connect(g).await?.how(a.entity).await?;
    out.emit_message(&h, || render::history(&h))?;
    Ok(exit::OK)
}
