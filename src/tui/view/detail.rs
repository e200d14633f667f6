//! The right pane: tabs for the state at the cursor, this event's diff, the raw event, and
//! the comparison of marks A and B.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::{cursor_style, span, tone_style};
use crate::tui::action::Tab;
use crate::tui::app::{line_text, AggregateView, Focus, Node, PaneSearch, TextLine, STATE_INDENT};
use crate::tui::layout::{inner, TAB_DIVIDER};
use crate::tui::text::{sanitize, wrap_line};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, view: &AggregateView, theme: &Theme) {
    let focused = view.focus == Focus::Detail;
    // Focus shows on the title as on the events list: ▶, reversed.
    let mut tabs = vec![if focused {
        Span::styled("▶ ", theme.title_focused())
    } else {
        Span::raw("  ")
    }];
    for (i, tab) in Tab::ALL.iter().enumerate() {
        if i > 0 {
            tabs.push(Span::styled(TAB_DIVIDER, theme.border()));
        }
        let label = tab.label();
        tabs.push(if *tab == view.tab {
            Span::styled(label, cursor_style(focused, theme))
        } else {
            Span::styled(label, theme.muted())
        });
    }
    tabs.push(Span::raw(" "));
    let block = Block::bordered()
        .border_style(if focused {
            theme.border_focused()
        } else {
            theme.border()
        })
        .title(Line::from(tabs))
        .title_bottom(Line::styled(fitted_footer(view, area), theme.muted()).right_aligned());
    frame.render_widget(block, area);
    let body = inner(area);
    let Some(detail) = view.detail.as_ref() else {
        let text = if view.loading {
            "loading…"
        } else {
            "nothing to show"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.muted())), body);
        return;
    };
    let scroll = view.scroll[view.tab.index()];
    let search = view.tab_search();
    let compared = view
        .comparison
        .as_ref()
        .filter(|c| view.compare_pair() == Some(c.marks));
    if view.tab == Tab::Compare && compared.is_none() {
        let wrap = ratatui::widgets::Wrap { trim: false };
        frame.render_widget(Paragraph::new(compare_help(theme)).wrap(wrap), body);
        return;
    }
    // Wrapped, the pane scrolls by rows: it starts `within` rows into line `first`.
    let rows = view.rows_of(view.tab, body.width as usize);
    let (first, within) = rows.line_at(scroll);
    let height = body.height as usize;
    let lines = match view.tab {
        Tab::State => state_lines(view, first, height, theme),
        Tab::Diff => text_lines(&detail.diff, first, body.height, search, theme),
        Tab::Event => text_lines(&detail.event, first, body.height, search, theme),
        Tab::Compare => match compared {
            Some(comparison) => text_lines(&comparison.lines, first, body.height, search, theme),
            None => Vec::new(),
        },
    };
    if view.wrap {
        let state = view.tab == Tab::State;
        let wrapped = wrap_rows(lines, body.width as usize, within, state);
        frame.render_widget(Paragraph::new(wrapped), body);
        return;
    }
    let lines = lines
        .into_iter()
        .map(|line| skip_cells(line, view.hscroll, view.tab == Tab::State))
        .collect();
    frame.render_widget(super::clipped(lines, body.width), body);
}

fn compare_help(theme: &Theme) -> Vec<Line<'static>> {
    vec![
        Line::styled("Compare two points of the history:", theme.heading()),
        Line::raw(""),
        Line::raw("  a   set mark A at the cursor, then scrub: A → cursor, live"),
        Line::raw("  b   set mark B at the cursor"),
        Line::raw("  c   show what changed from A to B"),
        Line::raw("  x   clear the marks"),
    ]
}

/// Lines wrapped to the pane, the first `within` rows dropped (scrolled past). State
/// rows keep the gutter clear, and the cursor's line scrolled past its start still shows
/// its ▶ on its top row.
fn wrap_rows(lines: Vec<Line<'_>>, width: usize, within: usize, state: bool) -> Vec<Line<'static>> {
    let indent = if state { STATE_INDENT } else { 0 };
    let mut rows = Vec::new();
    for (n, line) in lines.into_iter().enumerate() {
        let gutter = line.spans.first().cloned();
        let mut wrapped = wrap_line(line, width, indent);
        if n == 0 && within > 0 {
            wrapped.drain(..within.min(wrapped.len() - 1));
            let selected = gutter.filter(|g| state && g.content.contains('▶'));
            if let (Some(gutter), Some(first)) = (selected, wrapped.first_mut()) {
                if let Some(indent) = first.spans.first_mut() {
                    *indent = Span::styled(gutter.content.into_owned(), gutter.style);
                }
            }
        }
        rows.extend(wrapped);
    }
    rows
}

/// `line` scrolled `cells` to the right; the State tab's two-cell gutter stays put.
fn skip_cells(line: Line<'_>, cells: usize, gutter: bool) -> Line<'_> {
    if cells == 0 {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut out = Vec::with_capacity(spans.len());
    let mut spans = spans.into_iter();
    if gutter {
        out.extend(spans.next());
    }
    let mut skip = cells;
    for span in spans {
        if skip == 0 {
            out.push(span);
            continue;
        }
        let (dropped, kept) = crate::tui::text::split_at_cells(&span.content, skip);
        skip = skip.saturating_sub(dropped);
        if !kept.is_empty() {
            out.push(Span::styled(kept.to_string(), span.style));
        }
    }
    Line {
        spans: out,
        style,
        alignment,
    }
}

/// The bottom border: which version the pane describes and how to drive it, and the
/// pane's search when there is one.
/// The footer cut at its end with … to fit between the corners: a narrow pane (the data
/// preview widens the events list) would otherwise lose its start, `ate after v3`.
fn fitted_footer(view: &AggregateView, area: Rect) -> String {
    let text = footer(view);
    crate::tui::text::ellipsize_width(&text, area.width.saturating_sub(2) as usize).into_owned()
}

fn footer(view: &AggregateView) -> String {
    let text = tab_footer(view);
    match view.tab_search() {
        Some(search) => format!(" /{} · n/N{text}", sanitize(&search.query)),
        None => text,
    }
}

fn tab_footer(view: &AggregateView) -> String {
    let Some(event) = view.current_entry() else {
        return String::new();
    };
    if view.before_first && view.tab != Tab::Compare {
        return " v0 · empty state, before the first event · l steps to v1 ".into();
    }
    match view.tab {
        Tab::State => match view.line_path().filter(|_| view.focus == Focus::Detail) {
            Some(path) => format!(
                " {} · after v{} ",
                sanitize(&path.to_string()),
                event.version
            ),
            None => format!(
                " state after v{} · ● changed · z folds · B blames ",
                event.version
            ),
        },
        Tab::Diff => format!(" what v{} changed ", event.version),
        Tab::Event => format!(" event v{} as stored ", event.version),
        Tab::Compare => {
            let version = |i: usize| view.version_of(i);
            match view.marks {
                [Some(a), Some(b)] => format!(" A v{} → B v{} ", version(a), version(b)),
                [Some(a), None] => format!(
                    " A v{} → cursor v{} · b fixes B · x clears ",
                    version(a),
                    version(view.cursor)
                ),
                _ => " marks not set ".into(),
            }
        }
    }
}

fn text_lines<'a>(
    lines: &'a [TextLine],
    scroll: usize,
    height: u16,
    search: Option<&PaneSearch>,
    theme: &Theme,
) -> Vec<Line<'a>> {
    lines
        .iter()
        .skip(scroll)
        .take(height as usize)
        .map(|l| match search {
            Some(search) if search.is_match(&l.text) => Line::from(marked(
                &l.text,
                search,
                tone_style(theme, l.tone),
                theme.key(),
            )),
            _ => Line::from(span(&l.text, tone_style(theme, l.tone))),
        })
        .collect()
}

/// `text` with each match of the search in `hit` style; where lowercasing changes the
/// text's length (so offsets would not line up) the whole line is marked instead.
pub(super) fn marked(
    text: &str,
    search: &PaneSearch,
    style: Style,
    hit: Style,
) -> Vec<Span<'static>> {
    let safe = sanitize(text).into_owned();
    let lower = safe.to_lowercase();
    if lower.len() != safe.len() || search.needle.is_empty() {
        return vec![Span::styled(safe, hit)];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    for (start, found) in lower.match_indices(&search.needle) {
        if start < at || !safe.is_char_boundary(start) {
            continue;
        }
        let end = start + found.len();
        if !safe.is_char_boundary(end) {
            continue;
        }
        spans.push(Span::styled(safe[at..start].to_string(), style));
        spans.push(Span::styled(safe[start..end].to_string(), hit));
        at = end;
    }
    spans.push(Span::styled(safe[at..].to_string(), style));
    spans
}

fn state_lines(
    view: &AggregateView,
    scroll: usize,
    height: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(detail) = view.detail.as_ref() else {
        return Vec::new();
    };
    let focused = view.focus == Focus::Detail;
    let search = view.tab_search().filter(|_| view.tab == Tab::State);
    let end = (scroll + height).min(detail.visible.len());
    (scroll..end)
        .map(|row| {
            let index = detail.visible[row];
            let line = &detail.state[index];
            let folded = matches!(line.node, Node::Open { .. }) && view.folds.contains(&line.path);
            let highlighted = line.changed || (folded && line.touched);
            // The line cursor stays visible, dimmed, while the events list has the keys.
            let style = if row == view.state_line {
                cursor_style(focused, theme)
            } else if highlighted {
                theme.changed()
            } else {
                theme.normal()
            };
            let selected = focused && row == view.state_line;
            let gutter = match (highlighted, selected) {
                (true, true) => "●▶",
                (false, true) => " ▶",
                (true, false) => "● ",
                (false, false) => "  ",
            };
            let text = line_text(&detail.state, index, folded);
            let mut spans = vec![Span::styled(gutter, theme.changed())];
            match search {
                Some(search) if search.is_match(&text) => {
                    spans.extend(marked(&text, search, style, theme.key()))
                }
                _ => spans.push(Span::styled(sanitize(&text).into_owned(), style)),
            }
            Line::from(spans)
        })
        .collect()
}
