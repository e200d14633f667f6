//! Writing the JSON Lines transcript (format version [`FORMAT_VERSION`]): one header line,
//! one line per step, one end line. The wire format lives in `model::transcript`, and
//! `source::transcript` reads it back; the README documents it.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::Render;
use crate::diff::{apply_changes, round_trips, Change, ChangeKind};
use crate::model::transcript::wire::{
    WireBound, WireChange, WireClosing, WireEnd, WireHeader, WireIssue, WireProblem, WireSnapshot,
    WireStep,
};
use crate::model::transcript::{
    Bound, Closing, Header, SnapshotMark, Step, FORMAT_VERSION, MAX_LINE_DEPTH, MAX_LINE_VALUES,
};
use crate::model::{format_time, EventIssue, Payload, SnapshotOutcome, StepProblem};
use crate::replay::state_bytes;

/// Writes transcripts as JSON Lines, one line at a time through a reused buffer.
#[derive(Default)]
pub struct JsonLines {
    buffer: Vec<u8>,
    /// The state after the step written last (the start state before the first): what a
    /// step whose state is left out is read back from.
    previous: Option<Value>,
}

/// States up to about this many bytes are written whole on every step; a larger one only
/// where its step's changes do not give it from the state before. A state that grows with
/// every event (a ledger) made a transcript grow with the square of its steps: 20,000
/// entries would have taken about 37 GB.
const WHOLE_STATES_UP_TO: usize = 64 << 10;

impl Render for JsonLines {
    fn header(&mut self, out: &mut dyn Write, header: &Header) -> io::Result<()> {
        self.previous = Some(header.start_state.clone());
        self.line(out, &wire_header(header), "the start state")
    }

    fn step(&mut self, out: &mut dyn Write, _header: &Header, step: &Step) -> io::Result<()> {
        let what = format!("step {} (v{})", step.number, step.event.version);
        let whole = !self.changes_give_the_state(step);
        if whole {
            self.previous = step.state.clone();
        }
        self.line(out, &wire_step(step, whole), &what)
    }

    fn closing(
        &mut self,
        out: &mut dyn Write,
        header: &Header,
        closing: &Closing,
    ) -> io::Result<()> {
        let end = WireEnd {
            end: WireClosing {
                steps: header.steps,
                net: wire_changes(&closing.net),
                state: closing.state.clone(),
                snapshots_beyond: closing.snapshots_beyond.iter().map(wire_snapshot).collect(),
            },
        };
        self.line(out, &end, "the end line")
    }
}

impl JsonLines {
    /// Whether the step's state is large and its changes, applied to the state before
    /// (as a reader will, from their text), make exactly it; if so the state before has
    /// become it, so no copy of a large state is made for a step that leaves it out.
    fn changes_give_the_state(&mut self, step: &Step) -> bool {
        let (Some(state), Some(previous)) = (&step.state, self.previous.as_mut()) else {
            return false;
        };
        state_bytes(state) > WHOLE_STATES_UP_TO
            && step.changes.iter().all(|change| round_trips(&change.path))
            && apply_changes(previous, &step.changes, MAX_LINE_DEPTH).is_ok()
            && previous == state
    }

    /// Writes one line, unless it nests deeper or holds more values than a reader accepts
    /// (a jq reducer can build states of any size): then the export fails rather than
    /// write a file that cannot be read back.
    fn line(&mut self, out: &mut dyn Write, value: &impl Serialize, what: &str) -> io::Result<()> {
        self.buffer.clear();
        crate::display::json::to_writer(&mut self.buffer, value)?;
        if let Err(reason) = crate::model::check_json(&self.buffer, MAX_LINE_DEPTH, MAX_LINE_VALUES)
        {
            return Err(io::Error::other(format!(
                "{what} cannot be written as a transcript line: its JSON is {reason}"
            )));
        }
        self.buffer.push(b'\n');
        out.write_all(&self.buffer)
    }
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
        redacted_unmatched: header.redacted_unmatched.clone(),
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

/// A step's line; its state only if `whole`.
fn wire_step(step: &Step, whole: bool) -> WireStep {
    let event = &step.event;
    let (data, raw, error) = split_payload(&event.data);
    WireStep {
        step: step.number,
        version: event.version,
        event_type: event.event_type.clone(),
        timestamp: event.timestamp.as_ref().map(format_time),
        event_id: event.event_id.clone(),
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
        state: if whole { step.state.clone() } else { None },
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};

    use crate::export::{export, ExportOptions, Format};
    use crate::model::{Event, Payload, StepProblem};
    use crate::replay::{Reducer, Replay};

    /// Wraps the state in one more array per event: states of any depth, as jq can build.
    struct Nesting;

    impl Reducer for Nesting {
        fn name(&self) -> String {
            "nesting".into()
        }

        fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>> {
            events
                .iter()
                .map(|_| {
                    *state = json!([state.take()]);
                    None
                })
                .collect()
        }
    }

    fn transcript_of(events: u64) -> Result<String, crate::export::ExportError> {
        let mut replay = Replay::new(Arc::new(Nesting));
        replay.extend(
            (1..=events)
                .map(|version| Event {
                    aggregate_id: "n".into(),
                    version,
                    event_type: "Wrap".into(),
                    data: Payload::from_value(json!({})),
                    ..Event::default()
                })
                .collect(),
        );
        let options = ExportOptions {
            format: Format::JsonLines,
            source: "test".into(),
            aggregate: "n".into(),
            from: None,
            to: None,
            with_state: false,
            redact: Vec::new(),
            generated_at: None,
        };
        let mut out = Vec::new();
        export(&mut replay, &options, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn every_line_written_reads_back_and_deeper_states_are_refused() {
        let text = transcript_of(128).expect("128 levels are written");
        let read = crate::source::transcript::read(&text).map_err(|e| e.to_string());
        assert_eq!(read.map(|t| t.steps.len()), Ok(128));
        // The step lines of 133 levels still fit; the end line's net change does not.
        let err = match transcript_of(131) {
            Ok(_) => panic!("a state 131 deep was written"),
            Err(err) => err.to_string(),
        };
        assert!(
            err.contains(
                "the end line cannot be written as a transcript line: its JSON is nested deeper than 134 levels"
            ),
            "{err}"
        );
        let err = match transcript_of(140) {
            Ok(_) => panic!("a state 140 deep was written"),
            Err(err) => err.to_string(),
        };
        assert!(
            err.contains("step 134 (v134) cannot be written as a transcript line"),
            "{err}"
        );
    }
}
