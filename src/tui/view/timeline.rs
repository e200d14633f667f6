//! The timeline bar: the whole history squeezed into the pane's width, one bucket of events
//! per column, with the cursor, compare marks, snapshots and troubled events marked.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, LineGauge, Paragraph};
use ratatui::Frame;

use super::events::MATCH;
use super::span;
use crate::tui::app::{AggregateView, SnapshotVerdict};
use crate::tui::layout::{bucket, column_of, inner};
use crate::tui::theme::Theme;

pub const SNAPSHOT: char = '◆';
pub const SNAPSHOT_DIFFERS: char = '✗';
pub const WARNING: char = '!';
pub const MALFORMED: char = '?';
const PLAIN: char = '─';
const NOT_LOADED: char = '·';

pub fn render(frame: &mut Frame, area: Rect, view: &AggregateView, theme: &Theme) {
    let kind = view.summary.aggregate_type.as_deref().unwrap_or("no type");
    let mut title = vec![
        Span::raw(" "),
        span(&view.summary.id, theme.heading()),
        Span::styled(" · ", theme.muted()),
        span(kind, theme.normal()),
        Span::raw(" "),
    ];
    if view.follow {
        title.push(Span::styled("· following ", theme.added()));
    }
    frame.render_widget(
        Block::bordered()
            .border_style(theme.border())
            .title(Line::from(title)),
        area,
    );
    let bar = inner(area);
    if bar.height < 3 || bar.width == 0 {
        return;
    }
    let row = |n: u16| Rect {
        y: bar.y + n,
        height: 1,
        ..bar
    };
    let buf = frame.buffer_mut();
    draw_marks(buf, row(0), view, theme);
    draw_bar(buf, row(1), view, theme);
    if view.loading {
        let total = view.span().max(1);
        let ratio = (view.len() as f64 / total as f64).clamp(0.0, 1.0);
        frame.render_widget(
            LineGauge::default()
                .ratio(ratio)
                .label(format!("loading {}/{}", view.len(), view.span()))
                .filled_style(theme.heading())
                .unfilled_style(theme.muted()),
            row(2),
        );
    } else {
        draw_axis(frame, row(2), view, theme);
    }
}

/// Row above the bar: ▼ over the cursor, A and B over the compare marks, • over the
/// columns holding events the filter matches.
fn draw_marks(buf: &mut Buffer, area: Rect, view: &AggregateView, theme: &Theme) {
    let span_len = view.span();
    if view.is_empty() {
        return;
    }
    if let Some(matches) = view.filter.as_ref().and_then(|f| f.matches.as_deref()) {
        for column in 0..area.width {
            let (start, end) = bucket(column, span_len, area.width);
            let first = matches.partition_point(|&m| m < start);
            if matches.get(first).is_some_and(|&m| m < end) {
                buf[(area.x + column, area.y)]
                    .set_symbol(MATCH)
                    .set_style(theme.key());
            }
        }
    }
    let at = |index: usize| area.x + column_of(index, span_len, area.width);
    let cursor = at(view.cursor);
    buf[(cursor, area.y)].set_char('▼').set_style(theme.key());
    for (slot, name) in [(0, 'A'), (1, 'B')] {
        if let Some(index) = view.marks[slot] {
            let mut x = at(index);
            if slot == 1 && view.marks[0].is_some_and(|a| at(a) == x) && x + 1 < area.right() {
                x += 1;
            }
            // A mark under the cursor is drawn in the cursor's style, so neither hides.
            let style = if x == cursor {
                theme.cursor()
            } else {
                theme.mark()
            };
            buf[(x, area.y)].set_char(name).set_style(style);
        }
    }
}

fn draw_bar(buf: &mut Buffer, area: Rect, view: &AggregateView, theme: &Theme) {
    let span_len = view.span();
    let warnings = view.replay.warnings();
    let cursor_column = (!view.is_empty()).then(|| column_of(view.cursor, span_len, area.width));
    for column in 0..area.width {
        let (start, end) = bucket(column, span_len, area.width);
        let loaded_end = end.min(view.len());
        let (glyph, style) = if start >= view.len() && start < end {
            (NOT_LOADED, theme.muted())
        } else {
            let any = |sorted: &[usize]| {
                let i = sorted.partition_point(|&x| x < start);
                sorted.get(i).is_some_and(|&x| x < loaded_end)
            };
            let first_snapshot = view.snapshots.partition_point(|m| m.index < start);
            let snapshots = view.snapshots[first_snapshot..]
                .iter()
                .take_while(|m| m.index < loaded_end);
            let mut has_snapshot = false;
            let mut differs = false;
            for mark in snapshots {
                has_snapshot = true;
                differs |= !matches!(mark.verdict, SnapshotVerdict::Agrees);
            }
            let first_warning = warnings.partition_point(|w| w.index < start);
            let warned = warnings
                .get(first_warning)
                .is_some_and(|w| w.index < loaded_end);
            if differs {
                (SNAPSHOT_DIFFERS, theme.error())
            } else if any(&view.problems) {
                (MALFORMED, theme.error())
            } else if warned {
                (WARNING, theme.warning())
            } else if has_snapshot {
                (SNAPSHOT, theme.snapshot())
            } else {
                (PLAIN, theme.muted())
            }
        };
        let (glyph, style) = if cursor_column == Some(column) {
            (if glyph == PLAIN { '┃' } else { glyph }, theme.cursor())
        } else {
            (glyph, style)
        };
        buf[(area.x + column, area.y)]
            .set_char(glyph)
            .set_style(style);
    }
}

/// Row below the bar: first and last version at the ends, the legend in between.
fn draw_axis(frame: &mut Frame, area: Rect, view: &AggregateView, theme: &Theme) {
    let first = view.version_of(0);
    let last = view.last_version();
    let left = format!("v{first}");
    let right = format!("v{last}");
    let legend = format!(
        "{SNAPSHOT} snapshot  {SNAPSHOT_DIFFERS} differs  {WARNING} warning  {MALFORMED} malformed"
    );
    let room = (area.width as usize).saturating_sub(left.len() + right.len());
    let middle = if room >= legend.chars().count() + 2 {
        legend
    } else {
        String::new()
    };
    let pad = room.saturating_sub(middle.chars().count());
    let line = Line::from(vec![
        Span::styled(left, theme.muted()),
        Span::raw(" ".repeat(pad / 2)),
        Span::styled(middle, theme.muted()),
        Span::raw(" ".repeat(pad - pad / 2)),
        Span::styled(right, theme.muted()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Chooses a style from the theme, so a marker's look follows NO_COLOR.
pub type StylePick = fn(&Theme) -> Style;

/// The marker an event row shows in its gutter, most important first.
pub fn row_marker(view: &AggregateView, index: usize) -> Option<(char, StylePick)> {
    let snapshot = view
        .snapshots
        .binary_search_by_key(&index, |m| m.index)
        .ok()
        .map(|i| &view.snapshots[i].verdict);
    if matches!(snapshot, Some(v) if *v != SnapshotVerdict::Agrees) {
        return Some((SNAPSHOT_DIFFERS, Theme::error));
    }
    if view.problems.binary_search(&index).is_ok() {
        return Some((MALFORMED, Theme::error));
    }
    let warnings = view.replay.warnings();
    let i = warnings.partition_point(|w| w.index < index);
    if warnings.get(i).is_some_and(|w| w.index == index) {
        return Some((WARNING, Theme::warning));
    }
    snapshot.map(|_| (SNAPSHOT, Theme::snapshot as StylePick))
}
