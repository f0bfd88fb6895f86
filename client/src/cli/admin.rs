//! `kindred stats`, `kindred train`, `kindred model` and `kindred audit`.

use kindred_client::{exit, ClientError};
use kindred_proto::mapping::parse_timestamp_ms;

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
    /// Install the model even if it fails the sanity checks.
    #[arg(long)]
    pub force: bool,
    /// Return once the model is installed, without waiting for the
    /// records to be re-resolved under it (the node keeps serving
    /// meanwhile; `kindred stats` shows how many are left).
    #[arg(long)]
    pub no_wait: bool,
}

/// `kindred audit ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuditCommand {
    /// List audit entries of every node (admin actions, denied calls).
    List(AuditListArgs),
}

/// Arguments of `kindred audit list`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditListArgs {
    /// From when: a duration back from now (30m, 12h, 7d), a date or
    /// date-time, or milliseconds since the epoch.
    #[arg(long, default_value = "24h", value_name = "WHEN")]
    pub since: String,
    /// Most entries shown.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub limit: u32,
}

/// Milliseconds since the epoch of a `--since` value, relative to `now_ms`.
pub fn since_ms(s: &str, now_ms: i64) -> Result<u64, ClientError> {
    let s = s.trim();
    let unit = |c: char| match c {
        's' => Some(1_000),
        'm' => Some(60_000),
        'h' => Some(3_600_000),
        'd' => Some(86_400_000),
        _ => None,
    };
    let relative = s
        .char_indices()
        .last()
        .and_then(|(i, c)| Some((s[..i].parse::<i64>().ok()?, unit(c)?)));
    let at = match relative {
        Some((n, ms)) if n >= 0 => now_ms.saturating_sub(n.saturating_mul(ms)),
        _ => parse_timestamp_ms(s, &[]).ok_or_else(|| {
            ClientError::InvalidInput(format!(
                "--since {s:?} is neither a duration (30m, 12h, 7d), a date nor milliseconds"
            ))
        })?,
    };
    Ok(at.max(0) as u64)
}

/// `kindred audit list`.
pub async fn audit(g: &GlobalArgs, out: &Output, c: AuditCommand) -> Result<u8, CliError> {
    let AuditCommand::List(a) = c;
    let now = chrono::Utc::now().timestamp_millis();
    let since = since_ms(&a.since, now)?;
    let r = connect(g).await?.list_audit(since, a.limit).await?;
    out.emit_message(&r, || render::audit(&r))?;
    Ok(exit::OK)
}

/// `kindred stats`.
pub async fn stats(g: &GlobalArgs, out: &Output) -> Result<u8, CliError> {
    let s = connect(g).await?.stats().await?;
    out.emit_message(&s, || render::stats(&s))?;
    Ok(exit::OK)
}

/// `kindred train`: prints the model version, records used and seconds
/// (the JSON output is the whole TrainResponse, model included).
pub async fn train(g: &GlobalArgs, out: &Output, a: TrainArgs) -> Result<u8, CliError> {
    let t = connect(g)
        .await?
        .train(a.max_records, a.dry_run, a.force)
        .await?;
    out.emit_message(&t, || render::train(&t))?;
    if t.implausible && !t.installed && !a.dry_run {
        return Err(CliError::failure(
            "the trained model is implausible and was not installed (see the warnings; \
             --force installs it anyway)",
        ));
    }
    if t.installed && !a.no_wait {
        wait_for_reresolution(g).await?;
    }
    Ok(exit::OK)
}

/// Waits until no record is left to re-resolve under the installed model,
/// saying on stderr how many are left now and then. Gives up when nothing
/// moves for a minute (a partition fenced for a move, or whose storage
/// failed, does not re-resolve).
async fn wait_for_reresolution(g: &GlobalArgs) -> Result<(), CliError> {
    let client = connect(g).await?;
    let mut said = std::time::Instant::now();
    let (mut last, mut moved) = (u64::MAX, std::time::Instant::now());
    loop {
        let left = client.model().await?.reresolving_records;
        if left == 0 {
            return Ok(());
        }
        if left != last {
            (last, moved) = (left, std::time::Instant::now());
        } else if moved.elapsed() >= std::time::Duration::from_secs(60) {
            return Err(CliError::failure(format!(
                "the model is installed, but re-resolving under it has not moved for a minute \
                 ({left} left): see the nodes' logs (a partition being moved or a storage \
                 failure holds it; it resumes on its own)"
            )));
        }
        if said.elapsed() >= std::time::Duration::from_secs(5) {
            eprintln!("re-resolving under the new model: {left} records left");
            said = std::time::Instant::now();
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
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
    fn since_takes_durations_dates_and_milliseconds() {
        let now = 1_700_000_000_000;
        assert_eq!(since_ms("2h", now).unwrap(), (now - 7_200_000) as u64);
        assert_eq!(since_ms("7d", now).unwrap(), (now - 7 * 86_400_000) as u64);
        assert_eq!(since_ms("1600000000000", now).unwrap(), 1_600_000_000_000);
        assert_eq!(since_ms("2024-01-02", now).unwrap(), 1_704_153_600_000);
        let e = since_ms("yesterday-ish", now).unwrap_err().to_string();
        assert!(e.contains("yesterday-ish"), "{e}");
    }

    #[test]
    fn model_json_is_pretty_printed_when_valid() {
        assert_eq!(pretty_json("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty_json("not json"), "not json");
    }
}
