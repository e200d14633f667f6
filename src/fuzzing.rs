//! The checks the fuzz targets run, shared with the regression tests that replay the
//! inputs fuzzing found, so both hold the code to the same promises.

use crate::diff::JsonPath;
use crate::model::{Payload, Position};
use crate::source::sqlite::codecs;

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
