//! The store log screen's state: a window of a few pages of rows in store order, the
//! cursor inside it, and the page asked for next. Moving near an edge of the window asks for
//! the page beyond it; the window keeps at most `WINDOW_ROWS` rows, dropping pages at the
//! far end, so memory stays bounded however far one scrolls.

use unicode_width::UnicodeWidthStr;

use crate::model::{format_time, StorePosition};
use crate::source::Resume;
use crate::tui::layout::keep_in_view;
use crate::tui::log_pages::{Anchor, LogRow, Page, RowFilter, WINDOW_ROWS};

/// The filter as typed, and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub text: String,
    pub filter: RowFilter,
}

/// The page the log waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPage {
    pub ticket: u64,
    pub anchor: Anchor,
    /// The filter it is read with (a new one takes effect when its first page arrives).
    pub query: Option<LogQuery>,
}

/// Widest cell seen in each column: they only grow, so scrolling never shifts the columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogWidths {
    pub position: usize,
    pub time: usize,
    /// Some row keeps the offset its time was stored with.
    pub offsets: bool,
    pub aggregate: usize,
    pub version: usize,
    pub event_type: usize,
}

#[derive(Debug, Clone, Default)]
pub struct LogView {
    /// Consecutive rows in store order (under the filter).
    pub rows: Vec<LogRow>,
    pub cursor: usize,
    pub offset: usize,
    /// The window holds the first row (under the filter).
    pub at_start: bool,
    /// The window holds the last row (under the filter).
    pub at_end: bool,
    pub pending: Option<PendingPage>,
    pub query: Option<LogQuery>,
    pub follow: bool,
    /// Where a follow poll resumes; known once a read reached the store's end.
    pub resume: Option<Resume>,
    pub widths: LogWidths,
    pub error: Option<String>,
    /// Rows the cursor was asked to move past an edge of the window while the page beyond
    /// was on its way (keys held down); spent when it arrives.
    pub owed: isize,
}

/// Where the cursor goes when a page replaces the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Land {
    First,
    Last,
}

impl LogView {
    pub fn current(&self) -> Option<&LogRow> {
        self.rows.get(self.cursor)
    }

    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// A page that replaces the window (a jump, a new filter).
    pub fn replace(&mut self, page: Page, land: Land, rows_on_screen: usize) {
        self.rows = page.rows;
        self.at_start = page.at_start;
        self.at_end = page.at_end;
        self.resume = page.resume.or(self.resume.take());
        self.grow_widths(0);
        self.offset = 0;
        self.owed = 0;
        let target = match land {
            Land::First => 0,
            Land::Last => self.rows.len().saturating_sub(1),
        };
        self.move_to(target, rows_on_screen);
    }

    /// Rows that follow the window.
    pub fn append(&mut self, page: Page, rows_on_screen: usize) {
        let on_last = !self.rows.is_empty() && self.cursor + 1 == self.rows.len();
        let first_new = self.rows.len();
        self.rows.extend(page.rows);
        self.at_end = page.at_end;
        if page.resume.is_some() {
            self.resume = page.resume;
        }
        self.grow_widths(first_new);
        let excess = self.rows.len().saturating_sub(WINDOW_ROWS);
        if excess > 0 {
            self.rows.drain(..excess);
            self.at_start = false;
            self.cursor = self.cursor.saturating_sub(excess);
            self.offset = self.offset.saturating_sub(excess);
        }
        if on_last && self.follow {
            self.move_to(usize::MAX, rows_on_screen);
        } else if self.owed > 0 {
            let owed = std::mem::take(&mut self.owed);
            self.move_by(owed, rows_on_screen);
        }
    }

    /// Rows that come before the window.
    pub fn prepend(&mut self, page: Page, rows_on_screen: usize) {
        let added = page.rows.len();
        self.at_start = page.at_start;
        let mut rows = page.rows;
        rows.append(&mut self.rows);
        self.rows = rows;
        self.cursor += added;
        self.offset += added;
        self.grow_widths(0);
        if self.rows.len() > WINDOW_ROWS {
            self.rows.truncate(WINDOW_ROWS);
            self.at_end = false;
            self.cursor = self.cursor.min(WINDOW_ROWS - 1);
        }
        if self.owed < 0 {
            let owed = std::mem::take(&mut self.owed);
            self.move_by(owed, rows_on_screen);
        }
    }

    /// Moves the cursor, scrolling as little as needed; the last row never sits above the
    /// bottom of the screen.
    pub fn move_to(&mut self, index: usize, rows_on_screen: usize) {
        self.cursor = index.min(self.rows.len().saturating_sub(1));
        let offset = keep_in_view(self.offset, self.cursor, rows_on_screen, self.rows.len());
        self.offset = offset.min(self.rows.len().saturating_sub(rows_on_screen.max(1)));
    }

    /// Moves by `delta` rows; what goes past an edge of the window that is not the store's
    /// is owed until the page beyond arrives.
    pub fn move_by(&mut self, delta: isize, rows_on_screen: usize) {
        let target = self.cursor as isize + delta;
        let last = self.rows.len() as isize - 1;
        if target < 0 && !self.at_start {
            self.owed = (self.owed + target).max(-(WINDOW_ROWS as isize));
        } else if target > last && !self.at_end {
            self.owed = (self.owed + target - last).min(WINDOW_ROWS as isize);
        }
        self.move_to(target.max(0) as usize, rows_on_screen);
    }

    /// The page to read next, when the cursor has come within a screen of an edge of the
    /// window that is not the store's.
    pub fn wanted(&self, rows_on_screen: usize) -> Option<Anchor> {
        if self.pending.is_some() {
            return None;
        }
        let (first, last) = (self.rows.first()?, self.rows.last()?);
        let margin = rows_on_screen.max(1);
        if !self.at_end && self.cursor + margin >= self.rows.len() {
            Some(Anchor::After(last.position))
        } else if !self.at_start && self.cursor < margin {
            Some(Anchor::Before(first.position))
        } else {
            None
        }
    }

    pub fn last_position(&self) -> Option<StorePosition> {
        self.rows.last().map(|row| row.position)
    }

    fn grow_widths(&mut self, from: usize) {
        let widths = &mut self.widths;
        for row in &self.rows[from..] {
            widths.position = widths.position.max(row.position.to_string().len());
            let time = row.timestamp.as_ref().map_or(1, |t| format_time(t).len());
            widths.time = widths.time.max(time);
            // A stored offset (`+05:30`) takes five cells more than `Z`.
            widths.offsets |= row.time_offset.is_some();
            widths.aggregate = widths.aggregate.max(cells(&row.aggregate_id));
            widths.version = widths.version.max(row.version.to_string().len() + 1);
            widths.event_type = widths.event_type.max(cells(&row.event_type));
        }
    }
}

/// Terminal cells a value takes once made safe to draw.
fn cells(text: &str) -> usize {
    crate::tui::text::sanitize(text).width()
}
