//! The data rewind works on: events, snapshots and aggregate summaries. No I/O here.

mod event;
mod position;
mod summary;

pub use event::{nesting_depth, Event, EventIssue, JsonText, Payload, Snapshot, MAX_JSON_DEPTH};
pub use position::{parse_time, Position, PositionError};
pub use summary::AggregateSummary;

/// Times are always shown as RFC 3339 UTC with a `Z`, seconds precision unless the store kept more.
pub fn format_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
