//! The checks the fuzz targets run, shared with the regression tests that replay the
//! inputs fuzzing found, so both hold the code to the same promises.

use std::path::Path;
use std::time::Duration;

use crate::diff::JsonPath;
use crate::export::{export, jsonl, ExportOptions, Format};
use crate::jq::{Evaluator, JqError, Limits, Outcome};
use crate::model::{Payload, Position};
use crate::replay::Replay;
use crate::source::sqlite::codecs;
use crate::source::transcript::TranscriptSource;
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
    let Ok(read) = jsonl::read(text) else {
        return;
    };
    let aggregate = read.header.aggregate.clone();
    let source = TranscriptSource::from_transcript(Path::new("fuzz.jsonl"), read);
    let _ = source.aggregates();
    let Some(reducer) = source.recorded_reducer() else {
        return;
    };
    let Ok(mut replay) = Replay::load(&source, &aggregate, reducer) else {
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
            if let Err(err) = jsonl::read(&again) {
                panic!("the export of a transcript does not read back: {err}\n{again}");
            }
        }
    }
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
