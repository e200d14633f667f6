//! The aggregate list screen.

use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, LineGauge, Paragraph, Row, Table};
use ratatui::Frame;

use super::span;
use super::timeline::{MALFORMED, SNAPSHOT_DIFFERS, WARNING};
use crate::tui::app::{App, ListStatus};
use crate::tui::layout::{inner, ListLayout};
use crate::tui::text::{fit, sanitize, TimeColumn};

pub fn render(frame: &mut Frame, areas: ListLayout, app: &App) {
    let theme = &app.theme;
    let list = &app.list;
    let mut title = vec![Span::styled(" aggregates ", theme.heading())];
    if list.filtering || !list.filter_text().is_empty() {
        title.push(Span::raw("· filter: "));
        match list.filtering {
            true => title.extend(super::status::with_cursor(
                list.filter_text(),
                list.filter_cursor(),
                theme.changed(),
                theme,
            )),
            false => title.push(span(list.filter_text(), theme.changed())),
        }
        title.push(Span::raw(" "));
    }
    let checked = list.health.len();
    let health = if checked < list.all.len() {
        format!(" · health {checked}/{}…", list.all.len())
    } else {
        String::new()
    };
    let summary = format!(
        " {} of {} · sorted by {}{health} ",
        list.shown.len(),
        list.all.len(),
        list.sort.label()
    );
    let mut block = Block::bordered()
        .border_style(theme.border())
        .title(Line::from(title))
        .title(Line::from(Span::styled(summary, theme.muted())).right_aligned());
    if let Some(legend) = health_footer(list, areas.block.width as usize) {
        block = block.title_bottom(Line::styled(legend, theme.muted()).right_aligned());
    }
    frame.render_widget(block, areas.block);

    let body = inner(areas.block);
    let body = Rect {
        x: body.x + 1,
        width: body.width.saturating_sub(1),
        ..body
    };
    if let (ListStatus::Loading, Some(reading)) = (&list.status, &app.reading) {
        let middle = Rect {
            y: body.y + body.height / 2,
            height: 1.min(body.height),
            x: body.x + body.width / 8,
            width: body.width - body.width / 4,
        };
        let ratio = if reading.expected == 0 {
            0.0
        } else {
            (reading.read as f64 / reading.expected as f64).clamp(0.0, 1.0)
        };
        let label = format!(
            "reading {}: {} of ~{} records",
            sanitize(&reading.topic),
            reading.read,
            reading.expected
        );
        frame.render_widget(
            LineGauge::default()
                .ratio(ratio)
                .label(label)
                .filled_symbol("━")
                .unfilled_symbol("─")
                .filled_style(theme.heading())
                .unfilled_style(theme.muted()),
            middle,
        );
        return;
    }
    let notice = match &list.status {
        // A topic is read only once the brokers answer: until the first progress, say so.
        ListStatus::Loading if app.connecting => Some(Line::from(vec![
            Span::styled("connecting to ", theme.muted()),
            span(&app.source_name, theme.heading()),
            Span::styled("…", theme.muted()),
        ])),
        ListStatus::Loading => Some(Line::styled("loading aggregates…", theme.muted())),
        ListStatus::Failed(error) => Some(Line::from(vec![
            Span::styled("could not list aggregates: ", theme.error()),
            span(error, theme.error()),
        ])),
        ListStatus::Ready if list.all.is_empty() => Some(Line::styled(
            "this store holds no aggregates",
            theme.muted(),
        )),
        ListStatus::Ready if list.shown.is_empty() => Some(Line::from(vec![
            Span::styled("no aggregate matches ", theme.muted()),
            span(list.filter_text(), theme.changed()),
            Span::styled(" (Esc clears the filter)", theme.muted()),
        ])),
        ListStatus::Ready => None,
    };
    if let Some(notice) = notice {
        let middle = Rect {
            y: body.y + body.height / 2,
            height: 1.min(body.height),
            ..body
        };
        frame.render_widget(Paragraph::new(notice).alignment(Alignment::Center), middle);
        return;
    }

    let end = (list.offset + areas.rows.height as usize).min(list.shown.len());
    // Widths of the whole list, in terminal cells: they do not jump while scrolling.
    let id_width = (list.id_cells.max(2) as u16).min(body.width / 2);
    let type_width = (list.type_cells.max(4) as u16).min(body.width / 4);
    let time = TimeColumn::new(list.time_digits, theme.zone);
    let columns = Columns::fit(
        [
            id_width,
            type_width,
            HEALTH_WIDTH,
            8,
            9,
            time.cells() as u16,
        ],
        body.width,
    );
    let rows = (list.offset..end).map(|row| {
        let summary = &list.all[list.shown[row]];
        let style = if row == list.selected {
            theme.selected()
        } else {
            theme.normal()
        };
        let (health, health_style) = health_cell(list.health_of(&summary.id), theme);
        Row::new(vec![
            Line::from(Span::styled(fit(&summary.id, id_width as usize), style)),
            Line::from(Span::styled(
                fit(
                    summary.aggregate_type.as_deref().unwrap_or("-"),
                    type_width as usize,
                ),
                style,
            )),
            Line::from(Span::styled(
                health,
                if row == list.selected {
                    style
                } else {
                    health_style
                },
            )),
            Line::from(summary.events.to_string()).right_aligned(),
            Line::from(summary.snapshots.to_string()).right_aligned(),
            Line::from(fit(
                time.cell(summary.last_timestamp.as_ref(), None).trim_end(),
                columns.widths[5] as usize,
            )),
        ])
        .style(style)
    });
    let header = Row::new([
        "ID",
        "TYPE",
        "HEALTH",
        "EVENTS",
        "SNAPSHOTS",
        "LAST ACTIVITY",
    ])
    .style(theme.heading());
    let mut constraints: Vec<Constraint> = columns.widths.map(Constraint::Length).to_vec();
    if columns.fill {
        constraints.push(Constraint::Fill(1));
    }
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(columns.spacing);
    frame.render_widget(table, body);
}

/// The list's column widths and the gaps between them in `width` cells: the gaps narrow
/// before LAST ACTIVITY is cut (with …), and a filler column takes only room left over (at
/// 80 columns it took a gap and the time was cut mid-value with blank cells after it).
struct Columns {
    widths: [u16; 6],
    spacing: u16,
    fill: bool,
}

impl Columns {
    fn fit(mut widths: [u16; 6], width: u16) -> Columns {
        let fixed: u16 = widths.iter().sum();
        let gaps = widths.len() as u16 - 1;
        let spacing = (1..=3)
            .rev()
            .find(|s| fixed + gaps * s <= width)
            .unwrap_or(1);
        let others = fixed - widths[5] + gaps * spacing;
        widths[5] = widths[5].min(width.saturating_sub(others));
        let fill = fixed + (gaps + 1) * spacing < width;
        Columns {
            widths,
            spacing,
            fill,
        }
    }
}

const HEALTH_WIDTH: u16 = 12;

/// A state that breaks the invariant (`--invariant`): it does *not* hold.
const INVARIANT_BROKEN: char = '¬';

/// One mark of the HEALTH column: its glyph (a count follows it), a word or two for the
/// list's bottom border, and what it counts, for the help.
pub struct HealthMark {
    pub glyph: char,
    pub short: &'static str,
    pub counts: &'static str,
}

/// The HEALTH column's marks, in the order a cell writes them (as the timeline marks them).
pub const HEALTH_MARKS: [HealthMark; 4] = [
    HealthMark {
        glyph: SNAPSHOT_DIFFERS,
        short: "snapshot drifts",
        counts: "snapshots that differ from replay",
    },
    HealthMark {
        glyph: INVARIANT_BROKEN,
        short: "invariant broken",
        counts: "states breaking the --invariant",
    },
    HealthMark {
        glyph: MALFORMED,
        short: "malformed",
        counts: "events malformed or refused",
    },
    HealthMark {
        glyph: WARNING,
        short: "warnings",
        counts: "warnings (version gaps, time back)",
    },
];

/// The help's legend of the column: each mark, then the words that stand alone.
pub const HEALTH_WORDS: [(&str, &str); 3] = [
    ("ok", "replayed, none of the above"),
    ("…", "not worked out yet"),
    ("unreadable", "the history could not be read"),
];

/// How many of each mark a health has, in `HEALTH_MARKS` order.
fn mark_counts(h: &crate::inspect::Health) -> [usize; 4] {
    [
        h.drifts,
        h.invariant_breaks,
        h.malformed + h.reducer_errors,
        h.warnings,
    ]
}

/// The bottom border in `width` cells: what each mark of the column means (only those some
/// aggregate of the store has, so it stays put while filtering and scrolling), and where the
/// rest is explained, as much as fits.
fn health_footer(list: &crate::tui::app::AggregateList, width: usize) -> Option<String> {
    let mut seen = [false; 4];
    for health in list.health.values().flatten() {
        for (seen, count) in seen.iter_mut().zip(mark_counts(health)) {
            *seen |= count > 0;
        }
    }
    let words: Vec<String> = HEALTH_MARKS
        .iter()
        .zip(seen)
        .filter(|(_, seen)| *seen)
        .map(|(mark, _)| format!("{} {}", mark.glyph, mark.short))
        .collect();
    if words.is_empty() {
        return None;
    }
    let words = words.join(" · ");
    [
        format!(" health: {words} · more in the help (?) "),
        format!(" health: {words} "),
    ]
    .into_iter()
    .find(|text| unicode_width::UnicodeWidthStr::width(text.as_str()) + 2 <= width)
}

/// `ok`, or `✗1 ¬4 ?2 !3` (snapshot drifts, states that break the invariant, malformed
/// events and reducer errors, warnings, as the timeline marks them); `…` until worked out.
fn health_cell(
    health: Option<&Result<crate::inspect::Health, String>>,
    theme: &crate::tui::theme::Theme,
) -> (String, ratatui::style::Style) {
    match health {
        None => ("…".into(), theme.muted()),
        Some(Err(_)) => ("unreadable".into(), theme.error()),
        Some(Ok(h)) if h.is_ok() => ("ok".into(), theme.muted()),
        Some(Ok(h)) => {
            let parts: Vec<String> = HEALTH_MARKS
                .iter()
                .zip(mark_counts(h))
                .filter(|(_, n)| *n > 0)
                .map(|(mark, n)| format!("{}{n}", mark.glyph))
                .collect();
            let style = if h.drifts + h.invariant_breaks + h.malformed + h.reducer_errors > 0 {
                theme.error()
            } else {
                theme.warning()
            };
            (parts.join(" "), style)
        }
    }
}
