//! Blame (who changed the State tab's line) and the event filter (which events match a
//! text or a jq predicate). Both need every state of the history, so the loader computes
//! them (see `tui::jobs`) while the UI stays live; a text filter is answered at once.

use super::aggregate::Focus;
use super::App;
use crate::diff::JsonPath;
use crate::inspect::BlameLine;
use crate::tui::action::{Action, Tab};
use crate::tui::jobs::{FilterMatches, Job, JobKind, SharedReducer, Target};
use crate::tui::layout::keep_in_view;
use crate::tui::loader::Request;

/// The blame overlay: every event that changed the value at `path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Blame {
    pub path: JsonPath,
    pub ticket: u64,
    /// `None` while the loader works on it.
    pub lines: Option<Vec<BlameLine>>,
    /// How many events it covers (the ones loaded when it was asked).
    pub events: usize,
    pub selected: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// Event types containing the text, in any case.
    Text,
    /// A jq predicate over the state after the event (`.`) and `$event`.
    Jq,
}

/// How a filter is read: jq when it starts with `.`, `$` or `(`, else text to find in types.
pub fn filter_kind(query: &str) -> FilterKind {
    match query.trim_start().chars().next() {
        Some('.' | '$' | '(') => FilterKind::Jq,
        _ => FilterKind::Text,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventFilter {
    pub query: String,
    pub kind: FilterKind,
    pub ticket: u64,
    /// Indices of the matching events, in order; `None` while a jq filter runs.
    pub matches: Option<Vec<usize>>,
    /// How many events were judged (the ones loaded when it ran).
    pub judged: usize,
    /// Put back on reopening the aggregate: the cursor stays where it was left instead of
    /// going to a match.
    pub restored: bool,
}

impl EventFilter {
    pub fn is_match(&self, index: usize) -> bool {
        self.matches
            .as_ref()
            .is_some_and(|m| m.binary_search(&index).is_ok())
    }
}

impl App {
    fn target(&self) -> Option<Target> {
        let view = self.view.as_ref()?;
        Some(Target {
            aggregate_id: view.summary.id.clone(),
            events: view.len(),
            reducer: SharedReducer(view.replay.reducer()),
        })
    }

    pub(super) fn start_job(&mut self, kind: JobKind) -> Option<u64> {
        let target = self.target()?;
        let ticket = self.ticket();
        self.requests.push(Request::Job(Job {
            ticket,
            target,
            kind,
        }));
        Some(ticket)
    }

    /// `B`: blame the State tab's selected line.
    pub(super) fn start_blame(&mut self) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if view.tab != Tab::State || view.focus != Focus::Detail {
            view.tab = Tab::State;
            view.focus = Focus::Detail;
            self.say("pick a line of the state with j/k, then press B to blame it");
            return;
        }
        let Some(detail) = view.detail.as_ref() else {
            self.say("no state to blame yet");
            return;
        };
        let Some(&line) = detail.visible.get(view.state_line) else {
            return;
        };
        let path = detail.state[line].path.clone();
        let events = view.len();
        let Some(ticket) = self.start_job(JobKind::Blame(path.clone())) else {
            return;
        };
        if let Some(view) = self.view.as_mut() {
            view.blame = Some(Blame {
                path,
                ticket,
                lines: None,
                events,
                selected: 0,
                offset: 0,
            });
        }
    }

    pub(super) fn on_blame(&mut self, action: Action) {
        let rows = self.blame_rows();
        let event_rows = self.event_rows();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let Some(blame) = view.blame.as_mut() else {
            return;
        };
        let count = blame.lines.as_ref().map_or(0, Vec::len);
        let page = rows.max(1) as isize;
        let delta = match action {
            Action::Up | Action::StepBack | Action::WheelUp { .. } => -1,
            Action::Down | Action::StepForward | Action::WheelDown { .. } => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::First => isize::MIN / 2,
            Action::Last => isize::MAX / 2,
            Action::Confirm => {
                let target = blame
                    .lines
                    .as_ref()
                    .and_then(|lines| lines.get(blame.selected))
                    .map(|line| line.index);
                if let Some(index) = target {
                    view.blame = None;
                    view.focus = Focus::Events;
                    view.move_to(index, event_rows);
                }
                return;
            }
            Action::Back | Action::Blame => {
                view.blame = None;
                return;
            }
            Action::ToggleHelp => {
                self.open_help();
                return;
            }
            _ => return,
        };
        let last = count.saturating_sub(1);
        blame.selected = blame.selected.saturating_add_signed(delta).min(last);
        blame.offset = keep_in_view(blame.offset, blame.selected, rows, count);
    }

    /// Rows of blame lines the overlay shows (it covers the detail pane).
    fn blame_rows(&self) -> usize {
        self.aggregate_layout().detail_body.height.saturating_sub(1) as usize
    }

    pub(super) fn on_blamed(&mut self, ticket: u64, result: Result<Vec<BlameLine>, String>) {
        let rows = self.blame_rows();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let Some(blame) = view.blame.as_mut().filter(|b| b.ticket == ticket) else {
            return;
        };
        match result {
            Ok(lines) => {
                // Start on the change that made the value the cursor shows.
                let cursor = view.cursor;
                blame.selected = lines
                    .partition_point(|l| l.index <= cursor)
                    .saturating_sub(1);
                blame.offset = keep_in_view(0, blame.selected, rows, lines.len());
                blame.lines = Some(lines);
            }
            Err(error) => {
                view.blame = None;
                self.complain(format!("blame failed: {error}"));
            }
        }
    }

    /// Enter in the filter prompt: an empty query clears the filter.
    pub(super) fn apply_filter(&mut self, query: String) {
        self.set_filter(query, false);
    }

    /// The filter the aggregate was left with, without moving the cursor it was left on.
    pub(super) fn restore_filter(&mut self, query: String) {
        self.set_filter(query, true);
    }

    fn set_filter(&mut self, query: String, restored: bool) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if query.is_empty() {
            view.clear_filter();
            self.say("filter cleared");
            return;
        }
        let kind = filter_kind(&query);
        let judged = view.len();
        let mut filter = EventFilter {
            query: query.clone(),
            kind,
            ticket: 0,
            matches: None,
            judged,
            restored,
        };
        match kind {
            FilterKind::Text => {
                let needle = query.to_lowercase();
                let matches = (0..judged)
                    .filter(|&i| view.type_of(i).to_lowercase().contains(&needle))
                    .collect();
                filter.matches = Some(matches);
                view.filter = Some(filter);
                self.land_on_match();
            }
            FilterKind::Jq => {
                let limit = self.jq_limits;
                let Some(ticket) = self.start_job(JobKind::Filter { code: query, limit }) else {
                    return;
                };
                filter.ticket = ticket;
                if let Some(view) = self.view.as_mut() {
                    view.filter = Some(filter);
                }
            }
        }
    }

    pub(super) fn on_filtered(&mut self, ticket: u64, result: Result<FilterMatches, String>) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let Some(filter) = view.filter.as_mut().filter(|f| f.ticket == ticket) else {
            return;
        };
        match result {
            Ok(found) => {
                filter.matches = Some(found.matches);
                let failures = found.first_error.map(|(index, error)| {
                    let version = view.version_of(index);
                    format!(
                        "; the filter failed on {} event(s), first at v{version}: {error}",
                        found.errors
                    )
                });
                self.land_on_match();
                if let Some(failures) = failures {
                    let text = self.message.take().map_or(String::new(), |m| m.text);
                    self.complain(format!("{text}{failures}"));
                }
            }
            Err(error) => {
                view.clear_filter();
                self.complain(format!("filter: {error}"));
            }
        }
    }

    /// After a filter is answered: the cursor goes to the first match at or after it (a
    /// restored filter leaves it where it was).
    fn land_on_match(&mut self) {
        let rows = self.event_rows();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let Some(filter) = view.filter.as_ref() else {
            return;
        };
        let matches = filter.matches.as_deref().unwrap_or_default();
        let count = matches.len();
        let query = filter.query.clone();
        let after = matches.partition_point(|&i| i < view.cursor);
        let target = matches.get(after).or(matches.first()).copied();
        let restored = filter.restored;
        let note = match target {
            None => format!("no event matches {query}"),
            Some(index) => {
                if !restored {
                    view.move_to(index, rows);
                }
                let noun = if count == 1 { "match" } else { "matches" };
                format!("{count} {noun} for {query}; n/N next/previous")
            }
        };
        self.say(note);
    }

    /// `n` / `N`: the next or previous match, wrapping around.
    pub(super) fn step_match(&mut self, forward: bool) {
        let rows = self.event_rows();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let note = match view.filter.as_ref().map(|f| f.matches.as_deref()) {
            None => Some("no filter: press / to filter the events"),
            Some(None) => Some("still filtering…"),
            Some(Some([])) => Some("no event matches the filter"),
            Some(Some(matches)) => {
                let cursor = view.cursor;
                let (target, wrapped) = if forward {
                    let i = matches.partition_point(|&m| m <= cursor);
                    matches.get(i).map_or((matches[0], true), |&m| (m, false))
                } else {
                    let i = matches.partition_point(|&m| m < cursor);
                    match i.checked_sub(1) {
                        Some(i) => (matches[i], false),
                        None => (matches[matches.len() - 1], true),
                    }
                };
                view.move_to(target, rows);
                wrapped.then_some(if forward {
                    "past the last match: back to the first"
                } else {
                    "before the first match: on to the last"
                })
            }
        };
        if let Some(note) = note {
            self.say(note);
        }
    }
}
