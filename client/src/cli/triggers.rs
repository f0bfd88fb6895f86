//! `kindred trigger create|update|delete|list`: "A then not B within T,
//! matched on a property", defined cluster-wide beside the configured
//! abandoned cart.

use kindred_client::exit;
use kindred_client::v1::{Trigger, TriggersListResponse};

use super::render::{table, time_ms};
use super::{connect, CliError, GlobalArgs, Output};

/// `kindred trigger` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TriggerCommand {
    /// Define a trigger. It watches start events that occur from now on.
    Create(TriggerArgs),
    /// Replace a trigger's definition.
    Update {
        #[command(flatten)]
        def: TriggerArgs,
        /// Only if the trigger is still at this version (see `list`).
        #[arg(long, value_name = "N", default_value_t = 0)]
        expected_version: u64,
    },
    /// Delete a trigger defined with `create`: its open triggers close
    /// without firing.
    Delete {
        /// The trigger's name.
        name: String,
    },
    /// Every trigger in force: configured, then defined.
    List,
}

/// A trigger's definition on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct TriggerArgs {
    /// Name: lowercase letters, digits and underscores.
    pub name: String,
    /// An event type that opens (or resets) it; repeat for several.
    #[arg(long = "start", value_name = "TYPE", required = true)]
    pub start: Vec<String>,
    /// An event type that cancels it; repeat for several.
    #[arg(long = "cancel", value_name = "TYPE", required = true)]
    pub cancel: Vec<String>,
    /// The property tying cancel events to start events (for example
    /// cart_id).
    #[arg(long, value_name = "PROPERTY")]
    pub match_on: String,
    /// Seconds after the newest start event that it fires.
    #[arg(long, value_name = "SECONDS")]
    pub after_seconds: u32,
    /// Hours within which it fires at most once per customer.
    #[arg(long, value_name = "HOURS", default_value_t = 168)]
    pub cooldown_hours: u32,
    /// Found more than this many hours after it fell due, it expires
    /// instead of firing.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub late_hours: u32,
}

impl TriggerArgs {
    fn definition(self) -> Trigger {
        Trigger {
            name: self.name,
            start_types: self.start,
            cancel_types: self.cancel,
            match_on: self.match_on,
            after_seconds: self.after_seconds,
            cooldown_hours: self.cooldown_hours,
            late_hours: self.late_hours,
            ..Default::default()
        }
    }
}

pub async fn run(g: &GlobalArgs, out: &Output, c: TriggerCommand) -> Result<u8, CliError> {
    match c {
        TriggerCommand::Create(a) => {
            let t = connect(g).await?.create_trigger(a.definition()).await?;
            out.emit_message(&t, || defined_text("created", &t))?;
        }
        TriggerCommand::Update {
            def,
            expected_version,
        } => {
            let t = connect(g)
                .await?
                .update_trigger(def.definition(), expected_version)
                .await?;
            out.emit_message(&t, || defined_text("updated", &t))?;
        }
        TriggerCommand::Delete { name } => {
            connect(g).await?.delete_trigger(&name).await?;
            out.emit(&serde_json::json!({ "deleted": name }), || {
                format!("trigger {name} deleted")
            })?;
        }
        TriggerCommand::List => {
            let triggers = connect(g).await?.list_triggers().await?;
            let msg = TriggersListResponse { triggers };
            out.emit_message(&msg, || list_text(&msg.triggers))?;
        }
    }
    Ok(exit::OK)
}

fn defined_text(what: &str, t: &Trigger) -> String {
    format!("trigger {} {what} (version {})", t.name, t.version)
}

fn list_text(triggers: &[Trigger]) -> String {
    let mut t = table(&[
        "trigger", "origin", "version", "start", "cancel", "match on", "after", "cooldown", "since",
    ]);
    for d in triggers {
        t.add_row(vec![
            d.name.clone(),
            d.origin.clone(),
            d.version.to_string(),
            d.start_types.join(", "),
            d.cancel_types.join(", "),
            d.match_on.clone(),
            format!("{} s", d.after_seconds),
            format!("{} h", d.cooldown_hours),
            if d.active_from_ms == 0 {
                "always".into()
            } else {
                time_ms(d.active_from_ms)
            },
        ]);
    }
    t.to_string()
}
