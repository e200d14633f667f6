//! Drawing: pure functions from `App` to a frame, one file per pane. Views read only the
//! cached detail and the visible slice of each list, so a frame costs the same at event 10
//! and at event 100,000.

mod blame;
#[cfg(test)]
mod cells_tests;
mod detail;
mod events;
#[cfg(test)]
mod events_tests;
mod help;
#[cfg(test)]
mod inspect_tests;
mod list;
mod log;
#[cfg(test)]
mod log_tests;
mod messages;
mod small;
mod status;
#[cfg(test)]
mod tests;
pub(crate) mod timeline;
mod trace;
mod viewer;

use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::Frame;

use super::app::{App, Tone};
use super::layout;
use super::text::sanitize;
use super::theme::Theme;

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if layout::too_small(area) {
        small::render(frame, area, &app.theme);
        return;
    }
    match (&app.view, &app.log) {
        (None, None) => {
            let areas = layout::list(area);
            list::render(frame, areas, app);
            status::render(frame, areas.status, app);
        }
        (None, Some(found)) => {
            let areas = layout::list(area);
            log::render(frame, areas, found, &app.theme);
            status::render(frame, areas.status, app);
        }
        (Some(view), _) => {
            let areas = layout::aggregate_with(area, view.zoomed(), view.widened_for_preview(area));
            if !areas.timeline.is_empty() {
                timeline::render(frame, areas.timeline, view, &app.theme);
            }
            if !areas.events.is_empty() {
                events::render(frame, areas.events, view, &app.theme);
            }
            match &view.blame {
                _ if areas.detail.is_empty() => {}
                Some(found) => blame::render(frame, areas.detail, view, found, &app.theme),
                None => detail::render(frame, areas.detail, view, &app.theme),
            }
            status::render(frame, areas.status, app);
        }
    }
    if let Some(found) = &app.viewer {
        viewer::render(frame, layout::list(area).block, found, &app.theme);
    }
    if let Some(found) = &app.trace {
        trace::render(frame, layout::list(area).block, found, &app.theme);
    }
    if app.messages.open {
        messages::render(frame, area, &app.messages, &app.theme);
    }
    if app.help {
        help::render(frame, area, &app.theme, app.help_for, app.help_scroll);
    }
}

/// Lines in the help overlay in a window `width` cells wide, so `App` can bound its
/// scrolling.
pub fn help_lines(help: crate::tui::keymap::HelpFor, width: u16) -> u16 {
    help::line_count(help, width)
}

/// Rows for a pane `width` cells wide, each cut with … where it does not fit.
fn clipped(lines: Vec<ratatui::text::Line<'_>>, width: u16) -> ratatui::widgets::Paragraph<'_> {
    let lines: Vec<_> = lines
        .into_iter()
        .map(|line| super::text::clip_line(line, width as usize))
        .collect();
    ratatui::widgets::Paragraph::new(lines)
}

/// A pane's name on its border: reversed and led by ▶ while keys go to it, so focus shows
/// without color too.
fn pane_title(name: &str, focused: bool, theme: &Theme) -> Span<'static> {
    if focused {
        Span::styled(format!("▶ {name} "), theme.title_focused())
    } else {
        Span::styled(format!(" {name} "), theme.heading())
    }
}

/// The cursor's row: strong where keys go, dim in a pane without focus.
fn cursor_style(focused: bool, theme: &Theme) -> Style {
    if focused {
        theme.selected()
    } else {
        theme.selected_unfocused()
    }
}

/// The only way text from the store reaches the screen: sanitized, styled.
fn span<'a>(text: &'a str, style: Style) -> Span<'a> {
    Span::styled(sanitize(text), style)
}

fn tone_style(theme: &Theme, tone: Tone) -> Style {
    match tone {
        Tone::Plain => theme.normal(),
        Tone::Heading => theme.heading(),
        Tone::Muted => theme.muted(),
        Tone::Added => theme.added(),
        Tone::Removed => theme.removed(),
        Tone::Changed => theme.changed(),
        Tone::Hunk => theme.hunk(),
        Tone::Error => theme.error(),
        Tone::Warning => theme.warning(),
    }
}
