//! Writing results to stdout as tables or JSON.

use std::io::Write;

use serde::Serialize;

use super::CliError;
use kindred_client::exit;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable tables.
    Table,
    /// The API's messages as JSON.
    Json,
}

/// Prints results in the chosen format.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// The chosen format.
    pub format: OutputFormat,
}

impl Output {
    /// An output in `format`.
    pub fn new(format: OutputFormat) -> Self {
        Output { format }
    }

    /// Prints `value` as pretty JSON, or the text `table` builds.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        table: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        let text = self.render(value, table)?;
        print(&text)
    }

    /// The text [`Output::emit`] prints.
    pub fn render<T: Serialize>(
        &self,
        value: &T,
        table: impl FnOnce() -> String,
    ) -> Result<String, CliError> {
        match self.format {
            OutputFormat::Json => to_json(value),
            OutputFormat::Table => Ok(table()),
        }
    }
}

/// Pretty JSON of a value.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failure(format!("cannot encode the result as JSON: {e}")))
}

/// Prints `text` and a newline to stdout.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut buf = Vec::with_capacity(text.len() + 1);
    buf.extend_from_slice(text.as_bytes());
    if !text.ends_with('\n') {
        buf.push(b'\n');
    }
    write_stdout(&buf)
}

/// Writes bytes to stdout.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| write_error(&e, "stdout"))
}

/// The error for a failed write: quiet success when the reader of a pipe
/// went away, else a failure naming `what`.
pub fn write_error(e: &std::io::Error, what: &str) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::quiet(exit::OK)
    } else {
        CliError::failure(format!("cannot write to {what}: {e}"))
    }
}
