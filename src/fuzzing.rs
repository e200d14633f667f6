//! The checks the fuzz targets run, shared with the regression tests that replay the
//! inputs fuzzing found, so both hold the code to the same promises.

use std::path::Path;
use std::time::Duration;

use crate::diff::JsonPath;
use crate::export::{export, ExportOptions, Format};
use crate::jq::{Evaluator, JqError, Limits, Outcome};
use crate::model::{Payload, Position};
use crate::source::sqlite::codecs;
use crate::source::transcript::{self, TranscriptSource};
use crate::source::EventSource;

/// Stored payload bytes of any shape decode to JSON or to a flagged payload; never a panic.
pub fn payload(bytes: &[u8]) {
    let _ = Payload::from_json_bytes(bytes);
    let _ = codecs::eventsourcing_event(bytes);
    let _ = codecs::eventsourcing_snapshot(bytes);
}

/// A path that parses prints as text that parses back to the same path.
pub fn json_path(text: &str) {
    if let Ok(path) = JsonPath::parse(text) {
        let printed = path.to_string();
        let reparsed = JsonPath::parse(&printed)
            .unwrap_or_else(|err| panic!("{printed:?} (from {text:?}) does not parse: {err}"));
        assert_eq!(reparsed, path, "round trip of {text:?} via {printed:?}");
        let _ = path.to_pointer();
    }
}

/// A position that parses prints as text that parses back to the same position.
pub fn position(text: &str) {
    if let Ok(position) = text.parse::<Position>() {
        let printed = position.to_string();
        assert_eq!(
            printed.parse::<Position>(),
            Ok(position),
            "round trip of {text:?}"
        );
    }
}

/// Any text given as a JSON Lines transcript reads to a transcript or a clean error. One that
/// reads opens as a source, replays to its recorded states, exports in every format, and its
/// JSON Lines export reads back: whatever a transcript says, rewind never panics on it.
pub fn transcript(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(read) = transcript::read(text) else {
        return;
    };
    let aggregate = read.header.aggregate.clone();
    let source = TranscriptSource::from_transcript(Path::new("fuzz.jsonl"), read);
    let _ = source.aggregates();
    let reducer = crate::load::reducer_for(&source, &aggregate, None);
    let Ok(mut replay) = crate::load::replay(&source, &aggregate, reducer) else {
        return;
    };
    for count in 0..=replay.len() {
        let _ = replay.state_after(count);
    }
    for format in [Format::Markdown, Format::Html, Format::JsonLines] {
        let options = ExportOptions {
            format,
            source: source.describe(),
            aggregate: aggregate.clone(),
            from: None,
            to: None,
            with_state: true,
            redact: Vec::new(),
            generated_at: None,
        };
        let mut out = Vec::new();
        if export(&mut replay, &options, &mut out).is_ok() && format == Format::JsonLines {
            let again = String::from_utf8(out).expect("transcripts are UTF-8");
            if let Err(err) = transcript::read(&again) {
                panic!("the export of a transcript does not read back: {err}\n{again}");
            }
        }
    }
}

/// Any text printed through the CLI's output layer comes out with no unsafe character
/// (`crate::display::is_unsafe`) but the `\n` that separates lines: as a line, as several
/// lines, as a table cell, as a JSON string and key (which parse back to the same value),
/// through the streaming writer split at any byte, and as an error line (one bounded line).
/// Tabs are never allowed raw: they would break table columns. Safe text passes unchanged.
pub fn terminal_output(text: &str) {
    use crate::cli::output::{error_line, Align, Output, Table};
    use crate::display::{is_unsafe, pictures, LINE_BYTES};

    let check = |what: &str, printed: &[u8]| -> String {
        let printed = String::from_utf8(printed.to_vec())
            .unwrap_or_else(|_| panic!("{what} of {text:?} is not UTF-8"));
        if let Some(c) = printed.chars().find(|&c| c != '\n' && is_unsafe(c)) {
            panic!("{what} of {text:?} holds {c:?}: {printed:?}");
        }
        printed
    };

    let (mut out, captured) = Output::captured();
    out.line(text).unwrap();
    let line = check("line", &captured.bytes());
    assert_eq!(
        line.matches('\n').count(),
        1,
        "a line is one line: {line:?}"
    );
    if !text.chars().any(is_unsafe) {
        assert_eq!(line, format!("{text}\n"), "safe text is printed as it is");
    }

    let (mut out, captured) = Output::captured();
    out.text(text).unwrap();
    let lines = check("text", &captured.bytes());
    assert_eq!(lines.matches('\n').count(), text.matches('\n').count());

    let mut table = Table::new(&[("A", Align::Left), ("B", Align::Right)]);
    table.row(vec![text.to_string(), text.to_string()]);
    let (mut out, captured) = Output::captured();
    out.text(&table.render()).unwrap();
    assert_eq!(check("table", &captured.bytes()).lines().count(), 2);

    let value = serde_json::json!({ text: [text, {"k": text}] });
    let (mut out, captured) = Output::captured();
    out.json(&value).unwrap();
    out.json_line(&value).unwrap();
    let json = check("json", &captured.bytes());
    let parsed: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&json)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|err| panic!("JSON of {text:?} does not parse: {err}\n{json}"));
    assert_eq!(parsed, [value.clone(), value], "JSON keeps the value");

    let split = text.len() / 2;
    let (mut out, captured) = Output::captured();
    out.writer().write_all(&text.as_bytes()[..split]).unwrap();
    out.writer().write_all(&text.as_bytes()[split..]).unwrap();
    out.flush().unwrap();
    check("stream", &captured.bytes());

    let error = error_line(&anyhow::anyhow!("{text}").context(text.to_string()));
    check("error line", error.as_bytes());
    assert!(!error.contains('\n'), "one error line: {error:?}");
    assert!(error.len() <= LINE_BYTES + 64, "{} bytes", error.len());

    let shown = pictures(text);
    assert!(!shown.chars().any(is_unsafe), "{shown:?}");
    assert_eq!(
        shown.chars().count(),
        text.chars().count(),
        "one stand-in each"
    );
}

/// Any text run as a jq program, with a tiny time and memory budget: it compiles or is a
/// clean compile error, and as a reducer and as a predicate it gives one outcome per step.
/// Whatever it does (recurse forever, allocate without end, nest the state deeply), only
/// its worker process suffers; this one never aborts or grows.
pub fn hostile_jq(bytes: &[u8]) {
    let Ok(code) = std::str::from_utf8(bytes) else {
        return;
    };
    let limits = Limits::new(Duration::from_millis(100), 16);
    let evaluator = match Evaluator::new(code, "fuzz.jq", limits) {
        Ok(evaluator) => evaluator,
        Err(JqError::Compile(_)) => return,
        Err(JqError::Worker(why)) => {
            // A program may exhaust its budget while compiling; a worker that cannot start
            // at all is a broken setup, not a finding.
            assert!(
                !why.contains("cannot start") && !why.contains("cannot find"),
                "{why}"
            );
            return;
        }
    };
    let events: Vec<Option<String>> = [
        r#"{"type":"Opened","version":1,"data":{"balance":0}}"#,
        r#"{"type":"Deposited","version":2,"data":{"amount":5,"tags":["a",{"b":null}]}}"#,
        "null",
    ]
    .iter()
    .map(|e| Some(e.to_string()))
    .chain([None])
    .collect();
    let mut state = serde_json::Value::Null;
    let outcomes = evaluator.fold(&mut state, events.clone());
    assert_eq!(outcomes.len(), events.len());
    assert!(matches!(outcomes[3], Outcome::Skipped | Outcome::Failed(_)));
    let items: Vec<(serde_json::Value, String)> = events
        .iter()
        .flatten()
        .map(|e| (state.clone(), e.clone()))
        .collect();
    assert_eq!(evaluator.map(&items).len(), items.len());
}
