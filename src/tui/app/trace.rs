//! The trace view: the causation tree of one request (a correlation id, or an event's own
//! id), read across the store by the loader; Enter jumps to an event's aggregate there.

use super::{App, Landing};
use crate::model::StorePosition;
use crate::tui::action::Action;
use crate::tui::layout::{self, contains, keep_in_view};
use crate::tui::loader::{Request, TracedTree};

#[derive(Debug, Clone, PartialEq)]
pub struct TraceView {
    pub id: String,
    pub ticket: u64,
    /// `None` while the loader reads the store.
    pub tree: Option<TracedTree>,
    /// The event the trace was asked from, marked and selected first.
    pub from: Option<StorePosition>,
    pub selected: usize,
    pub offset: usize,
}

impl App {
    /// `T`: the trace of `id`, asked from the event at `from`.
    pub(super) fn start_trace(&mut self, id: String, from: Option<StorePosition>) {
        let ticket = self.ticket();
        self.requests.push(Request::Trace {
            ticket,
            id: id.clone(),
            ids: self.ids.clone(),
        });
        self.trace = Some(TraceView {
            id,
            ticket,
            tree: None,
            from,
            selected: 0,
            offset: 0,
        });
    }

    pub(super) fn say_no_trace_id(&mut self) {
        let text = format!(
            "this event has no correlation id or event id to trace (they are read from {} and {}; see --correlation-from)",
            self.ids.correlation, self.ids.event_id
        );
        self.complain(text);
    }

    fn trace_rows(&self) -> usize {
        // The summary line and the header sit above the rows.
        (layout::list(self.size).rows.height as usize).saturating_sub(1)
    }

    pub(super) fn on_traced(&mut self, ticket: u64, result: Result<Option<TracedTree>, String>) {
        let rows = self.trace_rows();
        let Some(view) = self.trace.as_mut().filter(|t| t.ticket == ticket) else {
            return;
        };
        match result {
            Ok(Some(tree)) => {
                let from = view.from;
                view.selected = tree
                    .trace
                    .events
                    .iter()
                    .position(|e| Some(e.event.position) == from)
                    .unwrap_or(0);
                view.offset = keep_in_view(0, view.selected, rows, tree.trace.events.len());
                view.tree = Some(tree);
            }
            Ok(None) => {
                let id = view.id.clone();
                self.trace = None;
                self.complain(format!(
                    "no event has the correlation id or event id {id:?}"
                ));
            }
            Err(error) => {
                self.trace = None;
                self.complain(format!("trace failed: {error}"));
            }
        }
    }

    pub(super) fn on_trace(&mut self, action: Action) {
        let rows = self.trace_rows();
        let Some(view) = self.trace.as_mut() else {
            return;
        };
        let count = view.tree.as_ref().map_or(0, |t| t.trace.events.len());
        let page = rows.max(1) as isize;
        let delta = match action {
            Action::Up | Action::StepBack | Action::WheelUp { .. } => -1,
            Action::Down | Action::StepForward | Action::WheelDown { .. } => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::First => isize::MIN / 2,
            Action::Last => isize::MAX / 2,
            Action::Click { column, row } => {
                // Rows start below the summary line and the header.
                let area = layout::list(self.size).rows;
                let first = area.y + 1;
                if contains(area, column, row) && row >= first {
                    let index = view.offset + (row - first) as usize;
                    if index < count {
                        view.selected = index;
                    }
                }
                return;
            }
            Action::Confirm => {
                let target = view
                    .tree
                    .as_ref()
                    .and_then(|t| t.trace.events.get(view.selected))
                    .map(|e| e.event.clone());
                if let Some(event) = target {
                    self.trace = None;
                    self.open_aggregate_at(
                        &event.aggregate_id,
                        event.aggregate_type.clone(),
                        Landing::Position(event.position),
                    );
                }
                return;
            }
            Action::Back | Action::Trace => {
                self.trace = None;
                return;
            }
            Action::ToggleHelp => {
                self.open_help();
                return;
            }
            _ => return,
        };
        view.selected = view
            .selected
            .saturating_add_signed(delta)
            .min(count.saturating_sub(1));
        view.offset = keep_in_view(view.offset, view.selected, rows, count);
    }
}
