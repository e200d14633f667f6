//! Every string drawn on screen passes through here: store content is untrusted.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Replaces characters that could move the cursor, recolor the terminal, reorder or hide text
/// with one column-wide stand-ins (`␛`); the set is `crate::display`'s, shared with the CLI.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    crate::display::pictures(text)
}

/// Cuts `text` to at most `max` columns of display width (wide characters count two), ending
/// with … when it was longer.
pub fn ellipsize_width(text: &str, max: usize) -> Cow<'_, str> {
    if text.width() <= max {
        return Cow::Borrowed(text);
    }
    Cow::Owned(crate::display::truncate_width(text, max))
}

/// Store text made safe, cut to `width` terminal cells with … and padded to exactly that
/// width: a table cell whose columns line up whatever scripts or emoji the text holds.
pub fn fit(text: &str, width: usize) -> String {
    let safe = sanitize(text);
    let cut = ellipsize_width(&safe, width);
    let pad = width.saturating_sub(cut.width());
    let mut cell = String::with_capacity(cut.len() + pad);
    cell.push_str(&cut);
    cell.extend(std::iter::repeat_n(' ', pad));
    cell
}

/// Keeps the end of `text` (the file name of a path, say) within `max` terminal cells.
pub fn ellipsize_start(text: &str, max: usize) -> Cow<'_, str> {
    if text.width() <= max {
        return Cow::Borrowed(text);
    }
    let mut kept = Vec::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            break;
        }
        kept.push(c);
        used += w;
    }
    Cow::Owned(std::iter::once('…').chain(kept.into_iter().rev()).collect())
}

/// Cuts a styled line to `width` cells; a cut line ends with … so a value never looks whole
/// when it is not (`185.62 → 9` for 961.46).
pub fn clip_line(line: Line<'_>, width: usize) -> Line<'_> {
    if line.width() <= width {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut kept = Vec::with_capacity(spans.len());
    let mut used = 0;
    for span in spans {
        let w = span.width();
        if used + w < width {
            used += w;
            kept.push(span);
            continue;
        }
        if width > 0 {
            let cut = crate::display::truncate_width(&span.content, width - used);
            kept.push(Span::styled(cut, span.style));
        }
        break;
    }
    Line {
        spans: kept,
        style,
        alignment,
    }
}

/// Splits off the first `cells` terminal cells of `text` (a wide character straddling the
/// edge goes too): how many cells were dropped, and the rest.
pub fn split_at_cells(text: &str, cells: usize) -> (usize, &str) {
    let mut dropped = 0;
    for (at, c) in text.char_indices() {
        if dropped >= cells {
            return (dropped, &text[at..]);
        }
        dropped += c.width().unwrap_or(0);
    }
    (dropped, "")
}

/// Fills rows of `width` cells greedily, character by character (continuation rows start
/// after `indent` cells), calling `on_break` with the index of each character that begins
/// a row: one rule for the rows the detail pane draws and the rows it scrolls by.
fn wrap_walk(
    chars: impl Iterator<Item = char>,
    width: usize,
    indent: usize,
    mut on_break: impl FnMut(usize),
) {
    let rest = width.saturating_sub(indent).max(1);
    let mut room = width.max(1);
    let mut used = 0;
    for (at, c) in chars.enumerate() {
        let w = c.width().unwrap_or(0);
        if used + w > room && used > 0 {
            on_break(at);
            room = rest;
            used = 0;
        }
        used += w;
    }
}

/// How many rows `chars` take wrapped as `wrap_line` wraps them.
pub fn wrapped_rows(chars: impl Iterator<Item = char>, width: usize, indent: usize) -> usize {
    let mut rows = 1;
    wrap_walk(chars, width, indent, |_| rows += 1);
    rows
}

/// A styled line wrapped to `width` cells, its continuation rows indented by `indent`
/// blank cells (past the State tab's gutter, which they must not overwrite).
pub fn wrap_line(line: Line<'_>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let mut breaks = Vec::new();
    let chars = line.spans.iter().flat_map(|s| s.content.chars());
    wrap_walk(chars, width, indent, |at| breaks.push(at));
    let mut breaks = breaks.into_iter().peekable();
    let mut rows = Vec::with_capacity(breaks.len() + 1);
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut at = 0;
    for span in line.spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            if breaks.peek() == Some(&at) {
                breaks.next();
                if !piece.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Line::from(std::mem::take(&mut row)).style(line.style));
                row.push(Span::raw(" ".repeat(indent)));
            }
            piece.push(c);
            at += 1;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, span.style));
        }
    }
    rows.push(Line::from(row).style(line.style));
    rows
}

/// Fraction digits a time needs so none is lost: 0, 3, 6 or 9.
pub fn subsecond_digits(time: &DateTime<Utc>) -> u8 {
    match time.timestamp_subsec_nanos() {
        0 => 0,
        n if n % 1_000_000 == 0 => 3,
        n if n % 1_000 == 0 => 6,
        _ => 9,
    }
}

/// The zone times are written in: as the store wrote them (the offset it wrote, else UTC's
/// `Z`), or the local zone (`TZ`, else the system's) with its offset (`+01:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Stored,
    Local,
}

impl Zone {
    pub fn toggled(self) -> Zone {
        match self {
            Zone::Stored => Zone::Local,
            Zone::Local => Zone::Stored,
        }
    }
}

/// A time as RFC 3339 in `zone`: the same instant, only written differently. `offset` is
/// the one the store wrote it with, if any.
pub fn time_in(
    time: &DateTime<Utc>,
    offset: Option<FixedOffset>,
    format: SecondsFormat,
    zone: Zone,
) -> String {
    match (zone, offset) {
        (Zone::Stored, None) => time.to_rfc3339_opts(format, true),
        (Zone::Stored, Some(offset)) => time.with_timezone(&offset).to_rfc3339_opts(format, false),
        (Zone::Local, _) => time
            .with_timezone(&chrono::Local)
            .to_rfc3339_opts(format, false),
    }
}

/// A time as `model::format_time` writes it (as many fraction digits as it has), in `zone`.
pub fn format_time_in(time: &DateTime<Utc>, offset: Option<FixedOffset>, zone: Zone) -> String {
    time_in(time, offset, SecondsFormat::AutoSi, zone)
}

/// A time as `02-24 02:26:00` in `zone` (in the offset the store wrote it with, if any).
fn short_time(time: &DateTime<Utc>, offset: Option<FixedOffset>, zone: Zone) -> String {
    const SHORT: &str = "%m-%d %H:%M:%S";
    match (zone, offset) {
        (Zone::Stored, None) => time.format(SHORT).to_string(),
        (Zone::Stored, Some(offset)) => time.with_timezone(&offset).format(SHORT).to_string(),
        (Zone::Local, _) => time.with_timezone(&chrono::Local).format(SHORT).to_string(),
    }
}

/// How a column of times is written: the fraction digits every row shows, the zone, and
/// whether some row keeps the offset it was stored with, so TIME and what follows line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeColumn {
    pub digits: u8,
    pub zone: Zone,
    pub offsets: bool,
    /// `02-24 02:26:00`: no year, fraction or offset, for a pane too narrow for more (the
    /// status bar still writes the cursor's whole time).
    pub short: bool,
}

/// Cells of a short time, `02-24 02:26:00`.
const SHORT_TIME: usize = 14;

impl TimeColumn {
    pub fn new(digits: u8, zone: Zone) -> TimeColumn {
        TimeColumn {
            digits,
            zone,
            offsets: false,
            short: false,
        }
    }

    /// Some row has a stored offset.
    pub fn with_offsets(self, offsets: bool) -> TimeColumn {
        TimeColumn { offsets, ..self }
    }

    /// Cells the column takes: an offset (`+01:00`) takes five beyond UTC's `Z`.
    pub fn cells(self) -> usize {
        if self.short {
            return SHORT_TIME;
        }
        let offset = match self.zone {
            Zone::Stored if !self.offsets => 0,
            _ => 5,
        };
        offset
            + match self.digits {
                0 => 20,
                d => 21 + d as usize,
            }
    }

    /// One row's time, padded to the column.
    pub fn cell(self, time: Option<&DateTime<Utc>>, offset: Option<FixedOffset>) -> String {
        let format = match self.digits {
            0 => SecondsFormat::Secs,
            1..=3 => SecondsFormat::Millis,
            4..=6 => SecondsFormat::Micros,
            _ => SecondsFormat::Nanos,
        };
        let text = time.map_or_else(
            || "-".to_string(),
            |t| match self.short {
                true => short_time(t, offset, self.zone),
                false => time_in(t, offset, format, self.zone),
            },
        );
        format!("{text:<width$}", width = self.cells())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_and_harmless() {
        let shown = sanitize("acc\u{1b}[31mred\u{7}\r\n");
        assert_eq!(shown, "acc␛[31mred␇␍␊");
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn bidi_overrides_and_c1_controls_are_replaced() {
        assert_eq!(sanitize("a\u{202E}b\u{9B}c"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(
            sanitize("\u{61C}\u{2060}\u{200B}"),
            "\u{FFFD}\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn joiners_in_emoji_and_persian_text_are_kept() {
        for text in ["👩\u{200D}💻", "نمی\u{200C}خواهم"] {
            assert!(matches!(sanitize(text), Cow::Borrowed(_)), "{text:?}");
        }
    }

    #[test]
    fn width_ellipsis_counts_columns_not_characters() {
        assert_eq!(ellipsize_width("日本語テキスト", 7), "日本語…");
        assert_eq!(ellipsize_width("acc-0001", 8), "acc-0001");
    }

    #[test]
    fn fit_pads_and_cuts_in_cells() {
        assert_eq!(fit("wallet-🦀-ü", 12), "wallet-🦀-ü ");
        assert_eq!(fit("日本語テキスト", 8), "日本語… ");
        assert_eq!(fit("a\u{1b}b", 4), "a␛b ");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        assert!(matches!(sanitize("acc-0001 ünïcödé"), Cow::Borrowed(_)));
    }

    #[test]
    fn ellipsize_keeps_short_text_and_marks_cuts() {
        assert_eq!(ellipsize_width("short", 10), "short");
        assert_eq!(ellipsize_width("a long line", 6), "a lon…");
        assert_eq!(ellipsize_start("sqlite:/a/b/demo.db", 10), "…b/demo.db");
        assert_eq!(ellipsize_start("short", 10), "short");
        assert_eq!(ellipsize_start("/data/日本語.db", 7), "…語.db");
    }

    #[test]
    fn wide_text_is_cut_by_cells() {
        assert_eq!(ellipsize_width("日本語テキスト", 5), "日本…");
        assert_eq!(ellipsize_width("wallet-🦀-ü", 11), "wallet-🦀-ü");
    }

    #[test]
    fn clipped_lines_end_with_an_ellipsis_and_keep_styles() {
        let red = ratatui::style::Style::new().red();
        let line = Line::from(vec![
            Span::raw("\"balance\": "),
            Span::styled("961.46", red),
        ]);
        let cut = clip_line(line.clone(), 14);
        assert_eq!(cut.to_string(), "\"balance\": 96…");
        assert_eq!(cut.spans[1].style, red);
        assert_eq!(clip_line(line.clone(), 17), line);
        assert_eq!(clip_line(Line::raw("日本語"), 4).to_string(), "日…");
        assert_eq!(clip_line(Line::raw("abc"), 0).width(), 0);
    }

    #[test]
    fn splitting_at_cells_counts_wide_characters_twice() {
        assert_eq!(split_at_cells("abcdef", 2), (2, "cdef"));
        assert_eq!(split_at_cells("日本語", 2), (2, "本語"));
        assert_eq!(split_at_cells("日本語", 3), (4, "語"));
        assert_eq!(split_at_cells("ab", 5), (2, ""));
    }

    #[test]
    fn wrapped_rows_keep_the_indent_and_agree_with_the_count() {
        let line = Line::from(vec![Span::raw("● "), Span::raw("abcdefghij")]);
        let rows = wrap_line(line, 5, 2);
        let texts: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        assert_eq!(texts, ["● abc", "  def", "  ghi", "  j"]);
        assert_eq!(wrapped_rows("  abcdefghij".chars(), 5, 2), 4);
        // A wide character that would straddle the edge starts the next row.
        assert_eq!(wrap_line(Line::raw("ab日本"), 3, 0).len(), 3);
        assert_eq!(wrapped_rows("ab日本".chars(), 3, 0), 3);
        assert_eq!(wrapped_rows("".chars(), 3, 0), 1);
    }

    #[test]
    fn time_cells_line_up_whatever_the_precision() {
        let whole = "2026-03-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let milli = "2026-03-01T09:00:00.5Z".parse::<DateTime<Utc>>().unwrap();
        let nano = "2026-03-01T09:00:00.000000001Z"
            .parse::<DateTime<Utc>>()
            .unwrap();
        assert_eq!(subsecond_digits(&whole), 0);
        assert_eq!(subsecond_digits(&milli), 3);
        assert_eq!(subsecond_digits(&nano), 9);
        let utc = TimeColumn::new(3, Zone::Stored);
        assert_eq!(utc.cell(Some(&whole), None), "2026-03-01T09:00:00.000Z");
        assert_eq!(utc.cell(Some(&milli), None), "2026-03-01T09:00:00.500Z");
        assert_eq!(utc.cell(None, None).width(), utc.cells());
        let whole_seconds = TimeColumn::new(0, Zone::Stored);
        assert_eq!(
            whole_seconds.cell(Some(&whole), None),
            "2026-03-01T09:00:00Z"
        );
        let local = TimeColumn::new(3, Zone::Local);
        let shown = local.cell(Some(&milli), None);
        assert_eq!(shown.width(), local.cells(), "{shown}");
        assert_eq!(
            parse_local(&shown),
            milli,
            "the same instant, with its offset"
        );
    }

    #[test]
    fn stored_offsets_are_shown_as_stored_and_rows_still_line_up() {
        let at = "2026-03-01T06:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let east = FixedOffset::east_opt(5 * 3600);
        let column = TimeColumn::new(0, Zone::Stored).with_offsets(true);
        assert_eq!(column.cell(Some(&at), east), "2026-03-01T11:00:00+05:00");
        assert_eq!(column.cell(Some(&at), None), "2026-03-01T06:00:00Z     ");
        assert_eq!(column.cell(Some(&at), None).width(), column.cells());
        assert_eq!(
            format_time_in(&at, east, Zone::Stored),
            "2026-03-01T11:00:00+05:00"
        );
        // The local zone shows every time in that zone, whatever it was stored with.
        let local = format_time_in(&at, east, Zone::Local);
        assert_eq!(parse_local(&local), at, "{local}");
    }

    fn parse_local(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text.trim()).unwrap().into()
    }
}
