//! Reading events and snapshots: one aggregate's history or the whole store in store
//! order, in batches through the sink, and the position a follow resumes from.

use std::ops::ControlFlow;

use rusqlite::ToSql;

use super::rows::SqliteRow;
use super::{decode, SqliteSource};
use crate::model::{Chunk, Snapshot, StorePosition};
use crate::source::sql;
use crate::source::{Batched, Query, Resume, SourceError, Start};

/// Events are handed out in batches this size, so a front end can show progress.
const BATCH: usize = 2048;

/// How a statement's rows went: whether the sink stopped the read, and how many rows came.
struct RowsRead {
    stopped: bool,
    seen: usize,
}

impl SqliteSource {
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
        // The sink runs outside the query's clock: its time is not SQLite's work.
        let mut outside = |chunk| self.db.outside(|| sink(chunk));
        let mut batched = Batched::new(BATCH, query, &mut outside);
        let mut seen = 0usize;
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            self.db.row_handed();
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
            if batched.offer(event).is_break() {
                return Ok(RowsRead {
                    stopped: true,
                    seen,
                });
            }
        }
        let stopped = batched.finish().is_break();
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

    pub(super) fn query_aggregate(
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

    pub(super) fn query_store(
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
            self.db.row_handed();
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
