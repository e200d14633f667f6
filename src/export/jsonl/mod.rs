//! The JSON Lines transcript, version [`FORMAT_VERSION`]: one header line, one line per
//! step, one end line. Written here and read back here; the README documents it.
//!
//! Readers ignore fields they do not know (a later minor addition) and refuse a header whose
//! `rewind_transcript` is greater than the version they read.

mod read;

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::transcript::{Bound, Closing, Header, SnapshotMark, Step};
use super::Render;
use crate::diff::{Change, ChangeKind};
use crate::model::{format_time, EventIssue, Payload};
use crate::replay::{SnapshotOutcome, StepProblem};

pub use read::{has_marker, read, ReadError, ReadTranscript};

/// The major version of the format; it changes only when old readers would misread a file.
pub const FORMAT_VERSION: u64 = 1;

/// The key that marks a file as a transcript; always the first key of the first line.
pub const MARKER: &str = "rewind_transcript";

#[derive(Serialize, Deserialize)]
struct WireHeader {
    rewind_transcript: u64,
    rewind_version: String,
    generated_at: String,
    source: String,
    aggregate: String,
    aggregate_type: Option<String>,
    reducer: String,
    from: WireBound,
    to: WireBound,
    history_events: usize,
    steps: usize,
    redacted: Vec<String>,
    start_state: Value,
}

#[derive(Serialize, Deserialize)]
struct WireBound {
    requested: Option<String>,
    version: u64,
    events: usize,
    timestamp: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WireStep {
    step: usize,
    version: u64,
    #[serde(rename = "type")]
    event_type: String,
    timestamp: Option<String>,
    /// `null` when the stored payload did not decode; `raw` and `error` say why.
    data: Value,
    raw: Option<String>,
    error: Option<String>,
    metadata: Value,
    issues: Vec<WireIssue>,
    warnings: Vec<String>,
    problem: Option<WireProblem>,
    changes: Vec<WireChange>,
    state: Value,
    snapshots: Vec<WireSnapshot>,
}

#[derive(Serialize, Deserialize)]
struct WireIssue {
    kind: String,
    detail: String,
}

#[derive(Serialize, Deserialize)]
struct WireProblem {
    kind: String,
    message: String,
}

#[derive(Serialize, Deserialize)]
struct WireSnapshot {
    version: u64,
    created_at: Option<String>,
    state: Value,
    raw: Option<String>,
    error: Option<String>,
    /// `agrees`, `differs`, `undecodable` or `beyond_history`.
    check: String,
    /// For `differs`: stored snapshot (old) against replay (new).
    differences: Vec<WireChange>,
}

/// One difference: a jq-style path, `added`/`removed`/`changed`, and the values.
#[derive(Serialize, Deserialize)]
struct WireChange {
    path: String,
    op: String,
    old: Option<Value>,
    new: Option<Value>,
}

#[derive(Serialize, Deserialize)]
struct WireEnd {
    end: WireClosing,
}

#[derive(Serialize, Deserialize)]
struct WireClosing {
    steps: usize,
    net: Vec<WireChange>,
    state: Value,
    snapshots_beyond: Vec<WireSnapshot>,
}

/// Writes transcripts as JSON Lines.
pub struct JsonLines;

impl Render for JsonLines {
    fn header(&mut self, out: &mut dyn Write, header: &Header) -> io::Result<()> {
        line(out, &wire_header(header))
    }

    fn step(&mut self, out: &mut dyn Write, _header: &Header, step: &Step) -> io::Result<()> {
        line(out, &wire_step(step))
    }

    fn closing(
        &mut self,
        out: &mut dyn Write,
        header: &Header,
        closing: &Closing,
    ) -> io::Result<()> {
        line(
            out,
            &WireEnd {
                end: WireClosing {
                    steps: header.steps,
                    net: wire_changes(&closing.net),
                    state: closing.state.clone(),
                    snapshots_beyond: closing.snapshots_beyond.iter().map(wire_snapshot).collect(),
                },
            },
        )
    }
}

fn line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    crate::display::json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

fn wire_header(header: &Header) -> WireHeader {
    WireHeader {
        rewind_transcript: FORMAT_VERSION,
        rewind_version: header.rewind_version.clone(),
        generated_at: format_time(&header.generated_at),
        source: header.source.clone(),
        aggregate: header.aggregate.clone(),
        aggregate_type: header.aggregate_type.clone(),
        reducer: header.reducer.clone(),
        from: wire_bound(&header.from),
        to: wire_bound(&header.to),
        history_events: header.history_events,
        steps: header.steps,
        redacted: header.redacted.clone(),
        start_state: header.start_state.clone(),
    }
}

fn wire_bound(bound: &Bound) -> WireBound {
    WireBound {
        requested: bound.requested.clone(),
        version: bound.version,
        events: bound.events,
        timestamp: bound.timestamp.as_ref().map(format_time),
    }
}

fn wire_step(step: &Step) -> WireStep {
    let event = &step.event;
    let (data, raw, error) = split_payload(&event.data);
    WireStep {
        step: step.number,
        version: event.version,
        event_type: event.event_type.clone(),
        timestamp: event.timestamp.as_ref().map(format_time),
        data,
        raw,
        error,
        metadata: event.metadata.value(),
        issues: event.issues.iter().map(wire_issue).collect(),
        warnings: step.warnings.clone(),
        problem: step.problem.as_ref().map(|problem| match problem {
            StepProblem::Undecodable(message) => WireProblem {
                kind: "undecodable".into(),
                message: message.clone(),
            },
            StepProblem::ReducerFailed(message) => WireProblem {
                kind: "reducer_failed".into(),
                message: message.clone(),
            },
        }),
        changes: wire_changes(&step.changes),
        state: step.state.clone(),
        snapshots: step.snapshots.iter().map(wire_snapshot).collect(),
    }
}

fn split_payload(payload: &Payload) -> (Value, Option<String>, Option<String>) {
    match payload {
        Payload::Json(value) => (value.value(), None, None),
        Payload::Undecodable { raw, error } => {
            (Value::Null, Some(raw.clone()), Some(error.clone()))
        }
    }
}

fn wire_issue(issue: &EventIssue) -> WireIssue {
    let (kind, detail) = match issue {
        EventIssue::UnparseableTimestamp(raw) => ("unparseable_timestamp", raw),
        EventIssue::BadMetadata(err) => ("bad_metadata", err),
        EventIssue::NullColumn(column) => ("null_column", column),
        EventIssue::BadVersion(raw) => ("bad_version", raw),
    };
    WireIssue {
        kind: kind.into(),
        detail: detail.clone(),
    }
}

fn wire_snapshot(mark: &SnapshotMark) -> WireSnapshot {
    let (state, raw, error) = split_payload(&mark.snapshot.state);
    let (check, differences) = match &mark.outcome {
        SnapshotOutcome::Agrees => ("agrees", Vec::new()),
        SnapshotOutcome::Differs(changes) => ("differs", wire_changes(changes)),
        SnapshotOutcome::Undecodable(_) => ("undecodable", Vec::new()),
        SnapshotOutcome::BeyondHistory => ("beyond_history", Vec::new()),
    };
    WireSnapshot {
        version: mark.snapshot.version,
        created_at: mark.snapshot.timestamp.as_ref().map(format_time),
        state,
        raw,
        error,
        check: check.into(),
        differences,
    }
}

fn wire_changes(changes: &[Change]) -> Vec<WireChange> {
    changes
        .iter()
        .map(|change| WireChange {
            path: change.path.to_string(),
            op: op_name(change.kind).into(),
            old: change.old.clone(),
            new: change.new.clone(),
        })
        .collect()
}

fn op_name(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
    }
}
