//! What the events list shows besides version, time and type: `p` a column previewing each
//! event's data, `m` only the events the filter matches. Payloads of a paged history are
//! read back for the visible rows only, and kept for as long as those rows stay in view.

use std::collections::BTreeMap;

use super::aggregate::AggregateView;
use super::App;
use crate::model::Payload;
use crate::tui::layout::{self, keep_in_view};
use crate::tui::text::{TimeColumn, Zone};
use ratatui::layout::Rect;

/// Characters of a payload a preview keeps: more than the widest pane shows, so a preview
/// costs the same for a 10 MB payload as for a small one.
pub const PREVIEW_CHARS: usize = 1024;

/// Cells the TYPE column takes at most with the preview on, so the data keeps room.
pub const TYPE_CELLS_MAX: usize = 28;

#[derive(Debug, Default)]
pub struct EventsPane {
    /// `p`: the DATA column is on.
    pub preview: bool,
    /// `m`: the list holds only the filter's matches (while a filter has them).
    pub matching_only: bool,
    /// Previews of the rows in view, by event index.
    previews: BTreeMap<usize, String>,
    /// Reading payloads back failed; nothing more is read until `p` is pressed again.
    pub preview_failed: bool,
    /// The widest type name seen, in cells, and how many names were measured.
    type_cells: usize,
    types_measured: usize,
}

impl EventsPane {
    /// The preview of event `index`, if it has been read.
    pub fn preview(&self, index: usize) -> Option<&str> {
        self.previews.get(&index).map(String::as_str)
    }

    /// Cells the TYPE column takes so every row's data starts in the same column.
    pub fn type_cells(&self) -> usize {
        self.type_cells.clamp(4, TYPE_CELLS_MAX)
    }

    /// Measures the type names the index learned since the last call: there are few, and a
    /// column that only grows keeps its width while scrolling.
    pub fn measure_types<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        for name in names.skip(self.types_measured) {
            let cells = unicode_width::UnicodeWidthStr::width(&*crate::tui::text::sanitize(name));
            self.type_cells = self.type_cells.max(cells);
            self.types_measured += 1;
        }
    }
}

/// Cells of TYPE kept readable before the time gives up its fraction digits.
const READABLE_TYPE: usize = 12;
/// The DATA column is hidden when it would be narrower than this.
pub const MIN_PREVIEW: usize = 8;

/// The columns of the events list's rows in a pane of some width: the same on every row, so
/// the data starts in one column whatever is scrolled into view.
#[derive(Debug, Clone, Copy)]
pub struct RowLayout {
    /// Cells of VER (`v` and the widest version).
    pub version_cells: usize,
    pub time: TimeColumn,
    pub type_cells: usize,
    /// Cells the DATA column would have; `None` when fewer than [`MIN_PREVIEW`] are left
    /// (a column of a few cells would show only `…`).
    pub data_cells: Option<usize>,
}

/// The TIME column with fewer fraction digits, then in its short form, while it leaves
/// TYPE fewer cells than it needs (`others` are the cells the rest of the row takes): at
/// 80 columns one microsecond time made every time 31 cells and TYPE only `…`.
fn compact_time(mut column: TimeColumn, width: usize, others: usize) -> TimeColumn {
    while column.cells() + others > width && !column.short {
        match column.digits {
            0 => column.short = true,
            7.. => column.digits = 6,
            4..=6 => column.digits = 3,
            _ => column.digits = 0,
        }
    }
    column
}

/// A payload as one line of compact JSON (whitespace between tokens dropped), at most
/// [`PREVIEW_CHARS`] characters, ending with … when there was more. Not yet sanitized.
pub fn one_line_preview(payload: &Payload) -> String {
    let (text, json) = match payload {
        Payload::Json(json) => (json.as_str(), true),
        Payload::Undecodable { raw, .. } => (raw.as_str(), false),
    };
    let mut out = String::new();
    let mut kept = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut gap = false;
    for c in text.chars() {
        if kept == PREVIEW_CHARS {
            out.push('…');
            break;
        }
        if in_string {
            in_string = c != '"' || escaped;
            escaped = c == '\\' && !escaped;
        } else if c.is_whitespace() {
            // JSON whitespace between tokens goes; raw text keeps one space for a run.
            gap = !json;
            continue;
        } else if c == '"' {
            in_string = json;
        }
        if gap && kept > 0 {
            out.push(' ');
            kept += 1;
        }
        gap = false;
        out.push(c);
        kept += 1;
    }
    out
}

impl AggregateView {
    /// The events the list shows, by index, when it shows only the filter's matches.
    pub fn shown_matches(&self) -> Option<&[usize]> {
        if !self.events_pane.matching_only {
            return None;
        }
        self.filter.as_ref()?.matches.as_deref()
    }

    /// Rows the list has: every event, or the matches.
    pub fn row_count(&self) -> usize {
        self.shown_matches().map_or(self.len(), <[usize]>::len)
    }

    /// The event shown on list row `row`.
    pub fn row_index(&self, row: usize) -> Option<usize> {
        match self.shown_matches() {
            Some(matches) => matches.get(row).copied(),
            None => (row < self.len()).then_some(row),
        }
    }

    /// The list row of the cursor (in the matches, the first match at or after it).
    pub fn cursor_row(&self) -> usize {
        match self.shown_matches() {
            Some(matches) => matches.partition_point(|&i| i < self.cursor),
            None => self.cursor,
        }
    }

    /// Scrolls the list so the cursor's row is visible.
    pub fn keep_cursor_in_view(&mut self, event_rows: usize) {
        self.offset = keep_in_view(self.offset, self.cursor_row(), event_rows, self.row_count());
    }

    /// `m`: only the matches, or every event again; the cursor stays on its event (on a
    /// match when only matches are shown) at the same height on screen.
    pub fn toggle_matching_only(&mut self, event_rows: usize) -> String {
        let (query, count) = match self.filter.as_ref() {
            None => return "no filter: press / to filter the events, then m".into(),
            Some(filter) => match filter.matches.as_ref() {
                None => return "still filtering…; press m again once it is done".into(),
                Some(m) => (filter.query.clone(), m.len()),
            },
        };
        let on = !self.events_pane.matching_only;
        if on && count == 0 {
            return format!("no event matches {query}: every event stays listed");
        }
        let height = self.cursor_row().saturating_sub(self.offset);
        self.events_pane.matching_only = on;
        if on && !self.before_first {
            let matches = self.shown_matches().unwrap_or_default();
            let at = matches.partition_point(|&i| i < self.cursor);
            self.cursor = matches.get(at).or(matches.last()).copied().unwrap_or(0);
        }
        self.offset = self.cursor_row().saturating_sub(height);
        self.keep_cursor_in_view(event_rows);
        if on {
            format!("only the {count} events matching {query}; m lists every event")
        } else {
            "every event listed again".into()
        }
    }

    /// No filter any more, so no matching-only list either.
    pub fn clear_filter(&mut self) {
        self.filter = None;
        self.events_pane.matching_only = false;
    }

    /// The events list's columns in a pane `width` cells wide (inside its border), with
    /// times in `zone`.
    pub fn row_layout(&self, width: usize, zone: Zone) -> RowLayout {
        let version_cells = (self.last_version().to_string().len() + 1).max(4);
        // With a filter, a column of its own marks the matching events.
        let before_time = usize::from(self.filter.is_some()) + 3 + version_cells + 1;
        let type_cells = self.events_pane.type_cells();
        let time = compact_time(
            self.time_column(zone),
            width,
            before_time + 2 + type_cells.min(READABLE_TYPE),
        );
        let lead = before_time + time.cells() + 2;
        let data_cells = width.saturating_sub(lead + type_cells + 2);
        RowLayout {
            version_cells,
            time,
            type_cells,
            data_cells: (data_cells >= MIN_PREVIEW).then_some(data_cells),
        }
    }

    /// `p`: the DATA column on or off.
    pub fn toggle_preview(&mut self) -> &'static str {
        let pane = &mut self.events_pane;
        pane.preview = !pane.preview;
        pane.preview_failed = false;
        pane.previews.clear();
        if pane.preview {
            "the events list previews each event's data; p hides it"
        } else {
            "data preview hidden"
        }
    }

    /// Reads the payloads of the visible rows that have no preview yet, and forgets the
    /// previews of rows scrolled away. An error is returned once, then reading stops.
    pub fn fill_previews(&mut self, event_rows: usize) -> Result<(), String> {
        // Measured with the preview off too: the TIME column narrows for TYPE's width.
        self.events_pane.measure_types(self.replay.type_names());
        if !self.events_pane.preview || self.events_pane.preview_failed {
            return Ok(());
        }
        let visible: Vec<usize> = (self.offset..self.offset + event_rows)
            .map_while(|row| self.row_index(row))
            .collect();
        let pane = &mut self.events_pane;
        pane.previews.retain(|index, _| visible.contains(index));
        for &index in &visible {
            if pane.previews.contains_key(&index) {
                continue;
            }
            // One at a time: paged storage reads a page around it, so the rows after it
            // come from memory; matches far apart never read what lies between them.
            match self.replay.events(index..index + 1) {
                Ok(events) => {
                    if let Some(event) = events.first() {
                        pane.previews.insert(index, one_line_preview(&event.data));
                    }
                }
                Err(err) => {
                    pane.preview_failed = true;
                    return Err(format!("data preview: {err}"));
                }
            }
        }
        Ok(())
    }
}

/// The widest window asked for in a message: past it the data would not fit anyway.
const WIDEST_WINDOW: u16 = 1000;

impl App {
    /// `p`: the DATA column on, or off; turned on where the list has no room for it, it
    /// stays off and the status line says how wide the window must be.
    pub(super) fn toggle_preview(&mut self) {
        let size = self.size;
        let zone = self.theme.zone;
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if view.events_pane.preview || view.preview_fits(size, view.zoom, zone) {
            let note = view.toggle_preview();
            return self.say(note);
        }
        let needed = (size.width + 1..=WIDEST_WINDOW)
            .find(|&width| view.preview_fits(Rect { width, ..size }, view.zoom, zone));
        let zoom_helps = !view.zoom && view.preview_fits(size, true, zone);
        let mut text = match needed {
            Some(width) => format!(
                "no room for the data preview: it needs a window of {width} columns or more \
                 (this one has {})",
                size.width
            ),
            None => "no room for the data preview in this window".to_string(),
        };
        if zoom_helps {
            text.push_str("; + gives the events list the whole screen, where it fits");
        }
        self.say(text);
    }
}

impl AggregateView {
    /// Whether the left column is widened for the DATA column: only while it is on and has
    /// room (a window narrowed under it gives the detail pane its width back).
    pub fn widened_for_preview(&self, size: Rect) -> bool {
        self.events_pane.preview && self.preview_fits(size, self.zoomed().is_some(), self.zone)
    }

    /// Whether the DATA column has room in a window of `size`, the events list filling it
    /// when `zoomed`.
    fn preview_fits(&self, size: Rect, zoomed: bool, zone: Zone) -> bool {
        let events = crate::tui::action::Focus::Events;
        let layout = layout::aggregate_with(size, zoomed.then_some(events), true);
        let width = layout::inner(layout.events).width as usize;
        self.row_layout(width, zone).data_cells.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JsonText;

    fn json(text: &str) -> Payload {
        Payload::Json(JsonText::parse(text).unwrap())
    }

    #[test]
    fn previews_are_compact_json_on_one_line() {
        let payload = json("{\n  \"amount\": 12.5,\n  \"note\": \"two  spaces\\\" }\"\n}");
        assert_eq!(
            one_line_preview(&payload),
            r#"{"amount":12.5,"note":"two  spaces\" }"}"#
        );
    }

    #[test]
    fn undecodable_payloads_keep_their_words_on_one_line() {
        let payload = Payload::Undecodable {
            raw: "not\n\n json {".into(),
            error: "invalid".into(),
        };
        assert_eq!(one_line_preview(&payload), "not json {");
    }

    #[test]
    fn a_huge_payload_is_cut_not_copied() {
        let big = format!("[{}0]", "0,".repeat(100_000));
        let preview = one_line_preview(&json(&big));
        assert_eq!(preview.chars().count(), PREVIEW_CHARS + 1);
        assert!(preview.ends_with('…'));
    }
}
