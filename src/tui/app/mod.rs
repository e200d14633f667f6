//! The UI's state and its one entry point, `App::update(action)`. Nothing here draws or does
//! I/O: work for the source is queued as requests the runtime hands to the loader.

mod aggregate;
mod aggregate_input;
mod copy;
mod cursor;
#[cfg(test)]
mod daily_tests;
mod detail;
mod event_list;
#[cfg(test)]
mod event_list_tests;
mod export;
mod inspect;
#[cfg(test)]
mod inspect_tests;
mod json_tree;
#[cfg(test)]
mod kafka_tests;
mod list;
#[cfg(test)]
mod loading_tests;
mod log;
mod log_input;
#[cfg(test)]
mod log_tests;
mod mark_input;
mod messages;
mod opening;
mod pane_search;
#[cfg(test)]
mod pane_tests;
mod place;
mod prompt;
mod reading;
mod readline;
#[cfg(test)]
mod status_tests;
#[cfg(test)]
mod tests;
mod time_input;
mod trace;
mod viewer;
#[cfg(test)]
mod viewer_tests;
mod wrap;
#[cfg(test)]
mod wrap_tests;

use std::sync::Arc;

use ratatui::layout::Rect;

use crate::diff::JsonPath;
use crate::inspect::TraceIds;
use crate::replay::Reducer;

pub use aggregate::{
    AggregateView, Focus, Landing, Place, SnapshotMark, SnapshotVerdict, DIGEST_BATCH, PAGE_EVENTS,
    SPEEDS,
};
pub use detail::{Comparison, Detail, DiffInput, TextLine, Tone};
pub use event_list::{EventsPane, RowLayout};
pub use export::{default_file_name, format_name};
pub use inspect::{filter_kind, Blame, EventFilter, FilterKind};
pub use json_tree::{line_text, JsonLine, Node};
pub use list::{AggregateList, ListStatus, SortKey};
pub use log::{LogQuery, LogView, LogWidths};
pub use messages::MessageLog;
pub use pane_search::PaneSearch;
pub use trace::TraceView;
pub use viewer::ValueViewer;
use wrap::DetailPane;
pub use wrap::{Rows, STATE_INDENT};

use super::action::Action;
use super::keymap::{Context, HelpFor};
use super::layout::{self, contains};
use super::loader::{ReadingProgress, Request};
use super::theme::Theme;

pub use prompt::{Prompt, PromptKind};

/// The user's id rules settled with a source's own conventions.
#[derive(Clone)]
pub struct IdsFor(
    pub std::sync::Arc<dyn Fn(crate::source::IdConventions) -> TraceIds + Send + Sync>,
);

impl std::fmt::Debug for IdsFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdsFor")
    }
}
pub use readline::PromptHistory;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

pub struct App {
    pub source_name: String,
    pub theme: Theme,
    pub size: Rect,
    pub list: AggregateList,
    /// The opened aggregate; `None` shows the store log, or the list.
    pub view: Option<AggregateView>,
    /// The store log, under the aggregate opened from it; `None` shows the list.
    pub log: Option<LogView>,
    /// The trace overlay, over whatever screen it was asked from.
    pub trace: Option<TraceView>,
    /// A State value full screen, over its aggregate.
    pub viewer: Option<ValueViewer>,
    pub help: bool,
    /// The screen (and pane) the help was opened on: its keys come first.
    pub help_for: HelpFor,
    /// First line of the help overlay shown, for terminals too short to show it all.
    pub help_scroll: u16,
    pub prompt: Option<Prompt>,
    /// What was typed into each kind of prompt, for ↑/↓.
    pub prompt_history: PromptHistory,
    pub message: Option<Message>,
    /// Text for the clipboard, until the runtime writes it to the terminal.
    pub clipboard: Option<String>,
    /// Text for `$PAGER`, until the runtime hands the terminal to it.
    pub pager: Option<String>,
    /// Every message said, for `!`.
    pub messages: MessageLog,
    /// How far opening the source has got, while a slow source (Kafka) is read.
    pub reading: Option<ReadingProgress>,
    /// A source slow to open (a Kafka topic, a PostgreSQL server) that has not answered
    /// yet: the list says it is connecting.
    pub connecting: bool,
    /// How long a jq filter may take on one event, and how much memory.
    pub jq_limits: crate::jq::Limits,
    /// The jq predicate every state must satisfy (`--invariant`), for the health column.
    pub invariant: Option<std::sync::Arc<crate::inspect::Invariant>>,
    /// Whether the invariant's first failure has been said (once a session).
    invariant_failure_said: bool,
    /// Paths exported transcripts hide.
    pub redact: Vec<JsonPath>,
    /// Where correlation, causation and event ids live, for traces.
    pub ids: TraceIds,
    /// Settles `ids` once a source opened by the loader says where it keeps ids.
    pub ids_for: Option<IdsFor>,
    /// Where each aggregate was left, by id: reopening it goes back there.
    pub places: std::collections::HashMap<String, Place>,
    /// The aggregate to open once the list is in (`rewind SOURCE AGGREGATE --at POS`).
    pub open_at: Option<crate::tui::OpenAt>,
    /// The export waiting for the loader: its ticket and format.
    pub exporting: Option<(u64, crate::export::Format)>,
    /// The reducer the user named; without one, merge patch, or a transcript's recorded
    /// states once the loader hands them over.
    named_reducer: Option<Arc<dyn Reducer>>,
    generation: u64,
    tickets: u64,
    requests: Vec<Request>,
    quit: bool,
}

impl App {
    /// A fresh UI that asks the source for its aggregates.
    pub fn new(
        source_name: String,
        named_reducer: Option<Arc<dyn Reducer>>,
        theme: Theme,
        size: Rect,
    ) -> App {
        App {
            connecting: crate::source::backend_for(&source_name).slow_to_open,
            source_name,
            theme,
            size,
            list: AggregateList::default(),
            view: None,
            log: None,
            trace: None,
            viewer: None,
            help: false,
            help_for: HelpFor {
                context: Context::List,
                focus: Focus::Events,
            },
            help_scroll: 0,
            prompt: None,
            prompt_history: PromptHistory::default(),
            message: None,
            clipboard: None,
            pager: None,
            messages: MessageLog::default(),
            reading: None,
            jq_limits: crate::jq::Limits::default(),
            invariant: None,
            invariant_failure_said: false,
            redact: Vec::new(),
            ids: TraceIds::default(),
            ids_for: None,
            places: std::collections::HashMap::new(),
            open_at: None,
            exporting: None,
            named_reducer,
            generation: 0,
            tickets: 0,
            requests: vec![Request::ListAggregates],
            quit: false,
        }
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Requests queued since the last call, oldest first.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    pub fn is_playing(&self) -> bool {
        self.view.as_ref().is_some_and(|v| v.playing)
    }

    /// Received events are waiting to be replayed (send `Action::Digest`).
    /// Events received and not replayed yet.
    pub fn backlog(&self) -> usize {
        self.view.as_ref().map_or(0, |v| v.backlog.len())
    }

    pub fn has_backlog(&self) -> bool {
        self.view.as_ref().is_some_and(|v| !v.backlog.is_empty())
    }

    pub fn is_following(&self) -> bool {
        match (&self.view, &self.log) {
            (Some(view), _) => view.follow,
            (None, Some(log)) => log.follow,
            (None, None) => false,
        }
    }

    pub fn play_interval(&self) -> Option<std::time::Duration> {
        self.view
            .as_ref()
            .filter(|v| v.playing)
            .map(|v| v.play_interval())
    }

    /// Where keys go now.
    pub fn context(&self) -> Context {
        if self.help {
            Context::Help
        } else if self.messages.open {
            Context::Messages
        } else if self.prompt.is_some() {
            Context::Prompt
        } else if self.viewer.is_some() {
            Context::Viewer
        } else if self.trace.is_some() {
            Context::Trace
        } else if self.view.as_ref().is_some_and(|v| v.blame.is_some()) {
            Context::Blame
        } else if self.view.is_some() {
            Context::Aggregate
        } else if self.log.is_some() {
            Context::Log
        } else if self.list.filtering {
            Context::Filtering
        } else {
            Context::List
        }
    }

    /// Where the aggregate screen's panes are, with the zoomed one over the others.
    fn aggregate_layout(&self) -> layout::AggregateLayout {
        let zoomed = self.view.as_ref().and_then(|v| v.zoomed());
        let preview = (self.view.as_ref()).is_some_and(|v| v.widened_for_preview(self.size));
        layout::aggregate_with(self.size, zoomed, preview)
    }

    fn list_rows(&self) -> usize {
        layout::list(self.size).rows.height as usize
    }

    fn event_rows(&self) -> usize {
        self.aggregate_layout().event_rows.height as usize
    }

    fn detail_pane(&self) -> DetailPane {
        let body = self.aggregate_layout().detail_body;
        DetailPane {
            rows: body.height as usize,
            width: body.width as usize,
        }
    }

    pub fn update(&mut self, action: Action) {
        match action {
            Action::Loaded(report) => {
                self.on_report(report);
                return self.settle_in_background();
            }
            Action::Digest => {
                self.digest();
                return self.settle_in_background();
            }
            Action::Resize { width, height } => {
                self.size = Rect::new(0, 0, width, height);
                let rows = self.list_rows();
                self.list.move_to(self.list.selected, rows);
            }
            Action::Quit => self.quit = true,
            Action::PlayTick => self.play_tick(),
            Action::FollowTick if self.view.is_some() => self.follow_tick(),
            Action::FollowTick => self.log_follow_tick(),
            action => {
                self.message = None;
                // Any key but the speed keys stops playback, and is spent doing so.
                let speed_key = matches!(action, Action::Faster | Action::Slower);
                if let Some(view) = self.view.as_mut().filter(|v| v.playing && !speed_key) {
                    view.playing = false;
                    self.settle();
                    return;
                }
                self.on_user(action);
            }
        }
        self.settle();
    }

    /// After a report or a replayed batch: while a history is still loading, the detail
    /// already shown stays (the cursor may ride along with the load), since working it out
    /// again for every batch reads events back from the store and would slow a long load
    /// many times over; the user's own keys, and the end of the load, bring it up to date.
    fn settle_in_background(&mut self) {
        let event_rows = self.event_rows();
        match self.view.as_mut() {
            Some(view) if view.loading && view.detail.is_some() => {
                view.keep_cursor_in_view(event_rows);
            }
            _ => self.settle(),
        }
    }

    fn settle(&mut self) {
        let pane = self.detail_pane();
        let event_rows = self.event_rows();
        let mut failed = None;
        if let Some(view) = self.view.as_mut() {
            view.keep_cursor_in_view(event_rows);
            view.settle(pane);
            failed = view.fill_previews(event_rows).err();
            // The visible tab's diff, worked out off this thread.
            if let Some(job) = view.diff_job() {
                self.requests.push(Request::Diff(job));
            }
        }
        if let Some(error) = failed {
            self.complain(error);
        }
    }

    /// `u`: every time on screen in the local zone (with its offset), or back as stored
    /// (UTC, or the offset the store wrote a time with).
    fn toggle_zone(&mut self) {
        let zone = self.theme.zone.toggled();
        self.theme.zone = zone;
        if let Some(view) = self.view.as_mut() {
            view.zone = zone;
            // The Event tab's heading carries the time.
            view.detail = None;
        }
        let text = match zone {
            super::text::Zone::Local => format!(
                "times in the local zone (UTC{} now; TZ sets it); u for times as stored",
                chrono::Local::now().format("%:z")
            ),
            super::text::Zone::Stored => {
                "times as stored (UTC unless the store wrote an offset); u for the local zone"
                    .to_string()
            }
        };
        self.say(text);
    }

    fn open_help(&mut self) {
        self.help_for = HelpFor {
            context: self.context(),
            focus: self.view.as_ref().map_or(Focus::Events, |v| v.focus),
        };
        self.help = true;
        self.help_scroll = 0;
    }

    /// A new job ticket; answers to older ones are ignored.
    fn ticket(&mut self) -> u64 {
        self.tickets += 1;
        self.tickets
    }

    fn say(&mut self, text: impl Into<String>) {
        self.tell(Message {
            text: text.into(),
            error: false,
        });
    }

    /// Once: the invariant could not judge a state, so the health column counts it broken.
    fn say_invariant_failure(&mut self) {
        if self.invariant_failure_said {
            return;
        }
        let Some(failure) = self.invariant.as_ref().and_then(|i| i.first_failure()) else {
            return;
        };
        self.invariant_failure_said = true;
        self.complain(format!(
            "the invariant could not judge some states, counted as breaks (first at {failure})"
        ));
    }

    pub(crate) fn complain(&mut self, text: impl Into<String>) {
        self.tell(Message {
            text: text.into(),
            error: true,
        });
    }

    fn tell(&mut self, message: Message) {
        self.messages.push(message.clone());
        self.message = Some(message);
    }

    fn on_user(&mut self, action: Action) {
        if action == Action::MessageLog && self.context() != Context::Messages {
            self.open_messages();
            return;
        }
        if action == Action::ToggleZone {
            self.toggle_zone();
            return;
        }
        match self.context() {
            Context::Help => match action {
                Action::ToggleHelp | Action::Back => self.help = false,
                Action::Up | Action::WheelUp { .. } => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                Action::Down | Action::WheelDown { .. } => {
                    self.help_scroll = (self.help_scroll + 1)
                        .min(super::view::help_lines(self.help_for, self.size.width))
                }
                _ => {}
            },
            Context::Messages => self.on_messages(action),
            Context::Prompt => self.on_prompt(action),
            Context::List | Context::Filtering => self.on_list(action),
            Context::Blame => self.on_blame(action),
            Context::Aggregate => self.on_aggregate(action),
            Context::Log => self.on_log(action),
            Context::Trace => self.on_trace(action),
            Context::Viewer => self.on_viewer(action),
        }
    }

    fn on_list(&mut self, action: Action) {
        let rows = self.list_rows();
        let list = &mut self.list;
        match action {
            Action::Up => list.move_by(-1, rows),
            Action::Down => list.move_by(1, rows),
            Action::PageUp => list.move_by(-(rows.max(1) as isize), rows),
            Action::PageDown => list.move_by(rows.max(1) as isize, rows),
            Action::First => list.move_to(0, rows),
            Action::Last => list.move_to(usize::MAX, rows),
            Action::Filter => list.filtering = true,
            Action::CycleSort => list.cycle_sort(rows),
            Action::InputChar(c) if list.filtering => list.push_filter(c, rows),
            Action::InputBackspace if list.filtering => list.pop_filter(rows),
            Action::Edit(edit) if list.filtering => list.edit_filter(edit, rows),
            Action::Confirm if list.filtering => list.filtering = false,
            Action::Confirm => self.open_selected(),
            Action::OpenLog => self.open_log(),
            Action::Back if list.filtering || !list.filter_text().is_empty() => {
                list.filtering = false;
                list.clear_filter(rows);
            }
            Action::Back => self.quit = true,
            Action::ToggleHelp => self.open_help(),
            Action::Click { column, row } => self.click_list(column, row),
            Action::WheelUp { .. } => list.move_by(-3, rows),
            Action::WheelDown { .. } => list.move_by(3, rows),
            _ => {}
        }
    }

    fn click_list(&mut self, column: u16, row: u16) {
        let area = layout::list(self.size).rows;
        if contains(area, column, row) {
            let index = self.list.offset + (row - area.y) as usize;
            if index < self.list.shown.len() {
                self.list.move_to(index, area.height as usize);
            }
        }
    }

    fn open_selected(&mut self) {
        let Some(summary) = self.list.selected_summary().cloned() else {
            return;
        };
        self.open_aggregate(summary, None);
    }
}
