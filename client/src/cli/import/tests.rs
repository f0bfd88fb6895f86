//! Tests of `kindred import`'s local checks, rejects file and exit codes.

use std::io::Write;

use kindred_client::{import::Row, ClientError};
use tonic::Code;

use super::*;

const MAPPING: &str =
    "record_id = \"rec_id\"\n[fields]\ngiven_name = \"given_name\"\nfamily_name = \"surname\"\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap();
    p
}

fn args(file: PathBuf, mapping: PathBuf) -> ImportArgs {
    ImportArgs {
        file,
        source: Some("febrl".into()),
        mapping,
        batch_size: 500,
        format: None,
        rejects: None,
        no_progress: true,
    }
}

#[test]
fn prepare_reads_febrl_style_csv() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "people.csv",
        "rec_id, given_name, surname\nrec-1, ann , lee\n",
    );
    let mapping = write(dir.path(), "m.toml", MAPPING);
    let rows: Vec<_> = prepare(&args(file, mapping)).unwrap().collect();
    match &rows[..] {
        [Ok(Row::Item {
            line: 2,
            item: record,
        })] => {
            assert_eq!(record.source, "febrl");
            assert_eq!(record.name.as_ref().unwrap().given, "ann");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn local_problems_are_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "people.csv", "rec_id,given_name\n1,ann\n");
    let good = write(dir.path(), "m.toml", MAPPING);
    let bad_toml = write(dir.path(), "bad.toml", "record_id = [\n");
    let unknown = write(
        dir.path(),
        "unknown.toml",
        "record_id = \"rec_id\"\n[fields]\nshoe_size = \"x\"\n",
    );

    let e = prepare(&args(file.clone(), good.clone())).err().unwrap();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("\"surname\""), "{e}");

    for m in [bad_toml, unknown, dir.path().join("missing.toml")] {
        let e = prepare(&args(file.clone(), m)).err().unwrap();
        assert_eq!(e.code, 2, "{e}");
    }
    let e = prepare(&args(dir.path().join("nope.csv"), good.clone()))
        .err()
        .unwrap();
    assert_eq!(e.code, 2);

    let mut no_source = args(file, good);
    no_source.source = None;
    let e = prepare(&no_source).err().unwrap();
    assert!(e.message.contains("--source"), "{e}");
}

fn report(rejects: usize, failure: Option<ClientError>) -> ImportReport {
    let rejects: Vec<Reject> = (0..rejects as u64)
        .map(|i| Reject::new(i + 2, "email", "x@", "not an email"))
        .collect();
    ImportReport {
        summary: ImportSummary {
            records_read: 20,
            accepted: 20 - rejects.len() as u64,
            rejected: rejects.len() as u64,
            ..ImportSummary::default()
        },
        rejects,
        failure,
    }
}

#[test]
fn clean_import_exits_0_and_rejected_rows_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let out = Output::new(super::super::OutputFormat::Table);
    assert_eq!(finish(&out, &input, None, &report(0, None)), Ok(0));
    assert_eq!(finish(&out, &input, None, &report(3, None)), Ok(4));
    // Ten or fewer rejects: printed only, no file.
    assert!(!default_rejects_path(&input).exists());
}

#[test]
fn more_than_ten_rejects_go_to_the_rejects_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let out = Output::new(super::super::OutputFormat::Json);
    assert_eq!(finish(&out, &input, None, &report(12, None)), Ok(4));
    let text = std::fs::read_to_string(default_rejects_path(&input)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 13);
    assert_eq!(lines[0], "line,field,value,reason");
    assert_eq!(lines[1], "2,email,x@,not an email");
    assert_eq!(lines[12], "13,email,x@,not an email");

    let custom = dir.path().join("custom.csv");
    assert_eq!(
        finish(&out, &input, Some(&custom), &report(11, None)),
        Ok(4)
    );
    assert_eq!(
        std::fs::read_to_string(&custom).unwrap().lines().count(),
        12
    );
}

#[test]
fn a_failed_stream_exits_with_the_status_code() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let out = Output::new(super::super::OutputFormat::Table);
    let failure = ClientError::Status {
        code: Code::Unavailable,
        message: "node stopping".into(),
    };
    let e = finish(&out, &input, None, &report(1, Some(failure))).unwrap_err();
    assert_eq!(e.code, 1);
    assert_eq!(e.message, "import stopped: UNAVAILABLE: node stopping");

    // Even a stream-level INVALID_ARGUMENT is a server error for import.
    let failure = ClientError::Status {
        code: Code::InvalidArgument,
        message: "batch too large".into(),
    };
    let e = finish(&out, &input, None, &report(0, Some(failure))).unwrap_err();
    assert_eq!(e.code, 1);
    // An input that cannot be read is invalid input.
    let failure = ClientError::InvalidInput("cannot read the input: EIO".into());
    let e = finish(&out, &input, None, &report(0, Some(failure))).unwrap_err();
    assert_eq!(e.code, 2);
}

#[test]
fn summary_text_lists_the_first_rejects_and_the_file() {
    let r = report(12, None);
    let text = summary_text(&r.summary, &r.rejects[..10], 12, Some("/tmp/x.rejects.csv"));
    assert!(text.contains("records read"), "{text}");
    assert!(text.contains("Rejected rows (first 10 of 12):"), "{text}");
    assert!(text.contains("\nline 2: email: not an email"), "{text}");
    assert!(text.contains("\nline 11: email: not an email"), "{text}");
    assert!(!text.contains("line 12:"), "{text}");
    assert!(text.contains("All 12 rejected rows were written to /tmp/x.rejects.csv"));

    let r = report(2, None);
    let text = summary_text(&r.summary, &r.rejects, 2, None);
    assert!(
        text.contains("Rejected rows:\nline 2: email: not an email\nline 3:"),
        "{text}"
    );
}
