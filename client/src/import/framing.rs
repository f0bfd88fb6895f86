//! Cutting an input file into rows before parsing them, so that one bad
//! row costs only itself.
//!
//! Lines are read with a size bound: a 100 MB line is skipped (and
//! rejected) without being held in memory. A CSV row may span lines inside
//! a quoted field; a quote that never closes (or closes only after the
//! row has swallowed whole other rows, so its field count is wrong) makes
//! the row's first line a reject, and the lines after it are read again as
//! rows of their own.

use std::collections::VecDeque;
use std::io::BufRead;

/// Longest row accepted, in bytes.
pub const MAX_ROW_BYTES: usize = 1 << 20;
/// Most physical lines one quoted CSV row may span.
pub const MAX_ROW_LINES: usize = 1000;

/// One physical line: its bytes, or its length when over the bound.
pub type Line = Result<Vec<u8>, usize>;

/// Reads one line (with its `\n`) into a new buffer, or skips it if it is
/// longer than `limit` bytes and returns its length. `None` at the end.
pub fn read_line_bounded<R: BufRead>(input: &mut R, limit: usize) -> std::io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let mut len = 0usize;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            let line = if len > limit { Err(len) } else { Ok(buf) };
            return Ok((len > 0).then_some(line));
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if len + take <= limit {
            buf.extend_from_slice(&chunk[..take]);
        } else {
            buf = Vec::new();
        }
        len += take;
        input.consume(take);
        if done {
            return Ok(Some(if len > limit { Err(len) } else { Ok(buf) }));
        }
    }
}

/// A CSV row, or why its first line was rejected.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Row {
        line: u64,
        record: csv::StringRecord,
    },
    Bad {
        line: u64,
        reason: String,
    },
}

/// Splits CSV input into rows (see the module documentation).
pub struct CsvFramer<R: BufRead> {
    input: R,
    read: u64,
    /// Lines read but handed back to be scanned again.
    again: VecDeque<(u64, Line)>,
    /// Fields per row, once the header is known.
    pub width: Option<usize>,
}

fn odd_quotes(bytes: &[u8]) -> bool {
    bytes.iter().filter(|&&b| b == b'"').count() % 2 == 1
}

/// Parses one framed row.
fn parse_row(text: &[u8]) -> Result<csv::StringRecord, csv::Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .buffer_capacity(text.len().max(64))
        .from_reader(text);
    let mut rec = csv::StringRecord::new();
    rdr.read_record(&mut rec)?;
    Ok(rec)
}

/// A short reason for a CSV parse error.
fn csv_error_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "row is not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}

impl<R: BufRead> CsvFramer<R> {
    pub fn new(input: R) -> Self {
        CsvFramer {
            input,
            read: 0,
            again: VecDeque::new(),
            width: None,
        }
    }

    fn line(&mut self) -> std::io::Result<Option<(u64, Line)>> {
        if let Some(l) = self.again.pop_front() {
            return Ok(Some(l));
        }
        let Some(l) = read_line_bounded(&mut self.input, MAX_ROW_BYTES)? else {
            return Ok(None);
        };
        self.read += 1;
        Ok(Some((self.read, l)))
    }

    /// Hands lines back to be read again, in their order.
    fn give_back(&mut self, lines: Vec<(u64, Line)>) {
        for l in lines.into_iter().rev() {
            self.again.push_front(l);
        }
    }

    /// The next row, skipping blank lines; `None` at the end.
    pub fn next_frame(&mut self) -> std::io::Result<Option<Frame>> {
        loop {
            let Some((line, first)) = self.line()? else {
                return Ok(None);
            };
            let text = match first {
                Ok(t) => t,
                Err(len) => {
                    let reason = format!("row is {len} bytes, longer than {MAX_ROW_BYTES}");
                    return Ok(Some(Frame::Bad { line, reason }));
                }
            };
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return self.frame_from(line, text).map(Some);
        }
    }

    /// Completes the row that starts on `line` with `text`.
    fn frame_from(&mut self, line: u64, mut text: Vec<u8>) -> std::io::Result<Frame> {
        let mut open = odd_quotes(&text);
        let mut more = Vec::new();
        while open && text.len() <= MAX_ROW_BYTES && more.len() < MAX_ROW_LINES {
            match self.line()? {
                None => break,
                Some((n, Ok(b))) => {
                    open ^= odd_quotes(&b);
                    text.extend_from_slice(&b);
                    more.push((n, Ok(b)));
                }
                Some(bad) => {
                    more.push(bad);
                    break;
                }
            }
        }
        if open {
            self.give_back(more);
            let reason = "unbalanced quote: the quoted field that opens on this line never closes";
            return Ok(Frame::Bad {
                line,
                reason: reason.into(),
            });
        }
        let parsed = parse_row(&text);
        let wrong_width = match (&parsed, self.width) {
            (Ok(r), Some(w)) => r.len() != w,
            _ => false,
        };
        match parsed {
            Ok(record) if !wrong_width => Ok(Frame::Row { line, record }),
            Ok(record) => {
                let spans = !more.is_empty();
                self.give_back(more);
                let w = self.width.unwrap_or_default();
                let hint = if spans { " (an unbalanced quote?)" } else { "" };
                let reason = format!("row has {} fields, the header has {w}{hint}", record.len());
                Ok(Frame::Bad { line, reason })
            }
            Err(e) => {
                self.give_back(more);
                let reason = csv_error_reason(&e);
                Ok(Frame::Bad { line, reason })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(text: &[u8]) -> Vec<Frame> {
        let mut f = CsvFramer::new(text);
        f.width = Some(3);
        std::iter::from_fn(|| f.next_frame().unwrap()).collect()
    }

    fn lines_of(fs: &[Frame]) -> Vec<(u64, bool)> {
        fs.iter()
            .map(|f| match f {
                Frame::Row { line, .. } => (*line, true),
                Frame::Bad { line, .. } => (*line, false),
            })
            .collect()
    }

    #[test]
    fn an_unbalanced_quote_costs_only_its_own_row() {
        let fs = frames(b"1,a,b\n2,\"oops,c\n3,d,e\n4,f,g\n");
        assert_eq!(lines_of(&fs), [(1, true), (2, false), (3, true), (4, true)]);
        // A quote that closes rows later: the joined row has the wrong width.
        let fs = frames(b"1,\"a,b\n2,c,d\n3,\"x\",e\n4,f,g\n");
        assert_eq!(lines_of(&fs), [(1, false), (2, true), (3, true), (4, true)]);
    }

    #[test]
    fn quoted_fields_may_span_lines() {
        let fs = frames(b"1,\"two\nlines\",x\n2,a,b\n");
        assert_eq!(lines_of(&fs), [(1, true), (3, true)]);
        let Frame::Row { record, .. } = &fs[0] else {
            panic!()
        };
        assert_eq!(&record[1], "two\nlines");
    }

    #[test]
    fn an_oversized_row_is_skipped_without_being_kept() {
        let mut data = b"1,a,b\n2,".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 10));
        data.extend_from_slice(b",c\n3,d,e\n");
        let fs = frames(&data);
        assert_eq!(lines_of(&fs), [(1, true), (2, false), (3, true)]);
        let Frame::Bad { reason, .. } = &fs[1] else {
            panic!()
        };
        assert!(reason.contains("longer than"), "{reason}");
    }

    #[test]
    fn bounded_lines_report_the_length_of_what_they_skip() {
        let mut r: &[u8] = b"abc\ndefghij\nk";
        assert_eq!(
            read_line_bounded(&mut r, 5).unwrap(),
            Some(Ok(b"abc\n".to_vec()))
        );
        assert_eq!(read_line_bounded(&mut r, 5).unwrap(), Some(Err(8)));
        assert_eq!(
            read_line_bounded(&mut r, 5).unwrap(),
            Some(Ok(b"k".to_vec()))
        );
        assert_eq!(read_line_bounded(&mut r, 5).unwrap(), None);
    }
}
