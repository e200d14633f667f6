//! Reading events and snapshots: one aggregate's history or the whole store in store
//! order, in batches through the sink, and the position a follow resumes from.

use std::ops::ControlFlow;

use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, ToSql};

use super::decode::{self, StoredIds};
use super::rows::SqliteRow;
use super::SqliteSource;
use crate::model::{Chunk, Snapshot, SnapshotEntry, StorePosition};
use crate::source::sql::{self, IdForms, SnapshotQueries};

/// Which of the snapshot statements a read takes: for an id in one form, and in several.
type Pick = fn(&SnapshotQueries) -> (&String, &Option<String>);
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
            true => self.snapshot_entries(id)?,
            false => Vec::new(),
        };
        let q = &self.queries;
        let ids = self.stored_ids(q.find_id.as_deref(), id, "read events")?;
        let [text, integer, real, blob] = &ids.values;
        // Version order comes from the id index when the store holds the id in one form;
        // rows of several are sorted after the index finds them.
        let (read_events, read_events_page) = match (ids.forms(), &q.read_events_several) {
            (IdForms::Several, Some(several)) => (
                several,
                q.read_events_page_several.as_ref().unwrap_or(several),
            ),
            _ => (&q.read_events, &q.read_events_page),
        };
        if let Start::After { version, position } = &query.start {
            let _ = match (self.positioned, position) {
                (true, StorePosition::Seq(at)) => {
                    let version = i64::try_from(*version).unwrap_or(i64::MAX);
                    let params: [&dyn ToSql; 6] = [text, integer, real, blob, &version, at];
                    self.read_rows(read_events_page, &params, query, 0, sink)?
                }
                // Without positions, an event's position is its place in the history.
                (false, StorePosition::Seq(at)) => {
                    let skip = usize::try_from(*at).unwrap_or(0);
                    let params: [&dyn ToSql; 4] = [text, integer, real, blob];
                    self.read_rows(read_events, &params, query, skip, sink)?
                }
                (_, other) => {
                    return Err(SourceError::Position(format!(
                        "{other} is a Kafka position; this store numbers its events"
                    )))
                }
            };
            return self.resume_point(query);
        }
        let params: [&dyn ToSql; 4] = [text, integer, real, blob];
        let read = match (query.resume(), self.positioned) {
            (Some(after), true) => {
                let params: [&dyn ToSql; 5] = [text, integer, real, blob, &after.after()];
                self.read_rows(&q.read_events_after, &params, query, 0, sink)?
            }
            // Without positions, a resume point counts the aggregate's events instead.
            (after, false) => {
                let skip = after.map_or(0, |r| usize::try_from(r.after()).unwrap_or(0));
                self.read_rows(read_events, &params, query, skip, sink)?
            }
            (None, true) => self.read_rows(read_events, &params, query, 0, sink)?,
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

    /// The entries of the aggregate's snapshots, in version order: their states stay in
    /// the file until [`SqliteSource::read_snapshot`] reads one.
    fn snapshot_entries(&self, aggregate_id: &str) -> Result<Vec<SnapshotEntry>, SourceError> {
        let doing = "read snapshots";
        let pick: Pick = |q| (&q.entries, &q.entries_several);
        let Some((sql, ids)) = self.snapshot_statement(aggregate_id, doing, pick)? else {
            return Ok(Vec::new());
        };
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.error(e, doing))?;
        let mut rows = stmt.query(ids.values).map_err(|e| self.error(e, doing))?;
        let mut entries = Vec::new();
        let mut place = 0;
        while let Some(row) = rows.next().map_err(|e| self.error(e, doing))? {
            self.db.row_handed();
            entries.extend(sql::snapshot_entry_from_row(&SqliteRow(row), place));
            place += 1;
        }
        Ok(entries)
    }

    /// The aggregate's snapshot whose entry has this key (its place among them), state and all.
    pub(super) fn read_snapshot(
        &self,
        aggregate_id: &str,
        key: u64,
    ) -> Result<Option<Snapshot>, SourceError> {
        let doing = "read a snapshot";
        let pick: Pick = |q| (&q.one, &q.one_several);
        let Some((sql, ids)) = self.snapshot_statement(aggregate_id, doing, pick)? else {
            return Ok(None);
        };
        let [text, integer, real, blob] = &ids.values;
        let offset = i64::try_from(key).unwrap_or(i64::MAX);
        let params: [&dyn ToSql; 5] = [text, integer, real, blob, &offset];
        let conn = self.db.get();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| self.error(e, doing))?;
        let mut rows = stmt.query(&params[..]).map_err(|e| self.error(e, doing))?;
        let Some(row) = rows.next().map_err(|e| self.error(e, doing))? else {
            return Ok(None);
        };
        self.db.row_handed();
        Ok(sql::snapshot_from_row(
            &SqliteRow(row),
            aggregate_id,
            &self.options.mapping,
            self.codec,
        ))
    }

    /// The statement `pick` chooses for the aggregate's snapshots and the values its id is
    /// held as: as for events, the one in version order from the index unless the id is
    /// held in several forms. `None` where the store has no snapshots.
    fn snapshot_statement<'a>(
        &'a self,
        aggregate_id: &str,
        doing: &str,
        pick: Pick,
    ) -> Result<Option<(&'a str, StoredIds)>, SourceError> {
        let Some(queries) = &self.queries.snapshots else {
            return Ok(None);
        };
        let find = self.queries.find_snapshot_id.as_deref();
        let ids = self.stored_ids(find, aggregate_id, doing)?;
        let (one, several) = pick(queries);
        let sql = match (ids.forms(), several) {
            (IdForms::Several, Some(several)) => several,
            _ => one,
        };
        Ok(Some((sql.as_str(), ids)))
    }

    /// The values the table of `find` (`Queries::find_id` or `find_snapshot_id`) holds `id`
    /// as: one indexed lookup per value the id may stand for (a view without an index is
    /// scanned until one is found, as a read would).
    pub(super) fn stored_ids(
        &self,
        find: Option<&str>,
        id: &str,
        doing: &str,
    ) -> Result<StoredIds, SourceError> {
        let candidates = decode::id_candidates(id);
        let Some(find) = find else {
            return Ok(StoredIds { values: candidates });
        };
        let mut found: [Option<SqlValue>; 4] = Default::default();
        let conn = self.db.get();
        let mut stmt = conn
            .prepare_cached(find)
            .map_err(|e| self.error(e, doing))?;
        for (slot, candidate) in found.iter_mut().zip(candidates) {
            if candidate != SqlValue::Null {
                *slot = stmt
                    .query_row([candidate], |row| row.get::<_, SqlValue>(0))
                    .optional()
                    .map_err(|e| self.error(e, doing))?;
            }
        }
        Ok(StoredIds::of(id, found))
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use rusqlite::types::Value as SqlValue;

    use super::super::{SqliteOptions, SqliteSource};
    use crate::model::{Chunk, StorePosition};
    use crate::source::{EventSource, Query, Resume, Start};

    /// Aggregate 42 as INTEGER (v1, v3) and TEXT (v2, v4), `acc-1` as TEXT, in a file.
    fn mixed_store() -> (tempfile::TempDir, SqliteSource) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE events(aggregate_id, aggregate_type, version, event_type,
                 event_data, metadata, timestamp);
             CREATE INDEX by_id ON events(aggregate_id, version);",
        )
        .unwrap();
        let rows = [
            (SqlValue::Integer(42), 1),
            (SqlValue::Text("acc-1".into()), 1),
            (SqlValue::Text("42".into()), 2),
            (SqlValue::Integer(42), 3),
            (SqlValue::Text("42".into()), 4),
        ];
        for (id, version) in rows {
            conn.execute(
                "INSERT INTO events VALUES (?1, 't', ?2, 'E', '{}', NULL, '2026-01-01T00:00:00Z')",
                rusqlite::params![id, version],
            )
            .unwrap();
        }
        drop(conn);
        let source = SqliteSource::open(&path, SqliteOptions::default()).unwrap();
        (dir, source)
    }

    fn versions(source: &SqliteSource, query: &Query) -> (Vec<u64>, Resume) {
        let mut versions = Vec::new();
        let resume = source
            .query(query, &mut |chunk| {
                if let Chunk::Events(events) = chunk {
                    versions.extend(events.iter().map(|e| e.version));
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        (versions, resume)
    }

    #[test]
    fn an_id_held_as_integer_and_text_is_one_history_in_every_read() {
        let (_dir, source) = mixed_store();
        let list = source.aggregates().unwrap();
        let ids: Vec<(&str, u64)> = list.iter().map(|a| (a.id.as_str(), a.events)).collect();
        assert_eq!(ids, [("42", 4), ("acc-1", 1)]);
        assert_eq!(source.event_count_hint("42"), Some(4));
        let (all, _) = versions(&source, &Query::aggregate("42"));
        assert_eq!(all, [1, 2, 3, 4]);
        // The page after v2 (position 3) goes on in version order across both forms.
        let (page, _) = versions(
            &source,
            &Query::page("42", Some((2, StorePosition::Seq(3))), 10),
        );
        assert_eq!(page, [3, 4]);
        // Following from a resume point reads only what was stored after it, of both forms.
        let after = Query::aggregate("42").starting(Start::Resume(Resume::at(3)));
        assert_eq!(versions(&source, &after).0, [3, 4]);
        // An id held in one form reads as before.
        assert_eq!(versions(&source, &Query::aggregate("acc-1")).0, [1]);
        assert_eq!(
            versions(&source, &Query::aggregate("042")).0,
            Vec::<u64>::new()
        );
    }
}
