//! The value viewer: one State value over the whole screen, its lines wrapped, the
//! search's matches marked.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use crate::tui::app::{line_text, ValueViewer};
use crate::tui::layout::inner;
use crate::tui::text::sanitize;
use crate::tui::theme::Theme;

/// Cells of the gutter before each line: `▶` on the line cursor.
const GUTTER: usize = 2;

pub fn render(frame: &mut Frame, area: Rect, viewer: &ValueViewer, theme: &Theme) {
    frame.render_widget(Clear, area);
    let title = format!(
        " {} at v{} · {} lines ",
        sanitize(&viewer.subject),
        viewer.version,
        viewer.lines.len()
    );
    let depth = match viewer.depth {
        0 => "unfolded".to_string(),
        d => format!("folded to depth {d}"),
    };
    let search = match &viewer.search {
        Some(search) => format!(" /{} · n/N ·", sanitize(&search.query)),
        None => String::new(),
    };
    let footer =
        format!("{search} {depth} · / search · y copy · 1-9 fold to depth · Z deeper · q closes ");
    let block = Block::bordered()
        .border_style(theme.border_focused())
        .title(Line::styled(title, theme.heading()))
        .title_bottom(Line::styled(footer, theme.muted()).right_aligned());
    frame.render_widget(block, area);
    let body = inner(area);
    // Only the lines that can show: a frame costs the same for a value of any size.
    let height = body.height as usize;
    let from = viewer.offset.min(viewer.selected);
    let to = (viewer.selected + 1)
        .max(from + height)
        .min(viewer.visible.len());
    let texts: Vec<String> = viewer.visible[from.min(to)..to]
        .iter()
        .map(|&i| sanitize(&line_text(&viewer.lines, i, viewer.is_folded(i))).into_owned())
        .collect();
    let skip = first_row(&texts, viewer.selected - from, body);
    let lines: Vec<Line> = texts
        .into_iter()
        .enumerate()
        .skip(skip)
        .take(height)
        .map(|(row, text)| {
            let (gutter, style) = if from + row == viewer.selected {
                (" ▶", theme.selected())
            } else {
                ("  ", theme.normal())
            };
            let mut spans = vec![Span::styled(gutter, theme.key())];
            match &viewer.search {
                Some(search) if search.is_match(&text) => {
                    spans.extend(super::detail::marked(&text, search, style, theme.key()))
                }
                _ => spans.push(Span::styled(text, style)),
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}

/// Lines of `texts` to skip so the line cursor (`selected`, an index into them) is not
/// pushed off the bottom by wrapped lines above it.
fn first_row(texts: &[String], selected: usize, body: Rect) -> usize {
    let width = (body.width as usize).max(1);
    let rows_of = |text: &String| (text.width() + GUTTER).div_ceil(width).max(1);
    let end = (selected + 1).min(texts.len());
    let mut used: usize = texts[..end].iter().map(rows_of).sum();
    let mut start = 0;
    while used > body.height as usize && start < selected {
        used -= rows_of(&texts[start]);
        start += 1;
    }
    start
}
