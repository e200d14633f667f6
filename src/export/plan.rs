//! Walking a replay into the steps of a transcript (the model's `transcript` types).

use chrono::{DateTime, Utc};

use crate::diff::changes;
use crate::model::transcript::{Bound, Closing, Header, SnapshotMark, Step};
use crate::model::SnapshotOutcome;
use crate::replay::{Replay, ReplayError, SnapshotCheck};

/// A replay cut to a range, ready to be walked step by step.
pub struct Plan {
    pub from: usize,
    pub to: usize,
    checks: Vec<SnapshotCheck>,
    /// The state after the first `.0` events, handed back by the step written last: the
    /// next step's state before, so a large state is copied once a step, not twice.
    before: Option<(usize, serde_json::Value)>,
}

impl Plan {
    /// `from` and `to` are event counts (as `Replay::resolve` gives them), `from <= to`.
    pub fn new(replay: &mut Replay, from: usize, to: usize) -> Result<Plan, ReplayError> {
        Ok(Plan {
            from,
            to,
            checks: replay.check_snapshots()?,
            before: None,
        })
    }

    pub fn header(
        &self,
        replay: &mut Replay,
        requested: [Option<String>; 2],
    ) -> Result<Header, ReplayError> {
        let [from_requested, to_requested] = requested;
        // An aggregate has one type; its first event names it.
        let aggregate_type = match replay.is_empty() {
            true => None,
            false => replay.event(0)?.aggregate_type,
        };
        Ok(Header {
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
            redacted_unmatched: Vec::new(),
            start_state: replay.state_after(self.from)?.clone(),
        })
    }

    /// The step for the event at `index` (0-based in the history).
    pub fn step(&mut self, replay: &mut Replay, index: usize) -> Result<Step, ReplayError> {
        let event = replay.event(index)?;
        let before = match self.before.take() {
            Some((count, state)) if count == index => state,
            _ => replay.state_after(index)?.clone(),
        };
        let after = replay.state_after(index + 1)?.clone();
        let warnings = replay
            .warnings()
            .iter()
            .filter(|w| w.index == index)
            .map(|w| w.to_string())
            .collect();
        Ok(Step {
            number: index - self.from + 1,
            event,
            warnings,
            problem: replay.problem(index).cloned(),
            changes: changes(&before, &after),
            state: Some(after),
            snapshots: self.marks(replay, |c| {
                c.count == index + 1 && c.outcome != SnapshotOutcome::BeyondHistory
            })?,
        })
    }

    pub fn closing(&self, replay: &mut Replay) -> Result<Closing, ReplayError> {
        let start = replay.state_after(self.from)?.clone();
        let state = replay.state_after(self.to)?.clone();
        let reaches_end = self.to == replay.len();
        Ok(Closing {
            net: changes(&start, &state),
            state,
            snapshots_beyond: self.marks(replay, |c| {
                reaches_end && c.outcome == SnapshotOutcome::BeyondHistory
            })?,
        })
    }

    /// The snapshots of the checks `wanted` picks, each read from the store as it is
    /// written out.
    fn marks(
        &self,
        replay: &mut Replay,
        wanted: impl Fn(&SnapshotCheck) -> bool,
    ) -> Result<Vec<SnapshotMark>, ReplayError> {
        let mut marks = Vec::new();
        for check in self.checks.iter().filter(|c| wanted(c)) {
            marks.push(SnapshotMark {
                snapshot: replay.snapshot(check.snapshot)?,
                outcome: check.outcome.clone(),
            });
        }
        Ok(marks)
    }

    /// Takes back the state of a step that was written (unredacted: as replay made it).
    pub fn hand_back(&mut self, step: &mut Step, index: usize) {
        if let Some(state) = step.state.take() {
            self.before = Some((index + 1, state));
        }
    }

    /// The indices of the events in the range.
    pub fn indices(&self) -> std::ops::Range<usize> {
        self.from..self.to
    }
}

fn bound(replay: &Replay, count: usize, requested: Option<String>) -> Bound {
    Bound {
        requested,
        version: replay.version_after(count),
        events: count,
        timestamp: replay.time_after(count),
    }
}
