//! The aggregate list: everything the store holds, filtered as you type and sorted.

use crate::model::AggregateSummary;
use crate::tui::layout::keep_in_view;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Id,
    /// Most events first.
    Events,
    /// Most recently active first.
    LastActivity,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::Events => "event count",
            SortKey::LastActivity => "last activity",
        }
    }

    fn next(self) -> SortKey {
        match self {
            SortKey::Id => SortKey::Events,
            SortKey::Events => SortKey::LastActivity,
            SortKey::LastActivity => SortKey::Id,
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
    pub filter: String,
    /// Keys go into the filter.
    pub filtering: bool,
    pub sort: SortKey,
    /// Indices into `all` that pass the filter, in sort order.
    pub shown: Vec<usize>,
    /// Index into `shown`.
    pub selected: usize,
    pub offset: usize,
}

impl Default for AggregateList {
    fn default() -> Self {
        AggregateList {
            all: Vec::new(),
            status: ListStatus::Loading,
            filter: String::new(),
            filtering: false,
            sort: SortKey::Id,
            shown: Vec::new(),
            selected: 0,
            offset: 0,
        }
    }
}

impl AggregateList {
    pub fn set(&mut self, aggregates: Vec<AggregateSummary>, rows: usize) {
        self.all = aggregates;
        self.status = ListStatus::Ready;
        self.refresh(rows);
    }

    pub fn selected_summary(&self) -> Option<&AggregateSummary> {
        self.shown.get(self.selected).map(|&i| &self.all[i])
    }

    pub fn cycle_sort(&mut self, rows: usize) {
        self.sort = self.sort.next();
        self.refresh(rows);
    }

    pub fn push_filter(&mut self, c: char, rows: usize) {
        self.filter.push(c);
        self.refresh(rows);
    }

    pub fn pop_filter(&mut self, rows: usize) {
        self.filter.pop();
        self.refresh(rows);
    }

    pub fn clear_filter(&mut self, rows: usize) {
        self.filter.clear();
        self.refresh(rows);
    }

    pub fn move_to(&mut self, index: usize, rows: usize) {
        self.selected = index.min(self.shown.len().saturating_sub(1));
        self.offset = keep_in_view(self.offset, self.selected, rows);
    }

    pub fn move_by(&mut self, delta: isize, rows: usize) {
        self.move_to(self.selected.saturating_add_signed(delta), rows);
    }

    /// Re-applies filter and sort, keeping the same aggregate selected when it still shows.
    fn refresh(&mut self, rows: usize) {
        let keep = self.selected_summary().map(|s| s.id.clone());
        let needle = self.filter.to_lowercase();
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
