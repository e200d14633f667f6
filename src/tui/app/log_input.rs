//! How the store log screen reacts: keys and mouse, the pages the loader answers with,
//! follow ticks.

use super::log::{Land, LogQuery, LogView, PendingPage};
use super::prompt::one_line;
use super::{App, Landing, PromptKind};
use crate::tui::action::Action;
use crate::tui::app::inspect::{filter_kind, FilterKind};
use crate::tui::jobs::SharedReducer;
use crate::tui::layout::{self, contains};
use crate::tui::loader::Request;
use crate::tui::log_pages::{Anchor, Page, PageRequest, RowFilter, PAGE_ROWS};
use crate::tui::text::format_time_in;

impl App {
    /// `L` on the aggregate list: the store log from its first event.
    pub(super) fn open_log(&mut self) {
        self.log = Some(LogView::default());
        self.ask_page(Anchor::First, None);
    }

    fn log_rows(&self) -> usize {
        layout::list(self.size).rows.height as usize
    }

    /// Asks the loader for a page, read with `query`; it replaces any page still coming.
    fn ask_page(&mut self, anchor: Anchor, query: Option<LogQuery>) {
        let ticket = self.ticket();
        let events_hint = self.list.all.iter().map(|s| s.events).sum();
        self.requests.push(Request::LogPage(PageRequest {
            ticket,
            anchor: anchor.clone(),
            filter: query.as_ref().map(|q| q.filter.clone()),
            rows: PAGE_ROWS,
            events_hint,
            jq_limits: self.jq_limits,
            reducer: self.named_reducer.clone().map(SharedReducer),
            ids: self.ids.clone(),
        }));
        if let Some(log) = self.log.as_mut() {
            log.pending = Some(PendingPage {
                ticket,
                anchor,
                query,
            });
        }
    }

    /// The same filter, a new place.
    fn jump_log(&mut self, anchor: Anchor) {
        let query = self.log.as_ref().and_then(|log| log.query.clone());
        self.ask_page(anchor, query);
    }

    /// Asks for the page beyond the window's edge when the cursor comes near it.
    fn fetch_edges(&mut self) {
        let rows = self.log_rows();
        if let Some(anchor) = self.log.as_ref().and_then(|log| log.wanted(rows)) {
            self.jump_log(anchor);
        }
    }

    pub(super) fn on_log(&mut self, action: Action) {
        let rows = self.log_rows();
        let Some(log) = self.log.as_mut() else {
            return;
        };
        let page = rows.max(1) as isize;
        match action {
            Action::Up | Action::StepBack => log.move_by(-1, rows),
            Action::Down | Action::StepForward => log.move_by(1, rows),
            Action::PageUp => log.move_by(-page, rows),
            Action::PageDown => log.move_by(page, rows),
            Action::First if log.at_start => log.move_to(0, rows),
            Action::First => self.jump_log(Anchor::First),
            Action::Last if log.at_end => log.move_to(usize::MAX, rows),
            Action::Last => self.jump_log(Anchor::Last),
            Action::JumpToTime => {
                let prefill = log
                    .current()
                    .and_then(|row| Some((row.timestamp?, row.time_offset)))
                    .map(|(t, offset)| format_time_in(&t, offset, self.theme.zone))
                    .unwrap_or_default();
                self.open_prompt(PromptKind::LogTime, prefill);
            }
            Action::Filter => {
                let text = log.query.as_ref().map_or(String::new(), |q| q.text.clone());
                self.open_prompt(PromptKind::LogFilter, text);
            }
            Action::ToggleFollow => self.toggle_log_follow(),
            Action::Confirm => self.open_log_row(),
            Action::Trace => {
                let row = log.current().cloned();
                match row {
                    Some(row) => match row.trace_id() {
                        Some(id) => {
                            let id = id.to_string();
                            self.start_trace(id, Some(row.position));
                        }
                        None => self.say_no_trace_id(),
                    },
                    None => self.say("no event to trace"),
                }
            }
            Action::Cancel if log.query.is_some() => {
                let at = log.current().map(|row| row.position);
                let anchor = at.map_or(Anchor::First, Anchor::From);
                self.ask_page(anchor, None);
                self.say("filter cleared");
            }
            Action::Cancel => self.say("nothing to cancel; q goes back to the list"),
            Action::Back => self.log = None,
            Action::ToggleHelp => self.open_help(),
            Action::Click { column, row } => {
                let area = layout::list(self.size).rows;
                if contains(area, column, row) {
                    let index = log.offset + (row - area.y) as usize;
                    if index < log.rows.len() {
                        log.move_to(index, rows);
                    }
                }
            }
            Action::WheelUp { .. } => log.move_by(-3, rows),
            Action::WheelDown { .. } => log.move_by(3, rows),
            _ => {}
        }
        self.fetch_edges();
    }

    /// Enter: the row's aggregate, its timeline on this event; Back returns to this row.
    fn open_log_row(&mut self) {
        let Some(row) = self.log.as_ref().and_then(|log| log.current().cloned()) else {
            return;
        };
        self.open_aggregate_at(
            &row.aggregate_id,
            row.aggregate_type.clone(),
            Landing::Position(row.position),
        );
    }

    fn toggle_log_follow(&mut self) {
        if crate::source::backend_for(&self.source_name).name == "transcript" {
            self.say("a transcript does not grow: there is nothing to follow");
            return;
        }
        let Some(log) = self.log.as_mut() else {
            return;
        };
        log.follow = !log.follow;
        if !log.follow {
            self.say("stopped following");
            return;
        }
        let caught_up = log.at_end && log.resume.is_some();
        self.say("following: new events are appended as they are stored");
        if !caught_up {
            self.jump_log(Anchor::Last);
        } else {
            let rows = self.log_rows();
            if let Some(log) = self.log.as_mut() {
                log.move_to(usize::MAX, rows);
            }
        }
    }

    pub(super) fn log_follow_tick(&mut self) {
        let Some(log) = self.log.as_ref() else {
            return;
        };
        if !log.follow || log.pending.is_some() || !log.at_end {
            return;
        }
        if let Some(resume) = log.resume.clone() {
            let after = log.last_position();
            self.jump_log(Anchor::Since { resume, after });
        }
    }

    /// Enter in the `t` prompt of the log.
    pub(super) fn submit_log_time(&mut self, input: &str) {
        let cursor = self
            .log
            .as_ref()
            .and_then(|log| log.current())
            .and_then(|row| row.timestamp);
        match super::time_input::resolve_time(input, cursor, self.theme.zone) {
            Some(time) => {
                self.prompt = None;
                self.jump_log(Anchor::Time(time));
            }
            None => self.prompt_error(format!(
                "{input:?} is not a time: type 2026-01-15 10:30, 10:30, 2026-01, -1h or +15m"
            )),
        }
    }

    /// Enter in the `/` prompt of the log: a jq filter that does not compile keeps the prompt
    /// open with the error, and the old filter in place.
    pub(super) fn submit_log_filter(&mut self, input: &str) {
        let text = input.trim().to_string();
        let at = self
            .log
            .as_ref()
            .and_then(|log| log.current().map(|row| row.position));
        let anchor = at.map_or(Anchor::First, Anchor::From);
        if text.is_empty() {
            self.prompt = None;
            self.ask_page(anchor, None);
            self.say("filter cleared");
            return;
        }
        let filter = match filter_kind(&text) {
            FilterKind::Text => RowFilter::Text(text.clone()),
            FilterKind::Jq => match crate::jq::compile(&text, "filter") {
                Ok(_) => RowFilter::Jq(text.clone()),
                Err(err) => {
                    self.prompt_error(one_line(&err.to_string()));
                    return;
                }
            },
        };
        self.prompt = None;
        self.ask_page(anchor, Some(LogQuery { text, filter }));
    }

    pub(super) fn on_log_page(
        &mut self,
        ticket: u64,
        anchor: Anchor,
        result: Result<Page, String>,
    ) {
        let rows = self.log_rows();
        let zone = self.theme.zone;
        let Some(log) = self.log.as_mut() else {
            return;
        };
        let Some(pending) = log.pending.take_if(|p| p.ticket == ticket) else {
            return;
        };
        let page = match result {
            Ok(page) => page,
            Err(error) => {
                if matches!(anchor, Anchor::Since { .. }) {
                    log.follow = false;
                    self.complain(format!("follow stopped: {error}"));
                } else {
                    log.error = log.rows.is_empty().then(|| error.clone());
                    self.complain(format!("could not read the store: {error}"));
                }
                return;
            }
        };
        log.error = None;
        let note = page.note.clone();
        let failures = (page.failures > 0).then(|| {
            format!(
                "the filter failed on {} event(s), first at {}",
                page.failures,
                page.first_failure.clone().unwrap_or_default()
            )
        });
        let mut refill = false;
        match anchor {
            Anchor::After(_) => log.append(page, rows),
            Anchor::Before(_) => log.prepend(page, rows),
            Anchor::Since { .. } => {
                let arrived = page.rows.len();
                log.append(page, rows);
                if arrived > 0 {
                    let when = log
                        .rows
                        .last()
                        .and_then(|r| Some((r.timestamp?, r.time_offset)))
                        .map(|(t, offset)| format_time_in(&t, offset, zone))
                        .unwrap_or_default();
                    self.say(format!("{arrived} new event(s) {when}"));
                }
            }
            Anchor::Last => {
                log.query = pending.query;
                log.replace(page, Land::Last, rows);
            }
            Anchor::First | Anchor::From(_) | Anchor::Time(_) => {
                log.query = pending.query;
                refill = page.rows.is_empty() && !page.at_start;
                log.replace(page, Land::First, rows);
            }
        }
        if refill {
            // Nothing matches from here on: the last rows that match, if any.
            self.jump_log(Anchor::Last);
            self.say("nothing matches after that point; showing the last matches");
            return;
        }
        if let Some(log) = self.log.as_ref() {
            if log.rows.is_empty() && log.at_start && log.at_end {
                let text = match &log.query {
                    Some(query) => format!("no event matches {}", query.text),
                    None => "this store holds no events".to_string(),
                };
                self.say(text);
            }
        }
        if let Some(note) = note {
            self.say(note);
        }
        if let Some(failures) = failures {
            self.complain(failures);
        }
        self.fetch_edges();
    }
}
