//! Differences between two states: structural (paths, RFC 6902) and textual (unified).

mod apply;
mod path;
mod structural;
mod summary;
mod text;

pub use apply::{apply_changes, round_trips};
pub use path::{JsonPath, PathError, Segment};
pub use structural::{changes, json_patch, Change, ChangeKind};
pub use summary::{by_key, change_line, summary};
pub use text::{pretty, unified};
