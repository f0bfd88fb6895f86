//! `kindred export`: record → entity assignments as CSV, or profiles as
//! JSON Lines.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use futures::StreamExt;
use kindred_client::v1::{ExportChunk, Profile};
use kindred_client::{exit, ClientError};
use serde::Serialize;

use super::output::{proto_json_line, write_error, TerminalSafe};
use super::{connect, render, CliError, GlobalArgs, Output};

/// Header of the assignments CSV.
pub const ASSIGNMENT_HEADER: [&str; 3] = ["source", "record_id", "entity_id"];

/// Arguments of `kindred export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Export profiles, one JSON object per line, instead of assignments.
    #[arg(long)]
    pub profiles: bool,
    /// Only customers whose consent for PURPOSE is granted (an audience
    /// for that purpose; with --profiles).
    #[arg(long, value_name = "PURPOSE", requires = "profiles")]
    pub purpose: Option<String>,
}

/// What was exported (printed when writing to a file).
#[derive(Debug, Serialize)]
struct ExportSummary {
    kind: &'static str,
    exported: u64,
    out: String,
}

/// `kindred export`.
pub async fn run(g: &GlobalArgs, out: &Output, a: ExportArgs) -> Result<u8, CliError> {
    let client = connect(g).await?;
    let (mut w, target) = open_sink(a.out.as_deref())?;
    let (kind, exported) = if a.profiles {
        let mut stream = client
            .export_profiles(a.purpose.as_deref().unwrap_or_default())
            .await?;
        let mut n = 0u64;
        while let Some(p) = stream.next().await {
            let p = p.map_err(|s| stream_failed(s, n))?;
            write_profile(&mut w, &p).map_err(|e| write_error(&e, &target))?;
            n += 1;
        }
        ("profiles", n)
    } else {
        let mut stream = client.export_assignments(0).await?;
        let mut csv = csv::Writer::from_writer(&mut w);
        csv.write_record(ASSIGNMENT_HEADER)
            .map_err(|e| csv_write_error(e, &target))?;
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|s| stream_failed(s, n))?;
            n += write_assignments(&mut csv, &chunk).map_err(|e| csv_write_error(e, &target))?;
        }
        csv.flush().map_err(|e| write_error(&e, &target))?;
        ("assignments", n)
    };
    w.flush().map_err(|e| write_error(&e, &target))?;
    if a.out.is_some() {
        let summary = ExportSummary {
            kind,
            exported,
            out: target.clone(),
        };
        out.emit(&summary, || {
            render::kv_table(&[
                ("exported", format!("{exported} {kind}")),
                ("to", target.clone()),
            ])
            .to_string()
        })?;
    }
    Ok(exit::OK)
}

/// Where an export writes: FILE, or stdout (made safe for a terminal),
/// buffered; with its name for messages.
pub(super) fn open_sink(
    out: Option<&std::path::Path>,
) -> Result<(BufWriter<Box<dyn Write>>, String), CliError> {
    let (sink, target): (Box<dyn Write>, String) = match out {
        Some(path) => {
            let f = File::create(path)
                .map_err(|e| CliError::input(format!("cannot create {}: {e}", path.display())))?;
            (Box::new(f), path.display().to_string())
        }
        // Stored data may carry escape sequences: never let them reach a
        // terminal (a pipe or file gets the data unchanged).
        None if std::io::stdout().is_terminal() => (
            Box::new(TerminalSafe::new(std::io::stdout())),
            "stdout".to_string(),
        ),
        None => (Box::new(std::io::stdout()), "stdout".to_string()),
    };
    Ok((BufWriter::with_capacity(1 << 16, sink), target))
}

/// Writes one chunk's rows; returns how many.
fn write_assignments<W: Write>(csv: &mut csv::Writer<W>, chunk: &ExportChunk) -> csv::Result<u64> {
    for a in &chunk.assignments {
        let (source, id) = a
            .record
            .as_ref()
            .map_or(("", ""), |r| (r.source.as_str(), r.record_id.as_str()));
        csv.write_record([source, id, a.entity_id.to_string().as_str()])?;
    }
    Ok(chunk.assignments.len() as u64)
}

/// Writes a profile as one line of JSON, in the proto3 JSON mapping (as
/// `--output json` prints it).
fn write_profile(w: &mut impl Write, p: &Profile) -> std::io::Result<()> {
    let line = proto_json_line(p).map_err(|e| std::io::Error::other(e.message))?;
    w.write_all(line.as_bytes())?;
    w.write_all(b"\n")
}

fn csv_write_error(e: csv::Error, target: &str) -> CliError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => write_error(&io, target),
        other => CliError::failure(format!("cannot write to {target}: {other:?}")),
    }
}

pub(super) fn stream_failed(status: tonic::Status, done: u64) -> CliError {
    let e = ClientError::from(status);
    CliError {
        code: e.exit_code(),
        message: format!("export failed after {done} rows: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_client::v1::{Assignment, RecordRef};

    #[test]
    fn assignments_csv_has_the_exact_header_and_rows_in_order() {
        let chunk = ExportChunk {
            assignments: vec![
                Assignment {
                    record: Some(RecordRef {
                        source: "crm".into(),
                        record_id: "a,1".into(),
                    }),
                    entity_id: 9,
                },
                Assignment {
                    record: Some(RecordRef {
                        source: "pos".into(),
                        record_id: "2".into(),
                    }),
                    entity_id: 3,
                },
            ],
        };
        let mut buf = Vec::new();
        {
            let mut csv = csv::Writer::from_writer(&mut buf);
            csv.write_record(ASSIGNMENT_HEADER).unwrap();
            assert_eq!(write_assignments(&mut csv, &chunk).unwrap(), 2);
        }
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "source,record_id,entity_id\ncrm,\"a,1\",9\npos,2,3\n"
        );
    }

    #[test]
    fn profiles_are_one_json_object_per_line() {
        let p = Profile {
            entity_id: 12,
            merged_ids: vec![3],
            ..Profile::default()
        };
        let mut buf = Vec::new();
        write_profile(&mut buf, &p).unwrap();
        write_profile(&mut buf, &p).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let back: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(
            back["entity_id"], "12",
            "proto3 JSON: 64-bit integers as strings"
        );
        assert_eq!(back["merged_ids"], serde_json::json!(["3"]));
        assert_eq!(
            back["records"],
            serde_json::json!([]),
            "defaults are printed"
        );
    }
}
