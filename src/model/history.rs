//! An aggregate's history as sources hand it over, and what replay concludes about it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Event, Snapshot};
use crate::diff::Change;

/// A piece of a history as it streams out of a store.
#[derive(Debug)]
pub enum Chunk {
    Events(Vec<Event>),
    Snapshots(Vec<Snapshot>),
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
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedStates {
    /// The reducer that computed them, as the transcript names it.
    pub reducer: String,
    /// The state before the first step.
    pub start: Value,
    /// Per step: the event's version, the state after it and why it failed, if it did.
    pub steps: Vec<RecordedStep>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordedStep {
    pub version: u64,
    pub state: Value,
    pub problem: Option<StepProblem>,
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
