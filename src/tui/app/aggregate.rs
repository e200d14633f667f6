//! One opened aggregate: its replay (growing while it loads), the cursor, marks, playback,
//! live follow, and the cached detail for the cursor.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::diff::{Change, JsonPath};
use crate::model::{AggregateSummary, Event, SnapshotEntry, SnapshotOutcome, StorePosition};
use crate::replay::{Entry, Reducer, Replay, SnapshotCheck};

use super::detail::{Comparison, Detail, TextLine};
use super::inspect::{Blame, EventFilter};
pub use super::place::Place;
use crate::tui::action::Tab;
use crate::tui::diff_worker::{DiffJob, DiffTarget};

/// Playback speeds in events per second; `+`/`-` move along this list.
pub const SPEEDS: [u32; 8] = [1, 2, 5, 10, 20, 50, 100, 250];
const DEFAULT_SPEED: usize = 3;
/// Events replayed per `Action::Digest`: small enough that a slow (jq) reducer never holds
/// up a keypress for long, since input is handled between batches.
pub const DIGEST_BATCH: usize = 256;
/// How far PgUp/PgDn move the cursor.
pub const PAGE_EVENTS: usize = 10;

pub use crate::tui::action::Focus;

#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotVerdict {
    Agrees,
    /// Paths where the stored snapshot (old) and replay (new) differ.
    Differs(Vec<Change>),
    Undecodable(String),
}

/// Where an aggregate puts its cursor as its history loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// The latest event: where an aggregate opens unless told otherwise.
    Latest,
    /// The event at this store position (from the log, a trace, or where it was left).
    Position(StorePosition),
    /// A version or a time, as `--at` gives it, resolved once the history is in.
    At(crate::model::Position),
}

/// A stored snapshot placed on the timeline at the event it claims to summarize.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotMark {
    pub index: usize,
    pub version: u64,
    pub verdict: SnapshotVerdict,
}

pub struct AggregateView {
    pub summary: AggregateSummary,
    pub generation: u64,
    pub replay: Replay<'static>,
    /// True until the source has finished and every received event is replayed.
    pub loading: bool,
    /// The source has sent everything it will (or failed).
    pub source_done: bool,
    /// The ticket of the background job checking the snapshots, while it runs.
    pub checking_snapshots: Option<u64>,
    /// Events received but not replayed yet.
    pub backlog: VecDeque<Event>,
    pub error: Option<String>,
    /// Index of the event under the cursor; the state shown is the one after it.
    pub cursor: usize,
    pub offset: usize,
    pub marks: [Option<usize>; 2],
    pub tab: Tab,
    pub focus: Focus,
    /// Sorted by index; known once the history has finished loading.
    pub snapshots: Vec<SnapshotMark>,
    /// Events the replay could not apply, sorted.
    pub problems: Vec<usize>,
    pub playing: bool,
    pub speed: usize,
    pub follow: bool,
    pub polling: bool,
    /// Where the next follow poll resumes reading the store.
    pub resume: crate::source::Resume,
    pub detail: Option<Detail>,
    pub comparison: Option<Comparison>,
    pub folds: BTreeSet<JsonPath>,
    /// Selected line of the State tab, as an index into `Detail::visible`.
    pub state_line: usize,
    /// Scroll offsets of the four tabs.
    pub scroll: [usize; 4],
    /// The blame overlay, open while `Some`.
    pub blame: Option<Blame>,
    pub filter: Option<EventFilter>,
    /// The event to put the cursor on when it arrives.
    pub landing: Option<Landing>,
    /// Marks and filter of the place it was left at, put back once the history is in.
    pub restore: Option<Place>,
    /// `w`: the detail pane wraps long lines instead of cutting them.
    pub wrap: bool,
    /// Cells the detail pane is scrolled right by (←/→ with the pane focused).
    pub hscroll: usize,
    /// `/` in the focused detail pane: the tab it was made in and what it looks for,
    /// stepped with n/N.
    pub pane_search: Option<(Tab, super::pane_search::PaneSearch)>,
    /// Fraction digits the TIME column shows: the most any loaded event needs.
    pub time_digits: u8,
    /// Some loaded event keeps the offset its time was stored with (the column is wider).
    pub time_offsets: bool,
    /// The cursor rests before the first event, on v0 (the history's start state).
    pub before_first: bool,
    /// The zone the Event tab writes the event's time in.
    pub zone: crate::tui::text::Zone,
    /// `o`: the focused pane fills the screen.
    pub zoom: bool,
    /// `p` and `m`: the data preview and the matching-only list.
    pub events_pane: super::EventsPane,
}

impl AggregateView {
    pub fn new(summary: AggregateSummary, generation: u64, reducer: Arc<dyn Reducer>) -> Self {
        let mut replay = Replay::new(reducer);
        // The list said how many events there are: room for all of them up front.
        replay.reserve(summary.events as usize);
        AggregateView {
            summary,
            generation,
            replay,
            loading: true,
            checking_snapshots: None,
            source_done: false,
            backlog: VecDeque::new(),
            error: None,
            cursor: 0,
            offset: 0,
            marks: [None, None],
            tab: Tab::State,
            focus: Focus::Events,
            snapshots: Vec::new(),
            problems: Vec::new(),
            playing: false,
            speed: DEFAULT_SPEED,
            follow: false,
            polling: false,
            resume: crate::source::Resume::default(),
            detail: None,
            comparison: None,
            folds: BTreeSet::new(),
            state_line: 0,
            scroll: [0; 4],
            blame: None,
            filter: None,
            landing: None,
            restore: None,
            time_digits: 0,
            time_offsets: false,
            pane_search: None,
            wrap: false,
            hscroll: 0,
            before_first: false,
            zone: crate::tui::text::Zone::Stored,
            zoom: false,
            events_pane: super::EventsPane::default(),
        }
    }

    /// The pane that fills the screen, if one does.
    pub fn zoomed(&self) -> Option<Focus> {
        self.zoom.then_some(self.focus)
    }

    /// The index of the event at a store position.
    pub fn index_of(&self, position: StorePosition) -> Option<usize> {
        (0..self.len()).find(|&i| self.position_of(i) == position)
    }

    pub fn len(&self) -> usize {
        self.replay.len()
    }

    pub fn is_empty(&self) -> bool {
        self.replay.is_empty()
    }

    /// How many events the timeline spans: what the store said it holds, or more once
    /// live follow has appended.
    pub fn span(&self) -> usize {
        (self.summary.events as usize).max(self.len() + self.backlog.len())
    }

    pub fn queue(&mut self, events: Vec<Event>) {
        self.backlog.extend(events);
    }

    /// Replays the next batch of received events.
    pub fn digest(&mut self, event_rows: usize) {
        let n = self.backlog.len().min(DIGEST_BATCH);
        if n > 0 {
            let batch: Vec<Event> = self.backlog.drain(..n).collect();
            self.append(batch, event_rows);
        }
    }

    /// What the index knows of the event under the cursor: enough to show where it is.
    pub fn current_entry(&self) -> Option<Entry> {
        self.replay.entry(self.cursor)
    }

    pub fn entry(&self, index: usize) -> Option<Entry> {
        self.replay.entry(index)
    }

    /// The version of event `index`, 0 past the end.
    pub fn version_of(&self, index: usize) -> u64 {
        self.replay.entry(index).map_or(0, |e| e.version)
    }

    /// The type of event `index`.
    pub fn type_of(&self, index: usize) -> &str {
        match self.replay.entry(index) {
            Some(entry) => self.replay.type_name(&entry),
            None => "",
        }
    }

    /// The last version loaded, 0 before any.
    pub fn last_version(&self) -> u64 {
        self.replay.last_entry().map_or(0, |e| e.version)
    }

    /// How the TIME columns of this history are written in `zone`.
    pub fn time_column(&self, zone: crate::tui::text::Zone) -> crate::tui::text::TimeColumn {
        crate::tui::text::TimeColumn::new(self.time_digits, zone).with_offsets(self.time_offsets)
    }

    /// Appends events; a cursor resting on the last event stays on the last event.
    pub fn append(&mut self, events: Vec<Event>, event_rows: usize) {
        let old_len = self.len();
        let at_end = old_len > 0 && self.cursor + 1 == old_len;
        let digits = events.iter().filter_map(|e| e.timestamp.as_ref());
        let digits = digits.map(crate::tui::text::subsecond_digits).max();
        self.time_digits = self.time_digits.max(digits.unwrap_or(0));
        self.time_offsets |= events.iter().any(|e| e.time_offset.is_some());
        self.replay.extend(events);
        self.problems
            .extend((old_len..self.len()).filter(|&i| self.replay.problem(i).is_some()));
        match self.landing {
            Some(Landing::Position(position)) => {
                let found = (old_len..self.len()).find(|&i| self.position_of(i) == position);
                if let Some(index) = found {
                    self.landing = None;
                    self.move_to(index, event_rows);
                }
                return;
            }
            Some(Landing::Latest) => {
                self.move_to(usize::MAX, event_rows);
                return;
            }
            Some(Landing::At(_)) => return,
            None => {}
        }
        if at_end {
            self.move_to(self.len() - 1, event_rows);
        }
    }

    /// Puts the cursor on the event at `landing`, now if it has loaded, else when it does.
    pub fn land(&mut self, landing: Landing, event_rows: usize) {
        let found = match landing {
            Landing::Position(position) => self.index_of(position),
            Landing::Latest => self.len().checked_sub(1),
            Landing::At(_) => None,
        };
        match found {
            Some(index) => {
                self.landing = None;
                self.focus = Focus::Events;
                self.move_to(index, event_rows);
            }
            None => self.landing = Some(landing),
        }
    }

    /// The store position of event `index`.
    pub fn position_of(&self, index: usize) -> StorePosition {
        self.replay
            .entry(index)
            .map_or(StorePosition::default(), |e| e.position)
    }

    /// The event under the cursor, whole (its payload read from the store if paged out).
    pub fn event_at_cursor(&mut self) -> Option<Event> {
        // v0, the empty state, has no event.
        if self.before_first {
            return None;
        }
        self.replay.event(self.cursor).ok()
    }

    pub fn set_snapshots(&mut self, snapshots: Vec<SnapshotEntry>) {
        self.replay.set_snapshot_entries(snapshots);
    }

    /// Checks each snapshot against replay and places it on the timeline.
    pub fn place_snapshots(&mut self) {
        let checks = self.replay.check_snapshots().map_err(|e| e.to_string());
        self.place_checks(checks);
    }

    /// Places the snapshots as checked (here, or by a background job on a replay of its
    /// own over the same events).
    pub fn place_checks(&mut self, checks: Result<Vec<SnapshotCheck>, String>) {
        self.checking_snapshots = None;
        let checks = match checks {
            Ok(checks) => checks,
            Err(err) => {
                self.error = Some(err);
                Vec::new()
            }
        };
        self.snapshots = checks
            .into_iter()
            .filter(|c| c.count > 0)
            .filter_map(|check| {
                let verdict = match check.outcome {
                    SnapshotOutcome::Agrees => SnapshotVerdict::Agrees,
                    SnapshotOutcome::Differs(found) => SnapshotVerdict::Differs(found),
                    SnapshotOutcome::Undecodable(err) => SnapshotVerdict::Undecodable(err),
                    SnapshotOutcome::BeyondHistory => return None,
                };
                Some(SnapshotMark {
                    index: check.count - 1,
                    version: check.version,
                    verdict,
                })
            })
            .collect();
        self.snapshots.sort_by_key(|m| m.index);
        // The Event tab describes snapshots, so the cached detail is stale now.
        self.detail = None;
    }

    pub fn play_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(SPEEDS[self.speed]))
    }

    pub fn speed_per_second(&self) -> u32 {
        SPEEDS[self.speed]
    }

    /// Brings the cached detail and comparison up to date with the cursor and marks.
    pub fn settle(&mut self, pane: super::wrap::DetailPane) {
        if self.is_empty() {
            self.detail = None;
            return;
        }
        let stale = |d: &Detail| d.index != self.cursor || d.before_first != self.before_first;
        if self.detail.as_ref().is_none_or(stale) {
            let computed = if self.before_first {
                Detail::start(&mut self.replay, &self.folds)
            } else {
                Detail::compute(
                    &mut self.replay,
                    self.cursor,
                    &self.folds,
                    &self.snapshots,
                    self.zone,
                )
            };
            match computed {
                Ok(detail) => self.detail = Some(detail),
                Err(err) => {
                    self.error = Some(err.to_string());
                    self.detail = None;
                }
            }
        }
        if let (Tab::Compare, Some((a, b))) = (self.tab, self.compare_pair()) {
            let to_cursor = self.marks[1].is_none();
            let stale = |c: &Comparison| c.marks != (a, b) || c.to_cursor != to_cursor;
            if self.comparison.as_ref().is_none_or(stale) {
                match Comparison::compute(&mut self.replay, a, b, to_cursor) {
                    Ok(comparison) => self.comparison = Some(comparison),
                    Err(err) => self.error = Some(err.to_string()),
                }
                self.scroll[Tab::Compare.index()] = 0;
            }
        }
        let visible = self.detail.as_ref().map_or(0, |d| d.visible.len());
        self.state_line = self.state_line.min(visible.saturating_sub(1));
        self.keep_state_line_in_view(pane);
        self.clamp_scrolls(pane);
    }

    /// The diff the visible tab still lacks, handed over once.
    pub fn diff_job(&mut self) -> Option<DiffJob> {
        let generation = self.generation;
        match self.tab {
            Tab::Diff => {
                let detail = self.detail.as_mut()?;
                let input = detail.diff_input.take()?;
                Some(DiffJob {
                    target: DiffTarget::Event {
                        generation,
                        index: detail.index,
                    },
                    input,
                })
            }
            Tab::Compare => {
                let comparison = self.comparison.as_mut()?;
                let input = comparison.input.take()?;
                Some(DiffJob {
                    target: DiffTarget::Compare {
                        generation,
                        marks: comparison.marks,
                    },
                    input,
                })
            }
            Tab::State | Tab::Event => None,
        }
    }

    /// A diff from the worker, if it is still the one shown.
    pub fn take_diff(&mut self, target: DiffTarget, lines: Vec<TextLine>) {
        match target {
            DiffTarget::Event { generation, index } if generation == self.generation => {
                if let Some(detail) = self.detail.as_mut().filter(|d| d.index == index) {
                    detail.set_diff(lines);
                }
            }
            DiffTarget::Compare { generation, marks } if generation == self.generation => {
                if let Some(c) = self.comparison.as_mut().filter(|c| c.marks == marks) {
                    c.set_diff(lines);
                }
            }
            _ => {}
        }
    }

    /// Lines in the current tab, for scrolling limits.
    pub fn tab_lines(&self) -> usize {
        self.lines_of(self.tab)
    }

    pub(super) fn lines_of(&self, tab: Tab) -> usize {
        match tab {
            Tab::State => self.detail.as_ref().map_or(0, |d| d.visible.len()),
            Tab::Diff => self.detail.as_ref().map_or(0, |d| d.diff.len()),
            Tab::Event => self.detail.as_ref().map_or(0, |d| d.event.len()),
            Tab::Compare => self.comparison.as_ref().map_or(1, |c| c.lines.len()),
        }
    }
}
