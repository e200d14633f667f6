//! The trace overlay: one request's events across aggregates as a causation tree, each
//! event under the one that caused it, with its time and the time since the root.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::span;
use crate::inspect::elapsed;
use crate::tui::app::TraceView;
use crate::tui::layout::inner;
use crate::tui::text::{ellipsize_width, fit, sanitize, subsecond_digits, TimeColumn};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, view: &TraceView, theme: &Theme) {
    frame.render_widget(Clear, area);
    let title = Line::from(vec![
        Span::styled(" trace ", theme.heading()),
        span(&view.id, theme.changed()),
        Span::raw(" "),
    ]);
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
    let body = Rect {
        x: body.x + 1,
        width: body.width.saturating_sub(1),
        ..body
    };
    let Some(tree) = &view.tree else {
        let text = format!("tracing {} across the store…", view.id);
        frame.render_widget(Paragraph::new(Line::from(span(&text, theme.muted()))), body);
        return;
    };
    let trace = &tree.trace;
    let start = trace.start_time();
    let labels: Vec<String> = trace
        .events
        .iter()
        .zip(&tree.branches)
        .skip(view.offset)
        .take(body.height.saturating_sub(2) as usize)
        .map(|(e, branch)| {
            let event = &e.event;
            format!(
                "{branch}{} v{} {}",
                sanitize(&event.aggregate_id),
                event.version,
                sanitize(&event.event_type)
            )
        })
        .collect();
    let digits = trace
        .events
        .iter()
        .filter_map(|e| e.event.timestamp.as_ref())
        .map(subsecond_digits)
        .max()
        .unwrap_or(0);
    let offsets = trace.events.iter().any(|e| e.event.time_offset.is_some());
    let times = TimeColumn::new(digits, theme.zone).with_offsets(offsets);
    let label_width = tree.label_width.clamp(5, (body.width as usize / 2).max(5));
    let mut lines = vec![
        Line::from(owned(trace.summary(), theme.normal())),
        Line::styled(
            format!(
                "  {}  {:<tw$}  {:>8}  NOTE",
                fit("EVENT", label_width),
                "TIME",
                "ELAPSED",
                tw = times.cells(),
            ),
            theme.heading(),
        ),
    ];
    for (row, label) in (view.offset..).zip(&labels) {
        let e = &trace.events[row];
        let selected = row == view.selected;
        let style = if selected {
            theme.selected()
        } else {
            theme.normal()
        };
        let here = if Some(e.event.position) == view.from {
            "▶ "
        } else {
            "  "
        };
        let time = times.cell(e.event.timestamp.as_ref(), e.event.time_offset);
        let note = e.link.note();
        let mut spans = vec![
            Span::styled(here, theme.key()),
            Span::styled(
                format!(
                    "{}  {time}  {:>8}  ",
                    fit(label, label_width),
                    elapsed(start, e.event.timestamp)
                ),
                style,
            ),
        ];
        if !note.is_empty() {
            let tone = if note.starts_with('!') {
                theme.error()
            } else {
                theme.muted()
            };
            let used: usize = spans.iter().map(Span::width).sum();
            let room = (body.width as usize).saturating_sub(used);
            let note = ellipsize_width(&sanitize(&note), room).into_owned();
            spans.push(Span::styled(note, if selected { style } else { tone }));
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.style(style);
        }
        lines.push(line);
    }
    frame.render_widget(super::clipped(lines, body.width), body);
}

/// Text made safe to draw, as an owned span.
fn owned(text: String, style: ratatui::style::Style) -> Span<'static> {
    Span::styled(sanitize(&text).into_owned(), style)
}
