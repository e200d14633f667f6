//! JSON that is safe to print: serde_json escapes C0 controls itself but writes DEL, C1, bidi
//! and zero-width characters raw; these escape every character of the unsafe set as `\uXXXX`,
//! so the document still parses to the same value. JSON escapes the joiners U+200C/U+200D
//! too, which terminal text keeps (they join emoji and Persian or Indic letters): in JSON
//! an escape costs a reader nothing, and two ids that differ only by a joiner then look
//! different wherever the JSON is shown.
//!
//! Hand-written: no maintained crate offers a serde_json formatter with a configurable escape set.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::is_unsafe;

/// Compact JSON, unsafe characters escaped.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(writer: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, SafeFormatter(CompactFormatter));
    value.serialize(&mut ser)
}

/// Pretty JSON (two-space indent), unsafe characters escaped.
pub fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let formatter = SafeFormatter(PrettyFormatter::new());
    let mut ser = serde_json::Serializer::with_formatter(writer, formatter);
    value.serialize(&mut ser)
}

/// [`to_writer`] into a string.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut bytes = Vec::new();
    to_writer(&mut bytes, value)?;
    Ok(String::from_utf8(bytes).expect("serde_json writes UTF-8"))
}

/// One value as compact JSON, for a line of a diff.
pub fn compact(value: &serde_json::Value) -> String {
    to_string(value).unwrap_or_else(|_| value.to_string())
}

/// [`to_writer_pretty`] into a string.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut bytes = Vec::new();
    to_writer_pretty(&mut bytes, value)?;
    Ok(String::from_utf8(bytes).expect("serde_json writes UTF-8"))
}

/// Writes `text`, each unsafe character (but `\n` when `keep_newlines`) as a JSON `\uXXXX`
/// escape, which inside a JSON string means the same character.
pub fn write_escaped(
    out: &mut (impl Write + ?Sized),
    text: &str,
    keep_newlines: bool,
) -> io::Result<()> {
    write_escaped_if(out, text, keep_newlines, escaped_in_json)
}

/// As [`write_escaped`], escaping the characters `escape` picks, which are never printable
/// ASCII: those bytes are passed over without decoding (every byte of JSON output comes
/// through here, twice: strings, then the stream).
fn write_escaped_if(
    out: &mut (impl Write + ?Sized),
    text: &str,
    keep_newlines: bool,
    escape: fn(char) -> bool,
) -> io::Result<()> {
    let bytes = text.as_bytes();
    let (mut written, mut at) = (0, 0);
    while let Some(found) = bytes[at..].iter().position(|b| !matches!(b, 0x20..=0x7e)) {
        at += found;
        let c = text[at..].chars().next().expect("a character starts here");
        let next = at + c.len_utf8();
        if escape(c) && !(keep_newlines && c == '\n') {
            out.write_all(&bytes[written..at])?;
            for unit in c.encode_utf16(&mut [0; 2]) {
                write!(out, "\\u{unit:04x}")?;
            }
            written = next;
        }
        at = next;
    }
    out.write_all(&bytes[written..])
}

/// The unsafe set, and the joiners.
fn escaped_in_json(c: char) -> bool {
    is_unsafe(c) || matches!(c, '\u{200C}' | '\u{200D}')
}

/// Wraps a serde_json formatter (compact or pretty) and escapes the unsafe set in strings.
pub struct SafeFormatter<F>(pub F);

impl<F: Formatter> Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_escaped(writer, fragment, false)
    }

    // Unsafe characters can only sit inside strings of valid raw JSON, where an escape is
    // the same character.
    fn write_raw_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_escaped(writer, fragment, true)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

/// A writer for streamed text (transcripts on stdout) that lets no unsafe character through:
/// each becomes a JSON `\uXXXX` escape, which keeps JSON Lines valid and reads as an escape in
/// Markdown and HTML; `\n` passes. Bytes that are not UTF-8 become U+FFFD.
///
/// The transcript writers escape at the source already; this is the guard behind them.
pub struct SafeStream<W: Write> {
    inner: W,
    /// The start of a character split across two writes (at most 3 bytes).
    pending: Vec<u8>,
}

impl<W: Write> SafeStream<W> {
    pub fn new(inner: W) -> SafeStream<W> {
        SafeStream {
            inner,
            pending: Vec::new(),
        }
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: Write> Write for SafeStream<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let joined;
        let mut data: &[u8] = if self.pending.is_empty() {
            buf
        } else {
            joined = [std::mem::take(&mut self.pending).as_slice(), buf].concat();
            &joined
        };
        loop {
            match std::str::from_utf8(data) {
                Ok(text) => {
                    write_escaped_if(&mut self.inner, text, true, is_unsafe)?;
                    break;
                }
                Err(err) => {
                    let (valid, rest) = data.split_at(err.valid_up_to());
                    let valid = std::str::from_utf8(valid).expect("checked by from_utf8");
                    write_escaped_if(&mut self.inner, valid, true, is_unsafe)?;
                    match err.error_len() {
                        Some(bad) => {
                            self.inner.write_all("\u{FFFD}".as_bytes())?;
                            data = &rest[bad..];
                        }
                        None => {
                            self.pending = rest.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the byte-scanning escaper must agree with: every character looked at.
    fn escaped_char_by_char(text: &str, keep_newlines: bool) -> String {
        text.chars()
            .map(
                |c| match escaped_in_json(c) && !(keep_newlines && c == '\n') {
                    true => c
                        .encode_utf16(&mut [0; 2])
                        .iter()
                        .map(|unit| format!("\\u{unit:04x}"))
                        .collect(),
                    false => c.to_string(),
                },
            )
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn passing_printable_ascii_over_escapes_exactly_what_a_character_scan_does(
            text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{feff}\n]){0,40}",
            keep_newlines: bool,
        ) {
            let mut out = Vec::new();
            write_escaped_if(&mut out, &text, keep_newlines, escaped_in_json).unwrap();
            proptest::prop_assert_eq!(
                String::from_utf8(out).unwrap(),
                escaped_char_by_char(&text, keep_newlines)
            );
        }
    }

    #[test]
    fn joiners_are_escaped_in_json_and_the_value_is_the_same() {
        let ids = ["acc\u{200D}-0001", "acc-\u{200C}0001"];
        let text = to_string(&ids).unwrap();
        assert_eq!(text, r#"["acc\u200d-0001","acc-\u200c0001"]"#);
        let back: Vec<String> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ids);
    }
    use serde_json::{json, Value};

    const HOSTILE: &str =
        "a\u{1b}[2J\u{7}\u{7f}\u{9b}\u{85}\u{202e}\u{2066}\u{61c}\u{200b}\u{200e}\u{2060}\u{feff}\u{200d}z";

    #[test]
    fn json_escapes_every_unsafe_character_and_keeps_the_value() {
        let value = json!({ HOSTILE: [HOSTILE, 1, null], "plain": "ünï" });
        for text in [
            to_string(&value).unwrap(),
            to_string_pretty(&value).unwrap(),
        ] {
            assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text:?}");
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
            assert!(
                text.contains("\\u001b[2J\\u0007\\u007f\\u009b\\u0085\\u202e"),
                "{text}"
            );
            assert!(text.contains("\\u200dz"), "ZWJ is escaped in JSON: {text}");
        }
    }

    #[test]
    fn pretty_output_keeps_serde_json_layout() {
        let value = json!({"a": [1, {"b": "c"}], "d": {}});
        assert_eq!(
            to_string_pretty(&value).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(to_string(&value).unwrap(), value.to_string());
    }

    #[test]
    fn characters_outside_the_basic_plane_are_not_escaped() {
        assert_eq!(to_string(&json!("🦀")).unwrap(), "\"🦀\"");
    }

    #[test]
    fn the_stream_escapes_characters_split_across_writes() {
        let text = format!("{{\"k\":\"{HOSTILE}\"}}\n{{\"n\":1}}\n");
        let mut stream = SafeStream::new(Vec::new());
        for chunk in text.as_bytes().chunks(1) {
            stream.write_all(chunk).unwrap();
        }
        let written = String::from_utf8(stream.get_mut().clone()).unwrap();
        assert!(!written.chars().any(|c| is_unsafe(c) && c != '\n'));
        let first: Value = serde_json::from_str(written.lines().next().unwrap()).unwrap();
        assert_eq!(first["k"], HOSTILE);
        assert_eq!(written.lines().count(), 2);
    }

    #[test]
    fn the_stream_replaces_bytes_that_are_not_utf8() {
        let mut stream = SafeStream::new(Vec::new());
        stream.write_all(b"a\xffb\xe2\x80").unwrap();
        stream.write_all(b"\xaec").unwrap();
        assert_eq!(stream.get_mut().as_slice(), "a\u{FFFD}b\\u202ec".as_bytes());
    }
}
