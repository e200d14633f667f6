//! The replay engine: one fold over the history, checkpoints, and a cursor that makes
//! stepping cheap. Once folded, events are remembered by a compact index; their payloads
//! stay in memory or in the store (read back a page at a time), so a history of any length
//! fits in bounded memory.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{mpsc, Arc};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::fold::Fold;
use super::index::{Entry, EventIndex};
use super::reducer::Reducer;
use super::storage::{EventPages, Storage};
use super::warnings::{self, Warning};
use crate::model::{Event, History, HistoryStart, Position, StepProblem};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("no version {wanted}: this aggregate's versions end at {last}")]
    VersionBeyondEnd { wanted: u64, last: u64 },
    #[error(
        "no event of this aggregate has a timestamp, so a time cannot be placed; use a version"
    )]
    NoTimestamps,
    #[error("{wanted} is before this history starts (it holds what came after v{start}); give a later position")]
    BeforeStart { wanted: Position, start: u64 },
    /// Reading events back from the store failed.
    #[error("{0}")]
    Read(String),
}

/// A replayed aggregate. Positions are counts: `state_after(n)` is the state once the first
/// `n` events have been applied, from `0` (null) to `len()` (the latest state).
pub struct Replay<'s> {
    fold: Fold,
    index: EventIndex,
    pub(super) storage: Storage<'s>,
    pub(super) snapshots: super::snapshots::Snapshots,
    warnings: Vec<Warning>,
    cursor: Option<(usize, Value)>,
    /// Version and time of the event before the first one held, for a history that starts
    /// part-way (a transcript exported with `--from`).
    start: Option<(u64, Option<DateTime<Utc>>)>,
}

impl<'s> Replay<'s> {
    /// A replay that keeps its events in memory.
    pub fn new(reducer: Arc<dyn Reducer>) -> Replay<'s> {
        Replay::with_storage(reducer, Storage::Memory(Vec::new()))
    }

    /// For a command that reads its states in order, once (`state`, `diff`, `blame`): it
    /// keeps almost no checkpoints, which would only cost it time and memory (copies of
    /// the state every few events). Any position can still be reached, by folding from
    /// the start.
    pub fn for_one_pass(mut self) -> Replay<'s> {
        self.fold.keep_no_checkpoints();
        self
    }

    /// A replay that lets payloads go once folded and reads them back from `pages`.
    pub fn paged(reducer: Arc<dyn Reducer>, pages: Box<dyn EventPages + 's>) -> Replay<'s> {
        Replay::with_storage(reducer, Storage::paged(pages))
    }

    fn with_storage(reducer: Arc<dyn Reducer>, storage: Storage<'s>) -> Replay<'s> {
        Replay {
            fold: Fold::new(reducer),
            index: EventIndex::default(),
            storage,
            snapshots: Default::default(),
            warnings: Vec::new(),
            cursor: None,
            start: None,
        }
    }

    /// This replay, starting part-way: position 0 is `start`'s state and version instead
    /// of the empty state at v0.
    pub fn from_start(mut self, start: HistoryStart) -> Replay<'s> {
        self.fold.start_from(start.state);
        self.start = Some((start.version, start.timestamp));
        self
    }

    /// Lets payloads go once folded and reads them back from `pages`; only before the first
    /// event (a front end learns where pages come from after it made the replay).
    pub fn read_back_from(&mut self, pages: Box<dyn EventPages + 's>) {
        if self.is_empty() {
            self.storage = Storage::paged(pages);
        }
    }

    /// Starts part-way at `start` instead; only before the first event.
    pub fn begin_at(&mut self, start: HistoryStart) {
        if self.is_empty() {
            self.fold.start_from(start.state);
            self.start = Some((start.version, start.timestamp));
        }
    }

    /// Folds with `reducer` instead; only before the first event.
    pub fn set_reducer(&mut self, reducer: Arc<dyn Reducer>) {
        if self.is_empty() {
            self.fold.reducer = reducer;
        }
    }

    /// A replay (in memory) of a history that starts part-way.
    pub fn starting_at(reducer: Arc<dyn Reducer>, start: HistoryStart) -> Replay<'s> {
        Replay::new(reducer).from_start(start)
    }

    /// Replays a history read whole; `start` where it begins part-way.
    pub fn from_history(
        history: History,
        start: Option<HistoryStart>,
        reducer: Arc<dyn Reducer>,
    ) -> Replay<'s> {
        let mut replay = match start {
            Some(start) => Replay::starting_at(reducer, start),
            None => Replay::new(reducer),
        };
        replay.extend(history.events);
        replay.set_snapshots(history.snapshots);
        replay
    }

    /// Makes room for `additional` more events held in memory, so a history streamed in
    /// chunks is not copied as its vector grows.
    pub fn reserve(&mut self, additional: usize) {
        self.storage.reserve(additional);
    }

    /// Whether payloads are read back from the store rather than held.
    pub fn is_paged(&self) -> bool {
        self.storage.is_paged()
    }

    /// Appends events (in version order) and folds them into the latest state.
    pub fn extend(&mut self, events: Vec<Event>) {
        self.index_events(&events);
        self.fold.fold(&events);
        self.storage.keep(events);
    }

    /// As `extend` with each batch `feed` hands over, folding on a thread of its own: the
    /// store reads the next batch while the reducer folds this one, so a jq reducer's
    /// worker no longer waits for the store between batches. Returns what `feed` returns.
    pub fn extend_overlapped<R>(
        &mut self,
        feed: impl FnOnce(&mut dyn FnMut(Vec<Event>)) -> R,
    ) -> R {
        let idle = Fold::new(Arc::clone(&self.fold.reducer));
        let fold = std::mem::replace(&mut self.fold, idle);
        let keep = !self.storage.is_paged();
        let (result, fold) = std::thread::scope(|scope| {
            // Two batches queued at most: memory stays bounded if the fold is the slower.
            let (to_fold, batches) = mpsc::sync_channel::<Vec<Event>>(2);
            let (give_back, folded) = mpsc::channel::<Vec<Event>>();
            let folder = scope.spawn(move || {
                let mut fold = fold;
                // Reused while a paged replay lets payloads go: a fresh vector per call
                // would fault in new pages each time.
                let mut pending = Vec::new();
                while let Ok(mut events) = batches.recv() {
                    // What the reader queued meanwhile is folded in the same call: a jq
                    // reducer's worker waits only when a call begins.
                    pending.append(&mut events);
                    while let Ok(mut more) = batches.try_recv() {
                        pending.append(&mut more);
                    }
                    fold.fold(&pending);
                    if keep {
                        let _ = give_back.send(std::mem::take(&mut pending));
                    } else {
                        // Payloads a paged replay lets go are dropped here, off the reader.
                        pending.clear();
                    }
                }
                fold
            });
            let result = feed(&mut |events| {
                self.index_events(&events);
                while let Ok(done) = folded.try_recv() {
                    self.storage.keep(done);
                }
                // A fold that panicked has hung up; its panic is raised at the join.
                let _ = to_fold.send(events);
            });
            drop(to_fold);
            let fold = folder
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for done in folded.iter() {
                self.storage.keep(done);
            }
            (result, fold)
        });
        self.fold = fold;
        result
    }

    /// Checks the new events against the ones before them and adds them to the index.
    fn index_events(&mut self, events: &[Event]) {
        let first_new = self.index.len();
        for (offset, event) in events.iter().enumerate() {
            let previous = match offset {
                0 => self.index.last().map(|e| (e.version, e.timestamp)),
                _ => Some((events[offset - 1].version, events[offset - 1].timestamp)),
            }
            .or(self.start);
            warnings::check(first_new + offset, event, previous, &mut self.warnings);
        }
        for event in events {
            self.index.push(event);
        }
    }

    pub fn reducer(&self) -> Arc<dyn Reducer> {
        Arc::clone(&self.fold.reducer)
    }

    pub fn reducer_name(&self) -> String {
        self.fold.reducer.name()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The last event's entry, without decoding its block.
    pub fn last_entry(&self) -> Option<Entry> {
        self.index.last()
    }

    /// What the index holds of event `index` (0-based): no store read.
    pub fn entry(&self, index: usize) -> Option<Entry> {
        self.index.get(index)
    }

    /// The entries of a range of events, in order.
    pub fn entries(&self, range: Range<usize>) -> impl Iterator<Item = Entry> + '_ {
        self.index.range(range)
    }

    /// The type of an entry, by name.
    pub fn type_name(&self, entry: &Entry) -> &str {
        self.index.type_name(entry.type_id)
    }

    /// Every event type the history holds, in the order first seen.
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        self.index.type_names()
    }

    /// The events of a range, read back from the store if they are not held.
    pub fn events(&mut self, range: Range<usize>) -> Result<Cow<'_, [Event]>, ReplayError> {
        self.storage
            .events(&self.index, range)
            .map_err(ReplayError::Read)
    }

    /// Event `index` (0-based) whole.
    pub fn event(&mut self, index: usize) -> Result<Event, ReplayError> {
        let events = self.events(index..index + 1)?;
        events
            .first()
            .cloned()
            .ok_or_else(|| ReplayError::Read(format!("no event {index} in this history")))
    }

    /// Every event in order, a page at a time, without holding more than a page.
    pub fn for_each_event(
        &mut self,
        range: Range<usize>,
        visit: &mut dyn FnMut(usize, &Event),
    ) -> Result<(), ReplayError> {
        let end = range.end.min(self.len());
        let mut at = range.start;
        while at < end {
            let page_end = (at + super::storage::PAGE).min(end);
            let events = self.events(at..page_end)?;
            for (offset, event) in events.iter().enumerate() {
                visit(at + offset, event);
            }
            at = page_end;
        }
        Ok(())
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Why the event at `index` (0-based) left the state unchanged, if it did.
    pub fn problem(&self, index: usize) -> Option<&StepProblem> {
        self.fold.problems.get(&index)
    }

    pub fn problems(&self) -> impl Iterator<Item = (usize, &StepProblem)> {
        self.fold.problems.iter().map(|(i, p)| (*i, p))
    }

    pub fn latest(&self) -> &Value {
        &self.fold.head
    }

    /// The state after the first `count` events (clamped to the history's length).
    pub fn state_after(&mut self, count: usize) -> Result<&Value, ReplayError> {
        let count = count.min(self.len());
        if count == self.len() {
            return Ok(&self.fold.head);
        }
        let checkpoint = count / self.fold.spacing;
        let start = checkpoint * self.fold.spacing;
        // Resume from the cursor when it lies between the checkpoint and the target:
        // that is what makes single steps forward cost one event.
        let reuse = matches!(&self.cursor, Some((at, _)) if *at >= start && *at <= count);
        let (from, mut state) = match self.cursor.take() {
            Some((at, state)) if reuse => (at, state),
            _ => (start, self.fold.checkpoints[checkpoint].clone()),
        };
        let reducer = Arc::clone(&self.fold.reducer);
        let events = self.storage.events(&self.index, from..count);
        let events = match events {
            Ok(events) => events,
            Err(err) => return Err(ReplayError::Read(err)),
        };
        // Outcomes were recorded by the first fold; a deterministic reducer repeats them.
        let _ = reducer.apply_all(&mut state, &events);
        Ok(&self.cursor.insert((count, state)).1)
    }

    /// The states before and after the event at `index` (0-based).
    pub fn step(&mut self, index: usize) -> Result<(Value, Value), ReplayError> {
        let before = self.state_after(index)?.clone();
        let after = self.state_after(index + 1)?.clone();
        Ok((before, after))
    }

    /// How many events a position includes.
    pub fn resolve(&self, position: Position) -> Result<usize, ReplayError> {
        if let Some((start, start_time)) = self.start {
            let before = match position {
                Position::Version(wanted) => wanted < start,
                Position::Time(time) => start_time.is_some_and(|t| time < t),
            };
            if before {
                return Err(ReplayError::BeforeStart {
                    wanted: position,
                    start,
                });
            }
        }
        match position {
            Position::Version(wanted) => {
                let last = self.index.last().map_or(0, |e| e.version);
                if wanted > last {
                    return Err(ReplayError::VersionBeyondEnd { wanted, last });
                }
                // v0 (or where the history starts) is the state before the first event,
                // also when events whose stored version did not read (held as v0) come first.
                if wanted == self.start_version() {
                    return Ok(0);
                }
                Ok(self.count_through_version(wanted))
            }
            Position::Time(time) => {
                let mut timed = false;
                let mut count = 0;
                for (i, entry) in self.index.range(0..self.len()).enumerate() {
                    if let Some(t) = entry.timestamp {
                        timed = true;
                        if t <= time {
                            count = i + 1;
                        }
                    }
                }
                if !timed && !self.is_empty() {
                    return Err(ReplayError::NoTimestamps);
                }
                Ok(count)
            }
        }
    }

    /// The number of events whose version is at most `version` (events are in version order).
    pub fn count_through_version(&self, version: u64) -> usize {
        self.index.count_through_version(version)
    }

    /// The version reached after `count` events (0, or where the history starts, before
    /// the first event).
    pub fn version_after(&self, count: usize) -> u64 {
        count
            .checked_sub(1)
            .and_then(|i| self.index.get(i))
            .map_or(self.start_version(), |e| e.version)
    }

    /// When the event that `count` events end on happened, if known.
    pub fn time_after(&self, count: usize) -> Option<DateTime<Utc>> {
        count
            .checked_sub(1)
            .and_then(|i| self.index.get(i))
            .and_then(|e| e.timestamp)
    }

    /// The version position 0 stands for: 0, unless the history starts part-way.
    pub fn start_version(&self) -> u64 {
        self.start.map_or(0, |(version, _)| version)
    }

    pub fn state_at(&mut self, position: Position) -> Result<&Value, ReplayError> {
        let count = self.resolve(position)?;
        self.state_after(count)
    }

    /// Bytes the index holds, for the benchmarks.
    pub fn index_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// Estimated bytes the checkpoints hold (kept to a budget whatever the states' size).
    pub fn checkpoint_bytes(&self) -> usize {
        self.fold.checkpoint_bytes()
    }
}

#[cfg(test)]
mod tests;
