//! The earliest and latest time of aggregates whose stored times SQL cannot order (mixed
//! formats or offsets, epoch numbers as text, times inside compressed payloads): one pass
//! over the times alone, each parsed as an event read would parse it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;

use super::{decode, eventsourcing, SqliteSource};
use crate::source::sql::Codec;
use crate::source::SourceError;

/// Whether a `list_events` row's MIN and MAX of the stored time (columns 3 and 4) are the
/// aggregate's earliest and latest instants, judged from columns 5 to 10 at no per-row cost
/// beyond SQLite's own date parsing:
///
/// - all numbers (SQL orders them before text): yes if both ends are in one unit, seconds
///   or milliseconds, as every number between them then is;
/// - all text: yes if SQLite parses every time (COUNT of julianday = COUNT) and the text
///   MIN and MAX are also the julianday MIN and MAX. SQLite and rewind read the same ISO
///   8601 shapes the same way (no zone is UTC), so mixed formats and offsets that make
///   text order lie are caught; shapes only rewind reads (epoch digits, `t`, an hour
///   alone) leave a julianday NULL and are caught by the count. The caller also needs both
///   ends to parse. Digit strings that SQLite takes for a Julian day (1721060 to 5373484,
///   as epoch seconds the first weeks of 1970) mixed with dates would be misjudged; no
///   store writes those.
/// - a time that may sit in a compressed payload (NULL here, eventsourcing): no.
pub(super) fn order_known(row: &rusqlite::Row<'_>, codec: Codec) -> bool {
    let count = |i| row.get::<_, i64>(i).unwrap_or(0);
    let real = |i| row.get::<_, Option<f64>>(i).ok().flatten();
    if codec == Codec::Eventsourcing && count(5) < count(2) {
        return false;
    }
    let milliseconds = |v: ValueRef<'_>| match v {
        ValueRef::Integer(n) => Some(n.checked_abs().is_none_or(|n| n >= 100_000_000_000)),
        ValueRef::Real(f) => Some(f.abs() >= 1e11),
        _ => None,
    };
    match (row.get_ref_unwrap(3), row.get_ref_unwrap(4)) {
        (ValueRef::Null, ValueRef::Null) => true,
        (ValueRef::Text(_), ValueRef::Text(_)) => {
            count(6) == count(5)
                && real(7).is_some_and(|jd| Some(jd) == real(9))
                && real(8).is_some_and(|jd| Some(jd) == real(10))
        }
        (first, last) => milliseconds(first).is_some_and(|unit| milliseconds(last) == Some(unit)),
    }
}

/// The first and last instant of an aggregate.
pub type TimeRange = (DateTime<Utc>, DateTime<Utc>);

/// The time range of each aggregate.
pub type TimeRanges = HashMap<String, TimeRange>;

impl SqliteSource {
    /// The time range of each aggregate in `wanted` (ids as listed); one that has no
    /// readable time is absent. Runs inside the caller's read transaction.
    pub(super) fn time_ranges(&self, wanted: &HashSet<String>) -> Result<TimeRanges, SourceError> {
        let doing = "list aggregates";
        let mut ranges: HashMap<&str, Option<TimeRange>> =
            wanted.iter().map(|id| (id.as_str(), None)).collect();
        let conn = self.db.get();
        let mut stmt = conn
            .prepare(&self.queries.list_times)
            .map_err(|e| self.error(e, doing))?;
        let mut rows = stmt.query([]).map_err(|e| self.error(e, doing))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            let Some(id) = decode::text(row.get_ref_unwrap(0)) else {
                continue;
            };
            let Some(range) = ranges.get_mut(id.as_str()) else {
                continue;
            };
            let stored = decode::timestamp(row.get_ref_unwrap(1)).ok().flatten();
            let time = match (stored, self.codec) {
                (None, Codec::Eventsourcing) => row
                    .get_ref_unwrap(2)
                    .as_bytes()
                    .ok()
                    .and_then(eventsourcing::event_timestamp),
                (stored, _) => stored,
            };
            if let Some(time) = time {
                *range = Some(range.map_or((time, time), |(first, last)| {
                    (first.min(time), last.max(time))
                }));
            }
        }
        Ok(ranges
            .into_iter()
            .filter_map(|(id, range)| Some((id.to_string(), range?)))
            .collect())
    }
}
