//! The data rewind works on: events and their store positions, snapshots, aggregate
//! summaries, histories and transcripts. No I/O here.

mod event;
mod history;
mod json_shape;
mod position;
mod store_position;
mod summary;
pub mod transcript;

pub use event::{Event, EventIssue, JsonText, Payload, Snapshot, SnapshotEntry};
pub use history::{
    Chunk, History, HistoryStart, RecordedState, RecordedStates, RecordedStep, RecordedStepList,
    RecordedSteps, SnapshotOutcome, StepProblem,
};
pub use json_shape::{check_json, parse_bounded, MAX_JSON_DEPTH, MAX_JSON_VALUES};
pub use position::{parse_time, Position, PositionError};
pub use store_position::{PositionInput, SincePoint, SincePointError, StorePosition};
pub use summary::AggregateSummary;

/// Times are always shown as RFC 3339 UTC with a `Z`, seconds precision unless the store kept more.
pub fn format_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
