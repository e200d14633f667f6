//! Where each pane sits, as pure functions of the terminal size. The views draw into these
//! rectangles and `App` hit-tests mouse clicks against the same ones.
//!
//! ```text
//! ┌ acc-0003 · account ──────────┐┌ 1 State │ 2 Diff │ 3 Event │ 4 Compare ┐
//! │ marks row        A      B    ││                                         │
//! │ bar   ──◆────!────█──◆────── ││  detail pane                            │
//! │ axis  v1                v120 ││                                         │
//! └──────────────────────────────┘│                                         │
//! ┌ events ──────────────────────┐│                                         │
//! │ header                       ││                                         │
//! │ rows …                       ││                                         │
//! └──────────────────────────────┘└─────────────────────────────────────────┘
//!  status bar
//! ```

use ratatui::layout::{Constraint, Layout, Position, Rect};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 20;

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLayout {
    pub block: Rect,
    /// The table's rows, below its header.
    pub rows: Rect,
    pub status: Rect,
}

pub fn list(area: Rect) -> ListLayout {
    let [block, status] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let inner = inner(block);
    let rows = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    ListLayout {
        block,
        rows,
        status,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AggregateLayout {
    pub timeline: Rect,
    /// Three rows inside the timeline block: marks, bar, axis.
    pub bar: Rect,
    pub events: Rect,
    /// The event list's rows, below its header.
    pub event_rows: Rect,
    pub detail: Rect,
    pub detail_body: Rect,
    pub status: Rect,
}

/// The share of the width the left column (timeline, events) takes, in percent.
pub const LEFT_PERCENT: u16 = 45;
/// The same with the events list's data preview on: the data needs the room more than the
/// detail pane's right margin does.
pub const LEFT_PERCENT_PREVIEW: u16 = 60;

pub fn aggregate(area: Rect) -> AggregateLayout {
    aggregate_split(area, LEFT_PERCENT)
}

fn aggregate_split(area: Rect, left_percent: u16) -> AggregateLayout {
    let [body, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    // The left column follows the window, never under 40 columns.
    let left_width = (body.width * left_percent / 100).max(40.min(body.width));
    let [left, detail] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)]).areas(body);
    let [timeline, events] =
        Layout::vertical([Constraint::Length(5), Constraint::Fill(1)]).areas(left);
    let event_inner = inner(events);
    AggregateLayout {
        timeline,
        bar: inner(timeline),
        events,
        event_rows: Rect {
            y: event_inner.y + 1,
            height: event_inner.height.saturating_sub(1),
            ..event_inner
        },
        detail,
        detail_body: inner(detail),
        status,
    }
}

/// The aggregate screen with the `zoomed` pane over all of it but the status line; the
/// other panes get no room, so they are neither drawn nor hit by the mouse. `preview`
/// widens the left column for the events list's DATA column.
pub fn aggregate_with(
    area: Rect,
    zoomed: Option<crate::tui::app::Focus>,
    preview: bool,
) -> AggregateLayout {
    use crate::tui::app::Focus;
    let percent = if preview {
        LEFT_PERCENT_PREVIEW
    } else {
        LEFT_PERCENT
    };
    let normal = aggregate_split(area, percent);
    let Some(pane) = zoomed else {
        return normal;
    };
    let [body, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let none = Rect::new(body.x, body.y, 0, 0);
    let shown = |rect: Rect, wanted: Focus| if pane == wanted { rect } else { none };
    let events = shown(body, Focus::Events);
    let event_inner = inner(events);
    AggregateLayout {
        timeline: none,
        bar: none,
        events,
        event_rows: Rect {
            y: event_inner.y + 1.min(event_inner.height),
            height: event_inner.height.saturating_sub(1),
            ..event_inner
        },
        detail: shown(body, Focus::Detail),
        detail_body: shown(inner(body), Focus::Detail),
        status,
    }
}

pub const TAB_DIVIDER: &str = " │ ";

/// Cells before the detail pane's tab titles: `▶ ` with focus, two spaces without.
pub const FOCUS_MARK_CELLS: u16 = 2;

/// The tab whose title is at `column` on the detail pane's top border, if any.
pub fn tab_at(detail: Rect, column: u16, row: u16) -> Option<crate::tui::action::Tab> {
    use crate::tui::action::Tab;
    if row != detail.y {
        return None;
    }
    // The titles start after the corner and two cells (▶ and a space, with focus).
    let mut x = detail.x + 1 + FOCUS_MARK_CELLS;
    for tab in Tab::ALL {
        let width = tab.label().chars().count() as u16;
        if (x..x + width).contains(&column) {
            return Some(tab);
        }
        x += width + TAB_DIVIDER.chars().count() as u16;
    }
    None
}

/// The area inside a one-cell border.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x + 1.min(area.width),
        y: area.y + 1.min(area.height),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

pub fn contains(area: Rect, column: u16, row: u16) -> bool {
    area.contains(Position::new(column, row))
}

/// Scroll offset that keeps `selected` inside a window of `height` rows over `len`: a step
/// past the edge scrolls by one row, a longer jump centers the selection, and the window
/// never runs past the last row (`G` shows a full page).
pub fn keep_in_view(offset: usize, selected: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    scrolled(offset, selected, height).min(len.saturating_sub(height))
}

fn scrolled(offset: usize, selected: usize, height: usize) -> usize {
    if selected + 1 == offset {
        selected
    } else if selected == offset + height {
        selected + 1 - height
    } else if selected < offset || selected > offset + height {
        selected.saturating_sub(height / 2)
    } else {
        offset
    }
}

/// The column of the timeline bar that event `index` falls in, with `span` events across
/// `width` columns.
pub fn column_of(index: usize, span: usize, width: u16) -> u16 {
    if span == 0 || width == 0 {
        return 0;
    }
    ((index as u128 * width as u128 / span as u128) as u16).min(width - 1)
}

/// The event a click on timeline column `column` means; the last column is the last event.
pub fn index_at(column: u16, span: usize, width: u16) -> usize {
    if span == 0 || width == 0 {
        return 0;
    }
    if column + 1 >= width {
        return span - 1;
    }
    (column as u128 * span as u128 / width as u128) as usize
}

/// The events drawn in timeline column `column`: `[start, end)`.
pub fn bucket(column: u16, span: usize, width: u16) -> (usize, usize) {
    let at = |c: u128| (c * span as u128).div_ceil(width.max(1) as u128) as usize;
    (at(column as u128), at(column as u128 + 1).min(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_in_view_scrolls_minimally() {
        assert_eq!(keep_in_view(0, 5, 10, 100), 0);
        assert_eq!(keep_in_view(0, 10, 10, 100), 1, "one step past the bottom");
        assert_eq!(keep_in_view(8, 7, 10, 100), 7, "one step past the top");
        assert_eq!(keep_in_view(0, 50, 10, 100), 45, "a jump centers");
        assert_eq!(keep_in_view(40, 2, 10, 100), 0);
    }

    #[test]
    fn a_jump_to_the_end_shows_a_full_page() {
        assert_eq!(keep_in_view(0, 99, 10, 100), 90);
        assert_eq!(keep_in_view(0, 4, 10, 5), 0, "fewer rows than the window");
    }

    #[test]
    fn buckets_cover_every_event_once_and_agree_with_column_of() {
        for (span, width) in [(7usize, 20u16), (100_000, 150), (150, 150), (1, 10)] {
            let mut next = 0;
            for column in 0..width {
                let (start, end) = bucket(column, span, width);
                assert_eq!(start.max(next), start, "gap before column {column}");
                for index in start..end {
                    assert_eq!(column_of(index, span, width), column, "{span}/{width}");
                }
                next = next.max(end);
            }
            assert_eq!(next, span);
        }
    }

    #[test]
    fn clicks_reach_both_ends() {
        assert_eq!(index_at(0, 1500, 60), 0);
        assert_eq!(index_at(59, 1500, 60), 1499);
        assert_eq!(index_at(30, 1500, 60), 750);
    }

    #[test]
    fn the_panes_follow_a_wide_window() {
        let l = aggregate(Rect::new(0, 0, 220, 50));
        assert_eq!(l.events.width, 99);
        assert_eq!(l.detail.width, 121);
    }

    #[test]
    fn the_aggregate_layout_fits_the_minimum_size() {
        let l = aggregate(Rect::new(0, 0, MIN_WIDTH, MIN_HEIGHT));
        assert_eq!(l.bar.height, 3);
        assert!(l.event_rows.height >= 5);
        assert!(l.detail_body.width >= 30);
    }
}
