//! Rebuilding an aggregate's state at any point of its history.

mod engine;
mod merge;
mod reducer;
mod verify;
mod warnings;

pub use engine::{Replay, ReplayError, StepProblem};
pub use merge::{merge_patch, merge_patch_text};
pub use reducer::{JqReducer, MergeReducer, Reducer};
pub use verify::{SnapshotCheck, SnapshotOutcome};
pub use warnings::{Warning, WarningKind};
