//! The aggregate list: everything the store holds, filtered as you type and sorted.

use std::collections::HashMap;

use crate::inspect::Health;
use crate::model::AggregateSummary;
use crate::tui::action::Edit;
use crate::tui::layout::keep_in_view;
use tui_input::{Input, InputRequest};

/// Aggregates whose health one request asks for.
pub const HEALTH_BATCH: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Id,
    /// Most events first.
    Events,
    /// Most recently active first.
    LastActivity,
    /// Least healthy first.
    Health,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::Events => "event count",
            SortKey::LastActivity => "last activity",
            SortKey::Health => "health",
        }
    }

    fn next(self) -> SortKey {
        match self {
            SortKey::Id => SortKey::Events,
            SortKey::Events => SortKey::LastActivity,
            SortKey::LastActivity => SortKey::Health,
            SortKey::Health => SortKey::Id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStatus {
    Loading,
    Ready,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct AggregateList {
    pub all: Vec<AggregateSummary>,
    pub status: ListStatus,
    filter: Input,
    /// Keys go into the filter.
    pub filtering: bool,
    pub sort: SortKey,
    /// Indices into `all` that pass the filter, in sort order.
    pub shown: Vec<usize>,
    /// Index into `shown`.
    pub selected: usize,
    pub offset: usize,
    /// Each aggregate's health by id, as the loader works it out in the background.
    pub health: HashMap<String, Result<Health, String>>,
    /// The health request on its way, and the next aggregate (index into `all`) to ask for.
    pub health_ticket: u64,
    pub health_next: usize,
    /// Terminal cells of the widest id and type of the whole list, so the columns stay put
    /// while scrolling and filtering.
    pub id_cells: usize,
    pub type_cells: usize,
    /// Fraction digits LAST ACTIVITY shows: the most any aggregate's time needs.
    pub time_digits: u8,
}

impl Default for AggregateList {
    fn default() -> Self {
        AggregateList {
            all: Vec::new(),
            status: ListStatus::Loading,
            filter: Input::default(),
            filtering: false,
            sort: SortKey::Id,
            shown: Vec::new(),
            selected: 0,
            offset: 0,
            health: HashMap::new(),
            health_ticket: 0,
            health_next: 0,
            id_cells: 0,
            type_cells: 0,
            time_digits: 0,
        }
    }
}

impl AggregateList {
    pub fn set(&mut self, aggregates: Vec<AggregateSummary>, rows: usize) {
        use unicode_width::UnicodeWidthStr;
        let cells = |text: &str| crate::tui::text::sanitize(text).width();
        self.id_cells = aggregates.iter().map(|s| cells(&s.id)).max().unwrap_or(0);
        self.type_cells = aggregates
            .iter()
            .map(|s| s.aggregate_type.as_deref().map_or(1, cells))
            .max()
            .unwrap_or(0);
        self.time_digits = aggregates
            .iter()
            .filter_map(|s| s.last_timestamp.as_ref())
            .map(crate::tui::text::subsecond_digits)
            .max()
            .unwrap_or(0);
        self.all = aggregates;
        self.status = ListStatus::Ready;
        self.refresh(rows);
    }

    /// The next aggregates whose health is to be worked out.
    pub fn next_health_batch(&mut self) -> Vec<String> {
        let end = (self.health_next + HEALTH_BATCH).min(self.all.len());
        let ids = self.all[self.health_next..end]
            .iter()
            .map(|s| s.id.clone())
            .collect();
        self.health_next = end;
        ids
    }

    pub fn add_health(&mut self, results: Vec<(String, Result<Health, String>)>, rows: usize) {
        self.health.extend(results);
        if self.sort == SortKey::Health {
            self.refresh(rows);
        }
    }

    pub fn health_of(&self, id: &str) -> Option<&Result<Health, String>> {
        self.health.get(id)
    }

    pub fn selected_summary(&self) -> Option<&AggregateSummary> {
        self.shown.get(self.selected).map(|&i| &self.all[i])
    }

    pub fn cycle_sort(&mut self, rows: usize) {
        self.sort = self.sort.next();
        self.refresh(rows);
    }

    pub fn filter_text(&self) -> &str {
        self.filter.value()
    }

    /// The filter's cursor, in characters from the start.
    pub fn filter_cursor(&self) -> usize {
        self.filter.cursor()
    }

    pub fn push_filter(&mut self, c: char, rows: usize) {
        self.filter.handle(InputRequest::InsertChar(c));
        self.refresh(rows);
    }

    pub fn pop_filter(&mut self, rows: usize) {
        self.filter.handle(InputRequest::DeletePrevChar);
        self.refresh(rows);
    }

    /// A readline key in the filter, as in the prompts (↑/↓ move between matches here).
    pub fn edit_filter(&mut self, edit: Edit, rows: usize) {
        if let Some(request) = super::readline::request_for(edit) {
            self.filter.handle(request);
            self.refresh(rows);
        }
    }

    pub fn clear_filter(&mut self, rows: usize) {
        self.filter = Input::default();
        self.refresh(rows);
    }

    pub fn move_to(&mut self, index: usize, rows: usize) {
        self.selected = index.min(self.shown.len().saturating_sub(1));
        self.offset = keep_in_view(self.offset, self.selected, rows, self.shown.len());
    }

    pub fn move_by(&mut self, delta: isize, rows: usize) {
        self.move_to(self.selected.saturating_add_signed(delta), rows);
    }

    /// Re-applies filter and sort, keeping the same aggregate selected when it still shows.
    fn refresh(&mut self, rows: usize) {
        let keep = self.selected_summary().map(|s| s.id.clone());
        let needle = self.filter.value().to_lowercase();
        self.shown = (0..self.all.len())
            .filter(|&i| matches(&self.all[i], &needle))
            .collect();
        let all = &self.all;
        match self.sort {
            SortKey::Id => self.shown.sort_by(|&a, &b| all[a].id.cmp(&all[b].id)),
            SortKey::Events => self.shown.sort_by(|&a, &b| {
                all[b]
                    .events
                    .cmp(&all[a].events)
                    .then_with(|| all[a].id.cmp(&all[b].id))
            }),
            SortKey::LastActivity => self.shown.sort_by(|&a, &b| {
                all[b]
                    .last_timestamp
                    .cmp(&all[a].last_timestamp)
                    .then_with(|| all[a].id.cmp(&all[b].id))
            }),
            SortKey::Health => {
                let health = &self.health;
                // Failed first (they could not even be replayed), then worst first, unknown last.
                let rank = |i: usize| match health.get(&all[i].id) {
                    Some(Ok(h)) => (1, h.severity()),
                    Some(Err(_)) => (2, Default::default()),
                    None => (0, Default::default()),
                };
                self.shown.sort_by(|&a, &b| {
                    rank(b)
                        .cmp(&rank(a))
                        .then_with(|| all[a].id.cmp(&all[b].id))
                })
            }
        }
        let selected = keep
            .and_then(|id| self.shown.iter().position(|&i| self.all[i].id == id))
            .unwrap_or(0);
        self.offset = 0;
        self.move_to(selected, rows);
    }
}

fn matches(summary: &AggregateSummary, needle: &str) -> bool {
    needle.is_empty()
        || summary.id.to_lowercase().contains(needle)
        || summary
            .aggregate_type
            .as_deref()
            .is_some_and(|t| t.to_lowercase().contains(needle))
}
