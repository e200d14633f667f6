//! Rebuilding an aggregate's state at any point of its history.

mod engine;
mod fold;
mod index;
mod merge;
mod recorded;
mod reducer;
mod snapshots;
mod state_size;
mod storage;
mod verify;
mod warnings;

pub use engine::{Replay, ReplayError};
pub use index::Entry;
pub use merge::{merge_patch, merge_patch_text};
pub use recorded::RecordedReducer;
pub use reducer::{JqReducer, MergeReducer, Reducer};
pub use state_size::state_bytes;
pub use storage::{EventPages, PAGE};
pub use verify::SnapshotCheck;
pub use warnings::{warnings_for, Warning, WarningKind};
