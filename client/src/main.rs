//! `kindred`: the command-line client of a Kindred entity-resolution
//! cluster. See `kindred --help`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit 2, --help and --version exit 0 (clap's codes).
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(kindred_client::exit::SERVER);
        }
    };
    let result = runtime.block_on(cli::run(args));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if !e.message.is_empty() {
                eprintln!("error: {}", cli::output::visible(&e.message));
            }
            ExitCode::from(e.code)
        }
    }
}
