//! The store in store order: every event of every aggregate, filtered by time, type,
//! correlation id or a jq predicate whose `.` is the event's aggregate state after it.
//!
//! It streams: what it keeps grows with the number of aggregates, not events (the last
//! version and time of each, for warnings, and its state only when the predicate reads it).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::ids::TraceIds;
use super::predicate::Predicate;
use crate::jq::packed_event;
use crate::model::{Chunk, Event, StorePosition};
use crate::replay::{warnings_for, Reducer, WarningKind};
use crate::source::{EventSource, Query, Resume, SourceError, Start};

/// One line of the log: an event and everything noticed about it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub event: Event,
    /// Stored problems, version gaps and backward times, reducer failures.
    pub notes: Vec<String>,
}

/// Which events the log shows.
#[derive(Debug, Clone)]
pub struct LogFilter {
    /// A store-scoped query: start, time window, aggregate and event types.
    pub query: Query,
    /// Only events whose correlation id is this.
    pub correlation: Option<String>,
    /// Stop after this many lines.
    pub limit: Option<usize>,
}

/// Where a failing jq step happened, for the one-line report after the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub aggregate: String,
    pub version: u64,
    pub position: StorePosition,
    pub message: String,
}

/// How often something failed, and the first time it did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Failures {
    pub count: usize,
    pub first: Option<Failure>,
}

impl Failures {
    fn add(&mut self, event: &Event, message: String) {
        self.count += 1;
        self.first.get_or_insert_with(|| Failure {
            aggregate: event.aggregate_id.clone(),
            version: event.version,
            position: event.position,
            message,
        });
    }
}

/// What the log remembers of one aggregate between its events.
struct Tracked {
    last: (u64, Option<DateTime<Utc>>),
    state: Value,
    reducer: Arc<dyn Reducer>,
}

pub struct StoreLog<'a> {
    filter: LogFilter,
    ids: &'a TraceIds,
    predicate: Option<&'a Predicate>,
    reducer_for: &'a dyn Fn(&str) -> Arc<dyn Reducer>,
    aggregates: HashMap<String, Tracked>,
    /// Lines shown so far, for the limit.
    shown: usize,
    /// Whether the reads so far saw the store from its first event; if not, an aggregate's
    /// first event seen is not its first, and a version gap before it means nothing.
    complete: bool,
    /// Whether the source hands over every event of an aggregate, or only those of some
    /// types (`--type`, filtered in the query): then the event seen before is not always
    /// the one before, and only warnings about the version right before it hold.
    sees_every_type: bool,
    pub predicate_failures: Failures,
    pub reducer_failures: Failures,
}

impl<'a> StoreLog<'a> {
    pub fn new(
        filter: LogFilter,
        ids: &'a TraceIds,
        predicate: Option<&'a Predicate>,
        reducer_for: &'a dyn Fn(&str) -> Arc<dyn Reducer>,
    ) -> StoreLog<'a> {
        StoreLog {
            filter,
            ids,
            predicate,
            reducer_for,
            aggregates: HashMap::new(),
            shown: 0,
            complete: false,
            sees_every_type: true,
            predicate_failures: Failures::default(),
            reducer_failures: Failures::default(),
        }
    }

    /// Whether states are folded: only for a predicate that reads `.`.
    fn folds(&self) -> bool {
        self.predicate.is_some_and(Predicate::reads_state)
    }

    pub fn done(&self) -> bool {
        self.filter.limit.is_some_and(|limit| self.shown >= limit)
    }

    /// Reads the store from the filter's start (the first read) or from `resume` (follow
    /// polls), passing the lines that pass the filter to `emit`.
    pub fn read(
        &mut self,
        source: &dyn EventSource,
        resume: Option<Resume>,
        emit: &mut dyn FnMut(LogLine) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let mut query = self.filter.query.clone();
        let resumed = resume.is_some();
        if let Some(resume) = resume {
            query.start = Start::Resume(resume);
        }
        if self.folds() {
            // A state is the fold of every earlier event of its aggregate: read them all
            // and filter afterwards (aggregate types excepted: other aggregates do not
            // touch these states).
            if !resumed {
                query.start = Start::Beginning;
            }
            query.since = None;
            query.until = None;
            query.event_types.clear();
        }
        if !resumed {
            self.complete = query.start == Start::Beginning && query.since.is_none();
        }
        self.sees_every_type = query.event_types.is_empty();
        let mut failed = None;
        let resume = source.query(&query, &mut |chunk| {
            let Chunk::Events(events) = chunk else {
                return ControlFlow::Continue(());
            };
            match self.take(events, emit) {
                Ok(flow) => flow,
                Err(err) => {
                    failed = Some(err);
                    ControlFlow::Break(())
                }
            }
        })?;
        match failed {
            Some(err) => Err(err),
            None => Ok(resume),
        }
    }

    /// Notes, folds and filters one chunk of events, then judges the survivors together.
    fn take(
        &mut self,
        events: Vec<Event>,
        emit: &mut dyn FnMut(LogLine) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, SourceError> {
        let folds = self.folds();
        let mut lines = Vec::new();
        let mut states = Vec::new();
        for event in events {
            let notes = self.track(&event, folds);
            if !self.shows(&event) {
                continue;
            }
            if self.predicate.is_some() {
                let state = match folds {
                    true => self.aggregates[&event.aggregate_id].state.clone(),
                    false => Value::Null,
                };
                states.push((state, packed_event(&event)));
            }
            lines.push(LogLine { event, notes });
        }
        let verdicts: Vec<bool> = match self.predicate {
            None => vec![true; lines.len()],
            Some(predicate) => predicate
                .judge(&states)
                .into_iter()
                .zip(&lines)
                .map(|(verdict, line)| match verdict {
                    Ok(holds) => holds,
                    Err(err) => {
                        self.predicate_failures.add(&line.event, err);
                        false
                    }
                })
                .collect(),
        };
        for (line, shown) in lines.into_iter().zip(verdicts) {
            if self.done() {
                return Ok(ControlFlow::Break(()));
            }
            if shown {
                self.shown += 1;
                if emit(line).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
        }
        Ok(match self.done() {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        })
    }

    /// Whether the filter shows an event (time, types, start, correlation).
    fn shows(&self, event: &Event) -> bool {
        self.filter.query.admits(event)
            && self
                .filter
                .correlation
                .as_ref()
                .is_none_or(|wanted| self.ids.correlation_of(event).as_ref() == Some(wanted))
    }

    /// Warnings about an event against its aggregate's previous one, and its fold into the
    /// aggregate's state when states are kept.
    fn track(&mut self, event: &Event, folds: bool) -> Vec<String> {
        let reducer_for = self.reducer_for;
        let tracked = self.aggregates.get_mut(&event.aggregate_id);
        let previous = tracked.as_ref().map(|t| t.last);
        let first_seen_midway = previous.is_none() && !self.complete;
        let next_to_previous = previous.is_some_and(|(version, _)| version + 1 == event.version);
        let holds = |kind: &WarningKind| match kind {
            WarningKind::VersionGap { .. } => !first_seen_midway && self.sees_every_type,
            WarningKind::TimestampBackwards { .. } => self.sees_every_type || next_to_previous,
            WarningKind::DuplicateVersion | WarningKind::Stored(_) => true,
        };
        let mut notes: Vec<String> = warnings_for(event, previous)
            .iter()
            .filter(|w| holds(&w.kind))
            .map(ToString::to_string)
            .collect();
        let tracked = match tracked {
            Some(tracked) => tracked,
            None => self
                .aggregates
                .entry(event.aggregate_id.clone())
                .or_insert_with(|| Tracked {
                    last: (0, None),
                    state: Value::Null,
                    reducer: reducer_for(&event.aggregate_id),
                }),
        };
        tracked.last = (event.version, event.timestamp);
        if folds {
            let problem = tracked
                .reducer
                .apply_all(&mut tracked.state, std::slice::from_ref(event))
                .pop()
                .flatten();
            if let Some(problem) = problem {
                notes.push(problem.to_string());
                self.reducer_failures.add(event, problem.to_string());
            }
        }
        notes
    }
}
