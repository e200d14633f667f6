//! The store log screen: every event of the store in store order, one row each, drawn from
//! the window of pages the log holds (only the visible rows are built).

use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::span;
use super::timeline::{MALFORMED, WARNING};
use crate::tui::app::LogView;
use crate::tui::layout::{inner, ListLayout};
use crate::tui::text::{fit, format_time_in, Zone};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, areas: ListLayout, log: &LogView, theme: &Theme) {
    let mut title = vec![Span::styled(" store log ", theme.heading())];
    if let Some(query) = &log.query {
        title.push(Span::styled("· filter: ", theme.muted()));
        title.push(span(&query.text, theme.changed()));
        title.push(Span::raw(" "));
    }
    if log.follow {
        title.push(Span::styled("· following ", theme.added()));
    }
    let right = match (&log.pending, log.current()) {
        (Some(_), _) => " reading… ".to_string(),
        (None, Some(row)) => format!(" position {} ", row.position),
        (None, None) => String::new(),
    };
    frame.render_widget(
        Block::bordered()
            .border_style(theme.border_focused())
            .title(Line::from(title))
            .title(Line::styled(right, theme.muted()).right_aligned()),
        areas.block,
    );
    let body = inner(areas.block);
    let body = Rect {
        x: body.x + 1,
        width: body.width.saturating_sub(1),
        ..body
    };
    if log.rows.is_empty() {
        let notice = match (&log.error, &log.pending, &log.query) {
            (Some(error), _, _) => Line::from(vec![
                Span::styled("could not read the store: ", theme.error()),
                span(error, theme.error()),
            ]),
            (None, Some(_), _) => Line::styled("reading the store…", theme.muted()),
            (None, None, Some(query)) => Line::from(vec![
                Span::styled("no event matches ", theme.muted()),
                span(&query.text, theme.changed()),
                Span::styled(" (Esc clears the filter)", theme.muted()),
            ]),
            (None, None, None) => Line::styled("this store holds no events", theme.muted()),
        };
        let middle = Rect {
            y: body.y + body.height / 2,
            height: 1.min(body.height),
            ..body
        };
        frame.render_widget(Paragraph::new(notice).alignment(Alignment::Center), middle);
        return;
    }
    let w = columns(log, body.width as usize, theme.zone);
    let mut lines = Vec::with_capacity(areas.rows.height as usize + 1);
    lines.push(Line::styled(
        format!(
            "  {:>pw$}  {:<tw$}  {}  {:<vw$}  {}  CORRELATION",
            "POSITION",
            "TIME",
            fit("AGGREGATE", w.aggregate),
            "VER",
            fit("TYPE", w.event_type),
            pw = w.position,
            tw = w.time,
            vw = w.version,
        ),
        theme.heading(),
    ));
    let end = (log.offset + areas.rows.height as usize).min(log.rows.len());
    for index in log.offset..end {
        let row = &log.rows[index];
        let selected = index == log.cursor;
        let base = if selected {
            theme.selected()
        } else {
            theme.normal()
        };
        let (marker, marker_style) = if row.malformed {
            (MALFORMED, theme.error())
        } else if !row.notes.is_empty() {
            (WARNING, theme.warning())
        } else {
            (' ', base)
        };
        let time = row.timestamp.as_ref().map_or("-".into(), |t| {
            format_time_in(t, row.time_offset, theme.zone)
        });
        let text = format!(
            "{:>pw$}  {time:<tw$}  {}  {:<vw$}  {}  ",
            row.position.to_string(),
            fit(&row.aggregate_id, w.aggregate),
            format!("v{}", row.version),
            fit(&row.event_type, w.event_type),
            pw = w.position,
            tw = w.time,
            vw = w.version,
        );
        let mut spans = vec![
            Span::styled(
                marker.to_string(),
                if selected { base } else { marker_style },
            ),
            Span::styled(" ", base),
            Span::styled(text, base),
        ];
        if let Some(correlation) = &row.correlation {
            spans.push(span(
                correlation,
                if selected { base } else { theme.muted() },
            ));
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.style(base);
        }
        lines.push(line);
    }
    frame.render_widget(super::clipped(lines, body.width), body);
}

/// Cells a time's offset (`+01:00`) takes beyond UTC's `Z`.
fn zone_cells(zone: Zone, offsets: bool) -> usize {
    match zone {
        Zone::Stored if !offsets => 0,
        _ => 5,
    }
}

/// Column widths: the widest seen so far, within a share of the screen.
fn columns(log: &LogView, width: usize, zone: Zone) -> crate::tui::app::LogWidths {
    let seen = log.widths;
    crate::tui::app::LogWidths {
        position: seen.position.max("POSITION".len()),
        time: (seen.time + zone_cells(zone, seen.offsets)).max(4),
        offsets: seen.offsets,
        aggregate: seen.aggregate.clamp("AGGREGATE".len(), (width / 4).max(9)),
        version: seen.version.max(3),
        event_type: seen.event_type.clamp(4, (width / 4).max(4)),
    }
}
