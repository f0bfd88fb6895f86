//! Writing results to stdout as tables or JSON.
//!
//! Stored data can carry terminal escape sequences (a record whose name
//! is `ESC ]0;...`): everything printed goes through [`visible`], which
//! shows control and bidirectional-override characters as `\u{..}`
//! escapes instead of letting the terminal act on them.

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

    /// Prints an API message in the proto3 JSON mapping (as grpcurl, buf
    /// curl and gRPC gateways print it), or the text `table` builds.
    pub fn emit_message<M: prost::Message + prost::Name>(
        &self,
        message: &M,
        table: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        let text = match self.format {
            OutputFormat::Json => proto_json(message)?,
            OutputFormat::Table => table(),
        };
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

/// The descriptors of the `kindred.v1` API, decoded once.
fn descriptors() -> Result<&'static prost_reflect::DescriptorPool, CliError> {
    static POOL: std::sync::OnceLock<Result<prost_reflect::DescriptorPool, String>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        prost_reflect::DescriptorPool::decode(kindred_proto::v1::FILE_DESCRIPTOR_SET)
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| CliError::failure(format!("cannot read the API descriptors: {e}")))
}

/// Pretty JSON of an API message in the proto3 JSON mapping: enums by
/// name, 64-bit integers as strings, oneofs as their one field, timestamps
/// in RFC 3339. Two of the mapping's printer options are on, for people
/// and scripts that read the output: fields keep their proto names
/// (`entity_id`, as protojson's `UseProtoNames`), and fields at their
/// default value are printed too (`EmitUnpopulated`), so a field is
/// always there to read. Any proto3 JSON parser reads it back.
pub fn proto_json<M: prost::Message + prost::Name>(message: &M) -> Result<String, CliError> {
    proto_json_as(message, true)
}

/// [`proto_json`] on one line (JSON Lines).
pub fn proto_json_line<M: prost::Message + prost::Name>(message: &M) -> Result<String, CliError> {
    proto_json_as(message, false)
}

fn proto_json_as<M: prost::Message + prost::Name>(
    message: &M,
    pretty: bool,
) -> Result<String, CliError> {
    let fail = |e: &dyn std::fmt::Display| {
        CliError::failure(format!("cannot encode the result as JSON: {e}"))
    };
    let desc = descriptors()?
        .get_message_by_name(&M::full_name())
        .ok_or_else(|| fail(&format!("no descriptor for {}", M::full_name())))?;
    let dynamic = prost_reflect::DynamicMessage::decode(desc, message.encode_to_vec().as_slice())
        .map_err(|e| fail(&e))?;
    let options = prost_reflect::SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false);
    let mut out = Vec::new();
    if pretty {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            serde_json::ser::PrettyFormatter::with_indent(b"  "),
        );
        dynamic.serialize_with_options(&mut ser, &options)
    } else {
        dynamic.serialize_with_options(&mut serde_json::Serializer::new(&mut out), &options)
    }
    .map_err(|e| fail(&e))?;
    String::from_utf8(out).map_err(|e| fail(&e))
}

/// True for characters a terminal acts on instead of showing: C0 and C1
/// controls (but newline and tab), DEL, and bidirectional overrides.
fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every character a terminal would act on written as a
/// `\uXXXX` escape (still valid inside a JSON string, where it decodes to
/// the same character).
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if acts_on_terminal(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Prints `text` and a newline to stdout, control characters made visible.
pub fn print(text: &str) -> Result<(), CliError> {
    let text = visible(text);
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

/// A writer that makes control characters visible, for raw data (CSV,
/// JSON Lines) going to a terminal. Escapes C0 controls (but newline, tab
/// and carriage return), DEL and the C1 controls (UTF-8 `C2 80`..`C2 9F`),
/// the bytes a terminal interprets.
pub struct TerminalSafe<W: Write> {
    inner: W,
    /// A `C2` lead byte seen at the end of the previous write.
    pending_c2: bool,
}

impl<W: Write> TerminalSafe<W> {
    pub fn new(inner: W) -> Self {
        TerminalSafe {
            inner,
            pending_c2: false,
        }
    }

    fn escape(&mut self, byte: u32) -> std::io::Result<()> {
        write!(self.inner, "\\u{byte:04x}")
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            if std::mem::take(&mut self.pending_c2) {
                if (0x80..=0x9f).contains(&b) {
                    self.escape(u32::from(b))?;
                    start = i + 1;
                    continue;
                }
                self.inner.write_all(&[0xc2])?;
            }
            let c0 = (b < 0x20 && !matches!(b, b'\n' | b'\t' | b'\r')) || b == 0x7f;
            if c0 || b == 0xc2 {
                self.inner.write_all(&buf[start..i])?;
                start = i + 1;
                if c0 {
                    self.escape(u32::from(b))?;
                } else {
                    self.pending_c2 = true;
                }
            }
        }
        self.inner.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if std::mem::take(&mut self.pending_c2) {
            self.inner.write_all(&[0xc2])?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_shown_not_obeyed() {
        let hostile = "Eve\u{1b}]0;pwned\u{7}\u{9b}2J\u{202e}gnp.exe";
        let shown = visible(hostile);
        assert!(!shown.chars().any(acts_on_terminal), "{shown}");
        assert!(
            shown.contains("\\u001b") && shown.contains("\\u009b") && shown.contains("\\u202e")
        );
        assert_eq!(visible("plain\ttext\n"), "plain\ttext\n");
        // In JSON the escape decodes back to the same text.
        let json = serde_json::to_string(hostile).unwrap();
        let back: String = serde_json::from_str(&visible(&json)).unwrap();
        assert_eq!(back, hostile);
    }

    #[test]
    fn raw_output_to_a_terminal_has_its_control_bytes_escaped_across_writes() {
        let mut out = TerminalSafe::new(Vec::new());
        let text = "a\u{1b}[2Jb\u{9b}c é\n".as_bytes();
        // Split inside the two-byte C1 control.
        let split = text.iter().position(|&b| b == 0xc2).unwrap() + 1;
        out.write_all(&text[..split]).unwrap();
        out.write_all(&text[split..]).unwrap();
        out.flush().unwrap();
        assert_eq!(
            String::from_utf8(out.inner).unwrap(),
            "a\\u001b[2Jb\\u009bc é\n"
        );
    }
}
