//! The event list under the timeline: version, time and type (and with `p` the data), with
//! only the visible rows built each frame; with `m` only the filter's matches.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::timeline::row_marker;
use super::{cursor_style, pane_title, span};
use crate::tui::app::{AggregateView, Focus, RowLayout};
use crate::tui::layout::inner;
use crate::tui::text::fit;
use crate::tui::theme::Theme;

/// Marks an event the filter matches, in the event list and above the timeline.
pub const MATCH: &str = "•";

pub fn render(frame: &mut Frame, area: Rect, view: &AggregateView, theme: &Theme) {
    let focused = view.focus == Focus::Events;
    let position = match view.shown_matches() {
        _ if view.is_empty() => String::new(),
        Some(matches) => {
            let row = if view.before_first {
                0
            } else {
                view.cursor_row() + 1
            };
            format!(" {row}/{} matches ", matches.len())
        }
        None => format!(" {}/{} ", view.shown_count(), view.span()),
    };
    let mut title = vec![pane_title("events", focused, theme)];
    if let Some(filter) = &view.filter {
        title.push(Span::styled("· ", theme.muted()));
        title.push(span(&filter.query, theme.changed()));
        let found = match &filter.matches {
            // The counter on the right says how many.
            Some(_) if view.shown_matches().is_some() => " · matches only ".to_string(),
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
    let filter = view.filter.as_ref();
    let RowLayout {
        version_cells: width,
        time: column,
        type_cells,
        data_cells,
    } = view.row_layout(body.width as usize, theme.zone);
    let time_width = column.cells();
    let preview = view.events_pane.preview && data_cells.is_some();
    let data_cells = data_cells.unwrap_or(0);
    let mut lines = Vec::with_capacity(body.height as usize);
    let mut header = format!(
        "{}   {:<width$} {:<time_width$}  ",
        if filter.is_some() { " " } else { "" },
        "VER",
        "TIME",
    );
    if preview {
        header.push_str(&format!("{:<type_cells$}  DATA", "TYPE"));
    } else {
        header.push_str("TYPE");
    }
    lines.push(Line::styled(header, theme.heading()));
    let cursor = cursor_style(focused, theme);
    let mut rows = body.height.saturating_sub(1) as usize;
    if view.before_first {
        // v0 sits above v1 as a row of its own, the cursor on it.
        let text = format!(
            "   v{:<w$} empty state, before the first event",
            0,
            w = width - 1
        );
        lines.push(Line::styled(text, cursor));
        rows = rows.saturating_sub(1);
    }
    for row in view.offset..view.offset + rows {
        let Some(index) = view.row_index(row) else {
            break;
        };
        let Some(event) = view.entry(index) else {
            break;
        };
        let selected = index == view.cursor && !view.before_first;
        let base = if selected { cursor } else { theme.normal() };
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
        let time = column.cell(event.timestamp.as_ref(), event.time_offset);
        let mut spans = Vec::with_capacity(7);
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
        ]);
        let type_name = view.replay.type_name(&event);
        if preview {
            spans.push(Span::styled(fit(type_name, type_cells) + "  ", base));
            spans.push(match view.events_pane.preview(index) {
                Some(data) => Span::styled(fit(data, data_cells), base),
                // Not read yet: it fills in once the payload is read back.
                None => Span::styled(fit("…", data_cells), base.patch(theme.muted())),
            });
        } else {
            spans.push(span(type_name, base));
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.style(base);
        }
        lines.push(line);
    }
    frame.render_widget(super::clipped(lines, body.width), body);
}
