//! The `!` overlay: every message the status line said, newest first, wrapped whole.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::span;
use crate::tui::app::MessageLog;
use crate::tui::layout::inner;
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, log: &MessageLog, theme: &Theme) {
    let width = 100.min(area.width);
    let height = area.height.saturating_sub(4).max(3).min(area.height);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Block::bordered()
            .border_style(theme.border_focused())
            .title(Span::styled(
                format!(
                    " messages · {} · ↑↓ scroll · ! or Esc closes ",
                    log.entries.len()
                ),
                theme.heading(),
            )),
        popup,
    );
    let lines: Vec<Line> = log
        .entries
        .iter()
        .rev()
        .skip(log.scroll)
        .map(|message| {
            let (mark, style) = if message.error {
                ("! ", theme.error())
            } else {
                ("  ", theme.normal())
            };
            Line::from(vec![Span::styled(mark, style), span(&message.text, style)])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        inner(popup),
    );
}
