//! Writing results: aligned tables for people, JSON for scripts, transcripts streamed by the
//! core, and the lines on stderr. Everything a command writes passes through here and comes
//! out terminal-safe (the set and notations are in [`crate::display`]):
//!
//! - `line` and table cells: one line, every unsafe character escaped (`\u{1b}`, `\n`, `\t`);
//! - `text`: several lines, `\n` the only raw control;
//! - `json`, `json_line`: unsafe characters as `\uXXXX`, still valid JSON with the same value;
//! - `writer()`: a stream whose unsafe characters become `\uXXXX` (`\n` passes);
//! - stderr ([`warn`], [`error_line`]): one bounded line, quoted values cut short.

pub mod color;
mod table;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use crate::display::json::{self, SafeStream};
use crate::display::{message_line, terminal_safe_lines};

pub use crate::display::{terminal_safe, truncate_width as truncate};
pub use table::{render_row, Align, Table};

/// Where a command writes its results; stdout in the binary, a buffer in tests. The only
/// writer it has is a [`SafeStream`], so no path writes raw text.
pub struct Output {
    writer: SafeStream<Box<dyn Write>>,
    /// Whether `painted` text gets colors (stdout is a terminal and NO_COLOR is not set).
    color: bool,
}

impl Output {
    pub fn new(writer: Box<dyn Write>) -> Output {
        Output {
            writer: SafeStream::new(writer),
            color: false,
        }
    }

    pub fn stdout() -> Output {
        let mut out = Output::new(Box::new(std::io::BufWriter::new(std::io::stdout())));
        out.color = color::stdout_wants_color();
        out
    }

    /// As `text`, each line colored by `paint` when this output shows colors. The line is
    /// made terminal-safe before its color is put around it.
    pub fn painted(
        &mut self,
        text: &str,
        paint: fn(&str) -> Option<color::Paint>,
    ) -> anyhow::Result<()> {
        if !self.color {
            return self.text(text);
        }
        for line in text.split_inclusive('\n') {
            let (body, end) = match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            };
            let safe = terminal_safe(body);
            let shown = match paint(body) {
                Some(paint) => paint.wrap(&safe),
                None => safe.into_owned(),
            };
            // The one raw path: `shown` is safe text inside rewind's own SGR sequences.
            let raw = self.writer.get_mut();
            raw.write_all(shown.as_bytes())?;
            raw.write_all(end.as_bytes())?;
        }
        Ok(())
    }

    /// An output into memory, and a handle that reads what was written.
    pub fn captured() -> (Output, Captured) {
        let captured = Captured::default();
        (Output::new(Box::new(captured.clone())), captured)
    }

    /// One line: newlines and every other unsafe character in `text` are shown escaped.
    pub fn line(&mut self, text: &str) -> anyhow::Result<()> {
        self.writer.write_all(terminal_safe(text).as_bytes())?;
        self.writer.write_all(b"\n")?;
        Ok(())
    }

    /// Several lines (a rendered table, pretty state, a diff): only `\n` is kept raw.
    pub fn text(&mut self, text: &str) -> anyhow::Result<()> {
        self.writer
            .write_all(terminal_safe_lines(text).as_bytes())?;
        Ok(())
    }

    /// Pretty JSON and a newline.
    pub fn json(&mut self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        let mut batched = self.batched();
        json::to_writer_pretty(&mut batched, value)?;
        batched.write_all(b"\n")?;
        batched.flush()?;
        Ok(())
    }

    /// The stream behind a buffer: the serializer writes a token at a time, and each write
    /// to the stream is checked as text, so it should see a buffer's worth at once.
    fn batched(&mut self) -> std::io::BufWriter<&mut SafeStream<Box<dyn Write>>> {
        std::io::BufWriter::with_capacity(64 << 10, &mut self.writer)
    }

    /// One element of a pretty JSON array written as it comes (see [`JsonArray`]).
    fn array_item(&mut self, first: bool, value: &impl serde::Serialize) -> anyhow::Result<()> {
        let text = json::to_string_pretty(value)?;
        self.writer.write_all(if first { b"[\n" } else { b",\n" })?;
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                self.writer.write_all(b"\n")?;
            }
            self.writer.write_all(b"  ")?;
            self.writer.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// Compact JSON on one line, for streams a consumer reads line by line.
    pub fn json_line(&mut self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        let mut batched = self.batched();
        json::to_writer(&mut batched, value)?;
        batched.write_all(b"\n")?;
        batched.flush()?;
        Ok(())
    }

    /// A writer for output streamed by the core (transcripts); it escapes what the writers
    /// upstream did not.
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.writer
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.writer.flush()?;
        Ok(())
    }
}

/// What an [`Output::captured`] output wrote.
#[derive(Clone, Default)]
pub struct Captured(Rc<RefCell<Vec<u8>>>);

impl Captured {
    pub fn bytes(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A pretty JSON array printed element by element, byte for byte what `Output::json` prints
/// for the whole array, without holding it.
#[derive(Default)]
pub struct JsonArray {
    items: usize,
}

impl JsonArray {
    pub fn push(&mut self, out: &mut Output, value: &impl serde::Serialize) -> anyhow::Result<()> {
        out.array_item(self.items == 0, value)?;
        self.items += 1;
        Ok(())
    }

    pub fn finish(self, out: &mut Output) -> anyhow::Result<()> {
        match self.items {
            0 => out.writer.write_all(b"[]\n")?,
            _ => out.writer.write_all(b"\n]\n")?,
        }
        Ok(())
    }
}

/// Prints `rewind: MESSAGE` on stderr as one bounded, terminal-safe line. A closed stderr
/// is ignored: there is nowhere left to say so.
pub fn warn(message: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "rewind: {}",
        message_line(message)
    );
}

thread_local! {
    static DEFERRED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A warning about a result (a reducer that failed on some events), said once the command
/// has printed its result; a command that fails instead gives its one error line alone.
pub fn warn_after(message: String) {
    DEFERRED.with(|deferred| deferred.borrow_mut().push(message));
}

/// Says the deferred warnings now (at the end of a command, or once a follow has printed
/// what there was).
pub fn flush_warnings() {
    for message in DEFERRED.with(|deferred| std::mem::take(&mut *deferred.borrow_mut())) {
        warn(&message);
    }
}

/// Drops the deferred warnings: the command failed, and its error says what matters.
pub fn drop_warnings() {
    DEFERRED.with(|deferred| deferred.borrow_mut().clear());
}

/// Several lines on stderr (a backtrace), only `\n` kept raw.
pub fn warn_lines(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", terminal_safe_lines(text));
}

/// An error and its causes as the one line the user sees.
pub fn error_line(err: &anyhow::Error) -> String {
    message_line(&crate::display::error_chain(err.as_ref()))
}

pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().map(|io| io.kind()) == broken
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|json| json.io_error_kind())
                == broken
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const HOSTILE: &str = "x\u{1b}]0;PWNED\u{7}\u{9b}2J\u{7f}\u{202e}\u{2066}\u{200b}\u{feff}\ny";

    fn written(captured: &Captured) -> String {
        String::from_utf8(captured.bytes()).unwrap()
    }

    fn assert_safe(text: &str) {
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && crate::display::is_unsafe(c)),
            "{text:?}"
        );
    }

    #[test]
    fn a_streamed_array_prints_as_the_whole_array_would() {
        let values = [
            serde_json::json!({"a": [1, {"b": 2}]}),
            serde_json::json!("x"),
        ];
        for values in [&values[..], &values[..1], &[]] {
            let (mut whole, whole_text) = Output::captured();
            whole.json(&values).unwrap();
            let (mut streamed, streamed_text) = Output::captured();
            let mut array = JsonArray::default();
            for value in values {
                array.push(&mut streamed, value).unwrap();
            }
            array.finish(&mut streamed).unwrap();
            whole.flush().unwrap();
            streamed.flush().unwrap();
            assert_eq!(streamed_text.bytes(), whole_text.bytes());
        }
    }

    #[test]
    fn lines_and_text_escape_everything_but_line_breaks() {
        let (mut out, captured) = Output::captured();
        out.line(HOSTILE).unwrap();
        out.text(&format!("{HOSTILE}\n")).unwrap();
        let text = written(&captured);
        assert_safe(&text);
        assert_eq!(
            text,
            "x\\u{1b}]0;PWNED\\u{7}\\u{9b}2J\\u{7f}\\u{202e}\\u{2066}\\u{200b}\\u{feff}\\ny\n\
             x\\u{1b}]0;PWNED\\u{7}\\u{9b}2J\\u{7f}\\u{202e}\\u{2066}\\u{200b}\\u{feff}\ny\n"
        );
    }

    #[test]
    fn json_is_safe_and_parses_to_the_same_value() {
        let (mut out, captured) = Output::captured();
        let value = json!({"reducer": HOSTILE, HOSTILE: [HOSTILE]});
        out.json(&value).unwrap();
        out.json_line(&value).unwrap();
        let text = written(&captured);
        assert_safe(&text);
        let mut values = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
        assert_eq!(values.next().unwrap().unwrap(), value);
        assert_eq!(values.next().unwrap().unwrap(), value);
        assert_eq!(
            text.lines().last().unwrap(),
            json::to_string(&value).unwrap()
        );
    }

    #[test]
    fn the_streaming_writer_is_safe_too() {
        let (mut out, captured) = Output::captured();
        out.writer()
            .write_all(format!("{HOSTILE}\n").as_bytes())
            .unwrap();
        out.flush().unwrap();
        assert_eq!(
            written(&captured),
            "x\\u001b]0;PWNED\\u0007\\u009b2J\\u007f\\u202e\\u2066\\u200b\\ufeff\ny\n"
        );
    }

    #[test]
    fn painted_text_colors_only_its_own_sequences() {
        let (mut out, captured) = Output::captured();
        out.color = true;
        out.painted(&format!("+{HOSTILE}\n same\n"), color::unified_line)
            .unwrap();
        let text = written(&captured);
        let inner = text
            .strip_prefix("\u{1b}[32m")
            .and_then(|t| t.split_once("\u{1b}[0m\n"))
            .map(|(colored, rest)| (colored.to_string(), rest.to_string()));
        let (colored, rest) = inner.expect(&text);
        assert_safe(&colored);
        assert!(colored.starts_with("+x\\u{1b}]0;PWNED"), "{colored}");
        assert_eq!(rest, "y\n same\n");
        let (mut plain, captured) = Output::captured();
        plain.painted("+x\n", color::unified_line).unwrap();
        assert_eq!(written(&captured), "+x\n");
    }

    #[test]
    fn a_cause_quoted_by_its_error_is_printed_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot write d: {0}")]
        struct Write(#[from] std::io::Error);
        let io = std::io::Error::from(std::io::ErrorKind::IsADirectory);
        let shown_io = io.to_string();
        let err = anyhow::Error::from(Write(io)).context("exporting");
        assert_eq!(
            error_line(&err),
            format!("exporting: cannot write d: {shown_io}")
        );
    }

    #[test]
    fn causes_not_quoted_are_kept() {
        let err = anyhow::anyhow!("inner\u{1b}[2J").context("outer");
        assert_eq!(error_line(&err), "outer: inner\\u{1b}[2J");
    }
}
