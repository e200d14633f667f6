//! The replay engine: one fold over the history, checkpoints, and a cursor that makes
//! stepping cheap.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::reducer::Reducer;
use super::warnings::{self, Warning};
use crate::jq::Checkpoints;
use crate::model::{Event, Position, Snapshot};
use crate::source::{EventSource, History, HistoryStart, SourceError};

/// States are kept every this many events, so reaching any position applies fewer events.
const CHECKPOINT_EVERY: usize = 64;

/// Why an event left the state unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepProblem {
    /// The stored payload is not JSON.
    Undecodable(String),
    /// The reducer refused the event.
    ReducerFailed(String),
}

impl std::fmt::Display for StepProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepProblem::Undecodable(err) => write!(f, "payload not decoded: {err}"),
            StepProblem::ReducerFailed(err) => write!(f, "reducer failed: {err}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("no version {wanted}: this aggregate's versions end at {last}")]
    VersionBeyondEnd { wanted: u64, last: u64 },
    #[error(
        "no event of this aggregate has a timestamp, so a time cannot be placed; use a version"
    )]
    NoTimestamps,
    #[error("{wanted} is before this history starts (it holds what came after v{start}); give a later position")]
    BeforeStart { wanted: Position, start: u64 },
}

/// A replayed aggregate. Positions are counts: `state_after(n)` is the state once the first
/// `n` events have been applied, from `0` (null) to `len()` (the latest state).
pub struct Replay {
    reducer: Arc<dyn Reducer>,
    events: Vec<Event>,
    snapshots: Vec<Snapshot>,
    /// `checkpoints[k]` is the state after `k * CHECKPOINT_EVERY` events.
    checkpoints: Vec<Value>,
    head: Value,
    problems: BTreeMap<usize, StepProblem>,
    warnings: Vec<Warning>,
    cursor: Option<(usize, Value)>,
    /// Version and time of the event before the first one held, for a history that starts
    /// part-way (a transcript exported with `--from`).
    start: Option<(u64, Option<DateTime<Utc>>)>,
}

impl Replay {
    pub fn new(reducer: Arc<dyn Reducer>) -> Replay {
        Replay {
            reducer,
            events: Vec::new(),
            snapshots: Vec::new(),
            checkpoints: vec![Value::Null],
            head: Value::Null,
            problems: BTreeMap::new(),
            warnings: Vec::new(),
            cursor: None,
            start: None,
        }
    }

    /// A replay of a history that starts part-way: position 0 is `start`'s state and
    /// version instead of the empty state at v0.
    pub fn starting_at(reducer: Arc<dyn Reducer>, start: HistoryStart) -> Replay {
        let mut replay = Replay::new(reducer);
        replay.checkpoints = vec![start.state.clone()];
        replay.head = start.state;
        replay.start = Some((start.version, start.timestamp));
        replay
    }

    /// Reads one aggregate from a source and replays it, from where the source's history
    /// starts.
    pub fn load(
        source: &dyn EventSource,
        aggregate_id: &str,
        reducer: Arc<dyn Reducer>,
    ) -> Result<Replay, SourceError> {
        let history = source.history(aggregate_id)?;
        let mut replay = match source.history_start(aggregate_id) {
            Some(start) => Replay::starting_at(reducer, start),
            None => Replay::new(reducer),
        };
        replay.extend(history.events);
        replay.set_snapshots(history.snapshots);
        Ok(replay)
    }

    pub fn from_history(history: History, reducer: Arc<dyn Reducer>) -> Replay {
        let mut replay = Replay::new(reducer);
        replay.extend(history.events);
        replay.set_snapshots(history.snapshots);
        replay
    }

    /// Makes room for `additional` more events, so a history streamed in chunks is not
    /// copied as its vector grows (and does not keep up to half of it unused).
    pub fn reserve(&mut self, additional: usize) {
        self.events.reserve_exact(additional);
    }

    /// Appends events (in version order) and folds them into the latest state.
    pub fn extend(&mut self, events: Vec<Event>) {
        let first_new = self.events.len();
        for (offset, event) in events.iter().enumerate() {
            let previous = match offset {
                0 => self.events.last().map(|e| (e.version, e.timestamp)),
                _ => Some((events[offset - 1].version, events[offset - 1].timestamp)),
            }
            .or(self.start);
            warnings::check(first_new + offset, event, previous, &mut self.warnings);
        }
        if self.events.is_empty() && self.events.capacity() < events.len() {
            // Take the loaded vector as it is: copying it would hold the history twice.
            self.events = events;
        } else {
            self.events.extend(events);
        }
        // One fold over the new events, capturing the state at each checkpoint boundary.
        let boundaries = Checkpoints {
            first: (first_new / CHECKPOINT_EVERY + 1) * CHECKPOINT_EVERY - first_new,
            every: CHECKPOINT_EVERY,
        };
        let checkpoints = &mut self.checkpoints;
        let outcomes = self.reducer.apply_checkpointed(
            &mut self.head,
            &self.events[first_new..],
            boundaries,
            &mut |state| checkpoints.push(state.clone()),
        );
        for (offset, problem) in outcomes.into_iter().enumerate() {
            if let Some(problem) = problem {
                self.problems.insert(first_new + offset, problem);
            }
        }
    }

    pub fn set_snapshots(&mut self, mut snapshots: Vec<Snapshot>) {
        snapshots.sort_by_key(|s| s.version);
        self.snapshots = snapshots;
    }

    pub fn reducer_name(&self) -> String {
        self.reducer.name()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn snapshots(&self) -> &[Snapshot] {
        &self.snapshots
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Why the event at `index` (0-based) left the state unchanged, if it did.
    pub fn problem(&self, index: usize) -> Option<&StepProblem> {
        self.problems.get(&index)
    }

    pub fn problems(&self) -> impl Iterator<Item = (usize, &StepProblem)> {
        self.problems.iter().map(|(i, p)| (*i, p))
    }

    pub fn latest(&self) -> &Value {
        &self.head
    }

    /// The state after the first `count` events (clamped to the history's length).
    pub fn state_after(&mut self, count: usize) -> &Value {
        let count = count.min(self.events.len());
        if count == self.events.len() {
            return &self.head;
        }
        let checkpoint = count / CHECKPOINT_EVERY;
        let start = checkpoint * CHECKPOINT_EVERY;
        // Resume from the cursor when it lies between the checkpoint and the target:
        // that is what makes single steps forward cost one event.
        let reuse = matches!(&self.cursor, Some((at, _)) if *at >= start && *at <= count);
        let (from, mut state) = match self.cursor.take() {
            Some((at, state)) if reuse => (at, state),
            _ => (start, self.checkpoints[checkpoint].clone()),
        };
        // Outcomes were recorded by the first fold; a deterministic reducer repeats them.
        let _ = self
            .reducer
            .apply_all(&mut state, &self.events[from..count]);
        &self.cursor.insert((count, state)).1
    }

    /// The states before and after the event at `index` (0-based).
    pub fn step(&mut self, index: usize) -> (Value, Value) {
        let before = self.state_after(index).clone();
        let after = self.state_after(index + 1).clone();
        (before, after)
    }

    /// How many events a position includes.
    pub fn resolve(&self, position: Position) -> Result<usize, ReplayError> {
        if let Some((start, start_time)) = self.start {
            let before = match position {
                Position::Version(wanted) => wanted < start,
                Position::Time(time) => start_time.is_some_and(|t| time < t),
            };
            if before {
                return Err(ReplayError::BeforeStart {
                    wanted: position,
                    start,
                });
            }
        }
        match position {
            Position::Version(wanted) => {
                let last = self.events.last().map_or(0, |e| e.version);
                if wanted > last {
                    return Err(ReplayError::VersionBeyondEnd { wanted, last });
                }
                Ok(self.count_through_version(wanted))
            }
            Position::Time(time) => {
                if self.events.iter().all(|e| e.timestamp.is_none()) && !self.events.is_empty() {
                    return Err(ReplayError::NoTimestamps);
                }
                Ok(self
                    .events
                    .iter()
                    .rposition(|e| e.timestamp.is_some_and(|t| t <= time))
                    .map_or(0, |i| i + 1))
            }
        }
    }

    /// The number of events whose version is at most `version` (events are in version order).
    pub fn count_through_version(&self, version: u64) -> usize {
        self.events.partition_point(|e| e.version <= version)
    }

    /// The version reached after `count` events (0, or where the history starts, before
    /// the first event).
    pub fn version_after(&self, count: usize) -> u64 {
        count
            .checked_sub(1)
            .and_then(|i| self.events.get(i))
            .map_or(self.start_version(), |e| e.version)
    }

    /// The version position 0 stands for: 0, unless the history starts part-way.
    pub fn start_version(&self) -> u64 {
        self.start.map_or(0, |(version, _)| version)
    }

    pub fn state_at(&mut self, position: Position) -> Result<&Value, ReplayError> {
        let count = self.resolve(position)?;
        Ok(self.state_after(count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse_time, Payload, Snapshot};
    use crate::replay::{MergeReducer, SnapshotOutcome, WarningKind};
    use serde_json::json;

    fn event(version: u64, at: &str, data: Payload) -> Event {
        Event {
            aggregate_id: "a".into(),
            aggregate_type: None,
            version,
            event_type: "T".into(),
            timestamp: parse_time(at),
            data,
            metadata: crate::model::JsonText::null(),
            issues: Vec::new(),
        }
    }

    fn replay(events: Vec<Event>) -> Replay {
        let mut replay = Replay::new(Arc::new(MergeReducer));
        replay.extend(events);
        replay
    }

    #[test]
    fn undecodable_events_leave_state_unchanged_and_are_reported() {
        let mut r = replay(vec![
            event(1, "2026-01-01", Payload::from_value(json!({"n": 1}))),
            event(2, "2026-01-02", Payload::from_json_text("{oops")),
            event(3, "2026-01-03", Payload::from_value(json!({"m": 3}))),
        ]);
        assert_eq!(r.state_after(2), &json!({"n": 1}));
        assert_eq!(r.latest(), &json!({"n": 1, "m": 3}));
        assert!(matches!(r.problem(1), Some(StepProblem::Undecodable(_))));
        assert_eq!(r.problem(0), None);
    }

    #[test]
    fn gaps_duplicates_and_backwards_time_are_warnings() {
        let r = replay(vec![
            event(2, "2026-01-02", Payload::from_value(json!({}))),
            event(3, "2026-01-01", Payload::from_value(json!({}))),
            event(3, "2026-01-03", Payload::from_value(json!({}))),
            event(7, "2026-01-04", Payload::from_value(json!({}))),
        ]);
        let kinds: Vec<(usize, &WarningKind)> =
            r.warnings().iter().map(|w| (w.index, &w.kind)).collect();
        assert!(matches!(
            kinds[0],
            (0, WarningKind::VersionGap { expected: 1 })
        ));
        assert!(matches!(
            kinds[1],
            (1, WarningKind::TimestampBackwards { .. })
        ));
        assert!(matches!(kinds[2], (2, WarningKind::DuplicateVersion)));
        assert!(matches!(
            kinds[3],
            (3, WarningKind::VersionGap { expected: 4 })
        ));
    }

    #[test]
    fn positions_resolve_to_event_counts() {
        let r = replay(vec![
            event(1, "2026-01-01T10:00:00Z", Payload::from_value(json!({}))),
            event(2, "2026-01-01T11:00:00Z", Payload::from_value(json!({}))),
            event(4, "2026-01-01T12:00:00Z", Payload::from_value(json!({}))),
        ]);
        assert_eq!(r.resolve(Position::Version(0)), Ok(0));
        assert_eq!(r.resolve(Position::Version(2)), Ok(2));
        // Version 3 is in a gap: the state is the one after v2.
        assert_eq!(r.resolve(Position::Version(3)), Ok(2));
        assert_eq!(
            r.resolve(Position::Version(5)),
            Err(ReplayError::VersionBeyondEnd { wanted: 5, last: 4 })
        );
        let at = |t: &str| r.resolve(Position::Time(parse_time(t).unwrap()));
        assert_eq!(at("2026-01-01T09:00:00Z"), Ok(0));
        assert_eq!(at("2026-01-01T11:30:00Z"), Ok(2));
        assert_eq!(at("2027-01-01"), Ok(3));
        assert_eq!(r.version_after(3), 4);
    }

    #[test]
    fn snapshots_are_checked_against_replay() {
        let mut r = replay(
            (1..=4)
                .map(|v| event(v, "2026-01-01", Payload::from_value(json!({"n": v}))))
                .collect(),
        );
        let snapshot = |version, state: Value| Snapshot {
            aggregate_id: "a".into(),
            version,
            state: Payload::from_value(state),
            timestamp: None,
        };
        r.set_snapshots(vec![
            snapshot(9, json!({})),
            snapshot(2, json!({"n": 2})),
            snapshot(3, json!({"n": 30})),
        ]);
        let checks = r.check_snapshots();
        assert_eq!(checks[0].outcome, SnapshotOutcome::Agrees);
        let SnapshotOutcome::Differs(changes) = &checks[1].outcome else {
            panic!("v3 should differ: {:?}", checks[1]);
        };
        assert_eq!(changes[0].path.to_string(), ".n");
        assert_eq!(changes[0].old, Some(json!(30)));
        assert_eq!(changes[0].new, Some(json!(3)));
        assert_eq!(checks[2].outcome, SnapshotOutcome::BeyondHistory);
    }
}
