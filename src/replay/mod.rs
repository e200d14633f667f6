//! Rebuilding an aggregate's state at any point of its history.

mod engine;
mod reducer;
mod verify;
mod warnings;

pub use engine::{Replay, ReplayError, StepProblem};
pub use reducer::{merge_patch, JqReducer, MergeReducer, Reducer};
pub use verify::{SnapshotCheck, SnapshotOutcome};
pub use warnings::{Warning, WarningKind};
