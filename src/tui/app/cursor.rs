//! Moving an aggregate's cursor: to an event, by a step, onto v0 before the first event, to
//! the snapshots either side.

use super::aggregate::AggregateView;

impl AggregateView {
    /// Puts the cursor on event `index`; when the list shows only matches, on the nearest
    /// match at or after it (else the last), so the cursor is always on a listed row.
    pub fn move_to(&mut self, index: usize, event_rows: usize) {
        if self.is_empty() {
            return;
        }
        self.before_first = false;
        let index = index.min(self.len() - 1);
        self.cursor = match self.shown_matches() {
            Some(matches) => {
                let at = matches.partition_point(|&i| i < index);
                matches.get(at).or(matches.last()).copied().unwrap_or(index)
            }
            None => index,
        };
        self.keep_cursor_in_view(event_rows);
    }

    /// Moves by `delta` rows of the list: events, or matches when only matches are shown.
    pub fn move_by(&mut self, delta: isize, event_rows: usize) {
        // From v0 one step forward is v1, the first event.
        let delta = match self.before_first {
            true if delta > 0 => delta - 1,
            true => 0,
            false => delta,
        };
        let row = self.cursor_row().saturating_add_signed(delta);
        let last = self.row_count().saturating_sub(1);
        match self.row_index(row.min(last)) {
            Some(index) => self.move_to(index, event_rows),
            None => self.move_to(self.cursor, event_rows),
        }
    }

    /// `h`/`←`: one event back, and from the first event onto v0 where the history has one.
    pub fn step_back(&mut self, event_rows: usize) {
        if self.before_first {
            return;
        }
        // The matching-only list holds events only: v0 is reached from the full list.
        let first = self.cursor_row() == 0 && self.shown_matches().is_none();
        if first && self.has_v0() {
            self.move_before_first(event_rows);
        } else {
            self.move_by(-1, event_rows);
        }
    }

    /// Whether v0, the empty state before the first event, is part of this history: not
    /// when it starts part-way (at a snapshot); the same test `:0` makes.
    pub fn has_v0(&self) -> bool {
        matches!(
            self.replay.resolve(crate::model::Position::Version(0)),
            Ok(0)
        )
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

    /// On the list's last row: the last event, or the last match when only matches show
    /// (so playback stops there rather than standing still).
    pub fn at_end(&self) -> bool {
        !self.before_first && self.cursor_row() + 1 >= self.row_count()
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
