//! Output: the CSV row being built, its serialisation (with the quoting
//! CSV needs), and a bounded shuffle buffer so that a person's records do
//! not sit next to each other in the file while memory stays bounded.

use std::io::Write;

use rand::Rng;

/// The record columns, in file order.
pub const COLUMNS: [&str; 18] = [
    "source",
    "record_id",
    "full_name",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "street",
    "locality",
    "region",
    "postcode",
    "country",
    "national_id",
    "loyalty_id",
    "customer_since",
    "last_purchase",
];

/// The ground-truth columns.
pub const TRUTH_COLUMNS: [&str; 3] = ["source", "record_id", "person_id"];

/// Column positions in [`Row::f`].
pub mod col {
    pub const SOURCE: usize = 0;
    pub const RECORD_ID: usize = 1;
    pub const FULL_NAME: usize = 2;
    pub const GIVEN: usize = 3;
    pub const FAMILY: usize = 4;
    pub const DOB: usize = 5;
    pub const GENDER: usize = 6;
    pub const EMAIL: usize = 7;
    pub const PHONE: usize = 8;
    pub const STREET: usize = 9;
    pub const LOCALITY: usize = 10;
    pub const REGION: usize = 11;
    pub const POSTCODE: usize = 12;
    pub const COUNTRY: usize = 13;
    pub const NATIONAL_ID: usize = 14;
    pub const LOYALTY_ID: usize = 15;
    pub const SINCE: usize = 16;
    pub const PURCHASE: usize = 17;
}

/// One record being built; fields are reused from record to record.
#[derive(Debug, Default, Clone)]
pub struct Row {
    pub f: [String; 18],
}

impl Row {
    /// Empties every field, keeping the allocations.
    pub fn clear(&mut self) {
        for s in &mut self.f {
            s.clear();
        }
    }

    /// Appends the row as one CSV line (with its newline) to `out`.
    pub fn write_csv(&self, out: &mut String) {
        for (i, field) in self.f.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_csv_field(out, field);
        }
        out.push('\n');
    }
}

/// Appends one CSV field, quoted when it holds a comma, quote or line break.
pub fn push_csv_field(out: &mut String, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push('"');
        for c in field.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Writes a header line.
pub fn write_header<W: Write>(w: &mut W, columns: &[&str]) -> std::io::Result<()> {
    let mut line = columns.join(",");
    line.push('\n');
    w.write_all(line.as_bytes())
}

/// One finished record: its CSV line and its ground-truth line.
#[derive(Debug, Default)]
pub struct Entry {
    pub line: String,
    pub truth: String,
}

/// Holds up to `capacity` entries and releases a random one for each new
/// one once full, so the output order is shuffled within a large window.
pub struct Shuffle {
    buf: Vec<Entry>,
    capacity: usize,
}

impl Shuffle {
    /// An empty buffer.
    pub fn new(capacity: usize) -> Self {
        Shuffle {
            buf: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    /// Adds an entry; when full, writes out a random held entry. Returns an
    /// entry whose allocations the caller can reuse.
    pub fn push<R: Rng, A: Write, B: Write>(
        &mut self,
        mut entry: Entry,
        rng: &mut R,
        records: &mut A,
        truth: &mut B,
    ) -> std::io::Result<Entry> {
        if self.buf.len() < self.capacity {
            self.buf.push(entry);
            return Ok(Entry::default());
        }
        let j = rng.gen_range(0..self.buf.len());
        std::mem::swap(&mut self.buf[j], &mut entry);
        records.write_all(entry.line.as_bytes())?;
        truth.write_all(entry.truth.as_bytes())?;
        entry.line.clear();
        entry.truth.clear();
        Ok(entry)
    }

    /// Writes out everything still held, in random order.
    pub fn finish<R: Rng, A: Write, B: Write>(
        &mut self,
        rng: &mut R,
        records: &mut A,
        truth: &mut B,
    ) -> std::io::Result<()> {
        let n = self.buf.len();
        for i in (1..n).rev() {
            let j = rng.gen_range(0..=i);
            self.buf.swap(i, j);
        }
        for e in self.buf.drain(..) {
            records.write_all(e.line.as_bytes())?;
            truth.write_all(e.truth.as_bytes())?;
        }
        Ok(())
    }
}
