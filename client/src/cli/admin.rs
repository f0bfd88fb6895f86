//! `kindred stats`, `kindred train` and `kindred model`.

use kindred_client::exit;

use super::output::print;
use super::{connect, render, CliError, GlobalArgs, Output};

/// Arguments of `kindred train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Train on at most this many records (0: the server's default).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_records: u32,
    /// Estimate the model but do not apply it.
    #[arg(long)]
    pub dry_run: bool,
}

/// `kindred stats`.
pub async fn stats(g: &GlobalArgs, out: &Output) -> Result<u8, CliError> {
    let s = connect(g).await?.stats().await?;
    out.emit(&s, || render::stats(&s))?;
    Ok(exit::OK)
}

/// `kindred train`: prints the model version, records used and seconds
/// (the JSON output is the whole TrainResponse, model included).
pub async fn train(g: &GlobalArgs, out: &Output, a: TrainArgs) -> Result<u8, CliError> {
    let t = connect(g).await?.train(a.max_records, a.dry_run).await?;
    out.emit(&t, || render::train(&t, a.dry_run))?;
    Ok(exit::OK)
}

/// `kindred model`: prints the model JSON (pretty-printed when it parses)
/// in either output format.
pub async fn model(g: &GlobalArgs, _out: &Output) -> Result<u8, CliError> {
    let m = connect(g).await?.model().await?;
    print(&pretty_json(&m.model_json))?;
    Ok(exit::OK)
}

/// JSON text pretty-printed; unchanged when it does not parse.
fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_json_is_pretty_printed_when_valid() {
        assert_eq!(pretty_json("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty_json("not json"), "not json");
    }
}
