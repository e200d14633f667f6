//! The event list under the timeline: version, time and type, with only the visible rows
//! built each frame.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::span;
use super::timeline::row_marker;
use crate::tui::app::{AggregateView, Focus};
use crate::tui::layout::inner;
use crate::tui::theme::Theme;

/// Marks an event the filter matches, in the event list and above the timeline.
pub const MATCH: &str = "•";

pub fn render(frame: &mut Frame, area: Rect, view: &AggregateView, theme: &Theme) {
    let focused = view.focus == Focus::Events;
    let position = if view.is_empty() {
        String::new()
    } else {
        format!(" {}/{} ", view.shown_count(), view.span())
    };
    let mut title = vec![Span::styled(" events ", theme.heading())];
    if let Some(filter) = &view.filter {
        title.push(Span::styled("· ", theme.muted()));
        title.push(span(&filter.query, theme.changed()));
        let found = match &filter.matches {
            None => " filtering… ".to_string(),
            Some(m) if m.len() == 1 => " 1 match ".to_string(),
            Some(m) => format!(" {} matches ", m.len()),
        };
        title.push(Span::styled(found, theme.muted()));
    }
    let block = Block::bordered()
        .border_style(if focused {
            theme.border_focused()
        } else {
            theme.border()
        })
        .title(Line::from(title))
        .title(Line::styled(position, theme.muted()).right_aligned());
    frame.render_widget(block, area);
    let body = inner(area);
    if body.height == 0 {
        return;
    }
    if view.is_empty() {
        let text = match (&view.error, view.loading) {
            (Some(error), _) => Line::from(vec![
                Span::styled("could not load: ", theme.error()),
                span(error, theme.error()),
            ]),
            (None, true) => Line::styled("loading…", theme.muted()),
            (None, false) => Line::styled("no events", theme.muted()),
        };
        frame.render_widget(Paragraph::new(text), body);
        return;
    }
    let width = (view.last_version().to_string().len() + 1).max(4);
    // With a filter, a column of its own marks the matching events.
    let filter = view.filter.as_ref();
    let mut lines = Vec::with_capacity(body.height as usize);
    lines.push(Line::styled(
        format!(
            "{}   {:<width$} {:<tw$}  TYPE",
            if filter.is_some() { " " } else { "" },
            "VER",
            "TIME",
            tw = view.time_column(theme.zone).cells(),
        ),
        theme.heading(),
    ));
    let mut rows = body.height.saturating_sub(1) as usize;
    if view.before_first {
        // v0 sits above v1 as a row of its own, the cursor on it.
        let text = format!(
            "   v{:<w$} empty state, before the first event",
            0,
            w = width - 1
        );
        lines.push(Line::styled(text, theme.selected()));
        rows = rows.saturating_sub(1);
    }
    let end = (view.offset + rows).min(view.len());
    for index in view.offset..end {
        let Some(event) = view.entry(index) else {
            break;
        };
        let selected = index == view.cursor && !view.before_first;
        let base = if selected {
            theme.selected()
        } else {
            theme.normal()
        };
        let (marker, marker_style) = match row_marker(view, index) {
            Some((glyph, style)) if !selected => (glyph, style(theme)),
            Some((glyph, _)) => (glyph, base),
            None => (' ', base),
        };
        let mark = match (view.marks[0] == Some(index), view.marks[1] == Some(index)) {
            (true, true) => "AB",
            (true, false) => "A ",
            (false, true) => " B",
            (false, false) => "  ",
        };
        let time = view
            .time_column(theme.zone)
            .cell(event.timestamp.as_ref(), event.time_offset);
        let mut spans = Vec::with_capacity(5);
        if let Some(filter) = filter {
            let (glyph, style) = if filter.is_match(index) {
                (MATCH, if selected { base } else { theme.key() })
            } else {
                (" ", base)
            };
            spans.push(Span::styled(glyph, style));
        }
        spans.extend([
            Span::styled(mark, if selected { base } else { theme.mark() }),
            Span::styled(marker.to_string(), marker_style),
            Span::styled(
                format!("v{:<w$} {time}  ", event.version, w = width - 1),
                base,
            ),
            span(view.replay.type_name(&event), base),
        ]);
        let mut line = Line::from(spans);
        if selected {
            line = line.style(base);
        }
        lines.push(line);
    }
    frame.render_widget(super::clipped(lines, body.width), body);
}
