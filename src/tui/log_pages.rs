//! The store log read a page at a time, on the loader's thread: the page at the start, at
//! the end, around a position or a time, before or after the rows on screen, and what was
//! stored since (follow). Only pages are ever held, so a 1,000,000-event store opens at once
//! and memory stays what the screen shows plus a few pages.
//!
//! Reads go through `inspect::StoreLog` (warnings, the jq predicate and the states it
//! reads), over `EventSource::query` with `Start::Position` and `Start::Resume`. A source
//! cannot read backwards, so the page before a position is found by reading forward from
//! ever earlier positions until enough rows turn up.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::inspect::{LogFilter, LogLine, Predicate, StoreLog, TraceIds};
use crate::model::{Chunk, Payload, StorePosition};
use crate::replay::Reducer;
use crate::source::{EventSource, Query, Resume, Start};

use super::jobs::SharedReducer;

/// Rows in one page.
pub const PAGE_ROWS: usize = 200;
/// Most rows the UI keeps: the page on screen and the pages around it.
pub const WINDOW_ROWS: usize = 5 * PAGE_ROWS;

/// What the log shows of one event: no payloads, so a page costs the same whatever the
/// store holds.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub position: StorePosition,
    pub timestamp: Option<DateTime<Utc>>,
    /// The offset the store wrote the time with, if not UTC.
    pub time_offset: Option<chrono::FixedOffset>,
    pub aggregate_id: String,
    pub aggregate_type: Option<String>,
    pub version: u64,
    pub event_type: String,
    pub correlation: Option<String>,
    pub event_id: Option<String>,
    /// The payload did not decode, or a column was unreadable.
    pub malformed: bool,
    /// Warnings (version gaps, times going backwards) and reducer failures.
    pub notes: Vec<String>,
}

impl LogRow {
    fn from_line(line: LogLine, ids: &TraceIds) -> LogRow {
        let found = ids.of(&line.event);
        let event = line.event;
        LogRow {
            position: event.position,
            timestamp: event.timestamp,
            time_offset: event.time_offset,
            malformed: matches!(event.data, Payload::Undecodable { .. })
                || !event.issues.is_empty(),
            aggregate_id: event.aggregate_id,
            aggregate_type: event.aggregate_type,
            version: event.version,
            event_type: event.event_type,
            correlation: found.correlation,
            event_id: found.event_id,
            notes: line.notes,
        }
    }

    /// The id a trace of this event follows: its correlation id, else its own id.
    pub fn trace_id(&self) -> Option<&str> {
        self.correlation.as_deref().or(self.event_id.as_deref())
    }
}

/// Which rows the log shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowFilter {
    /// Text found in the event type, the aggregate id or the correlation id, in any case.
    Text(String),
    /// A jq predicate: `.` the aggregate's state after the event, `$event` the event.
    Jq(String),
}

/// Where a page is.
#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    First,
    /// The last rows, and where a follow poll resumes.
    Last,
    /// From this position on (the rows at or after it).
    From(StorePosition),
    /// The rows right after this position.
    After(StorePosition),
    /// The rows right before this position.
    Before(StorePosition),
    /// From the first event stamped at or after this time.
    Time(DateTime<Utc>),
    /// Follow: what was stored since an earlier read, after the row at `after`.
    Since {
        resume: Resume,
        after: Option<StorePosition>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    /// Grows with each page the UI asks for; only the newest is worth finishing.
    pub ticket: u64,
    pub anchor: Anchor,
    pub filter: Option<RowFilter>,
    pub rows: usize,
    /// How many events the aggregate list counted: a hint for finding the store's end.
    pub events_hint: u64,
    pub jq_limits: crate::jq::Limits,
    /// The reducer the user named; without one, each aggregate gets its default.
    pub reducer: Option<SharedReducer>,
    pub ids: TraceIds,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub rows: Vec<LogRow>,
    /// No row (under the filter) comes before the first.
    pub at_start: bool,
    /// No row (under the filter) comes after the last.
    pub at_end: bool,
    /// Where a follow poll resumes, when this read went on to the store's end.
    pub resume: Option<Resume>,
    /// Said in the status bar (a time past the last event, say).
    pub note: Option<String>,
    /// Events the jq filter failed on, and the first failure.
    pub failures: usize,
    pub first_failure: Option<String>,
}

/// Why a page did not come.
#[derive(Debug, Clone, PartialEq)]
pub enum PageError {
    /// A newer request came in; nobody wants this page any more.
    Stale,
    Failed(String),
}

impl From<crate::source::SourceError> for PageError {
    fn from(err: crate::source::SourceError) -> PageError {
        PageError::Failed(err.describe())
    }
}

/// Reads the page `request` asks for. `stale` says whether a newer request came in.
pub fn read_page(
    source: &dyn EventSource,
    request: &PageRequest,
    stale: &dyn Fn() -> bool,
) -> Result<Page, PageError> {
    let predicate = match &request.filter {
        Some(RowFilter::Jq(code)) => Some(
            Predicate::new(code, "filter", request.jq_limits)
                .map_err(|e| PageError::Failed(one_line(&e.to_string())))?,
        ),
        _ => None,
    };
    let pager = Pager {
        source,
        request,
        predicate: predicate.as_ref(),
        stale,
        failures: RefCell::new((0, None)),
    };
    let rows = request.rows.max(1);
    let mut page = match &request.anchor {
        Anchor::First => pager.forward(Start::Beginning, None, rows, true)?,
        Anchor::From(position) => pager.forward(Start::Position(*position), None, rows, false)?,
        Anchor::After(position) => {
            pager.forward(Start::Position(*position), Some(*position), rows, false)?
        }
        Anchor::Before(position) => pager.before(*position, rows)?,
        Anchor::Last => pager.last(rows)?,
        Anchor::Time(time) => match pager.first_at_or_after(*time)? {
            Some(position) => pager.forward(Start::Position(position), None, rows, false)?,
            None => {
                let mut page = pager.last(rows)?;
                page.note = Some(format!(
                    "no event at or after {}; showing the last",
                    crate::model::format_time(time)
                ));
                page
            }
        },
        Anchor::Since { resume, after } => pager.since(resume.clone(), *after)?,
    };
    let failures = pager.failures.take();
    page.failures = failures.0;
    page.first_failure = failures.1;
    Ok(page)
}

struct Pager<'a> {
    source: &'a dyn EventSource,
    request: &'a PageRequest,
    predicate: Option<&'a Predicate>,
    stale: &'a dyn Fn() -> bool,
    /// Events the jq filter failed on so far, and the first failure.
    failures: RefCell<(usize, Option<String>)>,
}

/// What one scan did: where to resume (when it read to the store's end), whether it read
/// to the end.
struct Scan {
    resume: Resume,
    finished: bool,
}

impl Pager<'_> {
    fn stateful(&self) -> bool {
        self.predicate.is_some_and(Predicate::reads_state)
    }

    /// Streams the rows that pass the filter from `start` on to `emit`, until it breaks.
    fn scan(
        &self,
        start: Start,
        emit: &mut dyn FnMut(LogRow) -> ControlFlow<()>,
    ) -> Result<Scan, PageError> {
        let named = self.request.reducer.as_ref().map(|r| Arc::clone(&r.0));
        let source = self.source;
        let reducer_for = move |id: &str| -> Arc<dyn Reducer> {
            crate::load::reducer_for(source, id, named.as_ref())
        };
        let filter = LogFilter {
            query: Query::store().starting(start),
            correlation: None,
            limit: None,
        };
        let ids = &self.request.ids;
        let mut log = StoreLog::new(filter, ids, self.predicate, &reducer_for);
        let text = match &self.request.filter {
            Some(RowFilter::Text(text)) => Some(text.to_lowercase()),
            _ => None,
        };
        let mut broke = false;
        let mut stale = false;
        let resume = log.read(source, None, &mut |line| {
            if (self.stale)() {
                stale = true;
                broke = true;
                return ControlFlow::Break(());
            }
            let row = LogRow::from_line(line, ids);
            if text
                .as_ref()
                .is_some_and(|needle| !row_matches(&row, needle))
            {
                return ControlFlow::Continue(());
            }
            let flow = emit(row);
            broke |= flow.is_break();
            flow
        })?;
        if stale {
            return Err(PageError::Stale);
        }
        let failures = &log.predicate_failures;
        if failures.count > 0 {
            let mut seen = self.failures.borrow_mut();
            seen.0 += failures.count;
            if seen.1.is_none() {
                seen.1 = failures.first.as_ref().map(|first| {
                    format!(
                        "{} v{} (position {}): {}",
                        first.aggregate, first.version, first.position, first.message
                    )
                });
            }
        }
        Ok(Scan {
            resume,
            finished: !broke,
        })
    }

    /// `rows` rows from `start`, leaving out those at or before `after`.
    fn forward(
        &self,
        start: Start,
        after: Option<StorePosition>,
        rows: usize,
        at_start: bool,
    ) -> Result<Page, PageError> {
        let mut found = Vec::with_capacity(rows + 1);
        let scan = self.scan(start, &mut |row| {
            if after.is_some_and(|after| row.position <= after) {
                return ControlFlow::Continue(());
            }
            found.push(row);
            match found.len() > rows {
                true => ControlFlow::Break(()),
                false => ControlFlow::Continue(()),
            }
        })?;
        let at_end = found.len() <= rows;
        found.truncate(rows);
        Ok(Page {
            rows: found,
            at_start,
            at_end,
            resume: scan.finished.then_some(scan.resume),
            ..Page::default()
        })
    }

    /// The `rows` rows right before `position`.
    fn before(&self, position: StorePosition, rows: usize) -> Result<Page, PageError> {
        let Some(first) = self.probe(Start::Beginning)? else {
            return Ok(empty_page());
        };
        if self.stateful() {
            // States fold from the store's first event: one read from there, keeping the
            // last rows seen.
            return self.tail_of(Start::Beginning, Some(position), rows, true);
        }
        let mut step = (rows as i64).max(64);
        loop {
            let from = earlier(position, step);
            let reached_start = from <= first;
            let page = self.tail_of(Start::Position(from), Some(position), rows, reached_start)?;
            if page.rows.len() >= rows || reached_start {
                return Ok(page);
            }
            step = step.saturating_mul(8);
        }
    }

    /// The last `rows` rows read from `start` up to (not including) `until`.
    fn tail_of(
        &self,
        start: Start,
        until: Option<StorePosition>,
        rows: usize,
        from_first: bool,
    ) -> Result<Page, PageError> {
        let mut kept: VecDeque<LogRow> = VecDeque::with_capacity(rows + 1);
        let scan = self.scan(start, &mut |row| {
            if until.is_some_and(|until| row.position >= until) {
                return ControlFlow::Break(());
            }
            kept.push_back(row);
            if kept.len() > rows + 1 {
                kept.pop_front();
            }
            ControlFlow::Continue(())
        })?;
        let at_start = from_first && kept.len() <= rows;
        if kept.len() > rows {
            kept.pop_front();
        }
        Ok(Page {
            rows: kept.into(),
            at_start,
            at_end: scan.finished,
            resume: scan.finished.then_some(scan.resume),
            ..Page::default()
        })
    }

    /// The last `rows` rows of the store, read from just before its last event.
    fn last(&self, rows: usize) -> Result<Page, PageError> {
        let Some(first) = self.probe(Start::Beginning)? else {
            return Ok(empty_page());
        };
        let last = self.last_position(first)?;
        let mut page = self.before(past(last), rows)?;
        if !page.at_end {
            // Events arrived while the end was looked for: read on to the new end.
            page = self.before(past(last), rows)?;
        }
        Ok(page)
    }

    /// The position of the store's last event: a guess from the event count, then a
    /// galloping and a binary search over positions, each probe one indexed read.
    fn last_position(&self, first: StorePosition) -> Result<StorePosition, PageError> {
        let hint = self.request.events_hint as i64;
        let mut low = first;
        if hint > 1 {
            let guess = at_key(first, key(first).saturating_add(hint - 1));
            if let Some(found) = self.probe(Start::Position(guess))? {
                if self.probe(Start::Position(past(found)))?.is_none() {
                    return Ok(found);
                }
                low = found;
            }
        }
        let mut step: i64 = 1024;
        let mut high = loop {
            let k = key(low).saturating_add(step);
            match self.probe(Start::Position(at_key(low, k)))? {
                Some(found) if found > low => {
                    low = found;
                    step = step.saturating_mul(4);
                }
                _ => break k,
            }
        };
        while high - key(low) > 1 {
            let middle = key(low) + (high - key(low)) / 2;
            match self.probe(Start::Position(at_key(low, middle)))? {
                Some(found) if key(found) < high => low = found,
                _ => high = middle,
            }
        }
        // Several Kafka records can share the last millisecond: the last of them.
        Ok(at_key(low, key(low)))
    }

    /// The position of the first event (unfiltered) at or after `start`.
    fn probe(&self, start: Start) -> Result<Option<StorePosition>, PageError> {
        if (self.stale)() {
            return Err(PageError::Stale);
        }
        let mut found = None;
        self.source
            .query(&Query::store().starting(start), &mut |chunk| {
                if let Chunk::Events(events) = chunk {
                    found = events.first().map(|e| e.position);
                }
                match found {
                    Some(_) => ControlFlow::Break(()),
                    None => ControlFlow::Continue(()),
                }
            })?;
        Ok(found)
    }

    /// The first event in store order stamped at or after `time`.
    fn first_at_or_after(&self, time: DateTime<Utc>) -> Result<Option<StorePosition>, PageError> {
        let mut query = Query::store();
        query.since = Some(time);
        let mut found = None;
        self.source.query(&query, &mut |chunk| {
            if (self.stale)() {
                return ControlFlow::Break(());
            }
            if let Chunk::Events(events) = chunk {
                found = events.first().map(|e| e.position);
            }
            match found {
                Some(_) => ControlFlow::Break(()),
                None => ControlFlow::Continue(()),
            }
        })?;
        if (self.stale)() {
            return Err(PageError::Stale);
        }
        Ok(found)
    }

    /// Follow: the rows stored since `resume`, after the row at `after`.
    fn since(&self, resume: Resume, after: Option<StorePosition>) -> Result<Page, PageError> {
        if !self.stateful() {
            let mut page = self.tail_of(Start::Resume(resume), None, WINDOW_ROWS, false)?;
            page.rows
                .retain(|row| after.is_none_or(|after| row.position > after));
            page.at_end = true;
            return Ok(page);
        }
        // A predicate over states needs each aggregate folded from its first event: when
        // anything arrived, the store is read again from its start.
        let mut arrived = 0usize;
        let fresh = self.source.query(
            &Query::store().starting(Start::Resume(resume)),
            &mut |chunk| {
                if let Chunk::Events(events) = chunk {
                    arrived += events.len();
                }
                ControlFlow::Continue(())
            },
        )?;
        if arrived == 0 {
            return Ok(Page {
                at_end: true,
                resume: Some(fresh),
                ..Page::default()
            });
        }
        let mut page = self.tail_of(Start::Beginning, None, WINDOW_ROWS, false)?;
        page.rows
            .retain(|row| after.is_none_or(|after| row.position > after));
        Ok(page)
    }
}

fn empty_page() -> Page {
    Page {
        at_start: true,
        at_end: true,
        ..Page::default()
    }
}

/// Does a text filter (already lowercased) find this row: in its type, aggregate id or
/// correlation id?
pub fn row_matches(row: &LogRow, needle: &str) -> bool {
    let found = |text: &str| text.to_lowercase().contains(needle);
    found(&row.event_type)
        || found(&row.aggregate_id)
        || row.correlation.as_deref().is_some_and(found)
}

/// The number positions are searched by: the sequence, or a Kafka record's time.
fn key(position: StorePosition) -> i64 {
    match position {
        StorePosition::Seq(n) => n,
        StorePosition::Record { timestamp_ms, .. } => timestamp_ms,
    }
}

/// The first possible position with this key, of the same kind as `like`.
fn at_key(like: StorePosition, key: i64) -> StorePosition {
    match like {
        StorePosition::Seq(_) => StorePosition::Seq(key),
        StorePosition::Record { .. } => StorePosition::Record {
            timestamp_ms: key,
            partition: i32::MIN,
            offset: i64::MIN,
        },
    }
}

/// A position `step` keys before `position`.
fn earlier(position: StorePosition, step: i64) -> StorePosition {
    at_key(position, key(position).saturating_sub(step))
}

/// The first possible position after every event with `position`'s key.
fn past(position: StorePosition) -> StorePosition {
    at_key(position, key(position).saturating_add(1))
}

/// jq errors can span lines; the status bar has one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
