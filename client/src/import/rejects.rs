//! Rejected rows and the rejects file (`line,field,value,reason`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// Input line the row starts on (1-based; 0 if unknown).
    pub line: u64,
    /// The field at fault, `(row)` for an unreadable row, `(record)` when
    /// the server named no field.
    pub field: String,
    /// The offending value, when known.
    pub value: String,
    /// Why the row was rejected.
    pub reason: String,
}

impl Reject {
    /// A reject.
    pub fn new(line: u64, field: &str, value: &str, reason: &str) -> Self {
        Reject {
            line,
            field: field.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl std::fmt::Display for Reject {
    /// `line N: field: reason`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// The default rejects file of an input: `<FILE>.rejects.csv`.
pub fn default_rejects_path(input: &Path) -> PathBuf {
    let mut s = input.as_os_str().to_os_string();
    s.push(".rejects.csv");
    PathBuf::from(s)
}

/// Writes rejects as CSV with header `line,field,value,reason`.
pub fn write_rejects(out: impl Write, rejects: &[Reject]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["line", "field", "value", "reason"])?;
    for r in rejects {
        w.write_record([r.line.to_string().as_str(), &r.field, &r.value, &r.reason])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_file_has_the_header_and_quotes_as_needed() {
        let rejects = vec![
            Reject::new(3, "record_id", "", "column \"rec_id\" is empty"),
            Reject::new(9, "email", "a,b@", "not an email"),
        ];
        let mut buf = Vec::new();
        write_rejects(&mut buf, &rejects).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "line,field,value,reason\n\
             3,record_id,,\"column \"\"rec_id\"\" is empty\"\n\
             9,email,\"a,b@\",not an email\n"
        );
    }

    #[test]
    fn reject_display_and_default_path() {
        let r = Reject::new(12, "date_of_birth", "x", "cannot read");
        assert_eq!(r.to_string(), "line 12: date_of_birth: cannot read");
        assert_eq!(
            default_rejects_path(Path::new("/d/people.csv")),
            PathBuf::from("/d/people.csv.rejects.csv")
        );
    }
}
