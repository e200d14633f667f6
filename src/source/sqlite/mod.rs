//! SQLite event stores, opened read-only.

mod connection;
mod decode;
mod eventsourcing;
mod layout;
mod mapping;
mod preset;

pub use mapping::{quote_identifier, EventColumns, SnapshotColumns, SqliteMapping, MAPPING_KEYS};
pub use preset::{Preset, PRESET_NAMES};

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

use rusqlite::{ffi, ToSql};

use connection::StoreConnection;
use layout::{Codec, Layout, Queries};

use super::{EventSource, Query, Resume, Scope, SourceError, Start};
use crate::model::{AggregateSummary, Chunk, Event, EventIssue, Snapshot, StorePosition};

/// Events are handed out in batches this size, so a front end can show progress.
const BATCH: usize = 2048;

/// How a statement's rows went: whether the sink stopped the read, and how many rows came.
struct RowsRead {
    stopped: bool,
    seen: usize,
}

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub mapping: SqliteMapping,
    /// How long to wait for a writer's lock before giving up with a clear error.
    pub busy_timeout: Duration,
    /// A library's layout, forced; `None` detects it from the tables.
    pub preset: Option<Preset>,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            mapping: SqliteMapping::default(),
            busy_timeout: Duration::from_secs(5),
            preset: None,
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
            SourceError::open(format!("cannot open {shown}: {}", plain_io_error(&err)))
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
        let db = StoreConnection::open(path, options.busy_timeout)
            .map_err(|err| sqlite_error(path, err, "open"))?;
        let mut source = SqliteSource {
            db,
            path: path.to_path_buf(),
            preset: Preset::Native,
            codec: Codec::Plain,
            queries: Layout::from_mapping(&SqliteMapping::default(), false)?.queries(),
            options,
            positioned: true,
            rows_read: Cell::new(0),
        };
        let mut layout = source.choose_layout()?;
        if !source.has_positions(&layout)? {
            layout.events.position = "NULL".into();
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

    /// Whether the position expression gives values: a view has a NULL rowid and a
    /// WITHOUT ROWID table none at all.
    fn has_positions(&self, layout: &Layout) -> Result<bool, SourceError> {
        let e = &layout.events;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IS NOT NULL LIMIT 1",
            e.position, e.table, e.aggregate_id
        );
        let conn = self.db.get();
        let Ok(mut stmt) = conn.prepare(&sql) else {
            return Ok(false);
        };
        let first: Option<Option<i64>> =
            stmt.query_row([], |row| row.get(0))
                .map(Some)
                .or_else(|err| match err {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    err => Err(self.error(err, "read the schema")),
                })?;
        // An empty table cannot say; its rowid will be there once rows are.
        Ok(!matches!(first, Some(None)))
    }

    /// A forced preset, a detected one, or the user's mapping (checked column by column).
    fn choose_layout(&mut self) -> Result<Layout, SourceError> {
        let tables = self.table_names()?;
        let mapping_is_default = self.options.mapping == SqliteMapping::default();
        let detected = (mapping_is_default && !tables.iter().any(|t| t == "events"))
            .then(|| Preset::detect(&tables))
            .flatten();
        let preset = self.options.preset.or(detected).unwrap_or(Preset::Native);
        self.preset = preset;
        if preset == Preset::Native {
            let with_snapshots = self.check_mapping(&tables)?;
            let mut mapping = self.options.mapping.clone();
            let columns = self
                .table_columns(&mapping.events.table)?
                .unwrap_or_default();
            let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
            // The default event id column is read where the table has it.
            if !mapping.event_id_required && !mapping.events.event_id.as_deref().is_some_and(has) {
                mapping.events.event_id = None;
            }
            self.options.mapping = mapping;
            return Ok(Layout::from_mapping(&self.options.mapping, with_snapshots)?);
        }
        let (events, snapshots) = preset.tables();
        if !tables.iter().any(|t| t == events) {
            return Err(SourceError::Schema(format!(
                "{} has no table {events:?}, which the {} preset reads ({})",
                self.path.display(),
                preset.name(),
                listed(&tables)
            )));
        }
        let with_snapshots = snapshots.is_some_and(|s| tables.iter().any(|t| t == s));
        Ok(preset
            .layout(with_snapshots)
            .expect("non-native presets have a layout"))
    }

    /// An encrypted store cannot be read at all: say so once, at open.
    fn refuse_unreadable_payloads(&self) -> Result<(), SourceError> {
        let conn = self.db.get();
        let first: Option<Vec<u8>> = conn
            .query_row("SELECT state FROM stored_events LIMIT 1", [], |row| {
                let value = row.get_ref(0)?;
                Ok(value.as_bytes().map(<[u8]>::to_vec).ok())
            })
            .ok()
            .flatten();
        match first.and_then(|bytes| eventsourcing::unreadable_store_reason(&bytes)) {
            Some(reason) => Err(SourceError::read(format!(
                "{}: {reason}",
                self.path.display()
            ))),
            None => Ok(()),
        }
    }

    fn error(&self, err: rusqlite::Error, doing: &str) -> SourceError {
        sqlite_error(&self.path, err, doing)
    }

    fn table_columns(&self, table: &str) -> Result<Option<Vec<String>>, SourceError> {
        let sql = format!("PRAGMA table_info({})", quote_identifier(table)?);
        let conn = self.db.get();
        let mut stmt = conn
            .prepare(&sql)
            .map_err(|e| self.error(e, "read the schema"))?;
        let names = stmt
            .query_map([], |row| row.get::<_, String>(1))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e, "read the schema"))?;
        Ok((!names.is_empty()).then_some(names))
    }

    fn table_names(&self) -> Result<Vec<String>, SourceError> {
        let conn = self.db.get();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name")
            .map_err(|e| self.error(e, "read the schema"))?;
        let names = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e, "read the schema"));
        names
    }

    /// Checks every mapped column, so a wrong mapping fails at open with a message naming it.
    fn require_columns(
        &self,
        table: &str,
        wanted: &[(&str, &str)],
        mapping: &str,
    ) -> Result<bool, SourceError> {
        let Some(columns) = self.table_columns(table)? else {
            return Ok(false);
        };
        for (field, column) in wanted {
            if !columns.iter().any(|c| c.eq_ignore_ascii_case(column)) {
                return Err(SourceError::Schema(format!(
                    "table {table:?} in {} has no column {column:?} for {field} (columns: {}); mapping in use: {mapping}; fix it with --map or rewind.toml",
                    self.path.display(),
                    columns.join(", ")
                )));
            }
        }
        Ok(true)
    }

    /// Checks every mapped table and column; returns whether the snapshots table exists.
    fn check_mapping(&self, tables: &[String]) -> Result<bool, SourceError> {
        let mapping = &self.options.mapping;
        let e = &mapping.events;
        let mut wanted = vec![
            ("aggregate_id", e.aggregate_id.as_str()),
            ("event_type", e.event_type.as_str()),
            ("event_data", e.event_data.as_str()),
            ("version", e.version.as_str()),
        ];
        let event_id = e.event_id.clone().filter(|_| mapping.event_id_required);
        for (field, column) in [
            ("aggregate_type", &e.aggregate_type),
            ("metadata", &e.metadata),
            ("timestamp", &e.timestamp),
            ("event_id", &event_id),
            ("position", &e.position),
        ] {
            if let Some(column) = column {
                wanted.push((field, column));
            }
        }
        if !self.require_columns(&e.table, &wanted, &mapping.describe_events())? {
            return Err(SourceError::Schema(format!(
                "no table {:?} in {} ({}); mapping in use: {}; point rewind at your table with --map events.table=NAME or rewind.toml, or pick a library layout with --preset ({PRESET_NAMES})",
                e.table,
                self.path.display(),
                listed(tables),
                mapping.describe_events()
            )));
        }
        let s = &mapping.snapshots;
        let Some(table) = &s.table else {
            return Ok(false);
        };
        let mut wanted = vec![
            ("aggregate_id", s.aggregate_id.as_str()),
            ("version", s.version.as_str()),
            ("state", s.state.as_str()),
        ];
        if let Some(created) = &s.created_at {
            wanted.push(("created_at", created));
        }
        let found = self.require_columns(table, &wanted, &mapping.describe_snapshots())?;
        match (found, mapping.snapshots_required) {
            (true, _) => Ok(true),
            (false, false) => Ok(false),
            (false, true) => Err(SourceError::Schema(format!(
                "no snapshots table {table:?} in {}; mapping in use: {}; use --map snapshots.table= for a store without snapshots",
                self.path.display(),
                mapping.describe_snapshots()
            ))),
        }
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
            if let Some(id) = decode::text(row.get_ref_unwrap(0)) {
                counts.insert(id, row.get::<_, i64>(1).unwrap_or(0).max(0) as u64);
            }
        }
        Ok(counts)
    }

    /// Streams the event rows of one statement through the sink in batches, keeping those
    /// the query admits.
    fn read_rows(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        query: &Query,
        skip: usize,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<RowsRead, SourceError> {
        let doing = "read events";
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.error(e, doing))?;
        let mut rows = stmt.query(params).map_err(|e| self.error(e, doing))?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut seen = 0usize;
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            self.rows_read.set(self.rows_read.get() + 1);
            seen += 1;
            if seen <= skip {
                continue;
            }
            let Some(event) = self.event_from_row(row, seen) else {
                continue;
            };
            if !query.admits(&event) {
                continue;
            }
            batch.push(event);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if sink(Chunk::Events(full)).is_break() {
                    return Ok(RowsRead {
                        stopped: true,
                        seen,
                    });
                }
            }
        }
        let stopped = !batch.is_empty() && sink(Chunk::Events(batch)).is_break();
        Ok(RowsRead { stopped, seen })
    }

    fn last_position(&self) -> Result<Option<i64>, SourceError> {
        let conn = self.db.get();
        let mut stmt = conn
            .prepare_cached(&self.queries.last_position)
            .map_err(|e| self.error(e, "read events"))?;
        stmt.query_row([], |row| row.get::<_, Option<i64>>(0))
            .map_err(|e| self.error(e, "read events"))
    }

    fn query_aggregate(
        &self,
        id: &str,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let snapshots = match query.snapshots {
            true => self.read_snapshots(id)?,
            false => Vec::new(),
        };
        let q = &self.queries;
        let read = match (query.resume(), self.positioned) {
            (Some(after), true) => {
                self.read_rows(&q.read_events_after, &[&id, &after.after()], query, 0, sink)?
            }
            // Without positions, a resume point counts the aggregate's events instead.
            (after, false) => {
                let skip = after.map_or(0, |r| usize::try_from(r.after()).unwrap_or(0));
                self.read_rows(&q.read_events, &[&id], query, skip, sink)?
            }
            (None, true) => self.read_rows(&q.read_events, &[&id], query, 0, sink)?,
        };
        if !read.stopped && !snapshots.is_empty() {
            let _ = sink(Chunk::Snapshots(snapshots));
        }
        match self.positioned {
            true => self.resume_point(query),
            false => Ok(Resume::at(read.seen as i64)),
        }
    }

    fn query_store(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        if !self.positioned {
            return Err(SourceError::Schema(format!(
                "the events of {} have no store position (a view, or a table WITHOUT ROWID), so they cannot be read in store order; map a column that orders them with --map events.position=COLUMN",
                self.path.display()
            )));
        }
        let q = &self.queries;
        match &query.start {
            Start::Resume(after) => {
                self.read_rows(&q.read_store_after, &[&after.after()], query, 0, sink)?;
            }
            Start::Position(StorePosition::Seq(first)) => {
                self.read_rows(&q.read_store, &[first], query, 0, sink)?;
            }
            Start::Position(other) => {
                return Err(SourceError::Position(format!(
                    "{other} is a Kafka position; this store numbers its events"
                )))
            }
            Start::Beginning => {
                self.read_rows(&q.read_store, &[&i64::MIN], query, 0, sink)?;
            }
        }
        self.resume_point(query)
    }

    /// The highest position now, or the query's own resume point if that is later.
    fn resume_point(&self, query: &Query) -> Result<Resume, SourceError> {
        let last = self.last_position()?.unwrap_or(i64::MIN);
        Ok(Resume::at(
            query.resume().map_or(last, |given| given.after().max(last)),
        ))
    }

    /// An event from a row of the columns every event query selects; `ordinal` (1-based
    /// row number) stands in for the position of a store that has none.
    fn event_from_row(&self, row: &rusqlite::Row<'_>, ordinal: usize) -> Option<Event> {
        let columns = &self.options.mapping.events;
        let aggregate_id = decode::text(row.get_ref_unwrap(8))?;
        let mut issues = Vec::new();
        let aggregate_type = decode::text(row.get_ref_unwrap(0));
        let version = match decode::version(row.get_ref_unwrap(1)) {
            Some(v) => v,
            None => {
                let raw = decode::text(row.get_ref_unwrap(1)).unwrap_or_else(|| "NULL".into());
                issues.push(EventIssue::BadVersion(raw));
                0
            }
        };
        let event_type = decode::text(row.get_ref_unwrap(2)).unwrap_or_else(|| {
            issues.push(EventIssue::NullColumn(columns.event_type.clone()));
            String::new()
        });
        let timestamp = decode::timestamp(row.get_ref_unwrap(3)).unwrap_or_else(|raw| {
            issues.push(EventIssue::UnparseableTimestamp(raw));
            None
        });
        let mut data = decode::payload(row.get_ref_unwrap(4), &columns.event_data);
        let metadata = decode::metadata(row.get_ref_unwrap(5), &mut issues);
        let position = match row.get_ref_unwrap(6) {
            rusqlite::types::ValueRef::Integer(n) => n,
            _ => ordinal as i64,
        };
        let event_id = decode::text(row.get_ref_unwrap(7));
        let (mut event_type, mut aggregate_type, mut timestamp) =
            (event_type, aggregate_type, timestamp);
        if self.codec == Codec::Eventsourcing {
            let (short, class) = eventsourcing::split_topic(&event_type);
            let bytes = row.get_ref_unwrap(4).as_bytes().unwrap_or_default();
            (data, timestamp) = eventsourcing::decode_event(bytes);
            (event_type, aggregate_type) = (short, class);
        }
        Some(Event {
            aggregate_id,
            aggregate_type,
            version,
            position: StorePosition::Seq(position),
            event_id,
            event_type,
            timestamp,
            data,
            metadata,
            issues,
        })
    }

    fn read_snapshots(&self, aggregate_id: &str) -> Result<Vec<Snapshot>, SourceError> {
        let Some(sql) = &self.queries.read_snapshots else {
            return Ok(Vec::new());
        };
        let doing = "read snapshots";
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.error(e, doing))?;
        let mut rows = stmt
            .query([aggregate_id])
            .map_err(|e| self.error(e, doing))?;
        let mut snapshots = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            // A snapshot whose version cannot be read cannot be placed on the timeline.
            let Some(version) = decode::version(row.get_ref_unwrap(0)) else {
                continue;
            };
            let state = match self.codec {
                Codec::Eventsourcing => eventsourcing::decode_snapshot(
                    row.get_ref_unwrap(1).as_bytes().unwrap_or_default(),
                ),
                Codec::Plain => {
                    decode::payload(row.get_ref_unwrap(1), &self.options.mapping.snapshots.state)
                }
            };
            snapshots.push(Snapshot {
                aggregate_id: aggregate_id.to_string(),
                version,
                state,
                timestamp: decode::timestamp(row.get_ref_unwrap(2)).ok().flatten(),
            });
        }
        Ok(snapshots)
    }
}

impl EventSource for SqliteSource {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let doing = "list aggregates";
        self.db.refresh().map_err(|e| self.error(e, "open"))?;
        let conn = self.db.get();
        let tx = conn
            .unchecked_transaction()
            .map_err(|e| self.error(e, doing))?;
        let mut snapshot_counts = self.snapshot_counts()?;
        let mut stmt = tx
            .prepare(&self.queries.list_events)
            .map_err(|e| self.error(e, doing))?;
        let mut rows = stmt.query([]).map_err(|e| self.error(e, doing))?;
        let mut summaries = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            let Some(id) = decode::text(row.get_ref_unwrap(0)) else {
                continue;
            };
            summaries.push(AggregateSummary {
                snapshots: snapshot_counts.remove(&id).unwrap_or(0),
                aggregate_type: match self.codec {
                    Codec::Eventsourcing => decode::text(row.get_ref_unwrap(1))
                        .and_then(|topic| eventsourcing::aggregate_type(&topic)),
                    Codec::Plain => decode::text(row.get_ref_unwrap(1)),
                },
                events: row.get::<_, i64>(2).unwrap_or(0).max(0) as u64,
                first_timestamp: decode::timestamp(row.get_ref_unwrap(3)).ok().flatten(),
                last_timestamp: decode::timestamp(row.get_ref_unwrap(4)).ok().flatten(),
                id,
            });
        }
        Ok(summaries)
    }

    fn event_count_hint(&self, aggregate_id: &str) -> Option<usize> {
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(&self.queries.count_events).ok()?;
        let count: i64 = stmt.query_row([aggregate_id], |row| row.get(0)).ok()?;
        usize::try_from(count).ok()
    }

    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        // One read transaction: events, snapshots and the resume point come from the same
        // moment of the store, even while another process appends to it.
        self.db.refresh().map_err(|e| self.error(e, "open"))?;
        let conn = self.db.get();
        let tx = conn
            .unchecked_transaction()
            .map_err(|e| self.error(e, "read events"))?;
        let resume = match &query.scope {
            Scope::Aggregate(id) => self.query_aggregate(id, query, sink),
            Scope::Store => self.query_store(query, sink),
        };
        drop(tx);
        resume
    }
}

fn listed(tables: &[String]) -> String {
    if tables.is_empty() {
        "it has no tables".to_string()
    } else {
        format!("tables: {}", tables.join(", "))
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
            SourceError::open(format!("{shown} is not a SQLite database"))
        }
        Some(ffi::ErrorCode::DatabaseCorrupt) => SourceError::read_with(
            format!("{shown} is damaged (truncated or corrupt); could not {doing}"),
            err,
        ),
        Some(ffi::ErrorCode::DatabaseBusy) | Some(ffi::ErrorCode::DatabaseLocked) => {
            SourceError::read(format!(
                "{shown} is locked by another process; gave up waiting to {doing} (raise --lock-timeout to wait longer)"
            ))
        }
        Some(ffi::ErrorCode::CannotOpen) => {
            SourceError::open_with(format!("cannot open {shown}"), err)
        }
        _ => SourceError::read_with(format!("could not {doing} from {shown}"), err),
    }
}
