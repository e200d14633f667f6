//! The checks the fuzz targets run, shared with the regression tests that replay the
//! inputs fuzzing found, so both hold the code to the same promises.

use std::path::Path;

use crate::diff::JsonPath;
use crate::export::{export, ExportOptions, Format};
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
