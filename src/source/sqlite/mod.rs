//! SQLite event stores, opened read-only.

mod connection;
mod decode;
mod mapping;

pub use mapping::{quote_identifier, EventColumns, SnapshotColumns, SqliteMapping, MAPPING_KEYS};

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::ffi;

use connection::StoreConnection;

use super::{Chunk, EventSource, SourceError};
use crate::model::{AggregateSummary, Event, EventIssue, Snapshot};

/// Events are handed out in batches this size, so a front end can show progress.
const BATCH: usize = 2048;

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub mapping: SqliteMapping,
    /// How long to wait for a writer's lock before giving up with a clear error.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            mapping: SqliteMapping::default(),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

pub struct SqliteSource {
    db: StoreConnection,
    path: PathBuf,
    options: SqliteOptions,
    queries: Queries,
}

/// SQL built once from the validated mapping.
struct Queries {
    list_events: String,
    list_snapshots: Option<String>,
    read_events: String,
    read_snapshots: Option<String>,
}

impl SqliteSource {
    /// Opens a store read-only and checks that the mapped tables and columns exist.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteSource, SourceError> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|err| {
            SourceError::Open(format!("cannot open {shown}: {}", plain_io_error(&err)))
        })?;
        if meta.is_dir() {
            return Err(SourceError::Open(format!(
                "{shown} is a directory; give the path of a SQLite file"
            )));
        }
        if meta.len() == 0 {
            return Err(SourceError::Open(format!(
                "{shown} is empty (0 bytes), not an event store"
            )));
        }
        let db = StoreConnection::open(path, options.busy_timeout)
            .map_err(|err| sqlite_error(path, err, "open"))?;
        let mut source = SqliteSource {
            db,
            path: path.to_path_buf(),
            queries: Queries {
                list_events: String::new(),
                list_snapshots: None,
                read_events: String::new(),
                read_snapshots: None,
            },
            options,
        };
        source.queries = source.build_queries()?;
        Ok(source)
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

    fn build_queries(&self) -> Result<Queries, SourceError> {
        let mapping = &self.options.mapping;
        let e = &mapping.events;
        let mut wanted = vec![
            ("aggregate_id", e.aggregate_id.as_str()),
            ("event_type", e.event_type.as_str()),
            ("event_data", e.event_data.as_str()),
            ("version", e.version.as_str()),
        ];
        for (field, column) in [
            ("aggregate_type", &e.aggregate_type),
            ("metadata", &e.metadata),
            ("timestamp", &e.timestamp),
        ] {
            if let Some(column) = column {
                wanted.push((field, column));
            }
        }
        if !self.require_columns(&e.table, &wanted, &mapping.describe_events())? {
            let tables = self.table_names()?;
            let listed = if tables.is_empty() {
                "it has no tables".to_string()
            } else {
                format!("tables: {}", tables.join(", "))
            };
            return Err(SourceError::Schema(format!(
                "no table {:?} in {} ({listed}); mapping in use: {}; point rewind at your table with --map events.table=NAME or rewind.toml",
                e.table,
                self.path.display(),
                mapping.describe_events()
            )));
        }
        let q = |name: &str| quote_identifier(name);
        let opt = |column: &Option<String>| -> Result<String, SourceError> {
            column
                .as_deref()
                .map(q)
                .unwrap_or_else(|| Ok("NULL".into()))
        };
        let table = q(&e.table)?;
        let id = q(&e.aggregate_id)?;
        let version = q(&e.version)?;
        let timestamp = opt(&e.timestamp)?;
        let list_events = format!(
            "SELECT {id}, MIN({ty}), COUNT(*), MIN({timestamp}), MAX({timestamp}) FROM {table} \
             WHERE {id} IS NOT NULL GROUP BY {id} ORDER BY {id}",
            ty = opt(&e.aggregate_type)?,
        );
        let read_events = format!(
            "SELECT {ty}, {version}, {event_type}, {timestamp}, {data}, {metadata} FROM {table} \
             WHERE {id} = ?1 ORDER BY {version}",
            ty = opt(&e.aggregate_type)?,
            event_type = q(&e.event_type)?,
            data = q(&e.event_data)?,
            metadata = opt(&e.metadata)?,
        );

        let (list_snapshots, read_snapshots) = match self.snapshot_table()? {
            None => (None, None),
            Some(table_name) => {
                let s = &mapping.snapshots;
                let table = q(&table_name)?;
                let id = q(&s.aggregate_id)?;
                (
                    Some(format!(
                        "SELECT {id}, COUNT(*) FROM {table} WHERE {id} IS NOT NULL GROUP BY {id}"
                    )),
                    Some(format!(
                        "SELECT {version}, {state}, {created} FROM {table} WHERE {id} = ?1 ORDER BY {version}",
                        version = q(&s.version)?,
                        state = q(&s.state)?,
                        created = opt(&s.created_at)?,
                    )),
                )
            }
        };
        Ok(Queries {
            list_events,
            list_snapshots,
            read_events,
            read_snapshots,
        })
    }

    /// The snapshots table, if the store has one; a missing table is only an error when named.
    fn snapshot_table(&self) -> Result<Option<String>, SourceError> {
        let mapping = &self.options.mapping;
        let s = &mapping.snapshots;
        let Some(table) = &s.table else {
            return Ok(None);
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
            (true, _) => Ok(Some(table.clone())),
            (false, false) => Ok(None),
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

    fn read_events(
        &self,
        aggregate_id: &str,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, SourceError> {
        let doing = "read events";
        let conn = self.db.get();
        let mut stmt = conn
            .prepare_cached(&self.queries.read_events)
            .map_err(|e| self.error(e, doing))?;
        let mut rows = stmt
            .query([aggregate_id])
            .map_err(|e| self.error(e, doing))?;
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            batch.push(self.event_from_row(aggregate_id, row));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if sink(Chunk::Events(full)).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
        }
        if batch.is_empty() {
            return Ok(ControlFlow::Continue(()));
        }
        Ok(sink(Chunk::Events(batch)))
    }

    fn event_from_row(&self, aggregate_id: &str, row: &rusqlite::Row<'_>) -> Event {
        let columns = &self.options.mapping.events;
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
        let data = decode::payload(row.get_ref_unwrap(4), &columns.event_data);
        let metadata = decode::metadata(row.get_ref_unwrap(5), &mut issues);
        Event {
            aggregate_id: aggregate_id.to_string(),
            aggregate_type,
            version,
            event_type,
            timestamp,
            data,
            metadata,
            issues,
        }
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
            snapshots.push(Snapshot {
                aggregate_id: aggregate_id.to_string(),
                version,
                state: decode::payload(
                    row.get_ref_unwrap(1),
                    &self.options.mapping.snapshots.state,
                ),
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
                aggregate_type: decode::text(row.get_ref_unwrap(1)),
                events: row.get::<_, i64>(2).unwrap_or(0).max(0) as u64,
                first_timestamp: decode::timestamp(row.get_ref_unwrap(3)).ok().flatten(),
                last_timestamp: decode::timestamp(row.get_ref_unwrap(4)).ok().flatten(),
                id,
            });
        }
        Ok(summaries)
    }

    fn stream_history(
        &self,
        aggregate_id: &str,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<(), SourceError> {
        // One read transaction: events and snapshots come from the same moment of the store,
        // even while another process appends to it.
        self.db.refresh().map_err(|e| self.error(e, "open"))?;
        let conn = self.db.get();
        let tx = conn
            .unchecked_transaction()
            .map_err(|e| self.error(e, "read events"))?;
        let snapshots = self.read_snapshots(aggregate_id)?;
        if self.read_events(aggregate_id, sink)?.is_continue() && !snapshots.is_empty() {
            let _ = sink(Chunk::Snapshots(snapshots));
        }
        drop(tx);
        Ok(())
    }
}

fn plain_io_error(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

/// One line that says what went wrong with the store, in words a person can act on.
fn sqlite_error(path: &Path, err: rusqlite::Error, doing: &str) -> SourceError {
    let shown = path.display();
    let code = err.sqlite_error_code();
    match code {
        Some(ffi::ErrorCode::NotADatabase) => {
            SourceError::Open(format!("{shown} is not a SQLite database"))
        }
        Some(ffi::ErrorCode::DatabaseCorrupt) => SourceError::Read(format!(
            "{shown} is damaged (truncated or corrupt); could not {doing}: {err}"
        )),
        Some(ffi::ErrorCode::DatabaseBusy) | Some(ffi::ErrorCode::DatabaseLocked) => {
            SourceError::Read(format!(
                "{shown} is locked by another process; gave up waiting to {doing} (raise --lock-timeout to wait longer)"
            ))
        }
        Some(ffi::ErrorCode::CannotOpen) => {
            SourceError::Open(format!("cannot open {shown}: {err}"))
        }
        _ => SourceError::Read(format!("could not {doing} from {shown}: {err}")),
    }
}
