//! Events and snapshots from the rows of the statements in [`super::Queries`], whatever
//! store the values came from: a bad value becomes an issue on the event, never a failure.

use chrono::{DateTime, FixedOffset, Utc};

use super::layout::Codec;
use super::mapping::SqlMapping;
use crate::model::{
    AggregateSummary, Event, EventIssue, JsonText, Payload, Snapshot, SnapshotEntry, StorePosition,
};
use crate::source::sqlite::eventsourcing as es;

/// Where each field is in a row of an event read (see `Layout::event_columns`).
const TYPE: usize = 0;
const VERSION: usize = 1;
const EVENT_TYPE: usize = 2;
const TIMESTAMP: usize = 3;
const DATA: usize = 4;
const METADATA: usize = 5;
const POSITION: usize = 6;
const EVENT_ID: usize = 7;
const AGGREGATE_ID: usize = 8;

/// One row's values, decoded the way each store types them.
pub trait RowValues {
    /// Text of an identifying column (numbers written out); `None` for NULL.
    fn text(&self, i: usize) -> Option<String>;
    /// A non-negative whole number; `None` when the value is not one.
    fn version(&self, i: usize) -> Option<u64>;
    fn integer(&self, i: usize) -> Option<i64>;
    /// A time, `None` for NULL, the stored text when it is not a time rewind reads.
    fn timestamp(&self, i: usize) -> Result<Option<DateTime<Utc>>, String>;
    /// The UTC offset a time stored as text was written with (see `timestamp::written_offset`).
    fn time_offset(&self, i: usize) -> Option<FixedOffset>;
    /// A JSON payload; NULL or bad JSON is undecodable, with why.
    fn payload(&self, i: usize, column: &str) -> Payload;
    /// The raw bytes of a payload column (for codecs that decode them themselves).
    fn bytes(&self, i: usize) -> &[u8];
    fn is_null(&self, i: usize) -> bool;

    /// Why a value is too long to decode, for stores that hand over any length (SQLite
    /// refuses to build one itself).
    fn too_long(&self, _i: usize) -> Option<String> {
        None
    }

    /// Metadata is optional: NULL is null, and bad JSON is an issue, not a failure.
    fn metadata(&self, i: usize, issues: &mut Vec<EventIssue>) -> JsonText {
        if self.is_null(i) {
            return JsonText::null();
        }
        match self.payload(i, "metadata") {
            Payload::Json(json) => json,
            Payload::Undecodable { error, .. } => {
                issues.push(EventIssue::BadMetadata(error));
                JsonText::null()
            }
        }
    }
}

/// An event from a row of [`EVENT_COLUMNS`]; `ordinal` (1-based row number) stands in for
/// the position of a store that has none. Rows without an aggregate id are skipped.
pub fn event_from_row(
    row: &dyn RowValues,
    mapping: &SqlMapping,
    codec: Codec,
    ordinal: usize,
) -> Option<Event> {
    let columns = &mapping.events;
    let aggregate_id = row.text(AGGREGATE_ID)?;
    let mut issues = Vec::new();
    let mut aggregate_type = row.text(TYPE);
    let version = row.version(VERSION).unwrap_or_else(|| {
        let raw = row.text(VERSION).unwrap_or_else(|| "NULL".into());
        issues.push(EventIssue::BadVersion(raw));
        0
    });
    let mut event_type = row.text(EVENT_TYPE).unwrap_or_else(|| {
        issues.push(EventIssue::NullColumn(columns.event_type.clone()));
        String::new()
    });
    let mut timestamp = row.timestamp(TIMESTAMP).unwrap_or_else(|raw| {
        issues.push(EventIssue::UnparseableTimestamp(raw));
        None
    });
    let mut time_offset = timestamp.and(row.time_offset(TIMESTAMP));
    let data = match (row.too_long(DATA), codec) {
        (Some(error), _) => Payload::Undecodable {
            raw: String::new(),
            error,
        },
        (None, Codec::Plain) => row.payload(DATA, &columns.event_data),
        (None, Codec::Eventsourcing) => {
            let (data, inner_time) = es::decode_event(row.bytes(DATA));
            timestamp = inner_time;
            time_offset = None;
            data
        }
    };
    let metadata = row.metadata(METADATA, &mut issues);
    let position = row.integer(POSITION).unwrap_or(ordinal as i64);
    let event_id = row.text(EVENT_ID);
    if codec == Codec::Eventsourcing {
        (event_type, aggregate_type) = es::split_topic(&event_type);
    }
    Some(Event {
        aggregate_id,
        aggregate_type,
        version,
        position: StorePosition::Seq(position),
        event_id,
        event_type,
        timestamp,
        time_offset,
        data,
        metadata,
        issues,
    })
}

/// A snapshot from a row of (version, state, created_at); one whose version cannot be read
/// cannot be placed on the timeline, so it is left out.
pub fn snapshot_from_row(
    row: &dyn RowValues,
    aggregate_id: &str,
    mapping: &SqlMapping,
    codec: Codec,
) -> Option<Snapshot> {
    let version = row.version(0)?;
    let state = match (row.too_long(1), codec) {
        (Some(error), _) => Payload::Undecodable {
            raw: String::new(),
            error,
        },
        (None, Codec::Eventsourcing) => es::decode_snapshot(row.bytes(1)),
        (None, Codec::Plain) => row.payload(1, &mapping.snapshots.state),
    };
    Some(Snapshot {
        aggregate_id: aggregate_id.to_string(),
        version,
        state,
        timestamp: row.timestamp(2).ok().flatten(),
    })
}

/// A snapshot's entry from a row of `SnapshotQueries::entries` (version, time), keyed by
/// `place`, the row's place among them (what `SnapshotQueries::one` skips to); `None` for
/// a row whose version is no whole number, which still takes its place.
pub fn snapshot_entry_from_row(row: &dyn RowValues, place: u64) -> Option<SnapshotEntry> {
    Some(SnapshotEntry {
        version: row.version(0)?,
        timestamp: row.timestamp(1).ok().flatten(),
        key: place,
    })
}

/// An aggregate from a row of the aggregate list (id, type, events, then the first and
/// last time where `times_at` says; `None`: the caller reads them its own way);
/// `snapshots` is counted separately.
pub fn summary_from_row(
    row: &dyn RowValues,
    codec: Codec,
    snapshots: u64,
    times_at: Option<(usize, usize)>,
) -> Option<AggregateSummary> {
    let id = row.text(0)?;
    let aggregate_type = match codec {
        Codec::Eventsourcing => row.text(1).and_then(|topic| es::aggregate_type(&topic)),
        Codec::Plain => row.text(1),
    };
    Some(AggregateSummary {
        id,
        aggregate_type,
        events: row.integer(2).unwrap_or(0).max(0) as u64,
        first_timestamp: times_at.and_then(|(first, _)| row.timestamp(first).ok().flatten()),
        last_timestamp: times_at.and_then(|(_, last)| row.timestamp(last).ok().flatten()),
        snapshots,
    })
}
