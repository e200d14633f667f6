//! PostgreSQL event stores, read in read-only transactions that change nothing on the server.
//!
//! A CLI command holds one `REPEATABLE READ READ ONLY` transaction from its first read to
//! its last (one consistent snapshot, see `connection`); the UI, which stays open, runs each
//! read (the aggregate list, one query) in a transaction of its own. The session is
//! read-only by default too (`default_transaction_read_only`) and every statement is bounded by
//! `statement_timeout`. Rows are fetched from a portal a page at a time, so no result is
//! ever held whole by the client library.

mod catalog;
mod connect;
mod connection;
mod errors;
mod follow;
mod options;
mod pgpass;
mod presets;
mod read;
mod values;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Statement, Transaction};

use catalog::PgCatalog;
use connection::Connection;
use values::PgRow;

use super::sql::{
    self, Catalog, Codec, Column, Dialect, Kind, Layout, Preset, Queries, SqlMapping,
};
use super::sqlite::eventsourcing as es;
use super::{EventSource, IdConventions, Query, Resume, Scope, SourceError};
use crate::model::{AggregateSummary, Chunk, Snapshot};

pub use connect::{redact, DEFAULT_CONNECT_TIMEOUT};
pub use options::{PostgresConfig, PostgresOptions, DEFAULT_STATEMENT_TIMEOUT};

/// Rows fetched from the server per round trip, and events handed to the sink per chunk.
const PAGE: usize = 2048;

/// A fetch size asking for every row in one Execute: the server plans a statement in
/// parallel only then, and a grouped list (one row per aggregate) is held whole anyway.
const ALL_ROWS: usize = 0;

/// The statements that find gaps among the positions (see `follow`).
struct PositionQueries {
    between: String,
    present: String,
}

pub struct PgSource {
    connection: RefCell<Connection>,
    /// How it was opened, to open a second reader the same way.
    spec: String,
    options: PostgresOptions,
    shown: String,
    mapping: SqlMapping,
    preset: Preset,
    codec: Codec,
    id_kind: Kind,
    queries: Queries,
    /// `None` when the events have no store position (a view without a mapped one).
    positions: Option<PositionQueries>,
    statements: RefCell<HashMap<String, Statement>>,
    statement_timeout: Duration,
    /// Event rows decoded so far: lets tests see that a follow poll reads only new rows.
    rows_read: Cell<u64>,
}

impl PgSource {
    /// Connects, checks the mapped (or detected) tables and columns, and refuses a store
    /// it cannot read at all (an encrypted one) with a message saying so.
    pub fn open(spec: &str, options: PostgresOptions) -> Result<PgSource, SourceError> {
        let env = |key: &str| std::env::var(key).ok();
        let target = connect::resolve(spec, &options, &env)?;
        let shown = target.shown.clone();
        let mut client = connect::connect(&target)?;
        let timeout_ms = options.statement_timeout.as_millis().max(1);
        client
            .batch_execute(&format!(
                "SET statement_timeout = {timeout_ms}; SET default_transaction_read_only = on;"
            ))
            .map_err(|e| {
                errors::read_error(e, &shown, "set up the session", options.statement_timeout)
            })?;
        let connection = RefCell::new(Connection::new(client));
        if options.hold_snapshot {
            // Before the first read: the catalog and the first events are of the snapshot too.
            connection.borrow_mut().hold().map_err(|e| {
                errors::read_error(
                    e,
                    &shown,
                    "start a read-only transaction",
                    options.statement_timeout,
                )
            })?;
        }
        let read_error =
            |e| errors::read_error(e, &shown, "read the schema", options.statement_timeout);
        let catalog = PgCatalog::read(&connection, &shown, target.schema.as_deref(), &read_error)?;
        let (preset, mapping, mut layout) = choose_layout(&catalog, &options)?;
        drop(catalog);
        let positions = positions(&mut layout)?;
        let mut queries = layout.queries();
        presets::message_db_index_order(&layout, &mut queries);
        // A page's size bounds its rows in the statement too (see `read_page`): told only
        // by the portal's fetch size, the server plans for the rest of the history and may
        // sort all of it before the first row.
        queries.read_events_page = format!(
            "{} LIMIT {}",
            queries.read_events_page,
            // After the version and position of the event the page follows.
            Dialect::Postgres.param(Dialect::Postgres.first_after_id() + 2)
        );
        let source = PgSource {
            connection,
            spec: spec.to_string(),
            options: options.clone(),
            shown,
            mapping,
            preset,
            codec: layout.codec,
            id_kind: layout.events.aggregate_id.kind,
            queries,
            positions,
            statements: RefCell::new(HashMap::new()),
            statement_timeout: options.statement_timeout,
            rows_read: Cell::new(0),
        };
        if source.codec == Codec::Eventsourcing {
            source.refuse_unreadable_payloads(&layout)?;
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

    /// Runs `sql` inside the very transaction every read opens; tests use it to prove a
    /// write is refused there ("cannot execute INSERT in a read-only transaction").
    #[doc(hidden)]
    pub fn execute_in_read_transaction(&self, sql: &str) -> Result<u64, SourceError> {
        self.read("run a statement", |tx| {
            tx.execute(sql, &[])
                .map_err(|e| self.error(e, "run a statement"))
        })
    }

    /// The server's plan (`EXPLAIN (COSTS OFF)`) of each statement that reads one
    /// aggregate's history or follows the store, bound as a read of `id` binds it (pages
    /// after v1 at position 0, follows after the top position); tests check the store's
    /// indexes serve them. `first rows` is the history read as `LIMIT 1`: whether its
    /// first rows come in index order, without sorting the whole history first.
    #[doc(hidden)]
    pub fn explain_reads(&self, id: &str) -> Result<Vec<(&'static str, String)>, SourceError> {
        let q = &self.queries;
        let doing = "explain a read";
        self.read(doing, |tx| {
            let top = self.top_position(tx)?.unwrap_or(0);
            let (version, position, pending) = (1i64, 0i64, Vec::<i64>::new());
            let limit = Some(128i64);
            let first_rows = format!("{} LIMIT 1", q.read_events);
            let statements: [(&'static str, &str, Vec<&(dyn ToSql + Sync)>); 7] = [
                ("history", &q.read_events, vec![&id]),
                ("first rows", &first_rows, vec![&id]),
                (
                    "page",
                    &q.read_events_page,
                    vec![&id, &version, &position, &limit],
                ),
                ("count", &q.count_events, vec![&id]),
                (
                    "follow aggregate",
                    &q.read_events_after,
                    vec![&id, &top, &pending],
                ),
                ("follow store", &q.read_store_after, vec![&top, &pending]),
                ("store from", &q.read_store, vec![&top]),
            ];
            let mut plans = Vec::new();
            for (name, sql, params) in statements {
                let rows = tx
                    .query(&format!("EXPLAIN (COSTS OFF) {sql}"), &params)
                    .map_err(|e| self.error(e, doing))?;
                let lines: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
                plans.push((name, lines.join("\n")));
            }
            Ok(plans)
        })
    }

    fn error(&self, err: postgres::Error, doing: &str) -> SourceError {
        errors::read_error(err, &self.shown, doing, self.statement_timeout)
    }

    /// One read-only transaction on one snapshot, for everything one read needs: the
    /// command's held one (in a savepoint), or one of its own.
    fn read<T>(
        &self,
        doing: &str,
        body: impl FnOnce(&mut Transaction<'_>) -> Result<T, SourceError>,
    ) -> Result<T, SourceError> {
        let fail = |e| self.error(e, doing);
        self.connection.borrow_mut().read(fail, body)
    }

    fn statement(
        &self,
        tx: &mut Transaction<'_>,
        sql: &str,
        doing: &str,
    ) -> Result<Statement, SourceError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = tx.prepare(sql).map_err(|e| self.error(e, doing))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Runs a statement through a portal, `fetch` rows at a time; whether `each` stopped it.
    fn each_row(
        &self,
        tx: &mut Transaction<'_>,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        doing: &str,
        fetch: usize,
        mut each: impl FnMut(&postgres::Row) -> ControlFlow<()>,
    ) -> Result<bool, SourceError> {
        let statement = self.statement(tx, sql, doing)?;
        let portal = tx
            .bind(&statement, params)
            .map_err(|e| self.error(e, doing))?;
        if fetch == ALL_ROWS {
            let rows = tx
                .query_portal(&portal, 0)
                .map_err(|e| self.error(e, doing))?;
            return Ok(rows.iter().any(|row| each(row).is_break()));
        }
        let fetch = fetch.clamp(1, PAGE);
        loop {
            let rows = tx
                .query_portal(&portal, fetch as i32)
                .map_err(|e| self.error(e, doing))?;
            for row in &rows {
                if each(row).is_break() {
                    return Ok(true);
                }
            }
            if rows.len() < fetch {
                return Ok(false);
            }
        }
    }

    /// Each aggregate's first and last instant from a pass over every row's time (and,
    /// where the time is in the payload, the payload), parsed as an event read parses
    /// them; only where the server's MIN and MAX would not be those instants.
    fn fill_time_ranges(
        &self,
        tx: &mut Transaction<'_>,
        summaries: &mut [AggregateSummary],
    ) -> Result<(), SourceError> {
        let Some(sql) = &self.queries.list_times else {
            return Ok(());
        };
        let mut ranges: HashMap<String, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
        self.each_row(tx, sql, &[], "read the events' times", PAGE, |row| {
            let row = PgRow::new(row);
            let Some(id) = sql::RowValues::text(&row, 0) else {
                return ControlFlow::Continue(());
            };
            let time = match sql::RowValues::timestamp(&row, 1).ok().flatten() {
                Some(time) => Some(time),
                None if self.codec == Codec::Eventsourcing => {
                    es::event_timestamp(sql::RowValues::bytes(&row, 2))
                }
                None => None,
            };
            if let Some(time) = time {
                ranges
                    .entry(id)
                    .and_modify(|(first, last)| {
                        *first = (*first).min(time);
                        *last = (*last).max(time);
                    })
                    .or_insert((time, time));
            }
            ControlFlow::Continue(())
        })?;
        for summary in summaries {
            if let Some((first, last)) = ranges.get(&summary.id) {
                summary.first_timestamp = Some(*first);
                summary.last_timestamp = Some(*last);
            }
        }
        Ok(())
    }

    fn snapshot_counts(
        &self,
        tx: &mut Transaction<'_>,
    ) -> Result<HashMap<String, u64>, SourceError> {
        let mut counts = HashMap::new();
        if let Some(sql) = &self.queries.list_snapshots {
            self.each_row(tx, sql, &[], "count snapshots", ALL_ROWS, |row| {
                let row = PgRow::new(row);
                if let Some(id) = sql::RowValues::text(&row, 0) {
                    let count = sql::RowValues::integer(&row, 1).unwrap_or(0).max(0) as u64;
                    counts.insert(id, count);
                }
                ControlFlow::Continue(())
            })?;
        }
        Ok(counts)
    }

    /// An encrypted store cannot be read at all: said once, at open. A few bad payloads
    /// among good ones are flagged event by event instead.
    fn refuse_unreadable_payloads(&self, layout: &Layout) -> Result<(), SourceError> {
        let e = &layout.events;
        let sql_text = format!(
            "SELECT {data} FROM {} WHERE {data} IS NOT NULL LIMIT {}",
            e.table,
            es::SAMPLE,
            data = e.data.sql,
        );
        let doing = "read the first events";
        let samples: Vec<Vec<u8>> = self.read(doing, |tx| {
            let rows = tx
                .query(&sql_text, &[])
                .map_err(|err| self.error(err, doing))?;
            Ok(rows
                .iter()
                .filter_map(|row| row.try_get::<_, Vec<u8>>(0).ok())
                .collect())
        })?;
        match es::majority_unreadable(&samples) {
            Some(reason) => Err(SourceError::read(format!("{}: {reason}", self.shown))),
            None => Ok(()),
        }
    }
}

/// A forced preset, a detected one, or the user's mapping (checked column by column).
fn choose_layout(
    catalog: &PgCatalog<'_>,
    options: &PostgresOptions,
) -> Result<(Preset, SqlMapping, Layout), SourceError> {
    let mapping_is_default = options.mapping == SqlMapping::default();
    let detected = match options.preset {
        None if mapping_is_default && !catalog.tables().iter().any(|t| t == "events") => {
            presets::detect(catalog)?
        }
        _ => None,
    };
    let preset = options.preset.or(detected).unwrap_or(Preset::Native);
    if preset != Preset::Native {
        // Python eventsourcing names its tables after the application: which one to read.
        let honoured: &[&str] = match preset {
            Preset::Eventsourcing => &["events.table"],
            _ => &[],
        };
        options
            .mapping
            .refuse_unused(preset.name(), honoured)
            .map_err(SourceError::Option)?;
        let layout = presets::layout(preset, catalog, &options.mapping)?;
        return Ok((preset, options.mapping.clone(), layout));
    }
    let checked = match sql::check_mapping(catalog, &options.mapping) {
        Ok(checked) => checked,
        Err(SourceError::Schema(message)) => {
            return Err(SourceError::Schema(
                match presets::for_mapped_table(catalog, &options.mapping)? {
                    Some(hint) => format!("{message}; {hint}"),
                    None => message,
                },
            ))
        }
        Err(err) => return Err(err),
    };
    let qualified = |table: &str| catalog.qualified(table);
    let mut layout = Layout::from_mapping(
        &checked.mapping,
        checked.with_snapshots,
        Dialect::Postgres,
        &qualified,
        &catalog.kinds(),
    )?;
    if checked.mapping.events.position.is_none() {
        layout.events.position = Column::null();
    }
    Ok((preset, checked.mapping, layout))
}

/// The statements over the positions, once the position is known to be a whole number.
fn positions(layout: &mut Layout) -> Result<Option<PositionQueries>, SourceError> {
    let e = &layout.events;
    if e.position == Column::null() {
        return Ok(None);
    }
    if !matches!(e.position.kind, Kind::BigInt | Kind::SmallInt) {
        return Err(SourceError::Schema(format!(
            "the position column {} is not a whole number; map an integer column that orders the store with --map events.position=COLUMN",
            e.position.sql
        )));
    }
    let (position, table) = (&e.position.sql, &e.positions_table);
    Ok(Some(PositionQueries {
        between: format!(
            "SELECT {position}::bigint FROM {table} WHERE {position} > $1 AND {position} <= $2 ORDER BY {position}"
        ),
        present: format!("SELECT {position}::bigint FROM {table} WHERE {position} = ANY($1)"),
    }))
}

impl EventSource for PgSource {
    /// A second connection, opened as this one was: the UI reads pages back on it while
    /// this one loads, so a history's payloads stay on the server.
    fn reader(&self) -> Option<Box<dyn EventSource>> {
        let reader = PgSource::open(&self.spec, self.options.clone()).ok()?;
        Some(Box::new(reader))
    }

    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn hold_snapshot(&self) -> Result<(), SourceError> {
        let mut connection = self.connection.borrow_mut();
        connection
            .hold()
            .map_err(|e| self.error(e, "start a read-only transaction"))
    }

    fn release_snapshot(&self) -> Result<(), SourceError> {
        let mut connection = self.connection.borrow_mut();
        connection
            .release()
            .map_err(|e| self.error(e, "end the read-only transaction"))
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let doing = "list aggregates";
        self.read(doing, |tx| {
            let mut snapshot_counts = self.snapshot_counts(tx)?;
            let mut summaries = Vec::new();
            self.each_row(tx, &self.queries.list_events, &[], doing, ALL_ROWS, |row| {
                let row = PgRow::new(row);
                let snapshots =
                    sql::RowValues::text(&row, 0).and_then(|id| snapshot_counts.remove(&id));
                summaries.extend(sql::summary_from_row(
                    &row,
                    self.codec,
                    snapshots.unwrap_or(0),
                    Some((3, 4)),
                ));
                ControlFlow::Continue(())
            })?;
            self.fill_time_ranges(tx, &mut summaries)?;
            Ok(summaries)
        })
    }

    fn event_count_hint(&self, aggregate_id: &str) -> Option<usize> {
        if !self.id_fits(aggregate_id) {
            return None;
        }
        self.read("count events", |tx| {
            let row = tx
                .query_one(&self.queries.count_events, &[&aggregate_id])
                .map_err(|e| self.error(e, "count events"))?;
            Ok(usize::try_from(row.get::<_, i64>(0)).ok())
        })
        .ok()
        .flatten()
    }

    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let sink = &mut super::limited(query.limit, sink);
        self.read("read events", |tx| match &query.scope {
            Scope::Aggregate(id) => self.query_aggregate(tx, id, query, sink),
            Scope::Store => self.query_store(tx, query, sink),
        })
    }

    fn snapshot(&self, aggregate_id: &str, key: u64) -> Result<Option<Snapshot>, SourceError> {
        self.read("read a snapshot", |tx| {
            self.read_snapshot(tx, aggregate_id, key)
        })
    }

    fn id_conventions(&self) -> IdConventions {
        match self.preset {
            // Eventide's conventions: the correlation stream, and the global position of
            // the message that caused this one.
            Preset::MessageDb => IdConventions {
                correlation: Some(".metadata.correlationStreamName"),
                causation: Some(".metadata.causationMessageGlobalPosition"),
                event_id: Some(".position"),
            },
            _ => IdConventions::default(),
        }
    }
}
