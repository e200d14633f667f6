//! The `?` overlay: every binding from the keymap tables, in two columns.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keymap::{help_sections_for, Binding, Context, HelpFor, MOUSE};
use crate::tui::layout::inner;
use crate::tui::text::clip_line;
use crate::tui::theme::Theme;

/// Below this many columns the help is one column: two would cut most lines short.
const TWO_COLUMNS_FROM: u16 = 110;

pub fn render(frame: &mut Frame, area: Rect, theme: &Theme, help: HelpFor, scroll: u16) {
    let (left, right) = columns(theme, help, area.width);
    let height = (left.len().max(right.len()) as u16 + 2).min(area.height);
    // The whole window: a fixed 124 cut descriptions short even at 200 columns.
    let width = area.width;
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(popup);
    let body = inner(popup);
    let total = left.len().max(right.len()) as u16;
    let scroll = scroll.min(total.saturating_sub(body.height));
    let title = if total > body.height {
        " keys · ↑↓ scroll · ? or Esc closes "
    } else {
        " keys · ? or Esc closes "
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Block::bordered()
            .border_style(theme.border_focused())
            .title(Span::styled(title, theme.heading())),
        popup,
    );
    let split = match right.is_empty() {
        true => [Constraint::Fill(1), Constraint::Length(0)],
        false => [Constraint::Percentage(50), Constraint::Fill(1)],
    };
    let [left_area, right_area] = Layout::horizontal(split).areas(body);
    // Descriptions are wrapped to the columns (see `columns`); anything still too wide
    // (a window too narrow for a key's label) ends with …, so cut text never reads as whole.
    for (lines, area) in [(left, left_area), (right, right_area)] {
        let width = usize::from(area.width.saturating_sub(1));
        let lines: Vec<Line> = lines.into_iter().map(|l| clip_line(l, width)).collect();
        frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), area);
    }
}

/// How many lines the taller column has in a window `width` cells wide, to bound scrolling.
pub fn line_count(help: HelpFor, width: u16) -> u16 {
    let (left, right) = columns(&Theme::plain(), help, width);
    left.len().max(right.len()) as u16
}

/// The sections, the focused screen's first, in two columns of about equal height (all in
/// the first when the window is narrow). On the aggregate list the legend of its
/// health column follows its keys.
fn columns(theme: &Theme, help: HelpFor, width: u16) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    // What `render` gives each column: the window inside its border, halved for two, less
    // the cell kept between them.
    let body = usize::from(width.saturating_sub(2));
    let column = match width < TWO_COLUMNS_FROM {
        true => body,
        false => body / 2,
    }
    .saturating_sub(1);
    let entries = Entries { theme, column };
    let mut sections: Vec<Vec<Line<'static>>> = help_sections_for(help)
        .into_iter()
        .map(|(title, bindings)| entries.section(title, bindings))
        .collect();
    if matches!(help.context, Context::List | Context::Filtering) {
        sections.insert(1, entries.health_legend());
    }
    let mut mouse = vec![Line::styled("Mouse", theme.heading())];
    for (gesture, help) in MOUSE {
        mouse.extend(entries.entry(gesture.to_string(), help));
    }
    sections.push(mouse);
    // Each section goes under the shorter column, so the screen's own sections, which come
    // first, all start on the first page (filling the left column first put the other
    // pane's keys below the fold, next to the store log's).
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for lines in sections {
        if width < TWO_COLUMNS_FROM || left.len() <= right.len() {
            left.extend(lines);
        } else {
            right.extend(lines);
        }
    }
    (left, right)
}

/// Help entries (a key, what it does) laid out for a column `column` cells wide.
struct Entries<'t> {
    theme: &'t Theme,
    column: usize,
}

/// Where a description starts: two cells in, then the key's label in twelve.
const DESCRIPTION_AT: usize = 14;

impl Entries<'_> {
    fn section(&self, title: &'static str, bindings: &'static [Binding]) -> Vec<Line<'static>> {
        let mut lines = vec![Line::styled(title, self.theme.heading())];
        for binding in bindings {
            lines.extend(self.entry(binding.label.to_string(), binding.help));
        }
        lines.push(Line::raw(""));
        lines
    }

    /// What each mark of the list's HEALTH column means.
    fn health_legend(&self) -> Vec<Line<'static>> {
        use super::list::{HEALTH_MARKS, HEALTH_WORDS};
        let mut lines = vec![Line::styled("Health column", self.theme.heading())];
        let marks = HEALTH_MARKS
            .iter()
            .map(|mark| (format!("{}N", mark.glyph), format!("N {}", mark.counts)));
        let words = HEALTH_WORDS
            .iter()
            .map(|(word, meaning)| (word.to_string(), meaning.to_string()));
        for (mark, meaning) in marks.chain(words) {
            lines.extend(self.entry(mark, &meaning));
        }
        lines.push(Line::raw(""));
        lines
    }

    /// A key and its description, the description wrapped at spaces to the column, its
    /// further lines under its first (a description cut at the edge hid what keys do).
    fn entry(&self, key: String, description: &str) -> Vec<Line<'static>> {
        let room = self.column.saturating_sub(DESCRIPTION_AT).max(1);
        let mut rows = word_rows(description, room).into_iter();
        let first = rows.next().unwrap_or_default();
        let mut lines = vec![Line::from(vec![
            Span::styled(format!("  {key:<12}"), self.theme.key()),
            Span::raw(first),
        ])];
        lines.extend(rows.map(|row| Line::raw(format!("{:DESCRIPTION_AT$}{row}", ""))));
        lines
    }
}

/// `text` in rows of at most `width` cells, broken at spaces (a word longer than a row
/// gets a row of its own, cut later by the renderer).
fn word_rows(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut rows = vec![String::new()];
    for word in text.split(' ') {
        let row = rows.last_mut().expect("one row at least");
        let needed = match row.is_empty() {
            true => word.width(),
            false => row.width() + 1 + word.width(),
        };
        if needed > width && !row.is_empty() {
            rows.push(word.to_string());
        } else {
            if !row.is_empty() {
                row.push(' ');
            }
            row.push_str(word);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_wrap_at_spaces_within_their_width() {
        let rows = word_rows(
            "opens the aggregate under the cursor at its latest event",
            20,
        );
        assert_eq!(
            rows,
            [
                "opens the aggregate",
                "under the cursor at",
                "its latest event"
            ]
        );
        assert_eq!(word_rows("short", 20), ["short"]);
        assert_eq!(
            word_rows("a supercalifragilistic b", 5),
            ["a", "supercalifragilistic", "b"]
        );
    }
}
