//! The bottom line: where you are, then a message or the prompt, then key hints.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::span;
use crate::tui::app::{filter_kind, App, FilterKind, Prompt, PromptKind};
use crate::tui::keymap;
use crate::tui::text::{ellipsize_start, ellipsize_width, format_time_in, sanitize, Zone};
use crate::tui::theme::Theme;
use unicode_width::UnicodeWidthStr;

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    if let Some(prompt) = &app.prompt {
        let line = crate::tui::text::clip_line(prompt_line(app, prompt), area.width as usize);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let source = sanitize(&app.source_name);
    // The source's place; like the id's and the message's, it gets its width once the
    // fixed parts of the line (versions, times, states) are known.
    let mut spans = vec![Span::raw(" "), Span::raw("")];
    let source_at = 1;
    let separator = || Span::styled(" │ ", theme.border());
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
                    spans.push(Span::raw(format_time_in(time, row.time_offset, theme.zone)));
                    spans.extend(zone_label(theme));
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
                Some(_) => (view.shown_version(), view.last_version()),
                None => (0, 0),
            };
            let total = if view.loading {
                format!("{last}…")
            } else {
                last.to_string()
            };
            spans.push(Span::styled(format!("v{version}/{total}"), theme.key()));
            if view.before_first {
                spans.push(separator());
                spans.push(Span::raw("empty state"));
            } else if let Some((time, offset)) = view
                .current_entry()
                .and_then(|e| Some((e.timestamp?, e.time_offset)))
            {
                spans.push(separator());
                spans.push(Span::raw(format_time_in(&time, offset, theme.zone)));
                spans.extend(zone_label(theme));
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
    let message = app.message.as_ref().map(|m| (sanitize(&m.text), m.error));
    if message.is_some() {
        spans.push(separator());
    }
    let id = app.view.as_ref().map(|v| sanitize(&v.summary.id));
    let fixed: usize = spans.iter().map(|s| s.width()).sum();
    let wanted = Widths {
        source: source.width(),
        id: id.as_ref().map_or(0, |id| id.width()),
        message: message.as_ref().map_or(0, |(text, _)| text.width()),
    };
    let room = (area.width as usize).saturating_sub(fixed + 1);
    let given = share(room, wanted, area.width as usize / 3);
    spans[source_at] = Span::styled(
        ellipsize_start(&source, given.source).into_owned(),
        theme.muted(),
    );
    if let (Some(at), Some(id)) = (id_at, &id) {
        spans[at] = Span::styled(ellipsize_width(id, given.id).into_owned(), theme.heading());
    }
    if let Some((text, error)) = &message {
        let style = if *error {
            theme.error()
        } else {
            theme.changed()
        };
        if given.message < wanted.message {
            // Cut to fit: the key that shows it whole says so.
            let room = given.message.saturating_sub(MORE.width());
            spans.push(Span::styled(
                ellipsize_width(text, room).into_owned(),
                style,
            ));
            spans.push(Span::styled(MORE, theme.key()));
        } else {
            spans.push(Span::styled(text.to_string(), style));
        }
    }
    let hints = keymap::hints(app.context());
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used + 2);
    let hint_spans = hint_line(&hints, room, theme);
    let hint_width: usize = hint_spans.iter().map(|s| s.width()).sum();
    if hint_width > 0 {
        let gap = area.width as usize - used - hint_width;
        spans.push(Span::raw(" ".repeat(gap)));
        spans.extend(hint_spans);
    }
    frame.render_widget(
        Paragraph::new(crate::tui::text::clip_line(
            Line::from(spans),
            area.width as usize,
        )),
        area,
    );
}

/// After a time: which zone it is written in, once it is not UTC's `Z`.
fn zone_label(theme: &Theme) -> Option<Span<'static>> {
    (theme.zone == Zone::Local).then(|| Span::styled(" local", theme.muted()))
}

/// What follows a message cut to fit.
const MORE: &str = " ! whole";

/// Cells of the three parts of the status line that can be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Widths {
    source: usize,
    id: usize,
    message: usize,
}

/// Shares `room` cells out: each part first gets a little (so none vanishes), then the
/// message (it says what just happened), the id up to `id_cap` (the pane title shows it too)
/// and the source, while room lasts; what is left goes to the key hints. The fixed parts (version, time) never give way.
fn share(room: usize, wanted: Widths, id_cap: usize) -> Widths {
    let mut left = room;
    let mut take = |want: usize| {
        let got = want.min(left);
        left -= got;
        got
    };
    let mut given = Widths {
        id: take(wanted.id.min(8)),
        message: take(wanted.message.min(16)),
        source: take(wanted.source.min(12)),
    };
    given.message += take(wanted.message - given.message);
    given.id += take(wanted.id.min(id_cap).saturating_sub(given.id));
    given.source += take(wanted.source - given.source);
    given
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
/// Text being typed, the cursor on a character (or after the last one, as a block).
pub(super) fn with_cursor<'a>(
    text: &'a str,
    cursor: usize,
    style: ratatui::style::Style,
    theme: &crate::tui::theme::Theme,
) -> Vec<Span<'a>> {
    let at = text
        .char_indices()
        .nth(cursor)
        .map_or(text.len(), |(i, _)| i);
    let (before, rest) = text.split_at(at);
    let mut spans = vec![span(before, style)];
    let mut rest = rest.chars();
    match rest.next() {
        Some(under) => {
            let under = sanitize(&under.to_string()).into_owned();
            spans.push(Span::styled(under, theme.selected()));
            spans.push(span(rest.as_str(), style));
        }
        None => spans.push(Span::styled("█", theme.key())),
    }
    spans
}

fn prompt_line<'a>(app: &'a App, prompt: &'a Prompt) -> Line<'a> {
    let theme = &app.theme;
    let (label, hint) = match &prompt.kind {
        PromptKind::Version => (" jump to version: ".to_string(), "Enter jump · Esc cancel"),
        PromptKind::Time => (" jump to time: ".to_string(), "Enter jump · Esc cancel"),
        PromptKind::Filter => (
            " filter events: ".to_string(),
            match filter_kind(prompt.input()) {
                _ if prompt.input().trim().is_empty() => {
                    "type text in the event type, or jq like .balance < 0 · Enter on empty clears"
                }
                FilterKind::Text => "text in the event type · Enter filter · Esc cancel",
                FilterKind::Jq => {
                    "jq (. is the state, $event the event) · Enter filter · Esc cancel"
                }
            },
        ),
        PromptKind::PaneSearch if app.viewer.is_some() => (
            " search the value: ".to_string(),
            "text, any case · Enter find · then n/N · Esc cancel",
        ),
        PromptKind::PaneSearch => (
            format!(" search the {} tab: ", app.view.as_ref().map_or("", |v| v.tab.title())),
            "text, any case · Enter find · then n/N · Esc cancel",
        ),
        PromptKind::Mark => (
            " mark A/B at version or time: ".to_string(),
            "a 37 · b v12 · a 10:30 · b -1h · Enter mark · Esc cancel",
        ),
        PromptKind::LogTime => (" jump to time: ".to_string(), "Enter jump · Esc cancel"),
        PromptKind::LogFilter => (
            " filter the log: ".to_string(),
            match filter_kind(prompt.input()) {
                _ if prompt.input().trim().is_empty() => {
                    "text in the event type, aggregate or correlation id, or jq like (.balance // 0) < 0 · Enter on empty clears"
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
        spans.extend(with_cursor(
            prompt.input(),
            prompt.cursor(),
            theme.normal(),
            theme,
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn widths(source: usize, id: usize, message: usize) -> Widths {
        Widths {
            source,
            id,
            message,
        }
    }

    #[test]
    fn a_source_gets_all_it_wants_when_there_is_room() {
        assert_eq!(share(100, widths(60, 8, 0), 40), widths(60, 8, 0));
    }

    #[test]
    fn a_long_id_is_held_to_its_cap_and_leaves_the_rest() {
        assert_eq!(share(100, widths(20, 500, 0), 40), widths(20, 40, 0));
    }

    #[test]
    fn without_room_each_part_keeps_a_little() {
        assert_eq!(share(30, widths(60, 60, 60), 40), widths(6, 8, 16));
        assert_eq!(share(0, widths(60, 60, 60), 40), widths(0, 0, 0));
    }
}
