//! Reading events and snapshots: one aggregate's history in keyset pages, the whole store
//! in position order, and the position a follow resumes from (gaps left by transactions
//! still in flight included, see `follow`).

use std::ops::ControlFlow;

use postgres::types::ToSql;
use postgres::Transaction;

use super::values::PgRow;
use super::{follow, PgSource, PAGE};
use crate::model::{Chunk, Snapshot, SnapshotEntry, StorePosition};
use crate::source::sql::{self, Kind};
use crate::source::{Batched, Query, Resume, SourceError, Start};

/// Which of a statement's rows become events: `before` events of the history come before
/// its first row (where positions are places in the history, they number from there), and
/// the first `skip` rows are passed over.
#[derive(Clone, Copy, Default)]
struct RowsFrom {
    before: usize,
    skip: usize,
}

impl RowsFrom {
    const ALL: RowsFrom = RowsFrom { before: 0, skip: 0 };

    fn skipping(skip: usize) -> RowsFrom {
        RowsFrom { before: 0, skip }
    }
}

/// How a statement's rows went: whether the sink stopped the read, and how many rows came.
struct RowsRead {
    stopped: bool,
    seen: usize,
}

impl PgSource {
    /// Streams event rows through the sink in chunks, keeping those the query admits.
    fn read_events(
        &self,
        tx: &mut Transaction<'_>,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        query: &Query,
        rows: RowsFrom,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<RowsRead, SourceError> {
        let mut batched = Batched::new(PAGE, query, sink);
        let RowsFrom { before, skip } = rows;
        let skip = before + skip;
        let mut seen = before;
        // A page asks the server for no more rows than it needs.
        let fetch = query.limit.unwrap_or(PAGE);
        let mut stopped = self.each_row(tx, sql, params, "read events", fetch, |row| {
            self.rows_read.set(self.rows_read.get() + 1);
            seen += 1;
            if seen <= skip {
                return ControlFlow::Continue(());
            }
            let row = PgRow::new(row);
            let Some(event) = sql::event_from_row(&row, &self.mapping, self.codec, seen) else {
                return ControlFlow::Continue(());
            };
            batched.offer(event)
        })?;
        stopped |= batched.finish().is_break();
        Ok(RowsRead { stopped, seen })
    }

    /// Whether `id` can name a row of the id column at all (a uuid column holds no "acc-1").
    pub(super) fn id_fits(&self, id: &str) -> bool {
        match self.id_kind {
            Kind::Uuid => {
                let hex: String = id
                    .chars()
                    .filter(|c| !matches!(c, '-' | '{' | '}'))
                    .collect();
                hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
            }
            Kind::BigInt | Kind::SmallInt => id.trim().parse::<i64>().is_ok(),
            _ => true,
        }
    }

    pub(super) fn query_aggregate(
        &self,
        tx: &mut Transaction<'_>,
        id: &str,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let fits = self.id_fits(id);
        let snapshots = match query.snapshots && fits {
            true => self.snapshot_entries(tx, id)?,
            false => Vec::new(),
        };
        let q = &self.queries;
        if let Start::After { version, position } = &query.start {
            return self.read_page(tx, id, fits, *version, position, query, sink);
        }
        let previous = query.resume();
        let read = match (fits, previous, &self.positions) {
            (false, _, _) => RowsRead {
                stopped: false,
                seen: 0,
            },
            (true, Some(after), Some(_)) => {
                let pending = follow::pending_positions(Some(after));
                let params: [&(dyn ToSql + Sync); 3] = [&id, &after.after(), &pending];
                self.read_events(
                    tx,
                    &q.read_events_after,
                    &params,
                    query,
                    RowsFrom::ALL,
                    sink,
                )?
            }
            // Without positions, a resume point counts the aggregate's events instead.
            (true, after, None) => {
                let skip = after.map_or(0, |r| usize::try_from(r.after()).unwrap_or(0));
                let rows = RowsFrom::skipping(skip);
                self.read_events(tx, &q.read_events, &[&id], query, rows, sink)?
            }
            (true, None, Some(_)) => {
                self.read_events(tx, &q.read_events, &[&id], query, RowsFrom::ALL, sink)?
            }
        };
        if !read.stopped && !snapshots.is_empty() {
            let _ = sink(Chunk::Snapshots(snapshots));
        }
        match self.positions {
            Some(_) => self.resume_point(tx, previous),
            None => Ok(Resume::at(read.seen as i64)),
        }
    }

    /// One page of an aggregate's history: its events after this version and position.
    /// Its resume point is the top position only: pages are read back, never followed.
    #[allow(clippy::too_many_arguments)]
    fn read_page(
        &self,
        tx: &mut Transaction<'_>,
        id: &str,
        fits: bool,
        version: u64,
        position: &StorePosition,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let StorePosition::Seq(at) = position else {
            return Err(SourceError::Position(format!(
                "{position} is a Kafka position; this store numbers its events"
            )));
        };
        let q = &self.queries;
        if fits {
            match &self.positions {
                Some(_) => {
                    let version = i64::try_from(version).unwrap_or(i64::MAX);
                    // The statement's keyset already leaves out what `admits` would for
                    // the start, and every row matching the id is an event: with no time
                    // or type filter, the page's rows are its first `limit` rows.
                    let unfiltered = query.since.is_none()
                        && query.until.is_none()
                        && query.aggregate_types.is_empty()
                        && query.event_types.is_empty();
                    let limit = query
                        .limit
                        .filter(|_| unfiltered)
                        .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
                    let params: [&(dyn ToSql + Sync); 4] = [&id, &version, at, &limit];
                    self.read_events(tx, &q.read_events_page, &params, query, RowsFrom::ALL, sink)?;
                }
                // Without positions, an event's position is its place in the history: the
                // page starts at the version, past the events of that version already read.
                None => {
                    let version = i64::try_from(version).unwrap_or(i64::MAX);
                    let params: [&(dyn ToSql + Sync); 2] = [&id, &version];
                    let before: i64 = tx
                        .query_one(&q.count_events_before_version, &params)
                        .map_err(|e| self.error(e, "count an aggregate's events"))?
                        .get(0);
                    let before = usize::try_from(before).unwrap_or(0);
                    let at = usize::try_from(*at).unwrap_or(0);
                    let rows = RowsFrom {
                        before,
                        skip: at.saturating_sub(before),
                    };
                    let sql = &q.read_events_from_version;
                    self.read_events(tx, sql, &params, query, rows, sink)?;
                }
            }
        }
        match &self.positions {
            Some(_) => Ok(Resume::at(self.top_position(tx)?.unwrap_or(i64::MIN))),
            None => Ok(Resume::default()),
        }
    }

    pub(super) fn top_position(
        &self,
        tx: &mut Transaction<'_>,
    ) -> Result<Option<i64>, SourceError> {
        tx.query_one(&self.queries.last_position, &[])
            .map_err(|e| self.error(e, "read the store's positions"))
            .map(|row| row.get(0))
    }

    pub(super) fn query_store(
        &self,
        tx: &mut Transaction<'_>,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        if self.positions.is_none() {
            return Err(SourceError::Schema(format!(
                "the events of {} have no store position, so they cannot be read in store order; map a column that orders them with --map events.position=COLUMN",
                self.shown
            )));
        }
        let q = &self.queries;
        match &query.start {
            Start::Resume(after) => {
                let pending = follow::pending_positions(Some(after));
                let params: [&(dyn ToSql + Sync); 2] = [&after.after(), &pending];
                self.read_events(tx, &q.read_store_after, &params, query, RowsFrom::ALL, sink)?;
            }
            Start::Position(StorePosition::Seq(first)) => {
                self.read_events(tx, &q.read_store, &[first], query, RowsFrom::ALL, sink)?;
            }
            Start::Position(other) => {
                return Err(SourceError::Position(format!(
                    "{other} is a Kafka position; this store numbers its events"
                )))
            }
            Start::Beginning => {
                self.read_events(tx, &q.read_store, &[&i64::MIN], query, RowsFrom::ALL, sink)?;
            }
            Start::After { .. } => {
                return Err(SourceError::Position(
                    "pages after an event are read per aggregate, not across the store".into(),
                ))
            }
        }
        self.resume_point(tx, query.resume())
    }

    /// Where the next read resumes: the top position, and the positions below it that a
    /// transaction still running may fill (see `follow`).
    fn resume_point(
        &self,
        tx: &mut Transaction<'_>,
        previous: Option<&Resume>,
    ) -> Result<Resume, SourceError> {
        let doing = "read the store's positions";
        let Some(positions) = &self.positions else {
            return Ok(Resume::default());
        };
        let row = tx
            .query_one(follow::SNAPSHOT_INFO, &[])
            .map_err(|e| self.error(e, doing))?;
        let info = follow::SnapshotInfo {
            xmin: row.get::<_, i64>(0) as u64,
            xmax: row.get::<_, i64>(1) as u64,
            busy: row.get(2),
            now_ms: row.get(3),
        };
        let top = self.top_position(tx)?;
        let pending = follow::pending_positions(previous);
        let mut filled = Vec::new();
        if !pending.is_empty() {
            self.each_row(tx, &positions.present, &[&pending], doing, PAGE, |row| {
                filled.push(row.get::<_, i64>(0));
                ControlFlow::Continue(())
            })?;
        }
        let mut gaps = Vec::new();
        if let (Some(from), Some(top)) = (follow::scan_from(previous, top, &info), top) {
            let mut finder = follow::GapFinder::new(from);
            self.each_row(tx, &positions.between, &[&from, &top], doing, PAGE, |row| {
                finder.saw(row.get::<_, i64>(0));
                ControlFlow::Continue(())
            })?;
            gaps = finder.finish(top);
        }
        Ok(follow::next_resume(previous, top, &filled, gaps, &info))
    }

    /// The entries of the aggregate's snapshots, in version order: the states stay on
    /// the server until [`PgSource::read_snapshot`] reads one.
    pub(super) fn snapshot_entries(
        &self,
        tx: &mut Transaction<'_>,
        id: &str,
    ) -> Result<Vec<SnapshotEntry>, SourceError> {
        let Some(q) = &self.queries.snapshots else {
            return Ok(Vec::new());
        };
        let (mut entries, mut place) = (Vec::new(), 0);
        self.each_row(tx, &q.entries, &[&id], "read snapshots", PAGE, |row| {
            entries.extend(sql::snapshot_entry_from_row(&PgRow::new(row), place));
            place += 1;
            ControlFlow::Continue(())
        })?;
        Ok(entries)
    }

    /// The aggregate's snapshot whose entry has this key (its place among them), state and all.
    pub(super) fn read_snapshot(
        &self,
        tx: &mut Transaction<'_>,
        id: &str,
        key: u64,
    ) -> Result<Option<Snapshot>, SourceError> {
        let Some(q) = &self.queries.snapshots else {
            return Ok(None);
        };
        if !self.id_fits(id) {
            return Ok(None);
        }
        let offset = i64::try_from(key).unwrap_or(i64::MAX);
        let mut snapshot = None;
        self.each_row(tx, &q.one, &[&id, &offset], "read a snapshot", 1, |row| {
            snapshot = sql::snapshot_from_row(&PgRow::new(row), id, &self.mapping, self.codec);
            ControlFlow::Break(())
        })?;
        Ok(snapshot)
    }
}
