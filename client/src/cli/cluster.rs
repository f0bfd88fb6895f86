//! `kindred cluster`: status, membership and partition placement.
//!
//! Any node answers; changes are forwarded to the Raft leader and return
//! once committed and applied. Changes stream partition data and can take
//! minutes, so they are bounded by `--change-timeout`, not `--timeout`.

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use kindred_client::client::DEFAULT_CHANGE_TIMEOUT;
use kindred_client::v1::ClusterChange;
use kindred_client::{exit, Client, ClientError};

use super::{client_options, render, CliError, GlobalArgs, Output};

/// Arguments of `kindred cluster`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Deadline of a change (add-node, remove-node, move-partition,
    /// rebalance), in seconds (0: none).
    #[arg(
        long,
        global = true,
        default_value_t = DEFAULT_CHANGE_TIMEOUT.as_secs(),
        value_name = "SECS"
    )]
    pub change_timeout: u64,
    #[command(subcommand)]
    pub command: ClusterCommand,
}

/// `kindred cluster` subcommands.
#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum ClusterCommand {
    /// Show the nodes, their Raft state, and the partition map.
    Status,
    /// Add a node (started with `--join`) as a voting member; it owns no
    /// partitions until a move or a rebalance.
    AddNode {
        /// The new node's id.
        #[arg(value_name = "ID", value_parser = node_id())]
        id: u64,
        /// Its address as host:port (e.g. kindred-3.kindred:7000).
        #[arg(value_name = "ADDRESS")]
        address: String,
    },
    /// Drain a node (move its partitions to the others), then remove it.
    RemoveNode {
        /// The node's id.
        #[arg(value_name = "ID", value_parser = node_id())]
        id: u64,
    },
    /// Move one partition to another node (it keeps serving meanwhile).
    MovePartition {
        /// The partition.
        #[arg(value_name = "PARTITION")]
        partition: u32,
        /// The node to move it to.
        #[arg(long, value_name = "NODE", value_parser = node_id())]
        to: u64,
    },
    /// Move partitions until every active node owns an equal share (±1).
    Rebalance {
        /// Only show the moves that would be made.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Node ids start at 1 (0 means "no node").
fn node_id() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(1..)
}

/// `kindred cluster ...`.
pub async fn run(g: &GlobalArgs, out: &Output, a: ClusterArgs) -> Result<u8, CliError> {
    if let ClusterCommand::AddNode { address, .. } = &a.command {
        check_address(address)?;
    }
    let mut options = client_options(g)?;
    options.change_timeout = (a.change_timeout > 0).then(|| Duration::from_secs(a.change_timeout));
    let client = Client::connect_with(&g.endpoint, options).await?;
    match a.command {
        ClusterCommand::Status => {
            let s = client.cluster_status().await?;
            out.emit_message(&s, || render::cluster_status(&s))?;
            Ok(exit::OK)
        }
        ClusterCommand::AddNode { id, address } => {
            let what = format!("adding node {id} at {address}");
            change(out, what, false, client.add_node(id, &address)).await
        }
        ClusterCommand::RemoveNode { id } => {
            let what = format!("draining and removing node {id}");
            change(out, what, false, client.remove_node(id)).await
        }
        ClusterCommand::MovePartition { partition, to } => {
            let what = format!("moving partition {partition} to node {to}");
            change(out, what, false, client.move_partition(partition, to)).await
        }
        ClusterCommand::Rebalance { dry_run } => {
            let what = if dry_run {
                "planning a rebalance"
            } else {
                "rebalancing"
            };
            change(out, what.to_string(), dry_run, client.rebalance(dry_run)).await
        }
    }
}

/// Runs a change with a spinner naming it (`what`), then prints the moves,
/// the server's message and the short status.
async fn change(
    out: &Output,
    what: String,
    dry_run: bool,
    call: impl Future<Output = Result<ClusterChange, ClientError>>,
) -> Result<u8, CliError> {
    let spinner = spinner(out, what);
    let result = call.await;
    spinner.finish_and_clear();
    let c = result?;
    out.emit_message(&c, || render::cluster_change(&c, dry_run))?;
    Ok(exit::OK)
}

/// Checks that a node address is `host:port` (no scheme, a numeric port).
pub fn check_address(address: &str) -> Result<(), ClientError> {
    let bad = |why: &str| {
        Err(ClientError::InvalidInput(format!(
            "node address {address:?} {why} (expected host:port, e.g. kindred-3.kindred:7000)"
        )))
    };
    if address.contains("://") {
        return bad("has a scheme");
    }
    match address.rsplit_once(':') {
        None => bad("has no port"),
        Some((host, _)) if host.trim().is_empty() => bad("has no host"),
        Some((_, port)) if port.parse::<u16>().map_or(true, |p| p == 0) => {
            bad("has an invalid port")
        }
        Some(_) if address.chars().any(char::is_whitespace) => bad("contains spaces"),
        Some(_) => Ok(()),
    }
}

/// A spinner on stderr while a change runs; hidden for JSON output and
/// when stderr is not a terminal.
fn spinner(out: &Output, message: String) -> ProgressBar {
    if out.format != super::OutputFormat::Table || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}  {elapsed}") {
        pb.set_style(style);
    }
    pb.set_message(message);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses_are_host_and_port() {
        for ok in [
            "kindred-3.kindred.default.svc:7000",
            "10.0.0.3:7000",
            "[::1]:7000",
        ] {
            assert!(check_address(ok).is_ok(), "{ok}");
        }
        for bad in [
            "kindred-3",
            ":7000",
            "host:",
            "host:port",
            "host:0",
            "host:70000",
            "http://host:7000",
            "my host:7000",
            "",
        ] {
            let e = check_address(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().contains("host:port"), "{e}");
        }
    }
}
