//! The earliest and latest time of aggregates whose stored times SQL cannot order (mixed
//! formats or offsets, epoch numbers as text, times inside compressed payloads): one pass
//! over the times alone, each parsed as an event read would parse it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::layout::Codec;
use super::{decode, eventsourcing, SqliteSource};
use crate::source::SourceError;

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
