//! The transcript model: what a replay looked like, step by step, independent of format.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::diff::{changes, Change};
use crate::model::{Event, Snapshot};
use crate::replay::{Replay, SnapshotCheck, SnapshotOutcome, StepProblem};

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
    /// The jq-style paths whose values were replaced with [`crate::export::REDACTED`].
    pub redacted: Vec<String>,
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
            let marker = code(&Value::from(super::REDACTED).to_string());
            items.push((
                "Redacted",
                format!("{} (values shown as {marker})", paths.join(", ")),
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
    /// The state after the event.
    pub state: Value,
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

/// A replay cut to a range, ready to be walked step by step.
pub struct Plan {
    pub from: usize,
    pub to: usize,
    checks: Vec<SnapshotCheck>,
}

impl Plan {
    /// `from` and `to` are event counts (as `Replay::resolve` gives them), `from <= to`.
    pub fn new(replay: &mut Replay, from: usize, to: usize) -> Plan {
        Plan {
            from,
            to,
            checks: replay.check_snapshots(),
        }
    }

    pub fn header(&self, replay: &mut Replay, requested: [Option<String>; 2]) -> Header {
        let [from_requested, to_requested] = requested;
        let aggregate_type = replay
            .events()
            .iter()
            .find_map(|e| e.aggregate_type.clone());
        Header {
            source: String::new(),
            aggregate: String::new(),
            aggregate_type,
            reducer: replay.reducer_name(),
            rewind_version: env!("CARGO_PKG_VERSION").to_string(),
            generated_at: DateTime::<Utc>::UNIX_EPOCH,
            from: bound(replay, self.from, from_requested),
            to: bound(replay, self.to, to_requested),
            history_events: replay.len(),
            steps: self.to - self.from,
            redacted: Vec::new(),
            start_state: replay.state_after(self.from).clone(),
        }
    }

    /// The step for the event at `index` (0-based in the history).
    pub fn step(&self, replay: &mut Replay, index: usize) -> Step {
        let (before, after) = replay.step(index);
        let warnings = replay
            .warnings()
            .iter()
            .filter(|w| w.index == index)
            .map(|w| w.to_string())
            .collect();
        Step {
            number: index - self.from + 1,
            event: replay.events()[index].clone(),
            warnings,
            problem: replay.problem(index).cloned(),
            changes: changes(&before, &after),
            state: after,
            snapshots: self
                .checks
                .iter()
                .filter(|c| c.count == index + 1 && c.outcome != SnapshotOutcome::BeyondHistory)
                .map(|c| mark(replay, c))
                .collect(),
        }
    }

    pub fn closing(&self, replay: &mut Replay) -> Closing {
        let start = replay.state_after(self.from).clone();
        let state = replay.state_after(self.to).clone();
        let reaches_end = self.to == replay.len();
        Closing {
            net: changes(&start, &state),
            state,
            snapshots_beyond: self
                .checks
                .iter()
                .filter(|c| reaches_end && c.outcome == SnapshotOutcome::BeyondHistory)
                .map(|c| mark(replay, c))
                .collect(),
        }
    }

    /// The indices of the events in the range.
    pub fn indices(&self) -> std::ops::Range<usize> {
        self.from..self.to
    }
}

fn mark(replay: &Replay, check: &SnapshotCheck) -> SnapshotMark {
    SnapshotMark {
        snapshot: replay.snapshots()[check.snapshot].clone(),
        outcome: check.outcome.clone(),
    }
}

fn bound(replay: &Replay, count: usize, requested: Option<String>) -> Bound {
    Bound {
        requested,
        version: replay.version_after(count),
        events: count,
        timestamp: count
            .checked_sub(1)
            .and_then(|i| replay.events()[i].timestamp),
    }
}
