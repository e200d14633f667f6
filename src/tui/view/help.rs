//! The `?` overlay: every binding from the keymap tables, in two columns.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keymap::{help_sections_for, Binding, Context, MOUSE};
use crate::tui::layout::inner;
use crate::tui::text::clip_line;
use crate::tui::theme::Theme;

/// Below this many columns the help is one column: two would cut most lines short.
const TWO_COLUMNS_FROM: u16 = 110;

pub fn render(frame: &mut Frame, area: Rect, theme: &Theme, context: Context, scroll: u16) {
    let (left, right) = columns(theme, context, area.width);
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
        false => [Constraint::Percentage(58), Constraint::Fill(1)],
    };
    let [left_area, right_area] = Layout::horizontal(split).areas(body);
    // A help line cut at the column's edge ends with …, so cut text never reads as whole.
    for (lines, area) in [(left, left_area), (right, right_area)] {
        let width = usize::from(area.width.saturating_sub(1));
        let lines: Vec<Line> = lines.into_iter().map(|l| clip_line(l, width)).collect();
        frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), area);
    }
}

/// How many lines the taller column has in a window `width` cells wide, to bound scrolling.
pub fn line_count(context: Context, width: u16) -> u16 {
    let (left, right) = columns(&Theme::plain(), context, width);
    left.len().max(right.len()) as u16
}

/// The sections, the focused screen's first, flowed into two columns of about equal height
/// (all in the first when the window is narrow).
fn columns(
    theme: &Theme,
    context: Context,
    width: u16,
) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let mut sections: Vec<Vec<Line<'static>>> = help_sections_for(context)
        .into_iter()
        .map(|(title, bindings)| section(title, bindings, theme))
        .collect();
    let mut mouse = vec![Line::styled("Mouse", theme.heading())];
    for (gesture, help) in MOUSE {
        mouse.push(Line::from(vec![
            Span::styled(format!("  {gesture:<12}"), theme.key()),
            Span::raw(*help),
        ]));
    }
    sections.push(mouse);
    let total: usize = sections.iter().map(Vec::len).sum();
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for lines in sections {
        let fits_left = left.len() + lines.len() / 2 <= total / 2;
        if left.is_empty() || fits_left || width < TWO_COLUMNS_FROM {
            left.extend(lines);
        } else {
            right.extend(lines);
        }
    }
    (left, right)
}

fn section(title: &'static str, bindings: &'static [Binding], theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(title, theme.heading())];
    for binding in bindings {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<12}", binding.label), theme.key()),
            Span::raw(binding.help),
        ]));
    }
    lines.push(Line::raw(""));
    lines
}
