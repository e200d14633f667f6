//! Moving an aggregate's cursor: to an event, by a step, onto v0 before the first event, to
//! the snapshots either side.

use super::aggregate::AggregateView;
use crate::tui::layout::keep_in_view;

impl AggregateView {
    pub fn move_to(&mut self, index: usize, event_rows: usize) {
        if self.is_empty() {
            return;
        }
        self.before_first = false;
        self.cursor = index.min(self.len() - 1);
        self.offset = keep_in_view(self.offset, self.cursor, event_rows, self.len());
    }

    pub fn move_by(&mut self, delta: isize, event_rows: usize) {
        // From v0 one step forward is v1, the first event.
        let delta = match self.before_first {
            true if delta > 0 => delta - 1,
            true => 0,
            false => delta,
        };
        let target = self.cursor.saturating_add_signed(delta);
        self.move_to(target, event_rows);
    }

    /// Puts the cursor on v0: the state before the first event.
    pub fn move_before_first(&mut self, event_rows: usize) {
        self.move_to(0, event_rows);
        self.before_first = !self.is_empty();
    }

    /// How many events the shown state has applied: 0 on v0.
    pub fn shown_count(&self) -> usize {
        if self.before_first {
            0
        } else {
            self.cursor + 1
        }
    }

    /// The version the cursor shows: 0 before the first event.
    pub fn shown_version(&self) -> u64 {
        if self.before_first {
            0
        } else {
            self.version_of(self.cursor)
        }
    }

    pub fn at_end(&self) -> bool {
        !self.before_first && self.cursor + 1 >= self.len()
    }

    pub fn snapshot_before(&self) -> Option<usize> {
        let before = self.snapshots.partition_point(|m| m.index < self.cursor);
        before.checked_sub(1).map(|i| self.snapshots[i].index)
    }

    pub fn snapshot_after(&self) -> Option<usize> {
        let after = self.snapshots.partition_point(|m| m.index <= self.cursor);
        self.snapshots.get(after).map(|m| m.index)
    }
}
