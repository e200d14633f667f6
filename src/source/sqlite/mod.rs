//! SQLite event stores, opened read-only.

mod connection;
pub use connection::store_files;
pub(crate) mod decode;
pub(crate) mod eventsourcing;
mod limits;
mod private_copy;
mod rows;
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

use rusqlite::{ffi, ToSql};

use connection::StoreConnection;
use rows::SqliteRow;

use super::sql::{self, Catalog, Codec, Column, Dialect, Layout, Queries, RowValues};
use super::{EventSource, Query, Resume, Scope, SourceError, Start};
use crate::model::{AggregateSummary, Chunk, Snapshot, StorePosition};

/// Events are handed out in batches this size, so a front end can show progress.
const BATCH: usize = 2048;

/// How a statement's rows went: whether the sink stopped the read, and how many rows came.
struct RowsRead {
    stopped: bool,
    seen: usize,
}

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

    /// Whether the position expression gives values: a view has a NULL rowid and a
    /// WITHOUT ROWID table none at all.
    fn has_positions(&self, layout: &Layout) -> Result<bool, SourceError> {
        let e = &layout.events;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IS NOT NULL LIMIT 1",
            e.position.sql, e.table, e.aggregate_id.sql
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
        if !preset.available_in(Dialect::Sqlite) {
            return Err(SourceError::Option(super::BadOption(format!(
                "the {} preset reads PostgreSQL stores; {} is a SQLite file",
                preset.name(),
                self.path.display()
            ))));
        }
        if preset == Preset::Native {
            let catalog = SqliteCatalog {
                source: self,
                tables,
            };
            let checked = sql::check_mapping(&catalog, &self.options.mapping)?;
            self.options.mapping = checked.mapping;
            return Ok(Layout::from_mapping(
                &self.options.mapping,
                checked.with_snapshots,
                Dialect::Sqlite,
                &quote_identifier,
                &Default::default(),
            )?);
        }
        let (events, snapshots) = preset.tables();
        if !tables.iter().any(|t| t == events) {
            return Err(SourceError::Schema(format!(
                "{} has no table {events:?}, which the {} preset reads ({})",
                self.path.display(),
                preset.name(),
                sql::listed(&tables)
            )));
        }
        let with_snapshots = snapshots.is_some_and(|s| tables.iter().any(|t| t == s));
        Ok(preset
            .layout(with_snapshots)
            .expect("non-native presets have a layout"))
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
            let row = SqliteRow(row);
            let Some(event) = sql::event_from_row(&row, &self.options.mapping, self.codec, seen)
            else {
                continue;
            };
            if !query.admits(&event) {
                continue;
            }
            batch.push(event);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if self.db.outside(|| sink(Chunk::Events(full))).is_break() {
                    return Ok(RowsRead {
                        stopped: true,
                        seen,
                    });
                }
            }
        }
        let stopped =
            !batch.is_empty() && self.db.outside(|| sink(Chunk::Events(batch))).is_break();
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
        if let Start::After { version, position } = &query.start {
            let [text, integer, blob] = decode::id_params(id);
            let _ = match (self.positioned, position) {
                (true, StorePosition::Seq(at)) => {
                    let version = i64::try_from(*version).unwrap_or(i64::MAX);
                    let params: [&dyn ToSql; 5] = [&text, &integer, &blob, &version, at];
                    self.read_rows(&q.read_events_page, &params, query, 0, sink)?
                }
                // Without positions, an event's position is its place in the history.
                (false, StorePosition::Seq(at)) => {
                    let skip = usize::try_from(*at).unwrap_or(0);
                    self.read_rows(&q.read_events, &[&text, &integer, &blob], query, skip, sink)?
                }
                (_, other) => {
                    return Err(SourceError::Position(format!(
                        "{other} is a Kafka position; this store numbers its events"
                    )))
                }
            };
            return self.resume_point(query);
        }
        let read = match (query.resume(), self.positioned) {
            (Some(after), true) => {
                let [text, integer, blob] = decode::id_params(id);
                self.read_rows(
                    &q.read_events_after,
                    &[&text, &integer, &blob, &after.after()],
                    query,
                    0,
                    sink,
                )?
            }
            // Without positions, a resume point counts the aggregate's events instead.
            (after, false) => {
                let skip = after.map_or(0, |r| usize::try_from(r.after()).unwrap_or(0));
                let [text, integer, blob] = decode::id_params(id);
                self.read_rows(&q.read_events, &[&text, &integer, &blob], query, skip, sink)?
            }
            (None, true) => {
                let [text, integer, blob] = decode::id_params(id);
                self.read_rows(&q.read_events, &[&text, &integer, &blob], query, 0, sink)?
            }
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
            Start::After { .. } => {
                return Err(SourceError::Position(
                    "pages after an event are read per aggregate, not across the store".into(),
                ))
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

    fn read_snapshots(&self, aggregate_id: &str) -> Result<Vec<Snapshot>, SourceError> {
        let Some(sql) = &self.queries.read_snapshots else {
            return Ok(Vec::new());
        };
        let doing = "read snapshots";
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.error(e, doing))?;
        let mut rows = stmt
            .query(decode::id_params(aggregate_id))
            .map_err(|e| self.error(e, doing))?;
        let mut snapshots = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            snapshots.extend(sql::snapshot_from_row(
                &SqliteRow(row),
                aggregate_id,
                &self.options.mapping,
                self.codec,
            ));
        }
        Ok(snapshots)
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
        connection::store_files(&self.path)
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
        let mut summaries = Vec::new();
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
            summaries.push(summary);
        }
        Ok(summaries)
    }

    fn event_count_hint(&self, aggregate_id: &str) -> Option<usize> {
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(&self.queries.count_events).ok()?;
        let count: i64 = stmt
            .query_row(decode::id_params(aggregate_id), |row| row.get(0))
            .ok()?;
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
}

/// The store's schema as the shared mapping check reads it.
struct SqliteCatalog<'s> {
    source: &'s SqliteSource,
    tables: Vec<String>,
}

impl Catalog for SqliteCatalog<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn store_name(&self) -> String {
        self.source.path.display().to_string()
    }

    fn tables(&self) -> &[String] {
        &self.tables
    }

    fn columns(&self, table: &str) -> Result<Option<Vec<String>>, SourceError> {
        self.source.table_columns(table)
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
