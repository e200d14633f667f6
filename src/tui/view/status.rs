//! The bottom line: where you are, then a message or the prompt, then key hints.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::span;
use crate::model::format_time;
use crate::tui::app::{filter_kind, App, FilterKind, Prompt, PromptKind};
use crate::tui::keymap;
use crate::tui::text::{ellipsize_start, ellipsize_width, sanitize};
use crate::tui::theme::Theme;
use unicode_width::UnicodeWidthStr;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    if let Some(prompt) = &app.prompt {
        frame.render_widget(Paragraph::new(prompt_line(app, prompt)), area);
        return;
    }
    // A long path would push the key hints off the line; its end is what tells stores apart.
    let source = ellipsize_start(&app.source_name, (area.width as usize / 5).max(16));
    let mut spans = vec![Span::raw(" "), span(&source, theme.muted())];
    let separator = || Span::styled(" │ ", theme.border());
    // The aggregate id's place; it gets its width once the rest of the line is known.
    let mut id_at = None;
    match (&app.view, &app.log) {
        (None, None) => {
            spans.push(separator());
            if app.reading.is_some() {
                spans.push(Span::raw("opening…"));
            } else {
                spans.push(Span::raw(count(app.list.all.len(), "aggregate")));
            }
        }
        (None, Some(log)) => {
            spans.push(separator());
            spans.push(Span::styled("store log", theme.heading()));
            if let Some(row) = log.current() {
                spans.push(separator());
                spans.push(Span::styled(
                    format!("position {}", row.position),
                    theme.key(),
                ));
                if let Some(time) = &row.timestamp {
                    spans.push(separator());
                    spans.push(Span::raw(format_time(time)));
                }
            }
            if log.follow {
                spans.push(separator());
                spans.push(Span::styled("following", theme.added()));
            }
        }
        (Some(view), _) => {
            spans.push(separator());
            id_at = Some(spans.len());
            spans.push(Span::raw(""));
            spans.push(separator());
            let (version, last) = match view.current_entry() {
                Some(event) => (event.version, view.last_version()),
                None => (0, 0),
            };
            let total = if view.loading {
                format!("{last}…")
            } else {
                last.to_string()
            };
            spans.push(Span::styled(format!("v{version}/{total}"), theme.key()));
            if let Some(time) = view.current_entry().and_then(|e| e.timestamp).as_ref() {
                spans.push(separator());
                spans.push(Span::raw(format_time(time)));
            }
            if view.playing {
                spans.push(separator());
                spans.push(Span::styled(
                    format!("▶ {}/s", view.speed_per_second()),
                    theme.added(),
                ));
            }
            if view.follow {
                spans.push(separator());
                spans.push(Span::styled("following", theme.added()));
            }
        }
    }
    if let Some(trace) = &app.trace {
        spans.push(separator());
        spans.push(Span::styled("trace ", theme.heading()));
        spans.push(span(&trace.id, theme.heading()));
    }
    let hints = keymap::hints(app.context());
    if let Some(message) = &app.message {
        spans.push(separator());
        let style = if message.error {
            theme.error()
        } else {
            theme.changed()
        };
        spans.push(span(&message.text, style));
    }
    if let (Some(at), Some(view)) = (id_at, &app.view) {
        let others: usize = spans.iter().map(|s| s.width()).sum();
        let room = id_room(area.width as usize, others);
        let id = ellipsize_width(&sanitize(&view.summary.id), room).into_owned();
        spans[at] = Span::styled(id, theme.heading());
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used + 2);
    let hint_spans = hint_line(&hints, room, theme);
    let hint_width: usize = hint_spans.iter().map(|s| s.width()).sum();
    if hint_width > 0 {
        let gap = area.width as usize - used - hint_width;
        spans.push(Span::raw(" ".repeat(gap)));
        spans.extend(hint_spans);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Columns the aggregate id may take: what the rest of the line (the message too) leaves, at
/// most a third of the line so a long id cannot crowd out the hints, and never under 8.
fn id_room(width: usize, others: usize) -> usize {
    width.saturating_sub(others + 1).min(width / 3).max(8)
}

/// As many hints as fit in `room` columns, most useful first.
fn hint_line(hints: &[(String, &str)], room: usize, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut width = 0;
    for (key, what) in hints {
        let what = format!(" {what}  ");
        let needed = key.width() + what.width();
        if width + needed > room {
            break;
        }
        width += needed;
        spans.push(Span::styled(key.clone(), theme.key()));
        spans.push(Span::styled(what, theme.muted()));
    }
    spans
}

/// `1 aggregate`, `58 aggregates`.
fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// The prompt that replaces the status line while it is open.
fn prompt_line<'a>(app: &'a App, prompt: &'a Prompt) -> Line<'a> {
    let theme = &app.theme;
    let (label, hint) = match &prompt.kind {
        PromptKind::Version => (" jump to version: ".to_string(), "Enter jump · Esc cancel"),
        PromptKind::Time => (" jump to time: ".to_string(), "Enter jump · Esc cancel"),
        PromptKind::Filter => (
            " filter events: ".to_string(),
            match filter_kind(&prompt.input) {
                _ if prompt.input.trim().is_empty() => {
                    "type text in the event type, or jq like .balance < 0 · Enter on empty clears"
                }
                FilterKind::Text => "text in the event type · Enter filter · Esc cancel",
                FilterKind::Jq => {
                    "jq (. is the state, $event the event) · Enter filter · Esc cancel"
                }
            },
        ),
        PromptKind::LogTime => (" jump to time: ".to_string(), "Enter jump · Esc cancel"),
        PromptKind::LogFilter => (
            " filter the log: ".to_string(),
            match filter_kind(&prompt.input) {
                _ if prompt.input.trim().is_empty() => {
                    "text in the event type, aggregate or correlation id, or jq like .balance < 0 · Enter on empty clears"
                }
                FilterKind::Text => "text in the type, aggregate or correlation id · Enter filter · Esc cancel",
                FilterKind::Jq => {
                    "jq (. is the aggregate's state, $event the event) · Enter filter · Esc cancel"
                }
            },
        ),
        PromptKind::ExportFormat => {
            let what = match app.export_range() {
                Some((from, to)) => format!("v{from} → v{to} (marks A–B)"),
                None => "the whole history".to_string(),
            };
            (
                format!(" export {what} as: "),
                "m Markdown · j JSON Lines · h HTML · Esc cancel",
            )
        }
        PromptKind::ExportPath(format) => (
            format!(" write {} to: ", crate::tui::app::format_name(*format)),
            "Enter write · Esc cancel",
        ),
        PromptKind::Overwrite { path, .. } => (
            format!(" {} exists; replace it? ", path.display()),
            "y replace · n keep it",
        ),
    };
    let label = crate::tui::text::sanitize(&label).into_owned();
    let mut spans = vec![Span::styled(label, theme.heading())];
    if !prompt.kind.is_choice() {
        spans.push(span(&prompt.input, theme.normal()));
        spans.push(Span::styled("█", theme.key()));
    }
    match &prompt.error {
        Some(error) => {
            spans.push(Span::raw("  "));
            spans.push(span(error, theme.error()));
        }
        None if prompt.kind.is_choice() => spans.push(Span::styled(hint, theme.muted())),
        None => spans.push(Span::styled(format!("  {hint}"), theme.muted())),
    }
    Line::from(spans)
}
