//! `kindred import`: the command around [`kindred_client::import`] —
//! argument checks, progress bar, summary, rejects and exit code.

use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use kindred_client::import::{
    default_rejects_path, open_rows, run_import, write_rejects, ImportOptions, ImportReport,
    ImportSummary, InputFormat, Reject, Rows,
};
use kindred_client::{exit, ClientError};
use kindred_proto::mapping::Mapping;
use serde::Serialize;

use super::{connect, render, CliError, GlobalArgs, Output};

/// How many rejected rows are printed; more go to the rejects file.
pub const SHOWN_REJECTS: usize = 10;

/// Arguments of `kindred import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The CSV or JSON Lines file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Source system of the records (unless the mapping names a source
    /// column or a default source).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// The TOML column mapping.
    #[arg(long, value_name = "MAPPING.toml")]
    pub mapping: PathBuf,
    /// Records per batch sent to the server.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
    /// Input format (default: from the extension; .jsonl / .ndjson are
    /// JSON Lines, anything else CSV).
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
    /// Where to write rejected rows when there are more than 10
    /// (default: FILE.rejects.csv).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Do not show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// The JSON view of an import's outcome.
#[derive(Debug, Serialize)]
struct ImportJson<'a> {
    #[serde(flatten)]
    summary: &'a ImportSummary,
    /// The first rejected rows.
    rejects: &'a [Reject],
    /// Where all rejected rows were written, if they were.
    rejects_file: Option<String>,
    /// Why the import stopped early, if it did.
    error: Option<String>,
}

/// Reads and checks the mapping and opens the input: everything that can
/// be wrong before a server is involved (all exit 2).
pub fn prepare(a: &ImportArgs) -> Result<Rows, CliError> {
    let text = std::fs::read_to_string(&a.mapping).map_err(|e| {
        CliError::input(format!(
            "cannot read mapping file {}: {e}",
            a.mapping.display()
        ))
    })?;
    let mapping = Mapping::from_toml(&text)
        .map_err(|e| CliError::input(format!("mapping file {}: {e}", a.mapping.display())))?;
    let source = a.source.as_deref().map(str::trim).unwrap_or_default();
    if source.is_empty() && mapping.source.is_none() && mapping.defaults.source.is_none() {
        return Err(CliError::input(
            "no source: pass --source NAME, or map a source column in the mapping",
        ));
    }
    let file = File::open(&a.file)
        .map_err(|e| CliError::input(format!("cannot open {}: {e}", a.file.display())))?;
    let format = InputFormat::detect(&a.file, a.format);
    open_rows(file, format, mapping, source)
        .map_err(|e| CliError::input(format!("{}: {e}", a.file.display())))
}

/// `kindred import`.
pub async fn run(g: &GlobalArgs, out: &Output, a: ImportArgs) -> Result<u8, CliError> {
    let rows = prepare(&a)?;
    let client = connect(g).await?;
    let progress = progress_bar(a.no_progress, "records");
    let options = ImportOptions {
        batch_size: a.batch_size as usize,
        ..ImportOptions::default()
    };
    let report = run_import(rows, &options, progress.clone(), |reqs| {
        client.bulk_upsert(reqs)
    })
    .await;
    progress.finish_and_clear();
    finish(out, &a.file, a.rejects.as_deref(), &report)
}

/// Writes the rejects file if needed, prints the outcome and picks the
/// exit code.
fn finish(
    out: &Output,
    input: &Path,
    rejects_path: Option<&Path>,
    report: &ImportReport,
) -> Result<u8, CliError> {
    let (rejects_file, rejects_error) = rejects_file(input, rejects_path, &report.rejects);
    let shown = &report.rejects[..report.rejects.len().min(SHOWN_REJECTS)];
    let failure = report.failure.as_ref().map(|f| f.to_string());
    let json = ImportJson {
        summary: &report.summary,
        rejects: shown,
        rejects_file: rejects_file.clone(),
        error: failure.clone(),
    };
    out.emit(&json, || {
        summary_text(
            &report.summary,
            shown,
            report.rejects.len(),
            rejects_file.as_deref(),
        )
    })?;
    if let Some(e) = rejects_error {
        eprintln!("error: {e}");
    }
    exit_code(report.failure.as_ref(), report.summary.rejected)
}

/// Writes every reject to the rejects file when there are more than are
/// shown: (the file written, or why it could not be).
pub(super) fn rejects_file(
    input: &Path,
    given: Option<&Path>,
    rejects: &[Reject],
) -> (Option<String>, Option<String>) {
    if rejects.len() <= SHOWN_REJECTS {
        return (None, None);
    }
    let path = given.map_or_else(|| default_rejects_path(input), Path::to_path_buf);
    match File::create(&path).and_then(|f| write_rejects(f, rejects)) {
        Ok(()) => (Some(path.display().to_string()), None),
        Err(e) => (
            None,
            Some(format!(
                "cannot write the rejects file {}: {e}",
                path.display()
            )),
        ),
    }
}

/// The exit of an import: its failure, else 4 when rows were rejected.
pub(super) fn exit_code(failure: Option<&ClientError>, rejected: u64) -> Result<u8, CliError> {
    if let Some(f) = failure {
        // A stream the server (or the network) broke is a server error,
        // whatever its status; an unreadable input is invalid input.
        let code = match f {
            ClientError::InvalidInput(_) => exit::INVALID_INPUT,
            _ => exit::SERVER,
        };
        return Err(CliError {
            code,
            message: format!("import stopped: {f}"),
        });
    }
    Ok(if rejected > 0 {
        exit::REJECTED_ROWS
    } else {
        exit::OK
    })
}

/// The table view: the summary, the first rejects, the rejects file.
fn summary_text(
    s: &ImportSummary,
    shown: &[Reject],
    total_rejects: usize,
    rejects_file: Option<&str>,
) -> String {
    let table = render::kv_table(&[
        ("records read", s.records_read.to_string()),
        ("accepted", s.accepted.to_string()),
        ("rejected", s.rejected.to_string()),
        ("entities created", s.entities_created.to_string()),
        ("joined", s.joined.to_string()),
        ("merged", s.merged.to_string()),
        ("entities absorbed", s.entities_absorbed.to_string()),
        ("records replaced", s.records_replaced.to_string()),
        (
            "standardization issues",
            s.standardization_issues.to_string(),
        ),
        ("elapsed seconds", format!("{:.2}", s.elapsed_seconds)),
        ("records/s", format!("{:.0}", s.records_per_second)),
    ]);
    let mut text = table.to_string();
    if !shown.is_empty() {
        if total_rejects > shown.len() {
            text.push_str(&format!(
                "\n\nRejected rows (first {} of {total_rejects}):",
                shown.len()
            ));
        } else {
            text.push_str("\n\nRejected rows:");
        }
        for r in shown {
            text.push_str(&format!("\n{r}"));
        }
    }
    if let Some(path) = rejects_file {
        text.push_str(&format!(
            "\n\nAll {total_rejects} rejected rows were written to {path}"
        ));
    }
    text
}

/// A progress bar on stderr, hidden when asked or when stderr is not a
/// terminal.
pub(super) fn progress_bar(disabled: bool, unit: &'static str) -> ProgressBar {
    if disabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    let template = format!("{{spinner}} {{human_pos}} {unit}  {{rate}}  {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        pb.set_style(style.with_key(
            "rate",
            move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} {unit}/s", state.per_sec());
            },
        ));
    }
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

#[cfg(test)]
mod tests;
