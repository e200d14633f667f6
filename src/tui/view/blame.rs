//! The blame overlay, drawn over the detail pane: every event that changed the value at
//! the State tab's line, with the old and new value.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;
use serde_json::Value;

use super::span;
use crate::tui::app::{AggregateView, Blame};
use crate::tui::layout::inner;
use crate::tui::text::{ellipsize_width, fit, sanitize};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, view: &AggregateView, blame: &Blame, theme: &Theme) {
    let count = blame.lines.as_ref().map(Vec::len);
    let summary = match count {
        None => String::new(),
        Some(1) => " · 1 change ".into(),
        Some(n) => format!(" · {n} changes "),
    };
    let path = blame.path.to_string();
    let title = Line::from(vec![
        Span::styled(" blame ", theme.heading()),
        span(&path, theme.changed()),
        Span::styled(summary, theme.muted()),
    ]);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Block::bordered()
            .border_style(theme.border_focused())
            .title(title)
            .title_bottom(
                Line::styled(" Enter go to the event · Esc close ", theme.muted()).right_aligned(),
            ),
        area,
    );
    let body = inner(area);
    let Some(lines) = blame.lines.as_ref() else {
        let text = format!("blaming {path} over {} events…", blame.events);
        frame.render_widget(Paragraph::new(Line::styled(text, theme.muted())), body);
        return;
    };
    if lines.is_empty() {
        let text = format!("no event changed {path}");
        frame.render_widget(Paragraph::new(Line::from(span(&text, theme.muted()))), body);
        return;
    }
    let width = (view.last_version().to_string().len() + 1).max(4);
    let type_width = 18.min(body.width as usize / 4);
    let mut out = vec![Line::styled(
        format!(
            " {:<width$} {:<tw$}  {:<type_width$}  CHANGE",
            "VER",
            "TIME",
            "TYPE",
            tw = view.time_column(theme.zone).cells(),
        ),
        theme.heading(),
    )];
    let rows = body.height.saturating_sub(1) as usize;
    let end = (blame.offset + rows).min(lines.len());
    for (row, line) in lines.iter().enumerate().take(end).skip(blame.offset) {
        let Some(event) = view.entry(line.index) else {
            continue;
        };
        let selected = row == blame.selected;
        let style = if selected {
            theme.selected()
        } else {
            theme.normal()
        };
        let time = view
            .time_column(theme.zone)
            .cell(event.timestamp.as_ref(), event.time_offset);
        let kind = fit(view.replay.type_name(&event), type_width);
        let change = format!(
            "{} → {}",
            value(line.old.as_ref()),
            value(line.new.as_ref())
        );
        let cursor = if line.index == view.cursor {
            '▶'
        } else {
            ' '
        };
        let mut text = Line::from(vec![
            Span::styled(cursor.to_string(), theme.key()),
            Span::styled(
                format!("v{:<w$} {time}  ", event.version, w = width - 1),
                style,
            ),
            Span::styled(format!("{kind}  "), style),
            owned(change, if selected { style } else { theme.changed() }),
        ]);
        if selected {
            text = text.style(style);
        }
        out.push(text);
    }
    frame.render_widget(super::clipped(out, body.width), body);
}

/// Store content made safe to draw, as an owned span.
fn owned(text: String, style: Style) -> Span<'static> {
    Span::styled(sanitize(&text).into_owned(), style)
}

/// A value on one line, short; `∅` where the path did not exist.
fn value(value: Option<&Value>) -> String {
    value.map_or_else(
        || "∅".to_string(),
        |v| ellipsize_width(&v.to_string(), 40).into_owned(),
    )
}
