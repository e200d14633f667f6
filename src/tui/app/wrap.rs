//! How the detail pane scrolls: by lines when long lines are cut, by screen rows when `w`
//! wraps them, so a line taller than the pane can be read to its end and the State
//! cursor's line is always in sight.

use super::aggregate::AggregateView;
use super::detail::TextLine;
use super::json_tree::{line_text, Node};
use crate::tui::action::Tab;
use crate::tui::layout::keep_in_view;
use crate::tui::text::{sanitize, wrapped_rows};

/// The detail pane's body, in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailPane {
    pub rows: usize,
    pub width: usize,
}

/// Cells a wrapped State line's continuation rows are indented by: past the gutter (● ▶).
pub const STATE_INDENT: usize = 2;

/// The screen rows a tab's lines take: one each when cut, more for a wrapped long line.
pub enum Rows {
    Cut(usize),
    /// Where each line's rows start, with the total after the last.
    Wrapped(Vec<usize>),
}

impl Rows {
    pub fn total(&self) -> usize {
        match self {
            Rows::Cut(lines) => *lines,
            Rows::Wrapped(starts) => starts.last().copied().unwrap_or(0),
        }
    }

    fn lines(&self) -> usize {
        match self {
            Rows::Cut(lines) => *lines,
            Rows::Wrapped(starts) => starts.len().saturating_sub(1),
        }
    }

    /// The first row of `line` and the row after its last.
    pub fn span(&self, line: usize) -> (usize, usize) {
        match self {
            Rows::Cut(_) => (line, line + 1),
            Rows::Wrapped(starts) => match (starts.get(line), starts.get(line + 1)) {
                (Some(&start), Some(&end)) => (start, end),
                _ => (self.total(), self.total()),
            },
        }
    }

    /// The line drawn at `row`, and how many of its rows lie above it.
    pub fn line_at(&self, row: usize) -> (usize, usize) {
        match self {
            Rows::Cut(_) => (row, 0),
            Rows::Wrapped(starts) => {
                let line = starts.partition_point(|&s| s <= row).saturating_sub(1);
                let line = line.min(self.lines().saturating_sub(1));
                (
                    line,
                    row.saturating_sub(starts.get(line).copied().unwrap_or(0)),
                )
            }
        }
    }
}

fn wrapped(starts: impl Iterator<Item = usize>) -> Rows {
    let mut total = 0;
    let mut out = vec![0];
    for rows in starts {
        total += rows;
        out.push(total);
    }
    Rows::Wrapped(out)
}

fn text_rows(lines: &[TextLine], width: usize) -> Rows {
    wrapped(
        lines
            .iter()
            .map(|l| wrapped_rows(sanitize(&l.text).chars(), width, 0)),
    )
}

impl AggregateView {
    /// The rows the lines of `tab` take in a pane `width` cells wide.
    pub fn rows_of(&self, tab: Tab, width: usize) -> Rows {
        let lines = self.lines_of(tab);
        let Some(detail) = self.detail.as_ref().filter(|_| self.wrap) else {
            return Rows::Cut(lines);
        };
        match tab {
            Tab::State => wrapped(detail.visible.iter().map(|&index| {
                let line = &detail.state[index];
                let folded =
                    matches!(line.node, Node::Open { .. }) && self.folds.contains(&line.path);
                let text = line_text(&detail.state, index, folded);
                let safe = sanitize(&text);
                wrapped_rows("  ".chars().chain(safe.chars()), width, STATE_INDENT)
            })),
            Tab::Diff => text_rows(&detail.diff, width),
            Tab::Event => text_rows(&detail.event, width),
            Tab::Compare => match self.comparison.as_ref() {
                Some(comparison) => text_rows(&comparison.lines, width),
                None => Rows::Cut(lines),
            },
        }
    }

    /// Scrolls the State tab so its cursor's line shows: when cut, as the lists scroll;
    /// when wrapped, only if none of its rows is on screen, then its start (or all of it).
    pub fn keep_state_line_in_view(&mut self, pane: DetailPane) {
        let state = Tab::State.index();
        let rows = self.rows_of(Tab::State, pane.width);
        let scroll = self.scroll[state];
        self.scroll[state] = match rows {
            Rows::Cut(lines) => keep_in_view(scroll, self.state_line, pane.rows, lines),
            Rows::Wrapped(_) => {
                let (start, end) = rows.span(self.state_line);
                let shown = start < scroll + pane.rows && end > scroll;
                let scroll = if shown {
                    scroll
                } else {
                    reveal(scroll, start, end, pane.rows)
                };
                scroll.min(rows.total().saturating_sub(pane.rows.max(1)))
            }
        };
    }

    /// The other tabs never scroll past their last page (a long event scrolled down, then
    /// a short one, must not show a blank pane).
    pub fn clamp_scrolls(&mut self, pane: DetailPane) {
        for tab in [Tab::Diff, Tab::Event, Tab::Compare] {
            let last_page = self
                .rows_of(tab, pane.width)
                .total()
                .saturating_sub(pane.rows.max(1));
            let scroll = &mut self.scroll[tab.index()];
            *scroll = (*scroll).min(last_page);
        }
    }

    /// Moves the State line cursor, or scrolls the other tabs, by `delta` lines (rows
    /// when wrapped).
    pub fn scroll_detail(&mut self, delta: isize, pane: DetailPane) {
        let rows = self.rows_of(self.tab, pane.width);
        if self.tab != Tab::State {
            let last_page = rows.total().saturating_sub(pane.rows.max(1));
            let scroll = &mut self.scroll[self.tab.index()];
            *scroll = scroll.saturating_add_signed(delta).min(last_page);
            return;
        }
        let last = rows.lines().saturating_sub(1);
        if let Rows::Cut(_) = rows {
            self.state_line = self.state_line.saturating_add_signed(delta).min(last);
            return self.keep_state_line_in_view(pane);
        }
        // Wrapped: a step scrolls through the cursor's line while it runs off the pane,
        // else moves the cursor to the next line and shows it.
        let height = pane.rows.max(1);
        let mut scroll = self.scroll[Tab::State.index()];
        for _ in 0..delta.unsigned_abs() {
            let (start, end) = rows.span(self.state_line);
            if delta > 0 && end > scroll + height {
                scroll += 1;
            } else if delta < 0 && start < scroll {
                scroll -= 1;
            } else if delta > 0 && self.state_line < last {
                self.state_line += 1;
                let (start, end) = rows.span(self.state_line);
                scroll = reveal(scroll, start, end, height);
            } else if delta < 0 && self.state_line > 0 {
                self.state_line -= 1;
                let (start, end) = rows.span(self.state_line);
                scroll = reveal(scroll, start, end, height);
            } else {
                break;
            }
        }
        self.scroll[Tab::State.index()] = scroll.min(rows.total().saturating_sub(height));
    }

    /// `w`: the pane keeps showing the lines it showed, now counted in rows or lines.
    pub fn toggle_wrap(&mut self, pane: DetailPane) {
        let tops: Vec<(Tab, usize)> = Tab::ALL
            .into_iter()
            .map(|tab| (tab, self.first_line_shown(tab, pane)))
            .collect();
        self.wrap = !self.wrap;
        self.hscroll = 0;
        for (tab, line) in tops {
            self.scroll_to_line(tab, line, pane);
        }
        self.keep_state_line_in_view(pane);
        self.clamp_scrolls(pane);
    }

    /// The line at the top of `tab`'s pane.
    pub fn first_line_shown(&self, tab: Tab, pane: DetailPane) -> usize {
        let rows = self.rows_of(tab, pane.width);
        rows.line_at(self.scroll[tab.index()]).0
    }

    /// Some row of `line` of `tab` is on screen.
    pub fn line_in_view(&self, tab: Tab, line: usize, pane: DetailPane) -> bool {
        let (start, end) = self.rows_of(tab, pane.width).span(line);
        let scroll = self.scroll[tab.index()];
        start < scroll + pane.rows.max(1) && end > scroll
    }

    /// Scrolls `tab` so `line` is at the top.
    pub fn scroll_to_line(&mut self, tab: Tab, line: usize, pane: DetailPane) {
        self.scroll[tab.index()] = self.rows_of(tab, pane.width).span(line).0;
    }
}

/// The smallest scroll from `scroll` that shows a line's first row and as much of the line
/// as fits below it.
fn reveal(scroll: usize, start: usize, end: usize, height: usize) -> usize {
    if start < scroll {
        start
    } else if end > scroll + height {
        start.min(end - height)
    } else {
        scroll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_rows_find_their_lines() {
        let rows = wrapped([1, 3, 1].into_iter());
        assert_eq!(rows.total(), 5);
        assert_eq!(rows.span(1), (1, 4));
        assert_eq!(rows.line_at(0), (0, 0));
        assert_eq!(rows.line_at(3), (1, 2));
        assert_eq!(rows.line_at(4), (2, 0));
        assert_eq!(rows.line_at(9), (2, 5));
    }

    #[test]
    fn revealing_a_line_scrolls_as_little_as_it_can() {
        assert_eq!(reveal(5, 2, 3, 4), 2, "above: to its start");
        assert_eq!(reveal(0, 5, 7, 4), 3, "below: all of it");
        assert_eq!(reveal(0, 5, 20, 4), 5, "taller than the pane: its start");
        assert_eq!(reveal(2, 3, 4, 4), 2, "in view: stays");
    }
}
