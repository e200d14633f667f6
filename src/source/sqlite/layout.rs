//! The SQL rewind runs against a store, built once from a validated mapping (every name
//! quoted) or from a preset's constants. Nothing else reaches SQL.

use super::mapping::{quote_identifier, SqliteMapping};
use crate::source::BadOption;

/// SQL expressions, one per field, over the events table.
#[derive(Debug, Clone)]
pub struct EventExprs {
    pub table: String,
    pub aggregate_id: String,
    pub aggregate_type: String,
    pub version: String,
    pub event_type: String,
    pub timestamp: String,
    pub data: String,
    pub metadata: String,
    pub event_id: String,
    /// What orders the whole store: `rowid` or a mapped column.
    pub position: String,
    /// An extra condition rows must meet (presets only, e.g. "only events, not commands").
    pub filter: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct SnapshotExprs {
    pub table: String,
    pub aggregate_id: String,
    pub version: String,
    pub state: String,
    pub created_at: String,
}

/// How stored payloads are turned into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Columns hold what they say: JSON data, a type name, a timestamp.
    Plain,
    /// Python eventsourcing: type from the topic, timestamp and data inside transcoded JSON.
    Eventsourcing,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub events: EventExprs,
    pub snapshots: Option<SnapshotExprs>,
    pub codec: Codec,
}

/// The statements a source prepares. Every event read selects the same columns, in the
/// order `SqliteSource::event_from_row` reads them.
pub struct Queries {
    /// Per aggregate: id, type, count, MIN and MAX of the stored time, then what tells
    /// whether those are its earliest and latest instants (see `time_range::order_known`):
    /// COUNT of times, COUNT, MIN and MAX of SQLite's julianday of them, and the julianday
    /// of the MIN and the MAX.
    pub list_events: String,
    /// Every event's aggregate id and stored time (and, where the time may sit inside a
    /// compressed payload, that payload), for aggregates whose times SQL cannot order.
    pub list_times: String,
    pub count_events: String,
    pub list_snapshots: Option<String>,
    /// One aggregate's events (`?1` the id), in version order.
    pub read_events: String,
    /// One aggregate's events after the one of version `?4` at position `?5`, in its
    /// order: the next page of its history.
    pub read_events_page: String,
    /// One aggregate's events stored after position `?2`, for follow mode: a range scan of
    /// the positions, so a poll reads only what arrived.
    pub read_events_after: String,
    /// The store's events at or after position `?1`, in store order.
    pub read_store: String,
    /// The store's events after position `?1`.
    pub read_store_after: String,
    /// The highest position: where the next read resumes.
    pub last_position: String,
    pub read_snapshots: Option<String>,
}

impl Layout {
    /// Quotes every name of a user mapping; `with_snapshots` once the table is known to exist.
    pub fn from_mapping(
        mapping: &SqliteMapping,
        with_snapshots: bool,
    ) -> Result<Layout, BadOption> {
        let q = |name: &str| quote_identifier(name);
        let opt = |column: &Option<String>| -> Result<String, BadOption> {
            column
                .as_deref()
                .map(q)
                .unwrap_or_else(|| Ok("NULL".into()))
        };
        let e = &mapping.events;
        let events = EventExprs {
            table: q(&e.table)?,
            aggregate_id: q(&e.aggregate_id)?,
            aggregate_type: opt(&e.aggregate_type)?,
            version: q(&e.version)?,
            event_type: q(&e.event_type)?,
            timestamp: opt(&e.timestamp)?,
            data: q(&e.event_data)?,
            metadata: opt(&e.metadata)?,
            event_id: opt(&e.event_id)?,
            position: match &e.position {
                Some(column) => q(column)?,
                None => "rowid".into(),
            },
            filter: None,
        };
        let s = &mapping.snapshots;
        let snapshots = match (&s.table, with_snapshots) {
            (Some(table), true) => Some(SnapshotExprs {
                table: q(table)?,
                aggregate_id: q(&s.aggregate_id)?,
                version: q(&s.version)?,
                state: q(&s.state)?,
                created_at: opt(&s.created_at)?,
            }),
            _ => None,
        };
        Ok(Layout {
            events,
            snapshots,
            codec: Codec::Plain,
        })
    }

    pub fn queries(&self) -> Queries {
        let e = &self.events;
        let filter = e.filter.map_or(String::new(), |f| format!(" AND ({f})"));
        let list_events = format!(
            "SELECT {id}, MIN({ty}), COUNT(*), MIN({ts}), MAX({ts}), COUNT({ts}), \
             COUNT(julianday({ts})), MIN(julianday({ts})), MAX(julianday({ts})), \
             julianday(MIN({ts})), julianday(MAX({ts})) FROM {table} \
             WHERE {id} IS NOT NULL{filter} GROUP BY {id} ORDER BY {id}",
            id = e.aggregate_id,
            ty = e.aggregate_type,
            ts = e.timestamp,
            table = e.table,
        );
        let payload = match self.codec {
            Codec::Eventsourcing => {
                format!("CASE WHEN {} IS NULL THEN {} END", e.timestamp, e.data)
            }
            Codec::Plain => "NULL".into(),
        };
        let list_times = format!(
            "SELECT {id}, {ts}, {payload} FROM {table} WHERE {id} IS NOT NULL{filter}",
            id = e.aggregate_id,
            ts = e.timestamp,
            table = e.table,
        );
        let columns = format!(
            "{ty}, {version}, {event_type}, {ts}, {data}, {metadata}, {position}, {event_id}, {id}",
            ty = e.aggregate_type,
            version = e.version,
            event_type = e.event_type,
            ts = e.timestamp,
            data = e.data,
            metadata = e.metadata,
            position = e.position,
            event_id = e.event_id,
            id = e.aggregate_id,
        );
        let (table, id, position, version) = (&e.table, &e.aggregate_id, &e.position, &e.version);
        let matches = id_matches(table, id, "");
        let read_events = format!(
            "SELECT {columns} FROM {table} WHERE {matches}{filter} ORDER BY {version}, {position}"
        );
        let read_events_page = format!(
            "SELECT {columns} FROM {table} WHERE {matches} AND ({version}, {position}) > (?4, ?5){filter} \
             ORDER BY {version}, {position}"
        );
        // `+id` keeps SQLite off the id index: the positions' range scan reads only new rows.
        let read_events_after = format!(
            "SELECT {columns} FROM {table} WHERE {} AND {position} > ?4{filter} \
             ORDER BY {version}, {position}",
            id_matches(table, id, "+")
        );
        let read_store = format!(
            "SELECT {columns} FROM {table} WHERE {id} IS NOT NULL AND {position} >= ?1{filter} \
             ORDER BY {position}"
        );
        let read_store_after = format!(
            "SELECT {columns} FROM {table} WHERE {id} IS NOT NULL AND {position} > ?1{filter} \
             ORDER BY {position}"
        );
        let last_position = format!("SELECT MAX({position}) FROM {table}");
        let count_events = format!(
            "SELECT COUNT(*) FROM {table} WHERE {matches}{filter}",
            table = e.table,
            matches = id_matches(&e.table, &e.aggregate_id, ""),
        );
        let (list_snapshots, read_snapshots) = match &self.snapshots {
            None => (None, None),
            Some(s) => (
                Some(format!(
                    "SELECT {id}, COUNT(*) FROM {table} WHERE {id} IS NOT NULL GROUP BY {id}",
                    id = s.aggregate_id,
                    table = s.table,
                )),
                Some(format!(
                    "SELECT {version}, {state}, {created} FROM {table} WHERE {matches} ORDER BY {version}",
                    version = s.version,
                    state = s.state,
                    created = s.created_at,
                    table = s.table,
                    matches = id_matches(&s.table, &s.aggregate_id, ""),
                )),
            ),
        };
        Queries {
            list_events,
            list_times,
            count_events,
            list_snapshots,
            read_events,
            read_events_page,
            read_events_after,
            read_store,
            read_store_after,
            last_position,
            read_snapshots,
        }
    }
}

/// `id` equal to the stored value an aggregate id names, bound as `decode::id_params`: the
/// text itself if the table holds it, else the integer (?2) or blob (?3) the text spells,
/// since ids stored as numbers or blobs are listed as `42` or hex. One value is chosen, so
/// two ids that list alike are never read as one history.
/// `prefix` is `+` to keep SQLite from using an index on `id` for the comparison.
fn id_matches(table: &str, id: &str, prefix: &str) -> String {
    format!(
        "{prefix}{id} = (SELECT k FROM (SELECT ?1 AS k, 1 AS o UNION ALL SELECT ?2, 2 UNION ALL \
         SELECT ?3, 3) WHERE k IS NOT NULL AND EXISTS (SELECT 1 FROM {table} WHERE {id} = k) \
         ORDER BY o LIMIT 1)"
    )
}
