//! The earliest and latest instant of each aggregate, in the aggregate list's own pass.
//!
//! SQLite's MIN and MAX of a time column compare text, which is not time order once
//! formats or offsets mix (`…T09:00:00Z`, `… 10:00:00`, `…T11:00:00+05:00`), nor for epoch
//! numbers kept as text, nor for times inside an eventsourcing payload. Checking the text
//! order with SQLite's `julianday()` cost a third of the whole list on the 1M store
//! (three more aggregates and three date parses per row); this aggregate function parses
//! each stored time once, as an event read parses it, so the list is right for every
//! store at the cost of one aggregate.

use chrono::{DateTime, Utc};
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::Connection;

use super::{decode, eventsourcing};
use crate::source::sql::TIME_RANGE_FUNCTION;

/// The first and last instant of an aggregate.
pub type TimeRange = (DateTime<Utc>, DateTime<Utc>);

/// The packed result: seconds and nanoseconds of the first, then of the last instant.
const PACKED_LEN: usize = 24;

/// Registers `rewind_time_range(time, payload)` on `conn`: over an aggregate's rows, the
/// earliest and latest of the times rewind reads (the stored time, else the payload's for
/// an eventsourcing store; unreadable ones skipped), packed as [`unpack`] reads it, or NULL
/// when no row has a readable time. Connection-local: nothing is written to the store.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_aggregate_function(TIME_RANGE_FUNCTION, 2, flags, TimeRangeAggregate)
}

/// The range a `rewind_time_range` column holds; `None` for NULL (no readable time).
pub fn unpack(value: ValueRef<'_>) -> Option<TimeRange> {
    let ValueRef::Blob(bytes) = value else {
        return None;
    };
    let bytes: &[u8; PACKED_LEN] = bytes.try_into().ok()?;
    let instant = |at: usize| {
        let seconds = i64::from_le_bytes(bytes[at..at + 8].try_into().ok()?);
        let nanos = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().ok()?);
        DateTime::from_timestamp(seconds, nanos)
    };
    Some((instant(0)?, instant(12)?))
}

fn pack((first, last): TimeRange) -> Vec<u8> {
    let mut packed = Vec::with_capacity(PACKED_LEN);
    for instant in [first, last] {
        packed.extend_from_slice(&instant.timestamp().to_le_bytes());
        packed.extend_from_slice(&instant.timestamp_subsec_nanos().to_le_bytes());
    }
    packed
}

struct TimeRangeAggregate;

impl Aggregate<Option<TimeRange>, ToSqlOutput<'static>> for TimeRangeAggregate {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<TimeRange>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, range: &mut Option<TimeRange>) -> rusqlite::Result<()> {
        let time = match decode::timestamp(ctx.get_raw(0)).ok().flatten() {
            Some(time) => Some(time),
            None => ctx
                .get_raw(1)
                .as_bytes()
                .ok()
                .and_then(eventsourcing::event_timestamp),
        };
        if let Some(time) = time {
            *range = Some(range.map_or((time, time), |(first, last)| {
                (first.min(time), last.max(time))
            }));
        }
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        range: Option<Option<TimeRange>>,
    ) -> rusqlite::Result<ToSqlOutput<'static>> {
        Ok(match range.flatten() {
            Some(range) => ToSqlOutput::Owned(Value::Blob(pack(range))),
            None => ToSqlOutput::Owned(Value::Null),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_of(times: &[&str]) -> Option<TimeRange> {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t(ts)").unwrap();
        for time in times {
            conn.execute("INSERT INTO t VALUES (?1)", [time]).unwrap();
        }
        conn.query_row("SELECT rewind_time_range(ts, NULL) FROM t", [], |row| {
            Ok(unpack(row.get_ref_unwrap(0)))
        })
        .unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn mixed_formats_and_offsets_give_the_instants_not_the_text_order() {
        let range = range_of(&[
            "2026-03-01T09:00:00Z",
            "2026-03-01 10:00:00",
            "2026-03-01T11:00:00+05:00",
        ]);
        assert_eq!(
            range,
            Some((utc("2026-03-01T06:00:00Z"), utc("2026-03-01T10:00:00Z")))
        );
    }

    #[test]
    fn epoch_digits_as_text_and_fractions_are_read_as_an_event_read_reads_them() {
        let range = range_of(&["1772359200", "2026-03-01T10:00:00.250Z", "not a time"]);
        assert_eq!(
            range,
            Some((utc("2026-03-01T10:00:00Z"), utc("2026-03-01T10:00:00.250Z")))
        );
    }

    #[test]
    fn no_readable_time_is_null() {
        assert_eq!(range_of(&["never", ""]), None);
        assert_eq!(range_of(&[]), None);
    }
}
