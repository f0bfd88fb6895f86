//! `kindred profile get` and `kindred search`.

use kindred_client::exit;
use kindred_client::refs::{parse_key_value, parse_record_ref};
use kindred_client::ClientError;

use super::args::PersonArgs;
use super::{connect, render, CliError, GlobalArgs, Output};

/// `kindred profile` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ProfileCommand {
    /// Show one customer's profile, found by entity, record or identity.
    Get(ProfileGetArgs),
}

/// How to find a profile: exactly one key.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
#[command(group(
    clap::ArgGroup::new("key")
        .required(true)
        .multiple(false)
        .args(["entity", "record", "email", "phone", "id"])
))]
pub struct ProfileGetArgs {
    /// Entity id.
    #[arg(long, value_name = "ID")]
    pub entity: Option<u64>,
    /// A record of the entity, as SOURCE:ID.
    #[arg(long, value_name = "SOURCE:ID")]
    pub record: Option<String>,
    /// An email address of the customer.
    #[arg(long, value_name = "E")]
    pub email: Option<String>,
    /// A phone number of the customer.
    #[arg(long, value_name = "P")]
    pub phone: Option<String>,
    /// An identifier of the customer.
    #[arg(long, value_name = "KIND=VALUE")]
    pub id: Option<String>,
}

/// The profile key chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileKey {
    /// By entity id.
    Entity(u64),
    /// By record.
    Record(String, String),
    /// By identity (kind, value).
    Identity(String, String),
}

impl ProfileGetArgs {
    /// The key to look the profile up by.
    pub fn key(&self) -> Result<ProfileKey, ClientError> {
        if let Some(e) = self.entity {
            return Ok(ProfileKey::Entity(e));
        }
        if let Some(r) = &self.record {
            let r = parse_record_ref(r)?;
            return Ok(ProfileKey::Record(r.source, r.record_id));
        }
        let nonempty = |flag: &str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                Err(ClientError::InvalidInput(format!("{flag} is empty")))
            } else {
                Ok(v.to_string())
            }
        };
        if let Some(e) = &self.email {
            return Ok(ProfileKey::Identity(
                "email".into(),
                nonempty("--email", e)?,
            ));
        }
        if let Some(p) = &self.phone {
            return Ok(ProfileKey::Identity(
                "phone".into(),
                nonempty("--phone", p)?,
            ));
        }
        if let Some(id) = &self.id {
            let (kind, value) = parse_key_value(id, "--id")?;
            return Ok(ProfileKey::Identity(kind, nonempty("--id value", &value)?));
        }
        Err(ClientError::InvalidInput(
            "give one of --entity, --record, --email, --phone, --id".into(),
        ))
    }
}

/// Arguments of `kindred search`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub person: PersonArgs,
    /// Most candidates to return.
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    /// Only candidates at or above this match probability.
    #[arg(long, default_value_t = 0.01)]
    pub min_probability: f64,
}

/// `kindred profile ...`.
pub async fn profile(g: &GlobalArgs, out: &Output, c: ProfileCommand) -> Result<u8, CliError> {
    let ProfileCommand::Get(a) = c;
    let key = a.key()?;
    let client = connect(g).await?;
    let profile = match key {
        ProfileKey::Entity(e) => client.profile_by_entity(e).await?,
        ProfileKey::Record(s, id) => client.profile_by_record(&s, &id).await?,
        ProfileKey::Identity(kind, value) => client.profile_by_identity(&kind, &value).await?,
    };
    out.emit_message(&profile, || render::profile(&profile))?;
    Ok(exit::OK)
}

/// `kindred search`.
pub async fn search(g: &GlobalArgs, out: &Output, a: SearchArgs) -> Result<u8, CliError> {
    if a.person.is_empty() {
        return Err(CliError::input(
            "search needs at least one attribute (e.g. --family-name, --email)",
        ));
    }
    if !(0.0..=1.0).contains(&a.min_probability) {
        return Err(CliError::input(format!(
            "--min-probability must be between 0 and 1, got {}",
            a.min_probability
        )));
    }
    let query = a.person.to_record("", "")?;
    let resp = connect(g)
        .await?
        .search(query, a.limit, a.min_probability)
        .await?;
    out.emit_message(&resp, || render::search(&resp))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_keys() {
        let a = ProfileGetArgs {
            record: Some("crm:a:b".into()),
            ..ProfileGetArgs::default()
        };
        assert_eq!(
            a.key().unwrap(),
            ProfileKey::Record("crm".into(), "a:b".into())
        );
        let a = ProfileGetArgs {
            id: Some("loyalty_number=L1".into()),
            ..ProfileGetArgs::default()
        };
        assert_eq!(
            a.key().unwrap(),
            ProfileKey::Identity("loyalty_number".into(), "L1".into())
        );
        let a = ProfileGetArgs {
            email: Some(" ann@x.com ".into()),
            ..ProfileGetArgs::default()
        };
        assert_eq!(
            a.key().unwrap(),
            ProfileKey::Identity("email".into(), "ann@x.com".into())
        );
        let a = ProfileGetArgs {
            record: Some("nocolon".into()),
            ..ProfileGetArgs::default()
        };
        assert_eq!(a.key().unwrap_err().exit_code(), 2);
    }
}
