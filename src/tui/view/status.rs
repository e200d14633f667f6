//! The bottom line: where you are, then a message or the prompt, then key hints.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::span;
use crate::model::format_time;
use crate::tui::app::{App, PromptKind};
use crate::tui::text::ellipsize_start;
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    if let Some(prompt) = &app.prompt {
        let label = match prompt.kind {
            PromptKind::Version => " jump to version: ",
            PromptKind::Time => " jump to time: ",
        };
        let mut spans = vec![
            Span::styled(label, theme.heading()),
            span(&prompt.input, theme.normal()),
            Span::styled("█", theme.key()),
        ];
        match &prompt.error {
            Some(error) => {
                spans.push(Span::raw("  "));
                spans.push(span(error, theme.error()));
            }
            None => spans.push(Span::styled("  Enter jump · Esc cancel", theme.muted())),
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    // A long path would push the key hints off the line; its end is what tells stores apart.
    let source = ellipsize_start(&app.source_name, (area.width as usize / 5).max(16));
    let mut spans = vec![Span::raw(" "), span(&source, theme.muted())];
    let separator = || Span::styled(" │ ", theme.border());
    let hints: &[(&str, &str)] = match &app.view {
        None => {
            spans.push(separator());
            spans.push(Span::raw(format!("{} aggregates", app.list.all.len())));
            &[
                ("?", "help"),
                ("/", "filter"),
                ("⏎", "open"),
                ("s", "sort"),
                ("q", "quit"),
            ]
        }
        Some(view) => {
            spans.push(separator());
            spans.push(span(&view.summary.id, theme.heading()));
            spans.push(separator());
            let (version, last) = match view.current_event() {
                Some(event) => (
                    event.version,
                    view.replay.events().last().map_or(0, |e| e.version),
                ),
                None => (0, 0),
            };
            let total = if view.loading {
                format!("{last}…")
            } else {
                last.to_string()
            };
            spans.push(Span::styled(format!("v{version}/{total}"), theme.key()));
            if let Some(time) = view.current_event().and_then(|e| e.timestamp.as_ref()) {
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
            &[
                ("?", "help"),
                ("←→", "step"),
                (":", "version"),
                ("a/b", "marks"),
                ("c", "compare"),
                ("q", "back"),
            ]
        }
    };
    if let Some(message) = &app.message {
        spans.push(separator());
        let style = if message.error {
            theme.error()
        } else {
            theme.changed()
        };
        spans.push(span(&message.text, style));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used + 2);
    let hint_spans = hint_line(hints, room, theme);
    let hint_width: usize = hint_spans.iter().map(|s| s.width()).sum();
    if hint_width > 0 {
        let gap = area.width as usize - used - hint_width;
        spans.push(Span::raw(" ".repeat(gap)));
        spans.extend(hint_spans);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// As many hints as fit in `room` columns, most useful first.
fn hint_line(hints: &[(&str, &str)], room: usize, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut width = 0;
    for (key, what) in hints {
        let what = format!(" {what}  ");
        let needed = key.chars().count() + what.chars().count();
        if width + needed > room {
            break;
        }
        width += needed;
        spans.push(Span::styled(key.to_string(), theme.key()));
        spans.push(Span::styled(what, theme.muted()));
    }
    spans
}
