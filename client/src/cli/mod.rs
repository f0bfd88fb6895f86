//! The `kindred` command line: argument definitions, dispatch, output and
//! error handling shared by the commands.

mod activity;
mod admin;
mod args;
mod cluster;
mod explain;
mod export;
mod generate;
mod import;
pub mod output;
mod privacy;
mod profiles;
mod records;
mod render;
mod segments;
mod triggers;

use std::time::Duration;

use clap::{Parser, Subcommand};
use kindred_client::{exit, Client, ClientError, ClientOptions, TlsOptions};

pub use output::{Output, OutputFormat};

/// Kindred: resolve customer records from many sources into one profile
/// per person.
#[derive(Debug, Parser)]
#[command(name = "kindred", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Server endpoints, comma-separated; tried in order, with failover.
    #[arg(
        long,
        global = true,
        env = "KINDRED_ENDPOINT",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:7000",
        value_name = "URL[,URL...]"
    )]
    pub endpoint: Vec<String>,
    /// Output format.
    #[arg(
        long,
        global = true,
        env = "KINDRED_OUTPUT",
        value_enum,
        default_value_t = OutputFormat::Table
    )]
    pub output: OutputFormat,
    /// Deadline of each request, in seconds (0: none). Imports, exports,
    /// training and cluster changes are not bounded by it.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Bearer token for every call (prefer the environment variable: a
    /// flag is visible to other users in the process list).
    #[arg(long, global = true, env = "KINDRED_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM CA that signed the server's certificate (https:// endpoints).
    #[arg(long, global = true, env = "KINDRED_CA", value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// PEM client certificate, for servers that authenticate clients by
    /// certificate (with --client-key).
    #[arg(
        long,
        global = true,
        env = "KINDRED_CLIENT_CERT",
        value_name = "FILE",
        requires = "client_key"
    )]
    pub client_cert: Option<std::path::PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(
        long,
        global = true,
        env = "KINDRED_CLIENT_KEY",
        value_name = "FILE",
        requires = "client_cert"
    )]
    pub client_key: Option<std::path::PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a CSV or JSON Lines file through a column mapping.
    Import(import::ImportArgs),
    /// Export every record's entity (CSV), or every profile (JSON Lines).
    Export(export::ExportArgs),
    /// Insert or replace one record and show how it was resolved.
    Upsert(records::UpsertArgs),
    /// Delete a record (SOURCE:ID) and show the affected entities.
    Delete(records::RefArgs),
    /// Show a stored record (SOURCE:ID) and its entity.
    Get(records::RefArgs),
    /// Customer profiles.
    #[command(subcommand)]
    Profile(profiles::ProfileCommand),
    /// Find the entities that best match a partial description.
    Search(profiles::SearchArgs),
    /// Events: send one, import a file, list a customer's.
    #[command(subcommand, visible_alias = "events")]
    Event(activity::EventCommand),
    /// Traits computed on every profile: define, list, delete.
    #[command(subcommand)]
    Trait(activity::TraitCommand),
    /// RFM cut points: compute and publish them, or show them.
    #[command(subcommand)]
    Rfm(activity::RfmCommand),
    /// Explain why two records match or not, or why a record is (not) in
    /// an entity.
    Why(explain::WhyArgs),
    /// Show how an entity was built: its records and history.
    How(explain::HowArgs),
    /// Show cluster statistics.
    Stats,
    /// Re-estimate the match model from the loaded records.
    Train(admin::TrainArgs),
    /// Print the current match model as JSON.
    Model,
    /// Cluster administration: status, nodes and partition placement.
    Cluster(cluster::ClusterArgs),
    /// The audit log: admin actions and denied calls on every node.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Privacy: erase a person, the erasures and the suppression list.
    #[command(subcommand)]
    Privacy(privacy::PrivacyCommand),
    /// Segments: define, list, show, members, export an audience, validate.
    #[command(subcommand, alias = "segments")]
    Segment(segments::SegmentCommand),
    /// Triggers ("A then not B within T"): define, update, delete, list.
    #[command(subcommand, alias = "triggers")]
    Trigger(triggers::TriggerCommand),
    /// Generate a synthetic multi-source dataset with ground truth.
    Generate(generate::GenerateArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

/// Arguments of `kindred completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// A command failure: the message for stderr and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Exit code (see [`kindred_client::exit`]).
    pub code: u8,
    /// The message, printed as `error: <message>`; empty for none.
    pub message: String,
}

impl CliError {
    /// Invalid input (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            code: exit::INVALID_INPUT,
            message: message.into(),
        }
    }

    /// A failure that is not the input's fault (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            code: exit::SERVER,
            message: message.into(),
        }
    }

    /// Stops quietly with `code` (e.g. the reader of stdout went away).
    pub fn quiet(code: u8) -> Self {
        CliError {
            code,
            message: String::new(),
        }
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        CliError {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Runs a parsed command line; the success value is the exit code
/// (0, or 4 for an import with rejected rows).
pub async fn run(cli: Cli) -> Result<u8, CliError> {
    let out = Output::new(cli.global.output);
    let g = &cli.global;
    // Each command validates its input before connecting, so invalid
    // input exits 2 even without a server.
    match cli.command {
        Command::Import(a) => import::run(g, &out, a).await,
        Command::Export(a) => export::run(g, &out, a).await,
        Command::Upsert(a) => records::upsert(g, &out, a).await,
        Command::Delete(a) => records::delete(g, &out, a).await,
        Command::Get(a) => records::get(g, &out, a).await,
        Command::Profile(c) => profiles::profile(g, &out, c).await,
        Command::Search(a) => profiles::search(g, &out, a).await,
        Command::Event(c) => activity::event(g, &out, c).await,
        Command::Trait(c) => activity::traits(g, &out, c).await,
        Command::Rfm(c) => activity::rfm(g, &out, c).await,
        Command::Why(a) => explain::why(g, &out, a).await,
        Command::How(a) => explain::how(g, &out, a).await,
        Command::Stats => admin::stats(g, &out).await,
        Command::Train(a) => admin::train(g, &out, a).await,
        Command::Model => admin::model(g, &out).await,
        Command::Cluster(a) => cluster::run(g, &out, a).await,
        Command::Audit(c) => admin::audit(g, &out, c).await,
        Command::Privacy(c) => privacy::run(g, &out, c).await,
        Command::Segment(c) => segments::run(g, &out, c).await,
        Command::Trigger(c) => triggers::run(g, &out, c).await,
        Command::Generate(a) => generate::run(&out, a),
        Command::Completions(a) => completions(a),
    }
}

/// Client options from the global flags.
pub fn client_options(g: &GlobalArgs) -> Result<ClientOptions, CliError> {
    let timeout = (g.timeout > 0).then(|| Duration::from_secs(g.timeout));
    let read = |p: &std::path::PathBuf| {
        std::fs::read(p).map_err(|e| CliError::input(format!("{}: {e}", p.display())))
    };
    let identity_pem = match (&g.client_cert, &g.client_key) {
        (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
        _ => None,
    };
    Ok(ClientOptions {
        timeout,
        connect_timeout: timeout.map_or(Duration::from_secs(5), |t| t.min(Duration::from_secs(5))),
        token: g.token.clone().filter(|t| !t.trim().is_empty()),
        tls: TlsOptions {
            ca_pem: g.ca.as_ref().map(read).transpose()?,
            identity_pem,
            domain: None,
        },
        ..ClientOptions::default()
    })
}

/// Connects to the cluster named by the global flags.
pub async fn connect(g: &GlobalArgs) -> Result<Client, CliError> {
    Ok(Client::connect_with(&g.endpoint, client_options(g)?).await?)
}

fn completions(a: CompletionsArgs) -> Result<u8, CliError> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "kindred", &mut buf);
    output::write_stdout(&buf)?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests;
