//! Transcripts: what a replay looked like, step by step, independent of format; and the
//! JSON Lines wire format, written by `export` and read back by `source::transcript`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Event, Snapshot, SnapshotOutcome, StepProblem};
use crate::diff::Change;

/// The major version of the JSON Lines format; it changes only when old readers would
/// misread a file.
pub const FORMAT_VERSION: u64 = 2;

/// The key that marks a file as a transcript; always the first key of the first line.
pub const MARKER: &str = "rewind_transcript";

/// How deep a line's envelope holds a value: the end line's
/// `{"end": {"snapshots_beyond": [{"differences": [{"old": VALUE}]}]}}` is the deepest.
const ENVELOPE_DEPTH: usize = 6;

/// The deepest line written and read: any value rewind holds (payloads and states, at most
/// `MAX_JSON_DEPTH` deep) inside the deepest envelope, so every line written reads back.
pub const MAX_LINE_DEPTH: usize = super::MAX_JSON_DEPTH + ENVELOPE_DEPTH;

/// The most values one line may hold: a step's payload, state and changes (a change keeps
/// the old and the new value), each as large as a value read from outside may be. Lines
/// are checked against it when written too, so every line written reads back.
pub const MAX_LINE_VALUES: usize = 4 * super::MAX_JSON_VALUES;

/// What transcripts show in place of a redacted value.
pub const REDACTED: &str = "[redacted]";

/// Everything a transcript says before its first step.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The source as `EventSource::describe` names it, credentials removed.
    pub source: String,
    pub aggregate: String,
    pub aggregate_type: Option<String>,
    /// The reducer that computed the states, e.g. `merge` or `jq:bank.jq`.
    pub reducer: String,
    pub rewind_version: String,
    pub generated_at: DateTime<Utc>,
    pub from: Bound,
    pub to: Bound,
    /// Events in the aggregate's whole history, of which the transcript shows `steps`.
    pub history_events: usize,
    pub steps: usize,
    /// The jq-style paths whose values were replaced with [`REDACTED`].
    pub redacted: Vec<String>,
    /// Those of `redacted` found nowhere in what the transcript shows (a typo, say), so
    /// the header does not claim a redaction that hid nothing.
    pub redacted_unmatched: Vec<String>,
    /// The state at `from`, which the first step applies to.
    pub start_state: Value,
}

impl Header {
    /// The header as `(label, value)` lines, for the readable formats: `code` renders a value
    /// that is code in the format's own escaping, `text` plain text, and `range` is the
    /// format's wording of the range.
    pub fn items(
        &self,
        code: &dyn Fn(&str) -> String,
        text: &dyn Fn(&str) -> String,
        range: String,
    ) -> Vec<(&'static str, String)> {
        let aggregate = match &self.aggregate_type {
            Some(kind) => format!("{} ({})", code(&self.aggregate), code(kind)),
            None => code(&self.aggregate),
        };
        let mut items = vec![
            ("Source", code(&self.source)),
            ("Aggregate", aggregate),
            ("Range", range),
            ("Reducer", code(&self.reducer)),
        ];
        if !self.redacted.is_empty() {
            let paths: Vec<String> = self.redacted.iter().map(|p| code(p)).collect();
            let marker = code(&Value::from(REDACTED).to_string());
            items.push((
                "Redacted",
                format!("{} (values shown as {marker})", paths.join(", ")),
            ));
        }
        if !self.redacted_unmatched.is_empty() {
            let paths: Vec<String> = self.redacted_unmatched.iter().map(|p| code(p)).collect();
            items.push((
                "Warning",
                format!(
                    "{} {} {}",
                    text(if paths.len() == 1 {
                        "redacted path"
                    } else {
                        "redacted paths"
                    }),
                    paths.join(", "),
                    text("matched nothing: no value was hidden there")
                ),
            ));
        }
        items.push(("rewind", text(&self.rewind_version)));
        items.push((
            "Generated",
            text(&crate::model::format_time(&self.generated_at)),
        ));
        items
    }
}

/// One end of the transcript's range.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The position as the user gave it (`12`, `2026-01-15`), if they gave one.
    pub requested: Option<String>,
    /// The version reached there (0: before the first event).
    pub version: u64,
    /// How many events of the history come before or at this point.
    pub events: usize,
    /// When the last event at or before this point happened.
    pub timestamp: Option<DateTime<Utc>>,
}

/// One event and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based position in the transcript.
    pub number: usize,
    pub event: Event,
    /// Oddities replay noticed (version gaps, timestamps going backwards, bad columns).
    pub warnings: Vec<String>,
    /// Why the event left the state unchanged (decode error, reducer error), if it did.
    pub problem: Option<StepProblem>,
    /// What the event changed in the state.
    pub changes: Vec<Change>,
    /// The state after the event; `None` in a step read from a transcript that left it
    /// out (a large state), whose changes then give it from the state before.
    pub state: Option<Value>,
    /// Stored snapshots taken at this point, and whether replay agrees with them.
    pub snapshots: Vec<SnapshotMark>,
}

/// A stored snapshot and how it compares with replay.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotMark {
    pub snapshot: Snapshot,
    pub outcome: SnapshotOutcome,
}

/// What a transcript says after its last step.
#[derive(Debug, Clone, PartialEq)]
pub struct Closing {
    /// Every difference from the state at `from` to the state at `to`.
    pub net: Vec<Change>,
    /// The state at `to`.
    pub state: Value,
    /// Snapshots that claim versions beyond the history (only when the range reaches its end).
    pub snapshots_beyond: Vec<SnapshotMark>,
}

/// The JSON Lines wire format, line by line. Readers ignore fields they do not know (a later
/// minor addition) and refuse a header whose `rewind_transcript` is newer than they read.
pub mod wire {
    use super::*;

    /// A field that is there, `null` or not (an absent one is `None` by `default`).
    fn present<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<Value>, D::Error> {
        Value::deserialize(field).map(Some)
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireHeader {
        pub rewind_transcript: u64,
        pub rewind_version: String,
        pub generated_at: String,
        pub source: String,
        pub aggregate: String,
        pub aggregate_type: Option<String>,
        pub reducer: String,
        pub from: WireBound,
        pub to: WireBound,
        pub history_events: usize,
        pub steps: usize,
        pub redacted: Vec<String>,
        /// Redacted paths that matched nothing (added in 0.2; absent when there are none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub redacted_unmatched: Vec<String>,
        pub start_state: Value,
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireBound {
        pub requested: Option<String>,
        pub version: u64,
        pub events: usize,
        pub timestamp: Option<String>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireStep {
        pub step: usize,
        pub version: u64,
        #[serde(rename = "type")]
        pub event_type: String,
        pub timestamp: Option<String>,
        /// The store's id for the event, where it has one (added in 0.2; absent before).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_id: Option<String>,
        /// `null` when the stored payload did not decode; `raw` and `error` say why.
        pub data: Value,
        pub raw: Option<String>,
        pub error: Option<String>,
        pub metadata: Value,
        pub issues: Vec<WireIssue>,
        pub warnings: Vec<String>,
        pub problem: Option<WireProblem>,
        pub changes: Vec<WireChange>,
        /// Left out (format 2) where the state is large and `changes` give it from the
        /// state before; `null` is a state like any other.
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        pub state: Option<Value>,
        pub snapshots: Vec<WireSnapshot>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireIssue {
        pub kind: String,
        pub detail: String,
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireProblem {
        pub kind: String,
        pub message: String,
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireSnapshot {
        pub version: u64,
        pub created_at: Option<String>,
        pub state: Value,
        pub raw: Option<String>,
        pub error: Option<String>,
        /// `agrees`, `differs`, `undecodable` or `beyond_history`.
        pub check: String,
        /// For `differs`: stored snapshot (old) against replay (new).
        pub differences: Vec<WireChange>,
    }

    /// One difference: a jq-style path, `added`/`removed`/`changed`, and the values.
    #[derive(Serialize, Deserialize)]
    pub struct WireChange {
        pub path: String,
        pub op: String,
        pub old: Option<Value>,
        pub new: Option<Value>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireEnd {
        pub end: WireClosing,
    }

    #[derive(Serialize, Deserialize)]
    pub struct WireClosing {
        pub steps: usize,
        pub net: Vec<WireChange>,
        pub state: Value,
        pub snapshots_beyond: Vec<WireSnapshot>,
    }
}
