//! An aggregate's history as sources hand it over, and what replay concludes about it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Event, Snapshot, SnapshotEntry};
use crate::diff::Change;

/// A piece of a history as it streams out of a store.
#[derive(Debug)]
pub enum Chunk {
    Events(Vec<Event>),
    /// The aggregate's snapshots, in version order, without their states.
    Snapshots(Vec<SnapshotEntry>),
}

/// Everything a store holds about one aggregate.
#[derive(Debug, Default, Clone)]
pub struct History {
    pub events: Vec<Event>,
    pub snapshots: Vec<Snapshot>,
}

/// Where a history that does not begin at the first event starts: a transcript exported
/// with `--from` holds the events after `version`, and the state they apply to.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryStart {
    pub version: u64,
    /// When the event at `version` happened, if known.
    pub timestamp: Option<DateTime<Utc>>,
    pub state: Value,
}

/// The states a transcript recorded for its steps, handed to replay as data so that a
/// transcript replays to exactly the states its author saw, whatever reducer made them.
/// The steps are read a few at a time (a transcript's stay in its file).
#[derive(Clone)]
pub struct RecordedStates {
    /// The reducer that computed them, as the transcript names it.
    pub reducer: String,
    /// The state before the first step.
    pub start: Value,
    pub steps: Arc<dyn RecordedSteps>,
}

impl std::fmt::Debug for RecordedStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordedStates")
            .field("reducer", &self.reducer)
            .field("steps", &self.steps.len())
            .finish_non_exhaustive()
    }
}

/// The same states: the same steps behind them.
impl PartialEq for RecordedStates {
    fn eq(&self, other: &Self) -> bool {
        self.reducer == other.reducer
            && self.start == other.start
            && Arc::ptr_eq(&self.steps, &other.steps)
    }
}

/// Per step of a transcript: the event's version, the state after it and why it failed.
pub trait RecordedSteps: Send + Sync {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The steps recorded for this version (more than one where a store repeated it), in
    /// step order.
    fn steps_of(&self, version: u64) -> Vec<usize>;

    /// Step `index` (0-based); `None` past the end or when it can no longer be read.
    fn step(&self, index: usize) -> Option<RecordedStep>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordedStep {
    pub version: u64,
    pub state: RecordedState,
    pub problem: Option<StepProblem>,
}

/// What a step recorded of the state after it.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordedState {
    Whole(Value),
    /// Its changes only (a large state): the state before it, changed so, is the state.
    Changes(Vec<Change>),
}

/// Recorded steps held in memory.
pub struct RecordedStepList {
    steps: Vec<RecordedStep>,
    by_version: HashMap<u64, Vec<usize>>,
}

impl RecordedStepList {
    pub fn new(steps: Vec<RecordedStep>) -> RecordedStepList {
        let mut by_version: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, step) in steps.iter().enumerate() {
            by_version.entry(step.version).or_default().push(i);
        }
        RecordedStepList { steps, by_version }
    }
}

impl RecordedSteps for RecordedStepList {
    fn len(&self) -> usize {
        self.steps.len()
    }

    fn steps_of(&self, version: u64) -> Vec<usize> {
        self.by_version.get(&version).cloned().unwrap_or_default()
    }

    fn step(&self, index: usize) -> Option<RecordedStep> {
        self.steps.get(index).cloned()
    }
}

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

/// How a stored snapshot compares with the replayed state at its version.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotOutcome {
    Agrees,
    /// Paths where the snapshot (old) and replay (new) differ.
    Differs(Vec<Change>),
    Undecodable(String),
    /// The snapshot claims a version the history does not reach.
    BeyondHistory,
}
