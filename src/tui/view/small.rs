//! What a terminal below the minimum size shows instead of a garbled layout.

use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::layout::{MIN_HEIGHT, MIN_WIDTH};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = Text::from(vec![
        Line::styled("Terminal too small", theme.error()),
        Line::from(format!(
            "{}×{} now, rewind needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from("Please enlarge the window · Ctrl-C quits"),
    ]);
    let top = area.height.saturating_sub(3) / 2;
    let body = Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        body,
    );
}
