//! SQLite event stores, opened read-only.

mod connection;
pub use connection::store_files;
pub(crate) mod decode;
pub(crate) mod eventsourcing;
mod limits;
mod private_copy;
mod read;
mod rows;
mod schema;
mod time_range;

pub use crate::source::sql::{
    quote_identifier, EventColumns, Preset, SnapshotColumns, SqlMapping as SqliteMapping,
    MAPPING_KEYS, PRESET_NAMES,
};

/// The payload decoders, for fuzzing and for tools that read the same formats.
pub mod codecs {
    pub use super::eventsourcing::{
        decode_event as eventsourcing_event, decode_snapshot as eventsourcing_snapshot,
    };
}

use std::cell::Cell;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::ffi;

use connection::StoreConnection;
use rows::SqliteRow;

use super::sql::{self, Codec, Column, Dialect, Layout, Queries, RowValues};
use super::{EventSource, Query, Resume, Scope, SourceError};
use crate::model::{AggregateSummary, Chunk, Snapshot};

/// SQLite's work on one query, unless the user says otherwise; far above what any healthy
/// store needs (a 1M-event store lists in well under a second).
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub mapping: SqliteMapping,
    /// How long to wait for a writer's lock before giving up with a clear error.
    pub busy_timeout: Duration,
    /// A library's layout, forced; `None` detects it from the tables.
    pub preset: Option<Preset>,
    /// How long SQLite may work on one query before it is stopped (see `limits`).
    pub query_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            mapping: SqliteMapping::default(),
            busy_timeout: Duration::from_secs(5),
            preset: None,
            query_timeout: DEFAULT_QUERY_TIMEOUT,
        }
    }
}

pub struct SqliteSource {
    db: StoreConnection,
    path: PathBuf,
    options: SqliteOptions,
    preset: Preset,
    codec: Codec,
    queries: Queries,
    /// Whether the events table has positions (a view or a WITHOUT ROWID table without a
    /// mapped position column has none).
    positioned: bool,
    /// Event rows decoded so far: lets tests see that a follow poll reads only new rows.
    rows_read: Cell<u64>,
}

impl SqliteSource {
    /// Opens a store read-only and checks that the mapped tables and columns exist.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteSource, SourceError> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|err| {
            SourceError::open_rephrasing(
                format!("cannot open {shown}: {}", plain_io_error(&err)),
                err,
            )
        })?;
        if meta.is_dir() {
            return Err(SourceError::open(format!(
                "{shown} is a directory; give the path of a SQLite file"
            )));
        }
        if meta.len() == 0 {
            return Err(SourceError::open(format!(
                "{shown} is empty (0 bytes), not an event store"
            )));
        }
        let db = StoreConnection::open(path, options.busy_timeout, options.query_timeout)?;
        let mut source = SqliteSource {
            db,
            path: path.to_path_buf(),
            preset: Preset::Native,
            codec: Codec::Plain,
            queries: Layout::from_mapping(
                &SqliteMapping::default(),
                false,
                Dialect::Sqlite,
                &quote_identifier,
                &Default::default(),
            )?
            .queries(),
            options,
            positioned: true,
            rows_read: Cell::new(0),
        };
        let mut layout = source.choose_layout()?;
        if !source.has_positions(&layout)? {
            layout.events.position = Column::null();
            source.positioned = false;
        }
        source.codec = layout.codec;
        source.queries = layout.queries();
        if source.codec == Codec::Eventsourcing {
            source.refuse_unreadable_payloads()?;
        }
        Ok(source)
    }

    /// The preset or mapping this source reads with.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// Event rows decoded since the source was opened.
    pub fn rows_read(&self) -> u64 {
        self.rows_read.get()
    }

    /// An encrypted store cannot be read at all: say so once, at open.
    fn refuse_unreadable_payloads(&self) -> Result<(), SourceError> {
        let reason = eventsourcing::unreadable_store_reason(&self.db.get());
        match reason {
            Some(reason) => Err(SourceError::read(format!(
                "{}: {reason}",
                self.path.display()
            ))),
            None => Ok(()),
        }
    }

    fn error(&self, err: rusqlite::Error, doing: &str) -> SourceError {
        if let Some(message) = self.db.bound_exceeded(&err, doing) {
            return SourceError::read(format!("{}: {message}", self.path.display()));
        }
        sqlite_error(&self.path, err, doing)
    }

    fn snapshot_counts(&self) -> Result<HashMap<String, u64>, SourceError> {
        let Some(sql) = &self.queries.list_snapshots else {
            return Ok(HashMap::new());
        };
        let conn = self.db.get();
        let mut stmt = conn
            .prepare(sql)
            .map_err(|e| self.error(e, "count snapshots"))?;
        let mut rows = stmt
            .query([])
            .map_err(|e| self.error(e, "count snapshots"))?;
        let mut counts = HashMap::new();
        while let Some(row) = rows.next().map_err(|e| self.error(e, "count snapshots"))? {
            // An id stored in several forms (42 and '42') is one aggregate: its counts add up.
            if let Some(id) = decode::text(row.get_ref_unwrap(0)) {
                *counts.entry(id).or_default() += row.get::<_, i64>(1).unwrap_or(0).max(0) as u64;
            }
        }
        Ok(counts)
    }
}

impl EventSource for SqliteSource {
    fn reader(&self) -> Option<Box<dyn EventSource>> {
        let reader = SqliteSource::open(&self.path, self.options.clone()).ok()?;
        Some(Box::new(reader))
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn files(&self) -> Vec<PathBuf> {
        self.db.files()
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let doing = "list aggregates";
        self.db.refresh()?;
        let conn = self.db.get();
        let tx = conn
            .unchecked_transaction()
            .map_err(|e| self.error(e, doing))?;
        let mut snapshot_counts = self.snapshot_counts()?;
        let mut stmt = tx
            .prepare(&self.queries.list_events)
            .map_err(|e| self.error(e, doing))?;
        let mut rows = stmt.query([]).map_err(|e| self.error(e, doing))?;
        let mut summaries = Summaries::default();
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            let times = time_range::unpack(row.get_ref_unwrap(3));
            let row = SqliteRow(row);
            let snapshots = row.text(0).and_then(|id| snapshot_counts.remove(&id));
            let Some(mut summary) =
                sql::summary_from_row(&row, self.codec, snapshots.unwrap_or(0), None)
            else {
                continue;
            };
            summary.first_timestamp = times.map(|t| t.0);
            summary.last_timestamp = times.map(|t| t.1);
            summaries.add(summary);
        }
        Ok(summaries.list)
    }

    fn event_count_hint(&self, aggregate_id: &str) -> Option<usize> {
        let ids = self
            .stored_ids(
                self.queries.find_id.as_deref(),
                aggregate_id,
                "count events",
            )
            .ok()?;
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(&self.queries.count_events).ok()?;
        let count: i64 = stmt.query_row(ids.values, |row| row.get(0)).ok()?;
        usize::try_from(count).ok()
    }

    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        // One read transaction: events, snapshots and the resume point come from the same
        // moment of the store, even while another process appends to it.
        self.db.refresh()?;
        let conn = self.db.get();
        let tx = conn
            .unchecked_transaction()
            .map_err(|e| self.error(e, "read events"))?;
        let sink = &mut super::limited(query.limit, sink);
        let resume = match &query.scope {
            Scope::Aggregate(id) => self.query_aggregate(id, query, sink),
            Scope::Store => self.query_store(query, sink),
        };
        drop(tx);
        resume
    }

    fn snapshot(&self, aggregate_id: &str, key: u64) -> Result<Option<Snapshot>, SourceError> {
        self.db.refresh()?;
        self.read_snapshot(aggregate_id, key)
    }
}

/// The aggregate list, one entry per id as listed: the list's query groups by the stored
/// value, so an id written as INTEGER by one writer and as TEXT by another comes in two
/// rows (and a REAL or BLOB one apart from text that reads the same), merged here. An id
/// keeps the place of its first row.
#[derive(Default)]
struct Summaries {
    list: Vec<AggregateSummary>,
    places: HashMap<String, usize>,
}

impl Summaries {
    fn add(&mut self, summary: AggregateSummary) {
        let Some(&place) = self.places.get(&summary.id) else {
            self.places.insert(summary.id.clone(), self.list.len());
            self.list.push(summary);
            return;
        };
        let merged = &mut self.list[place];
        merged.events += summary.events;
        merged.snapshots += summary.snapshots;
        merged.aggregate_type = least(merged.aggregate_type.take(), summary.aggregate_type);
        merged.first_timestamp = least(merged.first_timestamp, summary.first_timestamp);
        merged.last_timestamp = merged.last_timestamp.max(summary.last_timestamp);
    }
}

/// The lesser of two values, either of which may be missing (as SQL's MIN over both).
fn least<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn plain_io_error(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

/// One line that says what went wrong with the store, in words a person can act on; the
/// SQLite error stays attached as the cause.
fn sqlite_error(path: &Path, err: rusqlite::Error, doing: &str) -> SourceError {
    let shown = path.display();
    match err.sqlite_error_code() {
        Some(ffi::ErrorCode::NotADatabase) => {
            SourceError::open_rephrasing(format!("{shown} is not a SQLite database"), err)
        }
        Some(ffi::ErrorCode::DatabaseCorrupt) => SourceError::read_with(
            format!("{shown} is damaged (truncated or corrupt); could not {doing}"),
            err,
        ),
        Some(ffi::ErrorCode::DatabaseBusy) | Some(ffi::ErrorCode::DatabaseLocked) => {
            SourceError::read_rephrasing(
                format!(
                    "{shown} is locked by another process; gave up waiting to {doing} (raise --lock-timeout to wait longer)"
                ),
                err,
            )
        }
        Some(ffi::ErrorCode::CannotOpen) => {
            SourceError::open_with(format!("cannot open {shown}"), err)
        }
        _ => SourceError::read_with(format!("could not {doing} from {shown}"), err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn summary(
        id: &str,
        ty: Option<&str>,
        events: u64,
        times: Option<(&str, &str)>,
    ) -> AggregateSummary {
        AggregateSummary {
            id: id.into(),
            aggregate_type: ty.map(Into::into),
            events,
            first_timestamp: times.and_then(|t| parse_time(t.0)),
            last_timestamp: times.and_then(|t| parse_time(t.1)),
            snapshots: 1,
        }
    }

    #[test]
    fn rows_of_one_id_in_several_forms_merge_as_sql_would_have_counted_them() {
        let mut list = Summaries::default();
        list.add(summary(
            "42",
            Some("b"),
            2,
            Some(("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z")),
        ));
        list.add(summary("acc-1", None, 1, None));
        list.add(summary(
            "42",
            Some("a"),
            3,
            Some(("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")),
        ));
        list.add(summary("42", None, 1, None));
        let merged = &list.list[0];
        assert_eq!(list.list.len(), 2);
        assert_eq!(
            (merged.id.as_str(), merged.events, merged.snapshots),
            ("42", 6, 3)
        );
        assert_eq!(merged.aggregate_type.as_deref(), Some("a"));
        assert_eq!(merged.first_timestamp, parse_time("2026-01-01T00:00:00Z"));
        assert_eq!(merged.last_timestamp, parse_time("2026-01-03T00:00:00Z"));
        assert_eq!(list.list[1].id, "acc-1");
    }
}
