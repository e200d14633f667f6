//! The `?` overlay: every binding from the keymap tables, in two columns.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keymap::{help_sections_for, Binding, Context, MOUSE};
use crate::tui::layout::inner;
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, theme: &Theme, context: Context, scroll: u16) {
    let (left, right) = columns(theme, context);
    let height = (left.len().max(right.len()) as u16 + 2).min(area.height);
    let width = 124.min(area.width);
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
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Fill(1)]).areas(body);
    frame.render_widget(Paragraph::new(left).scroll((scroll, 0)), left_area);
    frame.render_widget(Paragraph::new(right).scroll((scroll, 0)), right_area);
}

/// How many lines the taller column has, to bound scrolling.
pub fn line_count(context: Context) -> u16 {
    let (left, right) = columns(&Theme::plain(), context);
    left.len().max(right.len()) as u16
}

/// The sections, the focused screen's first, flowed into two columns of about equal height.
fn columns(theme: &Theme, context: Context) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let mut sections: Vec<Vec<Line<'static>>> = help_sections_for(context)
        .into_iter()
        .map(|(title, bindings)| section(title, bindings, theme))
        .collect();
    let mut mouse = vec![Line::styled("Mouse", theme.heading())];
    for (gesture, help) in MOUSE {
        mouse.push(Line::from(vec![
            Span::styled(format!("  {gesture:<11}"), theme.key()),
            Span::raw(*help),
        ]));
    }
    sections.push(mouse);
    let total: usize = sections.iter().map(Vec::len).sum();
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for lines in sections {
        if left.is_empty() || left.len() + lines.len() / 2 <= total / 2 {
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
            Span::styled(format!("  {:<11}", binding.label), theme.key()),
            Span::raw(binding.help),
        ]));
    }
    lines.push(Line::raw(""));
    lines
}
