//! `kindred-node`: serves Kindred's gRPC API over one node's data.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use kindred_node::config::{Args, KeysTool, LogFormat, NodeConfig, Tool};
use kindred_node::observe::traces::Traces;
use kindred_node::privacy::Keyring;
use kindred_node::security::{auth, certs};

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Runs a helper subcommand.
fn run_tool(tool: &Tool) -> std::process::ExitCode {
    match tool {
        Tool::Token { name, role } => {
            let token = auth::new_token();
            println!("token: {token}");
            println!("{name} {} {}", role.as_str(), auth::token_hash(&token));
            std::process::ExitCode::SUCCESS
        }
        Tool::DevCerts { out, names } => match certs::write_dev_certs(out, names) {
            Ok(()) => {
                println!(
                    "wrote ca.pem and {} certificates to {}",
                    names.len(),
                    out.display()
                );
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::from(1)
            }
        },
        Tool::Keys(k) => {
            let done = match k {
                KeysTool::Generate { out } => Keyring::generate_file(out)
                    .map(|id| format!("wrote {} (master key {id})", out.display())),
                KeysTool::Rotate { from, out } => Keyring::rotate_file(from, out).map(|id| {
                    format!(
                        "wrote {} with the new master key {id} first; restart every node \
                         with it, then delete the old key lines",
                        out.display()
                    )
                }),
            };
            match done {
                Ok(msg) => {
                    println!("{msg}");
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::ExitCode::from(1)
                }
            }
        }
    }
}

/// Logs to stderr in the chosen format, and traces to OTLP when asked;
/// returns the trace exporter to shut down at exit.
fn init_logging(args: &Args, cfg: &NodeConfig) -> anyhow::Result<Option<Traces>> {
    let filter = EnvFilter::try_from_env("KINDRED_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Each output filters for itself: traces keep Kindred's spans whatever
    // KINDRED_LOG says, and never see the exporter's own transport events.
    let (traces, otel) = if cfg.otlp_endpoint.is_empty() {
        (None, None)
    } else {
        let (t, layer) = Traces::start(&cfg.otlp_endpoint, cfg.cluster.node_id)?;
        let spans = Targets::new().with_target("kindred_node", tracing::Level::INFO);
        (Some(t), Some(layer.with_filter(spans)))
    };
    let fmt = match args.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
        // Colour only for a person at a terminal, never into log files.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(otel)
        .with(fmt.with_filter(filter))
        .init();
    Ok(traces)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Some(tool) = &args.tool {
        return run_tool(tool);
    }
    let cfg = match NodeConfig::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    // The OTLP exporter's channel lives on the runtime.
    let traces = {
        let _in_runtime = rt.enter();
        match init_logging(&args, &cfg) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e:#}");
                return std::process::ExitCode::from(2);
            }
        }
    };
    let outcome = rt.block_on(kindred_node::server::run(cfg, shutdown_signal()));
    if let Some(t) = traces {
        let _in_runtime = rt.enter();
        t.shutdown();
    }
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "kindred-node failed");
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
