//! How the aggregate screen reacts: keys, mouse, playback and follow ticks, loader reports.

use super::aggregate::{Focus, Landing, PAGE_EVENTS, SPEEDS};
use super::{App, PromptKind};
use crate::tui::text::format_time_in;

use crate::tui::action::{Action, Tab};
use crate::tui::jobs::Outcome;
use crate::tui::layout::{self, contains};
use crate::tui::loader::{Report, Request};

/// Cells ←/→ scroll the detail pane by, and how far right it goes.
const HSCROLL_STEP: usize = 8;
const HSCROLL_MAX: usize = 100_000;

impl App {
    pub(super) fn on_aggregate(&mut self, action: Action) {
        let rows = self.event_rows();
        let pane = self.detail_pane();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let detail_focus = view.focus == Focus::Detail;
        let page = pane.rows.max(1) as isize;
        let mut note: Option<String> = None;
        match action {
            Action::Left if detail_focus && !view.wrap => {
                view.hscroll = view.hscroll.saturating_sub(HSCROLL_STEP)
            }
            Action::Right if detail_focus && !view.wrap => {
                view.hscroll = (view.hscroll + HSCROLL_STEP).min(HSCROLL_MAX)
            }
            Action::StepBack | Action::Left => view.step_back(rows),
            Action::StepForward | Action::Right => view.move_by(1, rows),
            Action::TogglePreview => self.toggle_preview(),
            Action::ToggleMatchingOnly => note = Some(view.toggle_matching_only(rows)),
            Action::ToggleWrap => {
                view.toggle_wrap(pane);
                let text = if view.wrap {
                    "long lines wrap"
                } else {
                    "long lines are cut with …; ←/→ scroll them with the pane focused"
                };
                note = Some(text.into());
            }
            Action::ToggleZoom => {
                view.zoom = !view.zoom;
                let text = match view.zoomed() {
                    Some(Focus::Events) => {
                        "the events fill the screen; Tab for the detail, + for all panes"
                    }
                    Some(Focus::Detail) => {
                        "the detail fills the screen; Tab for the events, + for all panes"
                    }
                    None => "all panes again",
                };
                note = Some(text.into());
            }
            Action::FoldAll if view.tab == Tab::State => view.fold_all(pane),
            Action::FoldAll => note = Some("folding works on the State tab (press 1)".into()),
            Action::Up if detail_focus => view.scroll_detail(-1, pane),
            Action::Down if detail_focus => view.scroll_detail(1, pane),
            Action::Up => view.move_by(-1, rows),
            Action::Down => view.move_by(1, rows),
            Action::PageUp if detail_focus => view.scroll_detail(-page, pane),
            Action::PageDown if detail_focus => view.scroll_detail(page, pane),
            Action::PageUp => view.move_by(-(PAGE_EVENTS as isize), rows),
            Action::PageDown => view.move_by(PAGE_EVENTS as isize, rows),
            Action::First => view.move_to(0, rows),
            Action::Last => view.move_to(usize::MAX, rows),
            Action::PrevSnapshot => match view.snapshot_before() {
                Some(index) => view.move_to(index, rows),
                None => note = Some(no_snapshot(view.loading, "earlier")),
            },
            Action::NextSnapshot => match view.snapshot_after() {
                Some(index) => view.move_to(index, rows),
                None => note = Some(no_snapshot(view.loading, "later")),
            },
            Action::JumpToVersion | Action::JumpToTime if view.is_empty() => {
                note = Some("no events loaded yet".into());
            }
            Action::JumpToVersion => self.open_prompt(PromptKind::Version, String::new()),
            Action::JumpToTime => {
                // Prefilled with the cursor's time, to edit rather than type out.
                let at = view
                    .current_entry()
                    .and_then(|e| Some((e.timestamp?, e.time_offset)));
                self.open_prompt(
                    PromptKind::Time,
                    at.map_or_else(String::new, |(t, offset)| {
                        format_time_in(&t, offset, self.theme.zone)
                    }),
                );
            }
            // Empty, as less and lazygit start it: the last query is one ↑ away.
            Action::Filter if detail_focus => {
                self.open_prompt(PromptKind::PaneSearch, String::new())
            }
            Action::NextMatch if detail_focus => self.step_pane_match(true),
            Action::PrevMatch if detail_focus => self.step_pane_match(false),
            Action::Filter => {
                let query = view
                    .filter
                    .as_ref()
                    .map_or(String::new(), |f| f.query.clone());
                self.open_prompt(PromptKind::Filter, query);
            }
            Action::NextMatch => self.step_match(true),
            Action::PrevMatch => self.step_match(false),
            Action::Blame => self.start_blame(),
            Action::OpenValue => self.open_viewer(),
            Action::Copy(what) => self.copy(what),
            Action::Export => self.ask_export_format(),
            Action::MarkA | Action::MarkB if view.is_empty() => {
                note = Some("no events to mark".into())
            }
            Action::MarkA | Action::MarkB if view.before_first => {
                note = Some("v0 is the empty state: marks go on events (l steps to v1)".into())
            }
            Action::MarkA | Action::MarkB => {
                let slot = if action == Action::MarkA { 0 } else { 1 };
                view.marks[slot] = Some(view.cursor);
                note = Some(super::mark_input::mark_note(view, slot));
            }
            Action::MarkAt if view.is_empty() => note = Some("no events to mark".into()),
            Action::MarkAt => self.open_prompt(PromptKind::Mark, String::new()),
            Action::OpenCompare => {
                view.tab = Tab::Compare;
                if view.marks[0].is_none() {
                    note = Some("set mark A with a: Compare then follows the cursor".into());
                }
            }
            Action::ClearMarks => {
                view.marks = [None, None];
                view.comparison = None;
                note = Some("marks cleared".into());
            }
            Action::SelectTab(tab) => view.tab = tab,
            Action::FocusNext => {
                view.focus = match view.focus {
                    Focus::Events => Focus::Detail,
                    Focus::Detail => Focus::Events,
                }
            }
            Action::ToggleFold if view.tab == Tab::State => view.toggle_fold(pane),
            Action::ToggleFold => note = Some("folding works on the State tab (press 1)".into()),
            Action::TogglePlay if view.at_end() => {
                note = Some("at the last event; press g to start over".into())
            }
            Action::TogglePlay => view.playing = true,
            Action::Faster => {
                view.speed = (view.speed + 1).min(SPEEDS.len() - 1);
                let speed = view.speed_per_second();
                note = Some(format!("play speed {speed} events/s"));
            }
            Action::Slower => {
                view.speed = view.speed.saturating_sub(1);
                let speed = view.speed_per_second();
                note = Some(format!("play speed {speed} events/s"));
            }
            Action::ToggleFollow
                if crate::source::backend_for(&self.source_name).name == "transcript" =>
            {
                note = Some("a transcript does not grow: there is nothing to follow".into());
            }
            Action::ToggleFollow => {
                view.follow = !view.follow;
                let text = if view.follow {
                    "following: new events are appended as they arrive"
                } else {
                    "stopped following"
                };
                note = Some(text.into());
            }
            Action::Trace => self.trace_current_event(),
            Action::ToggleHelp => self.open_help(),
            Action::Cancel if detail_focus && view.pane_search.is_some() => {
                view.pane_search = None;
                note = Some("search cleared".into());
            }
            Action::Cancel if view.filter.is_some() => {
                view.clear_filter();
                note = Some("filter cleared".into());
            }
            Action::Cancel => note = Some("nothing to cancel; q goes back to the list".into()),
            Action::Back => self.close_view(),
            Action::Click { column, row } | Action::Drag { column, row } => {
                self.point_at(column, row, matches!(action, Action::Click { .. }));
            }
            Action::WheelUp { column, row } => self.wheel(column, row, -3),
            Action::WheelDown { column, row } => self.wheel(column, row, 3),
            _ => {}
        }
        if let Some(note) = note {
            self.say(note);
        }
    }

    /// The health of the next few aggregates of the list, in the background.
    fn ask_health(&mut self) {
        let ids = self.list.next_health_batch();
        if ids.is_empty() {
            return;
        }
        self.requests.push(Request::Health {
            ticket: self.list.health_ticket,
            ids,
            reducer: self
                .named_reducer
                .clone()
                .map(crate::tui::jobs::SharedReducer),
            invariant: self.invariant.clone(),
        });
    }

    /// `T`: the trace of the cursor's event (its correlation id, else its own id).
    fn trace_current_event(&mut self) {
        let Some(event) = self.view.as_mut().and_then(|v| v.event_at_cursor()) else {
            self.say("no event to trace");
            return;
        };
        let found = self.ids.of(&event);
        match found.correlation.or(found.event_id) {
            Some(id) => self.start_trace(id, Some(event.position)),
            None => self.say_no_trace_id(),
        }
    }

    /// A click or drag: scrub on the timeline, pick a row, or focus the detail pane.
    fn point_at(&mut self, column: u16, row: u16, click: bool) {
        let areas = self.aggregate_layout();
        let rows = areas.event_rows.height as usize;
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if contains(areas.bar, column, row) && !view.is_empty() {
            let index = layout::index_at(column - areas.bar.x, view.span(), areas.bar.width);
            view.move_to(index, rows);
            view.focus = Focus::Events;
        } else if click && contains(areas.event_rows, column, row) {
            let row = view.offset + (row - areas.event_rows.y) as usize;
            if let Some(index) = view.row_index(row) {
                view.move_to(index, rows);
            }
            view.focus = Focus::Events;
        } else if let Some(tab) = layout::tab_at(areas.detail, column, row).filter(|_| click) {
            view.tab = tab;
        } else if click && contains(areas.detail, column, row) {
            view.focus = Focus::Detail;
        }
    }

    fn wheel(&mut self, column: u16, row: u16, delta: isize) {
        let areas = self.aggregate_layout();
        let pane = self.detail_pane();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if contains(areas.detail, column, row) {
            view.scroll_detail(delta, pane);
        } else if contains(areas.events, column, row) || contains(areas.timeline, column, row) {
            view.move_by(delta.signum(), areas.event_rows.height as usize);
        }
    }

    pub(super) fn play_tick(&mut self) {
        let rows = self.event_rows();
        if let Some(view) = self.view.as_mut().filter(|v| v.playing) {
            view.move_by(1, rows);
            if view.at_end() && !view.loading {
                view.playing = false;
            }
        }
    }

    pub(super) fn follow_tick(&mut self) {
        if let Some(view) = self.view.as_mut() {
            if view.follow && !view.loading && !view.polling && view.backlog.is_empty() {
                view.polling = true;
                self.requests.push(Request::PollAfter {
                    generation: view.generation,
                    aggregate_id: view.summary.id.clone(),
                    resume: view.resume.clone(),
                });
            }
        }
    }

    pub(super) fn digest(&mut self) {
        let rows = self.event_rows();
        if let Some(view) = self.view.as_mut() {
            view.digest(rows);
        }
        self.finish_load();
    }

    /// Once the source is done and its events replayed: place snapshots, report problems.
    fn finish_load(&mut self) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if !view.loading || !view.source_done || !view.backlog.is_empty() {
            return;
        }
        view.loading = false;
        if !view.replay.snapshots().is_empty() {
            // Checking reads the whole history and every snapshot's state again from the
            // store: not on this thread.
            let snapshots = view.replay.snapshots().to_vec();
            let ticket = self.start_job(crate::tui::jobs::JobKind::CheckSnapshots(snapshots));
            if let Some(view) = self.view.as_mut() {
                view.checking_snapshots = ticket;
            }
        } else {
            view.place_snapshots();
        }
        let rows = self.aggregate_layout().event_rows.height as usize;
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let landed = match view.landing.take() {
            Some(Landing::Position(_)) => {
                Err("that event is not in this aggregate's history any more".to_string())
            }
            Some(Landing::At(position)) => match view.replay.resolve(position) {
                Ok(0) => {
                    view.move_before_first(rows);
                    Ok(())
                }
                Ok(count) => {
                    view.move_to(count - 1, rows);
                    Ok(())
                }
                // Where it was asked to open does not exist: at its latest event, as an
                // aggregate opens unless told otherwise, saying why.
                Err(err) => {
                    if let Some(last) = view.replay.len().checked_sub(1) {
                        view.move_to(last, rows);
                    }
                    Err(format!("{err}; showing the latest event"))
                }
            },
            Some(Landing::Latest) | None => Ok(()),
        };
        if let Some(place) = view.restore.take() {
            view.marks = place.marks.map(|m| m.and_then(|p| view.index_of(p)));
            if let Some(query) = place.filter {
                self.restore_filter(query);
            }
        }
        if let Err(error) = landed {
            self.complain(error);
            return;
        }
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if let Some(error) = view.error.clone() {
            self.complain(format!("loading stopped: {error}"));
        } else if view.is_empty() {
            let text = format!("{} has no events", view.summary.id);
            self.complain(text);
        }
    }

    pub(super) fn on_report(&mut self, report: Report) {
        let rows = self.event_rows();
        let list_rows = self.list_rows();
        let current = self.view.as_ref().map(|v| v.generation);
        match report {
            Report::Reading(progress) => {
                self.connecting = false;
                self.reading = Some(progress);
            }
            Report::Conventions(conventions) => {
                if let Some(settle) = &self.ids_for {
                    self.ids = (settle.0)(conventions);
                }
            }
            Report::Opened(name) => {
                self.connecting = false;
                self.reading = None;
                self.source_name = name;
            }
            Report::Aggregates(Ok(aggregates)) => {
                self.list.set(aggregates, list_rows);
                self.list.health_ticket = self.ticket();
                self.list.health_next = 0;
                self.ask_health();
                self.open_named();
            }
            Report::Health { ticket, results } if ticket == self.list.health_ticket => {
                self.list.add_health(results, list_rows);
                self.ask_health();
                self.say_invariant_failure();
            }
            Report::Aggregates(Err(error)) => {
                self.connecting = false;
                self.reading = None;
                self.list.status = super::ListStatus::Failed(error.clone());
                self.complain(error);
            }
            Report::Recorded { generation, states } if Some(generation) == current => {
                let named = self.named_reducer.is_some();
                if let Some(view) = self.view.as_mut().filter(|_| !named) {
                    view.replay
                        .set_reducer(crate::load::default_reducer(Some(states)));
                }
            }
            Report::Start { generation, start } if Some(generation) == current => {
                if let Some(view) = self.view.as_mut() {
                    view.replay.begin_at(start);
                }
            }
            Report::Reader { generation, reader } if Some(generation) == current => {
                if let (Some(view), Some(reader)) = (self.view.as_mut(), reader.take()) {
                    let pages = crate::load::OwnedPages::new(reader, &view.summary.id);
                    view.replay.read_back_from(Box::new(pages));
                }
            }
            Report::LogPage {
                ticket,
                anchor,
                result,
            } => self.on_log_page(ticket, anchor, result),
            Report::Traced { ticket, result } => self.on_traced(ticket, result),
            Report::Diffed { target, lines } => {
                if let Some(view) = self.view.as_mut() {
                    view.take_diff(target, lines);
                }
            }
            Report::Done { ticket, outcome } => match outcome {
                Outcome::Blamed(result) => self.on_blamed(ticket, result),
                Outcome::Filtered(result) => self.on_filtered(ticket, result),
                Outcome::Exported(result) => self.on_exported(ticket, result),
                Outcome::SnapshotsChecked(result) => {
                    if let Some(view) = self
                        .view
                        .as_mut()
                        .filter(|v| v.checking_snapshots == Some(ticket))
                    {
                        view.place_checks(result);
                    }
                }
            },
            Report::Events { generation, events } if Some(generation) == current => {
                if let Some(view) = self.view.as_mut() {
                    view.queue(events);
                    view.digest(rows);
                }
            }
            Report::Snapshots {
                generation,
                snapshots,
            } if Some(generation) == current => {
                if let Some(view) = self.view.as_mut() {
                    view.set_snapshots(snapshots);
                }
            }
            Report::Finished {
                generation,
                error,
                resume,
            } if Some(generation) == current => {
                if let Some(view) = self.view.as_mut() {
                    view.source_done = true;
                    view.error = error;
                    view.resume = resume;
                }
                self.finish_load();
            }
            Report::Polled { generation, result } if Some(generation) == current => {
                let Some(view) = self.view.as_mut() else {
                    return;
                };
                view.polling = false;
                match result {
                    Ok((events, resume)) if events.is_empty() => view.resume = resume,
                    Ok((events, resume)) => {
                        view.resume = resume;
                        let last = events
                            .last()
                            .and_then(|e| Some((e.timestamp?, e.time_offset)));
                        let n = events.len();
                        view.queue(events);
                        view.digest(rows);
                        let zone = self.theme.zone;
                        let when = last.map(|(t, offset)| format_time_in(&t, offset, zone));
                        let when = when.unwrap_or_default();
                        self.say(format!("{n} new event(s) {when}"));
                    }
                    Err(error) => {
                        view.follow = false;
                        self.complain(format!("follow stopped: {error}"));
                    }
                }
            }
            // Reports for an aggregate that is no longer open.
            _ => {}
        }
    }
}

fn no_snapshot(loading: bool, direction: &str) -> String {
    if loading {
        "snapshots are placed once loading finishes".to_string()
    } else {
        format!("no {direction} snapshot")
    }
}
