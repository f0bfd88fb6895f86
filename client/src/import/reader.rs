//! Reading input files into [`Row`]s: CSV (with a header) and JSON Lines,
//! turned into records by a column [`Mapping`] (or into events by an
//! [`EventMapping`]: any [`RowMapper`]).
//!
//! Readers never stop at a bad row: a row that cannot be parsed or mapped
//! becomes a [`Row::Reject`] carrying its line number. Only a failure to
//! read the input at all ends the iteration with an error.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::Path;

use kindred_proto::event_mapping::EventMapping;
use kindred_proto::mapping::{header_index, Mapping, MappingError, RowError};
use kindred_proto::v1::{Event, Record};

use super::framing::{read_line_bounded, CsvFramer, Frame, MAX_ROW_BYTES};
use super::Reject;
use crate::ClientError;

/// Turns input rows into the items an import sends.
pub trait RowMapper: Send + 'static {
    type Item: Send + 'static;
    /// Checks that every mapped column exists among a CSV header's names.
    fn check_columns(&self, headers: &[String]) -> Result<(), MappingError>;
    /// The item of a CSV row.
    fn csv_item(
        &self,
        header: &HashMap<String, usize>,
        row: &csv::StringRecord,
        source: &str,
    ) -> Result<Self::Item, RowError>;
    /// The item of a JSON Lines object.
    fn json_item(&self, obj: &serde_json::Value, source: &str) -> Result<Self::Item, RowError>;
}

impl RowMapper for Mapping {
    type Item = Record;
    fn check_columns(&self, headers: &[String]) -> Result<(), MappingError> {
        Mapping::check_columns(self, headers)
    }
    fn csv_item(
        &self,
        header: &HashMap<String, usize>,
        row: &csv::StringRecord,
        source: &str,
    ) -> Result<Record, RowError> {
        self.csv_record(header, row, source)
    }
    fn json_item(&self, obj: &serde_json::Value, source: &str) -> Result<Record, RowError> {
        self.json_record(obj, source)
    }
}

impl RowMapper for EventMapping {
    type Item = Event;
    fn check_columns(&self, headers: &[String]) -> Result<(), MappingError> {
        EventMapping::check_columns(self, headers)
    }
    fn csv_item(
        &self,
        header: &HashMap<String, usize>,
        row: &csv::StringRecord,
        source: &str,
    ) -> Result<Event, RowError> {
        self.csv_event(header, row, source)
    }
    fn json_item(&self, obj: &serde_json::Value, source: &str) -> Result<Event, RowError> {
        self.json_event(obj, source)
    }
}

/// One input row: an item (a record, or an event) for the server, or a
/// row rejected locally.
// Most rows are items, moved once into a batch: boxing them would only
// add an allocation per row.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Row<T = Record> {
    /// A mapped item and the input line it starts on (1-based).
    Item {
        /// Input line number.
        line: u64,
        /// The mapped item.
        item: T,
    },
    /// A row that cannot be sent.
    Reject(Reject),
}

/// The format of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl InputFormat {
    /// The format given, else the one the file name suggests: `.jsonl` and
    /// `.ndjson` are JSON Lines, anything else CSV.
    pub fn detect(path: &Path, given: Option<InputFormat>) -> InputFormat {
        if let Some(f) = given {
            return f;
        }
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("jsonl" | "ndjson") => InputFormat::Jsonl,
            _ => InputFormat::Csv,
        }
    }
}

/// A boxed row iterator, as the import pipeline takes it.
pub type Rows<T = Record> = Box<dyn Iterator<Item = Result<Row<T>, ClientError>> + Send>;

/// Opens rows of `input` in `format`. For CSV the header is read and
/// checked against the mapping here (an error is invalid input).
pub fn open_rows<R: Read + Send + 'static, M: RowMapper>(
    input: R,
    format: InputFormat,
    mapping: M,
    default_source: &str,
) -> Result<Rows<M::Item>, ClientError> {
    Ok(match format {
        InputFormat::Csv => Box::new(CsvRows::new(input, mapping, default_source)?),
        InputFormat::Jsonl => Box::new(JsonlRows::new(
            std::io::BufReader::new(input),
            mapping,
            default_source,
        )),
    })
}

/// Rows of a CSV file. Fields and header names are trimmed of whitespace
/// (Febrl files put a space after each comma). Rows are cut by
/// [`CsvFramer`], so an oversized row or an unbalanced quote is one
/// rejected row.
pub struct CsvRows<R: Read, M = Mapping> {
    framer: CsvFramer<std::io::BufReader<R>>,
    header: HashMap<String, usize>,
    mapping: M,
    source: String,
    done: bool,
}

impl<R: Read, M: RowMapper> CsvRows<R, M> {
    /// Reads the header and checks that every mapped column exists.
    pub fn new(input: R, mapping: M, default_source: &str) -> Result<Self, ClientError> {
        let mut framer = CsvFramer::new(std::io::BufReader::new(input));
        let unreadable = |reason: String| {
            ClientError::InvalidInput(format!("cannot read the CSV header: {reason}"))
        };
        let headers = match framer.next_frame().map_err(|e| unreadable(e.to_string()))? {
            Some(Frame::Row { record, .. }) => record,
            Some(Frame::Bad { reason, .. }) => return Err(unreadable(reason)),
            None => return Err(unreadable("the input is empty".into())),
        };
        framer.width = Some(headers.len());
        let names = kindred_proto::mapping::header_names(&headers);
        mapping
            .check_columns(&names)
            .map_err(|e| ClientError::InvalidInput(e.to_string()))?;
        let mut header = header_index(&headers);
        // A byte-order mark may cling to the first column name.
        if let Some(first) = names.first() {
            header.insert(first.clone(), 0);
        }
        Ok(CsvRows {
            framer,
            header,
            mapping,
            source: default_source.to_string(),
            done: false,
        })
    }
}

impl<R: Read, M: RowMapper> Iterator for CsvRows<R, M> {
    type Item = Result<Row<M::Item>, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.framer.next_frame() {
            Ok(None) => {
                self.done = true;
                None
            }
            Ok(Some(Frame::Row { line, record })) => Some(Ok(
                match self.mapping.csv_item(&self.header, &record, &self.source) {
                    Ok(item) => Row::Item { line, item },
                    Err(e) => Row::Reject(Reject::new(line, &e.field, "", &e.reason)),
                },
            )),
            Ok(Some(Frame::Bad { line, reason })) => {
                Some(Ok(Row::Reject(Reject::new(line, "(row)", "", &reason))))
            }
            Err(e) => {
                self.done = true;
                Some(Err(ClientError::InvalidInput(format!(
                    "cannot read the input: {e}"
                ))))
            }
        }
    }
}

/// Rows of a JSON Lines file: one object per line; blank lines are skipped.
pub struct JsonlRows<R: BufRead, M = Mapping> {
    input: R,
    mapping: M,
    source: String,
    line: u64,
    done: bool,
}

impl<R: BufRead, M: RowMapper> JsonlRows<R, M> {
    /// Reads JSON Lines from `input`.
    pub fn new(input: R, mapping: M, default_source: &str) -> Self {
        JsonlRows {
            input,
            mapping,
            source: default_source.to_string(),
            line: 0,
            done: false,
        }
    }

    fn parse(&self, bytes: &[u8]) -> Option<Row<M::Item>> {
        let line = self.line;
        let reject = |reason: String| Some(Row::Reject(Reject::new(line, "(row)", "", &reason)));
        let Ok(text) = std::str::from_utf8(bytes) else {
            return reject("row is not valid UTF-8".into());
        };
        let text = text.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            return None;
        }
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return reject(format!("invalid JSON: {e}")),
        };
        Some(match self.mapping.json_item(&value, &self.source) {
            Ok(item) => Row::Item { line, item },
            Err(e) => Row::Reject(Reject::new(line, &e.field, "", &e.reason)),
        })
    }
}

impl<R: BufRead, M: RowMapper> Iterator for JsonlRows<R, M> {
    type Item = Result<Row<M::Item>, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match read_line_bounded(&mut self.input, MAX_ROW_BYTES) {
                Ok(None) => self.done = true,
                Ok(Some(Err(len))) => {
                    self.line += 1;
                    let reason = format!("row is {len} bytes, longer than {MAX_ROW_BYTES}");
                    return Some(Ok(Row::Reject(Reject::new(
                        self.line, "(row)", "", &reason,
                    ))));
                }
                Ok(Some(Ok(bytes))) => {
                    self.line += 1;
                    if let Some(row) = self.parse(&bytes) {
                        return Some(Ok(row));
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(ClientError::InvalidInput(format!(
                        "cannot read the input: {e}"
                    ))));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"
record_id = "rec_id"
[fields]
given_name = "given_name"
family_name = "surname"
date_of_birth = { column = "dob", formats = ["%Y%m%d"] }
"#;

    fn mapping() -> Mapping {
        Mapping::from_toml(MAPPING).unwrap()
    }

    fn collect(rows: impl Iterator<Item = Result<Row, ClientError>>) -> Vec<Row> {
        rows.map(|r| r.unwrap()).collect()
    }

    #[test]
    fn csv_rows_are_trimmed_and_numbered_by_line() {
        let data = "rec_id, given_name, surname, dob\n\
                    a-1, mitchell , green, 19560409\n\
                    a-2, sarah, white, 19700101\n";
        let rows = collect(CsvRows::new(data.as_bytes(), mapping(), "febrl").unwrap());
        assert_eq!(rows.len(), 2);
        let Row::Item { line, item: record } = &rows[0] else {
            panic!("{rows:?}")
        };
        assert_eq!(*line, 2);
        assert_eq!(record.source, "febrl");
        assert_eq!(record.record_id, "a-1");
        assert_eq!(record.name.as_ref().unwrap().given, "mitchell");
        assert!(matches!(rows[1], Row::Item { line: 3, .. }));
    }

    #[test]
    fn missing_columns_fail_before_any_row() {
        let data = "rec_id,given_name\n1,bob\n";
        let err = CsvRows::new(data.as_bytes(), mapping(), "s").err().unwrap();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("surname"), "{err}");
    }

    #[test]
    fn bad_csv_rows_become_rejects_and_reading_goes_on() {
        let data = "rec_id,given_name,surname,dob\n\
                    1,ann,lee,19800101\n\
                    2,too,many,fields,here\n\
                    ,no,id,19800101\n\
                    4,bo,kim,19810101\n";
        let rows = collect(CsvRows::new(data.as_bytes(), mapping(), "s").unwrap());
        assert_eq!(rows.len(), 4);
        assert!(matches!(rows[0], Row::Item { line: 2, .. }));
        match &rows[1] {
            Row::Reject(r) => {
                assert_eq!((r.line, r.field.as_str()), (3, "(row)"));
                assert!(r.reason.contains("5 fields"), "{}", r.reason);
            }
            other => panic!("{other:?}"),
        }
        match &rows[2] {
            Row::Reject(r) => assert_eq!((r.line, r.field.as_str()), (4, "record_id")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(rows[3], Row::Item { line: 5, .. }));
    }

    #[test]
    fn invalid_utf8_is_a_rejected_row() {
        let mut data = b"rec_id,given_name,surname,dob\n1,a\xff,b,1\n2,c,d,2\n".to_vec();
        data.extend_from_slice(b"");
        let rows = collect(CsvRows::new(&data[..], mapping(), "s").unwrap());
        assert!(matches!(&rows[0], Row::Reject(r) if r.line == 2 && r.reason.contains("UTF-8")));
        assert!(matches!(rows[1], Row::Item { line: 3, .. }));
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_the_first_column() {
        let data = "\u{feff}rec_id,given_name,surname,dob\n1,a,b,c\n";
        let rows = collect(CsvRows::new(data.as_bytes(), mapping(), "s").unwrap());
        assert!(matches!(&rows[0], Row::Item { item: record, .. } if record.record_id == "1"));
    }

    #[test]
    fn quoted_multiline_rows_keep_their_starting_line() {
        let data = "rec_id,given_name,surname,dob\n\"1\",\"two\nlines\",x,y\n2,a,b,c\n";
        let rows = collect(CsvRows::new(data.as_bytes(), mapping(), "s").unwrap());
        assert!(matches!(rows[0], Row::Item { line: 2, .. }));
        assert!(matches!(rows[1], Row::Item { line: 4, .. }));
    }

    #[test]
    fn jsonl_rows_skip_blank_lines_and_reject_bad_json() {
        let data = "{\"rec_id\": \"1\", \"given_name\": \"ann\"}\n\
                    \n\
                    not json\n\
                    [1, 2]\n\
                    {\"given_name\": \"no id\"}\n\
                    {\"rec_id\": 6, \"surname\": \"lee\"}";
        let rows = collect(JsonlRows::new(data.as_bytes(), mapping(), "web"));
        assert_eq!(rows.len(), 5);
        assert!(matches!(&rows[0], Row::Item { line: 1, item: record } if record.source == "web"));
        assert!(
            matches!(&rows[1], Row::Reject(r) if r.line == 3 && r.reason.starts_with("invalid JSON"))
        );
        assert!(matches!(&rows[2], Row::Reject(r) if r.line == 4));
        assert!(matches!(&rows[3], Row::Reject(r) if r.line == 5 && r.field == "record_id"));
        assert!(matches!(&rows[4], Row::Item { line: 6, item: record } if record.record_id == "6"));
    }

    #[test]
    fn format_detection() {
        let p = |s: &str| Path::new(s).to_path_buf();
        assert_eq!(InputFormat::detect(&p("a.csv"), None), InputFormat::Csv);
        assert_eq!(InputFormat::detect(&p("a.JSONL"), None), InputFormat::Jsonl);
        assert_eq!(
            InputFormat::detect(&p("a.ndjson"), None),
            InputFormat::Jsonl
        );
        assert_eq!(InputFormat::detect(&p("a.txt"), None), InputFormat::Csv);
        assert_eq!(
            InputFormat::detect(&p("a.csv"), Some(InputFormat::Jsonl)),
            InputFormat::Jsonl
        );
    }
}
